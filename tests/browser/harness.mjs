// The shared parts of a browser test: TAP steps, screenshots, Debian's Chromium, the checks on
// every API request (Accept-Language, X-CSRF-Token), the stack's up.json and small page helpers.
// Every *.test.mjs imports what it needs from here rather than carrying a copy.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
const STEP_TIMEOUT_MS = 90_000;
const ACTION_TIMEOUT_MS = 15_000;

export function fail(msg) {
  console.log(`Bail out! ${msg}`);
  process.exit(1);
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** The stack described by $SHOMEI_UP_JSON, its base URL and the artifacts directory. */
export function stack() {
  const upPath = path.resolve(process.env.SHOMEI_UP_JSON || path.join(REPO, 'var', 'up.json'));
  let up;
  try {
    up = JSON.parse(fs.readFileSync(upPath, 'utf8'));
  } catch (e) {
    fail(`cannot read SHOMEI_UP_JSON (${upPath}): ${e.message}`);
  }
  const base = up.url.endsWith('/') ? up.url : `${up.url}/`;
  const artifacts = path.resolve(process.env.SHOMEI_ARTIFACTS || path.join(HERE, 'artifacts'));
  fs.mkdirSync(artifacts, { recursive: true });
  return { up, upPath, base, origin: new URL(base).origin, artifacts };
}

/** Run shomeictl (up.json's ctl) with args; with okExists, exit 3 ("already exists") is fine. */
export function ctl(up, args, { okExists = false } = {}) {
  const root = process.env.SHOMEI_ROOT || REPO;
  try {
    return execFileSync(up.ctl[0], [...up.ctl.slice(1), ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });
  } catch (e) {
    if (okExists && e.status === 3) return '';
    throw e;
  }
}

/** A TAP run: step(), screenshot(), done(); prefix names the screenshots. */
export function tap(prefix, artifacts) {
  const r = { count: 0, failed: 0, stopReason: null, shotNo: 0, page: null };

  r.diag = (text) => {
    for (const line of String(text).split('\n')) console.log(`# ${line}`);
  };
  // page: another page than r.page (a second context, a phone)
  r.screenshot = async (name, { fullPage = true, page = r.page } = {}) => {
    if (!page) return;
    r.shotNo += 1;
    const file = path.join(artifacts, `${prefix}-${String(r.shotNo).padStart(2, '0')}-${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage, timeout: ACTION_TIMEOUT_MS });
    } catch (e) {
      r.diag(`screenshot ${name} failed: ${e.message}`);
    }
  };
  r.step = async (name, fn, { critical = false, always = false } = {}) => {
    r.count += 1;
    const n = r.count;
    if (r.stopReason && !always) {
      r.failed += 1;
      console.log(`not ok ${n} - ${name} # not run: ${r.stopReason}`);
      return false;
    }
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`step timed out after ${STEP_TIMEOUT_MS / 1000}s`)), STEP_TIMEOUT_MS);
        }),
      ]);
      console.log(`ok ${n} - ${name}`);
      return true;
    } catch (e) {
      r.failed += 1;
      console.log(`not ok ${n} - ${name}`);
      r.diag((e && e.stack) || String(e));
      await r.screenshot(`FAILED-step${n}`);
      if (critical) r.stopReason = `step ${n} (${name}) failed`;
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  r.skip = (name, why) => {
    r.count += 1;
    console.log(`ok ${r.count} - ${name} # SKIP ${why}`);
  };
  r.done = () => {
    console.log(`1..${r.count}`);
    process.exit(r.failed ? 1 : 0);
  };
  return r;
}

/** Debian's Chromium, headless (Bail out! when it cannot start). */
export async function launch() {
  const executablePath = process.env.SHOMEI_CHROMIUM || '/usr/bin/chromium';
  try {
    return await chromium.launch({
      executablePath,
      headless: true,
      timeout: 60_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    return fail(`cannot launch ${executablePath}: ${e.message.split('\n')[0]}`);
  }
}

/** The options of a context in Japanese, Asia/Tokyo, that accepts the stack's certificate. */
export function contextOptions(extra = {}) {
  return { ignoreHTTPSErrors: true, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', viewport: { width: 1366, height: 800 }, ...extra };
}

/**
 * Record page's errors in state.problems: page errors and console errors, but for the failed
 * resources of the statuses a test expects (Chromium logs 401/409/422 answers as errors); with
 * origin, also each API request of that origin without Accept-Language ja/en, and each change
 * without X-CSRF-Token once state.loggedIn.
 */
export function watch(page, state, { statuses = [401, 409, 422], origin = null } = {}) {
  const expected = new RegExp(`^Failed to load resource: the server responded with a status of (${statuses.join('|')})`);
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(30_000);
  page.on('pageerror', (e) => state.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expected.test(m.text())) return;
    state.problems.push(`console error: ${m.text()}`);
  });
  if (origin) page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin !== origin || !url.pathname.startsWith('/api/')) return;
    const h = req.headers();
    if (!['ja', 'en'].includes(h['accept-language'])) state.problems.push(`${req.method()} ${url.pathname}: Accept-Language ${h['accept-language']}`);
    const unsafe = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method());
    if (unsafe && !url.pathname.startsWith('/api/auth/login') && state.loggedIn && !h['x-csrf-token']) {
      state.problems.push(`${req.method()} ${url.pathname} sent no X-CSRF-Token`);
    }
  });
}

