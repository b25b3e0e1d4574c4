// shomei portal — 利用者: deleting a user in two steps (NRA 7). A row's buttons: 1次削除 in the
// list; 1次削除を解除する and マスター削除 under 削除済み. Each asks in a confirmation that names
// the user, then calls the API and reloads the list.

import { api } from '../api.js';
import { el, hide, showKey, showLines } from '../dom.js';
import { t } from '../i18n.js';

const STEPS = {
  delete: { method: 'POST', path: (id) => `/api/users/${id}/delete` },
  undelete: { method: 'POST', path: (id) => `/api/users/${id}/undelete` },
  purge: { method: 'DELETE', path: (id) => `/api/users/${id}` },
};

/** Wire the confirmation inside root; buttons(user) makes a row's buttons. */
export function userActions(root, { say, onDone, sessionLost }) {
  const q = (sel) => root.querySelector(sel);
  const dialog = q('#udel-dialog');
  const form = q('#udel-form');
  const ok = q('#udel-ok');
  const errorBox = q('#udel-error');
  let pending = null; // { step, user, button }

  function name(user) {
    return `${user.family_name || ''} ${user.given_name || ''}`.trim();
  }

  function open(step, user, button) {
    pending = { step, user, button };
    showKey(q('#udel-title'), `udel.title.${step}`);
    showKey(q('#udel-lead'), `udel.lead.${step}`);
    q('#udel-name').textContent = name(user);
    q('#udel-email').textContent = user.email || '';
    if (step === 'purge') showKey(q('#udel-warning'), 'udel.warn.purge');
    else hide(q('#udel-warning'));
    hide(errorBox);
    dialog.showModal();
    ok.focus();
  }

  function button(step, user) {
    const b = el('button', `btn btn-small ${step === 'undelete' ? 'btn-ghost' : 'btn-danger'} udel-${step}`, t(`udel.${step}`));
    b.type = 'button';
    b.setAttribute('data-i18n', `udel.${step}`);
    b.setAttribute('aria-label', `${t(`udel.${step}`)} ${name(user)}`);
    b.addEventListener('click', () => open(step, user, b));
    return b;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const { step, user } = pending;
    ok.disabled = true;
    hide(errorBox);
    try {
      await api(STEPS[step].method, STEPS[step].path(user.id), step === 'purge' ? undefined : {});
      dialog.close();
      say(`udel.done.${step}`, { name: name(user) });
      onDone();
    } catch (err) {
      if (err.status === 401) {
        dialog.close();
        sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage()]);
    } finally {
      ok.disabled = false;
    }
  });

  q('#udel-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    if (pending && pending.button && pending.button.isConnected) pending.button.focus();
    pending = null;
  });

  return {
    /** The buttons of a user's row: in the list, or under 削除済み (deleted). */
    buttons(user, deleted) {
      return deleted ? [button('undelete', user), button('purge', user)] : [button('delete', user)];
    },
    destroy() {
      if (dialog.open) dialog.close();
    },
  };
}
