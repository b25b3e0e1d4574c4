// Browser test of the lists at scale (issue 12) on a tenant filled by bench/seed (350 users, 350
// certificates, 350 history entries): 利用者 search finds the same users from ひらがな, カタカナ and
// half-width ｶﾀｶﾅ typed in the search box; 最初/前へ/次へ/最後 page by cursor with the page numbers
// kept; 操作履歴's CSV出力 downloads the filtered history as CSV. Screenshots go to
// $SHOMEI_ARTIFACTS as lists-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node lists.test.mjs

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO, assert, browse, ctl, login, stack, tap } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('lists', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `lists-${RUN}`;
const PW = 'ListsUi2test';

const { browser, page } = await browse(origin, state);
T.page = page;

const rows = () => page.locator('#users-table tbody tr.user-first');

/** The e-mail addresses of the users listed (one a row). */
async function listedEmails() {
  await page.locator('#users-loading').waitFor({ state: 'hidden' });
  const texts = await rows().allInnerTexts();
  return texts.map((t) => (t.match(/[\w.+-]+@example\.jp/) || [''])[0]).sort();
}

async function search(text) {
  await page.fill('#us-family', text);
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/users' && r.url().includes('family_name=')),
    page.click('#us-submit'),
  ]);
  return listedEmails();
}

await T.step(
  'a tenant filled by bench/seed; its administrator logs in',
  async () => {
    execFileSync(path.join(REPO, 'bench', 'seed'), ['--tenant', SLUG, '--users', '350', '--certificates', '350',
      '--history', '350', '--up', path.resolve(process.env.SHOMEI_UP_JSON || path.join(REPO, 'var', 'up.json'))],
    { encoding: 'utf8', timeout: 300_000 });
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
  },
  { critical: true },
);

await T.step('利用者 search: ひらがな, カタカナ and ｶﾀｶﾅ in the search box find the same users', async () => {
  await page.goto(`${base}index.html#/users`);
  await page.locator('#users-search-panel summary').click();
  const hira = await search('さとう');
  await T.screenshot('search-hiragana');
  const kata = await search('サトウ');
  const half = await search('ｻﾄｳ');
  await T.screenshot('search-halfwidth');
  assert(hira.length > 0, 'さとう found nobody');
  assert(JSON.stringify(hira) === JSON.stringify(kata), `さとう ${hira.length}, サトウ ${kata.length}`);
  assert(JSON.stringify(hira) === JSON.stringify(half), `さとう ${hira.length}, ｻﾄｳ ${half.length}`);
  await page.fill('#us-family', '');
});

await T.step('利用者 pages: 次へ, 最後, 前へ, 最初 by cursor, page numbers kept, no row twice', async () => {
  await page.goto(`${base}index.html#/users`);
  const total = await page.evaluate(async () => {
    const r = await fetch('/api/users', { headers: { Accept: 'application/json', 'Accept-Language': 'ja' } });
    return (await r.json()).total;
  });
  assert(total > 300 && total <= 350, `users listed: ${total} (350 seeded, a few 1次削除)`);
  const pager = page.locator('[data-pager]').first();
  await pager.locator('.pager-page', { hasText: '1 / 4 ページ' }).waitFor();
  const p1 = await listedEmails();
  await pager.locator('.pager-next').click();
  await pager.locator('.pager-page', { hasText: '2 / 4 ページ' }).waitFor();
  const p2 = await listedEmails();
  assert(page.url().includes('after='), `次へ keeps its cursor in the address: ${page.url()}`);
  await pager.locator('.pager-last').click();
  await pager.locator('.pager-page', { hasText: '4 / 4 ページ' }).waitFor();
  const p4 = await listedEmails();
  const summary = await pager.locator('.pager-summary').innerText();
  await T.screenshot('users-last-page');
  assert(p4.length === total - 300, `the last page holds the ${total - 300} after three full pages: ${p4.length}`);
  assert(summary.includes(`301～${total}`), `summary of the last page: ${summary}`);
  await pager.locator('.pager-prev').click();
  await pager.locator('.pager-page', { hasText: '3 / 4 ページ' }).waitFor();
  const p3 = await listedEmails();
  const all = [...p1, ...p2, ...p3, ...p4];
  assert(p1.length === 100 && p2.length === 100 && p3.length === 100, 'three full pages');
  assert(new Set(all).size === total, `${total} different users over the four pages: ${new Set(all).size}`);
  await pager.locator('.pager-first').click();
  await pager.locator('.pager-page', { hasText: '1 / 4 ページ' }).waitFor();
  assert(JSON.stringify(await listedEmails()) === JSON.stringify(p1), '最初 shows page 1 again');
  assert(await pager.locator('.pager-prev').isDisabled(), '前へ is off on the first page');
});

await T.step('操作履歴: CSV出力 downloads the history of the conditions shown', async () => {
  await page.goto(`${base}index.html#/audit?action=login`);
  await page.locator('#audit-table tbody tr').first().waitFor();
  const link = page.locator('#audit-csv');
  const href = await link.getAttribute('href');
  assert(href === '/api/audit/export.csv?action=login', `CSV出力 link: ${href}`);
  await T.screenshot('audit-csv');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = path.join(artifacts, 'lists-history.csv');
  await download.saveAs(file);
  const text = (await import('node:fs')).readFileSync(file, 'utf8');
  const lines = text.replace(/^\uFEFF/, '').trim().split('\r\n');
  assert(lines[0] === '"操作日時","アクセスIP","ログインID","操作内容","結果"', `header: ${lines[0]}`);
  assert(lines.length > 10 && lines.slice(1).every((l) => l.includes('"ログイン"')), `${lines.length} lines, all ログイン`);
});

await T.step('no page errors, every API request with Accept-Language and CSRF', async () => {
  assert(state.problems.length === 0, state.problems.join('\n'));
});

await browser.close();
T.done();
