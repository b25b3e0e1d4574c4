// Browser test of CSV一括登録 (NRA 4-2) on 利用者: the dialog names the contract's layout, a file
// with errors lists them by line and column and registers nothing, a good file written in
// Shift_JIS (CP932) is accepted, and the CSV 処理状況 panel follows the job to 完了 and the list
// shows the users; then in English. Screenshots go to $SHOMEI_ARTIFACTS as import-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node import.test.mjs

import { assert, browse, ctl, finish, login, stack, tap, untilIssued } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('import', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `impb-${RUN}`;
const ADMIN = `${SLUG}-admin`;
const PW = 'ImportUi2test';

// 山田,太郎,ヤマダ,タロウ in CP932 (what Excel writes on Japanese Windows)
const CP932 = {
  山田: [0x8e, 0x52, 0x93, 0x63],
  太郎: [0x91, 0xbe, 0x98, 0x59],
  ヤマダ: [0x83, 0x84, 0x83, 0x7d, 0x83, 0x5f],
  タロウ: [0x83, 0x5e, 0x83, 0x8d, 0x83, 0x45],
  花子: [0x89, 0xd4, 0x8e, 0x71],
  ハナコ: [0x83, 0x6e, 0x83, 0x69, 0x83, 0x52],
};

/** A CSV line in CP932: cells are ASCII or one of the words above. */
function cp932Line(cells) {
  const out = [];
  cells.forEach((c, i) => {
    if (i) out.push(0x2c);
    if (CP932[c]) out.push(...CP932[c]);
    else for (const ch of c) out.push(ch.charCodeAt(0));
  });
  out.push(0x0d, 0x0a);
  return out;
}

const { browser, page } = await browse(origin, state);
T.page = page;

async function users() {
  return page.evaluate(async () => {
    const r = await fetch('/api/users', { headers: { Accept: 'application/json', 'Accept-Language': 'ja' } });
    return r.json();
  });
}

await T.step(
  'a tenant of its own (13-column layout) and its administrator logs in',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `一括画面${RUN}`, '--name-en', `Import UI ${RUN}`,
      '--quota', '10', '--features', 'admin_may_issue']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', ADMIN, '--password', PW]);
    await login(page, base, ADMIN, PW);
    state.loggedIn = true;
  },
  { critical: true },
);

await T.step('利用者: the CSV一括登録 button opens the dialog with the contract\'s 13 columns', async () => {
  await page.goto(`${base}index.html#/users`);
  const button = page.locator('#users-import');
  await button.waitFor({ state: 'visible' });
  assert((await button.innerText()).trim() === 'CSV一括登録', 'button label');
  await button.click();
  await page.locator('#import-dialog').waitFor({ state: 'visible' });
  const layout = await page.locator('#import-layout').innerText();
  assert(layout.includes('13 項目') && layout.includes('代表メールアドレス'), `layout text: ${layout}`);
  await T.screenshot('dialog', { fullPage: false });
});

await T.step('a file with errors on lines 2 and 3: listed by line and column, nothing registered', async () => {
  const text =
    `good.${RUN}@example.com,山田,太郎,ヤマダ,タロウ,Yamada,Taro,good.${RUN}@example.com,01\r\n` +
    `bad@@example.com,山田,太郎,ヤマダ,タロウ,Yamada,Taro,x.${RUN}@example.com,01\r\n` +
    `kana.${RUN}@example.com,山田,太郎,やまだ,タロウ,Yamada,Taro,kana.${RUN}@example.com,07\r\n`;
  await page.setInputFiles('#import-file', { name: 'errors.csv', mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/users/import'),
    page.click('#import-submit'),
  ]);
  assert(res.status() === 422, `import answered ${res.status()}`);
  await page.locator('#import-lines').waitFor({ state: 'visible' });
  const rows = await page.locator('#import-lines tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.innerText.trim())),
  );
  const lines = [...new Set(rows.map((r) => r[0]))];
  assert(JSON.stringify(lines) === JSON.stringify(['2', '3']), `lines shown: ${JSON.stringify(rows)}`);
  assert(rows.some((r) => r[0] === '3' && r[1].includes('フリガナ')), 'the kana column is named');
  assert(rows.some((r) => r[0] === '3' && r[1].includes('デバイスコード')), 'the device code column is named');
  const u = await users();
  assert(u.total === 0, `${u.total} users registered from a refused file`);
  await T.screenshot('errors', { fullPage: false });
});

