// Browser test of issue 11's 利用者 screens and the portal's former dead ends: a user's page with
// 利用者変更, a device added and its .p12 / .PIN / .mobileconfig downloaded and opened; the
// registration's quota error at the top and a validity date in the past said before 決定; row
// selection with ▼一括操作 (1次削除 of two, 削除済み, マスター削除); CSV一括利用者マスター削除 with
// its errors by line and its job in CSV 処理状況 to 完了; the ZIP of two selected certificates on
// 証明書管理; 設定 without / with the download site and its CIDR check; an expired session (deleted
// in Redis) during a list refresh and during a download leading to the login page with a message.
// Screenshots go to $SHOMEI_ARTIFACTS as users-manage-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node users-manage.test.mjs

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { REPO, apiGet, apiPost, assert, browse, ctl, dialogShot, finish, login, stack, tap, tokyoDate, untilIssued } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('users-manage', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `um-${RUN}`;
const PLAIN = `umplain-${RUN}`;
const PW = 'UsersManage2';
const VAR = path.resolve(REPO, up.var || 'var');
const mail = (who) => `${who}.${RUN}@example.com`;

const { browser, page } = await browse(origin, state);
T.page = page;

/** A user through the API: { id, certificate ids }. */
async function register(who, family, given, devices) {
  const r = await apiPost(page, '/api/users', {
    family_name: family, given_name: given, family_name_kana: 'テスト', given_name_kana: 'タロウ',
    family_name_en: 'Test', given_name_en: given === '一郎' ? 'Ichiro' : given === '二郎' ? 'Jiro' : 'Saburo',
    email: mail(who), devices,
  });
  assert(r.status === 202, `register ${who}: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, certs: r.body.certificates.map((c) => c.id) };
}

async function waitIssued() {
  await untilIssued(page, 90_000);
}

/** Save a download started by click() and return its path. */
async function saveDownload(click, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = path.join(artifacts, `users-manage-${name}`);
  await dl.saveAs(file);
  return { file, suggested: dl.suggestedFilename() };
}

/** The names in a ZIP, read by python3's zipfile (an independent reader). */
function zipNames(file) {
  const out = execFileSync('python3', ['-c', 'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;print("\\n".join(z.namelist()))', file]);
  return out.toString().trim().split('\n');
}

function redisCli(...args) {
  return execFileSync('redis-cli', ['-s', path.join(VAR, 'run', 'redis', 'redis.sock'), ...args]).toString().trim();
}

/** End this browser's session on the server side, as an idle timeout would. */
async function expireSession() {
  const cookies = await page.context().cookies(origin);
  let n = 0;
  for (const c of cookies) {
    const key = `shomei:sess:${crypto.createHash('sha256').update(c.value).digest('hex')}`;
    n += Number(redisCli('DEL', key)) || 0;
  }
  assert(n === 1, `deleted ${n} sessions in Redis`);
}

const users = {};

await T.step(
  'a tenant with validity, O/OU and issuing by the administrator; three users with certificates',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `利用者管理${RUN}`, '--name-en', `Manage ${RUN}`,
      '--quota', '6', '--features', 'validity_period,org_units,admin_may_issue,download_site']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
    users.ichiro = await register('ichiro', '管理', '一郎', [{ device: '01' }]);
    users.jiro = await register('jiro', '管理', '二郎', [{ device: '20' }]);
    users.saburo = await register('saburo', '管理', '三郎', [{ device: '11' }]);
    await waitIssued();
  },
  { critical: true },
);

await T.step('利用者登録: more devices than 追加発行可能数 says so at the top, before 決定', async () => {
  await page.goto(`${base}index.html#/users`);
  await page.locator('#users-table tbody tr').first().waitFor();
  await page.click('#users-new');
  await page.locator('#user-dialog').waitFor({ state: 'visible' });
  await page.fill('#reg-family-name', '登録');
  await page.fill('#reg-given-name', '四郎');
  await page.fill('#reg-family-name-kana', 'トウロク');
  await page.fill('#reg-given-name-kana', 'シロウ');
  await page.fill('#reg-family-name-en', 'Toroku');
  await page.fill('#reg-given-name-en', 'Shiro');
  await page.fill('#reg-email', mail('shiro'));
  for (const code of ['01', '11', '12', '99']) await page.check(`#reg-d${code}`);
  await page.click('#reg-confirm');
  const top = await page.locator('#reg-error').innerText();
  assert(top.includes('追加発行可能数') && top.includes('3'), `top error: ${top}`);
  assert(await page.locator('#reg-devices-error').isHidden(), 'the quota was said under the devices');
  const above = await page.evaluate(() => {
    const e = document.getElementById('reg-error').getBoundingClientRect();
    const d = document.getElementById('reg-devices').getBoundingClientRect();
    return e.bottom <= d.top;
  });
  assert(above, 'the quota error is not above the device section');
  assert(await page.locator('#reg-form').isVisible(), 'left the input step');
  await dialogShot(T, page, 'registration-quota', '#user-dialog');
});

await T.step('利用者登録: a validity end in the past is refused before 決定, as the server does', async () => {
  for (const code of ['11', '12', '99']) await page.uncheck(`#reg-d${code}`);
  await page.fill('#reg-d01-valid-to', tokyoDate(-1));
  await page.click('#reg-confirm');
  const msg = await page.locator('#reg-d01-valid-to-error').innerText();
  assert(msg.includes('現在より後'), `valid_to error: ${msg}`);
  assert(await page.locator('#reg-form').isVisible(), 'went on to 確認 with a date in the past');
  await dialogShot(T, page, 'registration-past-date', '#user-dialog');
  // the server says the same for the same input
  const r = await apiPost(page, '/api/users', {
    family_name: '登録', given_name: '四郎', family_name_kana: 'トウロク', given_name_kana: 'シロウ',
    family_name_en: 'Toroku', given_name_en: 'Shiro', email: mail('shiro'), devices: [{ device: '01', valid_to: tokyoDate(-1) }],
  });
  assert(r.status === 422 && r.body.error.fields.some((f) => f.field === 'devices[0].valid_to' && f.message === msg.trim()),
    `server: ${JSON.stringify(r.body)}`);
  await page.fill('#reg-d01-valid-to', tokyoDate(30));
  await page.click('#reg-confirm');
  await page.locator('#reg-submit').waitFor({ state: 'visible' });
  await page.click('#reg-back');
  await page.click('#reg-cancel');
});

await T.step('利用者情報: the name opens the page; 利用者変更 shows what changes, then saves it', async () => {
  await page.locator('#users-table a.user-name', { hasText: '管理 一郎' }).click();
  await page.waitForFunction((id) => window.location.hash === `#/user?id=${id}`, users.ichiro.id);
  await page.locator('#user-facts').waitFor();
  const facts = await page.locator('#user-facts').innerText();
  assert(facts.includes('管理 一郎') && facts.includes(mail('ichiro')), `facts: ${facts}`);
  assert((await page.locator('.menu-item[aria-current="page"]').innerText()).includes('利用者'), 'menu not on 利用者');
  await T.screenshot('user-page');
  await page.click('#user-edit');
  await page.fill('#ue-family-name', '変更');
  await page.fill('#ue-given-name-kana', 'いちろう');
  await page.click('#user-edit-dialog button[type="submit"]');
  assert((await page.locator('#ue-given-name-kana-error').innerText()).includes('カタカナ'), 'hiragana kana accepted');
  await page.fill('#ue-given-name-kana', 'イチロウ');
  await page.click('#user-edit-dialog button[type="submit"]');
  const review = await page.locator('#ue-review').innerText();
  assert(review.includes('管理 → 変更') && review.includes('テスト → テスト') === false, `review: ${review}`);
  await dialogShot(T, page, 'user-edit-confirm', '#user-edit-dialog');
  await page.click('#ue-submit');
  await page.locator('#user-message', { hasText: '変更しました' }).waitFor();
  assert((await page.locator('#user-facts').innerText()).includes('変更 一郎'), 'the page still shows the old name');
  const r = await apiGet(page, `/api/users/${users.ichiro.id}`);
  assert(r.body.family_name === '変更' && r.body.given_name_kana === 'イチロウ', `stored: ${JSON.stringify(r.body)}`);
});

await T.step('利用デバイスの追加: an iPad gets a certificate; its .p12 opens with its .PIN, its .mobileconfig is a profile', async () => {
  await page.click('#user-add-device');
  await page.selectOption('#ua-device', '12');
  await page.fill('#ua-email', mail('ipad'));
  await page.fill('#ua-ou1', 'Sales');
  await dialogShot(T, page, 'add-device', '#user-add-dialog');
  await page.click('#ua-submit');
  await page.locator('#user-message', { hasText: 'iOS(iPad)' }).waitFor();
  const row = page.locator('#user-certs tbody tr', { hasText: mail('ipad') });
  await row.locator('button[data-kind="p12"]').waitFor({ timeout: 90_000 });
  const p12 = await saveDownload(() => row.locator('button[data-kind="p12"]').click(), 'ipad.p12');
  const pin = await saveDownload(() => row.locator('button[data-kind="pin"]').click(), 'ipad.PIN');
  const pass = fs.readFileSync(pin.file, 'utf8').trim();
  const subject = execFileSync('openssl', ['pkcs12', '-in', p12.file, '-passin', `pass:${pass}`, '-nokeys', '-clcerts'])
    .toString();
  assert(subject.includes(mail('ipad')) && subject.includes('OU = Sales'), `openssl: ${subject.slice(0, 400)}`);
  const mc = await saveDownload(() => row.locator('button[data-kind="mobileconfig"]').click(), 'ipad.mobileconfig');
  const xml = fs.readFileSync(mc.file, 'utf8');
  assert(xml.includes('<plist') && xml.includes('com.apple.security.pkcs12'), 'not a configuration profile');
  await page.locator('#user-certs tbody tr[data-status="downloaded"]', { hasText: mail('ipad') }).waitFor();
  const winRow = page.locator('#user-certs tbody tr', { hasText: mail('ichiro') });
  assert((await winRow.locator('button[data-kind="mobileconfig"]').count()) === 0, 'a .mobileconfig offered for WindowsPC');
  await T.screenshot('user-page-downloads');
});

await T.step('▼一括操作: two users checked, 1次削除 names both; 削除済み then マスター削除 of both', async () => {
  await page.click('#user-page-back, a[href="#/users"]');
  await page.locator('#users-table tbody tr').first().waitFor();
  await page.click('#users-bulk');
  const disabled = await page.locator('#users-bulk-list button[data-entry="delete"]').isDisabled();
  assert(disabled, '1次削除 offered with nothing checked');
  await T.screenshot('bulk-menu-empty', { fullPage: false });
  await page.keyboard.press('Escape');
  for (const who of ['jiro', 'saburo']) {
    await page.locator('#users-table tbody tr.user-first', { hasText: mail(who) }).locator('input.user-check').check();
  }
  assert((await page.locator('#users-selected').innerText()).includes('2'), 'the selection count is not shown');
  await page.click('#users-bulk');
  const entries = await page.locator('#users-bulk-list button').allInnerTexts();
  for (const want of ['CSV一括登録', 'CSV 処理状況', '1次削除（2 名）', '削除済み', 'CSV一括利用者マスター削除']) {
    assert(entries.some((e) => e.includes(want)), `menu lacks ${want}: ${entries}`);
  }
  await T.screenshot('bulk-menu', { fullPage: false });
  await page.click('#users-bulk-list button[data-entry="delete"]');
  await page.locator('#udel-dialog').waitFor({ state: 'visible' });
  const list = await page.locator('#udel-list').innerText();
  assert(list.includes(mail('jiro')) && list.includes(mail('saburo')), `confirmation: ${list}`);
  await T.screenshot('bulk-delete-confirm', { fullPage: false });
  await page.click('#udel-ok');
  await page.locator('#users-message', { hasText: '2 名の利用者を1次削除しました' }).waitFor();
  await page.locator('#users-table tbody tr', { hasText: mail('jiro') }).waitFor({ state: 'detached' });
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="deleted"]');
  await page.waitForFunction(() => window.location.hash.includes('deleted=1'));
  await page.locator('#users-table tbody tr', { hasText: mail('saburo') }).waitFor();
  await page.check('#users-select-all');
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="purge"]');
  await page.locator('#udel-dialog').waitFor({ state: 'visible' });
  await page.click('#udel-ok');
  await page.locator('#users-message', { hasText: '2 名の利用者をマスター削除しました' }).waitFor();
  await page.locator('#users-empty').waitFor({ state: 'visible' });
  for (const u of [users.jiro, users.saburo]) {
    const r = await page.request.get(`${base}api/users/${u.id}`, { headers: { Accept: 'application/json', 'Accept-Language': 'ja' } });
    assert(r.status() === 404, `user ${u.id} still answers ${r.status()}`);
    const c = await apiGet(page, `/api/certificates/${u.certs[0]}`);
    assert(c.body.status === 'revoked', `its certificate is ${c.body.status}`);
  }
  await T.screenshot('bulk-purged');
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="active"]');
  await page.waitForFunction(() => !window.location.hash.includes('deleted=1'));
});

