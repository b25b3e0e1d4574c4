// Browser test of 送信メール (the tenant's outbox): a user registered with an address the local
// SMTP server refuses (550) and one it accepts; the page lists both notices of each with recipient,
// subject, status and times, the failed ones with the server's answer and 再送, which queues one
// again; the status filter; the page in English; with 250 more notices (bench/seed), 次へ, 前へ,
// 最後 and 最初 page by cursor with the page numbers kept, and a user registered between two pages
// neither repeats a notice nor hides one. Screenshots go to $SHOMEI_ARTIFACTS as outbox-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node outbox.test.mjs

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO, assert, browse, ctl, finish, login, stack, tap, untilApi } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('outbox', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `obx-${RUN}`;
const PW = 'Outbox2test';
const GOOD = `good.${RUN}@example.com`;
const BAD = `reject-${RUN}@example.com`;

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

function register(email) {
  return call('POST', '/api/users', {
    family_name: '送信', given_name: '花子', family_name_kana: 'ソウシン', given_name_kana: 'ハナコ',
    family_name_en: 'Soshin', given_name_en: 'Hanako', email, devices: [{ device: '01' }],
  });
}

const rows = (text) => page.locator('#outbox-table tbody tr', { hasText: text });

await T.step(
  'a tenant with notices on; a user the SMTP server accepts and one it refuses (550)',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `送信メール${RUN}`, '--name-en', `Outbox ${RUN}`,
      '--quota', '5', '--features', 'admin_may_issue,notify_users,download_site']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
    const s = await call('PUT', '/api/tenant/settings', { notify_users: true, notice_address: `admins.${RUN}@example.com` });
    assert(s.status === 200, `settings: ${s.status}`);
    for (const e of [GOOD, BAD]) {
      const r = await register(e);
      assert(r.status === 202, `register ${e}: ${r.status}`);
    }
    await untilApi(page, '/api/notifications', (all) => all.total === 6 && all.items.every((i) => i.status !== 'queued'), {
      timeout: 90_000,
      what: 'six notices, none still queued',
    });
  },
  { critical: true },
);

await T.step('送信メール in the menu lists the six notices, sent and failed, with subjects and times', async () => {
  await page.goto(`${base}index.html#/certificates`);
  await page.click('a.menu-item[data-route="outbox"]');
  await page.waitForFunction(() => window.location.hash.startsWith('#/outbox'));
  await rows(GOOD).first().waitFor();
  // the page refreshes itself while a row shows 送信待ち: it must settle on 送信済 / 送信失敗
  await page.waitForFunction(() => document.querySelectorAll('#outbox-table tbody .status-tag[data-status="queued"]').length === 0,
    null, { timeout: 60_000, polling: 500 });
  assert((await rows(GOOD).count()) === 2, 'two rows to the accepted address');
  assert((await rows(BAD).count()) === 2, 'two rows to the refused address');
  assert((await rows(`admins.${RUN}`).count()) === 2, 'two to the administrators (利用者登録受付通知)');
  const good = await rows(GOOD).first().innerText();
  assert(good.includes('送信済') && good.includes(`【送信メール${RUN}】`), `sent row: ${good}`);
  const bad = await rows(BAD).first().innerText();
  assert(bad.includes('送信失敗') && bad.includes('550'), `failed row with the server's answer: ${bad}`);
  assert(await rows(BAD).first().locator('button', { hasText: '再送' }).isVisible(), 'a 再送 button on a failed row');
  assert((await rows(GOOD).first().locator('button').count()) === 0, 'no 再送 on a sent row');
  await T.screenshot('list');
});

await T.step('the status filter: 送信失敗 shows only the failed ones', async () => {
  await page.selectOption('#outbox-status', 'failed');
  await page.waitForFunction(() => window.location.hash.includes('status=failed'));
  await page.waitForFunction(() => document.querySelectorAll('#outbox-table tbody tr').length === 2);
  assert((await rows(GOOD).count()) === 0, 'the sent ones are gone');
  await T.screenshot('failed-only');
});

await T.step('再送 queues a failed notice again; it is tried once more (and refused again)', async () => {
  const row = rows(BAD).first();
  const id = await row.getAttribute('data-id');
  const before = await page.evaluate(async (nid) => {
    const x = await fetch('/api/notifications?status=failed', { headers: { Accept: 'application/json', 'Accept-Language': 'ja' } });
    return (await x.json()).items.find((i) => String(i.id) === nid).last_attempt_at;
  }, id);
  await page.waitForTimeout(1100); // the next attempt falls in another second
  await row.locator('button', { hasText: '再送' }).click();
  await page.locator('#outbox-ok', { hasText: `${BAD} 宛のメールを再送します` }).waitFor();
  await untilApi(
    page,
    '/api/notifications?status=failed',
    (d) => d.items.some((i) => String(i.id) === id && i.last_attempt_at !== before && i.attempts === 1),
    { what: `notice ${id} tried again and failed again` },
  );
  await page.click('#outbox-reload');
  const again = page.locator(`#outbox-table tbody tr[data-id="${id}"]`);
  await again.locator('td.col-when').filter({ hasNotText: before }).waitFor();
  const text = await again.innerText();
  assert(text.includes('送信失敗') && text.includes('550'), `tried again and refused again: ${text}`);
  await T.screenshot('resent');
});

