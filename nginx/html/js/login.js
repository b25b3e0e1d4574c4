// shomei portal — login page (ID/password, or the administrator certificate).

import { api, ApiError, setCsrfToken } from './api.js';
import { hide, showKey, showLines } from './dom.js';
import { applyI18n, mountLangSwitch, onLangChange, t } from './i18n.js';

const REMEMBER_KEY = 'shomei.login_id';

const $ = (id) => document.getElementById(id);

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    /* no storage: nothing is remembered */
  }
}

/** Where to go after logging in: index.html, keeping a safe #/route the user came from. */
function nextUrl() {
  const next = new URLSearchParams(window.location.search).get('next') || '';
  return /^#\/[a-z-]+(\?[\w%=&.+/-]*)?$/.test(next) ? `index.html${next}` : 'index.html';
}

const fieldInputs = {
  login_id: () => $('login-id'),
  password: () => $('login-password'),
};
const fieldErrors = {
  login_id: () => $('login-id-error'),
  password: () => $('login-password-error'),
};

function clearErrors() {
  hide($('login-error'));
  for (const name of Object.keys(fieldErrors)) {
    hide(fieldErrors[name]());
    fieldInputs[name]().removeAttribute('aria-invalid');
  }
}

function fieldError(name, key, text) {
  const el = fieldErrors[name]();
  if (key) showKey(el, key);
  else showLines(el, [text]);
  fieldInputs[name]().setAttribute('aria-invalid', 'true');
}

function setBusy(busy) {
  const submit = $('login-submit');
  submit.disabled = busy;
  $('login-certificate').disabled = busy;
  submit.setAttribute('data-i18n', busy ? 'login.submitting' : 'login.submit');
  submit.textContent = t(busy ? 'login.submitting' : 'login.submit');
  document.body.classList.toggle('busy', busy);
}

function loggedIn(answer) {
  setCsrfToken(answer && answer.csrf_token);
  window.location.replace(nextUrl());
}

/** Show why a login failed. certificate: the failure came from 証明書でログイン. */
function showFailure(err, certificate) {
  const box = $('login-error');
  if (!(err instanceof ApiError) || err.status === 0) {
    showLines(box, [err && err.message ? err.message : t('common.err.network')]);
    return;
  }
  if (err.status === 401) {
    if (certificate && err.serverMessage) showLines(box, [err.serverMessage, t('login.err.certificate_hint')]);
    else if (certificate) showKey(box, 'login.err.certificate');
    else if (err.serverMessage) showLines(box, [err.serverMessage]);
    else showKey(box, 'login.err.invalid');
    return;
  }
  if (err.status === 429) {
    // The server's message says what happened and to come back later; without one, ours does.
    // Retry-After, when sent, tells how long.
    const lines = err.serverMessage ? [err.serverMessage] : [t('login.err.locked')];
    const retry = Number.parseInt(err.headers && err.headers.get('Retry-After'), 10);
    if (Number.isFinite(retry) && retry > 0) {
      lines.push(t('login.err.locked_retry', { minutes: Math.max(1, Math.ceil(retry / 60)) }));
    }
    showLines(box, lines);
    return;
  }
  if (err.status === 422) {
    const general = [];
    for (const f of err.fields) {
      if (fieldErrors[f.field]) fieldError(f.field, null, f.message);
      else general.push(f.message);
    }
    showLines(box, [err.serverMessage || t('login.err.validation'), ...general]);
    const firstBad = Object.keys(fieldInputs).find((n) => fieldInputs[n]().getAttribute('aria-invalid'));
    if (firstBad) fieldInputs[firstBad]().focus();
    return;
  }
  showLines(box, [err.displayMessage()]);
}

async function onSubmit(ev) {
  ev.preventDefault();
  clearErrors();
  hide($('login-info'));
  const loginId = $('login-id').value.trim();
  const password = $('login-password').value;
  let ok = true;
  if (!loginId) {
    fieldError('login_id', 'login.err.required_login_id');
    ok = false;
  }
  if (!password) {
    fieldError('password', 'login.err.required_password');
    ok = false;
  }
  if (!ok) {
    (loginId ? $('login-password') : $('login-id')).focus();
    return;
  }

  // Remember the login ID only — never the password.
  storageSet(REMEMBER_KEY, $('login-remember').checked ? loginId : null);

  setBusy(true);
  try {
    loggedIn(await api('POST', '/api/auth/login', { login_id: loginId, password }));
  } catch (err) {
    setBusy(false);
    showFailure(err, false);
    $('login-password').value = '';
    if (!(err instanceof ApiError && err.status === 422)) $('login-password').focus();
  }
}

async function onCertificate() {
  clearErrors();
  hide($('login-info'));
  setBusy(true);
  try {
    loggedIn(await api('POST', '/api/auth/login/certificate'));
  } catch (err) {
    setBusy(false);
    showFailure(err, true);
  }
}

function init() {
  applyI18n(document);
  mountLangSwitch($('lang-switch'));
  onLangChange(() => {
    // Our own messages follow through data-i18n; the button label too.
    applyI18n(document);
  });

  const params = new URLSearchParams(window.location.search);
  if (params.has('logout')) showKey($('login-info'), 'login.msg.logged_out');
  else if (params.has('expired')) showKey($('login-info'), 'login.msg.expired');

  const remembered = storageGet(REMEMBER_KEY);
  if (remembered) {
    $('login-id').value = remembered;
    $('login-remember').checked = true;
    $('login-password').focus();
  } else {
    $('login-id').focus();
  }

  $('login-form').addEventListener('submit', onSubmit);
  $('login-certificate').addEventListener('click', onCertificate);

  // Drop the token of any earlier session in this tab: a new login brings a new one.
  if (params.has('logout') || params.has('expired')) setCsrfToken(null);
}

init();