await T.step('CSV一括利用者マスター削除: a bad file is refused by line in the shared table; a good one runs to 完了', async () => {
  await register('goro', '管理', '五郎', [{ device: '99' }]);
  const bad = path.join(artifacts, 'users-manage-purge-bad.csv');
  fs.writeFileSync(bad, `${mail('goro')}\nnot-an-address\nnobody.${RUN}@example.com\n`);
  await page.click('#users-bulk');
  await page.click('#users-bulk-list button[data-entry="purge-csv"]');
  await page.locator('#purge-dialog').waitFor({ state: 'visible' });
  await page.setInputFiles('#purge-file', bad);
  await page.click('#purge-submit');
  await page.locator('#purge-lines').waitFor({ state: 'visible' });
  const rows = await page.locator('#purge-lines tbody tr').evaluateAll((trs) => trs.map((tr) => tr.children[0].textContent));
  assert(JSON.stringify(rows) === '["2","3"]', `error lines: ${rows}`);
  const heads = await page.locator('#purge-lines thead th').allInnerTexts();
  const imp = await page.evaluate(() => [...document.querySelectorAll('#import-lines thead th')].map((th) => th.textContent));
  assert(JSON.stringify(heads) === JSON.stringify(imp) && heads.length === 3, `tables differ: ${heads} / ${imp}`);
  await dialogShot(T, page, 'purge-errors', '#purge-dialog');
  const good = path.join(artifacts, 'users-manage-purge-good.csv');
  fs.writeFileSync(good, `${mail('goro')}\r\n`);
  await page.setInputFiles('#purge-file', good);
  await page.click('#purge-submit');
  await page.locator('#purge-dialog').waitFor({ state: 'hidden' });
  await page.locator('#jobs-panel').waitFor({ state: 'visible' });
  await page.locator('#jobs-table tbody tr[data-status="done"]', { hasText: 'users-manage-purge-good.csv' }).waitFor({ timeout: 90_000 });
  await page.locator('#users-table tbody tr', { hasText: mail('goro') }).waitFor({ state: 'detached' });
  await T.screenshot('purge-done');
});

