// shomei portal — 利用者 (NRA style): the list of users with their certificates, the manual's
// ▼検索条件 (names, e-mail, 申請日 / 発行日 / 終了日 ranges, status and device checkboxes),
// sortable columns, 100 users a page, and 「新規追加」: the registration in three steps
// 利用者登録情報入力 → 入力内容の確認 → 登録の完了. The list refreshes itself while any of the
// certificates shown is issuing. The search conditions live in the hash
// (#/users?family_name=…&email=…&issued_from=yyyy/mm/dd&status=issued,downloaded&sort=-applied_at&page=N).

import { api, download, withQuery } from '../api.js';
import { atPage, cursorQuery, el, fromTemplate, hide, isoToSlash, pageCount, readCursor, renderPager, showKey, showLines, slashToIso, validDate } from '../dom.js';
import { applyI18n, getLang, t } from '../i18n.js';
import { REFRESH_MS, tokyoIso } from './certificates.js';
import { bulkMenu } from './bulkmenu.js';
import { importPanel } from './import.js';
import { revokeCsv } from './revokecsv.js';
import { userActions } from './userdelete.js';
import { purgeDialog } from './userpurge.js';
import { userRevoke } from './userrevoke.js';

/** Device codes in the manual's order (WindowsPC, iOS(iPhone), iOS(iPad), その他, Android). */
export const DEVICES = ['01', '11', '12', '99', '20'];
/** Certificate statuses in the order of the manual's 証明書ステータス. */
export const STATUSES = ['issuing', 'issued', 'downloaded', 'revoke_scheduled', 'revoked', 'failed'];
const SORTS = ['applied_at', 'family_name_kana', 'email', 'issued_at', 'expires_at'];
const DEFAULT_SORT = '-applied_at';
const TEXT_PARAMS = ['family_name', 'given_name', 'email'];
const DATE_PARAMS = ['applied_from', 'applied_to', 'issued_from', 'issued_to', 'expires_from', 'expires_to'];

// ---------------------------------------------------------------- the rules (as the server's)

const NAME_MAX = 50; // each of the six names
const EMAIL_MAX = 128; // the certificate's E
const CN_MAX = 64; // "<family_en> <given_en>" is the CN
const ITEM_MAX = 64; // O, OU1, OU2 and each restriction item
const KATAKANA = /^[\u30A1-\u30FA\u30FC\u3000]+$/;
const NAME_EN = /^[A-Za-z][A-Za-z .'-]*$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const DATE_TIME = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2}))?$/;
const MAC = /^[0-9A-Fa-f]{12}$/;
const LOCAL_PART = /^[A-Za-z0-9._-]{1,64}$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Leading or trailing half- or full-width space. */
function padded(v) {
  return /^[ \u3000]|[ \u3000]$/.test(v);
}

/** The message key for what is wrong with an e-mail address, or null. */
export function emailProblem(value) {
  if (value.length > EMAIL_MAX) return 'reg.err.email_format';
  const at = value.indexOf('@');
  if (at < 1 || !LOCAL_PART.test(value.slice(0, at))) return 'reg.err.email_format';
  const labels = value.slice(at + 1).split('.');
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l))) return 'reg.err.email_format';
  return null;
}

/** The message key for what is wrong with one of the six names (family_name, …_kana, …_en), or null. */
export function nameProblem(name, v) {
  if (!v) return `reg.err.required.${name}`;
  if (name.endsWith('_kana')) return !KATAKANA.test(v) || padded(v) || [...v].length > NAME_MAX ? 'reg.err.kana' : null;
  if (name.endsWith('_en')) return !NAME_EN.test(v) || padded(v) || v.length > NAME_MAX ? 'reg.err.name_en' : null;
  return CONTROL.test(v) || [...v].length > NAME_MAX ? 'reg.err.name' : null;
}

/** True when "<family_en> <given_en>" is too long for the certificate's CN. */
export function cnTooLong(familyEn, givenEn) {
  return familyEn.length + 1 + givenEn.length > CN_MAX;
}

/** "yyyy/mm/dd" or "yyyy/mm/dd hh:mm" → a sortable string, or null when not a real date/time. */
export function dateTimeKey(value) {
  const m = DATE_TIME.exec(value);
  if (!m || !validDate(m[1], m[2], m[3])) return null;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59)) return null;
  return `${m[1]}${m[2]}${m[3]}${m[4] || '00'}${m[5] || '00'}`;
}

/** "yyyy/mm/dd[ hh:mm]" (already valid) in JST as epoch milliseconds; a date alone is its first or last second. */
function jstMillis(value, endOfDay) {
  const m = DATE_TIME.exec(value);
  const h = m[4] !== undefined ? Number(m[4]) : endOfDay ? 23 : 0;
  const mi = m[5] !== undefined ? Number(m[5]) : endOfDay ? 59 : 0;
  const sec = m[4] === undefined && endOfDay ? 59 : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, mi, sec) - 9 * 3600 * 1000;
}

/**
 * The validity rules of the server (services/users/check.c) on a well-formed From/To ('' = not
 * given), so that a date in the past is said before 決定: { field: 'valid_from'|'valid_to', key,
 * params } or null. tenant gives default_validity_days, max_validity_days, max_start_ahead_days.
 */
export function periodProblem(from, to, tenant, now = Date.now()) {
  const DAY = 86400 * 1000;
  const f = from ? jstMillis(from, false) : now;
  const e = to ? jstMillis(to, true) : f + (tenant.default_validity_days || 365) * DAY;
  const endField = to ? 'valid_to' : 'valid_from';
  if (from && to && f >= e) return { field: 'valid_to', key: 'reg.err.period_order' };
  if (from && Number.isFinite(tenant.max_start_ahead_days) && f > now + tenant.max_start_ahead_days * DAY) {
    return { field: 'valid_from', key: 'reg.err.start_ahead', params: { n: tenant.max_start_ahead_days } };
  }
  if (e <= now) {
    return { field: endField, key: to ? 'reg.err.to_past' : 'reg.err.from_past', params: { n: tenant.default_validity_days || 365 } };
  }
  if (Number.isFinite(tenant.max_validity_days) && e - f > tenant.max_validity_days * DAY) {
    return { field: endField, key: 'reg.err.span', params: { n: tenant.max_validity_days } };
  }
  return null;
}

