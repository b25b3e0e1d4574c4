// Browser test of issuance in the shomei portal (issue 3): 証明書管理 (summary, the 追加 dialog,
// 5 numbered certificates whose 発行中... turns into dates by the page's own refresh, search and
// sort) and 利用者 (registration of a user with two devices through 入力 → 確認 → 完了, the
// page's and the server's field messages, the list, search and sort), in Japanese and English.
// Headless Debian Chromium driven by playwright-core, against a running stack described by
// $SHOMEI_UP_JSON. Prints TAP on stdout; screenshots go to $SHOMEI_ARTIFACTS as issuance-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node issuance.test.mjs
//
// It takes 7 certificates of the tenant's quota; when fewer are left (or the tenant lacks
// admin_may_issue) it raises them with up.json's "ctl" (shomeictl tenant set).

import fs from 'node:fs';
import path from 'node:path';
import {
  apiGet as pageGet,
  assert,
  contextOptions,
  ctl as upCtl,
  dialogShot as shot,
  fail,
  isApi,
  launch,
  stack,
  tap,
  tokyoDate,
  visibleText,
  watch as watchPage,
} from './harness.mjs';

const TOTAL_TIMEOUT_MS = 6 * 60_000; // the whole run
const REFRESH_MS = 2500; // js/pages/certificates.js: how often the page asks while issuing
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;
const DATE_TIME = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/;
const BATCH = 5;

// ---------------------------------------------------------------- set-up

const { up, upPath, base: BASE, origin: ORIGIN, artifacts: ARTIFACTS } = stack();
for (const key of ['url', 'login_id', 'password']) {
  if (typeof up[key] !== 'string' || !up[key]) fail(`${upPath} has no "${key}"`);
}
const RUN = Date.now().toString(36);

// ---------------------------------------------------------------- TAP

const T = tap('issuance', ARTIFACTS);
const { step, skip, diag } = T;
let page = null;
const screenshot = (name, p = page, { fullPage = true } = {}) => T.screenshot(name, { page: p, fullPage });
const dialogShot = (name, selector) => shot(T, page, name, selector);

// ---------------------------------------------------------------- browser

// A 401/409/422 answer is logged by Chromium as a failed resource; those are expected here.
const state = { problems: [], loggedIn: false };
const problems = state.problems;
const watch = (p) => watchPage(p, state, { statuses: [401, 409, 422], origin: ORIGIN });

function menuLink(label) {
  return page.locator('nav.menu').getByRole('link', { name: label, exact: true });
}

async function openMenu(label, route) {
  await menuLink(label).click();
  await page.waitForFunction((r) => window.location.hash.startsWith(`#/${r}`), route);
}

const apiGet = (pathname, lang = 'ja') => pageGet(page, pathname, lang);

async function tenantNow() {
  const r = await apiGet('/api/tenant');
  assert(r.status === 200, `GET /api/tenant answered ${r.status}`);
  return r.body;
}

/** Run shomeictl (up.json's ctl) with args. */
function ctl(args) {
  assert(Array.isArray(up.ctl) && up.ctl.length, 'up.json has no "ctl" to change the tenant with');
  return upCtl(up, args);
}

// The 証明書管理 list as the page shows it: [{id, status, cn, issued, revoked}].
async function certRows() {
  return page.locator('#cert-table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.dataset.id,
      status: tr.dataset.status,
      cn: tr.children[0].innerText.trim(),
      issued: tr.children[1].innerText.trim(),
      revoked: tr.children[2].innerText.trim(),
    })),
  );
}

async function summaryShown() {
  const n = async (id) => Number((await page.locator(id).innerText()).replace(/,/g, ''));
  return { quota: await n('#sum-quota'), issued: await n('#sum-issued'), available: await n('#sum-available') };
}

// ---------------------------------------------------------------- the run

