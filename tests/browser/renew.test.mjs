// Browser test of the renewal page (/dl/<tenant>/renew, issue 13): headless Debian Chromium
// driven by playwright-core, presenting a user's client certificate (newContext's
// clientCertificates, the PKCS#12 the administrator's API hands out). The administrator registers
// a user whose certificate expires in 10 days; the user's browser opens the renewal link, sees the
// certificate in Japanese and English, asks for the new one, downloads it (a PKCS#12) and is shown
// its password once; the old certificate is then revoked. A browser without a certificate sees the
// refusal in both languages.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node renew.test.mjs

import fs from 'node:fs';
import path from 'node:path';
import {
  apiGet,
  apiPost,
  assert,
  contextOptions,
  fail,
  launch,
  login,
  stack,
  tap,
  tokyoDate,
  untilApi,
  visibleText,
  watch as watchPage,
} from './harness.mjs';

const TOTAL_TIMEOUT_MS = 6 * 60_000;

const { up, base: BASE, origin: ORIGIN, artifacts: ARTIFACTS } = stack();
if (!up.renew_url) fail('up.json has no renew_url (the renewal server)');
const RENEW = up.renew_url.replace(/\/$/, '');
const TAG = Math.random().toString(36).slice(2, 8).replace(/[^a-z]/g, 'x');
const T = tap('renew', ARTIFACTS);
const { step, diag } = T;
const state = { problems: [] };
const problems = state.problems;
// the renewal page answers 401/403/409 by design; Chromium logs those as failed resources
const watch = (p) => watchPage(p, state, { statuses: [401, 403, 409] });

const overall = setTimeout(() => {
  console.log(`Bail out! the whole run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

const browser = await launch();
const admin = await browser.newContext(contextOptions());
const page = await admin.newPage();
T.page = page;
watch(page);
const email = `renew-${TAG}@example.com`;
const p12File = path.join(ARTIFACTS, `renew-${TAG}-old.p12`);
let certId = null;
let userId = null;
let password = null;
let savedList = [];

diag(`portal ${BASE}, renewal server ${RENEW}`);

await step(
  'the administrator registers a user whose certificate expires in 10 days, and gets its PKCS#12',
  async () => {
    await login(page, BASE, up.login_id, up.password);
    const tenant = (await apiGet(page, '/api/tenant')).body;
    savedList = tenant.download_allowlist || [];
    const s = await page.evaluate(async (list) => {
      const r = await fetch('/api/tenant/settings', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') },
        body: JSON.stringify({ download_allowlist: list }),
      });
      return r.status;
    }, [...new Set([...savedList, '127.0.0.1/32', '::1/128'])]);
    assert(s === 200, `PUT /api/tenant/settings answered ${s}`);
    const r = await apiPost(page, '/api/users', {
      family_name: '更新', given_name: '花子', family_name_kana: 'コウシン', given_name_kana: 'ハナコ',
      family_name_en: 'Koshin', given_name_en: 'Hanako', email, devices: [{ device: '01', valid_to: tokyoDate(10) }],
    });
    assert(r.status === 202, `POST /api/users answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    certId = r.body.certificates[0].id;
    userId = r.body.user.id;
    await untilApi(page, `/api/certificates/${certId}`, (b) => b.status === 'issued', { what: `certificate ${certId} issued` });
    const got = await page.evaluate(async (id) => {
      const p12 = await fetch(`/api/certificates/${id}/p12`);
      const pin = await fetch(`/api/certificates/${id}/pin`);
      const bytes = new Uint8Array(await p12.arrayBuffer());
      let bin = '';
      for (const b of bytes) bin += String.fromCharCode(b);
      return { status: p12.status, p12: btoa(bin), pin: (await pin.text()).trim() };
    }, certId);
    assert(got.status === 200 && got.pin, `p12 answered ${got.status}`);
    fs.writeFileSync(p12File, Buffer.from(got.p12, 'base64'));
    password = got.pin;
  },
  { critical: true },
);

const user = await browser.newContext(contextOptions({
  viewport: { width: 1024, height: 800 },
  acceptDownloads: true,
  clientCertificates: [{ origin: RENEW, pfxPath: p12File, passphrase: password || '' }],
}));
const renew = await user.newPage();
watch(renew);
const LINK = `${RENEW}/dl/${up.tenant}/renew?certificate=${certId}`;

await step('the user opens the renewal link with the certificate: it is shown, renewable, in Japanese', async () => {
  await renew.goto(LINK);
  await renew.locator('body[data-state="renewable"]').waitFor({ timeout: 30_000 });
  assert((await visibleText(renew.locator('h1'))) === '証明書の更新', 'title');
  assert((await visibleText(renew.locator('#cur-email'))) === email, 'the certificate shown is not the user\'s');
  assert((await visibleText(renew.locator('#cur-device'))) === 'WindowsPC', 'device');
  assert((await visibleText(renew.locator('#hint'))).includes('更新できます'), 'no renewable hint');
  assert((await visibleText(renew.locator('#renew'))) === '新しい証明書を発行する', 'renew button');
  assert(!(await renew.locator('#download').isVisible()), 'the download button shows before the renewal');
  await T.screenshot('renewable-ja', { page: renew });
});

await step('English switch: the same page in English, then back', async () => {
  await renew.click('#lang-en');
  assert((await visibleText(renew.locator('h1'))) === 'Certificate renewal', 'title (en)');
  assert((await visibleText(renew.locator('#renew'))) === 'Issue a new certificate', 'button (en)');
  assert((await visibleText(renew.locator('#cur-device'))) === 'Windows PC', 'device (en)');
  await T.screenshot('renewable-en', { page: renew });
  await renew.click('#lang-ja');
  assert((await visibleText(renew.locator('h1'))) === '証明書の更新', 'title (ja again)');
});

let fileName = '';
await step('発行 → the new certificate is issued; ダウンロード gives a PKCS#12 and its password, once', async () => {
  await renew.click('#renew');
  await renew.locator('body[data-state="ready"]').waitFor({ timeout: 90_000 });
  assert((await visibleText(renew.locator('#hint'))).includes('一度だけ'), 'no once-only hint');
  await T.screenshot('ready', { page: renew });
  const [download] = await Promise.all([renew.waitForEvent('download'), renew.click('#download')]);
  const file = path.join(ARTIFACTS, `renew-${TAG}-new.p12`);
  await download.saveAs(file);
  const data = fs.readFileSync(file);
  fs.unlinkSync(file);
  fileName = download.suggestedFilename();
  assert(data.length > 500 && data[0] === 0x30, `not a PKCS#12 (${data.length} bytes)`);
  assert(fileName.endsWith('.p12'), `file name ${fileName}`);
  await renew.locator('body[data-state="done"]').waitFor();
  const pw = await visibleText(renew.locator('#new-password'));
  assert(pw.length >= 8 && pw !== password, `the password shown: ${pw}`);
  assert((await visibleText(renew.locator('#done h2'))) === '更新が完了しました', 'done title');
  await T.screenshot('done', { page: renew });
});

await step('the old certificate is revoked (superseded) and the new one is downloaded', async () => {
  await untilApi(page, `/api/certificates/${certId}`, (b) => b.status === 'revoked', { what: `certificate ${certId} revoked` });
  const u = await apiGet(page, `/api/users/${userId}`);
  const rows = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof v.id === 'number' && typeof v.status === 'string' && 'serial' in v) rows.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(u.body);
  diag(`certificates of user ${userId}: ${rows.map((x) => `${x.id}:${x.status}`).join(', ')}`);
  assert(rows.some((x) => x.id !== certId && x.status === 'downloaded'), 'no downloaded new certificate listed');
});