// ---------------------------------------------------------------- hash

function readParams(params) {
  const page = Number.parseInt(params.get('page') || '1', 10);
  const list = (name, allowed) => (params.get(name) || '').split(',').filter((v) => allowed.includes(v));
  const sort = params.get('sort') || DEFAULT_SORT;
  const s = {
    status: list('status', STATUSES),
    device: list('device', DEVICES),
    sort: SORTS.includes(sort.replace(/^-/, '')) ? sort : DEFAULT_SORT,
    page: Number.isFinite(page) && page > 0 ? page : 1,
    ...readCursor(params),
  };
  for (const k of TEXT_PARAMS) s[k] = (params.get(k) || '').slice(0, k === 'email' ? EMAIL_MAX : NAME_MAX);
  for (const k of DATE_PARAMS) s[k] = slashToIso(params.get(k));
  s.deleted = params.get('deleted') === '1';
  s.show = params.get('show') === 'valid' ? 'valid' : 'all'; // 表示: 有効のみ hides revoked ones
  return s;
}

/** The query (API and hash alike) for a state. */
function queryOf(state) {
  const out = {};
  for (const k of TEXT_PARAMS) out[k] = state[k];
  for (const k of DATE_PARAMS) out[k] = isoToSlash(state[k]);
  out.status = state.status.join(',');
  out.device = state.device.join(',');
  out.deleted = state.deleted ? '1' : '';
  return out;
}

function hashFor(state) {
  return withQuery('#/users', {
    ...queryOf(state),
    sort: state.sort === DEFAULT_SORT ? '' : state.sort,
    show: state.show === 'valid' ? 'valid' : '',
    page: state.page > 1 ? state.page : '',
    ...cursorQuery(state),
  });
}

function hasConditions(state) {
  return (
    TEXT_PARAMS.some((k) => state[k]) || DATE_PARAMS.some((k) => state[k]) || state.status.length > 0 || state.device.length > 0
  );
}

// ---------------------------------------------------------------- small builders

/** A checkbox with its label, for the search's status / device groups. */
function checkOption(name, value, labelKey) {
  const label = el('label', 'check-option');
  const box = el('input');
  box.type = 'checkbox';
  box.name = name;
  box.value = value;
  const text = el('span');
  text.setAttribute('data-i18n', labelKey);
  label.append(box, text);
  return label;
}

/** A labelled input with its error line: { wrap, input, error }. */
function textField(id, labelKey, { maxlength = 64, autocomplete, placeholderKey, hintKey, className = '', inputMode } = {}) {
  const wrap = el('div', `field ${className}`.trim());
  const label = el('label');
  label.htmlFor = id;
  label.setAttribute('data-i18n', labelKey);
  const input = el('input');
  input.type = 'text';
  input.id = id;
  input.maxLength = maxlength;
  input.spellcheck = false;
  if (autocomplete) input.autocomplete = autocomplete;
  if (inputMode) input.inputMode = inputMode;
  if (placeholderKey) input.setAttribute('data-i18n-placeholder', placeholderKey);
  const error = el('p', 'field-error');
  error.id = `${id}-error`;
  error.hidden = true;
  const described = [error.id];
  wrap.append(label, input);
  if (hintKey) {
    const hint = el('p', 'hint');
    hint.id = `${id}-hint`;
    hint.setAttribute('data-i18n', hintKey);
    wrap.appendChild(hint);
    described.unshift(hint.id);
  }
  wrap.appendChild(error);
  input.setAttribute('aria-describedby', described.join(' '));
  return { wrap, input, error };
}

