// shomei portal — texts in Japanese (first) and English, and the language switch.
//
// Markup names its texts with attributes, and applyI18n() fills them in:
//   data-i18n="key"              textContent
//   data-i18n-placeholder="key"  placeholder
//   data-i18n-aria-label="key"   aria-label
//   data-i18n-title="key"        title
// The chosen language lives in localStorage ("shomei.lang"); Japanese is the default.

const STORAGE_KEY = 'shomei.lang';
export const LANGS = ['ja', 'en'];

const ja = {
  'app.name': 'shomei',
  'app.title': 'クライアント証明書発行サイト',
  'app.footer': 'shomei プライベート認証局',
  'lang.label': '表示言語',

  // login.html
  'login.doc_title': 'ログイン | クライアント証明書発行サイト',
  'login.heading': '管理者ログイン',
  'login.lead': 'あらかじめ通知されたログインIDとパスワードを入力してください。',
  'login.login_id': 'ログインID',
  'login.password': 'パスワード',
  'login.remember': 'この情報をブラウザに保存する',
  'login.remember_hint': '保存されるのはログインIDのみです。パスワードは保存されません。',
  'login.submit': 'ログイン',
  'login.submitting': 'ログインしています…',
  'login.or': 'または',
  'login.certificate': '証明書でログイン',
  'login.certificate_hint':
    '管理者用証明書をインストールしたブラウザでは、ログインIDとパスワードを入力せずにログインできます。',
  'login.err.required_login_id': 'ログインIDを入力してください。',
  'login.err.required_password': 'パスワードを入力してください。',
  'login.err.invalid': 'ログインIDまたはパスワードが正しくありません。',
  'login.err.locked':
    'ログインに続けて失敗したため、現在このアカウントではログインできません。しばらく時間をおいてから、もう一度お試しください。',
  'login.err.locked_retry': '約{minutes}分後に、もう一度お試しください。',
  'login.err.validation': '入力内容に誤りがあります。',
  'login.err.certificate':
    '証明書でログインできませんでした。管理者用証明書がブラウザにインストールされ、選択されていることを確認してください。',
  'login.err.certificate_hint': '管理者用証明書がブラウザにインストールされ、選択されていることを確認してください。',
  'login.msg.logged_out': 'ログアウトしました。',
  'login.msg.expired': 'セッションの有効期限が切れました。もう一度ログインしてください。',

  // common
  'common.loading': '読み込み中…',
  'common.err.network': 'サーバーに接続できませんでした。しばらくしてから、もう一度お試しください。',
  'common.err.timeout': 'サーバーからの応答がありません。しばらくしてから、もう一度お試しください。',
  'common.err.server': 'エラーが発生しました。しばらくしてから、もう一度お試しください。',
  'common.err.forbidden': 'この操作は許可されていません。ページを再読み込みしてから、もう一度お試しください。',
  'common.retry': '再読み込み',

  // index.html frame
  'portal.doc_title': 'クライアント証明書発行サイト',
  'portal.tenant': 'ご利用者様名',
  'portal.domain': 'ドメイン名',
  'portal.logged_in_as': 'ログインID',
  'portal.menu_label': 'メニュー',
  'menu.certificates': '証明書管理',
  'menu.users': '利用者',
  'menu.audit': '操作履歴',
  'menu.settings': '設定',
  'menu.password': 'パスワード変更',
  'menu.logout': 'ログアウト',

  // placeholders
  'placeholder.badge': '準備中',
  'placeholder.coming': 'この機能は今後のリリースで提供されます。',
  'placeholder.certificates.title': '証明書管理',
  'placeholder.certificates.desc':
    '契約数・発行数・追加発行可能数の確認、証明書の追加発行、一覧と検索、ダウンロード、失効を行う画面です。',
  'placeholder.users.title': '利用者',
  'placeholder.users.desc':
    '利用者とデバイスの登録、CSV一括登録、検索、利用者の削除を行う画面です。',
  'placeholder.settings.title': '設定',
  'placeholder.settings.desc':
    '利用者への通知メールや、ダウンロードサイトのIPアドレス制限などを設定する画面です。',
  'placeholder.meanwhile': '現在ご利用いただける機能',

  // 操作履歴
  'audit.title': '操作履歴一覧',
  'audit.date': '操作日',
  'audit.date_from': '操作日（開始）',
  'audit.date_to': '操作日（終了）',
  'audit.action': '操作内容',
  'audit.detail': '詳細',
  'audit.detail_placeholder': '詳細に含まれる文字',
  'audit.search': '検索',
  'audit.clear': 'クリア',
  'audit.col.at': '操作日時',
  'audit.col.ip': 'アクセス元IP',
  'audit.col.action': '操作内容',
  'audit.col.detail': '詳細',
  'audit.empty': '条件に一致する操作履歴はありません。',
  'audit.err.range': '操作日の開始日には、終了日以前の日付を指定してください。',
  'audit.err.date': '操作日の日付が正しくありません。',

  'action.all': 'すべて',
  'action.login': 'ログイン',
  'action.logout': 'ログアウト',
  'action.certificate_issue': '証明書追加発行',
  'action.certificate_revoke': '証明書失効',
  'action.certificate_reissue': '証明書再発行',
  'action.certificate_download': '証明書ダウンロード',
  'action.password_csv': 'パスワードCSV',
  'action.ip_restriction': 'IPアドレス制限設定',
  'action.password_change': 'パスワード変更',
  'action.user_register': '利用者登録',
  'action.user_import': 'CSV一括登録',
  'action.user_delete': '利用者削除',
  'action.settings': '設定変更',

  'pager.summary': '全 {total} 件中 {from}～{to} 件を表示',
  'pager.summary_empty': '全 0 件',
  'pager.page': '{page} / {pages} ページ',
  'pager.prev': '前へ',
  'pager.next': '次へ',
  'pager.label': 'ページ切り替え',

  // パスワード変更
  'password.title': 'パスワード変更',
  'password.current': '現在のパスワード',
  'password.new': '新しいパスワード',
  'password.confirm': '新しいパスワード (確認用)',
  'password.note': 'パスワードは、8文字以上16文字以内の半角英数字を入力してください。',
  'password.submit': '変更',
  'password.submitting': '変更しています…',
  'password.success': 'パスワードを変更しました。次回のログインから新しいパスワードをお使いください。',
  'password.err.summary': '入力内容に誤りがあります。各項目のメッセージをご確認ください。',
  'password.err.required_current': '現在のパスワードを入力してください。',
  'password.err.required_new': '新しいパスワードを入力してください。',
  'password.err.required_confirm': '新しいパスワード (確認用) を入力してください。',
  'password.err.length': 'パスワードは8文字以上16文字以内で入力してください。',
  'password.err.charset': 'パスワードには半角英数字（A～Z、a～z、0～9）のみ使用できます。',
  'password.err.mismatch': '新しいパスワードと新しいパスワード (確認用) が一致しません。',
  'password.err.same': '新しいパスワードは現在のパスワードと異なるものにしてください。',
};