const overall = setTimeout(() => {
  console.log(`Bail out! the whole run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

const browser = await launch();
const context = await browser.newContext(contextOptions());
page = await context.newPage();
T.page = page;
watch(page);

diag(`portal ${BASE}, screenshots in ${ARTIFACTS}`);

let before = null; // the tenant summary before the batch
let batchIds = [];
let sawIssuing = false;
const user = {
  family: '山田',
  given: '太郎',
  familyKana: 'ヤマダ',
  givenKana: 'タロウ',
  familyEn: 'Yamada',
  givenEn: 'Taro',
  email: `yamada-taro.${RUN}@example.com`,
  phoneEmail: `taro_phone.${RUN}@example.com`,
  takenEmail: `taken_phone.${RUN}@example.com`,
};
let features = [];

await step(
  'log in; the tenant has room for 7 certificates and lets administrators issue',
  async () => {
    await page.goto(`${BASE}login.html`, { waitUntil: 'networkidle' });
    await page.fill('#login-id', up.login_id);
    await page.fill('#login-password', up.password);
    const [res] = await Promise.all([
      page.waitForResponse((r) => isApi(r, '/api/auth/login', 'POST')),
      page.click('#login-submit'),
    ]);
    assert(res.status() === 200, `POST /api/auth/login answered ${res.status()}`);
    state.loggedIn = true;
    await page.waitForURL(/index\.html/);
    await page.locator('#app').waitFor({ state: 'visible' });

    let t = await tenantNow();
    // Certificates still issuing from earlier tests would refuse the batch (409): let them end.
    for (let i = 0; i < 60 && t.issuing > 0; i++) {
      await page.waitForTimeout(1000);
      t = await tenantNow();
    }
    assert(!(t.issuing > 0), `${t.issuing} certificates are still issuing after a minute`);
    const feats = Array.isArray(t.features) ? t.features : [];
    if (t.available < BATCH + 3 || !feats.includes('admin_may_issue')) {
      const args = ['tenant', 'set', '--slug', t.slug, '--quota', String(Math.max(t.quota, t.issued + 20))];
      if (!feats.includes('admin_may_issue')) args.push('--features', [...feats, 'admin_may_issue'].join(','));
      diag(`raising the tenant: shomeictl ${args.join(' ')}`);
      ctl(args);
      t = await tenantNow();
    }
    assert(t.available >= BATCH + 3, `only ${t.available} certificates available`);
    // Another user who holds an iPhone e-mail: registering the same pair is the server's to refuse.
    const other = await page.evaluate(async (body) => {
      const r = await fetch('/api/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': 'ja', 'X-CSRF-Token': sessionStorage.getItem('shomei.csrf') },
        body: JSON.stringify(body),
      });
      return r.status;
    }, { family_name: '先客', given_name: '花子', family_name_kana: 'センキャク', given_name_kana: 'ハナコ', family_name_en: 'Senkyaku',
      given_name_en: 'Hanako', email: `senkyaku.${RUN}@example.com`, devices: [{ device: '11', email: user.takenEmail }] });
    assert(other === 202, `registering the other user answered ${other}`);
    t = await tenantNow();
    for (let i = 0; i < 60 && t.issuing > 0; i++) {
      await page.waitForTimeout(1000);
      t = await tenantNow();
    }
    features = Array.isArray(t.features) ? t.features : [];
    before = t;
  },
  { critical: true },
);

await step('証明書管理 shows 契約数 / 発行数 / 追加発行可能数, the search row and the list', async () => {
  const [listRes] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates')),
    page.goto(`${BASE}index.html#/certificates`).then(() => page.reload()),
  ]);
  assert(listRes.status() === 200, `GET /api/certificates answered ${listRes.status()}`);
  const list = await listRes.json();
  assert(list.per_page === 100, `per_page is ${list.per_page}`);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  assert((await visibleText(page.locator('#view .page-title'))) === '証明書管理', 'no title 証明書管理');
  for (const th of ['契約数', '発行数', '追加発行可能数']) {
    assert(await page.locator('#cert-summary th', { hasText: th }).isVisible(), `no summary column ${th}`);
  }
  const shown = await summaryShown();
  assert(shown.quota === before.quota, `契約数 shows ${shown.quota}, the API says ${before.quota}`);
  assert(shown.issued === before.issued, `発行数 shows ${shown.issued}, the API says ${before.issued}`);
  assert(shown.available === before.available, `追加発行可能数 shows ${shown.available}`);
  assert((await visibleText(page.locator('#cert-add'))).includes('追加'), 'no + 追加 button');
  for (const label of ['表示', 'コモンネーム']) {
    assert(await page.getByLabel(label, { exact: true }).first().isVisible(), `no search field ${label}`);
  }
  assert((await page.locator('#cert-status option').allInnerTexts()).join('/') === '有効のみ/すべて', '表示 options');
  assert((await page.locator('#cert-from').getAttribute('type')) === 'date', '発行日 is not a date picker');
  assert(await page.getByRole('button', { name: '検索' }).isVisible(), 'no 検索');
  assert(await page.getByRole('button', { name: '画面更新' }).isVisible(), 'no 画面更新');
  for (const col of ['コモンネーム', '発行日', '失効日']) {
    assert(await page.locator('#cert-table th', { hasText: col }).isVisible(), `no column ${col}`);
  }
  // The downloads fetch the API (the checked certificates, else every valid one: tried below and
  // in users-manage.test.mjs); 選択したものを失効 works on the check boxes of the certificates
  // that can be revoked (revoke.test.mjs tries it).
  assert(await page.getByRole('button', { name: '証明書ダウンロード' }).isEnabled(), 'no 証明書ダウンロード');
  assert(await page.getByRole('button', { name: 'パスワードリストCSV' }).isEnabled(), 'no パスワードリストCSV');
  assert(await page.getByRole('button', { name: '選択したものを失効' }).isEnabled(), 'no 選択したものを失効');
  const revocable = list.items.filter((i) => ['issued', 'downloaded', 'revoke_scheduled'].includes(i.status)).length;
  assert((await page.locator('#cert-table tbody input.cert-check').count()) === Math.min(revocable, 100),
    'a check box on every certificate that can be revoked, and on no other');
  assert((await page.locator('#cert-table tbody tr').count()) === Math.min(list.items.length, 100), 'rows ≠ items');
  await screenshot('certificates');
});

await step('発行日 sorts both ways from its header (▲ / ▼)', async () => {
  assert((await page.locator('#cert-issued-th .sort-mark').innerText()) === '▲', 'the default is not ▲');
  let [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates')),
    page.click('#cert-sort'),
  ]);
  assert(new URL(res.url()).searchParams.get('sort') === '-issued_at', `sort sent: ${res.url()}`);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  assert((await page.locator('#cert-issued-th .sort-mark').innerText()) === '▼', 'no ▼ after the click');
  assert((await page.getAttribute('#cert-issued-th', 'aria-sort')) === 'descending', 'aria-sort');
  const dates = (await certRows()).map((r) => r.issued).filter((d) => DATE_TIME.test(d));
  assert(dates.every((d, i) => i === 0 || dates[i - 1] >= d), 'the dates are not newest first');
  [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates')),
    page.click('#cert-sort'),
  ]);
  assert(!new URL(res.url()).searchParams.has('sort') || new URL(res.url()).searchParams.get('sort') === 'issued_at', 'asc');
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  assert((await page.locator('#cert-issued-th .sort-mark').innerText()) === '▲', 'no ▲ after the second click');
  // Newest first for what follows: the new (issuing) certificates come at the top.
  await Promise.all([page.waitForResponse((r) => isApi(r, '/api/certificates')), page.click('#cert-sort')]);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
});

