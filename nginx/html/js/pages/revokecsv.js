// shomei portal — 証明書管理: CSV一括失効 (desknet 7.2, NRA 5), and with another prefix, url and
// button 利用者's CSV一括再発行 (NRA 6-2). The file goes as it is (the server reads UTF-8 and
// Shift_JIS); a refused file lists every error by line and nothing changes; an accepted one is a
// job, followed here until it is done, then the list reloads.

import { api } from '../api.js';
import { hide, isoToSlash, showKey, showLines } from '../dom.js';
import { fillLineErrors, mountLineErrors } from './lineerrors.js';

const POLL_MS = 1000;

/**
 * Wire the button and dialog inside root: say(key, params) shows a message on the page,
 * onDone() reloads the list, tokyoIso(days) gives the date bounds, sessionLost() on 401.
 * prefix names the dialog's elements (#<prefix>-dialog, …) and its messages (<prefix>.queued, …).
 */
export function revokeCsv(
  root,
  { say, onDone, tokyoIso, daysMax, sessionLost, prefix = 'rcsv', button: buttonSel = '#cert-revoke-csv', url = '/api/certificates/revoke-csv' },
) {
  const q = (sel) => root.querySelector(sel);
  mountLineErrors(root);
  const button = q(buttonSel);
  const dialog = q(`#${prefix}-dialog`);
  const form = q(`#${prefix}-form`);
  const fileInput = q(`#${prefix}-file`);
  const on = q(`#${prefix}-on`);
  const onError = q(`#${prefix}-on-error`);
  const fileError = q(`#${prefix}-file-error`);
  const errorBox = q(`#${prefix}-error`);
  const lines = q(`#${prefix}-lines`);
  const submit = q(`#${prefix}-submit`);
  let timer = null;
  let destroyed = false;

  const when = () => form.querySelector(`input[name="${prefix}-when"]:checked`).value;

  function clear() {
    hide(fileError);
    hide(onError);
    hide(errorBox);
    fillLineErrors(lines, []);
  }

  function open() {
    form.reset();
    clear();
    on.min = tokyoIso(1);
    on.max = tokyoIso(daysMax);
    on.disabled = true;
    dialog.showModal();
    fileInput.focus();
  }

  for (const radio of form.querySelectorAll(`input[name="${prefix}-when"]`)) {
    radio.addEventListener('change', () => {
      on.disabled = when() !== 'date';
      if (!on.disabled && !on.value) on.value = on.min;
      hide(onError);
    });
  }

  async function follow(jobId, file, date) {
    clearTimeout(timer);
    if (destroyed) return;
    let job;
    try {
      job = await api('GET', `/api/jobs/${jobId}`);
    } catch (err) {
      if (err.status === 401) return sessionLost();
      timer = setTimeout(() => follow(jobId, file, date), POLL_MS * 3);
      return;
    }
    if (job.status === 'done') {
      if (date) say(`${prefix}.scheduled`, { file, n: job.total, date: isoToSlash(date) });
      else say(`${prefix}.done`, { file, n: job.total });
      onDone();
    } else if (job.status === 'failed') {
      say(`${prefix}.failed`, { file });
      onDone();
    } else {
      timer = setTimeout(() => follow(jobId, file, date), POLL_MS);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      showKey(fileError, 'imp.no_file');
      fileInput.focus();
      return;
    }
    let date = '';
    if (when() === 'date') {
      date = on.value;
      if (!date || date < on.min || date > on.max) {
        showKey(onError, 'certs.err.revoke_on');
        on.focus();
        return;
      }
    }
    const fd = new FormData();
    if (date) fd.append('revoke_on', date);
    fd.append('file', file, file.name);
    submit.disabled = true;
    try {
      const r = await api('POST', url, undefined, { form: fd, timeoutMs: 120000 });
      dialog.close();
      say(`${prefix}.queued`, { file: file.name, n: r.certificates });
      follow(r.job_id, file.name, date);
    } catch (err) {
      if (err.status === 401) {
        dialog.close();
        sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage()]);
      fillLineErrors(lines, err.fields);
    } finally {
      submit.disabled = false;
    }
  });

  button.addEventListener('click', open);
  q(`#${prefix}-cancel`).addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => button.focus());

  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      if (dialog.open) dialog.close();
    },
  };
}
