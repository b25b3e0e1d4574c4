// shomei portal — 利用者: CSV一括利用者マスター削除 (NRA 7-3). The file (one 代表メールアドレス a
// line) goes to POST /api/users/purge as it is; the server checks it whole and a refused file
// shows every error by line in the same table as CSV一括登録. An accepted file is a job, shown
// in the CSV 処理状況 panel (onQueued()).

import { api } from '../api.js';
import { hide, showKey, showLines } from '../dom.js';
import { fillLineErrors, mountLineErrors } from './lineerrors.js';

/** Wire the dialog inside root. Returns { open(), destroy() }. */
export function purgeDialog(root, { say, onQueued }) {
  const q = (sel) => root.querySelector(sel);
  mountLineErrors(root);
  const dialog = q('#purge-dialog');
  const form = q('#purge-form');
  const fileInput = q('#purge-file');
  const fileError = q('#purge-file-error');
  const errorBox = q('#purge-error');
  const lines = q('#purge-lines');
  const submit = q('#purge-submit');
  let sending = false;
  let opener = null;

  function clearErrors() {
    hide(fileError);
    hide(errorBox);
    fillLineErrors(lines, []);
  }

  async function send(ev) {
    ev.preventDefault();
    if (sending) return;
    clearErrors();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      showKey(fileError, 'imp.no_file');
      fileInput.focus();
      return;
    }
    const fd = new FormData();
    fd.append('file', file, file.name);
    sending = true;
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/users/purge', undefined, { form: fd, timeoutMs: 120000 });
      dialog.close();
      say('purge.queued', { file: file.name, users: r.users });
      onQueued();
    } catch (err) {
      if (err.status === 401) {
        dialog.close();
        return; // the portal goes to the login page
      }
      showLines(errorBox, [err.displayMessage()]);
      if (err.status === 422 && err.fields.length) fillLineErrors(lines, err.fields);
    } finally {
      sending = false;
      submit.disabled = false;
    }
  }

  form.addEventListener('submit', send);
  q('#purge-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    if (opener && opener.isConnected) opener.focus();
  });

  return {
    open(from) {
      opener = from || document.activeElement;
      form.reset();
      clearErrors();
      dialog.showModal();
      fileInput.focus();
    },
    destroy() {
      if (dialog.open) dialog.close();
    },
  };
}
