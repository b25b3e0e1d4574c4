// shomei portal — 操作履歴 (operation history): search by date range, action and detail text,
// 100 entries a page, newest first. The search conditions live in the hash
// (#/audit?from=yyyy/mm/dd&to=…&action=…&q=…&page=N) so reload and back/forward keep them.

import { api, withQuery } from '../api.js';
import { atPage, cursorQuery, el, fromTemplate, hide, isoToSlash, pageCount, readCursor, renderPager, showKey, showLines, slashToIso } from '../dom.js';
import { applyI18n, hasKey, t } from '../i18n.js';

/** The action codes of the history (common/domain/audit.c), in the order of the manual's 操作内容 list. */
export const ACTIONS = [
  'login',
  'logout',
  'certificate_issue',
  'certificate_revoke',
  'certificate_reissue',
  'certificate_renew',
  'certificate_download',
  'password_csv',
  'ip_restriction',
  'password_change',
  'user_register',
  'user_import',
  'user_delete',
  'settings',
  'lockout',
  'download_refused',
  'audit_csv',
];

function readParams(params) {
  const action = params.get('action') || '';
  const page = Number.parseInt(params.get('page') || '1', 10);
  return {
    from: slashToIso(params.get('from')),
    to: slashToIso(params.get('to')),
    action: ACTIONS.includes(action) ? action : '',
    q: (params.get('q') || '').slice(0, 200),
    page: Number.isFinite(page) && page > 0 ? page : 1,
    ...readCursor(params),
  };
}

function hashFor(state) {
  return withQuery('#/audit', {
    from: isoToSlash(state.from),
    to: isoToSlash(state.to),
    action: state.action,
    q: state.q,
    page: state.page > 1 ? state.page : '',
    ...cursorQuery(state),
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

  const goPage = (n, cursor) => go(atPage(state, n, cursor));

  // 操作履歴 CSV: every entry of the conditions shown (not only this page), streamed by the server.
  const csvLink = q('#audit-csv');
  function csvHref() {
    csvLink.href = withQuery('/api/audit/export.csv', {
      from: isoToSlash(state.from),
      to: isoToSlash(state.to),
      action: state.action,
      q: state.q,
    });
  }

  function render(data) {
    last = data;
    csvHref();
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
        el('td', 'col-login', typeof item.login_id === 'string' ? item.login_id : ''),
        el('td', 'col-detail', item.detail),
      );
      return tr;
    });
    tbody.replaceChildren(...rows);
    empty.hidden = rows.length > 0;
    for (const p of pagers) renderPager(p, data, goPage);
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
          ...cursorQuery(state),
        }),
      );
      if (mine !== seq) return;
      const pages = pageCount(data);
      if (state.page > pages) {
        // Fewer entries than when the link was made: show the last page there is.
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
      if (last) for (const p of pagers) renderPager(p, last, goPage);
      load();
    },
    destroy() {
      seq += 1;
    },
  };
}