await T.step('a good file in Shift_JIS: accepted, the panel follows the job to 完了, the users listed', async () => {
  const bytes = [
    ...cp932Line([`taro.${RUN}@example.com`, '山田', '太郎', 'ヤマダ', 'タロウ', 'Yamada', 'Taro', `taro.${RUN}@example.com`, '01']),
    ...cp932Line([`taro.${RUN}@example.com`, '山田', '太郎', 'ヤマダ', 'タロウ', 'Yamada', 'Taro', `phone.${RUN}@example.com`, '11']),
    ...cp932Line([`hanako.${RUN}@example.com`, '山田', '花子', 'ヤマダ', 'ハナコ', 'Yamada', 'Hanako', `hanako.${RUN}@example.com`, '20']),
  ];
  await page.setInputFiles('#import-file', { name: '利用者.csv', mimeType: 'text/csv', buffer: Buffer.from(bytes) });
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/users/import'),
    page.click('#import-submit'),
  ]);
  assert(res.status() === 202, `import answered ${res.status()}`);
  const body = await res.json();
  assert(body.encoding === 'CP932' && body.users === 2 && body.devices === 3, JSON.stringify(body));
  await page.locator('#import-dialog').waitFor({ state: 'hidden' });
  const msg = await page.locator('#users-message').innerText();
  assert(msg.includes('利用者.csv') && msg.includes('2 名'), `message: ${msg}`);
  await page.locator('#jobs-panel').waitFor({ state: 'visible' });
  await page.locator('#jobs-table tbody tr[data-status="done"]').first().waitFor({ timeout: 60_000 });
  const row = await page.locator('#jobs-table tbody tr').first().evaluate((tr) => [...tr.children].map((td) => td.innerText.trim()));
  assert(row[1] === 'CSV一括登録' && row[2] === '利用者.csv' && row[3] === '完了' && row[4] === '2 / 2 名', `job row: ${row}`);
  await page.waitForFunction(() => document.querySelectorAll('#users-table tbody tr[data-user-id]').length >= 2, null, { timeout: 30_000 });
  const names = await page.locator('#users-table tbody').innerText();
  assert(names.includes('山田 太郎') && names.includes('山田 花子'), `list: ${names.slice(0, 300)}`);
  await T.screenshot('done');
});

await T.step('証明書管理: CSV一括失効 lists a bad line, then revokes taro\'s PC and the list shows 失効日', async () => {
  // the imported certificates are issued first
  await untilIssued(page);
  await page.goto(`${base}index.html#/certificates?status=all`);
  const button = page.locator('#cert-revoke-csv');
  await button.waitFor({ state: 'visible' });
  await button.click();
  await page.locator('#rcsv-dialog').waitFor({ state: 'visible' });
  await page.setInputFiles('#rcsv-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('client_999999\r\n') });
  await page.click('#rcsv-submit');
  await page.locator('#rcsv-lines').waitFor({ state: 'visible' });
  const row = await page.locator('#rcsv-lines tbody tr').first().evaluate((tr) => [...tr.children].map((td) => td.innerText.trim()));
  assert(row[0] === '1' && row[2].includes('ありません'), `error row: ${row}`);
  await T.screenshot('rcsv-errors', { fullPage: false });
  const line = `taro.${RUN}@example.com,taro.${RUN}@example.com,01\r\n`;
  await page.setInputFiles('#rcsv-file', { name: '失効.csv', mimeType: 'text/csv', buffer: Buffer.from(line) });
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/certificates/revoke-csv'),
    page.click('#rcsv-submit'),
  ]);
  assert(res.status() === 202, `revoke-csv answered ${res.status()}`);
  await page.locator('#cert-message', { hasText: '失効しました' }).waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('#cert-table tbody tr')].some((tr) => tr.dataset.status === 'revoked'), null, { timeout: 30_000 });
  const revoked = await page.locator('#cert-table tbody tr[data-status="revoked"] td').nth(2).innerText();
  assert(/\d{4}\/\d{2}\/\d{2}/.test(revoked), `失効日: ${revoked}`);
  // two certificates named Yamada Taro are told apart by the user, device and e-mail under the CN
  const rows = await page.locator('#cert-table tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.status, tr.children[0].innerText]));
  const taro = rows.filter((r) => r[1].startsWith('Yamada Taro'));
  assert(taro.length === 2, `two Yamada Taro rows: ${JSON.stringify(rows)}`);
  assert(taro.some((r) => r[0] === 'revoked' && r[1].includes('WindowsPC') && r[1].includes('山田 太郎')), `the revoked PC: ${JSON.stringify(taro)}`);
  assert(taro.some((r) => r[0] === 'issued' && r[1].includes('iOS(iPhone)') && r[1].includes(`phone.${RUN}@example.com`)), `the phone: ${JSON.stringify(taro)}`);
  await T.screenshot('rcsv-done');
});

await T.step('English: the panel and the dialog', async () => {
  await page.goto(`${base}index.html#/users`);
  await page.locator('#jobs-panel').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'English' }).click();
  await page.locator('#jobs-title', { hasText: 'CSV jobs' }).waitFor();
  await page.locator('#jobs-table tbody tr td', { hasText: 'Done' }).first().waitFor();
  await page.locator('#users-import').click();
  const layout = await page.locator('#import-layout').innerText();
  assert(layout.includes('13 columns') && layout.includes('main e-mail'), `layout: ${layout}`);
  await T.screenshot('english', { fullPage: false });
  await page.locator('#import-cancel').click();
  await page.getByRole('button', { name: '日本語' }).click();
  await page.locator('#jobs-title', { hasText: 'CSV 処理状況' }).waitFor();
});

await finish(T, browser, state);
