// Browser test of 利用者's 再発行 and 失効 (NRA 5-1, 6-1): a tenant with O/OU, two users with a
// certificate each; one user checked, 再発行 with a new OU1 through 選択内容の確認 and 受付完了:
// the new certificate appears issued beside the old one, 失効済 with its 失効日, and 表示 有効のみ
// hides the old one; the other user checked, 失効 日付を指定して (the picker limited to tomorrow …
// 30 days) shows 失効予定 with the date; CSV一括再発行 refuses a bad file by line; English texts.
// Screenshots go to $SHOMEI_ARTIFACTS as users-revoke-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node users-revoke.test.mjs

import { assert, browse, ctl, dialogShot, isApi, login, stack, tap, tokyoDate, visibleText } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('users-revoke', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `urev-${RUN}`;
const PW = 'UserRev2test';
const TARO = `saihakko.${RUN}@example.com`;
const HANA = `shikko.${RUN}@example.com`;

const { browser, page } = await browse(origin, state);
T.page = page;

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

async function settled() {
  for (let i = 0; i < 90; i++) {
    const t = await call('GET', '/api/tenant');
    if (t.body && !t.body.issuing) return t.body;
    await page.waitForTimeout(1000);
  }
  throw new Error('certificates still issuing after 90 s');
}

const firstRow = (email) => page.locator('#users-table tbody tr.user-first', { hasText: email });
/** The rows (one per certificate) of the user with this e-mail: [{status, text}]. */
async function certRows(email) {
  return page.evaluate((e) => {
    const out = [];
    let on = false;
    for (const tr of document.querySelectorAll('#users-table tbody tr')) {
      if (tr.classList.contains('user-first')) on = tr.textContent.includes(e);
      if (on) out.push({ status: tr.dataset.status, text: tr.querySelector('.col-status')?.innerText || '' });
    }
    return out;
  }, email);
}

async function openList(hash = '') {
  await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users')),
    page.goto(`${base}index.html#/users${hash}`).then(() => page.reload()),
  ]);
  await page.waitForSelector('#users-loading', { state: 'hidden' });
}

let taroIds = [];

await T.step(
  'a tenant with O/OU; two users with an issued certificate each',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `再発行画面${RUN}`, '--name-en', `Reissue UI ${RUN}`,
      '--quota', '5', '--features', 'admin_may_issue,org_units']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
    for (const [email, en, given, kana] of [[TARO, 'Taro', '太郎', 'タロウ'], [HANA, 'Hanako', '花子', 'ハナコ']]) {
      const r = await call('POST', '/api/users', {
        family_name: '山田', given_name: given, family_name_kana: 'ヤマダ', given_name_kana: kana,
        family_name_en: 'Yamada', given_name_en: en, email, devices: [{ device: '01', o: 'OldOrg', ou1: 'OldOU' }],
      });
      assert(r.status === 202, `register: ${r.status} ${JSON.stringify(r.body)}`);
      if (email === TARO) taroIds = r.body.certificates.map((c) => c.id);
    }
    await settled();
  },
  { critical: true },
);

