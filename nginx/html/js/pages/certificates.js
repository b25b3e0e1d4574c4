// shomei portal — 証明書管理 (desknet style): the summary 契約数 / 発行数 / 追加発行可能数, the
// 「+ 追加」 dialog that adds numbered certificates (client_NNNNNN), the search (表示, コモンネーム,
// 発行日 range), the list (100 a page, sorted by 発行日 either way) and 画面更新, and 選択したものを失効
// (check boxes on the certificates that can be revoked, a confirmation naming them, ただちに or
// 日付を指定して from tomorrow to 30 days ahead; 取消 on a scheduled one). While any certificate
// is issuing, the summary and the list refresh themselves every few seconds.
// The search conditions live in the hash
// (#/certificates?status=all&cn=…&from=yyyy/mm/dd&to=…&sort=-issued_at&page=N).

import { api, download, withQuery } from '../api.js';
import { revokeCsv } from './revokecsv.js';
import { atPage, cursorQuery, el, fromTemplate, hide, isoToSlash, pageCount, readCursor, renderPager, showKey, showLines, slashToIso } from '../dom.js';
import { applyI18n, t } from '../i18n.js';

/** How often the page asks again while certificates are issuing. */
export const REFRESH_MS = 2500;

function readParams(params) {
  const page = Number.parseInt(params.get('page') || '1', 10);
  return {
    status: params.get('status') === 'all' ? 'all' : 'valid',
    cn: (params.get('cn') || '').slice(0, 128),
    from: slashToIso(params.get('from')),
    to: slashToIso(params.get('to')),
    sort: params.get('sort') === '-issued_at' ? '-issued_at' : 'issued_at',
    page: Number.isFinite(page) && page > 0 ? page : 1,
    ...readCursor(params),
  };
}

function hashFor(state) {
  return withQuery('#/certificates', {
    status: state.status === 'all' ? 'all' : '',
    cn: state.cn,
    from: isoToSlash(state.from),
    to: isoToSlash(state.to),
    sort: state.sort === '-issued_at' ? '-issued_at' : '',
    page: state.page > 1 ? state.page : '',
    ...cursorQuery(state),
  });
}

/** The statuses a certificate may be revoked from (lifecycle.c: issued, downloaded, scheduled). */
const REVOCABLE = new Set(['issued', 'downloaded', 'revoke_scheduled']);
/** How far ahead a revocation may be scheduled (days, JST): services/revoke REVOKE_DAYS_MAX. */
const REVOKE_DAYS_MAX = 30;

/** Today plus days in Asia/Tokyo as yyyy-mm-dd (what <input type=date> and the API use). */
export function tokyoIso(days = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + days * 86400e3));
}

/** A number for the summary ("–" when the API did not say). */
function num(v) {
  return Number.isFinite(v) ? v.toLocaleString() : '–';
}