await T.step('in English', async () => {
  await page.evaluate(() => localStorage.setItem('shomei.lang', 'en'));
  await page.goto(`${base}index.html#/outbox`);
  await page.reload();
  await page.locator('h1', { hasText: 'Sent mail' }).waitFor();
  const text = await rows(GOOD).first().innerText();
  assert(/\tSent\t/.test(text) && /(Please install your certificate|Your login ID and password)/.test(text),
    `English row (status and kind in English; the subject in the user's language): ${text}`);
  await T.screenshot('english');
  await page.evaluate(() => localStorage.setItem('shomei.lang', 'ja'));
});

await T.step('設定: 管理者への通知先 shows the address; a bad one is refused by the field, a good one saved', async () => {
  await page.goto(`${base}index.html#/settings`);
  const addr = page.locator('#notice-address');
  await addr.waitFor();
  assert((await addr.inputValue()) === `admins.${RUN}@example.com`, `the stored address: ${await addr.inputValue()}`);
  await addr.fill('not an address');
  await page.click('#settings-save');
  await page.locator('#notice-address-error').waitFor();
  await T.screenshot('settings-notice-refused', { fullPage: false });
  await page.locator('#notice-address').fill(`others.${RUN}@example.com`);
  await page.selectOption('#notice-lang', 'en');
  await page.click('#settings-save');
  await page.locator('#settings-success').waitFor();
  const r = await call('GET', '/api/tenant');
  assert(r.body.notice_address === `others.${RUN}@example.com` && r.body.notice_lang === 'en', `stored: ${JSON.stringify(r.body)}`);
  await T.screenshot('settings-notice', { fullPage: false });
});

await T.step('250 notices more: 次へ, 前へ, 最後, 最初 page by cursor; a notice queued meanwhile repeats none', async () => {
  execFileSync(path.join(REPO, 'bench', 'seed'), ['--tenant', SLUG, '--notifications', '250', '--up',
    path.resolve(process.env.SHOMEI_UP_JSON || path.join(REPO, 'var', 'up.json'))], { encoding: 'utf8', timeout: 300_000 });
  const ids = async () => {
    await page.locator('#outbox-loading').waitFor({ state: 'hidden' });
    return (await page.locator('#outbox-table tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.id))));
  };
  await page.goto(`${base}index.html#/outbox`);
  await page.reload(); // in Japanese again (the English step's page was loaded in English)
  const pager = page.locator('[data-pager]').first();
  await pager.locator('.pager-page', { hasText: '1 / 3 ページ' }).waitFor();
  const p1 = await ids();
  await pager.locator('.pager-next').click();
  await pager.locator('.pager-page', { hasText: '2 / 3 ページ' }).waitFor();
  assert(page.url().includes('after='), `次へ keeps its cursor in the address: ${page.url()}`);
  const p2 = await ids();
  assert(p1.length === 100 && p2.length === 100 && Math.min(...p1) > Math.max(...p2), 'two full pages, newest first');
  // a user registered now: three notices (as each user above had) queued at the top of the list
  // while page 2 is shown
  const r = await register(`late.${RUN}@example.com`);
  assert(r.status === 202, `register: ${r.status}`);
  await pager.locator('.pager-next').click();
  await pager.locator('.pager-page', { hasText: '3 / 3 ページ' }).waitFor();
  const p3 = await ids();
  await T.screenshot('page-3');
  const all = [...p1, ...p2, ...p3];
  assert(p3.length === 56 && new Set(all).size === 256 && Math.min(...p2) > Math.max(...p3),
    `page 3 follows page 2: ${p3.length} rows, ${new Set(all).size} different notices over three pages`);
  await pager.locator('.pager-prev').click();
  await pager.locator('.pager-page', { hasText: '2 / 3 ページ' }).waitFor();
  assert(JSON.stringify(await ids()) === JSON.stringify(p2), '前へ shows page 2 again');
  await pager.locator('.pager-last').click();
  await pager.locator('.pager-page', { hasText: '3 / 3 ページ' }).waitFor();
  // the total a cursor's page shows may be the one counted before the user was registered (kept
  // 30 s, web/keyset.h): 256 or 259, the last page the 56 or 59 oldest notices
  const last = await ids();
  const n = last.length;
  assert(page.url().includes('last=1') && (n === 56 || n === 59) &&
    JSON.stringify(last) === JSON.stringify([...p2, ...p3].slice(-n)), `最後: the ${n} oldest notices`);
  const summary = await pager.locator('.pager-summary').innerText();
  assert(summary.includes(`201～${200 + n}`), `summary of the last page: ${summary}`);
  await pager.locator('.pager-first').click();
  await pager.locator('.pager-page', { hasText: '1 / 3 ページ' }).waitFor();
  const top = await ids();
  assert(top.length === 100 && Math.min(...top.slice(0, 3)) > Math.max(...p1) && top[3] === p1[0],
    `最初: the three new notices above page 1's rows: ${top.slice(0, 4)} / ${p1[0]}`);
  assert(await pager.locator('.pager-prev').isDisabled(), '前へ is off on the first page');
  await page.selectOption('#outbox-status', 'failed');
  await page.waitForFunction(() => window.location.hash.includes('status=failed') && !window.location.hash.includes('after='));
  await pager.locator('.pager-page', { hasText: '1 / 1 ページ' }).waitFor();
  await T.screenshot('paged-failed');
});

await finish(T, browser, state);