await step('reopening the page with the old certificate: refused, it is revoked now', async () => {
  await renew.goto(LINK);
  await renew.locator('body[data-refusal="revoked"]').waitFor({ timeout: 30_000 });
  assert((await visibleText(renew.locator('#status'))).includes('失効'), 'no revoked message');
  assert(!(await renew.locator('#current').isVisible()), 'the certificate card is shown');
  await T.screenshot('revoked', { page: renew });
});

const bare = await browser.newContext(contextOptions());
const nocert = await bare.newPage();
watch(nocert);

await step('a browser without a certificate sees the refusal, in Japanese and in English', async () => {
  await nocert.goto(LINK);
  await nocert.locator('body[data-refusal="no_certificate"]').waitFor({ timeout: 30_000 });
  assert((await visibleText(nocert.locator('#status'))).includes('証明書が提示されませんでした'), 'no Japanese refusal');
  await T.screenshot('no-certificate-ja', { page: nocert });
  await nocert.click('#lang-en');
  await nocert.locator('#status', { hasText: 'No certificate was presented' }).waitFor();
  await T.screenshot('no-certificate-en', { page: nocert });
  await nocert.click('#lang-ja');
});

await step(
  'put the allow-list back; no script errors or CSP refusals on any page',
  async () => {
    const s = await page.evaluate(async (list) => {
      const r = await fetch('/api/tenant/settings', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') },
        body: JSON.stringify({ download_allowlist: list }),
      });
      return r.status;
    }, savedList);
    assert(s === 200, `restoring the allow-list answered ${s}`);
    try { fs.unlinkSync(p12File); } catch { /* gone already */ }
    assert(problems.length === 0, problems.join('\n'));
  },
  { always: true },
);

await browser.close();
clearTimeout(overall);
T.done();