export function usersPage(view, params, ctx) {
  const root = fromTemplate('tpl-users');
  const q = (sel) => root.querySelector(sel);
  const message = q('#users-message');
  const issuingBox = q('#users-issuing');
  const errorBox = q('#users-error');
  const panel = q('#users-search-panel');
  const form = q('#users-search');
  const tbody = q('#users-table tbody');
  const empty = q('#users-empty');
  const loading = q('#users-loading');
  const pagers = [...root.querySelectorAll('[data-pager]')];
  const refreshButton = q('#users-refresh');
  const newButton = q('#users-new');
  const textInputs = { family_name: q('#us-family'), given_name: q('#us-given'), email: q('#us-email') };
  const dateInputs = {};
  for (const k of DATE_PARAMS) dateInputs[k] = q(`#us-${k.replace('_', '-')}`);

  for (const s of STATUSES) q('#us-status').appendChild(checkOption('status', s, `status.${s}`));
  for (const d of DEVICES) q('#us-device').appendChild(checkOption('device', d, `device.${d}`));

  let state = readParams(params);
  let tenant = null;
  let last = null;
  let seq = 0;
  let timer = null;
  let destroyed = false;
  let said = null; // { key, params } of the message shown, so it follows a language switch

  function say(key, params) {
    said = { key, params };
    showKey(message, key, params);
  }

  function unsay() {
    said = null;
    hide(message);
  }

  // ------------------------------------------------------------ list

  function fillForm() {
    for (const k of TEXT_PARAMS) textInputs[k].value = state[k];
    for (const k of DATE_PARAMS) dateInputs[k].value = state[k];
    for (const box of form.querySelectorAll('input[name="status"]')) box.checked = state.status.includes(box.value);
    for (const box of form.querySelectorAll('input[name="device"]')) box.checked = state.device.includes(box.value);
    if (hasConditions(state)) panel.open = true;
    q('#users-deleted').checked = state.deleted;
    q('#users-show').value = state.show;
    root.classList.toggle('showing-deleted', state.deleted);
    const key = state.sort.replace(/^-/, '');
    const desc = state.sort.startsWith('-');
    for (const th of root.querySelectorAll('#users-table th[data-sort]')) {
      const on = th.dataset.sort === key;
      th.setAttribute('aria-sort', on ? (desc ? 'descending' : 'ascending') : 'none');
      th.querySelector('.sort-mark').textContent = on ? (desc ? '▼' : '▲') : '';
      th.classList.toggle('sorted', on);
    }
    const note = q('#users-conditions');
    if (hasConditions(state)) showKey(note, 'users.filtered');
    else hide(note);
  }

  function go(next) {
    const hash = hashFor(next);
    if (window.location.hash === hash || (window.location.hash === '' && hash === '#/users')) {
      state = next;
      load();
    } else {
      window.location.hash = hash;
    }
  }

  const goPage = (n, cursor) => go(atPage(state, n, cursor));

  function statusBadge(cert) {
    const status = cert.status || '';
    const label = cert.status_label || t(`status.${status}`);
    const badge = el('span', 'status-badge', label);
    badge.dataset.status = status;
    return badge;
  }

  /** 失効日 under the status, as 証明書管理 shows it: the day revoked, or the day it will be. */
  function revokeDate(cert) {
    if (cert.status === 'revoked' && cert.revoked_at) return el('span', 'user-sub revoke-date', t('users.revoked_on', { date: cert.revoked_at.slice(0, 10) }));
    if (cert.status === 'revoke_scheduled' && cert.revoke_on) return el('span', 'user-sub revoke-date', t('users.revoke_on', { date: cert.revoke_on }));
    return null;
  }

  function issuedText(cert) {
    if (cert.status === 'issuing') return el('span', 'status-issuing', t('certs.issuing'));
    if (cert.status === 'failed') return el('span', 'status-failed', t('certs.failed'));
    return document.createTextNode(cert.issued_at || '');
  }

  function deviceLabel(cert) {
    return cert.device_label || (DEVICES.includes(cert.device) ? t(`device.${cert.device}`) : cert.device || '');
  }

  function render(data) {
    last = data;
    const items = Array.isArray(data.items) ? data.items : [];
    const rows = [];
    items.forEach((user, index) => {
      const all = Array.isArray(user.certificates) ? user.certificates : [];
      const kept = state.show === 'valid' ? all.filter((c) => c.status !== 'revoked') : all;
      const certs = kept.length ? kept : [null];
      certs.forEach((cert, i) => {
        const tr = el('tr', index % 2 ? 'user-odd' : 'user-even');
        tr.dataset.userId = String(user.id);
        if (i === 0) {
          tr.classList.add('user-first');
          const span = String(certs.length);
          const check = el('td', 'col-check');
          check.rowSpan = certs.length;
          check.appendChild(selectBox(user));
          const name = el('td', 'col-name');
          name.rowSpan = certs.length;
          // the name opens the user's page (利用者情報: devices, certificates, 利用者変更)
          const link = el('a', 'user-name', `${user.family_name || ''} ${user.given_name || ''}`.trim());
          link.href = `#/user?id=${encodeURIComponent(user.id)}`;
          name.append(link);
          tr.append(check);
          const kana = `${user.family_name_kana || ''} ${user.given_name_kana || ''}`.trim();
          const en = `${user.family_name_en || ''} ${user.given_name_en || ''}`.trim();
          if (kana) name.append(el('span', 'user-sub', kana));
          if (en) name.append(el('span', 'user-sub', en));
          const email = el('td', 'col-email', user.email);
          email.rowSpan = certs.length;
          const applied = el('td', 'col-date', user.applied_at || '');
          applied.rowSpan = certs.length;
          tr.dataset.rows = span;
          tr.append(name, email, applied);
          tr.dataset.deleted = user.deleted_at ? '1' : '';
        }
        if (cert) {
          tr.dataset.status = cert.status || '';
          const device = el('td', 'col-device');
          device.append(el('span', 'device-name', deviceLabel(cert)));
          if (cert.email && cert.email !== user.email) device.append(el('span', 'user-sub', cert.email));
          const status = el('td', 'col-status');
          status.appendChild(statusBadge(cert));
          const when = revokeDate(cert);
          if (when) status.appendChild(when);
          const issued = el('td', 'col-date');
          issued.appendChild(issuedText(cert));
          tr.append(device, status, issued, el('td', 'col-date', cert.expires_at || ''));
        } else {
          const none = el('td', 'col-none muted', t('users.no_certificates'));
          none.colSpan = 4;
          tr.appendChild(none);
        }
        if (i === 0) {
          const acts = el('td', 'col-actions');
          acts.rowSpan = certs.length;
          acts.append(...deletion.buttons(user, state.deleted));
          tr.appendChild(acts);
        }
        rows.push(tr);
      });
    });
    // a selection holds only the users this page shows
    const shown = new Set(items.map((u) => u.id));
    for (const id of [...selected.keys()]) if (!shown.has(id)) selected.delete(id);
    tbody.replaceChildren(...rows);
    syncSelection();
    empty.hidden = items.length > 0;
    for (const p of pagers) renderPager(p, data, goPage);
  }

  // ------------------------------------------------------------ selection (▼一括操作)

  const selected = new Map(); // user id → user, in the order checked
  let menu = null; // the ▼一括操作 menu, built below
  const selectAll = q('#users-select-all');

  function selectBox(user) {
    const box = el('input', 'user-check');
    box.type = 'checkbox';
    box.value = String(user.id);
    box.checked = selected.has(user.id);
    box.setAttribute('aria-label', t('bulk.select', { name: `${user.family_name || ''} ${user.given_name || ''}`.trim() }));
    box.addEventListener('change', () => {
      if (box.checked) selected.set(user.id, user);
      else selected.delete(user.id);
      syncSelection();
    });
    return box;
  }

  function syncSelection() {
    const boxes = [...tbody.querySelectorAll('input.user-check')];
    const on = boxes.filter((b) => b.checked).length;
    selectAll.checked = boxes.length > 0 && on === boxes.length;
    selectAll.indeterminate = on > 0 && on < boxes.length;
    selectAll.disabled = boxes.length === 0;
    const note = q('#users-selected');
    if (selected.size) note.textContent = t('bulk.selected', { n: selected.size });
    else note.textContent = '';
    if (menu) menu.refresh();
  }

  selectAll.addEventListener('change', () => {
    const want = selectAll.checked; // each box's change re-syncs selectAll on the way
    for (const box of tbody.querySelectorAll('input.user-check')) {
      if (box.checked !== want) {
        box.checked = want;
        box.dispatchEvent(new Event('change'));
      }
    }
  });

  /** The checked users in the order the list shows them. */
  function selectedUsers() {
    const items = last && Array.isArray(last.items) ? last.items : [];
    return items.filter((u) => selected.has(u.id));
  }

  function anyIssuing() {
    const items = last && Array.isArray(last.items) ? last.items : [];
    return items.some((u) => Array.isArray(u.certificates) && u.certificates.some((c) => c.status === 'issuing'));
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    const busy = anyIssuing();
    issuingBox.hidden = !busy;
    if (busy && !destroyed) timer = setTimeout(() => load({ quiet: true }), REFRESH_MS);
  }

  async function load({ quiet = false } = {}) {
    const mine = ++seq;
    clearTimeout(timer);
    timer = null;
    if (!quiet) {
      hide(errorBox);
      loading.hidden = false;
      root.classList.add('is-loading');
    }
    refreshButton.disabled = true;
    try {
      const data = await api('GET', withQuery('/api/users', { ...queryOf(state), sort: state.sort, page: state.page, ...cursorQuery(state) }));
      if (mine !== seq || destroyed) return;
      if (state.page > pageCount(data)) {
        go(atPage(state, pageCount(data), { last: true }));
        return;
      }
      hide(errorBox);
      render(data);
      schedule();
    } catch (err) {
      if (mine !== seq || destroyed) return;
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
      if (!quiet) {
        tbody.replaceChildren();
        empty.hidden = true;
        for (const p of pagers) p.hidden = true;
      } else {
        timer = setTimeout(() => load({ quiet: true }), REFRESH_MS * 2);
      }
    } finally {
      if (mine === seq) {
        loading.hidden = true;
        root.classList.remove('is-loading');
        refreshButton.disabled = false;
      }
    }
  }

  async function loadTenant() {
    try {
      tenant = await api('GET', '/api/tenant');
    } catch (err) {
      if (err.status === 401) ctx.sessionLost();
      return;
    }
    if (destroyed) return;
    q('#users-org').textContent = tenant.organization || '';
    const features = Array.isArray(tenant.features) ? tenant.features : [];
    newButton.hidden = !features.includes('admin_may_issue');
    imports.setTenant(tenant);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    hide(errorBox);
    unsay();
    const next = { sort: state.sort, show: state.show, page: 1 };
    for (const k of TEXT_PARAMS) next[k] = textInputs[k].value.trim();
    for (const k of DATE_PARAMS) {
      if (!dateInputs[k].checkValidity()) {
        showKey(errorBox, 'users.err.date');
        dateInputs[k].focus();
        return;
      }
      next[k] = dateInputs[k].value;
    }
    for (const [from, to, key] of [
      ['applied_from', 'applied_to', 'users.s.applied'],
      ['issued_from', 'issued_to', 'users.s.issued'],
      ['expires_from', 'expires_to', 'users.s.expires'],
    ]) {
      if (next[from] && next[to] && next[from] > next[to]) {
        showKey(errorBox, 'users.err.range', { what: t(key) });
        dateInputs[from].focus();
        return;
      }
    }
    next.status = [...form.querySelectorAll('input[name="status"]:checked')].map((b) => b.value);
    next.device = [...form.querySelectorAll('input[name="device"]:checked')].map((b) => b.value);
    go(next);
  });

  q('#us-clear').addEventListener('click', () => {
    hide(errorBox);
    const next = { ...readParams(new URLSearchParams()), sort: state.sort };
    go(next);
    state = next;
    fillForm();
  });

  for (const th of root.querySelectorAll('#users-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      const current = state.sort.replace(/^-/, '');
      const sort = current === key ? (state.sort.startsWith('-') ? key : `-${key}`) : key;
      go({ ...state, sort, page: 1 });
    });
  }

  refreshButton.addEventListener('click', () => {
    unsay();
    load();
  });

  // ------------------------------------------------------------ 利用者登録

  const dialog = q('#user-dialog');
  const regForm = q('#reg-form');
  const regError = q('#reg-error');
  const submitError = q('#reg-submit-error');
  const submitButton = q('#reg-submit');
  const stepNodes = {
    input: dialog.querySelector('.dialog-body[data-step="input"]'),
    confirm: dialog.querySelector('.dialog-body[data-step="confirm"]'),
    done: dialog.querySelector('.dialog-body[data-step="done"]'),
  };
  let step = 'input';
  let sent = null; // the body of the last POST, to map devices[i] errors back
  let done = null; // the 202 answer
  let submitting = false;
  let quotaShort = null; // 追加発行可能数 when the devices chosen are more, else null

  /** Every input of the form: key → { input, error }. Keys: family_name, …, "01.valid_to", … */
  const fields = {};
  const NAME_FIELDS = [
    ['family_name', 'reg.family_name', 'family-name'],
    ['given_name', 'reg.given_name', 'given-name'],
    ['family_name_kana', 'reg.family_name_kana', 'off'],
    ['given_name_kana', 'reg.given_name_kana', 'off'],
    ['family_name_en', 'reg.family_name_en', 'off'],
    ['given_name_en', 'reg.given_name_en', 'off'],
  ];
  for (const [name, key, autocomplete] of NAME_FIELDS) {
    const f = textField(`reg-${name.replaceAll('_', '-')}`, key, {
      autocomplete,
      maxlength: NAME_MAX,
      placeholderKey: `reg.ph.${name}`,
    });
    f.input.name = name;
    fields[name] = f;
    q('#reg-names').appendChild(f.wrap);
  }
  {
    const f = textField('reg-email', 'reg.email', {
      maxlength: EMAIL_MAX,
      autocomplete: 'email',
      placeholderKey: 'reg.ph.email',
      className: 'field-wide',
      inputMode: 'email',
    });
    f.input.name = 'email';
    fields.email = f;
    q('#reg-email-field').appendChild(f.wrap);
  }

  const deviceBoxes = {}; // code → { box, block, details }
  for (const code of DEVICES) {
    const block = el('div', 'device');
    block.dataset.device = code;
    const head = el('label', 'device-head');
    const box = el('input');
    box.type = 'checkbox';
    box.id = `reg-d${code}`;
    box.value = code;
    box.name = 'device';
    const name = el('span', 'device-title');
    name.setAttribute('data-i18n', `device.${code}`);
    head.append(box, name);
    const details = el('div', 'device-fields');
    details.hidden = true;
    const id = (n) => `reg-d${code}-${n.replaceAll('_', '-')}`;

    const group = (feature, titleKey, children) => {
      const g = el('div', 'device-group');
      if (feature) g.dataset.feature = feature;
      if (titleKey) {
        const title = el('p', 'device-group-title');
        title.setAttribute('data-i18n', titleKey);
        g.appendChild(title);
      }
      const row = el('div', 'device-row');
      for (const c of children) row.appendChild(c.wrap);
      g.appendChild(row);
      details.appendChild(g);
    };
    const add = (n, labelKey, opts) => {
      const f = textField(id(n), labelKey, opts);
      fields[`${code}.${n}`] = f;
      return f;
    };

    group(null, null, [
      add('email', 'reg.sub_email', { maxlength: EMAIL_MAX, placeholderKey: 'reg.ph.sub_email', className: 'field-wide', inputMode: 'email' }),
    ]);
    group('validity_period', 'reg.validity', [
      add('valid_from', 'reg.valid_from', { maxlength: 16, placeholderKey: 'reg.ph.datetime' }),
      add('valid_to', 'reg.valid_to', { maxlength: 16, placeholderKey: 'reg.ph.datetime' }),
    ]);
    group('org_units', 'reg.org_units', [
      add('o', 'reg.o', { maxlength: ITEM_MAX }),
      add('ou1', 'reg.ou1', { maxlength: ITEM_MAX }),
      add('ou2', 'reg.ou2', { maxlength: ITEM_MAX }),
    ]);
    if (code === '01') {
      const modeWrap = el('div', 'field field-wide');
      const modeLabel = el('label');
      modeLabel.htmlFor = id('mode');
      modeLabel.setAttribute('data-i18n', 'reg.restriction_mode');
      const mode = el('select');
      mode.id = id('mode');
      for (const m of ['none', 'or', 'and']) {
        const o = el('option');
        o.value = m;
        o.setAttribute('data-i18n', `reg.mode.${m}`);
        mode.appendChild(o);
      }
      const modeError = el('p', 'field-error');
      modeError.id = `${mode.id}-error`;
      modeError.hidden = true;
      mode.setAttribute('aria-describedby', modeError.id);
      modeWrap.append(modeLabel, mode, modeError);
      fields['01.mode'] = { wrap: modeWrap, input: mode, error: modeError };
      const items = [
        add('mac', 'reg.mac', { maxlength: 17, placeholderKey: 'reg.ph.mac' }),
        add('computer', 'reg.computer', { maxlength: ITEM_MAX }),
        add('login_user', 'reg.login_user', { maxlength: ITEM_MAX }),
        add('bios_serial', 'reg.bios_serial', { maxlength: ITEM_MAX }),
      ];
      group('install_restriction', 'reg.restriction', [fields['01.mode'], ...items]);
      const sync = () => {
        for (const f of items) f.input.disabled = mode.value === 'none';
      };
      mode.addEventListener('change', sync);
      sync();
    }

    box.addEventListener('change', () => {
      details.hidden = !box.checked;
      block.classList.toggle('selected', box.checked);
      if (box.checked) hide(q('#reg-devices-error'));
    });
    block.append(head, details);
    q('#reg-devices').appendChild(block);
    deviceBoxes[code] = { box, block, details };
  }

  function features() {
    return tenant && Array.isArray(tenant.features) ? tenant.features : [];
  }

  /** Show only the fields of the tenant's features (restriction: WindowsPC only). */
  function applyFeatures() {
    const on = features();
    for (const node of dialog.querySelectorAll('[data-feature]')) node.hidden = !on.includes(node.dataset.feature);
    const company = tenant ? (getLang() === 'en' && tenant.name_en ? tenant.name_en : tenant.name) : '';
    for (const node of dialog.querySelectorAll('[data-slot="company"]')) node.textContent = company || '';
    for (const node of dialog.querySelectorAll('[data-slot="organization"]')) node.textContent = (tenant && tenant.organization) || '';
  }

  function showStep(name) {
    step = name;
    for (const [key, node] of Object.entries(stepNodes)) node.hidden = key !== name;
    const order = ['input', 'confirm', 'done'];
    for (const li of q('#reg-steps').children) {
      const i = order.indexOf(li.dataset.step);
      li.classList.toggle('current', li.dataset.step === name);
      li.classList.toggle('past', i < order.indexOf(name));
      if (li.dataset.step === name) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    }
    dialog.scrollTop = 0;
    const body = stepNodes[name];
    body.scrollTop = 0;
  }

  function clearFieldErrors() {
    hide(regError);
    hide(q('#reg-devices-error'));
    for (const f of Object.values(fields)) {
      hide(f.error);
      f.input.removeAttribute('aria-invalid');
    }
  }

  function fieldProblem(key, msgKey, params, text) {
    const f = fields[key];
    if (!f) return false;
    if (msgKey) showKey(f.error, msgKey, params);
    else showLines(f.error, [text]);
    f.input.setAttribute('aria-invalid', 'true');
    return true;
  }

  function focusFirstInvalid() {
    const first = regForm.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    else if (!q('#reg-devices-error').hidden) deviceBoxes[DEVICES[0]].box.focus();
    else regError.focus();
    regError.scrollIntoView({ block: 'nearest' });
  }

  function value(key) {
    const f = fields[key];
    return f ? f.input.value.trim() : '';
  }

  function selectedDevices() {
    return DEVICES.filter((code) => deviceBoxes[code].box.checked);
  }

  /** The page's own checks (the server checks the same and more); true when all is well. */
  function check() {
    let ok = true;
    const bad = (key, msgKey, params) => {
      fieldProblem(key, msgKey, params);
      ok = false;
    };
    for (const [name] of NAME_FIELDS) {
      const problem = nameProblem(name, value(name));
      if (problem) bad(name, problem);
    }
    const familyEn = value('family_name_en');
    const givenEn = value('given_name_en');
    if (familyEn && givenEn && cnTooLong(familyEn, givenEn) && fields.given_name_en.error.hidden) {
      bad('given_name_en', 'reg.err.cn_long');
    }
    if (!value('email')) bad('email', 'reg.err.required.email');
    else if (emailProblem(value('email'))) bad('email', emailProblem(value('email')));

    const devices = selectedDevices();
    if (!devices.length) {
      showKey(q('#reg-devices-error'), 'reg.err.device_required');
      ok = false;
    }
    // one certificate a device: more than 追加発行可能数 is said at the top, before 決定
    if (tenant && Number.isFinite(tenant.available) && devices.length > tenant.available) {
      quotaShort = tenant.available;
      ok = false;
    }
    const on = features();
    for (const code of devices) {
      const sub = value(`${code}.email`);
      if (sub && emailProblem(sub)) bad(`${code}.email`, emailProblem(sub));
      if (on.includes('validity_period')) {
        const from = value(`${code}.valid_from`);
        const to = value(`${code}.valid_to`);
        const fromKey = from ? dateTimeKey(from) : '';
        const toKey = to ? dateTimeKey(to) : '';
        if (fromKey === null) bad(`${code}.valid_from`, 'reg.err.datetime');
        if (toKey === null) bad(`${code}.valid_to`, 'reg.err.datetime');
        if (fromKey !== null && toKey !== null && tenant) {
          const p = periodProblem(from, to, tenant);
          if (p) bad(`${code}.${p.field}`, p.key, p.params);
        }
      }
      if (on.includes('org_units')) {
        for (const n of ['o', 'ou1', 'ou2']) {
          const v = value(`${code}.${n}`);
          if (v && (!PRINTABLE_ASCII.test(v) || v.length > ITEM_MAX)) bad(`${code}.${n}`, 'reg.err.org_unit');
        }
      }
      if (code === '01' && on.includes('install_restriction') && fields['01.mode'].input.value !== 'none') {
        const mac = value('01.mac');
        if (mac && !MAC.test(mac)) bad('01.mac', 'reg.err.mac');
        for (const n of ['computer', 'login_user', 'bios_serial']) {
          const v = value(`01.${n}`);
          if (v && (CONTROL.test(v) || [...v].length > ITEM_MAX)) bad(`01.${n}`, 'reg.err.item');
        }
        if (!['mac', 'computer', 'login_user', 'bios_serial'].some((n) => value(`01.${n}`))) {
          bad('01.mode', 'reg.err.restriction_empty');
        }
      }
    }
    return ok;
  }

  /** The POST /api/users body from the form: optional keys only where the tenant has the feature. */
  function body() {
    const on = features();
    const out = {};
    for (const [name] of NAME_FIELDS) out[name] = value(name);
    out.email = value('email');
    out.lang = q('#reg-lang').value === 'en' ? 'en' : 'ja';
    out.devices = selectedDevices().map((code) => {
      const d = { device: code };
      if (value(`${code}.email`)) d.email = value(`${code}.email`);
      if (on.includes('validity_period')) {
        if (value(`${code}.valid_from`)) d.valid_from = value(`${code}.valid_from`);
        if (value(`${code}.valid_to`)) d.valid_to = value(`${code}.valid_to`);
      }
      if (on.includes('org_units')) {
        for (const n of ['o', 'ou1', 'ou2']) if (value(`${code}.${n}`)) d[n] = value(`${code}.${n}`);
      }
      if (code === '01' && on.includes('install_restriction') && fields['01.mode'].input.value !== 'none') {
        d.restriction = { mode: fields['01.mode'].input.value };
        for (const n of ['mac', 'computer', 'login_user', 'bios_serial']) {
          if (value(`01.${n}`)) d.restriction[n] = value(`01.${n}`);
        }
      }
      return d;
    });
    return out;
  }

  // -- 2. 確認

  function reviewRow(dl, labelKey, text) {
    const div = el('div', 'fact');
    const dt = el('dt');
    dt.setAttribute('data-i18n', labelKey);
    dt.textContent = t(labelKey);
    div.append(dt, el('dd', null, text));
    dl.appendChild(div);
  }

  function renderReview(b) {
    const dl = q('#reg-review');
    dl.replaceChildren();
    const company = dialog.querySelector('[data-slot="company"]').textContent;
    reviewRow(dl, 'reg.company', company);
    reviewRow(dl, 'reg.organization', (tenant && tenant.organization) || '');
    for (const [name, key] of NAME_FIELDS) reviewRow(dl, key, b[name]);
    reviewRow(dl, 'reg.email', b.email);
    reviewRow(dl, 'reg.lang', t(`reg.lang.${b.lang}`));

    // One block per device, with what was entered for it (the tenant's features only).
    const on = features();
    const blocks = b.devices.map((d) => {
      const block = el('div', 'review-device');
      block.dataset.device = d.device;
      const title = el('h4', 'review-device-title', t(`device.${d.device}`));
      title.setAttribute('data-i18n', `device.${d.device}`);
      const list = el('dl', 'facts facts-table');
      reviewRow(list, 'reg.sub_email', d.email || t('reg.same_as_email'));
      if (on.includes('validity_period')) {
        reviewRow(list, 'reg.valid_from', d.valid_from || t('reg.default_validity'));
        reviewRow(list, 'reg.valid_to', d.valid_to || t('reg.default_validity'));
      }
      if (on.includes('org_units')) {
        for (const n of ['o', 'ou1', 'ou2']) reviewRow(list, `reg.${n}`, d[n] || '－');
      }
      if (on.includes('install_restriction') && d.device === '01') {
        const r = d.restriction;
        reviewRow(list, 'reg.restriction_mode', t(`reg.mode.${r ? r.mode : 'none'}`));
        if (r) for (const n of ['mac', 'computer', 'login_user', 'bios_serial']) reviewRow(list, `reg.${n}`, r[n] || '－');
      }
      block.append(title, list);
      return block;
    });
    q('#reg-review-devices').replaceChildren(...blocks);
  }

  regForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearFieldErrors();
    quotaShort = null;
    if (!check()) {
      const lines = [t('reg.err.summary')];
      if (quotaShort !== null) lines.unshift(t('reg.err.quota', { n: quotaShort }));
      showLines(regError, lines);
      focusFirstInvalid();
      return;
    }
    hide(submitError);
    renderReview(body());
    showStep('confirm');
    submitButton.focus();
  });

  // Clear a field's message as soon as it is edited.
  regForm.addEventListener('input', (ev) => {
    const input = ev.target;
    if (input.getAttribute && input.getAttribute('aria-invalid')) {
      input.removeAttribute('aria-invalid');
      const error = input.id && regForm.querySelector(`#${input.id}-error`);
      if (error) hide(error);
    }
  });

  q('#reg-back').addEventListener('click', () => {
    showStep('input');
    regForm.querySelector('input').focus();
  });

  /** Put the server's 422 field messages next to the fields they name. */
  function showServerErrors(err) {
    clearFieldErrors();
    const general = [];
    for (const f of err.fields) {
      const m = /^devices\[(\d+)\](?:\.(.+))?$/.exec(f.field);
      if (m) {
        // devices[i].x names the i-th device sent: find its code and so its field.
        const d = sent && Array.isArray(sent.devices) ? sent.devices[Number(m[1])] : null;
        if (d && m[2]) {
          let sub = m[2];
          if (sub === 'restriction' || sub === 'restriction.mode') sub = 'mode';
          else sub = sub.replace(/^restriction\./, '');
          if (fieldProblem(`${d.device}.${sub}`, null, null, f.message)) continue;
        }
        general.push(d ? `${t(`device.${d.device}`)}: ${f.message}` : f.message);
        continue;
      }
      // "devices" as a whole (the quota, above all) concerns the whole registration: said
      // first, at the top of the dialog, not under the device section
      if (f.field === 'devices') {
        general.unshift(f.message);
        continue;
      }
      if (!fieldProblem(f.field, null, null, f.message)) general.push(f.message);
    }
    showLines(regError, [err.displayMessage(), ...general]);
  }

  submitButton.addEventListener('click', async () => {
    if (submitting) return;
    submitting = true;
    submitButton.disabled = true;
    q('#reg-back').disabled = true;
    showKey(submitButton, 'reg.submitting');
    hide(submitError);
    sent = body();
    try {
      done = await api('POST', '/api/users', sent);
      renderDone(done);
      showStep('done');
      q('#reg-close').focus();
    } catch (err) {
      if (err.status === 401) {
        dialog.close();
        ctx.sessionLost();
        return;
      }
      if (err.status === 422 && err.fields.length) {
        showServerErrors(err);
        showStep('input');
        focusFirstInvalid();
      } else {
        showLines(submitError, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
      }
    } finally {
      submitting = false;
      submitButton.disabled = false;
      q('#reg-back').disabled = false;
      showKey(submitButton, 'reg.submit');
    }
  });

  // -- 3. 完了

  function renderDone(answer) {
    const b = sent || {};
    const dl = q('#reg-done-user');
    dl.replaceChildren();
    reviewRow(dl, 'reg.name', `${b.family_name || ''} ${b.given_name || ''}`.trim());
    reviewRow(dl, 'reg.email', b.email || '');
    const certs = Array.isArray(answer.certificates) ? answer.certificates : [];
    const rows = certs.map((c) => {
      const tr = el('tr');
      tr.dataset.status = c.status || '';
      const status = el('td');
      status.appendChild(statusBadge(c));
      tr.append(el('td', null, deviceLabel(c)), el('td', null, c.cn || ''), el('td', null, c.email || ''), status);
      return tr;
    });
    q('#reg-done-certs tbody').replaceChildren(...rows);
    q('#reg-done-notify').hidden = !(tenant && tenant.notify_users);
  }

  function resetForm() {
    regForm.reset();
    for (const { box, block, details } of Object.values(deviceBoxes)) {
      box.checked = false;
      details.hidden = true;
      block.classList.remove('selected');
    }
    if (fields['01.mode']) fields['01.mode'].input.dispatchEvent(new Event('change'));
    clearFieldErrors();
  }

  async function openRegistration() {
    unsay();
    await loadTenant(); // the quota and the validity limits as they are now
    resetForm();
    applyFeatures();
    done = null;
    sent = null;
    showStep('input');
    dialog.showModal();
    fields.family_name.input.focus();
  }

  function closeRegistration() {
    const registered = step === 'done' && done;
    if (dialog.open) dialog.close();
    if (registered) {
      say('reg.registered', { name: `${sent.family_name} ${sent.given_name}` });
      // The new user comes first in the default order; the list refreshes while it issues.
      const next = { ...readParams(new URLSearchParams()) };
      state = next;
      fillForm();
      go(next);
    }
  }

  q('#reg-clear').addEventListener('click', () => {
    resetForm();
    fields.family_name.input.focus();
  });
  q('#reg-cancel').addEventListener('click', closeRegistration);
  q('#reg-x').addEventListener('click', closeRegistration);
  q('#reg-close').addEventListener('click', closeRegistration);
  dialog.addEventListener('cancel', (ev) => {
    // Escape: not while the request is on its way; after 完了 it is 閉じる.
    ev.preventDefault();
    if (!submitting) closeRegistration();
  });
  dialog.addEventListener('close', () => newButton.focus());
  newButton.addEventListener('click', openRegistration);

  // 1次削除 / 削除済み / 取消 / マスター削除 (NRA 7)
  const deletedBox = q('#users-deleted');
  deletedBox.addEventListener('change', () => go({ ...state, deleted: deletedBox.checked, page: 1 }));
  const deletion = userActions(root, {
    say,
    onDone: () => {
      loadTenant();
      load({ quiet: true });
    },
    sessionLost: () => ctx.sessionLost(),
  });

  // 失効 / 再発行 of the checked users (NRA 5-1, 6-1) and CSV一括再発行 (NRA 6-2)
  const reloadAll = () => {
    selected.clear();
    loadTenant();
    load({ quiet: true });
  };
  const revocation = userRevoke(root, {
    say,
    onDone: reloadAll,
    features: () => (tenant && Array.isArray(tenant.features) ? tenant.features : []),
    sessionLost: () => ctx.sessionLost(),
  });
  const csvReissue = revokeCsv(root, {
    say,
    onDone: reloadAll,
    tokyoIso,
    daysMax: 30,
    sessionLost: () => ctx.sessionLost(),
    prefix: 'xcsv',
    button: '#users-reissue-csv',
    url: '/api/certificates/reissue-csv',
  });
  q('#users-show').addEventListener('change', (ev) => go({ ...state, show: ev.currentTarget.value, page: 1 }));

  // CSV一括登録 and CSV 処理状況: a finished job reloads the list and the quota
  const imports = importPanel(root, {
    say,
    onDone: () => {
      loadTenant();
      load({ quiet: true });
    },
  });

  // CSV一括利用者マスター削除: a queued job is followed in the CSV 処理状況 panel
  const purge = purgeDialog(root, { say, onQueued: () => imports.watch() });

  /** The password notice of the users checked: fetched, so a refusal is said, not dropped. */
  async function noticePdf(users) {
    hide(errorBox);
    unsay();
    try {
      const name = await download(withQuery('/api/users/notice.pdf', { ids: users.map((u) => u.id).join(',') }), 'password-notice.pdf');
      say('bulk.notice_pdf_done', { file: name, n: users.length });
    } catch (err) {
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
    }
  }

  // ▼一括操作 (NRA 4-2, 7-3): a registry of entries, see bulkmenu.js
  menu = bulkMenu(q('#users-bulk-menu'), { selectedUsers, deletedView: () => state.deleted });
  const mayIssue = () => Boolean(tenant && Array.isArray(tenant.features) && tenant.features.includes('admin_may_issue'));
  const toView = (deleted) => go({ ...state, deleted, page: 1 });
  const bulkButton = () => q('#users-bulk');
  menu.add({ id: 'import', labelKey: 'imp.open', view: 'any', visible: mayIssue, run: () => imports.openDialog() });
  menu.add({ id: 'jobs', labelKey: 'imp.jobs_title', view: 'any', run: () => imports.showPanel() });
  menu.add({ id: 'delete', labelKey: 'bulk.delete', view: 'active', selection: true, run: (users) => deletion.many('delete', users, bulkButton()) });
  menu.add({ id: 'deleted', labelKey: 'bulk.show_deleted', view: 'active', run: () => toView(true) });
  // 失効 / 再発行 of the checked users (NRA 5-1, 6-1): js/pages/userrevoke.js
  menu.add({ id: 'revoke', labelKey: 'urev.revoke', view: 'active', selection: true, run: (users) => revocation.openUserRevoke(users.map((u) => u.id), bulkButton()) });
  menu.add({ id: 'reissue', labelKey: 'urev.reissue', view: 'active', selection: true, run: (users) => revocation.openUserReissue(users.map((u) => u.id), bulkButton()) });
  menu.add({ id: 'undelete', labelKey: 'bulk.undelete', view: 'deleted', selection: true, run: (users) => deletion.many('undelete', users, bulkButton()) });
  menu.add({ id: 'purge', labelKey: 'bulk.purge', view: 'deleted', selection: true, run: (users) => deletion.many('purge', users, bulkButton()) });
  // パスワード通知書 (NRA): a PDF page per checked user, with the ID, password and the download site
  menu.add({ id: 'notice-pdf', labelKey: 'bulk.notice_pdf', view: 'active', selection: true, run: (users) => noticePdf(users) });
  menu.add({ id: 'active', labelKey: 'bulk.show_active', view: 'deleted', run: () => toView(false) });
  menu.add({ id: 'purge-csv', labelKey: 'purge.title', view: 'any', run: () => purge.open(bulkButton()) });

  view.appendChild(root);
  applyI18n(root);
  fillForm();
  loadTenant();
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
      imports.onLang();
      revocation.onLang();
      menu.refresh();
      syncSelection();
      if (said) showKey(message, said.key, said.params);
      fillForm();
      applyFeatures();
      if (step === 'confirm' && dialog.open) renderReview(body());
      if (last) render(last);
      load({ quiet: true });
    },
    destroy() {
      destroyed = true;
      seq += 1;
      clearTimeout(timer);
      imports.destroy();
      deletion.destroy();
      revocation.destroy();
      csvReissue.destroy();
      purge.destroy();
      menu.destroy();
      if (dialog.open) dialog.close();
    },
  };
}