await step('追加 dialog: the manual\'s texts, and the page refuses an empty or too large number', async () => {
  await page.click('#cert-add');
  const dialog = page.locator('#cert-add-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert((await visibleText(dialog.locator('.dialog-title'))) === 'クライアント証明書追加発行', 'dialog title');
  const text = await dialog.innerText();
  for (const s of [
    '契約ライセンス数',
    '発行数',
    '追加発行数',
    '発行状況はクライアント証明書一覧のステータスをご確認ください。',
    '発行中は追加発行ができません。',
    `※ お客様が追加発行できる残りの数は${before.available}です。`,
  ]) {
    assert(text.includes(s), `the dialog lacks 「${s}」`);
  }
  assert((await page.locator('#add-quota').innerText()) === String(before.quota), '契約ライセンス数');
  assert((await page.locator('#add-issued').innerText()) === String(before.issued), '発行数');
  assert(await dialog.getByRole('button', { name: '戻る' }).isVisible(), 'no 戻る');
  let asked = false;
  const onReq = (r) => {
    if (new URL(r.url()).pathname === '/api/certificates/batch') asked = true;
  };
  page.on('request', onReq);
  await dialog.getByRole('button', { name: '追加発行' }).click();
  assert((await visibleText(page.locator('#add-count-error'))).includes('追加発行数を入力してください'), 'empty');
  await page.fill('#add-count', String(before.available + 1));
  await dialog.getByRole('button', { name: '追加発行' }).click();
  const over = await visibleText(page.locator('#add-count-error'));
  assert(over.includes(String(before.available)), `too many: ${over}`);
  page.off('request', onReq);
  assert(!asked, 'a wrong number was sent to the server');
  await screenshot('add-dialog-errors', page, { fullPage: false });
  // 戻る closes without doing anything.
  await dialog.getByRole('button', { name: '戻る' }).click();
  await dialog.waitFor({ state: 'hidden' });
});

await step('追加 dialog: the server\'s 422 (too many) and 409 (発行中) messages are shown in it', async () => {
  const dialog = page.locator('#cert-add-dialog');
  // A summary that promises 10 more than there are lets the page send a number the server refuses.
  await page.route('**/api/tenant', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    return route.fulfill({ response: res, json: { ...body, available: body.available + 10 } });
  });
  await Promise.all([page.waitForResponse((r) => isApi(r, '/api/tenant')), page.getByRole('button', { name: '画面更新' }).click()]);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  await page.click('#cert-add');
  await dialog.waitFor({ state: 'visible' });
  await page.fill('#add-count', String(before.available + 1));
  await dialog.getByRole('button', { name: '追加発行' }).click();
  let [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/batch', 'POST')),
    dialog.getByRole('button', { name: 'OK', exact: true }).click(),
  ]);
  let body = await res.json();
  assert(res.status() === 422, `${before.available + 1} answered ${res.status()}: ${JSON.stringify(body)}`);
  const field = body.error.fields.find((f) => f.field === 'count');
  assert(field, `no count field error: ${JSON.stringify(body)}`);
  assert((await visibleText(page.locator('#add-count-error'))) === field.message, 'the server\'s count message is not shown');
  assert((await visibleText(page.locator('#add-error'))).includes(body.error.message), 'no general message');
  await page.unroute('**/api/tenant');
  await screenshot('add-dialog-422', page, { fullPage: false });

  // 409 while certificates are issuing: the real one is too quick to catch, so the API's answer
  // is played back to the page.
  await page.route('**/api/certificates/batch', (route) =>
    route.fulfill({
      status: 409,
      json: { error: { code: 'issuing_in_progress', message: '発行中は追加発行ができません。' } },
    }),
  );
  await page.fill('#add-count', '1');
  await dialog.getByRole('button', { name: '追加発行' }).click();
  [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates/batch', 'POST')),
    dialog.getByRole('button', { name: 'OK', exact: true }).click(),
  ]);
  assert(res.status() === 409, `the played-back answer is ${res.status()}`);
  assert((await visibleText(page.locator('#add-error'))).includes('発行中は追加発行ができません。'), '409 message');
  await page.unroute('**/api/certificates/batch');
  await dialog.getByRole('button', { name: '戻る' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const t = await tenantNow();
  assert(t.issued === before.issued, `the refused requests changed 発行数 (${before.issued} → ${t.issued})`);
});

