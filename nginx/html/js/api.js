// shomei portal — the one place that talks to the API.
//
// Every request sends Accept-Language (ja/en) and the session cookie (same origin only);
// every state-changing request sends the session's CSRF token in X-CSRF-Token. The token is
// kept in memory and in sessionStorage (never localStorage: it must die with the tab). The
// session cookie itself is HttpOnly and never touched here.

import { getLang, t } from './i18n.js';

const CSRF_KEY = 'shomei.csrf';
const DEFAULT_TIMEOUT_MS = 30000;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let sessionLostHandler = null;
try {
  csrfToken = window.sessionStorage.getItem(CSRF_KEY);
} catch {
  csrfToken = null;
}

/** Remember (or, with a falsy value, forget) the session's CSRF token. */
export function setCsrfToken(token) {
  csrfToken = token || null;
  try {
    if (csrfToken) window.sessionStorage.setItem(CSRF_KEY, csrfToken);
    else window.sessionStorage.removeItem(CSRF_KEY);
  } catch {
    /* sessionStorage unavailable: the in-memory copy still works for this page */
  }
}

/**
 * What to do when the session turns out to be gone (a 401 that is not a wrong password): the
 * portal sends the administrator back to the login page with a message. Every request and every
 * download goes through here, so no screen is left dead and no download silently cancelled.
 */
export function setSessionLostHandler(fn) {
  sessionLostHandler = typeof fn === 'function' ? fn : null;
}

/** True for the 401 of an expired or missing session (not for a wrong password with fields). */
function isSessionGone(err) {
  return err.status === 401 && err.fields.length === 0 && (err.code === '' || err.code === 'unauthorized');
}

function failed(status, data, headers) {
  const err = new ApiError(status, data, headers);
  if (sessionLostHandler && isSessionGone(err)) sessionLostHandler();
  return err;
}

/**
 * A failed request. status is the HTTP status (0 when the server could not be reached);
 * code, message and fields come from the API's {"error": {...}} body when it sent one.
 */
export class ApiError extends Error {
  constructor(status, body, headers, fallbackKey) {
    const err = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
    const message = typeof err.message === 'string' && err.message ? err.message : '';
    super(message || t(fallbackKey || 'common.err.server'));
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof err.code === 'string' ? err.code : '';
    this.serverMessage = message;
    this.fields = Array.isArray(err.fields)
      ? err.fields.filter((f) => f && typeof f.field === 'string' && typeof f.message === 'string')
      : [];
    this.headers = headers || null;
  }

  /** The message to show: the server's (already localized) one, else ours for the status. */
  displayMessage() {
    if (this.serverMessage) return this.serverMessage;
    if (this.status === 0) return this.message;
    if (this.status === 403) return t('common.err.forbidden');
    return t('common.err.server');
  }
}

/**
 * Send one request. body (an object) is sent as JSON; pass undefined for no body, and
 * options.form (a FormData) to send a file as multipart/form-data instead.
 * Resolves to the parsed JSON answer ({} for an empty one); rejects with ApiError.
 */
export async function api(method, path, body, options = {}) {
  const m = method.toUpperCase();
  const headers = {
    Accept: 'application/json',
    'Accept-Language': getLang(),
  };
  if (UNSAFE.has(m) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const init = {
    method: m,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
  };
  if (options.form) {
    init.body = options.form; // FormData: the browser writes the multipart boundary
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const controller = new AbortController();
  init.signal = controller.signal;
  const timer = setTimeout(() => controller.abort(), options.timeoutMs || DEFAULT_TIMEOUT_MS);

  let res;
  let data = null;
  try {
    res = await fetch(path, init);
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  } catch (e) {
    const timedOut = e && e.name === 'AbortError';
    throw new ApiError(0, null, null, timedOut ? 'common.err.timeout' : 'common.err.network');
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) throw failed(res.status, data, res.headers);
  return data && typeof data === 'object' ? data : {};
}

/** The file name of a Content-Disposition header (the UTF-8 filename* first), or fallback. */
function attachmentName(header, fallback) {
  const v = header || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(v);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* a broken encoding: the plain name below */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(v);
  return plain ? plain[1] : fallback;
}

/**
 * Download a file of the API (a GET) and hand it to the browser as a download. Unlike a plain
 * link, a refused download (expired session, nothing to download, …) is not silently dropped:
 * it rejects with ApiError like api() (a 401 also sends the portal to the login page).
 * Resolves to the file name saved.
 */
export async function download(path, fallbackName, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs || 120000);
  let res;
  let blob;
  try {
    res = await fetch(path, {
      method: 'GET',
      headers: { 'Accept-Language': getLang() },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
    if (!res.ok) {
      let data = null;
      try {
        data = JSON.parse(await res.text());
      } catch {
        data = null;
      }
      throw failed(res.status, data, res.headers);
    }
    blob = await res.blob();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const timedOut = e && e.name === 'AbortError';
    throw new ApiError(0, null, null, timedOut ? 'common.err.timeout' : 'common.err.network');
  } finally {
    clearTimeout(timer);
  }
  const name = attachmentName(res.headers.get('Content-Disposition'), fallbackName || 'download');
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return name;
}

/** Build "path?k=v&…" from the params that have a value. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
