// Browser test of 設定 and the end-user download site (NRA 4-3): headless Debian Chromium driven
// by playwright-core against the stack of $SHOMEI_UP_JSON. The administrator edits the allow-list
// (with the 0.0.0.0/0 warning and a refused entry), sees the site's URL and QR code and the user
// list's warning; then a phone-sized browser logs in to /dl/<tenant>/ and downloads a certificate.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node dlsite.test.mjs

import fs from 'node:fs';
import path from 'node:path';
import {
  assert,
  contextOptions,
  ctl as upCtl,
  launch,
  stack,
  tap,
  visibleText,
  watch as watchPage,
} from './harness.mjs';

const TOTAL_TIMEOUT_MS = 6 * 60_000;

const { up, base: BASE, origin: ORIGIN, artifacts: ARTIFACTS } = stack();
const SITE = `${ORIGIN}/dl/${up.tenant}/`;
const TAG = Math.random().toString(36).slice(2, 8).replace(/[^a-z]/g, 'x');
const T = tap('dlsite', ARTIFACTS);
const { step, diag } = T;
const state = { problems: [] };
const problems = state.problems;
let page = null;

/** Run shomeictl against the stack (exit 3, "already exists", is fine). */
const ctl = (...args) => upCtl(up, args, { okExists: true });
const screenshot = (name, p = page) => T.screenshot(name, { page: p });
// the download site answers 403/404/429 by design; Chromium logs those as failed resources
const watch = (p) => watchPage(p, state, { statuses: [401, 403, 404, 422, 429] });

/** fetch() inside the portal page, with the session's CSRF token. */
async function portalApi(method, url, body) {
  return page.evaluate(
    async ([m, u, b]) => {
      const h = { 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') || '' };
      if (b !== null) h['Content-Type'] = 'application/json';
      const r = await fetch(u, { method: m, headers: h, body: b === null ? undefined : JSON.stringify(b) });
      const text = await r.text();
      return { status: r.status, text };
    },
    [method, url, body === undefined ? null : body],
  );
}

const overall = setTimeout(() => {
  console.log(`Bail out! the whole run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

const browser = await launch();
const admin = await browser.newContext(contextOptions({ viewport: { width: 1366, height: 900 } }));
page = await admin.newPage();
T.page = page;
watch(page);
const email = `dlb-${TAG}@example.com`;
let certId = null;
let password = null;
let savedList = [];

diag(`portal ${BASE}, download site ${SITE}`);

await step(
  'the administrator logs in and registers a user whose certificate the site will hand out',
  async () => {
    await page.goto(`${BASE}login.html`);
    await page.fill('#login-id', up.login_id);
    await page.fill('#login-password', up.password);
    await page.click('#login-submit');
    await page.locator('#app').waitFor({ timeout: 30_000 });
    const tenant = JSON.parse((await portalApi('GET', '/api/tenant')).text);
    savedList = tenant.download_allowlist || [];
    ctl('tenant', 'set', '--slug', up.tenant, '--quota', String(tenant.issued + 10));
    const r = await portalApi('POST', '/api/users', {
      family_name: '配付', given_name: '花子', family_name_kana: 'ハイフ', given_name_kana: 'ハナコ',
      family_name_en: 'Haifu', given_name_en: 'Hanako', email, devices: [{ device: '20' }],
    });
    assert(r.status === 202, `POST /api/users answered ${r.status}: ${r.text.slice(0, 300)}`);
    certId = JSON.parse(r.text).certificates[0].id;
  },
  { critical: true },
);

await step('設定: the allow-list editor refuses bad input and warns about 0.0.0.0/0', async () => {
  await page.goto(`${BASE}#/settings`);
  await page.locator('#allow-add').waitFor();
  assert((await visibleText(page.locator('#view .page-title'))) === '設定', 'title');
  // clear what other tests left, then add
  for (let i = (await page.locator('#allow-list tr').count()); i > 0; i -= 1) {
    await page.locator('#allow-list tr').first().getByRole('button').click();
  }
  await page.fill('#allow-add', 'localhost');
  await page.click('#allow-add-button');
  assert((await visibleText(page.locator('#allow-add-error'))).includes('形式'), 'a host name is refused in the page');
  await page.fill('#allow-add', '10.0.0.0/33');
  await page.click('#allow-add-button');
  assert((await visibleText(page.locator('#allow-add-error'))).includes('プレフィックス'), 'a /33 is refused in the page');
  for (const v of ['127.0.0.1', '::1', '0.0.0.0/0']) {
    await page.fill('#allow-add', v);
    await page.click('#allow-add-button');
  }
  assert((await page.locator('#allow-list tr').count()) === 3, 'three entries listed');
  assert((await visibleText(page.locator('#allow-warning'))).includes('推奨しません'), 'no 0.0.0.0/0 warning');
  await screenshot('settings-warning');
  // host bits are refused when added, naming the network meant (the server refuses them too:
  // users-manage.test.mjs sends one itself)
  await page.fill('#allow-add', '192.168.1.5/24');
  await page.click('#allow-add-button');
  const hb = await visibleText(page.locator('#allow-add-error'));
  assert(hb.includes('ホスト部') && hb.includes('192.168.1.0/24'), `host bits: ${hb}`);
  assert((await page.locator('#allow-list tr').count()) === 3, 'the entry with host bits was listed');
  await screenshot('settings-refused');
  // remove 0.0.0.0/0, save
  await page.locator('#allow-list tr[data-index="2"]').getByRole('button').click();
  assert((await page.locator('#allow-warning').count()) === 0, 'the warning stays after removing 0.0.0.0/0');
  const [ok] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/tenant/settings'),
    page.click('#settings-save'),
  ]);
  assert(ok.status() === 200, `PUT answered ${ok.status()}`);
  assert((await visibleText(page.locator('#settings-success'))).includes('保存しました'), 'no success message');
  const saved = JSON.parse((await portalApi('GET', '/api/tenant')).text).download_allowlist;
  assert(JSON.stringify(saved) === JSON.stringify(['127.0.0.1/32', '::1/128']), `stored ${JSON.stringify(saved)}`);
});