await step(
  `add ${BATCH} numbered certificates: 追加発行, then OK in the confirmation`,
  async () => {
    await page.click('#cert-add');
    const dialog = page.locator('#cert-add-dialog');
    await dialog.waitFor({ state: 'visible' });
    await page.fill('#add-count', String(BATCH));
    await dialog.getByRole('button', { name: '追加発行' }).click();
    const confirm = await visibleText(page.locator('#add-confirm-text'));
    assert(confirm.includes(`${BATCH}枚`) && confirm.includes('よろしいですか'), `confirmation: ${confirm}`);
    await screenshot('add-confirm', page, { fullPage: false });
    // Watch every list answer from now on: one of them may show the new rows issuing.
    page.on('response', async (r) => {
      if (!isApi(r, '/api/certificates') || !batchIds.length) return;
      try {
        const body = await r.json();
        if (body.items.some((i) => batchIds.includes(i.id) && i.status === 'issuing')) sawIssuing = true;
      } catch {
        /* the page went away */
      }
    });
    const [res] = await Promise.all([
      page.waitForResponse((r) => isApi(r, '/api/certificates/batch', 'POST')),
      dialog.getByRole('button', { name: 'OK', exact: true }).click(),
    ]);
    const body = await res.json();
    assert(res.status() === 202, `POST /api/certificates/batch answered ${res.status()}: ${JSON.stringify(body)}`);
    assert(JSON.parse(res.request().postData()).count === BATCH, `sent ${res.request().postData()}`);
    assert(body.count === BATCH && Array.isArray(body.ids) && body.ids.length === BATCH, JSON.stringify(body));
    batchIds = body.ids;
    await dialog.waitFor({ state: 'hidden' });
    assert((await visibleText(page.locator('#cert-message'))).includes(`${BATCH}枚`), 'no message');
  },
  { critical: true },
);

await step('発行中... turns into dates by the page\'s own refresh, without a reload; the summary follows', async () => {
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  let navigated = false;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && !new URL(f.url()).hash.startsWith('#/certificates')) navigated = true;
  });
  let automatic = 0;
  const onReq = (r) => {
    if (new URL(r.url()).pathname === '/api/certificates' && r.method() === 'GET') automatic += 1;
  };
  page.on('request', onReq);

  // The rows of the batch, newest first: they are on the first page.
  const rowsOf = async () => (await certRows()).filter((r) => batchIds.map(String).includes(r.id));
  await page.waitForFunction(
    (ids) => ids.every((id) => document.querySelector(`#cert-table tbody tr[data-id="${id}"]`)),
    batchIds.map(String),
  );
  const firstSeen = await rowsOf();
  if (firstSeen.some((r) => r.status === 'issuing')) {
    sawIssuing = true;
    for (const r of firstSeen.filter((x) => x.status === 'issuing')) {
      assert(r.issued === '発行中...', `an issuing row shows ${r.issued}`);
    }
    assert(await page.locator('#cert-issuing').isVisible(), 'no notice that the list refreshes itself');
    await screenshot('issuing');
  }
  // Wait for the page (not us) to show every new certificate with its date.
  await page.waitForFunction(
    (ids) => {
      const rows = [...document.querySelectorAll('#cert-table tbody tr')].filter((tr) => ids.includes(tr.dataset.id));
      return rows.length === ids.length && rows.every((tr) => /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/.test(tr.children[1].innerText.trim()));
    },
    batchIds.map(String),
    { timeout: 45_000, polling: 250 },
  );
  page.off('request', onReq);
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
  assert(!navigated, 'the page navigated away');
  const rows = await rowsOf();
  assert(rows.length === BATCH, `${rows.length} of the ${BATCH} new certificates are on the page`);
  const cns = rows.map((r) => r.cn).sort();
  assert(cns.every((cn) => /^client_\d{6}$/.test(cn)), `CNs: ${cns}`);
  const nums = cns.map((cn) => Number(cn.slice(7)));
  assert(nums.every((n, i) => i === 0 || n === nums[i - 1] + 1), `the numbers are not consecutive: ${cns}`);
  if (sawIssuing) {
    assert(automatic >= 1, 'the list was not asked again by itself');
  } else {
    diag('the batch was issued before the list could show 発行中...; the refresh itself is checked next');
  }
  await page.locator('#cert-issuing').waitFor({ state: 'hidden' });
  const after = await summaryShown();
  assert(after.issued === before.issued + BATCH, `発行数 ${before.issued} → ${after.issued}`);
  assert(after.available === before.available - BATCH, `追加発行可能数 ${before.available} → ${after.available}`);
  assert(after.quota === before.quota, '契約数 changed');
  const t = await tenantNow();
  assert(t.issued === after.issued && t.available === after.available, 'the page and the API disagree');
  await screenshot('issued');
});

await step('the refresh stops when nothing is issuing, and asks again while something is', async () => {
  let asked = 0;
  const onReq = (r) => {
    if (new URL(r.url()).pathname === '/api/certificates' && r.method() === 'GET') asked += 1;
  };
  page.on('request', onReq);
  await page.waitForTimeout(REFRESH_MS * 2 + 500);
  assert(asked === 0, `the list was asked ${asked} times with nothing issuing`);
  if (!sawIssuing) {
    // The real certificates were faster than the page: show it one answer in which one is still
    // issuing (as the API says while a worker has it), then the real answers again.
    let faked = 0;
    await page.route('**/api/tenant', async (route) => {
      if (faked > 0) return route.continue();
      faked += 1;
      const res = await route.fetch();
      const body = await res.json();
      return route.fulfill({ response: res, json: { ...body, issuing: 1 } });
    });
    await page.getByRole('button', { name: '画面更新' }).click();
    await page.waitForTimeout(REFRESH_MS + 1500);
    await page.unroute('**/api/tenant');
    assert(asked >= 2, `after an answer with issuing: 1 the list was asked ${asked} times (expected ≥ 2)`);
    const n = asked;
    await page.waitForTimeout(REFRESH_MS * 2 + 500);
    assert(asked === n, 'the refresh did not stop');
  }
  page.off('request', onReq);
});

