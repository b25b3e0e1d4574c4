// shomei portal — 操作履歴 (operation history): search by date range, action and detail text,
// 100 entries a page, newest first. The search conditions live in the hash
// (#/audit?from=yyyy/mm/dd&to=…&action=…&q=…&page=N) so reload and back/forward keep them.

import { api, withQuery } from '../api.js';
import { el, fromTemplate, hide, showKey, showLines } from '../dom.js';
import { applyI18n, hasKey, t } from '../i18n.js';

/** The action codes of DESIGN.md, in the order of the manual's 操作内容 list. */
export const ACTIONS = [
  'login',
  'logout',
  'certificate_issue',
  'certificate_revoke',
  'certificate_reissue',
  'certificate_download',
  'password_csv',
  'ip_restriction',
  'password_change',
  'user_register',
  'user_import',
  'user_delete',
  'settings',
];

const PER_PAGE = 100;
const SLASH_DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(y, m, d) {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d)
  );
}

/** "2026/11/22" (API and hash) → "2026-11-22" (<input type=date>); anything else → "". */
function slashToIso(s) {
  const m = SLASH_DATE.exec(s || '');
  return m && validDate(m[1], m[2], m[3]) ? `${m[1]}-${m[2]}-${m[3]}` : '';
}

/** "2026-11-22" → "2026/11/22"; anything else → "". */
function isoToSlash(s) {
  const m = ISO_DATE.exec(s || '');
  return m && validDate(m[1], m[2], m[3]) ? `${m[1]}/${m[2]}/${m[3]}` : '';
}