await step('設定: 証明書更新の受付期間 refuses 3651 days beside its field, then saves 15 / 0 days', async () => {
  await page.locator('#renew-window').waitFor();
  assert((await page.inputValue('#renew-before')) === '30' && (await page.inputValue('#renew-after')) === '30',
    'the window shows 30 / 30 days');
  await page.fill('#renew-before', '3651');
  const [bad] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/tenant/settings'),
    page.click('#settings-save'),
  ]);
  assert(bad.status() === 422, `PUT with 3651 days answered ${bad.status()}`);
  assert((await visibleText(page.locator('#renew-before-error'))).includes('0〜3650'), 'no error beside the field');
  await page.locator('#renew-window').scrollIntoViewIfNeeded();
  await screenshot('settings-renew-refused');
  await page.fill('#renew-before', '15');
  await page.fill('#renew-after', '0');
  const [ok] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/tenant/settings'),
    page.click('#settings-save'),
  ]);
  assert(ok.status() === 200, `PUT answered ${ok.status()}`);
  const t = JSON.parse((await portalApi('GET', '/api/tenant')).text);
  assert(t.renew_before_days === 15 && t.renew_after_days === 0, `stored ${t.renew_before_days} / ${t.renew_after_days}`);
  const back = await portalApi('PUT', '/api/tenant/settings', { renew_before_days: 30, renew_after_days: 30 });
  assert(back.status === 200, `restoring the window: ${back.status}`);
  await page.reload();
  await page.locator('#renew-window').waitFor();
});

await step('設定: 証明書ダウンロード画面の表示 shows the URL and its QR code; the CSV carries its warning', async () => {
  assert((await visibleText(page.locator('#site-url'))) === SITE, 'wrong site URL');
  const qr = page.locator('#site-qr');
  await qr.waitFor();
  const size = await qr.evaluate((img) => (img.complete ? img.naturalWidth : 0));
  assert(size > 0, 'the QR code image did not load');
  const box = await qr.boundingBox();
  assert(box && box.width >= 150, 'the QR code is too small to scan');
  assert((await visibleText(page.locator('#csv-warning'))).includes('取り扱いに注意'), 'no CSV warning');
  // a button that fetches the CSV (a refusal is said, an expired session goes to the login page)
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#csv-download')]);
  assert(csvDl.suggestedFilename().endsWith('.csv'), `CSV download: ${csvDl.suggestedFilename()}`);
  await page.locator('#site-card').scrollIntoViewIfNeeded();
  await screenshot('settings-site');
});