let before = null;
await T.step('再発行: the dialog lists the certificate, O/OU fields, 確認 says what happens, 受付完了', async () => {
  before = await settled();
  await openList();
  await page.click('#users-bulk');
  assert(await page.locator('#users-bulk-list button[data-entry="reissue"]').isDisabled(), '再発行 is enabled with nothing checked');
  await page.click('#users-bulk');
  await firstRow(TARO).locator('input.user-check').check();
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="reissue"]');
  const dialog = page.locator('#urev-dialog');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('#urev-table tbody tr').first().waitFor();
  const text = await dialog.innerText();
  assert(text.includes('利用者証明書一括再発行') && text.includes('Yamada Taro') && text.includes('対象の証明書を失効してから再発行します'),
    `the input step: ${text}`);
  assert(await dialog.locator('#urev-org').isVisible(), 'no O/OU fields for an org_units tenant');
  assert(!(await dialog.locator('#urev-validity').isVisible()), 'validity fields without the feature');
  assert(await dialog.getByLabel('ただちに、失効する').isChecked(), 'ただちに is not the default');
  await dialog.locator('#urev-ou1').fill('NewOU');
  await dialogShot(T, page, 'reissue-input', '#urev-dialog');
  await dialog.locator('#urev-next').click();
  await dialog.locator('#urev-step-confirm').waitFor({ state: 'visible' });
  const c = await visibleText(dialog.locator('#urev-step-confirm'));
  assert(c.includes('ただちに失効し、新しい証明書を発行します') && c.includes('Yamada Taro') && c.includes('NewOU'),
    `the confirmation: ${c}`);
  assert((await visibleText(dialog.locator('#urev-title'))).includes('選択内容の確認'), 'no 選択内容の確認 title');
  await dialogShot(T, page, 'reissue-confirm', '#urev-dialog');
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/reissue', 'POST')),
    dialog.locator('#urev-ok').click(),
  ]);
  assert(res.status() === 200, `POST /api/certificates/reissue answered ${res.status()}`);
  const sent = JSON.parse(res.request().postData());
  assert(sent.ids.length === 1 && sent.ids[0] === taroIds[0] && sent.ou1 === 'NewOU' && !('revoke_on' in sent) && !('o' in sent),
    `sent ${JSON.stringify(sent)}`);
  await dialog.locator('#urev-step-done').waitFor({ state: 'visible' });
  assert((await visibleText(dialog.locator('#urev-title'))).includes('受付完了'), 'no 受付完了');
  assert((await visibleText(dialog.locator('#urev-done-lead'))).includes('再発行を受け付けました'), 'no 受け付けました');
  await dialogShot(T, page, 'reissue-done', '#urev-dialog');
  await dialog.locator('#urev-close').click();
});

await T.step('the new certificate appears issued, the old one 失効済 with its 失効日; 発行数 unchanged', async () => {
  await settled();
  await page.click('#users-refresh');
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  let rows = [];
  for (let i = 0; i < 30; i++) {
    rows = await certRows(TARO);
    if (rows.length === 2 && rows.some((r) => r.status === 'issued')) break;
    await page.waitForTimeout(1000);
    await page.click('#users-refresh');
  }
  const old = rows.find((r) => r.status === 'revoked');
  const neu = rows.find((r) => r.status === 'issued');
  assert(old && neu, `rows: ${JSON.stringify(rows)}`);
  assert(old.text.includes('失効済') && /失効日 \d{4}\/\d{2}\/\d{2}/.test(old.text), `old: ${old.text}`);
  assert(neu.text.includes('発行済'), `new: ${neu.text}`);
  const after = await settled();
  assert(after.issued === before.issued && after.available === before.available,
    `発行数 ${before.issued}→${after.issued}, 追加発行可能数 ${before.available}→${after.available}`);
  const u = await call('GET', `/api/users/${(await call('GET', '/api/users?email=' + encodeURIComponent(TARO))).body.items[0].id}`);
  const fresh = u.body.certificates.find((x) => x.status === 'issued');
  assert(fresh && fresh.cn === 'Yamada Taro', `new certificate ${JSON.stringify(fresh)}`);
  await T.screenshot('reissued');
});

await T.step('表示 有効のみ hides the revoked one', async () => {
  await page.selectOption('#users-show', 'valid');
  await page.waitForFunction(() => window.location.hash.includes('show=valid'));
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  const rows = await certRows(TARO);
  assert(rows.length === 1 && rows[0].status === 'issued', `rows: ${JSON.stringify(rows)}`);
  await page.selectOption('#users-show', 'all');
  await page.waitForFunction(() => !window.location.hash.includes('show=valid'));
});