function readParams(params) {
  const action = params.get('action') || '';
  const page = Number.parseInt(params.get('page') || '1', 10);
  return {
    from: slashToIso(params.get('from')),
    to: slashToIso(params.get('to')),
    action: ACTIONS.includes(action) ? action : '',
    q: (params.get('q') || '').slice(0, 200),
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function hashFor(state) {
  return withQuery('#/audit', {
    from: isoToSlash(state.from),
    to: isoToSlash(state.to),
    action: state.action,
    q: state.q,
    page: state.page > 1 ? state.page : '',
  });
}

export function auditPage(view, params, ctx) {
  const root = fromTemplate('tpl-audit');
  const q = (sel) => root.querySelector(sel);
  const form = q('#audit-search');
  const fromInput = q('#audit-from');
  const toInput = q('#audit-to');
  const actionSelect = q('#audit-action');
  const textInput = q('#audit-q');
  const errorBox = q('#audit-error');
  const tbody = q('#audit-table tbody');
  const empty = q('#audit-empty');
  const loading = q('#audit-loading');
  const pagers = [...root.querySelectorAll('[data-pager]')];

  for (const code of ['', ...ACTIONS]) {
    const option = el('option');
    option.value = code;
    option.setAttribute('data-i18n', code ? `action.${code}` : 'action.all');
    actionSelect.appendChild(option);
  }

  let state = readParams(params);
  let last = null; // the last answer shown
  let seq = 0; // answers to older requests are dropped

  function fillForm() {
    fromInput.value = state.from;
    toInput.value = state.to;
    actionSelect.value = state.action;
    textInput.value = state.q;
  }

  function go(next) {
    const hash = hashFor(next);
    if (window.location.hash === hash) {
      // Same conditions again (e.g. 検索 pressed twice): the router won't be told, so reload here.
      state = next;
      load();
    } else {
      window.location.hash = hash;
    }
  }

  function renderPager(container, data) {
    container.replaceChildren();
    const perPage = data.per_page > 0 ? data.per_page : PER_PAGE;
    const total = Math.max(0, data.total | 0);
    const pages = Math.max(1, Math.ceil(total / perPage));
    const page = Math.min(Math.max(1, data.page | 0), pages);

    const summary = el('span', 'pager-summary');
    if (total === 0) {
      summary.textContent = t('pager.summary_empty');
    } else {
      const from = (page - 1) * perPage + 1;
      const to = Math.min(page * perPage, total);
      summary.textContent = t('pager.summary', {
        total: total.toLocaleString(),
        from: from.toLocaleString(),
        to: to.toLocaleString(),
      });
    }

    const nav = el('div', 'pager-nav');
    nav.setAttribute('role', 'navigation');
    nav.setAttribute('aria-label', t('pager.label'));
    const prev = el('button', 'btn btn-small pager-prev', t('pager.prev'));
    prev.type = 'button';
    prev.disabled = page <= 1;
    prev.addEventListener('click', () => go({ ...state, page: page - 1 }));
    const where = el('span', 'pager-page', t('pager.page', { page, pages }));
    const next = el('button', 'btn btn-small pager-next', t('pager.next'));
    next.type = 'button';
    next.disabled = page >= pages;
    next.addEventListener('click', () => go({ ...state, page: page + 1 }));
    nav.append(prev, where, next);

    container.append(summary, nav);
    container.hidden = false;
  }

  function render(data) {
    last = data;
    const items = Array.isArray(data.items) ? data.items : [];
    const rows = items.map((item) => {
      const tr = el('tr');
      const action = typeof item.action === 'string' ? item.action : '';
      const label = item.action_label || (hasKey(`action.${action}`) ? t(`action.${action}`) : action);
      const actionCell = el('td', 'col-action');
      const tag = el('span', 'action-tag', label);
      tag.dataset.action = action;
      actionCell.appendChild(tag);
      tr.append(
        el('td', 'col-at', item.at),
        el('td', 'col-ip', item.ip),
        actionCell,
        el('td', 'col-detail', item.detail),
      );
      return tr;
    });
    tbody.replaceChildren(...rows);
    empty.hidden = rows.length > 0;
    for (const p of pagers) renderPager(p, data);
  }

  async function load() {
    const mine = ++seq;
    hide(errorBox);
    loading.hidden = false;
    root.classList.add('is-loading');
    try {
      const data = await api(
        'GET',
        withQuery('/api/audit', {
          from: isoToSlash(state.from),
          to: isoToSlash(state.to),
          action: state.action,
          q: state.q,
          page: state.page,
        }),
      );
      if (mine !== seq) return;
      const perPage = data.per_page > 0 ? data.per_page : PER_PAGE;
      const pages = Math.max(1, Math.ceil((data.total | 0) / perPage));
      if (state.page > pages) {
        // Fewer entries than when the link was made: show the last page there is.
        go({ ...state, page: pages });
        return;
      }
      render(data);
    } catch (err) {
      if (mine !== seq) return;
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      const lines = [err.displayMessage(), ...err.fields.map((f) => f.message)];
      showLines(errorBox, lines);
      tbody.replaceChildren();
      empty.hidden = true;
      for (const p of pagers) p.hidden = true;
    } finally {
      if (mine === seq) {
        loading.hidden = true;
        root.classList.remove('is-loading');
      }
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    hide(errorBox);
    // An <input type=date> holding half a date reports an empty value but is not "valid".
    if (!fromInput.checkValidity() || !toInput.checkValidity()) {
      showKey(errorBox, 'audit.err.date');
      return;
    }
    const next = {
      from: fromInput.value,
      to: toInput.value,
      action: actionSelect.value,
      q: textInput.value.trim(),
      page: 1,
    };
    if (next.from && next.to && next.from > next.to) {
      showKey(errorBox, 'audit.err.range');
      fromInput.focus();
      return;
    }
    go(next);
  });

  q('#audit-clear').addEventListener('click', () => {
    hide(errorBox);
    go({ from: '', to: '', action: '', q: '', page: 1 });
    state = readParams(new URLSearchParams());
    fillForm();
  });

  view.appendChild(root);
  applyI18n(root);
  fillForm();
  load();

  return {
    update(newParams) {
      const before = state.page;
      state = readParams(newParams);
      if (state.page !== before) window.scrollTo(0, 0);
      fillForm();
      load();
    },
    onLang() {
      // Our texts follow at once; the action labels come from the server in the new language.
      if (last) for (const p of pagers) renderPager(p, last);
      load();
    },
    destroy() {
      seq += 1;
    },
  };
}
