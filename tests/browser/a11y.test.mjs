// Accessibility: axe-core (tests/browser/package.json, injected into the page) on every page and
// dialog of the portal and of the download site, in Japanese and in English, WCAG 2.1 A/AA and
// axe's best practices (colour contrast, landmarks, headings, names of buttons and fields). One
// TAP line per page or dialog and language; a failure lists each violation with its elements.
// Screenshots go to $SHOMEI_ARTIFACTS as a11y-NN-<name>-<lang>.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node a11y.test.mjs
//
// To cover a new page or dialog, add an entry to TARGETS: a name and open(page), which leaves the
// page showing it (the session is open; the language is already chosen).

import fs from 'node:fs';
import { createRequire } from 'node:module';

import { assert, browse, ctl, login, stack, tap } from './harness.mjs';

const require = createRequire(import.meta.url);
// evaluated through DevTools, which the pages' Content-Security-Policy (script-src 'self') allows
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const { up, base, origin, artifacts } = stack();
const T = tap('a11y', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `a11y-${RUN}`;
const LOGIN = `${SLUG}-admin`;
const PW = 'A11yTest2check';
const EMAIL = `a11y.${RUN}@example.com`;

const { browser, page } = await browse(origin, state);
T.page = page;

/** fetch from the page with its session (and CSRF token for changes). */
async function call(method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const h = { Accept: 'application/json', 'Accept-Language': 'ja' };
      if (m !== 'GET') {
        h['X-CSRF-Token'] = sessionStorage.getItem('shomei.csrf');
        h['Content-Type'] = 'application/json';
      }
      const r = await fetch(p, { method: m, headers: h, body: b ? JSON.stringify(b) : undefined });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    [method, path, body],
  );
}

/** The portal at hash, its view drawn. */
async function portal(hash, ready) {
  await page.goto(`${base}index.html#/${hash}`, { waitUntil: 'networkidle' });
  await page.locator('#app').waitFor({ state: 'visible' });
  if (ready) await page.locator(ready).first().waitFor({ state: 'visible' });
}

/** Open a dialog with the button and wait for it. */
async function dialog(button, id) {
  await page.click(button);
  await page.locator(id).waitFor({ state: 'visible' });
}

const certRow = () => page.locator('#cert-table tbody input.cert-check').first();
const userRow = () => page.locator('#users-table tbody tr.user-first', { hasText: EMAIL });

// Each page and dialog: name, whether it needs the session, and how to show it.
const TARGETS = [
  { name: 'login', session: false, open: async () => {
    await page.goto(`${base}login.html`, { waitUntil: 'networkidle' });
    await page.locator('#login-id').waitFor();
  } },
  { name: 'certificates', open: () => portal('certificates', '#cert-table') },
  { name: 'certificates: 追加 dialog', open: async () => {
    await portal('certificates', '#cert-table');
    await dialog('#cert-add', '#cert-add-dialog');
  } },
  { name: 'certificates: 失効 confirmation', open: async () => {
    await portal('certificates', '#cert-table');
    await certRow().check();
    await dialog('#cert-revoke', '#cert-revoke-dialog');
  } },
  { name: 'certificates: CSV一括失効 dialog', open: async () => {
    await portal('certificates', '#cert-table');
    await dialog('#cert-revoke-csv', '#rcsv-dialog');
  } },
  { name: 'users', open: () => portal('users', '#users-table') },
  { name: 'users: 利用者登録 dialog', open: async () => {
    await portal('users', '#users-table');
    await dialog('#users-new', '#user-dialog');
  } },
  { name: 'users: CSV一括登録 dialog', open: async () => {
    await portal('users', '#users-table');
    await dialog('#users-import', '#import-dialog');
  } },
  { name: 'users: 1次削除 confirmation', open: async () => {
    await portal('users', '#users-table');
    await userRow().waitFor();
    await userRow().locator('button.udel-delete').click();
    await page.locator('#udel-dialog').waitFor({ state: 'visible' });
  } },
  { name: 'users: 再発行 window', open: async () => {
    await portal('users', '#users-table');
    await userRow().waitFor();
    await userRow().locator('input.user-check').check();
    await page.click('#users-bulk');
    await dialog('#users-bulk-list button[data-entry="reissue"]', '#urev-dialog');
    await page.locator('#urev-table tbody tr, #urev-none:not([hidden])').first().waitFor();
  } },
  { name: 'users: CSV一括再発行 dialog', open: async () => {
    await portal('users', '#users-table');
    await dialog('#users-reissue-csv', '#xcsv-dialog');
  } },
  { name: 'users: ▼一括操作 menu', open: async () => {
    await portal('users', '#users-table');
    await userRow().waitFor();
    await userRow().locator('input.user-check').check();
    await page.click('#users-bulk');
    await page.locator('#users-bulk-list').waitFor({ state: 'visible' });
  } },
  { name: 'users: CSV一括利用者マスター削除 dialog', open: async () => {
    await portal('users', '#users-table');
    await page.click('#users-bulk');
    await dialog('#users-bulk-list button[data-entry="purge-csv"]', '#purge-dialog');
  } },
  { name: 'user page (利用者情報)', open: async () => {
    await portal('users', '#users-table');
    await userRow().locator('a.user-name').click();
    await page.locator('#user-certs, #user-devices').first().waitFor({ state: 'visible' });
  } },
  { name: 'user page: 利用者変更 dialog', open: async () => {
    await portal('users', '#users-table');
    await userRow().locator('a.user-name').click();
    await dialog('#user-edit', '#user-edit-dialog');
  } },
  { name: 'user page: 利用デバイスの追加 dialog', open: async () => {
    await portal('users', '#users-table');
    await userRow().locator('a.user-name').click();
    await dialog('#user-add-device', '#user-add-dialog');
  } },
  { name: 'audit', open: () => portal('audit', '#audit-table tbody tr') },
  { name: 'settings', open: () => portal('settings', '#view form, #view .card') },
  { name: 'password', open: () => portal('password', '#password-submit') },
  { name: 'download site', session: false, open: async () => {
    await page.goto(`${base}dl/${SLUG}/`, { waitUntil: 'networkidle' });
    await page.locator('#lang-ja').waitFor();
  } },
];

