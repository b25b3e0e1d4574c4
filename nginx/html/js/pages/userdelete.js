// shomei portal — 利用者: deleting a user in two steps (NRA 7). A row's buttons: 1次削除 in the
// list; 1次削除を解除する and マスター削除 under 削除済み. Each asks in a confirmation that names
// the user, then calls the API and reloads the list. The ▼一括操作 menu asks the same for the
// users checked (many(step, users)): one confirmation naming them all, then one call each; what
// failed is listed by name with the server's reason, what succeeded stays done.

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
  let pending = null; // { step, users, button }

  function name(user) {
    return `${user.family_name || ''} ${user.given_name || ''}`.trim();
  }

  function open(step, users, button) {
    pending = { step, users, button };
    const one = users.length === 1;
    showKey(q('#udel-title'), `udel.title.${step}`);
    showKey(q('#udel-lead'), one ? `udel.lead.${step}` : `udel.lead_many.${step}`, { n: users.length });
    q('#udel-one').hidden = !one;
    q('#udel-list').hidden = one;
    q('#udel-list').replaceChildren(...(one ? [] : users.map((u) => el('li', null, t('udel.list_item', { name: name(u), email: u.email || '' })))));
    q('#udel-name').textContent = one ? name(users[0]) : '';
    q('#udel-email').textContent = one ? users[0].email || '' : '';
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
    b.addEventListener('click', () => open(step, [user], b));
    return b;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const { step } = pending;
    const first = pending.users[0];
    ok.disabled = true;
    hide(errorBox);
    const failed = [];
    let done = 0;
    try {
      for (const user of pending.users) {
        try {
          await api(STEPS[step].method, STEPS[step].path(user.id), step === 'purge' ? undefined : {});
          done += 1;
        } catch (err) {
          if (err.status === 401) {
            dialog.close();
            sessionLost();
            return;
          }
          failed.push({ user, err });
        }
      }
      if (failed.length === 0) {
        dialog.close();
        if (done === 1) say(`udel.done.${step}`, { name: name(first) });
        else say(`udel.done_many.${step}`, { n: done });
      } else {
        // the ones that failed stay in the dialog with their reasons; the rest is done
        pending.users = failed.map((f) => f.user);
        const lines = failed.map((f) => `${name(f.user)}: ${f.err.displayMessage()}`);
        if (done > 0) lines.unshift(t(`udel.done_many.${step}`, { n: done }));
        showLines(errorBox, lines);
      }
      if (done > 0) onDone();
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
    /** Ask to apply step (delete, undelete, purge) to users (checked in the list). */
    many(step, users, button) {
      if (users.length) open(step, users, button);
    },
    /** The buttons of a user's row: in the list, or under 削除済み (deleted). */
    buttons(user, deleted) {
      return deleted ? [button('undelete', user), button('purge', user)] : [button('delete', user)];
    },
    destroy() {
      if (dialog.open) dialog.close();
    },
  };
}