export function certificatesPage(view, params, ctx) {
  const root = fromTemplate('tpl-certificates');
  const q = (sel) => root.querySelector(sel);
  const form = q('#cert-search');
  const statusSelect = q('#cert-status');
  const cnInput = q('#cert-cn');
  const fromInput = q('#cert-from');
  const toInput = q('#cert-to');
  const message = q('#cert-message');
  const issuingBox = q('#cert-issuing');
  const errorBox = q('#cert-error');
  const tbody = q('#cert-table tbody');
  const empty = q('#cert-empty');
  const loading = q('#cert-loading');
  const pagers = [...root.querySelectorAll('[data-pager]')];
  const sortButton = q('#cert-sort');
  const sortTh = q('#cert-issued-th');
  const addButton = q('#cert-add');
  const refreshButton = q('#cert-refresh');
  const revokeButton = q('#cert-revoke');
  const selectAll = q('#cert-select-all');
  const revokeDialog = q('#cert-revoke-dialog');
  const revokeForm = q('#cert-revoke-form');
  const revokeOn = q('#revoke-on');
  const revokeOnError = q('#revoke-on-error');
  const revokeError = q('#revoke-error');
  const revokeOk = q('#revoke-ok');

  const dialog = q('#cert-add-dialog');
  const addForm = q('#cert-add-form');
  const countInput = q('#add-count');
  const countError = q('#add-count-error');
  const addError = q('#add-error');
  const addSubmit = q('#add-submit');
  const addOk = q('#add-ok');
  const steps = {
    input: dialog.querySelector('[data-step="input"]'),
    confirm: dialog.querySelector('[data-step="confirm"]'),
  };

  let state = readParams(params);
  let tenant = null; // the last GET /api/tenant answer
  let last = null; // the last list answer shown
  let seq = 0; // answers to older requests are dropped
  let timer = null; // the next automatic refresh
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
  let pendingCount = 0; // the count waiting for OK
  const selected = new Map(); // id → cn of the certificates checked for 失効
  let revoking = []; // [{id, cn}] named in the open confirmation

  // ------------------------------------------------------------ list

  function fillForm() {
    statusSelect.value = state.status;
    cnInput.value = state.cn;
    fromInput.value = state.from;
    toInput.value = state.to;
    const desc = state.sort === '-issued_at';
    sortTh.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
    q('#cert-sort .sort-mark').textContent = desc ? '▼' : '▲';
    sortButton.setAttribute('data-i18n-title', desc ? 'certs.sort_asc' : 'certs.sort_desc');
    sortButton.title = t(desc ? 'certs.sort_asc' : 'certs.sort_desc');
  }

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

  function dateCell(item) {
    const td = el('td', 'col-date');
    if (item.status === 'issuing') {
      td.append(el('span', 'status-issuing', t('certs.issuing')));
    } else if (item.status === 'failed') {
      td.append(el('span', 'status-failed', t('certs.failed')), ' ', retryButton(item));
    } else {
      td.textContent = item.issued_at || '';
    }
    return td;
  }

  /** 再試行: a certificate whose issuance failed goes back to issuing (once its cause is mended). */
  function retryButton(item) {
    const b = el('button', 'btn btn-small btn-ghost cert-retry', t('certs.retry'));
    b.type = 'button';
    b.setAttribute('data-i18n', 'certs.retry');
    b.setAttribute('aria-label', `${t('certs.retry')} ${item.cn || ''}`);
    b.addEventListener('click', async () => {
      b.disabled = true;
      hide(errorBox);
      try {
        await api('POST', `/api/certificates/${encodeURIComponent(item.id)}/retry`, {});
        say('certs.retried', { cn: item.cn || '' });
        await load();
      } catch (err) {
        b.disabled = false;
        fail(err);
      }
    });
    return b;
  }

  function revokedCell(item) {
    const td = el('td', 'col-date');
    if (item.revoked_at) td.textContent = item.revoked_at;
    else if (item.status === 'revoke_scheduled') {
      const on = isoToSlash(item.revoke_on);
      td.append(el('span', 'status-scheduled', on ? t('certs.scheduled_on', { date: on }) : t('certs.scheduled')));
      td.append(cancelButton(item));
    }
    return td;
  }

  /** 取消: a scheduled revocation is cancelled (until its date has come). */
  function cancelButton(item) {
    const b = el('button', 'btn btn-small btn-ghost cert-cancel-revoke', t('certs.revoke_undo'));
    b.type = 'button';
    b.setAttribute('data-i18n', 'certs.revoke_undo');
    b.setAttribute('aria-label', `${t('certs.revoke_undo')} ${item.cn || ''}`);
    b.addEventListener('click', async () => {
      b.disabled = true;
      hide(errorBox);
      try {
        await api('POST', '/api/certificates/revoke/cancel', { ids: [item.id] });
        selected.delete(item.id);
        say('certs.revoke_undone', { cn: item.cn || '' });
        await load();
      } catch (err) {
        b.disabled = false;
        fail(err);
      }
    });
    return b;
  }

  /** The check box of a row that can be revoked. */
  function checkBox(item) {
    const box = el('input', 'cert-check');
    box.type = 'checkbox';
    box.checked = selected.has(item.id);
    box.setAttribute('aria-label', t('certs.select', { cn: item.cn || '' }));
    box.addEventListener('change', () => {
      if (box.checked) selected.set(item.id, item.cn || '');
      else selected.delete(item.id);
      syncSelectAll();
    });
    return box;
  }

  function rowBoxes() {
    return [...tbody.querySelectorAll('input.cert-check')];
  }

  function syncSelectAll() {
    const boxes = rowBoxes();
    const on = boxes.filter((b) => b.checked).length;
    selectAll.checked = boxes.length > 0 && on === boxes.length;
    selectAll.indeterminate = on > 0 && on < boxes.length;
    selectAll.disabled = boxes.length === 0;
  }

  function renderSummary() {
    const s = tenant || {};
    q('#sum-quota').textContent = num(s.quota);
    q('#sum-issued').textContent = num(s.issued);
    q('#sum-available').textContent = num(s.available);
  }

  function render(data) {
    last = data;
    const items = Array.isArray(data.items) ? data.items : [];
    const rows = items.map((item) => {
      const tr = el('tr');
      tr.dataset.status = item.status || '';
      tr.dataset.id = String(item.id);
      const cn = el('td', 'col-cn', item.cn);
      if (item.status_label) cn.title = item.status_label;
      if (REVOCABLE.has(item.status)) cn.prepend(checkBox(item));
      // a user's certificate: whose, which device, its e-mail and its status (a numbered one is
      // told apart by its client_NNNNNN name alone)
      const who = item.user_name
        ? [item.user_name, item.device_label, item.device_email || item.email].filter((v) => v).join(' · ')
        : '';
      if (who) {
        const sub = el('span', 'cert-sub');
        if (who) sub.append(el('span', 'user-sub', who));
        if (item.status_label) {
          const badge = el('span', 'status-badge', item.status_label);
          badge.dataset.status = item.status || '';
          sub.append(badge);
        }
        cn.append(sub);
      }
      tr.append(cn, dateCell(item), revokedCell(item), el('td', 'col-date', item.expires_at || ''));
      return tr;
    });
    // a selection holds only what this page shows and may still be revoked
    const shown = new Set(items.filter((i) => REVOCABLE.has(i.status)).map((i) => i.id));
    for (const id of [...selected.keys()]) if (!shown.has(id)) selected.delete(id);
    tbody.replaceChildren(...rows);
    syncSelectAll();
    empty.hidden = rows.length > 0;
    for (const p of pagers) renderPager(p, data, goPage);
  }

  /** True while any of the tenant's certificates is issuing (shown on this page or not). */
  function anyIssuing() {
    const shown = Boolean(last && Array.isArray(last.items) && last.items.some((i) => i.status === 'issuing'));
    if (!tenant) return shown;
    if (typeof tenant.issuing === 'boolean') return tenant.issuing || shown;
    if (Number.isFinite(tenant.issuing)) return tenant.issuing > 0 || shown;
    return shown;
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    const busy = anyIssuing();
    issuingBox.hidden = !busy;
    if (busy && !destroyed) timer = setTimeout(() => load({ quiet: true }), REFRESH_MS);
  }

  function fail(err) {
    if (err.status === 401) {
      ctx.sessionLost();
      return;
    }
    showLines(errorBox, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
  }

  /** Ask for the summary and the list; quiet: an automatic refresh (no loading state). */
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
      const [summary, data] = await Promise.all([
        api('GET', '/api/tenant'),
        api(
          'GET',
          withQuery('/api/certificates', {
            status: state.status,
            cn: state.cn,
            issued_from: isoToSlash(state.from),
            issued_to: isoToSlash(state.to),
            sort: state.sort,
            page: state.page,
            ...cursorQuery(state),
          }),
        ),
      ]);
      if (mine !== seq || destroyed) return;
      tenant = summary;
      renderSummary();
      updateDialogFacts();
      const pages = pageCount(data);
      if (state.page > pages) {
        go(atPage(state, pages, { last: true }));
        return;
      }
      hide(errorBox);
      render(data);
      schedule();
    } catch (err) {
      if (mine !== seq || destroyed) return;
      fail(err);
      if (!quiet) {
        tbody.replaceChildren();
        empty.hidden = true;
        for (const p of pagers) p.hidden = true;
      }
      // An automatic refresh that failed (e.g. the network blinked) tries again later.
      if (quiet && err.status !== 401) timer = setTimeout(() => load({ quiet: true }), REFRESH_MS * 2);
    } finally {
      if (mine === seq) {
        loading.hidden = true;
        root.classList.remove('is-loading');
        refreshButton.disabled = false;
      }
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    hide(errorBox);
    unsay();
    if (!fromInput.checkValidity() || !toInput.checkValidity()) {
      showKey(errorBox, 'certs.err.date');
      return;
    }
    const next = {
      status: statusSelect.value === 'all' ? 'all' : 'valid',
      cn: cnInput.value.trim(),
      from: fromInput.value,
      to: toInput.value,
      sort: state.sort,
      page: 1,
    };
    if (next.from && next.to && next.from > next.to) {
      showKey(errorBox, 'certs.err.range');
      fromInput.focus();
      return;
    }
    go(next);
  });

  q('#cert-clear').addEventListener('click', () => {
    hide(errorBox);
    go({ status: 'valid', cn: '', from: '', to: '', sort: state.sort, page: 1 });
    state = { ...readParams(new URLSearchParams()), sort: state.sort };
    fillForm();
  });

  sortButton.addEventListener('click', () => {
    go({ ...state, sort: state.sort === 'issued_at' ? '-issued_at' : 'issued_at', page: 1 });
  });

  refreshButton.addEventListener('click', () => {
    unsay();
    load();
  });

  selectAll.addEventListener('change', () => {
    const want = selectAll.checked; // each box's change re-syncs selectAll on the way
    for (const box of rowBoxes()) {
      box.checked = want;
      box.dispatchEvent(new Event('change'));
    }
  });

  // ------------------------------------------------------------ 証明書ダウンロード / パスワードリストCSV

  /**
   * The ZIP (.p12 + cacert.pem + cacert.crt) or the password list: of the certificates checked,
   * or of every valid one when none is. Fetched, so a refusal is said (an expired session leads
   * to the login page) instead of a silently cancelled download.
   */
  async function downloadSelected(button, path, fallback) {
    const ids = [...selected.keys()];
    button.disabled = true;
    hide(errorBox);
    unsay();
    try {
      const name = await download(ids.length ? withQuery(path, { ids: ids.join(',') }) : path, fallback);
      say(ids.length ? 'certs.downloaded_selected' : 'certs.downloaded_all', { file: name, n: ids.length });
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  q('#cert-zip').addEventListener('click', (ev) =>
    downloadSelected(ev.currentTarget, '/api/downloads/certificates.zip', 'certificates.zip'),
  );
  q('#cert-csv').addEventListener('click', (ev) =>
    downloadSelected(ev.currentTarget, '/api/downloads/passwords.csv', 'passwords.csv'),
  );

  // ------------------------------------------------------------ 選択したものを失効

  function revokeWhen() {
    return revokeForm.querySelector('input[name="revoke-when"]:checked').value;
  }

  function fillRevokeDialog() {
    q('#revoke-lead').textContent = t('certs.revoke_confirm', { n: revoking.length.toLocaleString() });
    q('#revoke-list').replaceChildren(...revoking.map((c) => el('li', null, c.cn)));
  }

  function openRevoke() {
    unsay();
    hide(errorBox);
    if (selected.size === 0) {
      showKey(errorBox, 'certs.err.none_selected');
      return;
    }
    revoking = [...selected].map(([id, cn]) => ({ id, cn }));
    fillRevokeDialog();
    hide(revokeError);
    hide(revokeOnError);
    revokeForm.querySelector('input[value="now"]').checked = true;
    revokeOn.min = tokyoIso(1);
    revokeOn.max = tokyoIso(REVOKE_DAYS_MAX);
    revokeOn.value = '';
    revokeOn.disabled = true;
    revokeDialog.showModal();
    revokeOk.focus();
  }

  for (const radio of revokeForm.querySelectorAll('input[name="revoke-when"]')) {
    radio.addEventListener('change', () => {
      revokeOn.disabled = revokeWhen() !== 'date';
      if (!revokeOn.disabled) {
        if (!revokeOn.value) revokeOn.value = revokeOn.min;
        revokeOn.focus();
      }
      hide(revokeOnError);
    });
  }

  /** The date asked for ("" = now), or null after showing what is wrong with it. */
  function checkRevokeOn() {
    if (revokeWhen() !== 'date') return '';
    const v = revokeOn.value;
    if (!v || !revokeOn.checkValidity() || v < revokeOn.min || v > revokeOn.max) {
      showKey(revokeOnError, 'certs.err.revoke_on');
      revokeOn.focus();
      return null;
    }
    return v;
  }

  revokeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    hide(revokeError);
    hide(revokeOnError);
    const on = checkRevokeOn();
    if (on === null) return;
    revokeOk.disabled = true;
    try {
      const body = { ids: revoking.map((c) => c.id) };
      if (on) body.revoke_on = on;
      const res = await api('POST', '/api/certificates/revoke', body);
      revokeDialog.close();
      selected.clear();
      const n = (res.count || revoking.length).toLocaleString();
      if (on) say('certs.revoke_scheduled_done', { n, date: isoToSlash(on) });
      else say('certs.revoked_done', { n });
      await load();
    } catch (err) {
      if (err.status === 401) {
        revokeDialog.close();
        ctx.sessionLost();
        return;
      }
      showLines(revokeError, [err.displayMessage(), ...err.fields.map((f) => f.message)]);
      if (err.status === 404 || err.status === 409) load({ quiet: true }); // the list has moved
    } finally {
      revokeOk.disabled = false;
    }
  });

  q('#revoke-cancel').addEventListener('click', () => revokeDialog.close());
  revokeDialog.addEventListener('close', () => revokeButton.focus());
  revokeButton.addEventListener('click', openRevoke);

  // ------------------------------------------------------------ 追加 dialog

  function remaining() {
    return tenant && Number.isFinite(tenant.available) ? tenant.available : 0;
  }

  function updateDialogFacts() {
    q('#add-quota').textContent = num(tenant && tenant.quota);
    q('#add-issued').textContent = num(tenant && tenant.issued);
    q('#add-remaining').textContent = t('certs.add_note_remaining', { n: remaining().toLocaleString() });
    countInput.max = String(Math.max(1, remaining()));
    const busy = anyIssuing();
    q('#add-note-issuing').classList.toggle('emphasis', busy);
    if (dialog.open && !steps.input.hidden) {
      addSubmit.disabled = busy || remaining() < 1;
      countInput.disabled = busy || remaining() < 1;
    }
  }

  function showStep(name) {
    for (const [key, node] of Object.entries(steps)) node.hidden = key !== name;
  }

  function clearDialogErrors() {
    hide(countError);
    hide(addError);
    countInput.removeAttribute('aria-invalid');
  }

  function openDialog() {
    unsay();
    clearDialogErrors();
    countInput.value = '';
    showStep('input');
    updateDialogFacts();
    if (anyIssuing()) showKey(addError, 'certs.err.issuing');
    else if (remaining() < 1) showKey(addError, 'certs.err.none_left');
    dialog.showModal();
    if (!countInput.disabled) countInput.focus();
    else q('#add-back').focus();
  }

  function closeDialog() {
    if (dialog.open) dialog.close();
  }

  /** The count typed in, or null after showing what is wrong with it. */
  function checkCount() {
    const raw = countInput.value.trim();
    let key = null;
    let params;
    if (!raw) key = 'certs.err.count_required';
    else if (!/^\d+$/.test(raw) || Number(raw) < 1) key = 'certs.err.count_format';
    else if (Number(raw) > remaining()) {
      key = 'certs.err.count_over';
      params = { n: remaining().toLocaleString() };
    }
    if (key) {
      showKey(countError, key, params);
      countInput.setAttribute('aria-invalid', 'true');
      countInput.focus();
      return null;
    }
    return Number(raw);
  }

  addForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!steps.input.hidden) {
      clearDialogErrors();
      if (anyIssuing()) {
        showKey(addError, 'certs.err.issuing');
        return;
      }
      const n = checkCount();
      if (n === null) return;
      pendingCount = n;
      q('#add-confirm-text').textContent = t('certs.add_confirm', { n: n.toLocaleString() });
      showStep('confirm');
      addOk.focus();
    }
  });

  countInput.addEventListener('input', () => {
    if (countInput.getAttribute('aria-invalid')) {
      hide(countError);
      countInput.removeAttribute('aria-invalid');
    }
  });

  q('#add-back').addEventListener('click', closeDialog);
  q('#add-cancel').addEventListener('click', () => {
    showStep('input');
    countInput.focus();
  });

  addOk.addEventListener('click', async () => {
    addOk.disabled = true;
    q('#add-cancel').disabled = true;
    try {
      const res = await api('POST', '/api/certificates/batch', { count: pendingCount });
      closeDialog();
      say('certs.added', { n: (res.count || pendingCount).toLocaleString() });
      // Show the new rows (発行中...) at once; the refresh goes on by itself while they issue.
      await load();
    } catch (err) {
      if (err.status === 401) {
        closeDialog();
        ctx.sessionLost();
        return;
      }
      showStep('input');
      const general = [];
      for (const f of err.fields) {
        if (f.field === 'count') {
          showLines(countError, [f.message]);
          countInput.setAttribute('aria-invalid', 'true');
        } else {
          general.push(f.message);
        }
      }
      showLines(addError, [err.displayMessage(), ...general]);
      if (err.status === 409 || err.status === 422) load({ quiet: true }); // the numbers have moved
    } finally {
      addOk.disabled = false;
      q('#add-cancel').disabled = false;
    }
  });

  dialog.addEventListener('close', () => {
    addButton.focus();
  });

  addButton.addEventListener('click', openDialog);

  // CSV一括失効: a finished job reloads the list and the summary
  const csvRevoke = revokeCsv(root, {
    say,
    onDone: () => load({ quiet: true }),
    tokyoIso,
    daysMax: REVOKE_DAYS_MAX,
    sessionLost: () => ctx.sessionLost(),
  });

  view.appendChild(root);
  applyI18n(root);
  fillForm();
  renderSummary();
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
      if (said) showKey(message, said.key, said.params);
      fillForm();
      if (last) render(last);
      updateDialogFacts();
      if (revokeDialog.open) fillRevokeDialog();
      if (!steps.confirm.hidden && pendingCount) {
        q('#add-confirm-text').textContent = t('certs.add_confirm', { n: pendingCount.toLocaleString() });
      }
      load({ quiet: true }); // status labels come from the server in the new language
    },
    destroy() {
      destroyed = true;
      seq += 1;
      clearTimeout(timer);
      closeDialog();
      csvRevoke.destroy();
      if (revokeDialog.open) revokeDialog.close();
    },
  };
}