await T.step('失効 日付を指定して: the picker is tomorrow … 30 days; 確認, 受付完了, then 失効予定 with the date', async () => {
  await openList();
  await firstRow(HANA).locator('input.user-check').check();
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="revoke"]');
  const dialog = page.locator('#urev-dialog');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('#urev-table tbody tr').first().waitFor();
  assert((await visibleText(dialog.locator('#urev-title'))).includes('利用者証明書一括失効'), 'not the 失効 window');
  assert(!(await dialog.locator('#urev-org').isVisible()), 'O/OU fields on 失効');
  await dialog.getByLabel('日付を指定して、失効する').check();
  const input = dialog.locator('#urev-on');
  const min = await input.getAttribute('min');
  const max = await input.getAttribute('max');
  assert(min === tokyoDate(1).replaceAll('/', '-') && max === tokyoDate(30).replaceAll('/', '-'), `min ${min} max ${max}`);
  await input.fill(tokyoDate(31).replaceAll('/', '-'));
  await dialog.locator('#urev-next').click();
  assert((await visibleText(dialog.locator('#urev-on-error'))).includes('30日以内'), 'a date 31 days ahead was let through');
  const when = tokyoDate(5);
  await input.fill(when.replaceAll('/', '-'));
  await dialog.locator('#urev-next').click();
  const c = await visibleText(dialog.locator('#urev-step-confirm'));
  assert(c.includes(`${when} の午前0時に失効します`) && c.includes('Yamada Hanako'), `the confirmation: ${c}`);
  await dialogShot(T, page, 'revoke-confirm', '#urev-dialog');
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/revoke', 'POST')),
    dialog.locator('#urev-ok').click(),
  ]);
  assert(res.status() === 200, `POST /api/certificates/revoke answered ${res.status()}`);
  await dialog.locator('#urev-step-done').waitFor({ state: 'visible' });
  assert((await visibleText(dialog.locator('#urev-done-lead'))).includes(`${when} に失効する予定です`), 'no 予定 in 受付完了');
  await dialog.locator('#urev-close').click();
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  let rows = [];
  for (let i = 0; i < 10; i++) {
    rows = await certRows(HANA);
    if (rows[0] && rows[0].status === 'revoke_scheduled') break;
    await page.waitForTimeout(500);
  }
  assert(rows.length === 1 && rows[0].status === 'revoke_scheduled' && rows[0].text.includes('失効予定')
    && rows[0].text.includes(`失効予定日 ${when}`), `rows: ${JSON.stringify(rows)}`);
  await T.screenshot('scheduled');
});

await T.step('CSV一括再発行: a file naming nobody is refused by line; nothing changes', async () => {
  await page.click('#users-reissue-csv');
  const dialog = page.locator('#xcsv-dialog');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('#xcsv-file').setInputFiles({
    name: 'reissue.csv', mimeType: 'text/csv', buffer: Buffer.from(`nobody@example.com,nobody@example.com,01\r\n`),
  });
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/reissue-csv', 'POST')),
    dialog.locator('#xcsv-submit').click(),
  ]);
  assert(res.status() === 422, `answered ${res.status()}`);
  await dialog.locator('#xcsv-lines').waitFor({ state: 'visible' });
  const t = await dialog.locator('#xcsv-lines').innerText();
  assert(t.includes('代表メールアドレス') && t.includes('該当する証明書がありません'), `lines: ${t}`);
  await dialogShot(T, page, 'csv-refused', '#xcsv-dialog');
  await dialog.locator('#xcsv-cancel').click();
});

await T.step('English: the buttons and the window', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  await firstRow(TARO).locator('input.user-check').check();
  await page.click('#users-bulk');
  const entry = page.locator('#users-bulk-list button[data-entry="reissue"]');
  assert((await entry.innerText()).startsWith('Reissue'), `the menu entry in English: ${await entry.innerText()}`);
  await entry.click();
  const dialog = page.locator('#urev-dialog');
  await dialog.locator('#urev-table tbody tr').first().waitFor();
  const text = await dialog.innerText();
  assert(text.includes("Reissue users' certificates") && text.includes('Revoke on a date'), `English: ${text}`);
  await dialogShot(T, page, 'english', '#urev-dialog');
  await dialog.locator('#urev-cancel').click();
  await page.getByRole('button', { name: '日本語' }).click();
});

await T.step('no page errors, and every change sent the CSRF token', async () => {
  assert(state.problems.length === 0, state.problems.join('\n'));
}, { always: true });

await browser.close();
T.done();
