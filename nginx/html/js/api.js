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
  if (!res.ok) throw new ApiError(res.status, data, res.headers);
  return data && typeof data === 'object' ? data : {};
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