/** Debian's Chromium, headless, and a page in Japanese (Asia/Tokyo) that records problems. */
export async function browse(origin, state) {
  const browser = await launch();
  const context = await browser.newContext(contextOptions());
  const page = await context.newPage();
  watch(page, state, { origin });
  return { browser, page };
}

export function isApi(r, pathname, method = 'GET') {
  return new URL(r.url()).pathname === pathname && r.request().method() === method;
}

/** Log in through login.html. */
export async function login(page, base, loginId, password) {
  await page.goto(`${base}login.html`, { waitUntil: 'networkidle' });
  await page.fill('#login-id', loginId);
  await page.fill('#login-password', password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/auth/login', 'POST')),
    page.click('#login-submit'),
  ]);
  assert(res.status() === 200, `POST /api/auth/login answered ${res.status()}`);
  await page.waitForURL(/index\.html/);
  await page.locator('#app').waitFor({ state: 'visible' });
}

/** The text of the first element locator finds, once it is visible, trimmed. */
export async function visibleText(locator) {
  await locator.first().waitFor({ state: 'visible' });
  return (await locator.first().innerText()).trim();
}

/** GET path (JSON) from the page, with its session. */
export async function apiGet(page, pathname, lang = 'ja') {
  return page.evaluate(
    async ([p, l]) => {
      const res = await fetch(p, { credentials: 'same-origin', headers: { Accept: 'application/json', 'Accept-Language': l } });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [pathname, lang],
  );
}

/**
 * Poll GET pathname from the page (its session) until test(body) holds; return that body.
 * page.waitForFunction cannot do this: it does not await an async predicate (a Promise is
 * truthy), so it would return at once. The wait for server state happens here, in Node.
 */
export async function untilApi(page, pathname, test, { timeout = 60_000, interval = 1000, what = pathname } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const r = await apiGet(page, pathname);
    if (r.status === 200 && test(r.body)) return r.body;
    if (Date.now() > end) {
      fail(`waited ${timeout / 1000} s for ${what}; the last answer was ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
    }
    await page.waitForTimeout(interval);
  }
}

/** Wait until the tenant has no certificate left 発行中 (GET /api/tenant's issuing). */
export function untilIssued(page, timeout = 60_000) {
  return untilApi(page, '/api/tenant', (d) => d.issuing === 0 || d.issuing === false, {
    timeout,
    what: 'every certificate issued',
  });
}

/** POST (JSON) from the page with the session's CSRF token, as the portal sends it. */
export async function apiPost(page, pathname, body) {
  return page.evaluate(
    async ([p, b]) => {
      const res = await fetch(p, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') },
        body: JSON.stringify(b),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [pathname, body],
  );
}

/** Today plus days in Asia/Tokyo as yyyy/mm/dd. */
export function tokyoDate(days = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + days * 86400e3))
    .replaceAll('-', '/');
}

/** A screenshot of an open <dialog>, the window made tall enough to show all of it. */
export async function dialogShot(T, page, name, selector) {
  const size = page.viewportSize();
  const height = await page.evaluate((sel) => {
    const d = document.querySelector(sel);
    return d ? Math.ceil(d.scrollHeight + 80) : 0;
  }, selector);
  if (height > size.height) await page.setViewportSize({ width: size.width, height: Math.min(height, 4000) });
  await T.screenshot(name, { fullPage: false });
  if (height > size.height) await page.setViewportSize(size);
}

/**
 * The last step of a test: nothing the watcher saw (script errors, CSP refusals, requests
 * without Accept-Language or X-CSRF-Token: state.problems, see watch); then close the browser.
 */
export async function finish(T, browser, state) {
  await T.step(
    'no script errors, CSP refusals or missing Accept-Language / X-CSRF-Token',
    async () => {
      assert(state.problems.length === 0, state.problems.join('\n'));
    },
    { always: true },
  );
  await browser.close().catch(() => {});
  T.done();
}