await step('証明書管理 search: コモンネーム, 表示 and 発行日 reach the API', async () => {
  const cn = (await certRows()).find((r) => batchIds.map(String).includes(r.id)).cn;
  await page.fill('#cert-cn', cn);
  await page.selectOption('#cert-status', 'all');
  const today = tokyoDate().replaceAll('/', '-');
  await page.fill('#cert-from', today);
  await page.fill('#cert-to', today);
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/certificates')),
    page.getByRole('button', { name: '検索' }).click(),
  ]);
  const q = new URL(res.url()).searchParams;
  assert(q.get('cn') === cn && q.get('status') === 'all', `sent ${q}`);
  assert(q.get('issued_from') === tokyoDate() && q.get('issued_to') === tokyoDate(), `dates sent ${q}`);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  const rows = await certRows();
  assert(rows.length >= 1 && rows.every((r) => r.cn.includes(cn)), `rows: ${JSON.stringify(rows)}`);
  await screenshot('certificates-search');
  await Promise.all([page.waitForResponse((r) => isApi(r, '/api/certificates')), page.click('#cert-clear')]);
  assert((await page.inputValue('#cert-cn')) === '', 'クリア kept the CN');
});

await step('証明書ダウンロード and パスワードリストCSV download every valid certificate', async () => {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#cert-zip')]);
  const zipFile = path.join(ARTIFACTS, 'issuance-certificates.zip');
  await dl.saveAs(zipFile);
  const zip = fs.readFileSync(zipFile);
  assert(zip.subarray(0, 2).toString('latin1') === 'PK', `not a ZIP (${zip.subarray(0, 40).toString('latin1')})`);
  assert(zip.includes(Buffer.from('.p12')) && zip.includes(Buffer.from('cacert.pem')), 'no .p12 or cacert.pem in the ZIP');
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#cert-csv')]);
  const csvFile = path.join(ARTIFACTS, 'issuance-passwords.csv');
  await dl2.saveAs(csvFile);
  const text = fs.readFileSync(csvFile, 'utf8');
  const shown = (await certRows()).map((r) => r.cn).filter((cn) => cn.startsWith('client_'));
  assert(shown.length > 0 && shown.every((cn) => text.includes(cn)), `the CSV lacks a CN of the list: ${text.slice(0, 200)}`);
});

await step('再試行 on a failed certificate asks the API, says so and asks for the list again', async () => {
  const failedItem = { id: 999999, user_id: null, device: null, device_label: null, cn: 'client_999999', email: null,
    serial: null, status: 'failed', status_label: '証明書発行失敗', issued_at: null, expires_at: null, revoked_at: null };
  const list = (url) => url.pathname === '/api/certificates';
  const addFailed = async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    return route.fulfill({ response: res, json: { ...body, items: [failedItem, ...(body.items || [])] } });
  };
  let posted = null;
  const retried = (route) => {
    posted = { method: route.request().method(), csrf: route.request().headers()['x-csrf-token'] };
    return route.fulfill({ status: 202, json: { id: 999999, status: 'issuing', status_label: '証明書発行中' } });
  };
  await page.route(list, addFailed);
  await page.route('**/api/certificates/999999/retry', retried);
  try {
    await Promise.all([page.waitForResponse((r) => isApi(r, '/api/certificates')), page.click('#cert-refresh')]);
    await page.waitForSelector('#cert-loading', { state: 'hidden' });
    const button = page.getByRole('button', { name: '再試行 client_999999' });
    assert(await button.isVisible(), 'no 再試行 on the failed row');
    assert((await page.locator('#cert-table tr[data-id="999999"]').innerText()).includes('発行失敗'), 'the row does not say 発行失敗');
    await screenshot('certificates-failed');
    await Promise.all([page.waitForResponse((r) => isApi(r, '/api/certificates')), button.click()]);
    assert(posted && posted.method === 'POST' && posted.csrf, `the retry was not posted with the CSRF token: ${JSON.stringify(posted)}`);
    assert((await visibleText(page.locator('#view'))).includes('client_999999 の発行を再試行します'), 'no message after 再試行');
  } finally {
    await page.unroute(list, addFailed);
    await page.unroute('**/api/certificates/999999/retry', retried);
  }
});

await step('利用者: the list and ▼検索条件 with the manual\'s conditions', async () => {
  const [res] = await Promise.all([page.waitForResponse((r) => isApi(r, '/api/users')), openMenu('利用者', 'users')]);
  assert(res.status() === 200, `GET /api/users answered ${res.status()}`);
  assert((await res.json()).per_page === 100, 'per_page');
  assert((await visibleText(page.locator('#view .page-title'))) === '利用者', 'title');
  assert(await page.getByRole('button', { name: '新規追加' }).isVisible(), 'no 新規追加');
  for (const col of ['利用者名', 'メールアドレス', '申請日', '利用デバイス', 'ステータス', '発行日', '終了日']) {
    assert(await page.locator('#users-table th', { hasText: col }).first().isVisible(), `no column ${col}`);
  }
  await page.click('#users-search-panel summary');
  for (const label of ['利用者名（姓）', '利用者名（名）', 'メールアドレス']) {
    assert(await page.locator('#users-search').getByLabel(label, { exact: true }).isVisible(), `no ${label}`);
  }
  const panel = await page.locator('#users-search').innerText();
  for (const s of ['証明書申請日', '証明書発行日', '証明書終了日', '証明書ステータス', '証明書発行中', '証明書発行済', '証明書ダウンロード済', '証明書失効済', 'デバイス種別', 'WindowsPC', 'iOS(iPhone)', 'iOS(iPad)', 'その他', 'Android']) {
    assert(panel.includes(s), `the search lacks ${s}`);
  }
  assert(await page.getByRole('button', { name: '検索実行' }).isVisible(), 'no 検索実行');
  await page.click('#users-search-panel summary');
});

