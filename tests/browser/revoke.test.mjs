// Browser test of 選択したものを失効 in 証明書管理 (issue 10): three certificates are added through the
// API, two are checked and revoked at once through the confirmation that names them (失効日 and
// 発行数 / 追加発行可能数 follow), one is scheduled with 日付を指定して (the date picker limited to
// tomorrow … 30 days) and shows 失効予定 until 取消, the button with nothing checked says so,
// and the English texts. Headless Debian Chromium driven by playwright-core, against the stack in
// $SHOMEI_UP_JSON; TAP on stdout, screenshots in $SHOMEI_ARTIFACTS as revoke-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node revoke.test.mjs

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const STEP_TIMEOUT_MS = 60_000; // one step, however many actions it takes
const ACTION_TIMEOUT_MS = 15_000; // one click / wait
const TOTAL_TIMEOUT_MS = 6 * 60_000; // the whole run
const REFRESH_MS = 2500; // js/pages/certificates.js: how often the page asks while issuing
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;
const DATE_TIME = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/;

// ---------------------------------------------------------------- set-up

function fail(msg) {
  console.log(`Bail out! ${msg}`);
  process.exit(1);
}

const upPath = path.resolve(process.env.SHOMEI_UP_JSON || path.join(REPO, 'var', 'up.json'));
let up;
try {
  up = JSON.parse(fs.readFileSync(upPath, 'utf8'));
} catch (e) {
  fail(`cannot read SHOMEI_UP_JSON (${upPath}): ${e.message}`);
}
for (const key of ['url', 'login_id', 'password']) {
  if (typeof up[key] !== 'string' || !up[key]) fail(`${upPath} has no "${key}"`);
}
const BASE = up.url.endsWith('/') ? up.url : `${up.url}/`;
const ORIGIN = new URL(BASE).origin;
const ARTIFACTS = path.resolve(process.env.SHOMEI_ARTIFACTS || path.join(HERE, 'artifacts'));
fs.mkdirSync(ARTIFACTS, { recursive: true });
const RUN = Date.now().toString(36);

/** Today plus days in Asia/Tokyo as yyyy/mm/dd. */
function tokyoDate(days = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + days * 86400e3))
    .replaceAll('-', '/');
}

// ---------------------------------------------------------------- TAP

let count = 0;
let failed = 0;
let stopReason = null;
let shotNo = 0;
let page = null;

function diag(text) {
  for (const line of String(text).split('\n')) console.log(`# ${line}`);
}

async function screenshot(name, p = page, { fullPage = true } = {}) {
  if (!p) return;
  shotNo += 1;
  const file = path.join(ARTIFACTS, `revoke-${String(shotNo).padStart(2, '0')}-${name}.png`);
  try {
    await p.screenshot({ path: file, fullPage, timeout: ACTION_TIMEOUT_MS });
  } catch (e) {
    diag(`screenshot ${name} failed: ${e.message}`);
  }
}

/** A screenshot of an open <dialog>, the window made tall enough to show all of it. */
async function dialogShot(name, selector) {
  const size = page.viewportSize();
  const height = await page.evaluate((sel) => {
    const d = document.querySelector(sel);
    return d ? Math.ceil(d.scrollHeight + 80) : 0;
  }, selector);
  if (height > size.height) await page.setViewportSize({ width: size.width, height: Math.min(height, 4000) });
  await screenshot(name, page, { fullPage: false });
  if (height > size.height) await page.setViewportSize(size);
}

