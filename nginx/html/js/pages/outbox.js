// shomei portal — 送信メール (the tenant's outbox): every notice shomei sent or will send, newest
// first, 100 a page: recipient, kind, subject, status, times and, for a failed one, the SMTP
// server's answer, with 再送 to queue it again. The filter and page live in the hash
// (#/outbox?status=failed&page=N&after=…): the outbox pages by key as every list does, 次へ from
// the last row shown, 前へ from the first, so a notice queued meanwhile neither repeats nor hides
// one. Queued notices refresh themselves every few seconds.

import { api, withQuery } from '../api.js';
import { atPage, cursorQuery, el, fromTemplate, hide, pageCount, readCursor, renderPager, showLines } from '../dom.js';
import { applyI18n, t } from '../i18n.js';

const STATUSES = ['queued', 'sent', 'failed'];
const REFRESH_MS = 5000;

function readParams(params) {
  const status = params.get('status') || '';
  const page = Number.parseInt(params.get('page') || '1', 10);
  return {
    status: STATUSES.includes(status) ? status : '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
    ...readCursor(params),
  };
}

function hashFor(state) {
  return withQuery('#/outbox', {
    status: state.status,
    page: state.page > 1 ? state.page : '',
    ...cursorQuery(state),
  });
}

export function outboxPage(view, params, ctx) {
  const root = fromTemplate('tpl-outbox');
  const q = (sel) => root.querySelector(sel);
  const statusSelect = q('#outbox-status');
  const errorBox = q('#outbox-error');
  const okBox = q('#outbox-ok');
  const tbody = q('#outbox-table tbody');
  const empty = q('#outbox-empty');
  const loading = q('#outbox-loading');
  const pagers = [...root.querySelectorAll('[data-pager]')];

  for (const code of ['', ...STATUSES]) {
    const option = el('option');
    option.value = code;
    option.setAttribute('data-i18n', code ? `outbox.status.${code}` : 'outbox.status.all');
    statusSelect.appendChild(option);
  }

  let state = readParams(params);
  let last = null;
  let seq = 0;
  let timer = null;

  function go(next) {
    const hash = hashFor(next);
    if (window.location.hash === hash) {
      state = next;
      load();
    } else {
      window.location.hash = hash;
    }
  }
  const goPage = (n, cursor) => go(atPage(state, n, cursor));

  async function resend(item, button) {
    hide(errorBox);
    hide(okBox);
    button.disabled = true;
    try {
      await api('POST', `/api/notifications/${encodeURIComponent(item.id)}/resend`);
      showLines(okBox, [t('outbox.resent', { to: item.to })]);
      load();
    } catch (err) {
      button.disabled = false;
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage()]);
    }
  }

  function row(item) {
    const tr = el('tr');
    tr.dataset.id = String(item.id);
    const status = el('td', 'col-status');
    const tag = el('span', 'status-tag', item.status_label || item.status);
    tag.dataset.status = item.status;
    status.appendChild(tag);
    const when = el('td', 'col-when');
    if (item.sent_at) when.textContent = item.sent_at;
    else if (item.last_attempt_at) when.textContent = t('outbox.tried', { at: item.last_attempt_at, n: item.attempts });
    const answer = el('td', 'col-answer', item.status === 'sent' ? '' : item.last_error || '');
    const action = el('td', 'col-actions');
    if (item.status === 'failed') {
      const b = el('button', 'btn btn-small', t('outbox.resend'));
      b.type = 'button';
      b.addEventListener('click', () => resend(item, b));
      action.appendChild(b);
    }
    tr.append(
      el('td', 'col-at', item.created_at),
      el('td', 'col-to', item.to),
      el('td', 'col-kind', item.kind_label || item.kind),
      el('td', 'col-subject', item.subject || ''),
      status,
      when,
      answer,
      action,
    );
    return tr;
  }

  function render(data) {
    last = data;
    const items = Array.isArray(data.items) ? data.items : [];
    tbody.replaceChildren(...items.map(row));
    empty.hidden = items.length > 0;
    for (const p of pagers) renderPager(p, data, goPage);
    clearTimeout(timer);
    if (items.some((i) => i.status === 'queued')) timer = setTimeout(load, REFRESH_MS);
  }

  async function load() {
    const mine = ++seq;
    hide(errorBox);
    loading.hidden = false;
    try {
      const data = await api(
        'GET',
        withQuery('/api/notifications', { status: state.status, page: state.page, ...cursorQuery(state) }),
      );
      if (mine !== seq) return;
      const pages = pageCount(data);
      if (state.page > pages) {
        // Fewer notices than when the link was made: show the last page there is.
        go(atPage(state, pages, { last: true }));
        return;
      }
      render(data);
    } catch (err) {
      if (mine !== seq) return;
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
      tbody.replaceChildren();
      empty.hidden = true;
    } finally {
      if (mine === seq) loading.hidden = true;
    }
  }

  statusSelect.addEventListener('change', () => go({ status: statusSelect.value, page: 1 }));
  q('#outbox-reload').addEventListener('click', () => load());

  view.appendChild(root);
  applyI18n(root);
  statusSelect.value = state.status;
  load();

  return {
    update(newParams) {
      state = readParams(newParams);
      statusSelect.value = state.status;
      load();
    },
    onLang() {
      if (last) render(last);
      load();
    },
    destroy() {
      seq += 1;
      clearTimeout(timer);
    },
  };
}
