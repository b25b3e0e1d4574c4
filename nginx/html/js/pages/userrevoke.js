// shomei portal — 利用者: NRA's 失効 (5-1) and 再発行 (6-1) for selected users, in three steps as
// the manual's window has them: 利用者証明書一括失効 / 一括再発行 (the users' certificates with a
// 失効対象 check box each, ただちに / 日付を指定して, and on 再発行 the O/OU, validity and install
// restriction fields where the tenant has those services) → 選択内容の確認 (what will happen, to
// which certificates) → 受付完了. The lead may call openUserRevoke(ids) / openUserReissue(ids)
// from any selection of user ids.

import { api } from '../api.js';
import { el, hide, isoToSlash, showKey, showLines } from '../dom.js';
import { t } from '../i18n.js';
import { tokyoIso } from './certificates.js';

/** How far ahead a revocation may be scheduled (days, JST): services/revoke REVOKE_DAYS_MAX. */
const DAYS_MAX = 30;
const VALID = ['issued', 'downloaded', 'revoke_scheduled'];
const DATE_TIME = /^\d{4}\/\d{2}\/\d{2}( \d{2}:\d{2})?$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]{1,64}$/;
const MAC = /^[0-9A-Fa-f]{12}$/;

/**
 * Wire the dialog inside root: say(key, params) shows a message on the page, onDone() reloads
 * the list and the quota, features() the tenant's feature words, sessionLost() on 401.
 */
