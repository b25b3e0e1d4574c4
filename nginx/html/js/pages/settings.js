// shomei portal — 設定 (利用法人 詳細設定, NRA 4-3-1): mail to users, the download site's IP
// allow-list, 証明書ダウンロード画面の表示 (URL and QR code) and the user list CSV.
// Its texts live here (TEXTS) so the page is one file; the server checks everything again and
// its 422 messages are shown beside the entries they name (download_allowlist[i]).

import { api, download } from '../api.js';
import { el, hide, showLines } from '../dom.js';
import { getLang } from '../i18n.js';

const TEXTS = {
  ja: {
    title: '設定',
    lead: '利用法人の詳細設定です。ダウンロードサイトから証明書を配付する場合は、利用者へのメール通知を「通知しない」にし、アクセスを許可する IP アドレスを設定してください。',
    notify_title: '利用者へ',
    notify_on: 'メールで通知する',
    notify_off: 'メールで通知しない',
    notify_unavailable: 'この利用法人はメール通知のサービスを利用していません。',
    admin_notice_title: '管理者への通知先',
    admin_notice_lead: '利用者登録受付通知、電子証明書失効通知、利用者一括登録受付通知（エラー通知）、利用者 1次削除通知、利用者マスター削除通知、有効期限のお知らせなどを送るメールアドレスです。空欄にすると送りません。送信したメールは「送信メール」で確認できます。',
    admin_notice_address: '通知先メールアドレス',
    admin_notice_lang: '通知の言語',
    lang_ja: '日本語',
    lang_en: '英語（English）',
    allow_title: 'ダウンロードサイトの許可 IP アドレス',
    allow_lead: 'IP アドレス（192.168.1.10、2001:db8::1）またはネットワークアドレス（192.168.1.0/24、2001:db8::/32）を100件まで設定できます。',
    allow_empty: '許可 IP アドレスはありません。すべてのアクセスを拒否します（デフォルト）。',
    allow_add_label: '追加する許可 IP アドレス',
    allow_add: '追加',
    allow_remove: '削除',
    allow_n: '許可 IP アドレス{n}',
    allow_any: '「{v}」はすべての IP アドレスからのアクセスを許可します。推奨しません。',
    err_format: 'IP アドレスまたはネットワークアドレス（例: 192.168.1.0/24）の形式で入力してください。',
    err_prefix: 'プレフィックス長は IPv4 では 0〜32、IPv6 では 0〜128 で指定してください。',
    err_hostbits: '「{v}」はホスト部が 0 ではありません。このネットワークのアドレスは {net} です。',
    lead_basic: '利用法人の詳細設定です。',
    err_twice: 'この IP アドレスはすでに追加されています。',
    err_count: '許可 IP アドレスは100件以内で指定してください。',
    save: '設定を保存',
    saving: '保存しています…',
    saved: '設定を保存しました。',
    unsaved: '変更は「設定を保存」を押すまで反映されません。',
    site_title: '証明書ダウンロード画面の表示',
    site_lead: '利用者にこの URL を通知してください。モバイルデバイスでは QR コードを読み取ってサイトを表示できます。ID は証明書メールアドレス、パスワードは証明書ダウンロード用パスワード（証明書のインストール時のパスワードと同じ）です。',
    site_url: 'ダウンロードサイト URL',
    site_qr: 'ダウンロードサイトの QR コード',
    site_disabled: 'この利用法人はダウンロードサイトのサービスを利用していません。',
    renew_title: '証明書更新の受付期間',
    renew_lead: '利用者は、有効期限が近い（または切れて間もない）証明書をダウンロードサイトの証明書更新ページで提示して、同じデバイスの新しい証明書を受け取れます。受け付ける期間を日数で指定します（0〜3650）。',
    renew_before: '有効期限の何日前から',
    renew_after: '有効期限の何日後まで',
    csv_title: '利用者リストダウンロード',
    csv_lead: '証明書ごとに、証明書メールアドレス（ダウンロード用 ID）と証明書ダウンロード用パスワードを含む利用者リストを CSV でダウンロードします。',
    csv_warning: '利用者リストの CSV ファイルには、ID/パスワード以外にもクライアント証明書の重要な情報がリストされていますので取り扱いに注意してください。',
    csv_button: '利用者リストをダウンロード',
    loading: '読み込み中…',
  },
  en: {
    title: 'Settings',
    lead: "Your organization's settings. To hand out certificates from the download site, turn mail to users off and set the IP addresses allowed to reach it.",
    notify_title: 'Mail to users',
    notify_on: 'Notify users by mail',
    notify_off: 'Do not notify users by mail',
    notify_unavailable: 'This tenant does not have the mail notification service.',
    admin_notice_title: "Administrators' notice address",
    admin_notice_lead: 'Where registration, revocation, bulk registration (and its errors), deletion and expiry notices to the administrators go. Leave it empty to send none. The mail sent is listed under "Sent mail".',
    admin_notice_address: 'Notice e-mail address',
    admin_notice_lang: 'Language of the notices',
    lang_ja: 'Japanese (日本語)',
    lang_en: 'English',
    allow_title: "Download site's allowed IP addresses",
    allow_lead: 'Up to 100 IP addresses (192.168.1.10, 2001:db8::1) or networks (192.168.1.0/24, 2001:db8::/32).',
    allow_empty: 'No allowed address: every access is refused (the default).',
    allow_add_label: 'Allowed IP address to add',
    allow_add: 'Add',
    allow_remove: 'Remove',
    allow_n: 'Allowed IP address {n}',
    allow_any: '"{v}" allows access from every IP address. This is not recommended.',
    err_format: 'Enter an IP address or a network (e.g. 192.168.1.0/24).',
    err_prefix: 'The prefix length must be 0-32 for IPv4 and 0-128 for IPv6.',
    err_hostbits: '"{v}" has host bits set. The address of this network is {net}.',
    lead_basic: "Your organization's settings.",
    err_twice: 'This address is already in the list.',
    err_count: 'Give at most 100 allowed addresses.',
    save: 'Save settings',
    saving: 'Saving…',
    saved: 'The settings were saved.',
    unsaved: 'Changes take effect when you press "Save settings".',
    site_title: 'Certificate download site',
    site_lead: 'Give your users this URL; on a mobile device they can scan the QR code. The ID is the certificate e-mail address, the password the download password (the same as the certificate\'s install password).',
    site_url: 'Download site URL',
    site_qr: "QR code of the download site",
    site_disabled: 'This tenant does not have the download site service.',
    renew_title: 'Renewal window',
    renew_lead: 'A user may present a certificate close to its expiry (or just expired) on the download site\'s renewal page and get a new one for the same device. Set the window in days (0-3650).',
    renew_before: 'Days before expiry',
    renew_after: 'Days after expiry',
    csv_title: 'User list download',
    csv_lead: 'Download the user list as CSV: a row per certificate with its e-mail address (the download ID) and download password.',
    csv_warning: 'Besides the IDs and passwords, the user list CSV holds important information about the client certificates. Handle it with care.',
    csv_button: 'Download the user list',
    loading: 'Loading…',
  },
};