const en = {
  'app.name': 'shomei',
  'app.title': 'Client Certificate Portal',
  'app.footer': 'shomei private certificate authority',
  'lang.label': 'Language',

  'login.doc_title': 'Log in | Client Certificate Portal',
  'login.heading': 'Administrator login',
  'login.lead': 'Enter the login ID and password you were given.',
  'login.login_id': 'Login ID',
  'login.password': 'Password',
  'login.remember': 'Remember this information in this browser',
  'login.remember_hint': 'Only the login ID is stored. The password is never stored.',
  'login.submit': 'Log in',
  'login.submitting': 'Logging in…',
  'login.or': 'or',
  'login.certificate': 'Log in with certificate',
  'login.certificate_hint':
    'If the administrator certificate is installed in this browser, you can log in without a login ID and password.',
  'login.err.required_login_id': 'Enter your login ID.',
  'login.err.required_password': 'Enter your password.',
  'login.err.invalid': 'The login ID or password is incorrect.',
  'login.err.locked':
    'Too many failed login attempts: this account cannot log in right now. Please wait a while and try again later.',
  'login.err.locked_retry': 'Please try again in about {minutes} minutes.',
  'login.err.validation': 'Some of the input is not valid.',
  'login.err.certificate':
    'Could not log in with a certificate. Make sure the administrator certificate is installed in this browser and selected.',
  'login.err.certificate_hint': 'Make sure the administrator certificate is installed in this browser and selected.',
  'login.msg.logged_out': 'You have been logged out.',
  'login.msg.expired': 'Your session has expired. Please log in again.',

  'common.loading': 'Loading…',
  'common.err.network': 'Could not reach the server. Please try again in a moment.',
  'common.err.timeout': 'The server did not answer. Please try again in a moment.',
  'common.err.server': 'Something went wrong. Please try again in a moment.',
  'common.err.forbidden': 'This operation is not allowed. Reload the page and try again.',
  'common.retry': 'Reload',

  'portal.doc_title': 'Client Certificate Portal',
  'portal.tenant': 'Organization',
  'portal.domain': 'Domain',
  'portal.logged_in_as': 'Login ID',
  'portal.menu_label': 'Menu',
  'menu.certificates': 'Certificates',
  'menu.users': 'Users',
  'menu.audit': 'Operation history',
  'menu.settings': 'Settings',
  'menu.password': 'Change password',
  'menu.logout': 'Log out',

  'placeholder.badge': 'Coming soon',
  'placeholder.coming': 'This feature will be available in a future release.',
  'placeholder.certificates.title': 'Certificates',
  'placeholder.certificates.desc':
    'Check your quota, issued and remaining certificates; issue more, list and search, download and revoke certificates.',
  'placeholder.users.title': 'Users',
  'placeholder.users.desc':
    'Register users and their devices, bulk-register from CSV, search, and delete users.',
  'placeholder.settings.title': 'Settings',
  'placeholder.settings.desc':
    'Configure notification e-mails to users and the IP address restriction of the download site.',
  'placeholder.meanwhile': 'Available now',

  'audit.title': 'Operation history',
  'audit.date': 'Date',
  'audit.date_from': 'Date (from)',
  'audit.date_to': 'Date (to)',
  'audit.action': 'Operation',
  'audit.detail': 'Details',
  'audit.detail_placeholder': 'Text in the details',
  'audit.search': 'Search',
  'audit.clear': 'Clear',
  'audit.col.at': 'Date and time',
  'audit.col.ip': 'Source IP',
  'audit.col.action': 'Operation',
  'audit.col.detail': 'Details',
  'audit.empty': 'No operations match these conditions.',
  'audit.err.range': 'The start date must be on or before the end date.',
  'audit.err.date': 'The date is not valid.',

  'action.all': 'All',
  'action.login': 'Login',
  'action.logout': 'Logout',
  'action.certificate_issue': 'Certificate issuance',
  'action.certificate_revoke': 'Certificate revocation',
  'action.certificate_reissue': 'Certificate reissue',
  'action.certificate_download': 'Certificate download',
  'action.password_csv': 'Password CSV',
  'action.ip_restriction': 'IP address restriction',
  'action.password_change': 'Password change',
  'action.user_register': 'User registration',
  'action.user_import': 'CSV bulk registration',
  'action.user_delete': 'User deletion',
  'action.settings': 'Settings change',

  'pager.summary': 'Showing {from}–{to} of {total}',
  'pager.summary_empty': '0 entries',
  'pager.page': 'Page {page} of {pages}',
  'pager.prev': 'Previous',
  'pager.next': 'Next',
  'pager.label': 'Pages',

  'password.title': 'Change password',
  'password.current': 'Current password',
  'password.new': 'New password',
  'password.confirm': 'New password (confirm)',
  'password.note': 'Use 8 to 16 half-width alphanumeric characters (A–Z, a–z, 0–9).',
  'password.submit': 'Change',
  'password.submitting': 'Changing…',
  'password.success': 'Your password has been changed. Use the new password from your next login.',
  'password.err.summary': 'Some of the input is not valid. See the message under each field.',
  'password.err.required_current': 'Enter your current password.',
  'password.err.required_new': 'Enter a new password.',
  'password.err.required_confirm': 'Enter the new password again to confirm it.',
  'password.err.length': 'The password must be 8 to 16 characters long.',
  'password.err.charset': 'The password may contain only half-width letters and digits (A–Z, a–z, 0–9).',
  'password.err.mismatch': 'The two new passwords do not match.',
  'password.err.same': 'The new password must differ from the current one.',
};