/** Choose the language the way a user does, for the portal and the download site. */
async function setLanguage(lang) {
  await page.goto(`${base}login.html`, { waitUntil: 'networkidle' });
  await page.evaluate((l) => {
    localStorage.setItem('shomei.lang', l);
    localStorage.setItem('shomei-dl-lang', l);
  }, lang);
}

/** axe-core's violations on the page as it is now. */
async function axe() {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  });
}

await T.step(
  'a tenant with every service, an administrator, a user with a certificate, the download site open',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `アクセシビリティ${RUN}`, '--name-en', `A11y ${RUN}`,
      '--quota', '5', '--features', 'validity_period,org_units,install_restriction,download_site,admin_may_issue,notify_users']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', LOGIN, '--password', PW]);
    await login(page, base, LOGIN, PW);
    state.loggedIn = true;
    const r = await call('POST', '/api/users', {
      family_name: '試験', given_name: '花子', family_name_kana: 'シケン', given_name_kana: 'ハナコ',
      family_name_en: 'Shiken', given_name_en: 'Hanako', email: EMAIL, devices: [{ device: '01' }],
    });
    assert(r.status === 202, `POST /api/users answered ${r.status}: ${JSON.stringify(r.body)}`);
    const s = await call('PUT', '/api/tenant/settings', { download_allowlist: ['127.0.0.0/8', '::1'] });
    assert(s.status === 200, `PUT /api/tenant/settings answered ${s.status}`);
    for (let i = 0; i < 60; i++) {
      const c = await call('GET', '/api/certificates?status=valid');
      if ((c.body?.items || []).some((x) => x.status === 'issued')) return;
      await page.waitForTimeout(500);
    }
    throw new Error('the certificate was not issued within 30 s');
  },
  { critical: true },
);

for (const lang of ['ja', 'en']) {
  for (const [i, target] of TARGETS.entries()) {
    await T.step(`axe: ${target.name} (${lang}) has no violations`, async () => {
      if (target.session === false) {
        await page.context().clearCookies();
      } else if (!(await page.context().cookies()).some((c) => c.name === '__Host-shomei')) {
        await login(page, base, LOGIN, PW);
      }
      await setLanguage(lang);
      await target.open();
      const htmlLang = await page.evaluate(() => document.documentElement.lang);
      assert(htmlLang === lang, `<html lang> is ${htmlLang}, not ${lang}`);
      await T.screenshot(`${lang}-${i}-${target.name.replace(/[^A-Za-z0-9]+/g, '_')}`, { fullPage: false });
      const v = await axe();
      if (v.length) {
        const text = v.map((x) => `${x.id} (${x.impact}): ${x.help}\n    ${x.nodes.join('\n    ')}`).join('\n');
        throw new Error(`${v.length} violation(s):\n${text}`);
      }
    });
  }
}

await T.step('no page errors, console errors or API requests without language or CSRF token', async () => {
  assert(state.problems.length === 0, state.problems.join('\n'));
}, { always: true });

await browser.close();
T.done();