const MAX_ENTRIES = 100;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function tx(key, params) {
  let s = (TEXTS[getLang()] || TEXTS.ja)[key] || TEXTS.ja[key] || key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, n) => (n in params ? String(params[n]) : m));
  return s;
}

function isIPv6(s) {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** An IPv4 address as its 4 bytes. */
function v4Bytes(addr) {
  return addr.split('.').map(Number);
}

/** An IPv6 address (already checked) as its 16 bytes; an embedded IPv4 tail is read too. */
function v6Bytes(addr) {
  let s = addr.toLowerCase();
  let tail = [];
  const dot = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail = v4Bytes(s.slice(dot + 1));
    s = `${s.slice(0, dot + 1)}0:0`;
  }
  const [head, rest] = s.split('::');
  const groups = (x) => (x ? x.split(':') : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const bytes = [];
  for (const g of all) {
    const n = Number.parseInt(g || '0', 16);
    bytes.push(n >> 8, n & 255);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The bytes back as text: dotted IPv4, or IPv6 with the longest run of zero groups as "::". */
function bytesText(bytes) {
  if (bytes.length === 4) return bytes.join('.');
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > len && j - i > 1) {
      best = i;
      len = j - i;
    }
    i = j > i ? j : i + 1;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + len).join(':')}`;
}

/** The network address of addr/prefix (host bits cleared), as text. */
function networkOf(bytes, prefix) {
  const out = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return bytesText(out);
}

/**
 * What is wrong with one entry, or null: { key, params } for the message (syntax, prefix
 * length, host bits set: then which network was meant). The server checks the same at save.
 */
export function entryProblem(v) {
  const [addr, prefix, extra] = v.split('/');
  if (extra !== undefined || !addr) return { key: 'err_format' };
  const v4 = IPV4.test(addr);
  const v6 = !v4 && isIPv6(addr);
  if (!v4 && !v6) return { key: 'err_format' };
  if (prefix === undefined) return null;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix)) return { key: 'err_format' };
  const bits = Number(prefix);
  if (bits > (v4 ? 32 : 128)) return { key: 'err_prefix' };
  const bytes = v4 ? v4Bytes(addr) : v6Bytes(addr);
  const net = networkOf(bytes, bits);
  if (net !== bytesText(bytes)) return { key: 'err_hostbits', params: { v, net: `${net}/${bits}` } };
  return null;
}

const EVERYONE = new Set(['0.0.0.0/0', '::/0', '::ffff:0.0.0.0/96', '::ffff:0:0/96']);

/** True for an entry that lets every address in (allowed, but not recommended). */
function isAny(v) {
  return EVERYONE.has(v.trim().toLowerCase());
}

export function settingsPage(view, params, ctx) {
  const state = { list: [], notify: false, features: [], errors: {}, site: null, busy: false, noticeAddress: '', noticeLang: 'ja', noticeError: null, renewBefore: 30, renewAfter: 30, renewErrors: {} };
  const root = el('section', 'page page-settings');
  view.appendChild(root);

  function text(tag, cls, key, p) {
    const n = el(tag, cls, tx(key, p));
    return n;
  }

  function notifySection() {
    const card = el('section', 'card');
    card.append(text('h2', 'card-title', 'notify_title'));
    const canNotify = state.features.includes('notify_users');
    const group = el('div', 'check-group');
    group.setAttribute('role', 'radiogroup');
    for (const [value, key] of [[true, 'notify_on'], [false, 'notify_off']]) {
      const label = el('label', 'check-option');
      const input = el('input');
      input.type = 'radio';
      input.name = 'notify_users';
      input.id = `notify-${value ? 'on' : 'off'}`;
      input.checked = state.notify === value;
      input.disabled = value && !canNotify && !state.notify;
      input.addEventListener('change', () => {
        state.notify = value;
        markDirty();
      });
      label.append(input, document.createTextNode(' ' + tx(key)));
      group.append(label);
    }
    card.append(group);
    if (!canNotify) card.append(text('p', 'hint', 'notify_unavailable'));
    return card;
  }

  function adminNoticeSection() {
    const card = el('section', 'card');
    card.id = 'admin-notice';
    card.append(text('h2', 'card-title', 'admin_notice_title'), text('p', 'hint', 'admin_notice_lead'));
    const addrLabel = text('label', 'field-label', 'admin_notice_address');
    addrLabel.htmlFor = 'notice-address';
    const addr = el('input');
    addr.type = 'email';
    addr.id = 'notice-address';
    addr.maxLength = 128;
    addr.autocomplete = 'email';
    addr.value = state.noticeAddress;
    addr.addEventListener('input', () => {
      state.noticeAddress = addr.value.trim();
      markDirty();
    });
    const langLabel = text('label', 'field-label', 'admin_notice_lang');
    langLabel.htmlFor = 'notice-lang';
    const lang = el('select');
    lang.id = 'notice-lang';
    for (const v of ['ja', 'en']) {
      const o = el('option', null, tx(`lang_${v}`));
      o.value = v;
      lang.append(o);
    }
    lang.value = state.noticeLang;
    lang.addEventListener('change', () => {
      state.noticeLang = lang.value;
      markDirty();
    });
    card.append(addrLabel, addr);
    if (state.noticeError) {
      const p = el('p', 'field-error', state.noticeError);
      p.id = 'notice-address-error';
      addr.setAttribute('aria-describedby', p.id);
      addr.setAttribute('aria-invalid', 'true');
      card.append(p);
    }
    card.append(langLabel, lang);
    return card;
  }

  /** 証明書更新の受付期間: two day counts, checked by the server (0-3650). */
  function renewSection() {
    const card = el('section', 'card');
    card.id = 'renew-window';
    card.append(text('h2', 'card-title', 'renew_title'), text('p', 'hint', 'renew_lead'));
    for (const [key, field, id] of [
      ['renewBefore', 'renew_before_days', 'renew-before'],
      ['renewAfter', 'renew_after_days', 'renew-after'],
    ]) {
      const label = text('label', 'field-label', id === 'renew-before' ? 'renew_before' : 'renew_after');
      label.htmlFor = id;
      const input = el('input');
      input.type = 'number';
      input.id = id;
      input.min = '0';
      input.max = '3650';
      input.step = '1';
      input.value = String(state[key]);
      input.addEventListener('input', () => {
        state[key] = input.value.trim() === '' ? input.value : Number(input.value);
        markDirty();
      });
      card.append(label, input);
      if (state.renewErrors[field]) {
        const p = el('p', 'field-error', state.renewErrors[field]);
        p.id = `${id}-error`;
        input.setAttribute('aria-describedby', p.id);
        input.setAttribute('aria-invalid', 'true');
        card.append(p);
      }
    }
    return card;
  }

  function listRows() {
    const wrap = el('div', 'table-wrap');
    if (state.list.length === 0) {
      wrap.append(text('p', 'note', 'allow_empty'));
      wrap.id = 'allow-list';
      return wrap;
    }
    const table = el('table', 'data-table compact-table');
    table.id = 'allow-list';
    const body = el('tbody');
    state.list.forEach((v, i) => {
      const tr = el('tr');
      tr.dataset.index = String(i);
      const th = el('th', null, tx('allow_n', { n: i + 1 }));
      th.scope = 'row';
      const td = el('td', 'allow-value', v);
      const err = state.errors[i];
      if (err) {
        const p = el('p', 'field-error', err);
        p.id = `allow-error-${i}`;
        td.append(p);
      }
      const act = el('td');
      const rm = el('button', 'btn btn-small btn-secondary', tx('allow_remove'));
      rm.type = 'button';
      rm.setAttribute('aria-label', `${tx('allow_remove')} ${v}`);
      rm.addEventListener('click', () => {
        state.list.splice(i, 1);
        state.errors = {};
        markDirty();
        render();
      });
      act.append(rm);
      tr.append(th, td, act);
      body.append(tr);
    });
    table.append(body);
    wrap.append(table);
    return wrap;
  }

  function allowSection() {
    const card = el('section', 'card');
    card.append(text('h2', 'card-title', 'allow_title'), text('p', 'hint', 'allow_lead'));
    const form = el('form', 'form');
    form.noValidate = true;
    const field = el('div', 'field');
    const label = text('label', null, 'allow_add_label');
    label.htmlFor = 'allow-add';
    const input = el('input');
    input.id = 'allow-add';
    input.type = 'text';
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.placeholder = '192.168.1.0/24';
    input.maxLength = 64;
    const err = el('p', 'field-error');
    err.id = 'allow-add-error';
    err.hidden = true;
    input.setAttribute('aria-describedby', 'allow-add-error');
    const add = el('button', 'btn btn-secondary', tx('allow_add'));
    add.type = 'submit';
    add.id = 'allow-add-button';
    field.append(label, input, err);
    form.append(field, add);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      let problem = entryProblem(v);
      if (!problem && state.list.some((x) => x.toLowerCase() === v.toLowerCase())) problem = { key: 'err_twice' };
      if (!problem && state.list.length >= MAX_ENTRIES) problem = { key: 'err_count' };
      if (problem) {
        showLines(err, [tx(problem.key, problem.params)]);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      state.list.push(v);
      markDirty();
      render();
      document.getElementById('allow-add').focus();
    });
    card.append(form, listRows());
    const any = state.list.filter(isAny);
    if (any.length) {
      const warn = el('div', 'notice notice-error');
      warn.id = 'allow-warning';
      warn.setAttribute('role', 'alert');
      warn.textContent = any.map((v) => tx('allow_any', { v })).join(' ');
      card.append(warn);
    }
    return card;
  }

  function siteSection() {
    const card = el('section', 'card');
    card.id = 'site-card';
    card.append(text('h2', 'card-title', 'site_title'));
    const s = state.site;
    if (!s) {
      card.append(text('p', 'hint', 'loading'));
      return card;
    }
    if (!s.enabled) card.append(text('p', 'notice notice-info', 'site_disabled'));
    card.append(text('p', 'hint', 'site_lead'));
    const dl = el('dl', 'facts');
    const a = el('a', null, s.url);
    a.href = s.url;
    a.id = 'site-url';
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    const dd = el('dd');
    dd.append(a);
    dl.append(text('dt', null, 'site_url'), dd);
    card.append(dl);
    // the server's SVG goes in as an image, never as markup
    const img = el('img');
    img.id = 'site-qr';
    img.alt = tx('site_qr');
    img.width = 200;
    img.height = 200;
    img.src = `data:image/svg+xml;base64,${btoa(s.qr_svg)}`;
    card.append(img);
    return card;
  }

  function csvSection() {
    const card = el('section', 'card');
    card.append(text('h2', 'card-title', 'csv_title'), text('p', 'hint', 'csv_lead'));
    const warn = text('p', 'notice notice-error', 'csv_warning');
    warn.id = 'csv-warning';
    // fetched, not a plain link: an expired session leads to the login page, and any other
    // refusal is said here instead of a silently cancelled download
    const a = el('button', 'btn btn-secondary', tx('csv_button'));
    a.type = 'button';
    a.id = 'csv-download';
    const fail = el('div', 'notice notice-error');
    fail.id = 'csv-error';
    fail.setAttribute('role', 'alert');
    fail.hidden = true;
    a.addEventListener('click', async () => {
      a.disabled = true;
      hide(fail);
      try {
        await download('/api/users/export.csv', 'users.csv');
      } catch (e) {
        if (e.status !== 401) showLines(fail, [e.displayMessage()]);
      } finally {
        a.disabled = false;
      }
    });
    card.append(warn, a, fail);
    return card;
  }

  let dirty = false;
  function markDirty() {
    dirty = true;
    const n = document.getElementById('settings-dirty');
    if (n) n.hidden = false;
    const ok = document.getElementById('settings-success');
    if (ok) hide(ok);
  }

  function render() {
    const focusId = document.activeElement && document.activeElement.id;
    const head = el('div', 'page-head');
    head.append(text('h1', 'page-title', 'title'));
    const success = el('div', 'notice notice-success');
    success.id = 'settings-success';
    success.setAttribute('role', 'status');
    success.hidden = !state.saved;
    if (state.saved) success.textContent = [tx('saved'), ...(state.warnings || [])].join(' ');
    const error = el('div', 'notice notice-error');
    error.id = 'settings-error';
    error.setAttribute('role', 'alert');
    error.hidden = !state.errorLines;
    if (state.errorLines) showLines(error, state.errorLines);
    const actions = el('div', 'form-actions');
    const save = el('button', 'btn btn-primary', tx(state.busy ? 'saving' : 'save'));
    save.type = 'button';
    save.id = 'settings-save';
    save.disabled = state.busy;
    save.addEventListener('click', saveSettings);
    const dirtyNote = text('p', 'hint', 'unsaved');
    dirtyNote.id = 'settings-dirty';
    dirtyNote.hidden = !dirty;
    actions.append(save, dirtyNote);
    // the download site's URL and allow-list only for a tenant with that service
    const site = state.features.includes('download_site');
    root.replaceChildren(head, text('p', 'lead', site ? 'lead' : 'lead_basic'), success, error, notifySection(), adminNoticeSection(),
      ...(site ? [allowSection(), renewSection()] : []), actions, ...(site ? [siteSection()] : []), csvSection());
    if (focusId && document.getElementById(focusId)) document.getElementById(focusId).focus();
  }

  async function saveSettings() {
    state.busy = true;
    state.saved = false;
    state.errorLines = null;
    state.errors = {};
    state.noticeError = null;
    state.renewErrors = {};
    render();
    try {
      const body = {
        notify_users: state.notify,
        notice_address: state.noticeAddress,
        notice_lang: state.noticeLang,
      };
      if (state.features.includes('download_site')) {
        body.download_allowlist = state.list;
        body.renew_before_days = state.renewBefore;
        body.renew_after_days = state.renewAfter;
      }
      const doc = await api('PUT', '/api/tenant/settings', body);
      state.noticeAddress = doc.notice_address || '';
      state.noticeLang = doc.notice_lang || 'ja';
      state.list = doc.download_allowlist || [];
      state.renewBefore = doc.renew_before_days;
      state.renewAfter = doc.renew_after_days;
      state.notify = !!doc.notify_users;
      state.warnings = (doc.warnings || []).map((w) => w.message);
      state.saved = true;
      dirty = false;
    } catch (err) {
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      const general = [];
      for (const f of err.fields) {
        const m = /^download_allowlist\[(\d+)\]$/.exec(f.field);
        if (m) state.errors[Number(m[1])] = f.message;
        else if (f.field === 'notice_address') state.noticeError = f.message;
        else if (f.field === 'renew_before_days' || f.field === 'renew_after_days') state.renewErrors[f.field] = f.message;
        else general.push(f.message);
      }
      state.errorLines = [err.displayMessage(), ...general];
    } finally {
      state.busy = false;
      render();
    }
  }

  async function load() {
    root.replaceChildren(text('p', 'hint', 'loading'));
    try {
      const tenant = await api('GET', '/api/tenant');
      state.list = tenant.download_allowlist || [];
      state.notify = !!tenant.notify_users;
      state.noticeAddress = tenant.notice_address || '';
      state.noticeLang = tenant.notice_lang || 'ja';
      state.renewBefore = tenant.renew_before_days;
      state.renewAfter = tenant.renew_after_days;
      state.features = tenant.features || [];
      state.site = state.features.includes('download_site') ? await api('GET', '/api/downloads/site') : null;
    } catch (err) {
      if (err.status === 401) {
        ctx.sessionLost();
        return;
      }
      state.errorLines = [err.displayMessage()];
    }
    render();
  }

  load();
  return {
    onLang: render,
  };
}