await T.step('証明書管理: two certificates checked, 証明書ダウンロード gives a ZIP of exactly those two', async () => {
  await register('rokuro', '管理', '六郎', [{ device: '20' }, { device: '01' }]);
  await waitIssued();
  await page.goto(`${base}index.html#/certificates`);
  const rows = page.locator('#cert-table tbody tr', { has: page.locator('input.cert-check') });
  // the list refreshes itself while a certificate is issuing; a row gets its box once issued
  await rows.nth(2).waitFor({ timeout: 60_000 });
  const picked = [];
  for (const i of [0, 2]) {
    await rows.nth(i).locator('input.cert-check').check();
    picked.push((await rows.nth(i).locator('td.col-cn').innerText()).split('\n')[0].trim());
  }
  const zip = await saveDownload(() => page.click('#cert-zip'), 'selected.zip');
  const p12s = zipNames(zip.file).filter((n) => n.endsWith('.p12'));
  assert(p12s.length === 2, `the ZIP holds ${p12s}`);
  await page.locator('#cert-message', { hasText: '2 件' }).waitFor();
  const csv = await saveDownload(() => page.click('#cert-csv'), 'selected.csv');
  const lines = fs.readFileSync(csv.file, 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  assert(lines.length === 2, `the password list has ${lines.length} lines`);
  for (const name of p12s) assert(lines.some((l) => l.includes(name.replace(/\.p12$/, ''))), `no password for ${name}`);
  T.diag(`picked ${picked.join(', ')}; ZIP ${p12s.join(', ')}`);
  await T.screenshot('certificates-selected-download');
});

await T.step('設定: the download-site URL and allow-list only with the service; each CIDR checked when added', async () => {
  await page.goto(`${base}index.html#/settings`);
  await page.locator('#allow-add').waitFor();
  await page.fill('#allow-add', '192.168.1.5/24');
  await page.click('#allow-add-button');
  let msg = await page.locator('#allow-add-error').innerText();
  assert(msg.includes('192.168.1.5/24') && msg.includes('192.168.1.0/24'), `IPv4 host bits: ${msg}`);
  await page.fill('#allow-add', '2001:db8::1/32');
  await page.click('#allow-add-button');
  msg = await page.locator('#allow-add-error').innerText();
  assert(msg.includes('2001:db8::/32'), `IPv6 host bits: ${msg}`);
  await page.fill('#allow-add', '10.0.0.300');
  await page.click('#allow-add-button');
  msg = await page.locator('#allow-add-error').innerText();
  assert(msg.includes('形式'), `syntax: ${msg}`);
  await T.screenshot('settings-cidr');
  await page.fill('#allow-add', '10.1.0.0/16');
  await page.click('#allow-add-button');
  await page.locator('#allow-list', { hasText: '10.1.0.0/16' }).waitFor();
  // the server still checks what a client sends on its own
  const r = await page.evaluate(async () => {
    const res = await fetch('/api/tenant/settings', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') },
      body: JSON.stringify({ download_allowlist: ['192.168.1.5/24'] }),
    });
    return res.status;
  });
  assert(r === 422, `the server took a network with host bits: ${r}`);
  // a tenant without the service
  ctl(up, ['tenant', 'create', '--slug', PLAIN, '--name', `設定なし${RUN}`, '--name-en', `Plain ${RUN}`, '--quota', '1']);
  ctl(up, ['admin', 'create', '--tenant', PLAIN, '--login-id', `${PLAIN}-admin`, '--password', PW]);
  const other = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const p2 = await other.newPage();
  await login(p2, base, `${PLAIN}-admin`, PW);
  await p2.goto(`${base}index.html#/settings`);
  await p2.locator('#settings-save').waitFor();
  assert((await p2.locator('#allow-add').count()) === 0 && (await p2.locator('#site-url').count()) === 0,
    'the download site is shown to a tenant without it');
  await p2.screenshot({ path: path.join(artifacts, 'users-manage-settings-plain.png'), fullPage: true });
  await p2.click('#settings-save');
  await p2.locator('#settings-success').waitFor({ state: 'visible' });
  await other.close();
});