const DICTS = { ja, en };
const listeners = new Set();

function readStored() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = LANGS.includes(readStored()) ? readStored() : 'ja';

/** The language in use: "ja" or "en". */
export function getLang() {
  return current;
}

/** The text for key in the current language, with {name} placeholders filled from params. */
export function t(key, params) {
  let s = DICTS[current][key];
  if (s === undefined) s = ja[key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
    );
  }
  return s;
}

/** True when the dictionaries know key (used to tell our keys from server-sent text). */
export function hasKey(key) {
  return Object.prototype.hasOwnProperty.call(ja, key);
}

/** Fill every marked element under root with the current language's texts. */
export function applyI18n(root = document) {
  const attrs = [
    ['data-i18n-placeholder', 'placeholder'],
    ['data-i18n-aria-label', 'aria-label'],
    ['data-i18n-title', 'title'],
  ];
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.getAttribute('data-i18n'));
  }
  for (const [data, attr] of attrs) {
    for (const el of root.querySelectorAll(`[${data}]`)) {
      el.setAttribute(attr, t(el.getAttribute(data)));
    }
  }
  if (root === document) {
    document.documentElement.lang = current;
  }
}

/** Switch the language, remember it, refresh the page texts and tell the listeners. */
export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage unavailable: the choice lasts for this page only */
  }
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

/** Call fn(lang) after every language switch. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Build the 日本語 / English switch inside container (an element).
 * Each language is named in its own words so anybody can find theirs.
 */
export function mountLangSwitch(container) {
  container.classList.add('lang-switch');
  container.setAttribute('role', 'group');
  container.setAttribute('data-i18n-aria-label', 'lang.label');
  container.setAttribute('aria-label', t('lang.label'));
  const names = { ja: '日本語', en: 'English' };
  const buttons = LANGS.map((lang) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'lang-option';
    b.lang = lang;
    b.dataset.lang = lang;
    b.textContent = names[lang];
    b.addEventListener('click', () => setLang(lang));
    container.appendChild(b);
    return b;
  });
  const mark = () => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.lang === current));
  };
  mark();
  onLangChange(mark);
}