await step('利用者登録 (入力): the form, and the page\'s own checks in Japanese', async () => {
  await page.getByRole('button', { name: '新規追加' }).click();
  const dialog = page.locator('#user-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert((await page.locator('#reg-steps li.current').innerText()).includes('利用者登録情報入力'), 'not on step 1');
  const text = await dialog.innerText();
  const t = await tenantNow();
  for (const s of [
    '会社名',
    t.name,
    '組織名',
    t.organization || '本社',
    '氏名（姓）フリガナ',
    '氏名（名）英語表記',
    'メールアドレスに使用できる記号は半角でドット"."、アンダーバー"_"、ハイフン"-"のみです。',
    '利用者登録情報入力',
    '利用者登録情報 入力内容の確認',
    '利用者登録の完了',
  ]) {
    assert(text.includes(s), `the form lacks 「${s}」`);
  }
  for (const d of ['WindowsPC', 'iOS(iPhone)', 'iOS(iPad)', 'その他', 'Android']) {
    assert(await dialog.getByLabel(d, { exact: true }).isVisible(), `no device ${d}`);
  }
  let asked = false;
  const onReq = (r) => {
    if (new URL(r.url()).pathname === '/api/users' && r.method() === 'POST') asked = true;
  };
  page.on('request', onReq);
  await dialog.getByRole('button', { name: '確認' }).click();
  assert((await visibleText(page.locator('#reg-family-name-error'))).includes('氏名（姓）を入力してください'), 'required');
  assert((await visibleText(page.locator('#reg-devices-error'))).includes('利用デバイス'), 'no device message');
  await page.fill('#reg-family-name', user.family);
  await page.fill('#reg-given-name', user.given);
  await page.fill('#reg-family-name-kana', 'やまだ'); // hiragana: refused
  await page.fill('#reg-given-name-kana', user.givenKana);
  await page.fill('#reg-family-name-en', user.familyEn);
  await page.fill('#reg-given-name-en', '太郎'); // not ASCII: refused
  await page.fill('#reg-email', 'yamada+taro@example.com'); // '+': refused
  await dialog.getByLabel('WindowsPC', { exact: true }).check();
  if (features.includes('install_restriction')) {
    await page.selectOption('#reg-d01-mode', 'or');
    await page.fill('#reg-d01-mac', '00-A0-C9-12-34-56'); // hyphens: refused
  }
  await dialog.getByRole('button', { name: '確認' }).click();
  assert((await visibleText(page.locator('#reg-family-name-kana-error'))).includes('カタカナ'), 'kana');
  assert((await visibleText(page.locator('#reg-given-name-en-error'))).includes('半角英字'), 'English name');
  assert((await visibleText(page.locator('#reg-email-error'))).includes('"_"'), 'e-mail');
  if (features.includes('install_restriction')) {
    assert((await visibleText(page.locator('#reg-d01-mac-error'))).includes('12'), 'MAC');
  }
  assert((await page.locator('#reg-d01-email').isVisible()), 'no サブメール for WindowsPC');
  page.off('request', onReq);
  assert(!asked, 'a form with errors was sent');
  await dialogShot('register-client-errors', '#user-dialog');
});

// The page checks everything it can (a validity end in the past too, before 決定); an iPhone
// e-mail that another user already has is the server's to refuse.
await step('利用者登録: the server\'s 422 messages are shown next to their fields', async () => {
  const dialog = page.locator('#user-dialog');
  await page.fill('#reg-family-name-kana', user.familyKana);
  await page.fill('#reg-given-name-en', user.givenEn);
  await page.fill('#reg-email', user.email);
  await dialog.getByLabel('iOS(iPhone)', { exact: true }).check();
  await page.fill('#reg-d11-email', user.takenEmail); // well-formed, but another user's: the server refuses
  if (features.includes('install_restriction')) await page.fill('#reg-d01-mac', '00A0C9123456');
  if (features.includes('validity_period')) await page.fill('#reg-d01-valid-to', '');
  // The page only checks the form; the server knows that the pair is taken.
  await dialog.getByRole('button', { name: '確認' }).click();
  await page.locator('#reg-submit').waitFor({ state: 'visible' });
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users', 'POST')),
    page.click('#reg-submit'),
  ]);
  const body = await res.json();
  assert(res.status() === 422, `POST /api/users answered ${res.status()}: ${JSON.stringify(body)}`);
  const fields = body.error.fields.map((f) => f.field);
  await page.locator('#reg-form').waitFor({ state: 'visible' });
  assert(fields.includes('devices[1].email'), `fields: ${fields}`);
  const msg = await visibleText(page.locator('#reg-d11-email-error'));
  assert(msg === body.error.fields.find((f) => f.field === 'devices[1].email').message, `shown: ${msg}`);
  assert(JAPANESE.test(msg), `not Japanese: ${msg}`);
  assert((await page.getAttribute('#reg-d11-email', 'aria-invalid')) === 'true', 'not marked');
  assert((await visibleText(page.locator('#reg-error'))).length > 0, 'no summary message');
  assert((await page.locator('#reg-steps li.current').innerText()).includes('利用者登録情報入力'), 'not back on step 1');
  await dialogShot('register-server-error', '#user-dialog');
});

let registered = null;

