// shomei portal — 利用者情報 (#/user?id=N): one user with its devices and certificates.
//   - 利用者変更: the names and the 代表メールアドレス (PATCH /api/users/{id}), in the
//     registration's steps 入力 → 確認 (what changes) → 決定;
//   - 利用デバイスの追加: a device the user does not have yet, with the tenant's fields
//     (POST /api/users/{id}/devices: a new certificate, issuing);
//   - the certificates with status, 発行日, 有効期限, 失効日 and, where the download service
//     serves them, the .p12 / .PIN / .mobileconfig of each (a certificate with an install
//     restriction gives its .PIN only; .mobileconfig is for iOS).
// Texts are in i18n.js under "user.*"; the rules are the registration's (users.js).

import { api, download } from '../api.js';
import { el, hide, showKey, showLines } from '../dom.js';
import { applyI18n, getLang, t } from '../i18n.js';
import { REFRESH_MS } from './certificates.js';
import { DEVICES, cnTooLong, dateTimeKey, emailProblem, nameProblem, periodProblem } from './users.js';

const NAMES = ['family_name', 'given_name', 'family_name_kana', 'given_name_kana', 'family_name_en', 'given_name_en'];
const EDITABLE = [...NAMES, 'email'];
const VALID = new Set(['issued', 'downloaded', 'revoke_scheduled']);
const IOS = new Set(['11', '12']);

/** A <dl> row. */
function fact(dl, labelKey, text) {
  const div = el('div', 'fact');
  const dt = el('dt', null, t(labelKey));
  dt.setAttribute('data-i18n', labelKey);
  div.append(dt, el('dd', null, text || '－'));
  dl.appendChild(div);
}

/** A labelled text input with its error line: { wrap, input, error }. */
function field(id, labelKey, maxLength) {
  const wrap = el('div', 'field');
  const label = el('label', null, t(labelKey));
  label.htmlFor = id;
  label.setAttribute('data-i18n', labelKey);
  const input = el('input');
  input.type = 'text';
  input.id = id;
  input.maxLength = maxLength;
  input.spellcheck = false;
  const error = el('p', 'field-error');
  error.id = `${id}-error`;
  error.hidden = true;
  input.setAttribute('aria-describedby', error.id);
  wrap.append(label, input, error);
  return { wrap, input, error };
}

/** A labelled select, its options added by the caller: { wrap, select }. */
function selectField(id, labelKey) {
  const wrap = el('div', 'field');
  const label = el('label', null, t(labelKey));
  label.htmlFor = id;
  label.setAttribute('data-i18n', labelKey);
  const select = el('select');
  select.id = id;
  wrap.append(label, select);
  return { wrap, select };
}

/** A dialog shell: { dialog, body, actions, error }. */
function dialogShell(id, titleKey) {
  const dialog = el('dialog', 'dialog');
  dialog.id = id;
  const title = el('h2', 'dialog-title', t(titleKey));
  title.id = `${id}-title`;
  title.setAttribute('data-i18n', titleKey);
  dialog.setAttribute('aria-labelledby', title.id);
  const form = el('form', 'dialog-form');
  form.noValidate = true;
  const body = el('div', 'dialog-body');
  const error = el('div', 'notice notice-error');
  error.id = `${id}-error`;
  error.setAttribute('role', 'alert');
  error.tabIndex = -1;
  error.hidden = true;
  const actions = el('div', 'dialog-actions');
  body.append(error);
  form.append(title, body, actions);
  dialog.appendChild(form);
  return { dialog, form, body, actions, error };
}

function button(cls, key, type = 'button') {
  const b = el('button', `btn ${cls}`, t(key));
  b.type = type;
  b.setAttribute('data-i18n', key);
  return b;
}

