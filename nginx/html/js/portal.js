// shomei portal — the frame (画面構成): header with the login information, the menu, the hash
// router that puts each feature's screen into <main id="view">, and logout.

import { api, setCsrfToken, setSessionLostHandler } from './api.js';
import { hide, showLines } from './dom.js';
import { applyI18n, getLang, mountLangSwitch, onLangChange, t } from './i18n.js';
import { auditPage } from './pages/audit.js';
import { certificatesPage } from './pages/certificates.js';
import { outboxPage } from './pages/outbox.js';
import { passwordPage } from './pages/password.js';
import { settingsPage } from './pages/settings.js';
import { userPage } from './pages/userpage.js';
import { usersPage } from './pages/users.js';

// A page is a function (view, params, ctx) → { update?(params), onLang?(), destroy?() }.
const ROUTES = {
  certificates: certificatesPage,
  users: usersPage,
  user: userPage, // one user (利用者情報), under the 利用者 menu
  audit: auditPage,
  outbox: outboxPage,
  settings: settingsPage,
  password: passwordPage,
};
const DEFAULT_ROUTE = 'certificates';

const $ = (id) => document.getElementById(id);

let me = null;
let active = null; // { name, page }
let leaving = false;

/** The session is gone (401): back to the login page, coming back here afterwards. */
function sessionLost() {
  if (leaving) return;
  leaving = true;
  setCsrfToken(null);
  const next = window.location.hash ? `&next=${encodeURIComponent(window.location.hash)}` : '';
  window.location.replace(`login.html?expired=1${next}`);
}

const ctx = {
  sessionLost,
  /** The logged-in administrator's login ID. */
  loginId() {
    return (me && me.admin && me.admin.login_id) || '';
  },
  /** Show an error that concerns the whole portal (e.g. logout failed); null hides it. */
  globalError(lines) {
    if (lines) showLines($('global-error'), lines);
    else hide($('global-error'));
  },
};

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  return {
    name: q < 0 ? raw : raw.slice(0, q),
    params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}

function updateTitle() {
  const base = t('portal.doc_title');
  document.title = active ? `${t(`menu.${active.name}`)} | ${base}` : base;
}

/** The menu item a route belongs to (a user's page is under 利用者). */
const MENU_OF = { user: 'users' };

function markMenu(name) {
  const item = MENU_OF[name] || name;
  for (const a of document.querySelectorAll('.menu-item')) {
    const on = a.dataset.route === item;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route() {
  if (leaving) return;
  const { name, params } = parseHash();
  if (!Object.prototype.hasOwnProperty.call(ROUTES, name)) {
    window.location.replace(`#/${DEFAULT_ROUTE}`);
    return;
  }
  markMenu(name);
  if (active && active.name === name && active.page.update) {
    active.page.update(params);
    return;
  }
  if (active && active.page.destroy) active.page.destroy();
  ctx.globalError(null);
  const view = $('view');
  view.replaceChildren();
  const page = ROUTES[name](view, params, ctx) || {};
  active = { name, page };
  applyI18n(view);
  updateTitle();
  if (!view.contains(document.activeElement)) view.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function fillHeader() {
  const tenant = (me && me.tenant) || {};
  const admin = (me && me.admin) || {};
  const name = getLang() === 'en' && tenant.name_en ? tenant.name_en : tenant.name || tenant.name_en || '';
  $('tenant-name').textContent = name;
  $('tenant-domain').textContent = tenant.domain || '';
  $('tenant-domain-item').hidden = !tenant.domain;
  $('admin-login-id').textContent = admin.login_id || '';
}

async function logout() {
  const button = $('logout');
  button.disabled = true;
  leaving = true; // a 401 here is not "expired": logging out is what was asked
  try {
    await api('POST', '/api/auth/logout');
  } catch (err) {
    if (err.status === 0) {
      // The server was not reached, so the session may still be alive: say so and stay.
      leaving = false;
      button.disabled = false;
      ctx.globalError([err.displayMessage()]);
      return;
    }
    // 401 and the like: the session is already gone, which is what we wanted.
  }
  leaving = true;
  setCsrfToken(null);
  window.location.replace('login.html?logout=1');
}

async function boot() {
  applyI18n(document);
  try {
    me = await api('GET', '/api/auth/me');
  } catch (err) {
    if (err.status === 401) {
      leaving = true;
      setCsrfToken(null);
      const next = window.location.hash ? `?next=${encodeURIComponent(window.location.hash)}` : '';
      window.location.replace(`login.html${next}`);
      return;
    }
    showLines($('boot-message'), [err.displayMessage()]);
    $('boot-retry').hidden = false;
    return;
  }
  setCsrfToken(me.csrf_token);
  // From now on a 401 anywhere (a list, a dialog, a download) means the session expired.
  setSessionLostHandler(sessionLost);
  fillHeader();
  mountLangSwitch($('lang-switch'));
  onLangChange(() => {
    fillHeader();
    updateTitle();
    if (active && active.page.onLang) active.page.onLang();
  });
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  $('boot').hidden = true;
  $('app').hidden = false;
  route();
}

$('boot-retry').addEventListener('click', () => window.location.reload());
boot();