await step(
  'register a user with two devices: 入力 → 入力内容の確認 → 決定 → 完了 with 発行中',
  async () => {
    const dialog = page.locator('#user-dialog');
    await page.fill('#reg-family-name-kana', user.familyKana);
    await page.fill('#reg-family-name-en', user.familyEn);
    await page.fill('#reg-given-name-en', user.givenEn);
    await page.fill('#reg-email', user.email);
    await dialog.getByLabel('iOS(iPhone)', { exact: true }).check();
    await page.fill('#reg-d11-email', user.phoneEmail);
    if (features.includes('install_restriction')) await page.fill('#reg-d01-mac', '00A0C9123456');
    if (features.includes('validity_period')) {
      await page.fill('#reg-d01-valid-from', '');
      await page.fill('#reg-d01-valid-to', `${tokyoDate(90)} 18:00`);
    }
    if (features.includes('org_units')) await page.fill('#reg-d11-ou1', 'Sales');
    await dialog.getByRole('button', { name: '確認' }).click();
    const review = page.locator('.dialog-body[data-step="confirm"]');
    await review.waitFor({ state: 'visible' });
    assert((await page.locator('#reg-steps li.current').innerText()).includes('入力内容の確認'), 'not on step 2');
    const text = await review.innerText();
    for (const s of [
      '入力した利用者情報に問題がないかご確認ください',
      user.family,
      user.given,
      user.familyKana,
      user.givenKana,
      user.familyEn,
      user.givenEn,
      user.email,
      user.phoneEmail,
      'WindowsPC',
      'iOS(iPhone)',
    ]) {
      assert(text.includes(s), `the review lacks ${s}`);
    }
    assert((await review.locator('.review-device').count()) === 2, 'not two devices in the review');
    await dialogShot('register-confirm', '#user-dialog');

    const [res] = await Promise.all([
      page.waitForResponse((r) => isApi(r, '/api/users', 'POST')),
      dialog.getByRole('button', { name: '決定' }).click(),
    ]);
    const body = await res.json();
    assert(res.status() === 202, `POST /api/users answered ${res.status()}: ${JSON.stringify(body)}`);
    const sent = JSON.parse(res.request().postData());
    assert(sent.devices.length === 2, `sent ${sent.devices.length} devices`);
    assert(sent.devices[0].device === '01' && sent.devices[1].device === '11', 'device codes');
    assert(sent.devices[1].email === user.phoneEmail, 'the サブメール was not sent');
    assert(!('email' in sent.devices[0]), 'an empty サブメール was sent');
    if (!features.includes('install_restriction')) assert(!sent.devices[0].restriction, 'a restriction was sent');
    registered = body;
    assert(Array.isArray(body.certificates) && body.certificates.length === 2, JSON.stringify(body));
    const done = page.locator('.dialog-body[data-step="done"]');
    await done.waitFor({ state: 'visible' });
    assert((await page.locator('#reg-close').innerText()).trim() === '閉じる', 'no 閉じる button');
    assert((await page.locator('#reg-steps li.current').innerText()).includes('利用者登録の完了'), 'not on step 3');
    assert((await done.innerText()).includes('利用者の登録が完了しました'), 'no completion message');
    const rows = await page.locator('#reg-done-certs tbody tr').allInnerTexts();
    assert(rows.length === 2, `${rows.length} certificates shown`);
    assert(rows.every((r) => r.includes('発行中')), `not 発行中: ${rows}`);
    assert(rows.some((r) => r.includes(user.phoneEmail)), 'the iPhone certificate lacks its サブメール');
    assert(rows.every((r) => r.includes(`${user.familyEn} ${user.givenEn}`)), 'CN');
    await dialogShot('register-done', '#user-dialog');
    const [list] = await Promise.all([
      page.waitForResponse((r) => isApi(r, '/api/users')),
      page.click('#reg-close'),
    ]);
    assert(list.status() === 200, `GET /api/users answered ${list.status()}`);
    await dialog.waitFor({ state: 'hidden' });
  },
  { critical: true },
);

await step('the new user is in the list with two certificates, issued by the page\'s refresh', async () => {
  const rows = page.locator(`#users-table tbody tr[data-user-id="${registered.user.id}"]`);
  await rows.first().waitFor();
  assert((await rows.count()) === 2, `${await rows.count()} rows for the user`);
  const first = await rows.first().innerText();
  for (const s of [`${user.family} ${user.given}`, user.email, 'WindowsPC']) {
    assert(first.includes(s), `the row lacks ${s}: ${first}`);
  }
  assert((await rows.nth(1).innerText()).includes('iOS(iPhone)'), 'no iOS(iPhone) row');
  await page.waitForFunction(
    (id) => {
      const trs = [...document.querySelectorAll(`#users-table tbody tr[data-user-id="${id}"]`)];
      return trs.length === 2 && trs.every((tr) => tr.dataset.status === 'issued');
    },
    String(registered.user.id),
    { timeout: 45_000, polling: 250 },
  );
  const texts = await rows.allInnerTexts();
  assert(texts.every((x) => x.includes('証明書発行済')), `statuses: ${texts}`);
  assert(texts.every((x) => (x.match(/\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/g) || []).length >= 2), `dates: ${texts}`);
  await page.locator('#users-issuing').waitFor({ state: 'hidden' });
  await screenshot('users');
});