export function userPage(view, params, ctx) {
  const root = el('section', 'page user-page');
  view.appendChild(root);
  let id = params.get('id') || '';
  let user = null;
  let tenant = null;
  let timer = null;
  let destroyed = false;
  let said = null;

  const head = el('div', 'page-head');
  const title = el('h1', 'page-title', t('user.title'));
  title.setAttribute('data-i18n', 'user.title');
  const back = el('a', 'btn btn-ghost', t('user.back'));
  back.href = '#/users';
  back.setAttribute('data-i18n', 'user.back');
  head.append(title, back);
  const message = el('div', 'notice notice-success');
  message.id = 'user-message';
  message.setAttribute('role', 'status');
  message.hidden = true;
  const errorBox = el('div', 'notice notice-error');
  errorBox.id = 'user-error';
  errorBox.setAttribute('role', 'alert');
  errorBox.hidden = true;
  const content = el('div', 'user-content');
  root.append(head, message, errorBox, content);

  function say(key, p) {
    said = { key, params: p };
    showKey(message, key, p);
  }

  const features = () => (tenant && Array.isArray(tenant.features) ? tenant.features : []);
  const fullName = (u) => `${u.family_name || ''} ${u.given_name || ''}`.trim();

  // ------------------------------------------------------------ the page

  function restrictionOf(code) {
    const d = (user.devices || []).find((x) => x.device === code);
    return d && d.restriction ? d.restriction.mode || 'none' : 'none';
  }

  function downloads(c) {
    const cell = el('td', 'cert-downloads');
    if (!VALID.has(c.status)) {
      cell.textContent = '－';
      return cell;
    }
    const restricted = restrictionOf(c.device) !== 'none';
    const kinds = [];
    if (!restricted) kinds.push(['p12', '.p12']);
    kinds.push(['pin', '.PIN']);
    if (!restricted && IOS.has(c.device)) kinds.push(['mobileconfig', '.mobileconfig']);
    for (const [kind, label] of kinds) {
      const b = el('button', 'btn btn-small btn-secondary', label);
      b.type = 'button';
      b.dataset.kind = kind;
      b.setAttribute('aria-label', t('user.download', { what: label, cn: c.cn || '', device: c.device_label || '' }));
      b.addEventListener('click', () => fetchFile(b, `/api/certificates/${encodeURIComponent(c.id)}/${kind}`, `${c.cn}${label}`));
      cell.appendChild(b);
    }
    if (restricted) cell.appendChild(el('span', 'hint', t('user.restricted_pin_only')));
    return cell;
  }

  async function fetchFile(b, path, fallback) {
    b.disabled = true;
    hide(errorBox);
    try {
      const name = await download(path, fallback);
      say('user.downloaded', { file: name });
      load({ quiet: true }); // its status becomes ダウンロード済
    } catch (err) {
      if (err.status !== 401) showLines(errorBox, [err.displayMessage()]);
    } finally {
      b.disabled = false;
    }
  }

  function table(headKeys, rows, id) {
    const wrap = el('div', 'table-wrap');
    const tb = el('table', 'data-table compact-table');
    if (id) tb.id = id;
    const tr = el('tr');
    for (const k of headKeys) {
      const th = el('th', null, t(k));
      th.scope = 'col';
      th.setAttribute('data-i18n', k);
      tr.appendChild(th);
    }
    const thead = el('thead');
    thead.appendChild(tr);
    const tbody = el('tbody');
    tbody.append(...rows);
    tb.append(thead, tbody);
    wrap.appendChild(tb);
    return wrap;
  }

  function devicesSection() {
    const on = features();
    const card = el('section', 'card');
    const h = el('div', 'section-head');
    const h2 = el('h2', 'card-title', t('user.devices'));
    h2.setAttribute('data-i18n', 'user.devices');
    h.appendChild(h2);
    const free = DEVICES.filter((code) => !(user.devices || []).some((d) => d.device === code));
    if (!user.deleted_at && on.includes('admin_may_issue') && free.length) {
      const add = button('btn-secondary', 'user.add_device');
      add.id = 'user-add-device';
      add.addEventListener('click', () => openAdd(add));
      h.appendChild(add);
    }
    const heads = ['users.col.device', 'reg.col.email'];
    if (on.includes('validity_period')) heads.push('reg.valid_from', 'reg.valid_to');
    if (on.includes('org_units')) heads.push('reg.o', 'reg.ou1', 'reg.ou2');
    if (on.includes('install_restriction')) heads.push('reg.restriction_mode');
    const rows = (user.devices || []).map((d) => {
      const tr = el('tr');
      tr.dataset.device = d.device;
      tr.append(el('td', null, d.device_label || t(`device.${d.device}`)), el('td', null, d.email || ''));
      if (on.includes('validity_period')) tr.append(el('td', null, d.valid_from || '－'), el('td', null, d.valid_to || '－'));
      if (on.includes('org_units')) for (const n of ['o', 'ou1', 'ou2']) tr.append(el('td', null, d[n] || '－'));
      if (on.includes('install_restriction')) tr.append(el('td', null, t(`reg.mode.${(d.restriction && d.restriction.mode) || 'none'}`)));
      return tr;
    });
    card.appendChild(h);
    card.appendChild(table(heads, rows, 'user-devices'));
    return card;
  }

  function certificatesSection() {
    const card = el('section', 'card');
    const h2 = el('h2', 'card-title', t('user.certificates'));
    h2.setAttribute('data-i18n', 'user.certificates');
    const rows = (user.certificates || []).map((c) => {
      const tr = el('tr');
      tr.dataset.id = String(c.id);
      tr.dataset.status = c.status || '';
      const badge = el('span', 'status-badge', c.status_label || t(`status.${c.status}`));
      badge.dataset.status = c.status || '';
      const st = el('td');
      st.appendChild(badge);
      tr.append(
        el('td', null, c.cn || ''),
        el('td', null, c.device_label || ''),
        el('td', null, c.email || ''),
        st,
        el('td', 'col-date', c.issued_at || ''),
        el('td', 'col-date', c.expires_at || ''),
        el('td', 'col-date', c.revoked_at || ''),
        downloads(c),
      );
      return tr;
    });
    card.append(h2);
    if (rows.length === 0) card.append(el('p', 'table-empty', t('users.no_certificates')));
    else {
      card.append(
        table(
          ['reg.col.cn', 'users.col.device', 'reg.col.email', 'users.col.status', 'users.col.issued', 'certs.expires_at', 'certs.revoked_at', 'user.col.download'],
          rows,
          'user-certs',
        ),
      );
    }
    return card;
  }

  function render() {
    if (!user) return;
    const card = el('section', 'card');
    const h = el('div', 'section-head');
    const h2 = el('h2', 'card-title', t('reg.section_user'));
    h2.setAttribute('data-i18n', 'reg.section_user');
    h.appendChild(h2);
    if (!user.deleted_at) {
      const edit = button('btn-primary', 'user.edit');
      edit.id = 'user-edit';
      edit.addEventListener('click', () => openEdit(edit));
      h.appendChild(edit);
    }
    const dl = el('dl', 'facts facts-table');
    dl.id = 'user-facts';
    const company = tenant ? (getLang() === 'en' && tenant.name_en ? tenant.name_en : tenant.name) : '';
    fact(dl, 'reg.company', company);
    fact(dl, 'reg.organization', user.organization);
    fact(dl, 'reg.name', fullName(user));
    fact(dl, 'user.kana', `${user.family_name_kana || ''} ${user.given_name_kana || ''}`.trim());
    fact(dl, 'user.name_en', `${user.family_name_en || ''} ${user.given_name_en || ''}`.trim());
    fact(dl, 'reg.email', user.email);
    fact(dl, 'reg.lang', t(`reg.lang.${user.lang === 'en' ? 'en' : 'ja'}`));
    fact(dl, 'users.col.applied', user.applied_at);
    card.append(h);
    if (user.deleted_at) {
      const n = el('p', 'notice notice-info', t('user.deleted', { at: user.deleted_at }));
      n.id = 'user-deleted';
      card.append(n);
    }
    card.append(dl);
    content.replaceChildren(card, devicesSection(), certificatesSection());
    title.textContent = `${t('user.title')}: ${fullName(user)}`;
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    const busy = user && (user.certificates || []).some((c) => c.status === 'issuing');
    if (busy && !destroyed) timer = setTimeout(() => load({ quiet: true }), REFRESH_MS);
  }

  async function load({ quiet = false } = {}) {
    if (!/^[1-9][0-9]{0,17}$/.test(id)) {
      content.replaceChildren();
      showKey(errorBox, 'user.not_found');
      return;
    }
    if (!quiet) content.replaceChildren(el('p', 'table-loading', t('common.loading')));
    try {
      const [u, tn] = await Promise.all([api('GET', `/api/users/${id}`), tenant ? tenant : api('GET', '/api/tenant')]);
      if (destroyed) return;
      user = u;
      tenant = tn;
      if (!quiet) hide(errorBox);
      render();
      schedule();
    } catch (err) {
      if (destroyed || err.status === 401) return;
      if (!quiet) content.replaceChildren();
      showLines(errorBox, [err.status === 404 ? t('user.not_found') : err.displayMessage()]);
    }
  }

  // ------------------------------------------------------------ 利用者変更

  const edit = dialogShell('user-edit-dialog', 'user.edit_title');
  const editInputs = {};
  const editGrid = el('div', 'form-grid');
  for (const name of NAMES) {
    const f = field(`ue-${name.replaceAll('_', '-')}`, `reg.${name}`, 50);
    editInputs[name] = f;
    editGrid.appendChild(f.wrap);
  }
  editInputs.email = field('ue-email', 'reg.email', 128);
  editInputs.email.input.inputMode = 'email';
  // the language of the user's notices (a select, not a text field)
  const { wrap: langWrap, select: langSelect } = selectField('ue-lang', 'reg.lang');
  for (const code of ['ja', 'en']) {
    const o = el('option', null, t(`reg.lang.${code}`));
    o.value = code;
    o.setAttribute('data-i18n', `reg.lang.${code}`);
    langSelect.appendChild(o);
  }
  const editNote = el('p', 'hint', t('user.edit_note'));
  editNote.setAttribute('data-i18n', 'user.edit_note');
  const review = el('dl', 'facts facts-table');
  review.id = 'ue-review';
  review.hidden = true;
  edit.body.insertBefore(editNote, edit.error);
  edit.body.append(editGrid, editInputs.email.wrap, langWrap, review);
  const editCancel = button('btn-ghost', 'reg.cancel');
  const editBack = button('', 'reg.back');
  editBack.hidden = true;
  const editConfirm = button('btn-primary', 'reg.confirm', 'submit');
  const editSubmit = button('btn-primary', 'reg.submit');
  editSubmit.id = 'ue-submit';
  editSubmit.hidden = true;
  edit.actions.append(editCancel, el('span', 'dialog-actions-spacer'), editBack, editConfirm, editSubmit);
  root.appendChild(edit.dialog);
  let editOpener = null;
  let changes = null;

  function editStep(confirming) {
    editGrid.hidden = confirming;
    editInputs.email.wrap.hidden = confirming;
    langWrap.hidden = confirming;
    editNote.hidden = confirming;
    review.hidden = !confirming;
    editBack.hidden = !confirming;
    editSubmit.hidden = !confirming;
    editConfirm.hidden = confirming;
  }

  function clearEditErrors() {
    hide(edit.error);
    for (const f of Object.values(editInputs)) {
      hide(f.error);
      f.input.removeAttribute('aria-invalid');
    }
  }

  function editProblem(name, key, text) {
    const f = editInputs[name];
    if (key) showKey(f.error, key);
    else showLines(f.error, [text]);
    f.input.setAttribute('aria-invalid', 'true');
  }

  function openEdit(opener) {
    editOpener = opener;
    for (const name of EDITABLE) editInputs[name].input.value = user[name] || '';
    langSelect.value = user.lang === 'en' ? 'en' : 'ja';
    clearEditErrors();
    editStep(false);
    edit.dialog.showModal();
    editInputs.family_name.input.focus();
  }

  edit.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearEditErrors();
    let ok = true;
    const v = (n) => editInputs[n].input.value.trim();
    for (const name of NAMES) {
      const p = nameProblem(name, v(name));
      if (p) {
        editProblem(name, p);
        ok = false;
      }
    }
    if (ok && cnTooLong(v('family_name_en'), v('given_name_en'))) {
      editProblem('given_name_en', 'reg.err.cn_long');
      ok = false;
    }
    const ep = v('email') ? emailProblem(v('email')) : 'reg.err.required.email';
    if (ep) {
      editProblem('email', ep);
      ok = false;
    }
    if (!ok) {
      showKey(edit.error, 'reg.err.summary');
      const first = edit.form.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    changes = {};
    for (const name of EDITABLE) if (v(name) !== (user[name] || '')) changes[name] = v(name);
    const oldLang = user.lang === 'en' ? 'en' : 'ja';
    if (langSelect.value !== oldLang) changes.lang = langSelect.value;
    review.replaceChildren();
    const names = Object.keys(changes);
    if (names.length === 0) {
      showKey(edit.error, 'user.no_change');
      return;
    }
    for (const name of names) {
      if (name === 'lang') fact(review, 'reg.lang', `${t(`reg.lang.${oldLang}`)} → ${t(`reg.lang.${changes.lang}`)}`);
      else fact(review, `reg.${name}`, `${user[name] || ''} → ${changes[name]}`);
    }
    if (changes.family_name_en || changes.given_name_en || changes.email) {
      const n = el('p', 'hint', t('user.cert_unchanged'));
      review.appendChild(n);
    }
    editStep(true);
    editSubmit.focus();
  });

  editBack.addEventListener('click', () => {
    editStep(false);
    editInputs.family_name.input.focus();
  });
  editCancel.addEventListener('click', () => edit.dialog.close());
  edit.dialog.addEventListener('close', () => {
    if (editOpener && editOpener.isConnected) editOpener.focus();
    else if (document.getElementById('user-edit')) document.getElementById('user-edit').focus();
  });

  editSubmit.addEventListener('click', async () => {
    editSubmit.disabled = true;
    hide(edit.error);
    try {
      user = await api('PATCH', `/api/users/${id}`, changes);
      edit.dialog.close();
      say('user.saved', { name: fullName(user) });
      render();
    } catch (err) {
      if (err.status === 401) {
        edit.dialog.close();
        return;
      }
      const general = [];
      for (const f of err.fields) {
        if (editInputs[f.field]) editProblem(f.field, null, f.message);
        else general.push(f.message);
      }
      editStep(false);
      showLines(edit.error, [err.displayMessage(), ...general]);
      edit.error.focus();
    } finally {
      editSubmit.disabled = false;
    }
  });

  // ------------------------------------------------------------ 利用デバイスの追加

  const add = dialogShell('user-add-dialog', 'user.add_title');
  const addLead = el('p', 'hint');
  add.body.insertBefore(addLead, add.error);
  const { wrap: codeWrap, select: codeSelect } = selectField('ua-device', 'users.col.device');
  const addInputs = {
    email: field('ua-email', 'reg.sub_email', 128),
    valid_from: field('ua-valid-from', 'reg.valid_from', 16),
    valid_to: field('ua-valid-to', 'reg.valid_to', 16),
    o: field('ua-o', 'reg.o', 64),
    ou1: field('ua-ou1', 'reg.ou1', 64),
    ou2: field('ua-ou2', 'reg.ou2', 64),
  };
  addInputs.valid_from.input.setAttribute('placeholder', 'yyyy/mm/dd hh:mm');
  addInputs.valid_to.input.setAttribute('placeholder', 'yyyy/mm/dd hh:mm');
  add.body.append(codeWrap, ...Object.values(addInputs).map((f) => f.wrap));
  const addCancel = button('btn-ghost', 'reg.cancel');
  const addSubmit = button('btn-primary', 'user.add_submit', 'submit');
  addSubmit.id = 'ua-submit';
  add.actions.append(addCancel, el('span', 'dialog-actions-spacer'), addSubmit);
  root.appendChild(add.dialog);
  let addOpener = null;

  function openAdd(opener) {
    addOpener = opener;
    const on = features();
    const free = DEVICES.filter((code) => !(user.devices || []).some((d) => d.device === code));
    codeSelect.replaceChildren(
      ...free.map((code) => {
        const o = el('option', null, t(`device.${code}`));
        o.value = code;
        return o;
      }),
    );
    for (const f of Object.values(addInputs)) {
      f.input.value = '';
      hide(f.error);
      f.input.removeAttribute('aria-invalid');
    }
    addInputs.valid_from.wrap.hidden = addInputs.valid_to.wrap.hidden = !on.includes('validity_period');
    for (const n of ['o', 'ou1', 'ou2']) addInputs[n].wrap.hidden = !on.includes('org_units');
    showKey(addLead, 'user.add_lead', { available: tenant && Number.isFinite(tenant.available) ? tenant.available : '－' });
    hide(add.error);
    add.dialog.showModal();
    codeSelect.focus();
  }

  function addProblem(name, key, p, text) {
    const f = addInputs[name];
    if (!f) return false;
    if (key) showKey(f.error, key, p);
    else showLines(f.error, [text]);
    f.input.setAttribute('aria-invalid', 'true');
    return true;
  }

  add.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    hide(add.error);
    for (const f of Object.values(addInputs)) {
      hide(f.error);
      f.input.removeAttribute('aria-invalid');
    }
    const on = features();
    const v = (n) => addInputs[n].input.value.trim();
    const d = { device: codeSelect.value };
    let ok = true;
    if (v('email')) {
      const p = emailProblem(v('email'));
      if (p) ok = !addProblem('email', p);
      d.email = v('email');
    }
    if (on.includes('validity_period')) {
      const from = v('valid_from');
      const to = v('valid_to');
      const fk = from ? dateTimeKey(from) : '';
      const tk = to ? dateTimeKey(to) : '';
      if (fk === null) ok = !addProblem('valid_from', 'reg.err.datetime');
      if (tk === null) ok = !addProblem('valid_to', 'reg.err.datetime');
      if (fk !== null && tk !== null) {
        const p = periodProblem(from, to, tenant);
        if (p) ok = !addProblem(p.field, p.key, p.params);
      }
      if (from) d.valid_from = from;
      if (to) d.valid_to = to;
    }
    if (on.includes('org_units')) for (const n of ['o', 'ou1', 'ou2']) if (v(n)) d[n] = v(n);
    if (tenant && Number.isFinite(tenant.available) && tenant.available < 1) {
      showKey(add.error, 'reg.err.quota', { n: tenant.available });
      ok = false;
    }
    if (!ok) {
      if (add.error.hidden) showKey(add.error, 'reg.err.summary');
      add.error.focus();
      return;
    }
    addSubmit.disabled = true;
    try {
      user = await api('POST', `/api/users/${id}/devices`, { devices: [d] });
      add.dialog.close();
      say('user.device_added', { device: t(`device.${d.device}`) });
      tenant = await api('GET', '/api/tenant');
      render();
      schedule();
    } catch (err) {
      if (err.status === 401) {
        add.dialog.close();
        return;
      }
      const general = [];
      for (const f of err.fields) {
        const m = /^devices\[0\]\.(.+)$/.exec(f.field);
        if (!(m && addProblem(m[1], null, null, f.message))) general.push(f.message);
      }
      showLines(add.error, [err.displayMessage(), ...general]);
      add.error.focus();
    } finally {
      addSubmit.disabled = false;
    }
  });
  addCancel.addEventListener('click', () => add.dialog.close());
  add.dialog.addEventListener('close', () => {
    if (addOpener && addOpener.isConnected) addOpener.focus();
  });

  applyI18n(root);
  load();

  return {
    update(newParams) {
      id = newParams.get('id') || '';
      user = null;
      said = null;
      hide(message);
      load();
    },
    onLang() {
      applyI18n(root);
      if (said) showKey(message, said.key, said.params);
      load({ quiet: true });
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      if (edit.dialog.open) edit.dialog.close();
      if (add.dialog.open) add.dialog.close();
    },
  };
}
