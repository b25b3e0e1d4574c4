// shomei portal — 利用者: CSV一括登録 (NRA 4-2) and the CSV 処理状況 panel.
//
// The dialog sends the file as it is (the server reads UTF-8 and Shift_JIS alike); a refused
// file shows every error by line and column, nothing being registered. An accepted file is a
// job: the panel lists the tenant's jobs and refreshes itself while one is queued or running,
// then tells the page to reload its list.

import { api } from '../api.js';
import { el, hide, showKey, showLines } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { fillLineErrors, mountLineErrors } from './lineerrors.js';

const POLL_MS = 1500;

/** Columns of the tenant's layout (the order the server reads), by its features. */
function layoutOf(features) {
  const en = getLang() === 'en';
  const base = en
    ? ['main e-mail', 'family name', 'given name', 'family kana', 'given kana', 'family (en)', 'given (en)', 'device e-mail']
    : ['代表メールアドレス', '姓', '名', 'セイ', 'メイ', '姓（英）', '名（英）', '利用デバイス用メールアドレス'];
  const org = features.includes('org_units') ? ['O', 'OU1', 'OU2'] : [];
  const tail = en
    ? ['device code', 'from', 'to', 'service ID', 'principal name']
    : ['デバイスコード', 'From', 'To', 'サービス連携用ID', 'プリンシパル名'];
  const restr = !features.includes('install_restriction')
    ? []
    : en
      ? ['restriction', 'MAC', 'computer', 'login user', 'BIOS serial']
      : ['制限', 'MAC', 'コンピュータ名', 'ログインユーザ名', 'BIOS'];
  return [...base, ...org, ...tail, ...restr];
}

/**
 * Wire the import button, dialog and jobs panel inside root. onDone() runs when a job the panel
 * watched has finished (the page reloads its list). Returns {setTenant, onLang, destroy}.
 */
export function importPanel(root, { onDone, say }) {
  const q = (sel) => root.querySelector(sel);
  mountLineErrors(root);
  const button = q('#users-import');
  const dialog = q('#import-dialog');
  const form = q('#import-form');
  const fileInput = q('#import-file');
  const admin = q('#import-admin');
  const fileError = q('#import-file-error');
  const errorBox = q('#import-error');
  const lines = q('#import-lines');
  const layout = q('#import-layout');
  const submit = q('#import-submit');
  const panel = q('#jobs-panel');
  const tbody = q('#jobs-table tbody');
  const jobErrors = q('#jobs-errors');
  let features = [];
  let timer = null;
  let destroyed = false;
  let sending = false;
  let watching = false; // a job was open at the last look
  let shown = false; // asked for from the menu: the panel stays even with no job

  function showLayout() {
    const cols = layoutOf(features);
    showKey(layout, 'imp.layout', { n: cols.length, cols: cols.join(', ') });
  }

  function clearErrors() {
    hide(fileError);
    hide(errorBox);
    lines.hidden = true;
    lines.querySelector('tbody').replaceChildren();
  }

  function showLineErrors(fields) {
    fillLineErrors(lines, fields);
  }

  function open() {
    form.reset();
    clearErrors();
    showLayout();
    dialog.showModal();
    fileInput.focus();
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
    fd.append('admin_download', admin.checked ? 'true' : 'false');
    fd.append('file', file, file.name);
    sending = true;
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/users/import', undefined, { form: fd, timeoutMs: 120000 });
      dialog.close();
      say('imp.queued', { file: file.name, users: r.users, devices: r.devices });
      watching = true;
      await loadJobs();
    } catch (err) {
      if (err.status === 422 && err.fields.length) {
        showLines(errorBox, [err.displayMessage()]);
        showLineErrors(err.fields);
      } else {
        showLines(errorBox, [err.displayMessage()]);
      }
    } finally {
      sending = false;
      submit.disabled = false;
    }
  }

  function renderJobs(items) {
    tbody.replaceChildren();
    hide(jobErrors);
    q('#jobs-none').hidden = items.length > 0;
    for (const j of items) {
      const tr = el('tr');
      tr.dataset.status = j.status;
      tr.appendChild(el('td', 'col-at', j.created_at));
      tr.appendChild(el('td', '', j.kind_label));
      tr.appendChild(el('td', '', j.filename));
      tr.appendChild(el('td', `job-status job-${j.status}`, j.status_label));
      tr.appendChild(el('td', 'col-num', t('imp.progress', { done: j.processed, total: j.total })));
      tr.appendChild(el('td', 'col-at', j.finished_at));
      tbody.appendChild(tr);
    }
    panel.hidden = items.length === 0 && !shown;
  }

  async function showFailure(job) {
    try {
      const full = await api('GET', `/api/jobs/${job.id}`);
      const msgs = (full.errors || []).slice(0, 20).map((e) => (e.line ? `${e.line}: ${e.message}` : e.message));
      showLines(jobErrors, [t('imp.job_errors', { file: job.filename }), ...msgs]);
    } catch {
      /* the list still says 失敗 */
    }
  }

  async function loadJobs() {
    clearTimeout(timer);
    let doc;
    try {
      doc = await api('GET', '/api/jobs');
    } catch {
      if (!destroyed) timer = setTimeout(loadJobs, POLL_MS * 4);
      return;
    }
    if (destroyed) return;
    const items = doc.items || [];
    renderJobs(items);
    const open = items.some((j) => j.status === 'queued' || j.status === 'running');
    if (watching && !open) {
      watching = false;
      const latest = items[0];
      if (latest && latest.status === 'failed') showFailure(latest);
      onDone();
    }
    if (open) {
      watching = true;
      timer = setTimeout(loadJobs, POLL_MS);
    }
  }

  button.addEventListener('click', open);
  form.addEventListener('submit', send);
  q('#import-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => button.focus());
  q('#jobs-refresh').addEventListener('click', loadJobs);
  loadJobs();

  return {
    /** CSV一括登録 from the ▼一括操作 menu. */
    openDialog: open,
    /** CSV 処理状況 from the menu: the panel, even when empty, brought into view. */
    showPanel() {
      shown = true;
      panel.hidden = false;
      loadJobs();
      panel.scrollIntoView({ block: 'start' });
      q('#jobs-title').focus();
    },
    /** A job was queued elsewhere (CSV一括利用者マスター削除): follow it to the end. */
    watch() {
      watching = true;
      shown = true;
      loadJobs();
    },
    setTenant(tenant) {
      features = tenant.features || [];
      button.hidden = !features.includes('admin_may_issue');
    },
    onLang() {
      if (dialog.open) showLayout();
      loadJobs();
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      if (dialog.open) dialog.close();
    },
  };
}
