// Browser test of deleting a user in two steps on 利用者 (NRA 7): 1次削除 with a confirmation that
// names the user, the user under 削除済み, 1次削除を解除する, then マスター削除 (2次削除). Screenshots
// go to $SHOMEI_ARTIFACTS as users-delete-NN-*.png.
//
//   cd tests/browser && npm ci && SHOMEI_UP_JSON=../../var/up.json node users-delete.test.mjs

import { assert, browse, ctl, finish, login, stack, tap, untilIssued } from './harness.mjs';

const { up, base, origin, artifacts } = stack();
const T = tap('users-delete', artifacts);
const state = { problems: [], loggedIn: false };
const RUN = Date.now().toString(36);
const SLUG = `udel-${RUN}`;
const PW = 'UserDel2test';
const EMAIL = `sakujo.${RUN}@example.com`;

const { browser, page } = await browse(origin, state);
T.page = page;

/** fetch from the page with its session (and CSRF token for changes). */
async function call(method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const h = { Accept: 'application/json', 'Accept-Language': 'ja' };
      const csrf = sessionStorage.getItem('shomei.csrf');
      if (m !== 'GET') {
        h['X-CSRF-Token'] = csrf;
        h['Content-Type'] = 'application/json';
      }
      const r = await fetch(p, { method: m, headers: h, body: b ? JSON.stringify(b) : undefined });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    [method, path, body],
  );
}

const row = () => page.locator(`#users-table tbody tr.user-first`, { hasText: EMAIL });

async function confirm(buttonClass, title) {
  await row().locator(`button.${buttonClass}`).click();
  await page.locator('#udel-dialog').waitFor({ state: 'visible' });
  const text = await page.locator('#udel-dialog').innerText();
  assert(text.includes(title) && text.includes('削除 花子') && text.includes(EMAIL), `confirmation: ${text}`);
  await T.screenshot(buttonClass, { fullPage: false });
  await page.click('#udel-ok');
  await page.locator('#udel-dialog').waitFor({ state: 'hidden' });
}

await T.step(
  'a tenant of its own; a user with an issued certificate',
  async () => {
    ctl(up, ['tenant', 'create', '--slug', SLUG, '--name', `削除画面${RUN}`, '--name-en', `Delete UI ${RUN}`,
      '--quota', '5', '--features', 'admin_may_issue']);
    ctl(up, ['admin', 'create', '--tenant', SLUG, '--login-id', `${SLUG}-admin`, '--password', PW]);
    await login(page, base, `${SLUG}-admin`, PW);
    state.loggedIn = true;
    const r = await call('POST', '/api/users', {
      family_name: '削除', given_name: '花子', family_name_kana: 'サクジョ', given_name_kana: 'ハナコ',
      family_name_en: 'Sakujo', given_name_en: 'Hanako', email: EMAIL, devices: [{ device: '20' }],
    });
    assert(r.status === 202, `register: ${r.status}`);
    await untilIssued(page);
  },
  { critical: true },
);

await T.step('1次削除: the confirmation names the user; the row leaves the list', async () => {
  await page.goto(`${base}index.html#/users`);
  await row().waitFor();
  await confirm('udel-delete', '1次削除確認');
  await page.locator('#users-message', { hasText: '1次削除しました' }).waitFor();
  await row().waitFor({ state: 'detached' });
});

await T.step('削除済み shows it with 1次削除を解除する and マスター削除; 解除 brings it back', async () => {
  await page.check('#users-deleted');
  await page.waitForFunction(() => window.location.hash.includes('deleted=1'));
  await row().waitFor();
  assert(await row().locator('button.udel-undelete').isVisible(), 'no 解除 button');
  assert(await row().locator('button.udel-purge').isVisible(), 'no マスター削除 button');
  await T.screenshot('deleted-list');
  await confirm('udel-undelete', '1次削除の解除');
  await row().waitFor({ state: 'detached' });
  await page.uncheck('#users-deleted');
  await row().waitFor();
});

await T.step('1次削除 again, then マスター削除 (its certificate revoked first): gone for good', async () => {
  await confirm('udel-delete', '1次削除確認');
  await row().waitFor({ state: 'detached' });
  const u = await call('GET', '/api/users?deleted=1');
  const user = u.body.items.find((x) => x.email === EMAIL);
  const ids = user.certificates.map((c) => c.id);
  const r = await call('POST', '/api/certificates/revoke', { ids });
  assert(r.status === 200, `revoke: ${r.status}`);
  await page.check('#users-deleted');
  await row().waitFor();
  await confirm('udel-purge', '2次削除（マスター削除）確認');
  await page.locator('#users-message', { hasText: 'マスター削除しました' }).waitFor();
  await row().waitFor({ state: 'detached' });
  // asked outside the page (a 404 there would be logged as a console error)
  const after = await page.request.get(`${base}api/users/${user.id}`, { headers: { Accept: 'application/json', 'Accept-Language': 'ja' } });
  assert(after.status() === 404, `the user still answers ${after.status()}`);
  await T.screenshot('purged');
});

await finish(T, browser, state);
