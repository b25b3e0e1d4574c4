// Browser test of 選択したものを失効 in 証明書管理 (issue 10): three certificates are added through the
// API, two are checked and revoked at once through the confirmation that names them (失効日 and
// 発行数 / 追加発行可能数 follow), one is scheduled with 日付を指定して (the date picker limited to
// tomorrow … 30 days) and shows 失効予定 until 取消, the button with nothing checked says so,
// and the English texts. Headless Debian Chromium driven by playwright-core, against the stack in
// $SHOMEI_UP_JSON; TAP on stdout, screenshots in $SHOMEI_ARTIFACTS as revoke-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node revoke.test.mjs

import {
  apiGet as pageGet,
  apiPost as pagePost,
  assert,
  browse,
  ctl as upCtl,
  dialogShot as shot,
  isApi,
  login,
  stack,
  tap,
  tokyoDate,
  visibleText,
} from './harness.mjs';

const TOTAL_TIMEOUT_MS = 6 * 60_000; // the whole run
const DATE_TIME = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/;

const { up, base: BASE, origin, artifacts } = stack();
const T = tap('revoke', artifacts);
const state = { problems: [], loggedIn: false };
const problems = state.problems;
const step = T.step;
const screenshot = (name, p, opts) => T.screenshot(name, opts);
const dialogShot = (name, selector) => shot(T, page, name, selector);
const apiGet = (p, lang) => pageGet(page, p, lang);
const ctl = (args) => upCtl(up, args);
let page = null;

async function tenantNow() {
  const r = await apiGet('/api/tenant');
  assert(r.status === 200, `GET /api/tenant answered ${r.status}`);
  return r.body;
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

const apiPost = (p, b) => pagePost(page, p, b);

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

const { browser, page: p } = await browse(origin, state);
page = p;
T.page = page;
let ids = [];
let cns = {};

await step(
  'log in and add three certificates (they are issued)',
  async () => {
    await login(page, BASE, up.login_id, up.password);
    state.loggedIn = true;
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
T.done();