await step('利用者 search and sort reach the API', async () => {
  await page.click('#users-search-panel summary');
  await page.fill('#us-email', user.email);
  await page.locator('#us-device').getByLabel('iOS(iPhone)', { exact: true }).check();
  await page.locator('#us-status').getByLabel('証明書発行済', { exact: true }).check();
  let [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users')),
    page.getByRole('button', { name: '検索実行' }).click(),
  ]);
  let q = new URL(res.url()).searchParams;
  assert(q.get('email') === user.email && q.get('device') === '11' && q.get('status') === 'issued', `sent ${q}`);
  const body = await res.json();
  assert(body.items.length >= 1 && body.items.every((u) => u.email.includes(user.email)), 'search result');
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  assert(await page.locator(`#users-table tbody tr[data-user-id="${registered.user.id}"]`).first().isVisible(), 'user');
  await screenshot('users-search');
  [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users')),
    page.locator('#users-table th[data-sort="email"] button').click(),
  ]);
  q = new URL(res.url()).searchParams;
  assert(q.get('sort') === 'email', `sort sent ${q.get('sort')}`);
  assert(q.get('email') === user.email, 'the search was lost when sorting');
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  assert((await page.locator('#users-table th[data-sort="email"] .sort-mark').innerText()) === '▲', '▲');
  [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users')),
    page.locator('#users-table th[data-sort="email"] button').click(),
  ]);
  assert(new URL(res.url()).searchParams.get('sort') === '-email', 'the second click did not sort -email');
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  assert((await page.locator('#users-table th[data-sort="email"] .sort-mark').innerText()) === '▼', '▼');
  [res] = await Promise.all([page.waitForResponse((r) => isApi(r, '/api/users')), page.click('#us-clear')]);
  q = new URL(res.url()).searchParams;
  assert(!q.has('email') && !q.has('device') && !q.has('status'), `クリア kept ${q}`);
});

await step('English: 利用者 and its registration form', async () => {
  const [res] = await Promise.all([
    page.waitForResponse((r) => isApi(r, '/api/users')),
    page.getByRole('button', { name: 'English' }).click(),
  ]);
  assert(res.request().headers()['accept-language'] === 'en', 'Accept-Language is not en');
  await page.waitForSelector('#users-loading', { state: 'hidden' });
  assert((await visibleText(page.locator('#view .page-title'))) === 'Users', 'title');
  for (const col of ['Name', 'E-mail address', 'Applied on', 'Device', 'Status', 'Issued on', 'Expires on']) {
    assert(await page.locator('#users-table th', { hasText: col }).first().isVisible(), `no column ${col}`);
  }
  const rows = page.locator(`#users-table tbody tr[data-user-id="${registered.user.id}"]`);
  await page.waitForFunction(
    (id) => ![...document.querySelectorAll(`#users-table tbody tr[data-user-id="${id}"] .status-badge`)].some((b) => /[\u3040-\u30ff\u3400-\u9fff]/.test(b.textContent)),
    String(registered.user.id),
  );
  const status = await rows.first().locator('.status-badge').innerText();
  assert(!JAPANESE.test(status), `the status is not English: ${status}`);
  await page.getByRole('button', { name: 'New user' }).click();
  const dialog = page.locator('#user-dialog');
  await dialog.waitFor({ state: 'visible' });
  const text = await dialog.innerText();
  for (const s of ['Register a user', 'Family name (katakana)', 'Given name (English)', 'E-mail address', 'Company', 'Check']) {
    assert(text.includes(s), `the English form lacks ${s}`);
  }
  await dialog.getByRole('button', { name: 'Check' }).click();
  assert(!JAPANESE.test(await visibleText(page.locator('#reg-family-name-error'))), 'the page\'s message is not English');
  await dialogShot('register-en', '#user-dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await screenshot('users-en');
});

await step('English: 証明書管理 and its 追加 dialog', async () => {
  await Promise.all([page.waitForResponse((r) => isApi(r, '/api/certificates')), openMenu('Certificates', 'certificates')]);
  await page.waitForSelector('#cert-loading', { state: 'hidden' });
  for (const th of ['Licenses', 'Issued', 'Available']) {
    assert(await page.locator('#cert-summary th', { hasText: th }).first().isVisible(), `no ${th}`);
  }
  for (const col of ['Common name', 'Issued on', 'Revoked on']) {
    assert(await page.locator('#cert-table th', { hasText: col }).isVisible(), `no column ${col}`);
  }
  assert(await page.getByRole('button', { name: 'Refresh' }).isVisible(), 'no Refresh');
  assert(await page.getByRole('button', { name: 'Search' }).isVisible(), 'no Search');
  await page.click('#cert-add');
  const dialog = page.locator('#cert-add-dialog');
  await dialog.waitFor({ state: 'visible' });
  const text = await dialog.innerText();
  assert(!JAPANESE.test(text), `the dialog has Japanese: ${text}`);
  assert(text.includes('You cannot add certificates while some are being issued.'), 'no issuing note');
  await screenshot('certificates-add-en', page, { fullPage: false });
  await dialog.getByRole('button', { name: 'Back' }).click();
  await screenshot('certificates-en');
  await page.getByRole('button', { name: '日本語' }).click();
  await page.locator('#view .page-title', { hasText: '証明書管理' }).waitFor();
});

await step(
  'log out',
  async () => {
    if (!state.loggedIn) return;
    await page.goto(`${BASE}index.html#/certificates`);
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('nav.menu').getByRole('button').click();
    await page.waitForURL(/login\.html/);
    state.loggedIn = false;
  },
  { always: true },
);

await step(
  'no script errors, CSP refusals or missing Accept-Language / X-CSRF-Token',
  async () => {
    assert(problems.length === 0, problems.join('\n'));
  },
  { always: true },
);

clearTimeout(overall);
await browser.close().catch(() => {});
T.done();