await step(
  'the certificate is issued and its download password read',
  async () => {
    const end = Date.now() + 80_000;
    let status = '';
    while (Date.now() < end) {
      status = JSON.parse((await portalApi('GET', `/api/certificates/${certId}`)).text).status;
      if (status === 'issued') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert(status === 'issued', `certificate ${certId} is ${status}`);
    const pin = await portalApi('GET', `/api/certificates/${certId}/pin`);
    assert(pin.status === 200, `pin answered ${pin.status}`);
    password = pin.text;
  },
  { critical: true },
);

const phone = await browser.newContext(contextOptions({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
  isMobile: true, hasTouch: true, acceptDownloads: true }));
const mobile = await phone.newPage();
watch(mobile);

await step('the end-user site on a phone: a wrong password is refused, the right one lists the certificate', async () => {
  await mobile.goto(SITE);
  await mobile.locator('#login-form').waitFor();
  assert((await visibleText(mobile.locator('h1'))) === '証明書ダウンロード', 'title');
  const width = await mobile.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 390, `the page is wider than the phone (${width}px)`);
  await mobile.fill('#login-id', email);
  await mobile.fill('#login-password', 'wrong-password');
  await mobile.click('#login-submit');
  assert((await visibleText(mobile.locator('#login-error'))).includes('正しくありません'), 'no error for a wrong password');
  await screenshot('dl-login-error', mobile);
  await mobile.fill('#login-password', password);
  await mobile.click('#login-submit');
  await mobile.locator(`#cert-list li[data-id="${certId}"]`).waitFor();
  assert((await visibleText(mobile.locator('#cert-list li .cn'))) === 'Haifu Hanako', 'the certificate is not listed');
  assert((await mobile.locator('#cert-list li').count()) === 1, 'more than the one certificate is listed');
  await screenshot('dl-list', mobile);
});

await step('the phone downloads the certificate: a PKCS#12, and it becomes ダウンロード済', async () => {
  const [download] = await Promise.all([
    mobile.waitForEvent('download'),
    mobile.locator(`#cert-list li[data-id="${certId}"] a.primary`).click(),
  ]);
  const file = path.join(ARTIFACTS, `dlsite-${TAG}.p12`);
  await download.saveAs(file);
  const data = fs.readFileSync(file);
  fs.unlinkSync(file);
  assert(data.length > 500 && data[0] === 0x30, `not a PKCS#12 (${data.length} bytes)`);
  assert(download.suggestedFilename().endsWith('.p12'), `file name ${download.suggestedFilename()}`);
  await mobile.locator('#cert-list .badge.downloaded').waitFor({ timeout: 10_000 });
  assert((await visibleText(mobile.locator('#cert-list .badge'))) === '証明書ダウンロード済', 'status not shown');
  const hist = JSON.parse((await portalApi('GET', '/api/audit?action=certificate_download')).text);
  assert(hist.items.some((i) => i.detail.includes('ダウンロードサイト') && i.detail.includes(email)), 'no history entry');
  await screenshot('dl-downloaded', mobile);
});

await step('the site switches to English, and logs out', async () => {
  await mobile.click('#lang-en');
  assert((await visibleText(mobile.locator('h1'))) === 'Certificate download', 'not English');
  assert((await visibleText(mobile.locator('#cert-list .badge'))) === 'Downloaded', 'status not English');
  await mobile.click('#logout');
  await mobile.locator('#login-form').waitFor();
  await mobile.reload();
  await mobile.locator('#login-form').waitFor();
  await mobile.click('#lang-ja');
});

await step('an address outside the list sees the refusal, not the login form', async () => {
  const r = await portalApi('PUT', '/api/tenant/settings', { download_allowlist: ['192.0.2.0/24'] });
  assert(r.status === 200, `PUT answered ${r.status}`);
  await mobile.goto(SITE);
  assert((await visibleText(mobile.locator('#status'))).includes('IPアドレス'), 'no refusal message');
  assert(!(await mobile.locator('#login').isVisible()), 'the login form is shown');
  await screenshot('dl-refused', mobile);
});

await step(
  'put the allow-list back; no script errors or CSP refusals on any page',
  async () => {
    const r = await portalApi('PUT', '/api/tenant/settings', { download_allowlist: savedList });
    assert(r.status === 200, `restoring the allow-list answered ${r.status}`);
    assert(problems.length === 0, problems.join('\n'));
  },
  { always: true },
);

await browser.close();
clearTimeout(overall);
T.done();