await T.step('an expired session during a list refresh leads to the login page with the message', async () => {
  await page.goto(`${base}index.html#/users`);
  await page.locator('#users-table tbody tr').first().waitFor();
  await expireSession();
  await page.click('#users-refresh');
  await page.waitForURL(/login\.html\?expired=1/);
  const info = await page.locator('#login-info').innerText();
  assert(info.includes('セッションの有効期限が切れました'), `login page says: ${info}`);
  assert(decodeURIComponent(page.url()).includes('#/users'), `no way back: ${page.url()}`);
  await T.screenshot('expired-list', { fullPage: false });
});

await T.step('an expired session during a download (English) leads to the login page, never a silent failure', async () => {
  await page.evaluate(() => localStorage.setItem('shomei.lang', 'en'));
  await login(page, base, `${SLUG}-admin`, PW);
  await page.goto(`${base}index.html#/user?id=${users.ichiro.id}`);
  const row = page.locator('#user-certs tbody tr', { hasText: mail('ipad') });
  await row.locator('button[data-kind="pin"]').waitFor();
  await expireSession();
  let downloaded = false;
  page.once('download', () => {
    downloaded = true;
  });
  await row.locator('button[data-kind="pin"]').click();
  await page.waitForURL(/login\.html\?expired=1/);
  const info = await page.locator('#login-info').innerText();
  assert(info.includes('Your session has expired'), `login page says: ${info}`);
  assert(!downloaded, 'a file was saved anyway');
  await T.screenshot('expired-download', { fullPage: false });
  await page.evaluate(() => localStorage.setItem('shomei.lang', 'ja'));
});

await finish(T, browser, state);