export function userRevoke(root, { say, onDone, features, sessionLost }) {
  const q = (sel) => root.querySelector(sel);
  const dialog = q('#urev-dialog');
  const form = q('#urev-form');
  const title = q('#urev-title');
  const steps = { input: q('#urev-step-input'), confirm: q('#urev-step-confirm'), done: q('#urev-step-done') };
  const tbody = q('#urev-table tbody');
  const on = q('#urev-on');
  const onError = q('#urev-on-error');
  const errorBox = q('#urev-error');
  const next = q('#urev-next');
  const ok = q('#urev-ok');
  const fields = {
    o: q('#urev-o'),
    ou1: q('#urev-ou1'),
    ou2: q('#urev-ou2'),
    valid_from: q('#urev-from'),
    valid_to: q('#urev-to'),
    mode: q('#urev-mode'),
    mac: q('#urev-mac'),
    computer: q('#urev-computer'),
    login_user: q('#urev-login-user'),
    bios_serial: q('#urev-bios'),
  };
  let mode = 'revoke'; // or 'reissue'
  let rows = []; // { user, cert, box }
  let step = 'input';
  let opener = null;
  let destroyed = false;

  const when = () => form.querySelector('input[name="urev-when"]:checked').value;
  const has = (f) => features().includes(f);
  const userName = (u) => `${u.family_name || ''} ${u.given_name || ''}`.trim();
  const deviceOf = (c) => c.device_label || (c.device ? t(`device.${c.device}`) : t('urev.numbered'));

  function showStep(name) {
    step = name;
    for (const [k, s] of Object.entries(steps)) s.hidden = k !== name;
    const stepKey = { input: '', confirm: '.confirm', done: '.done' }[name];
    showKey(title, `urev.title.${mode}${stepKey}`);
    for (const li of dialog.querySelectorAll('.urev-steps li')) li.classList.toggle('current', li.dataset.step === name);
  }

  /** Which certificates each step offers: valid ones; on 再発行 also revoked ones not reissued yet. */
  function offered(c) {
    if (c.superseded) return false;
    if (VALID.includes(c.status)) return true;
    return mode === 'reissue' && c.status === 'revoked';
  }

  function fieldCell(a, b) {
    const td = el('td');
    td.append(el('span', 'cell-main', a || ''));
    if (b) td.append(el('span', 'user-sub', b));
    return td;
  }

  function renderTable() {
    const out = [];
    for (const r of rows) {
      const tr = el('tr');
      const pick = el('td', 'col-check');
      pick.appendChild(r.box);
      const status = el('td');
      const badge = el('span', 'status-badge', r.cert.status_label || t(`status.${r.cert.status}`));
      badge.dataset.status = r.cert.status;
      status.appendChild(badge);
      if (r.cert.status === 'revoke_scheduled' && r.cert.revoke_on) status.append(el('span', 'user-sub', t('urev.on_date', { date: r.cert.revoke_on })));
      tr.append(
        pick,
        el('td', '', userName(r.user)),
        status,
        fieldCell(r.cert.cn, r.cert.email),
        el('td', 'mono', r.cert.serial || ''),
        fieldCell((r.cert.valid_from || '').slice(0, 10), (r.cert.expires_at || '').slice(0, 10)),
        el('td', '', deviceOf(r.cert)),
      );
      out.push(tr);
    }
    tbody.replaceChildren(...out);
    q('#urev-none').hidden = rows.length > 0;
  }

  function applyFeatures() {
    const re = mode === 'reissue';
    q('#urev-lead-reissue').hidden = !re;
    q('#urev-lead-revoke').hidden = re;
    q('#urev-org').hidden = !(re && has('org_units'));
    q('#urev-validity').hidden = !(re && has('validity_period'));
    q('#urev-restriction').hidden = !(re && has('install_restriction'));
    next.textContent = t('urev.next');
  }

  async function open(kind, ids, from) {
    mode = kind;
    opener = from || null;
    form.reset();
    hide(errorBox);
    hide(onError);
    for (const e of dialog.querySelectorAll('.field-error')) hide(e);
    on.min = tokyoIso(1);
    on.max = tokyoIso(DAYS_MAX);
    on.disabled = true;
    rows = [];
    applyFeatures();
    showStep('input');
    tbody.replaceChildren();
    next.disabled = true;
    dialog.showModal();
    try {
      const users = await Promise.all(ids.map((id) => api('GET', `/api/users/${id}`)));
      for (const u of users)
        for (const c of u.certificates || []) {
          if (!offered(c)) continue;
          const box = el('input');
          box.type = 'checkbox';
          box.checked = VALID.includes(c.status);
          box.setAttribute('aria-label', `${t('urev.col.target')} ${c.cn}`);
          rows.push({ user: u, cert: c, box });
        }
    } catch (err) {
      if (err.status === 401) {
        dialog.close();
        sessionLost();
        return;
      }
      showLines(errorBox, [err.displayMessage()]);
    }
    if (destroyed || !dialog.open) return;
    renderTable();
    next.disabled = false;
  }

  for (const radio of form.querySelectorAll('input[name="urev-when"]')) {
    radio.addEventListener('change', () => {
      on.disabled = when() !== 'date';
      if (!on.disabled && !on.value) on.value = on.min;
      hide(onError);
    });
  }

  function fieldError(key, msgKey) {
    const box = q(`#urev-${key}-error`);
    if (box) showKey(box, msgKey);
    return 1;
  }

  /** The request body, or null when something is wrong (shown beside it). */
  function body() {
    for (const e of dialog.querySelectorAll('.field-error')) hide(e);
    hide(errorBox);
    let bad = 0;
    const picked = rows.filter((r) => r.box.checked);
    if (picked.length === 0) {
      showKey(errorBox, 'urev.err.none');
      return null;
    }
    const b = { ids: picked.map((r) => r.cert.id) };
    if (when() === 'date') {
      if (!on.value || on.value < on.min || on.value > on.max) {
        showKey(onError, 'certs.err.revoke_on');
        return null;
      }
      b.revoke_on = on.value;
    }
    if (mode !== 'reissue') return b;
    if (has('org_units'))
      for (const k of ['o', 'ou1', 'ou2']) {
        const v = fields[k].value.trim();
        if (v && !PRINTABLE_ASCII.test(v)) bad += fieldError(k, 'urev.err.org');
        else if (v) b[k] = v;
      }
    if (has('validity_period'))
      for (const k of ['valid_from', 'valid_to']) {
        const v = fields[k].value.trim();
        if (v && !DATE_TIME.test(v)) bad += fieldError(k.replace('valid_', ''), 'urev.err.datetime');
        else if (v) b[k] = v;
      }
    if (has('install_restriction') && fields.mode.value) {
      const r = { mode: fields.mode.value };
      for (const k of ['mac', 'computer', 'login_user', 'bios_serial']) if (fields[k].value.trim()) r[k] = fields[k].value.trim();
      if (r.mac && !MAC.test(r.mac)) bad += fieldError('mac', 'urev.err.mac');
      b.restriction = r;
    }
    return bad ? null : b;
  }

  function renderConfirm(b) {
    const picked = rows.filter((r) => r.box.checked);
    const date = b.revoke_on ? isoToSlash(b.revoke_on) : '';
    const revokedOnes = picked.filter((r) => r.cert.status === 'revoked').length;
    showKey(q('#urev-confirm-lead'), `urev.confirm.${mode}${date ? '_date' : ''}`, { n: picked.length, date });
    const list = q('#urev-confirm-list');
    list.replaceChildren(
      ...picked.map((r) => {
        const li = el('li');
        li.append(el('strong', '', r.cert.cn), ` — ${userName(r.user)} / ${deviceOf(r.cert)}`);
        if (r.cert.serial) li.append(el('span', 'mono muted', ` (${r.cert.serial})`));
        if (mode === 'reissue' && r.cert.status === 'revoked') li.append(el('span', 'user-sub', t('urev.only_issue')));
        return li;
      }),
    );
    const extra = q('#urev-confirm-fields');
    const lines = [];
    if (mode === 'reissue') {
      for (const [k, key] of [['o', 'urev.o'], ['ou1', 'urev.ou1'], ['ou2', 'urev.ou2'], ['valid_from', 'urev.from'], ['valid_to', 'urev.to']])
        if (b[k]) lines.push(`${t(key)}: ${b[k]}`);
      if (b.restriction) lines.push(`${t('urev.restriction')}: ${t(`urev.mode.${b.restriction.mode}`)}`);
      if (revokedOnes) lines.push(t('urev.licence', { n: revokedOnes }));
    }
    if (lines.length) showLines(extra, lines);
    else hide(extra);
    ok.textContent = t(mode === 'reissue' ? 'urev.reissue' : 'certs.revoke_submit');
  }

  function renderDone(b, answer) {
    const date = b.revoke_on ? isoToSlash(b.revoke_on) : '';
    showKey(q('#urev-done-lead'), `urev.done.${mode}${date ? '_date' : ''}`, { n: answer.count, date });
  }

  let pendingBody = null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (step === 'input') {
      const b = body();
      if (!b) return;
      pendingBody = b;
      renderConfirm(b);
      showStep('confirm');
      ok.focus();
      return;
    }
    if (step === 'confirm') {
      ok.disabled = true;
      hide(q('#urev-confirm-error'));
      try {
        const path = mode === 'reissue' ? '/api/certificates/reissue' : '/api/certificates/revoke';
        const answer = await api('POST', path, pendingBody);
        renderDone(pendingBody, answer);
        showStep('done');
        q('#urev-close').focus();
        onDone();
      } catch (err) {
        if (err.status === 401) {
          dialog.close();
          sessionLost();
          return;
        }
        showLines(q('#urev-confirm-error'), [err.displayMessage(), ...err.fields.map((f) => f.message)]);
      } finally {
        ok.disabled = false;
      }
      return;
    }
    dialog.close();
  });

  q('#urev-back').addEventListener('click', () => {
    hide(q('#urev-confirm-error'));
    showStep('input');
  });
  q('#urev-cancel').addEventListener('click', () => dialog.close());
  q('#urev-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    if (step === 'done') say(`urev.done.${mode}${pendingBody && pendingBody.revoke_on ? '_date' : ''}`, {
      n: pendingBody ? pendingBody.ids.length : 0,
      date: pendingBody && pendingBody.revoke_on ? isoToSlash(pendingBody.revoke_on) : '',
    });
    if (opener) opener.focus();
  });

  return {
    openUserRevoke: (ids, from) => open('revoke', ids, from),
    openUserReissue: (ids, from) => open('reissue', ids, from),
    onLang() {
      if (!dialog.open) return;
      applyFeatures();
      showStep(step);
      renderTable();
      if (step === 'confirm' && pendingBody) renderConfirm(pendingBody);
    },
    destroy() {
      destroyed = true;
      if (dialog.open) dialog.close();
    },
  };
}
