// Browser test of a user's language and the パスワード通知書 (issue 13): 利用者変更 switches the
// user's 通知メールの言語 to English; then on 利用者, check the user, open ▼一括操作 and press
// パスワード通知書（PDF）; the browser downloads a PDF that pdftotext (poppler-utils) reads: the
// user's login ID and password, the download site's URL and the tenant's name, in English; the
// page says what was downloaded. Screenshots go to $SHOMEI_ARTIFACTS as notice-pdf-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node notice-pdf.test.mjs

import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { apiGet, apiPost, assert, browse, ctl, finish, login, stack, tap, untilIssued } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('notice-pdf', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `npdf-${RUN}`;
const NAME = `通知書画面${RUN}`;
const PW = 'NoticePdf2test';
const EMAIL = `tsuchi.${RUN}@example.com`;

const { browser, page } = await browse(origin, state);
T.page = page;
let certId = 0;

const row = () => page.locator('#users-table tbody tr.user-first', { hasText: EMAIL });

await T.step(
  'a tenant of its own with the download site; a user with an issued certificate',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', NAME, '--name-en', `Notice UI ${RUN}`,
      '--quota', '5', '--features', 'admin_may_issue,download_site']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
    const r = await apiPost(page, '/api/users', {
      family_name: '通知', given_name: '花子', family_name_kana: 'ツウチ', given_name_kana: 'ハナコ',
      family_name_en: 'Tsuchi', given_name_en: 'Hanako', email: EMAIL, devices: [{ device: '01' }],
    });
    assert(r.status === 202, `register: ${r.status} ${JSON.stringify(r.body)}`);
    certId = r.body.certificates[0].id;
    await untilIssued(page);
  },
  { critical: true },
);

let userId = 0;
await T.step('利用者変更: 通知メールの言語 日本語 → 英語, shown in the review and on the page, stored', async () => {
  await page.goto(`${base}index.html#/users`);
  await page.locator('#users-table a.user-name', { hasText: '通知 花子' }).click();
  await page.locator('#user-facts').waitFor();
  userId = Number(new URL(page.url()).hash.replace(/^.*id=/, ''));
  assert((await page.locator('#user-facts').innerText()).includes('日本語'), 'the page does not say 日本語');
  await page.click('#user-edit');
  assert((await page.locator('#ue-lang').inputValue()) === 'ja', 'the dialog does not start on ja');
  await page.selectOption('#ue-lang', 'en');
  await page.click('#user-edit-dialog button[type="submit"]');
  const review = await page.locator('#ue-review').innerText();
  assert(review.includes('日本語 → 英語'), `review: ${review}`);
  await page.click('#ue-submit');
  await page.locator('#user-message', { hasText: '変更しました' }).waitFor();
  assert((await page.locator('#user-facts').innerText()).includes('英語'), 'the page still shows 日本語');
  const r = await apiGet(page, `/api/users/${userId}`);
  assert(r.body.lang === 'en', `stored: ${JSON.stringify(r.body)}`);
});

await T.step('▼一括操作 → パスワード通知書（PDF）: a PDF with the ID, password, URL and tenant', async () => {
  await page.goto(`${base}index.html#/users`);
  await row().waitFor();
  await page.click('#users-bulk');
  const entry = page.locator('#users-bulk-list button[data-entry="notice-pdf"]');
  assert(await entry.isDisabled(), 'パスワード通知書 is enabled with nothing checked');
  await page.click('#users-bulk');
  await row().locator('input.user-check').check();
  await page.click('#users-bulk');
  assert((await entry.innerText()).includes('パスワード通知書'), `the entry: ${await entry.innerText()}`);
  await T.screenshot('menu', { fullPage: false });
  const [dl] = await Promise.all([page.waitForEvent('download'), entry.click()]);
  assert(dl.suggestedFilename().endsWith('.pdf'), `file name ${dl.suggestedFilename()}`);
  const file = path.join(artifacts, `notice-pdf-${RUN}.pdf`);
  await dl.saveAs(file);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  const pin = (await page.evaluate(async (id) => (await fetch(`/api/certificates/${id}/pin`, { headers: { 'Accept-Language': 'ja' } })).text(), certId)).trim();
  assert(pin.length >= 8, `the certificate's password: ${pin}`);
  // in the user's language, English now: the tenant's English name, the English names
  for (const want of [EMAIL, pin, `${up.url.replace(/\/$/, '')}/dl/${SLUG}/`, `Notice UI ${RUN}`, 'To: Hanako Tsuchi', 'Password notice']) {
    assert(text.includes(want), `pdftotext does not find ${want} in:\n${text}`);
  }
  await page.locator('#users-message', { hasText: 'パスワード通知書' }).waitFor();
  await T.screenshot('downloaded', { fullPage: false });
  const h = await apiGet(page, '/api/audit?action=password_notice');
  assert(h.status === 200 && h.body.items.length === 1, `history: ${JSON.stringify(h.body).slice(0, 300)}`);
});

await finish(T, browser, state);