async function step(name, fn, { critical = false, always = false } = {}) {
  count += 1;
  const n = count;
  if (stopReason && !always) {
    failed += 1;
    console.log(`not ok ${n} - ${name} # not run: ${stopReason}`);
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
    failed += 1;
    console.log(`not ok ${n} - ${name}`);
    diag((e && e.stack) || String(e));
    await screenshot(`FAILED-step${n}`);
    if (critical) stopReason = `step ${n} (${name}) failed`;
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function skip(name, why) {
  count += 1;
  console.log(`ok ${count} - ${name} # SKIP ${why}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function visibleText(locator) {
  await locator.first().waitFor({ state: 'visible' });
  return (await locator.first().innerText()).trim();
}

// ---------------------------------------------------------------- browser

const LAUNCH = {
  executablePath: process.env.SHOMEI_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 60_000,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

const problems = [];
let loggedIn = false;

function watch(p) {
  p.setDefaultTimeout(ACTION_TIMEOUT_MS);
  p.setDefaultNavigationTimeout(30_000);
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // A 409/422 answer is logged by Chromium as a failed resource; those are expected here.
    if (/^Failed to load resource: the server responded with a status of (401|409|422)/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  p.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin !== ORIGIN || !url.pathname.startsWith('/api/')) return;
    const h = r.headers();
    if (!['ja', 'en'].includes(h['accept-language'])) {
      problems.push(`${r.method()} ${url.pathname} sent Accept-Language ${JSON.stringify(h['accept-language'])}`);
    }
    const unsafe = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method());
    if (unsafe && !url.pathname.startsWith('/api/auth/login') && loggedIn && !h['x-csrf-token']) {
      problems.push(`${r.method()} ${url.pathname} sent no X-CSRF-Token`);
    }
  });
}

function isApi(r, pathname, method = 'GET') {
  return new URL(r.url()).pathname === pathname && r.request().method() === method;
}

function menuLink(label) {
  return page.locator('nav.menu').getByRole('link', { name: label, exact: true });
}

async function openMenu(label, route) {
  await menuLink(label).click();
  await page.waitForFunction((r) => window.location.hash.startsWith(`#/${r}`), route);
}

/** GET path (JSON) from the page, with its session. */
async function apiGet(pathname, lang = 'ja') {
  return page.evaluate(
    async ([p, l]) => {
      const res = await fetch(p, { credentials: 'same-origin', headers: { Accept: 'application/json', 'Accept-Language': l } });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [pathname, lang],
  );
}

async function tenantNow() {
  const r = await apiGet('/api/tenant');
  assert(r.status === 200, `GET /api/tenant answered ${r.status}`);
  return r.body;
}

/** Run shomeictl (up.json's ctl) with args. */
function ctl(args) {
  assert(Array.isArray(up.ctl) && up.ctl.length, 'up.json has no "ctl" to change the tenant with');
  const root = process.env.SHOMEI_ROOT || REPO;
  return execFileSync(up.ctl[0], [...up.ctl.slice(1), ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
}


/** The row of certificate id as the page shows it. */
async function rowOf(id) {
  const tr = page.locator(`#cert-table tbody tr[data-id="${id}"]`);
  await tr.waitFor({ state: 'visible' });
  return {
    status: await tr.getAttribute('data-status'),
    revoked: (await tr.locator('td').nth(2).innerText()).trim(),
    box: tr.locator('input.cert-check'),
  };
}

async function summaryShown() {
  const n = async (id) => Number((await page.locator(id).innerText()).replace(/,/g, ''));
  return { issued: await n('#sum-issued'), available: await n('#sum-available') };
}

/** POST from the page with the session's CSRF token, as the portal sends it. */
async function apiPost(pathname, body) {
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

async function openList() {
  await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates')),
    page.goto(`${BASE}index.html#/certificates?status=all&sort=-issued_at`).then(() => page.reload()),
  ]);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
}

// ---------------------------------------------------------------- the run

const overall = setTimeout(() => {
  console.log(`Bail out! the whole run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

let browser;
try {
  browser = await chromium.launch(LAUNCH);
} catch (e) {
  fail(`cannot launch ${LAUNCH.executablePath}: ${e.message.split('\n')[0]}`);
}
const context = await browser.newContext({
  ignoreHTTPSErrors: true,
  locale: 'ja-JP',
  timezoneId: 'Asia/Tokyo',
  viewport: { width: 1366, height: 800 },
});
page = await context.newPage();
watch(page);
let ids = [];
let cns = {};

await step(
  'log in and add three certificates (they are issued)',
  async () => {
    await page.goto(`${BASE}login.html`, { waitUntil: 'networkidle' });
    await page.fill('#login-id', up.login_id);
    await page.fill('#login-password', up.password);
    await Promise.all([page.waitForResponse((r) => isApi(r, '/api/auth/login', 'POST')), page.click('#login-submit')]);
    loggedIn = true;
    await page.waitForURL(/index\.html/);
    let t = await tenantNow();
    for (let i = 0; i < 60 && t.issuing > 0; i++) {
      await page.waitForTimeout(1000);
      t = await tenantNow();
    }
    if (t.available < 3) ctl(['tenant', 'set', '--slug', t.slug, '--quota', String(t.issued + 10)]);
    const r = await apiPost('/api/certificates/batch', { count: 3 });
    assert(r.status === 202, `POST /api/certificates/batch answered ${r.status}`);
    ids = r.body.ids;
    for (let i = 0; i < 60; i++) {
      const l = await apiGet('/api/certificates?status=all&sort=-issued_at');
      const mine = (l.body.items || []).filter((x) => ids.includes(x.id));
      if (mine.length === 3 && mine.every((x) => x.status === 'issued')) {
        cns = Object.fromEntries(mine.map((x) => [x.id, x.cn]));
        return;
      }
      await page.waitForTimeout(1000);
    }
    throw new Error('the three certificates were not issued within a minute');
  },
  { critical: true },
);

await step('選択したものを失効 with nothing checked says to check some', async () => {
  await openList();
  await page.getByRole('button', { name: '選択したものを失効' }).click();
  assert((await visibleText(page.locator('#cert-error'))).includes('チェックしてください'), 'no message');
  assert(!(await page.locator('#cert-revoke-dialog').isVisible()), 'the dialog opened');
});

let before = null;
await step('check two, 失効 ただちに: the confirmation names them; 失効日 and the quota follow', async () => {
  before = await summaryShown();
  await (await rowOf(ids[0])).box.check();
  await (await rowOf(ids[1])).box.check();
  await page.getByRole('button', { name: '選択したものを失効' }).click();
  const dialog = page.locator('#cert-revoke-dialog');
  await dialog.waitFor({ state: 'visible' });
  const listed = await dialog.locator('#revoke-list li').allInnerTexts();
  assert(listed.length === 2 && listed.includes(cns[ids[0]]) && listed.includes(cns[ids[1]]), `listed ${listed}`);
  assert((await visibleText(dialog.locator('#revoke-lead'))).includes('2枚'), 'the lead does not say 2枚');
  assert(await dialog.getByLabel('ただちに、失効する').isChecked(), 'ただちに is not the default');
  assert(await dialog.locator('#revoke-on').isDisabled(), 'the date is open while ただちに');
  await dialogShot('confirm', '#cert-revoke-dialog');
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/revoke', 'POST')),
    dialog.getByRole('button', { name: '失効', exact: true }).click(),
  ]);
  assert(res.status() === 200, `POST /api/certificates/revoke answered ${res.status()}`);
  const sent = JSON.parse(res.request().postData());
  assert(sent.ids.length === 2 && !('revoke_on' in sent), `sent ${JSON.stringify(sent)}`);
  assert((await visibleText(page.locator('#cert-message'))).includes('失効しました'), 'no 失効しました');
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  for (const id of ids.slice(0, 2)) {
    const r = await rowOf(id);
    assert(r.status === 'revoked' && DATE_TIME.test(r.revoked), `row ${id}: ${r.status} ${r.revoked}`);
    assert((await r.box.count()) === 0, 'a revoked certificate still has a check box');
  }
  const after = await summaryShown();
  assert(after.issued === before.issued - 2 && after.available === before.available + 2,
    `発行数 ${before.issued}→${after.issued}, 追加発行可能数 ${before.available}→${after.available}`);
  await screenshot('revoked');
});

await step('日付を指定して: the picker allows tomorrow … 30 days; 失効予定 shows, 取消 undoes it', async () => {
  await (await rowOf(ids[2])).box.check();
  await page.getByRole('button', { name: '選択したものを失効' }).click();
  const dialog = page.locator('#cert-revoke-dialog');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByLabel('日付を指定して、失効する').check();
  const input = dialog.locator('#revoke-on');
  assert(await input.isEnabled(), 'the date stays closed');
  const min = await input.getAttribute('min');
  const max = await input.getAttribute('max');
  assert(min === tokyoDate(1).replaceAll('/', '-') && max === tokyoDate(30).replaceAll('/', '-'), `min ${min} max ${max}`);
  await input.fill(tokyoDate(31).replaceAll('/', '-'));
  await dialog.getByRole('button', { name: '失効', exact: true }).click();
  assert((await visibleText(dialog.locator('#revoke-on-error'))).includes('30日以内'), 'a date 31 days ahead was let through');
  const when = tokyoDate(3);
  await input.fill(when.replaceAll('/', '-'));
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/revoke', 'POST')),
    dialog.getByRole('button', { name: '失効', exact: true }).click(),
  ]);
  assert(res.status() === 200, `answered ${res.status()}`);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  let r = await rowOf(ids[2]);
  assert(r.status === 'revoke_scheduled' && r.revoked.includes(`失効予定 ${when}`), `row: ${r.status} ${r.revoked}`);
  await screenshot('scheduled');
  const [cres] = await Promise.all([
    page.waitForResponse((x) => isApi(x, '/api/certificates/revoke/cancel', 'POST')),
    page.locator(`#cert-table tbody tr[data-id="${ids[2]}"]`).getByRole('button', { name: /取消/ }).click(),
  ]);
  assert(cres.status() === 200, `cancel answered ${cres.status()}`);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  await page.waitForFunction((id) => document.querySelector(`#cert-table tbody tr[data-id="${id}"]`)?.dataset.status === 'issued', ids[2]);
  r = await rowOf(ids[2]);
  assert(r.revoked === '', `失効日 still says ${r.revoked}`);
});

await step('English: the button, the dialog and the statuses', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  assert(await page.getByRole('button', { name: 'Revoke selected' }).isVisible(), 'no Revoke selected');
  await (await rowOf(ids[2])).box.check();
  await page.getByRole('button', { name: 'Revoke selected' }).click();
  const dialog = page.locator('#cert-revoke-dialog');
  assert((await visibleText(dialog.locator('#revoke-lead'))).startsWith('Revoke these 1'), 'the lead is not English');
  assert(await dialog.getByLabel('Revoke on a date').isVisible(), 'no Revoke on a date');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: '日本語' }).click();
});

await step('no page errors, and every change sent the CSRF token', async () => {
  assert(problems.length === 0, problems.join('\n'));
}, { always: true });

clearTimeout(overall);
await browser.close();
console.log(`1..${count}`);
process.exit(failed ? 1 : 0);
