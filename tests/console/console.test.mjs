// The web console in headless Chromium against the real server: the public
// explorer and its charts, the certificate check (a genuine certificate
// passes, an altered one fails with the reason), the calculators, sign-in
// and sign-out on refresh-token reuse, the language switch, a verifier's
// trip review, the live book on the explorer, and axe-core over each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  accessibilityViolations, apiClient, launchBrowser, openPage, screenshot, signInAs, startServer,
} from './harness.mjs';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  // Refresh tokens are single-use at once, so reuse is seen without waiting out the grace.
  server = await startServer({
    TANPUHUI_REFRESH_GRACE_SECS: '0',
    // A project can be decided as soon as it is submitted (a test cannot wait seven working days).
    TANPUHUI_REGISTRY__NOTICE_WORKING_DAYS: '0',
    // Auctions are closed within a second of their end, so a test's auction can be short.
    TANPUHUI_MARKET__CLOSE_CHECK_SECS: '1',
    // Every test signs its people in afresh: more sign-ins a minute than
    // the production default allows from one address.
    TANPUHUI_AUTH_RATE_PER_MINUTE: '600',
    // Partner feeds on, so the administrator can issue keys.
    TANPUHUI_PARTNER_SECRETS_KEY: crypto.randomBytes(32).toString('hex'),
    // Last year's compliance stays open a whole year, so a test on the wall
    // clock can record and surrender for it on any day.
    TANPUHUI_RIGHTS__SURRENDER_DAYS: '366',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh unified social credit code with its check character (GB 32100-2015). */
function uscc() {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const body = `91620100MA${Array.from({ length: 7 }, () => alphabet[crypto.randomInt(alphabet.length)]).join('')}`;
  const sum = [...body].reduce((a, c, i) => a + alphabet.indexOf(c) * weights[i], 0);
  return body + alphabet[(31 - (sum % 31)) % 31];
}

const consoleUrl = (/** @type {string} */ hash) => `${server.base}/console/#${hash}`;

/** Opens a page, runs `body`, then checks there were no script errors or CSP refusals. */
async function withPage(/** @type {(page: import('playwright-core').Page) => Promise<void>} */ body, options = {}) {
  const { page, context, errors } = await openPage(browser, options);
  try {
    await body(page).catch(async (e) => {
      // What the page showed when it failed, for whoever reads the CI log.
      await screenshot(page, `failed-${Date.now()}`).catch(() => {});
      throw e;
    });
    assert.deepEqual(errors, [], 'no script errors or CSP refusals');
  } finally {
    await context.close();
  }
}

async function assertAccessible(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ what) {
  const violations = await accessibilityViolations(page);
  assert.deepEqual(violations, [], `${what}: axe-core serious or critical violations`);
}

test('the server serves the console with its policy and revalidation', async () => {
  const res = await fetch(`${server.base}/console/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const etag = res.headers.get('etag');
  assert.ok(etag, 'an ETag');
  const again = await fetch(`${server.base}/console/`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  const wasm = await fetch(`${server.base}/console/wasm/carbon_calc_bg.wasm`);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(`${server.base}/console/vendor/preact.d.ts`)).status, 404, 'type declarations are not served');
  assert.equal((await fetch(`${server.base}/console/nothing.js`)).status, 404);
  const root = await fetch(`${server.base}/`, { redirect: 'manual' });
  assert.equal(root.headers.get('location'), '/console/');
  const explorer = await fetch(`${server.base}/explorer`, { redirect: 'manual' });
  assert.equal(explorer.headers.get('location'), '/console/#/explorer');
});

test('the public explorer: totals, charts, lists and their CSV', async () => {
  await withPage(async (page) => {
    await page.goto(consoleUrl('/explorer'));
    await page.getByRole('heading', { name: '公开登记簿' }).waitFor();
    const stats = await (await fetch(`${server.base}/api/v1/public/statistics`)).json();
    const issuedT = String(Number(stats.totals.issued_g) / 1e6);
    const shown = (await page.locator('[data-total="issued"]').textContent()) ?? '';
    assert.equal(shown.replace(/[,\s t]/g, ''), issuedT, 'issued total as the API says, in tonnes');
    assert.equal(await page.locator('figure.chart canvas').count(), 2, 'two charts drawn');
    await screenshot(page, 'explorer-overview');
    await assertAccessible(page, 'explorer overview');

    await page.getByRole('link', { name: '项目', exact: true }).click();
    const project = page.getByRole('link', { name: /林/ }).first();
    await project.waitFor();
    await assertAccessible(page, 'projects');
    await screenshot(page, 'explorer-projects');
    await project.click();
    await page.getByRole('heading', { name: '签发批次' }).waitFor();
    const batch = page.getByRole('link', { name: server.demo['issued batch'] });
    await batch.waitFor();
    await batch.click();
    await page.getByRole('heading', { name: '注销记录' }).waitFor();
    await page.getByRole('cell', { name: '2026 兰州新区马拉松' }).waitFor();
    await assertAccessible(page, 'retirements');
    await screenshot(page, 'explorer-retirements');
    const csv = await page.getByRole('link', { name: '下载 CSV' }).getAttribute('href');
    assert.ok(csv, 'a CSV link');
    const res = await fetch(`${server.base}${csv}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(await res.text(), /兰州新区马拉松/);

    // A filter the API refuses is said in words.
    await page.goto(consoleUrl('/explorer/batches?vintage=abc'));
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /查询参数有误.*Query deserialize error/);
  });
});

test('the certificate check: a genuine certificate passes, an altered one fails saying why', async () => {
  const retirement = server.demo['retirement certificate'].split('/').pop();
  const cert = await (await fetch(`${server.base}/api/v1/retirements/${retirement}/certificate`)).json();
  await withPage(async (page) => {
    await page.goto(consoleUrl(`/check?retirement=${retirement}`));
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'valid');
    for (const step of ['signature', 'key', 'statement', 'inclusion']) {
      assert.equal(await page.locator(`[data-step="${step}"]`).getAttribute('data-ok'), 'true', step);
    }
    await screenshot(page, 'certificate-check-valid');
    await assertAccessible(page, 'certificate check');

    // One gram more on the certificate than the log says.
    const altered = { ...cert, quantity_g: String(Number(cert.quantity_g) + 1) };
    await page.getByLabel('证书 JSON 或网址').fill(JSON.stringify(altered));
    await page.getByRole('button', { name: '核验' }).click();
    await page.locator('[data-verdict="invalid"]').waitFor();
    assert.equal(await page.locator('[data-step="statement"]').getAttribute('data-ok'), 'false');
    assert.match((await page.locator('[data-step="statement"]').textContent()) ?? '', /quantity_g/);
    await screenshot(page, 'certificate-check-altered');

    // The logged leaf altered to match: its inclusion proof no longer holds.
    const leaf = cert.audit.leaf.replace(`"quantity_g":${cert.quantity_g}`, `"quantity_g":${altered.quantity_g}`);
    await page.getByLabel('证书 JSON 或网址').fill(JSON.stringify({ ...altered, audit: { ...cert.audit, leaf } }));
    await page.getByRole('button', { name: '核验' }).click();
    await page.locator('[data-step="inclusion"][data-ok="false"]').waitFor();
    assert.equal(await page.locator('[data-step="statement"]').getAttribute('data-ok'), 'true');

    // The QR code's URL works too.
    await page.getByLabel('证书 JSON 或网址').fill(cert.verification_url);
    await page.getByRole('button', { name: '核验' }).click();
    await page.locator('[data-verdict="valid"]').waitFor();
  }, { width: 390, height: 844 });
});

test('the calculators compute in WebAssembly what the server estimates', async () => {
  const server_estimate = await (await fetch(`${server.base}/api/v1/estimates/commute`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ legs: [{ mode: 'metro', distance_km: '7.35' }, { mode: 'bus' }] }),
  })).json();
  await withPage(async (page) => {
    await page.goto(consoleUrl('/calculators'));
    const credited = page.getByTestId('commute-credited');
    await credited.waitFor();
    assert.equal(await credited.textContent(), server_estimate.credited_g);
    // A bad distance is shown on its field, as the calculator names it.
    await page.getByLabel('距离（公里）').first().fill('7.3.5');
    await page.locator('.field.invalid').first().waitFor();
    assert.equal(await page.getByLabel('距离（公里）').first().getAttribute('aria-invalid'), 'true');
    await page.getByLabel('距离（公里）').first().fill('7.35');
    await credited.waitFor();
    await screenshot(page, 'calculators');
    await assertAccessible(page, 'calculators');
  });
});

test('English on request, 简体中文 by default', async () => {
  await withPage(async (page) => {
    await page.goto(consoleUrl('/'));
    await page.getByRole('heading', { name: '碳普惠环境权益平台' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Tanpuhui environmental-rights platform' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.reload();
    await page.getByRole('heading', { name: 'Tanpuhui environmental-rights platform' }).waitFor();
    await assertAccessible(page, 'welcome (English)');
  });
});

test('a wrong password is said in words; a reused refresh token signs the tab out', async () => {
  await withPage(async (page) => {
    await page.goto(consoleUrl('/signin'));
    await page.getByLabel('邮箱或手机号').fill(server.accounts.verifier);
    await page.getByLabel('密码', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: '登录' }).last().click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /登录名或密码不正确/);
    await assertAccessible(page, 'sign-in with a problem');

    await signInAs(page, server.base, server.accounts.verifier, server.password);
    await screenshot(page, 'account');
    await assertAccessible(page, 'account');
    const stored = JSON.parse(await page.evaluate(() => sessionStorage.getItem('tph.session') ?? 'null'));
    assert.ok(stored?.refresh, 'the tab keeps its refresh token');
    // Someone else uses the tab's refresh token first (a stolen copy) ...
    const thief = await fetch(`${server.base}/api/v1/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: stored.refresh }),
    });
    assert.equal(thief.status, 200);
    // ... so the tab's own refresh presents a used token: the sign-in is revoked and the tab says so.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('tph.session') ?? '{}');
      sessionStorage.setItem('tph.session', JSON.stringify({ ...s, expiresAt: 0 }));
    });
    await page.reload();
    await page.getByText('此登录已被撤销').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tph.session')), null);
  });
});

test('a verifier reviews a trip whose trace is shorter than claimed, seeing it drawn to scale', async () => {
  // A resident logs a 7.35 km metro ride whose GPS trace covers about 3 km.
  const resident = apiClient(server.base);
  const email = `reviewed-${Date.now()}@example.cn`;
  await resident.post('/api/v1/auth/register', { email, password: 'a long passphrase' });
  await resident.signIn(email, 'a long passphrase');
  const start = Date.now() - 60 * 60 * 1000;
  const trace = Array.from({ length: 31 }, (_, i) => ({
    lat: 36.5 + (0.027 * i) / 30, lon: 103.68, t: new Date(start + i * 60 * 1000).toISOString(),
  }));
  const trip = await resident.post('/api/v1/trips', {
    client_trip_id: crypto.randomUUID(), legs: [{ mode: 'metro', distance_km: '7.35' }],
    started_at: new Date(start).toISOString(), ended_at: new Date(start + 30 * 60 * 1000).toISOString(), trace,
  });
  assert.equal(trip.status, 'pending_review');

  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.verifier, server.password);
    await page.getByRole('link', { name: '行程审核' }).first().click();
    await page.getByRole('heading', { name: '行程审核' }).waitFor();
    await assertAccessible(page, 'review queue');
    await page.locator(`a[href="#/reviews/trips/${trip.id}"]`).click();
    await page.getByRole('heading', { name: '审核行程' }).waitFor();
    await page.locator('[data-reason="trace_shorter_than_claimed"]').waitFor();
    const points = await page.locator('svg polyline.trace-line').getAttribute('points');
    assert.equal(points?.split(' ').length, 31, 'every fix drawn');
    assert.match((await page.locator('figure.trace figcaption').textContent()) ?? '', /\d+ (m|km)/, 'a scale bar');
    await screenshot(page, 'review-trip');
    await assertAccessible(page, 'review a trip');
    // Deciding needs a reason: the API's refusal is shown on the field.
    await page.getByRole('button', { name: '通过' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByLabel('审核意见').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('审核意见').fill('乘车记录与站点吻合，轨迹在隧道中断');
    await page.getByRole('button', { name: '通过' }).click();
    await page.getByRole('heading', { name: '行程审核' }).waitFor();
    assert.equal(await page.locator(`a[href="#/reviews/trips/${trip.id}"]`).count(), 0, 'gone from the queue');
  });
  const decided = await resident.get(`/api/v1/trips/${trip.id}`);
  assert.equal(decided.status, 'credited');
});

test('the explorer book updates live from the market stream', async () => {
  const code = server.demo['listed instrument'];
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const me = await trader.get('/api/v1/me');
  const org = me.roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  await withPage(async (page) => {
    await page.goto(consoleUrl(`/explorer/market/${code}`));
    await page.locator('.live[data-state="live"]').waitFor();
    const depth = page.getByTestId('depth');
    await depth.waitFor();
    assert.doesNotMatch((await depth.textContent()) ?? '', /33\.33/);
    const order = await trader.post('/api/v1/market/orders', {
      client_order_id: crypto.randomUUID(), organization_id: org, instrument: code,
      side: 'buy', price: '33.33', quantity: '7', time_in_force: 'gtc',
    });
    await depth.getByText('33.33').waitFor();
    await screenshot(page, 'explorer-market');
    await assertAccessible(page, 'market data');
    await trader.post(`/api/v1/market/orders/${order.order.id}/cancel`, {});
    await page.waitForFunction(() => !document.querySelector('[data-testid="depth"]')?.textContent?.includes('33.33'));
  });
});

test('the audit log page checks the current tree head in the browser', async () => {
  await withPage(async (page) => {
    await page.goto(consoleUrl('/explorer/audit'));
    const signature = page.locator('[data-signature]');
    await signature.waitFor();
    assert.equal(await signature.getAttribute('data-signature'), 'valid');
    await screenshot(page, 'audit-log');
    await assertAccessible(page, 'audit log');
  }, { width: 390, height: 844 });
});

test('an enterprise places and cancels an order, and a second page sees the book change through the stream', async () => {
  const code = server.demo['listed instrument'];
  const { page: watcher, context: watching, errors: watcherErrors } = await openPage(browser);
  try {
    await watcher.goto(consoleUrl(`/explorer/market/${code}`));
    await watcher.locator('.live[data-state="live"]').waitFor();
    const book = watcher.getByTestId('depth');
    await book.waitFor();
    await withPage(async (page) => {
      await signInAs(page, server.base, server.accounts.trader, server.password);
      await page.getByRole('link', { name: '交易', exact: true }).first().click();
      await page.getByRole('heading', { name: '委托下单' }).waitFor();
      await page.locator('[data-testid="rules"]').waitFor();
      // The band and tick are shown, and a price outside the band is refused before sending.
      const hint = (await page.getByText(/今日可报价/).textContent()) ?? '';
      const instrument = await (await fetch(`${server.base}/api/v1/market/instruments/${code}`)).json();
      assert.ok(hint.includes(instrument.band.low) && hint.includes(instrument.band.high) && hint.includes(instrument.tick), hint);
      await page.getByLabel('价格（元）').fill('999.00');
      await page.getByLabel(/^数量/).fill('5');
      await page.getByRole('button', { name: '买入下单' }).click();
      assert.equal(await page.getByLabel('价格（元）').getAttribute('aria-invalid'), 'true');
      assert.match((await page.getByRole('alert').textContent()) ?? '', /涨跌幅/);

      await page.getByLabel('价格（元）').fill('33.34');
      await page.getByRole('button', { name: '买入下单' }).click();
      const placed = page.getByTestId('placed');
      await placed.waitFor();
      const orderId = await placed.getAttribute('data-order');
      await book.getByText('33.34').waitFor();
      const cancel = page.locator(`[data-cancel="${orderId}"]`);
      await cancel.waitFor();
      await screenshot(page, 'trade');
      await assertAccessible(page, 'trading screen');
      await cancel.click();
      await cancel.waitFor({ state: 'detached' });
      await watcher.waitForFunction(() => !document.querySelector('[data-testid="depth"]')?.textContent?.includes('33.34'));

      // The trade the demo made, checked from the trading screen.
      const attestation = page.locator('[data-attestation]').last();
      await attestation.waitFor();
      await attestation.click();
      await page.locator('[data-verdict="valid"]').waitFor();
      // Anyone with the attestation's QR code checks the public trade the same way.
      const doc = JSON.parse(await page.getByLabel('证书 JSON 或网址').inputValue());
      await page.goto(consoleUrl('/check'));
      await page.getByLabel('证书 JSON 或网址').fill(doc.verification_url);
      await page.getByRole('button', { name: '核验' }).click();
      await page.locator('[data-verdict="valid"]').waitFor();
      assert.equal(await page.locator('[data-step="statement"]').getAttribute('data-ok'), 'true');
    });
    assert.deepEqual(watcherErrors, []);
  } finally {
    await watching.close();
  }
});

test('a bank records a deposit once per reference, and the participant has the cash', async () => {
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const me = await trader.get('/api/v1/me');
  const org = me.roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const before = await trader.get(`/api/v1/market/positions?organization_id=${org}`);
  const name = (await trader.get(`/api/v1/organizations/${org}`)).name;
  const reference = `BOL-${Date.now()}`;
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.teller, server.password);
    await page.getByRole('link', { name: '结算银行' }).first().click();
    await page.getByRole('heading', { name: '登记入金' }).waitFor();
    await page.getByLabel('交易机构').selectOption({ label: name });
    await page.getByLabel('金额（元）').fill('1000.5');
    await page.getByLabel('银行流水号').fill(reference);
    await page.getByRole('button', { name: '登记', exact: true }).click();
    await page.getByTestId('deposited').waitFor();
    assert.match((await page.getByTestId('deposited').textContent()) ?? '', /已登记 1,000\.50 元/);
    await page.getByRole('cell', { name: reference }).waitFor();
    await screenshot(page, 'bank');
    await assertAccessible(page, 'bank');
    // The same reference again: said, and not credited twice.
    await page.getByLabel('金额（元）').fill('1000.5');
    await page.getByLabel('银行流水号').fill(reference);
    await page.getByRole('button', { name: '登记', exact: true }).click();
    await page.getByText('此流水号已登记过').waitFor();
  });
  const after_ = await trader.get(`/api/v1/market/positions?organization_id=${org}`);
  assert.equal(BigInt(after_.cash_available) - BigInt(before.cash_available), 100050n);

  // The participant asks for 100 yuan back; the bank pays it, naming its payment.
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.trader, server.password);
    await page.getByRole('link', { name: '持有与注销' }).first().click();
    const form = page.locator('form[aria-labelledby="cash-out-title"]');
    await form.getByLabel('金额（元）').fill('100');
    await form.getByLabel('收款账户').fill('6228 4800 1234 5678');
    await form.getByRole('button', { name: '提交出金申请' }).click();
    await page.locator('[data-withdrawal][data-status="requested"]').waitFor();
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.teller, server.password);
    await page.getByRole('link', { name: '结算银行' }).first().click();
    const row = page.getByRole('row', { name: /6228 4800 1234 5678/ });
    await row.waitFor();
    await row.getByRole('textbox').fill(`PAY-${reference}`);
    await row.getByRole('button', { name: '已支付' }).click();
    await row.waitFor({ state: 'detached' });
  });
  const paid = await trader.get(`/api/v1/market/withdrawals?organization_id=${org}`);
  assert.equal(paid.data[0].status, 'executed');
  assert.equal(paid.data[0].reference, `PAY-${reference}`);
  const end = await trader.get(`/api/v1/market/positions?organization_id=${org}`);
  assert.equal(BigInt(after_.cash_available) - BigInt(end.cash_available), 10000n);
});

test('the methodology tables are public, with their sources', async () => {
  await withPage(async (page) => {
    await page.goto(consoleUrl('/methodologies'));
    await page.getByRole('cell', { name: /lanzhou-interim/ }).waitFor();
    await page.getByRole('table', { name: '电网排放因子' }).getByText('0.5395 t/MWh (2022)').first().waitFor();
    await assertAccessible(page, 'methodologies');
  });
});

test('an enterprise registers a project and reports; the service centre approves, verifies with a reduction and issues', async () => {
  const name = `北山二期造林 ${Date.now()}`;
  const pdf = Buffer.from('%PDF-1.4 monitoring plan');
  const digest = crypto.createHash('sha256').update(pdf).digest('hex');
  const year = new Date().getFullYear();
  const { page: enterprise, context: ec, errors: ee } = await openPage(browser);
  const { page: centre, context: cc, errors: ce } = await openPage(browser);
  try {
    await signInAs(enterprise, server.base, server.accounts.forester, server.password);
    await enterprise.goto(consoleUrl('/projects'));
    await enterprise.getByRole('link', { name: '新建项目' }).click();
    await enterprise.getByLabel('项目名称').fill(`${name}（初稿）`);
    await enterprise.getByLabel('计入期开始').fill(`${year - 2}-01-01`);
    await enterprise.getByLabel('第 1 个小班编号').fill('LZXQ-BS2-001');
    await enterprise.getByLabel('第 1 个小班面积（公顷）').fill('50');
    await enterprise.getByLabel('项目文件').setInputFiles({ name: '监测计划.pdf', mimeType: 'application/pdf', buffer: pdf });
    await enterprise.getByTestId('documents').getByText(digest).waitFor();
    await assertAccessible(enterprise, 'new project');
    await screenshot(enterprise, 'project-new');
    await enterprise.getByRole('button', { name: '保存草稿' }).click();
    await enterprise.locator('[data-status="draft"]').waitFor();
    // The draft is corrected before it goes to notice; its documents stay.
    await enterprise.getByRole('link', { name: '编辑草稿' }).click();
    assert.equal(await enterprise.getByLabel('第 1 个小班编号').inputValue(), 'LZXQ-BS2-001');
    await enterprise.getByLabel('项目名称').fill(name);
    await enterprise.getByRole('button', { name: '保存修改' }).click();
    await enterprise.getByRole('heading', { name, exact: true }).waitFor();
    await enterprise.getByTestId('project').getByText(digest).waitFor();
    await enterprise.getByRole('button', { name: '提交公示' }).click();
    await enterprise.locator('[data-status="notice"]').waitFor();

    await signInAs(centre, server.base, server.accounts.verifier, server.password);
    await centre.goto(consoleUrl('/projects?status=notice'));
    await centre.getByRole('link', { name }).click();
    await centre.getByLabel('意见').fill('公示期满无异议');
    await centre.getByRole('button', { name: '批准备案' }).click();
    await centre.locator('[data-status="approved"]').waitFor();

    await enterprise.reload();
    await enterprise.getByRole('heading', { name: '提交监测报告' }).waitFor();
    await enterprise.getByLabel('面积（公顷）').fill('50');
    await enterprise.getByLabel('期初蓄积（立方米/公顷）').fill('20');
    await enterprise.getByLabel('期末蓄积（立方米/公顷）').fill('50');
    await enterprise.getByRole('button', { name: '提交报告' }).click();
    const report = enterprise.locator('[data-report][data-status="submitted"]');
    await report.waitFor();
    const reportId = await report.getAttribute('data-report');
    await screenshot(enterprise, 'project-reported');

    // The service centre finds it in its queue of reports to verify.
    await centre.goto(consoleUrl('/centre'));
    await centre.getByRole('table', { name: '待核证的监测报告' }).waitFor();
    await assertAccessible(centre, 'the service centre');
    await centre.locator(`[data-queued="${reportId}"]`).click();
    await centre.locator(`[data-report="${reportId}"][data-status="submitted"]`).waitFor();
    await assertAccessible(centre, 'project with a report to verify');
    await centre.getByLabel('核证结论').selectOption('accept_reduced');
    await centre.getByLabel('核证量（吨）').fill('100');
    await centre.getByLabel('核证意见').fill('样地复测蓄积偏低，核减');
    await centre.getByRole('button', { name: '提交核证结论' }).click();
    await centre.locator(`[data-report="${reportId}"][data-status="verified"]`).waitFor();
    await centre.getByRole('button', { name: '签发' }).click();
    await centre.locator(`[data-report="${reportId}"][data-status="issued"]`).waitFor();
    await screenshot(centre, 'project-issued');
    assert.deepEqual([...ee, ...ce], []);
  } finally {
    await ec.close();
    await cc.close();
  }
  const reports = await (await fetch(`${server.base}/api/v1/public/batches?project_id=${encodeURIComponent((await (await fetch(`${server.base}/api/v1/public/projects?limit=100`)).json()).data.find((/** @type {any} */ p) => p.name === name).id)}`)).json();
  assert.equal(reports.data.length, 1, 'one batch issued');
  // 100 t verified; a forest sink holds its buffer share back (20 % by default).
  assert.equal(reports.data[0].quantity_g, '100000000');
});

test('a government official approves an enterprise\'s application and suspends and resumes an instrument', async () => {
  const applicant = apiClient(server.base);
  const email = `applicant-${Date.now()}@example.cn`;
  await applicant.post('/api/v1/auth/register', { email, password: 'a long passphrase' });
  await applicant.signIn(email, 'a long passphrase');
  const code = server.demo['listed instrument'];
  await withPage(async (page) => {
    // The applicant's side, through the console.
    await signInAs(page, server.base, email, 'a long passphrase');
    await page.goto(consoleUrl('/organizations/new'));
    await page.getByLabel('名称', { exact: true }).first().fill('兰州新区测试科技有限公司');
    await page.getByLabel('统一社会信用代码').fill('91620100MA74XXXX');
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByLabel('统一社会信用代码').getAttribute('aria-invalid'), 'true', 'a bad code is marked on its field');
    await page.getByLabel('统一社会信用代码').fill(uscc());
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByTestId('applied').waitFor();
    await assertAccessible(page, 'apply');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.getByRole('link', { name: '机构审批' }).first().click();
    const row = page.getByRole('row', { name: /兰州新区测试科技有限公司/ });
    await row.waitFor();
    await screenshot(page, 'approvals');
    await assertAccessible(page, 'approvals');
    await row.getByRole('button', { name: '批准' }).click();
    await row.waitFor({ state: 'detached' });

    await page.getByRole('link', { name: '交易品种管理' }).first().click();
    const status = page.locator(`[data-instrument="${code}"]`);
    await status.waitFor();
    assert.equal(await status.getAttribute('data-status'), 'listed');
    await page.getByLabel(`对 ${code} 的意见`).fill('系统维护');
    await page.getByRole('button', { name: '停牌' }).click();
    await page.locator(`[data-instrument="${code}"][data-status="suspended"]`).waitFor();
    await assertAccessible(page, 'instruments');
    await page.getByLabel(`对 ${code} 的意见`).fill('维护完成');
    await page.getByRole('button', { name: '复牌' }).click();
    await page.locator(`[data-instrument="${code}"][data-status="listed"]`).waitFor();

    // The instrument's own fee rate, with a reason for the record; then back to the market-wide one.
    const rules = page.getByRole('form', { name: '品种规则' });
    await rules.getByLabel('品种代码').selectOption(code);
    const before = (await page.getByTestId('rules-now').textContent()) ?? '';
    await rules.getByLabel('手续费率').fill('0.0005');
    await rules.getByLabel('调整理由（公开记录）').fill('2027 年收费标准');
    await rules.getByRole('button', { name: '保存规则' }).click();
    await page.locator('[data-testid="rules-now"]', { hasText: '0.0005' }).waitFor();
    assert.equal((await (await fetch(`${server.base}/api/v1/market/instruments/${code}`)).json()).fee_rate, '0.0005');
    await assertAccessible(page, 'instrument rules');
    await rules.getByLabel('调整理由（公开记录）').fill('恢复全市场费率');
    await rules.getByRole('button', { name: '保存规则' }).click();
    await page.locator('[data-testid="rules-now"]', { hasText: before }).waitFor();

    // Listing without a reference price needs a guidance price: said on the field.
    const list = page.getByRole('form', { name: '上市新品种' });
    await list.getByLabel('品种代码').fill(`TPH-PRJ-${new Date().getFullYear()}`);
    await list.getByRole('button', { name: '上市' }).click();
    await list.getByRole('alert').filter({ hasText: 'no guidance price' }).waitFor();
    assert.equal(await list.getByLabel('参考价（元）').getAttribute('aria-invalid'), 'true');
  });
  const orgs = await applicant.get('/api/v1/me');
  assert.equal(orgs.roles.some((/** @type {any} */ g) => g.role === 'enterprise_operator'), true, 'the applicant operates the approved enterprise');
});

test('a seller runs a one-way bidding auction to its uniform price', async () => {
  const china = (/** @type {number} */ ms) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19);
  const { page: seller, context: sc, errors: se } = await openPage(browser);
  const { page: bidder, context: bc, errors: be } = await openPage(browser);
  try {
    await signInAs(seller, server.base, server.accounts.forester, server.password);
    await seller.getByRole('link', { name: '单向竞价' }).first().click();
    await seller.getByRole('heading', { name: '发布竞价公告' }).waitFor();
    await seller.getByLabel('数量', { exact: true }).fill('2000');
    await seller.getByLabel('底价（元）').fill('30.00');
    await seller.getByLabel('最小申报数量').fill('500');
    const now = Date.now();
    await seller.getByLabel('开始时间').fill(china(now));
    await seller.getByLabel('截止时间').fill(china(now + 20_000));
    await seller.getByRole('button', { name: '发布', exact: true }).click();
    await seller.locator('[data-testid="auction"][data-status="announced"]').waitFor();
    const auctionUrl = seller.url();
    await assertAccessible(seller, 'an announced auction');

    await signInAs(bidder, server.base, server.accounts.trader, server.password);
    await bidder.goto(auctionUrl);
    for (const [price, quantity] of [['36.00', '500'], ['34.00', '500']]) {
      await bidder.getByLabel('价格（元）').fill(price);
      await bidder.getByLabel('申报数量').fill(quantity);
      await bidder.getByRole('button', { name: '提交出价' }).click();
      await bidder.getByTestId('bid-placed').getByText(`${price} 元`).waitFor();
    }
    await screenshot(bidder, 'auction-bidding');
    // A bid over the bidder's cap is refused in words.
    await bidder.getByLabel('价格（元）').fill('40.00');
    await bidder.getByLabel('申报数量').fill('500');
    await bidder.getByRole('button', { name: '提交出价' }).click();
    await bidder.getByRole('alert').waitFor();

    // The server closes it at its end; the page looks again until the results are in.
    await seller.locator('[data-testid="auction"][data-status="closed"]').waitFor({ timeout: 60_000 });
    assert.equal(await seller.getByTestId('clearing-price').textContent(), '34.00', 'every winner pays the lowest winning price');
    const awards = seller.getByRole('table', { name: /中标结果/ }).locator('tbody tr');
    assert.equal(await awards.count(), 2);
    for (const row of await awards.all()) assert.match((await row.textContent()) ?? '', /34\.00/);
    await screenshot(seller, 'auction-closed');
    await assertAccessible(seller, 'a closed auction');
    assert.deepEqual([...se, ...be], []);
  } finally {
    await sc.close();
    await bc.close();
  }
});

test('an enterprise retires credits for a claim and makes it carbon-neutral; the service centre retires on its behalf', async () => {
  const batch = server.demo['issued batch'];
  const account = server.demo['enterprise account'];
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.forester, server.password);
    await page.getByRole('link', { name: '持有与注销' }).first().click();
    const available = page.locator(`[data-available="${batch}"]`);
    await available.waitFor();
    const before = (await available.textContent()) ?? '';
    const form = page.locator('form[aria-labelledby="retire-title"]');
    await form.getByLabel('批次编号').fill(batch);
    await form.getByLabel('数量（吨）').fill('2.5');
    await form.getByLabel('受益方').fill('兰州新区绿源林业有限公司');
    await form.getByLabel('用途').fill('2026 年度碳中和');
    await form.getByRole('button', { name: '注销' }).click();
    const retired = page.getByTestId('retired');
    await retired.waitFor();
    const retirement = await retired.getAttribute('data-retirement');
    await page.waitForFunction(([b, text]) => document.querySelector(`[data-available="${b}"]`)?.textContent !== text, [batch, before]);
    const printable = await retired.getByRole('link', { name: '打印证书' }).getAttribute('href');
    const res = await fetch(`${server.base}${printable}`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /兰州新区绿源林业有限公司/);
    await screenshot(page, 'holdings');
    await assertAccessible(page, 'holdings');

    await page.getByRole('link', { name: '碳中和声明' }).first().click();
    await page.getByLabel('声明对象').fill('绿源林业 2026 年度');
    await page.getByLabel('排放量（吨）').fill('2.5');
    await page.getByRole('button', { name: '建立声明' }).click();
    await page.locator('[data-testid="claim"][data-neutral="false"]').waitFor();
    await page.getByLabel('注销编号').fill(retirement ?? '');
    await page.getByRole('button', { name: '用于抵消' }).click();
    await page.locator('[data-testid="claim"][data-neutral="true"]').waitFor();
    await assertAccessible(page, 'claim');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.verifier, server.password);
    await page.getByRole('link', { name: '服务中心' }).first().click();
    const form = page.locator('form[aria-labelledby="retire-title"]');
    await form.getByLabel('持有人账户').fill(account);
    await form.getByLabel('批次编号').fill(batch);
    await form.getByLabel('数量（吨）').fill('1');
    await form.getByLabel('受益方').fill('兰州新区机关事务管理局');
    await form.getByLabel('用途').fill('代为注销：2026 年会议碳中和');
    await form.getByRole('button', { name: '注销' }).click();
    await page.getByTestId('retired').waitFor();
    await page.getByTestId('retired').getByRole('link', { name: '核验' }).click();
    await page.locator('[data-verdict]').waitFor();
    await screenshot(page, 'centre-retired');
    await assertAccessible(page, 'service centre');
  });
});

test('an administrator issues a partner key, shown once, and adds a reward', async () => {
  const admin = apiClient(server.base);
  await admin.signIn(server.accounts.admin, server.password);
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.admin, server.password);
    await page.getByRole('link', { name: '平台管理' }).first().click();
    await page.getByRole('heading', { name: '合作方密钥' }).waitFor();
    await page.getByRole('button', { name: '签发新密钥' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    assert.match((await secret.textContent()) ?? '', /签名密钥：?\s*\S{20,}/);
    await page.getByRole('button', { name: '撤销' }).first().waitFor();
    await page.getByLabel('名称', { exact: true }).fill('公交月票 9 折券');
    await page.getByLabel('所需积分', { exact: true }).fill('500');
    await page.getByLabel('库存', { exact: true }).fill('20');
    await page.getByRole('button', { name: '新增' }).click();
    await page.getByRole('cell', { name: '公交月票 9 折券', exact: true }).waitFor();
    await screenshot(page, 'admin');
    await assertAccessible(page, 'administration');
  });
  const rewards = await admin.get('/api/v1/rewards?limit=100');
  assert.ok(rewards.data.some((/** @type {any} */ r) => r.name === '公交月票 9 折券' && r.stock === '20'));
  // The administrator sets up the water bureau: a department responsible for water rights.
  const code = uscc();
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.admin, server.password);
    await page.goto(consoleUrl('/organizations/new'));
    await page.getByLabel('名称', { exact: true }).first().fill('兰州新区水务局');
    await page.getByLabel('统一社会信用代码').fill(code);
    await page.getByLabel('类型').selectOption('government_department');
    await page.getByLabel('负责的环境权益').selectOption('water');
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByTestId('applied').waitFor();
    await assertAccessible(page, 'a bureau set up');
  });
  const orgs = await admin.get('/api/v1/organizations?limit=100');
  const bureau = orgs.data.find((/** @type {any} */ o) => o.uscc === code);
  assert.equal(bureau?.bureau, 'water', 'the department is the water bureau');
});

test('a government official reads the region\'s and their department\'s statistics, the registry\'s and the market\'s', async () => {
  const official = apiClient(server.base);
  await official.signIn(server.accounts.official, server.password);
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
  const region = await official.get(`/api/v1/statistics/personal?period=${month}`);
  // The demo's trips began three hours before it ran: this month, or the last one just after a month began.
  const before = new Date(Date.now() + 8 * 3600_000 - 3 * 3600_000).toISOString().slice(0, 7);
  const earlier = before === month ? region : await official.get(`/api/v1/statistics/personal?period=${before}`);
  assert.ok(region.participants + earlier.participants > 0, 'the demo residents travelled');
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.getByRole('link', { name: '统计' }).first().click();
    const regionTable = page.getByRole('table', { name: '全区按月汇总' });
    await regionTable.waitFor();
    assert.equal(await regionTable.locator('tbody tr').count(), 12);
    // This month's row: the participants and the credited tonnes the API answers.
    const thisMonth = regionTable.locator('tbody tr').last();
    assert.equal(await thisMonth.locator('th').textContent(), month);
    assert.equal(await thisMonth.locator('td').first().textContent(), String(region.participants));
    await page.getByRole('table', { name: '成员按月汇总' }).waitFor();
    assert.equal(await page.getByRole('table', { name: '成员按月汇总' }).locator('tbody tr').count(), 12);
    // The market: each instrument with the demo's trade in its volume.
    const market = page.getByRole('table', { name: /各品种近 \d+ 个交易日/ });
    await market.waitFor();
    assert.ok(await market.getByRole('link', { name: server.demo['listed instrument'] }).count() === 1, 'the demo instrument is listed');
    await page.getByRole('img', { name: '按年份签发与注销（吨 CO₂e）' }).waitFor();
    for (const chart of ['全区个人减排量（千克 CO₂e，按月）', '成员个人减排量（千克 CO₂e，按月）', '按项目类型签发（吨 CO₂e）']) {
      assert.equal(await page.getByRole('img', { name: chart }).locator('canvas').count(), 1, `${chart} drawn`);
    }
    if (region.by_mode.length) await page.getByRole('img', { name: '全区按出行方式的计入行程数（按月）' }).locator('canvas').waitFor();
    await screenshot(page, 'statistics');
    await assertAccessible(page, 'statistics');
  });
});

test('an enterprise transfers credits and agrees a block trade that its buyer accepts', async () => {
  const code = server.demo['listed instrument'];
  const batch = server.demo['issued batch'];
  const official = apiClient(server.base);
  await official.signIn(server.accounts.official, server.password);
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const buyer = (await trader.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const { account_id: buyerAccount, name: buyerName } = await trader.get(`/api/v1/organizations/${buyer}`);
  const held = async () => {
    const { balances } = await trader.get(`/api/v1/accounts/${buyerAccount}/balances`);
    return BigInt(balances.find((/** @type {any} */ b) => b.asset === `credit:${batch}`)?.posted ?? '0');
  };
  const before = await held();
  // Block trades start at 100,000 t by default; this instrument's own minimum is 100 for the test.
  await official.post(`/api/v1/market/instruments/${code}/rules`, { block_min_units: '100', reason: '大宗协议测试' });
  try {
    await withPage(async (page) => {
      await signInAs(page, server.base, server.accounts.forester, server.password);
      await page.getByRole('link', { name: '持有与注销' }).first().click();
      const transfer = page.locator('form[aria-labelledby="transfer-title"]');
      await transfer.getByLabel('批次编号').fill(batch);
      await transfer.getByLabel('转入账户').fill(buyerAccount);
      await transfer.getByLabel('数量（吨）').fill('2.5');
      await transfer.getByRole('button', { name: '转让' }).click();
      await transfer.getByRole('status').getByText('已转让 2.5 吨。').waitFor();

      await page.getByRole('link', { name: '大宗协议' }).first().click();
      const propose = page.locator('form[aria-labelledby="propose-title"]');
      await propose.getByLabel('买方').selectOption({ label: buyerName });
      await propose.getByLabel('品种代码').selectOption(code);
      await propose.getByLabel('价格（元）').fill('36.00');
      await propose.getByLabel('数量', { exact: true }).fill('200');
      await propose.getByRole('button', { name: '发起' }).click();
      await page.getByRole('table', { name: '我的大宗协议' }).getByRole('cell', { name: buyerName }).waitFor();
      await screenshot(page, 'blocks');
      await assertAccessible(page, 'block trades');
    });
    await withPage(async (page) => {
      await signInAs(page, server.base, server.accounts.trader, server.password);
      await page.getByRole('link', { name: '大宗协议' }).first().click();
      const row = page.getByRole('row').filter({ has: page.getByRole('button', { name: '确认成交' }) }).first();
      await row.getByRole('button', { name: '确认成交' }).click();
      await page.getByRole('table', { name: '我的大宗协议' }).getByRole('cell', { name: '已成交' }).waitFor();
    });
  } finally {
    await official.post(`/api/v1/market/instruments/${code}/rules`, { reason: '恢复全市场设置' });
  }
  assert.equal(await held() - before, 202_500_000n, '2.5 t transferred and 200 t bought in the block');
});

test('the service centre aggregates yesterday\'s personal reductions into a batch', async () => {
  // A resident's commute of yesterday, credited.
  const resident = apiClient(server.base);
  const email = `aggregated-${Date.now()}@example.cn`;
  await resident.post('/api/v1/auth/register', { email, password: 'a long passphrase' });
  await resident.signIn(email, 'a long passphrase');
  const chinaDay = (/** @type {number} */ ms) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
  const yesterday = chinaDay(Date.now() - 24 * 3600_000);
  const start = Date.parse(`${yesterday}T08:00:00+08:00`);
  const trace = Array.from({ length: 31 }, (_, i) => ({
    lat: 36.06 + (0.077 * i) / 30, lon: 103.83, t: new Date(start + i * 60 * 1000).toISOString(),
  }));
  const trip = await resident.post('/api/v1/trips', {
    client_trip_id: crypto.randomUUID(), preset: 'lanzhou-interim', legs: [{ mode: 'metro', distance_km: '8.55' }],
    started_at: new Date(start).toISOString(), ended_at: new Date(start + 30 * 60 * 1000).toISOString(), trace,
  });
  assert.equal(trip.status, 'credited', JSON.stringify(trip));
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.verifier, server.password);
    await page.getByRole('link', { name: '服务中心', exact: true }).first().click();
    const form = page.locator('form[aria-labelledby="aggregate-title"]');
    await form.getByLabel('方法学').selectOption('lanzhou-interim');
    await form.getByLabel('开始日期').fill(yesterday);
    await form.getByLabel('结束日期').fill(yesterday);
    await form.getByRole('button', { name: '汇总' }).click();
    const made = form.getByRole('status');
    await made.waitFor();
    assert.match((await made.textContent()) ?? '', /已汇总为批次 \S+：[\d.,]+ 吨，\d+ 人。/);
    // Again: nothing is aggregated twice.
    await form.getByRole('button', { name: '汇总' }).click();
    await form.getByRole('alert').waitFor();
    await screenshot(page, 'centre');
    await assertAccessible(page, 'the service centre');
  });
  const batches = await (await fetch(`${server.base}/api/v1/public/batches?kind=personal&limit=100`)).json();
  assert.ok(batches.data.some((/** @type {any} */ b) => b.kind === 'personal' && b.persons >= 1), 'a personal batch is public');
});

test('the reserve platform sees its budget, buys from the book and holds what it bought', async () => {
  const code = server.demo['listed instrument'];
  const ask = (await (await fetch(`${server.base}/api/v1/market/instruments/${code}/book`)).json()).asks[0];
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.reserve, server.password);
    await page.getByRole('link', { name: '持有与注销' }).first().click();
    await page.getByText('可用资金: 5,000,000.00 元').waitFor();
    await page.getByRole('link', { name: '交易', exact: true }).first().click();
    await page.getByRole('heading', { name: '委托下单' }).waitFor();
    await page.getByTestId('cash').getByText('5,000,000.00 元').first().waitFor();
    await page.getByLabel('价格（元）').fill(ask.price);
    await page.getByLabel(/^数量/).fill('10');
    await page.getByRole('button', { name: '买入下单' }).click();
    await page.getByTestId('placed').waitFor();
    await page.getByRole('table', { name: '持仓与资金' }).getByRole('cell', { name: code }).waitFor();
    await assertAccessible(page, 'the reserve trading');
    await page.getByRole('link', { name: '持有与注销' }).first().click();
    await page.getByRole('table', { name: '按批次持有' }).getByText('10 t', { exact: true }).first().waitFor();
    await screenshot(page, 'reserve-holdings');
    await assertAccessible(page, 'the reserve holdings');
  });
  const keeper = apiClient(server.base);
  await keeper.signIn(server.accounts.reserve, server.password);
  const org = (await keeper.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'reserve').organization_id;
  const positions = await keeper.get(`/api/v1/market/positions?organization_id=${org}`);
  // Paid at the resting ask (and a fee, if any): at least 10 t × the ask.
  const paid = 500_000_000n - BigInt(positions.cash_available) - BigInt(positions.cash_held);
  assert.ok(paid >= BigInt(Math.round(Number(ask.price) * 100)) * 10n, `paid ${paid} fen for 10 t at ${ask.price}`);
});

test('a government official publishes a tiered guidance price that is a floor; a trader sees its price and the floor', async () => {
  const code = server.demo['listed instrument'];
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.goto(consoleUrl(`/pricing?code=${code}`));
    const form = page.getByRole('form', { name: '发布新版本' });
    await form.getByLabel('基准价（元/单位）').fill('35.00');
    await form.getByLabel('作为价格下限（不得低于此价成交）').check();
    await form.getByRole('button', { name: '添加分档' }).click();
    await form.getByLabel('第 1 档名称').fill('兰州市企业');
    await form.getByLabel('第 1 档地区代码').fill('6201');
    await form.getByLabel('企业', { exact: true }).check();
    await form.getByLabel('第 1 档调整比例').fill('-0.1');
    await form.getByLabel('发布理由（公开记录）').fill('2026 年林业碳汇指导价');
    await form.getByRole('button', { name: '发布', exact: true }).click();
    const table = page.getByRole('table', { name: `${code} 的指导价版本` });
    // The demo published version 1 (36.00); this is version 2.
    await table.locator('[data-version="2"]').waitFor();
    await table.getByText('兰州市企业：31.50').waitFor();
    // This month's review (proposed from the demo's version: too little traded, unchanged) is amended to this price.
    const review = page.getByRole('table', { name: `${code} 的月度复核` }).locator('[data-status="proposed"]');
    await review.waitFor();
    const decide = page.getByRole('form', { name: /作出决定/ });
    await decide.getByLabel('决定').selectOption('amend');
    await decide.getByLabel('基准价（元/单位）').fill('35.00');
    await decide.getByRole('button', { name: '提交决定' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await decide.getByLabel('理由').getAttribute('aria-invalid'), 'true', 'an amendment needs a reason');
    await decide.getByLabel('理由').fill('维持本月已发布的指导价');
    await decide.getByRole('button', { name: '提交决定' }).click();
    await page.getByRole('table', { name: `${code} 的月度复核` }).locator('[data-status="published"]').waitFor();
    await table.locator('[data-version="3"]').waitFor();
    await screenshot(page, 'guidance-prices');
    await assertAccessible(page, 'guidance prices');
  });
  const instrument = await (await fetch(`${server.base}/api/v1/market/instruments/${code}`)).json();
  assert.equal(instrument.floor_price, '35.00');
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.trader, server.password);
    await page.getByRole('link', { name: '交易', exact: true }).first().click();
    await page.getByTestId('applicable').getByText(/31\.50 元（兰州市企业/).waitFor();
    await page.getByLabel('价格（元）').fill('34.99');
    await page.getByLabel(/^数量/).fill('5');
    await page.getByRole('button', { name: '买入下单' }).click();
    assert.equal(await page.getByLabel('价格（元）').getAttribute('aria-invalid'), 'true');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /指导价下限 35\.00/);
  });
});

test('an enterprise offers credits to the reserve platform, which accepts; the explorer shows the operation', async () => {
  const code = server.demo['listed instrument'];
  const batch = server.demo['issued batch'];
  const forester = apiClient(server.base);
  await forester.signIn(server.accounts.forester, server.password);
  const holder = (await forester.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const { account_id: account } = await forester.get(`/api/v1/organizations/${holder}`);
  const units = async () => {
    const { balances } = await forester.get(`/api/v1/accounts/${account}/balances`);
    return BigInt(balances.find((/** @type {any} */ b) => b.asset === `credit:${batch}`)?.posted ?? '0');
  };
  const before = await units();
  const applicable = await forester.get(`/api/v1/guidance-prices/applicable?instrument=${code}&organization_id=${holder}`);
  const value = (Number(applicable.price) * 3).toFixed(2);
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.forester, server.password);
    await page.getByRole('link', { name: '收储平台' }).first().click();
    const form = page.getByRole('form', { name: '发起报价' });
    await form.getByLabel('业务').selectOption('buy_back');
    await form.getByLabel('出让品种').selectOption(code);
    await form.getByTestId('applicable').waitFor();
    await form.getByLabel('数量（单位）').fill('3');
    await form.getByRole('button', { name: '提交' }).click();
    await form.getByTestId('offered').getByText(`已提交收储报价，金额 ${value} 元。`).waitFor();
    await page.getByRole('table', { name: '收储业务' }).locator('[data-status="offered"]').first().waitFor();
    await screenshot(page, 'reserve-offer');
    await assertAccessible(page, 'the reserve offer');
  });
  assert.equal(await units(), before, 'offered units are held, not moved');
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.reserve, server.password);
    await page.getByRole('link', { name: '收储平台' }).first().click();
    const table = page.getByRole('table', { name: '收储业务' });
    // Declining needs a reason.
    await table.getByRole('button', { name: '拒绝' }).first().click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByLabel('拒绝理由').getAttribute('aria-invalid'), 'true');
    await table.getByRole('button', { name: '接受' }).first().click();
    await table.locator('[data-status="accepted"]').first().waitFor();
    await assertAccessible(page, 'the reserve keeper');
  });
  assert.equal(before - await units(), 3_000_000n, '3 t sold to the reserve');
  await withPage(async (page) => {
    await page.goto(consoleUrl('/explorer/reserve'));
    const ops = page.getByRole('table', { name: '收储业务公示' });
    await ops.locator('[data-status="accepted"]').first().waitFor();
    await ops.getByRole('cell', { name: '收储', exact: true }).first().waitFor();
    await page.getByRole('table', { name: /的储备$/ }).getByRole('cell', { name: code }).waitFor();
    await screenshot(page, 'reserve-public');
    await assertAccessible(page, 'the public reserve');
  });
});

/** A China date `days` from today, YYYY-MM-DD. */
function dayFromToday(/** @type {number} */ days) {
  const d = new Date(Date.now() + 8 * 3600_000 + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

test('an enterprise pledges credits to a bank, which confirms the loan; the register shows the pledge', async () => {
  const code = server.demo['listed instrument'];
  // The collateral is valued at the lower of the forester's guidance price
  // (its tier, after the pricing test) and the last close; the loan is at
  // most 0.7 of 5 units' value.
  const forester = apiClient(server.base);
  await forester.signIn(server.accounts.forester, server.password);
  const holder = (await forester.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const fenOf = (/** @type {string} */ yuan) => Math.round(Number(yuan) * 100);
  const guidance = fenOf((await forester.get(`/api/v1/guidance-prices/applicable?instrument=${code}&organization_id=${holder}`)).price);
  const close = fenOf((await forester.get(`/api/v1/market/instruments/${code}`)).reference_price);
  const most = Math.floor((5 * Math.min(guidance, close) * 7) / 10);
  const yuanOf = (/** @type {number} */ fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.forester, server.password);
    await page.getByRole('link', { name: '质押融资' }).first().click();
    const form = page.getByRole('form', { name: '申请质押' });
    await form.getByLabel('品种代码').selectOption(code);
    await form.getByLabel('数量（单位）').fill('5');
    await form.getByRole('button', { name: '提交申请' }).click();
    await form.getByTestId('applied').getByText(`已申请质押 5 单位 ${code}，等待银行确认。`).waitFor();
    await page.getByRole('table', { name: '质押' }).locator('[data-status="applied"]').first().waitFor();
    await screenshot(page, 'pledge-apply');
    await assertAccessible(page, 'the pledge application');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.teller, server.password);
    await page.getByRole('link', { name: '质押融资' }).first().click();
    const table = page.getByRole('table', { name: '质押' });
    await table.locator('[data-status="applied"]').first().waitFor();
    await table.getByRole('button', { name: '查看' }).first().click();
    const confirm = page.getByRole('form', { name: '确认质押' });
    await confirm.getByLabel('贷款金额（元）').fill(yuanOf(most + 1));
    await confirm.getByLabel('到期日').fill(dayFromToday(365));
    await confirm.getByRole('button', { name: '确认质押' }).click();
    await page.getByRole('alert').getByText('贷款超过质押物估值的质押率').waitFor();
    await confirm.getByLabel('贷款金额（元）').fill(yuanOf(most));
    await confirm.getByRole('button', { name: '确认质押' }).click();
    await page.locator('[data-testid="pledge"][data-status="active"]').waitFor();
    await page.getByRole('table', { name: '质押记录' }).getByRole('cell', { name: '银行确认' }).waitFor();
    await screenshot(page, 'pledge-confirmed');
    await assertAccessible(page, 'the bank\'s pledge');
  });
  await withPage(async (page) => {
    await page.goto(consoleUrl('/explorer/pledges'));
    const register = page.getByRole('table', { name: '质押登记' });
    await register.locator('[data-state="pledged"]').first().waitFor();
    await register.getByRole('cell', { name: '兰州银行新区支行' }).first().waitFor();
    await register.getByRole('cell', { name: '5', exact: true }).first().waitFor();
    assert.equal(await page.getByText(yuanOf(most)).count(), 0, 'the loan is not public');
    await screenshot(page, 'pledge-register');
    await assertAccessible(page, 'the pledge register');
  });
});

test('an insurer offers a price policy that the enterprise accepts, paying the premium', async () => {
  const code = server.demo['listed instrument'];
  const forester = apiClient(server.base);
  await forester.signIn(server.accounts.forester, server.password);
  const holder = (await forester.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.insurer, server.password);
    await page.getByRole('link', { name: '碳汇保险' }).first().click();
    const form = page.getByRole('form', { name: '出具保单' });
    await form.getByLabel('险种').selectOption('price');
    await form.getByLabel('被保险人').selectOption(holder);
    await form.getByLabel('品种代码').selectOption(code);
    await form.getByLabel('数量（单位）').fill('100');
    await form.getByLabel('执行价（元）').fill('40.00');
    await form.getByLabel('结算日').fill(dayFromToday(30));
    await form.getByLabel('最高赔付（元）').fill('1000.00');
    await form.getByLabel('保费（元）').fill('10.00');
    await form.getByRole('button', { name: '出具', exact: true }).click();
    await form.getByTestId('policy-offered').waitFor();
    await page.getByRole('table', { name: '保单' }).locator('[data-status="offered"]').first().waitFor();
    await assertAccessible(page, 'the insurer');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.forester, server.password);
    await page.getByRole('link', { name: '碳汇保险' }).first().click();
    const table = page.getByRole('table', { name: '保单' });
    await table.getByRole('button', { name: '接受并缴费' }).first().click();
    await table.locator('[data-status="in_force"]').first().waitFor();
    await screenshot(page, 'policy-accepted');
    await assertAccessible(page, 'the insured');
  });
});

test('the ecology bureau allocates SO2 and records last year\'s use; the enterprise converts part and surrenders; the register shows both', async () => {
  const year = Number(dayFromToday(0).slice(0, 4)) - 1;
  const code = `TPH-SO2-${year}`;
  const official = apiClient(server.base);
  await official.signIn(server.accounts.official, server.password);
  await official.post('/api/v1/guidance-prices', { instrument: code, price: '4.80', floor: true, reason: '2015年基准价' });
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const firm = (await trader.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const { uscc: code18, name } = await trader.get(`/api/v1/organizations/${firm}`);
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.getByRole('link', { name: '环境权益' }).first().click();
    const form = page.getByRole('form', { name: '确权分配' });
    await form.getByLabel('权益类别').selectOption('so2');
    await form.getByLabel('年度').fill(String(year));
    await form.getByLabel('来源').selectOption('free');
    await form.getByLabel('持有单位').selectOption(firm);
    await form.getByLabel('数量').fill('2000');
    // A permit that is not the holder's is refused on its field.
    await form.getByLabel('排污许可证编号').fill(`91620100MA00000000001P`);
    await form.getByRole('button', { name: '分配' }).click();
    await page.getByRole('alert').first().waitFor();
    assert.equal(await form.getByLabel('排污许可证编号').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('排污许可证编号').fill(`${code18}001P`);
    await form.getByRole('button', { name: '分配' }).click();
    await form.getByTestId('allocated').getByText(`${code}-00001`, { exact: false }).waitFor();
    const use = page.getByRole('form', { name: '记录核定用量' });
    await use.getByLabel('履约年度').fill(String(year));
    await use.getByLabel('持有单位').selectOption(firm);
    await use.getByLabel('核定用量').fill('1500');
    await use.getByRole('button', { name: '记录' }).click();
    await use.getByTestId('recorded').waitFor();
    await page.getByRole('table', { name: '本局的分配' }).getByRole('cell', { name: name }).first().waitFor();
    await screenshot(page, 'rights-bureau');
    await assertAccessible(page, 'the bureau\'s rights');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.trader, server.password);
    await page.getByRole('link', { name: '环境权益' }).first().click();
    const mine = page.getByRole('table', { name: '本单位的分配' });
    await mine.getByRole('button', { name: '补缴' }).waitFor();
    await mine.getByLabel('补缴数量').fill('500');
    await mine.getByRole('button', { name: '补缴' }).click();
    await page.getByTestId('converted').getByText('缴纳 2400.00 元', { exact: false }).waitFor();
    await mine.locator('[data-converted="500"][data-unconverted="1500"]').waitFor();
    const duties = page.getByRole('table', { name: '履约' });
    await duties.getByRole('button', { name: /^提交 1,500/ }).click();
    await duties.locator('[data-status="met"]').waitFor();
    await mine.locator('[data-converted="500"][data-unconverted="0"]').waitFor();
    await screenshot(page, 'rights-holder');
    await assertAccessible(page, 'the holder\'s rights');
  });
  // The enterprise relocates: the bureau claws back 100 kg of what it holds.
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.getByRole('link', { name: '环境权益' }).first().click();
    const form = page.getByRole('form', { name: '无偿收回' });
    await form.getByLabel('年度').fill(String(year));
    await form.getByLabel('持有单位').selectOption(firm);
    await form.getByLabel('数量').fill('100');
    await form.getByLabel('收回原因').fill('企业搬迁');
    await form.getByLabel('决定文件 SHA-256').fill('ab'.repeat(32));
    await form.getByRole('button', { name: '收回' }).click();
    await form.getByTestId('clawed').getByText(`已收回 ${code} 100，其中未补缴 0。`).waitFor();
    await assertAccessible(page, 'the claw-back');
  });
  await withPage(async (page) => {
    await page.goto(consoleUrl('/explorer/rights'));
    await page.getByRole('table', { name: '权益分配公示' }).getByRole('cell', { name: `${code}-00001` }).waitFor();
    // Signed out, the register names the holder.
    await page.getByRole('table', { name: '权益分配公示' }).getByRole('cell', { name }).first().waitFor();
    await page.getByRole('table', { name: '履约公示' }).locator('[data-status="met"]').first().waitFor();
    await page.getByRole('table', { name: '成交公示' }).waitFor();
    await screenshot(page, 'rights-public');
    await assertAccessible(page, 'the public rights register');
  });
});

test('the ecology bureau allocates SO2 for payment by instalments; the enterprise pays the first and its units become tradeable', async () => {
  const year = Number(dayFromToday(0).slice(0, 4));
  const code = `TPH-SO2-${year}`;
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const firm = (await trader.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  const { uscc: code18 } = await trader.get(`/api/v1/organizations/${firm}`);
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.official, server.password);
    await page.getByRole('link', { name: '环境权益' }).first().click();
    const form = page.getByRole('form', { name: '确权分配' });
    await form.getByLabel('权益类别').selectOption('so2');
    await form.getByLabel('年度').fill(String(year));
    await form.getByLabel('来源').selectOption('paid');
    await form.getByLabel('持有单位').selectOption(firm);
    await form.getByLabel('数量').fill('1000');
    await form.getByLabel('排污许可证编号').fill(`${code18}002P`);
    // Below the 4.80 benchmark, a floor: refused on the price.
    await form.getByLabel('单价（元/单位）').fill('4.00');
    await form.getByLabel('分期').fill('2');
    await form.getByRole('button', { name: '分配' }).click();
    await page.getByRole('alert').first().waitFor();
    assert.equal(await form.getByLabel('单价（元/单位）').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('单价（元/单位）').fill('5.00');
    await form.getByRole('button', { name: '分配' }).click();
    await form.getByTestId('allocated').getByText(`${code}-00001`, { exact: false }).waitFor();
    await page.getByRole('table', { name: '本局的分配' }).locator('[data-paid="0"][data-next-status="due"]').first().waitFor();
    await assertAccessible(page, 'the paid allocation');
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.trader, server.password);
    await page.getByRole('link', { name: '环境权益' }).first().click();
    const mine = page.getByRole('table', { name: '本单位的分配' });
    await mine.getByRole('button', { name: '缴纳第 1 期（2500.00 元）' }).click();
    await page.getByTestId('instalment-paid').getByText('500 单位可交易', { exact: false }).waitFor();
    await mine.locator('[data-paid="1"][data-next-status="due"]').waitFor();
    await mine.locator('[data-converted="500"][data-unconverted="500"]').waitFor();
    await mine.getByRole('button', { name: '缴纳第 2 期（2500.00 元）' }).waitFor();
    await screenshot(page, 'rights-instalments');
    await assertAccessible(page, 'the holder\'s instalments');
  });
});

test('the natural-resources bureau confirms a land indicator; its holder sells a quarter of a mu at a whole-yuan price', async () => {
  const year = Number(dayFromToday(0).slice(0, 4));
  const code = `TPH-LLS-${year}`;
  const admin = apiClient(server.base);
  await admin.signIn(server.accounts.admin, server.password);
  const official = apiClient(server.base);
  await official.signIn(server.accounts.official, server.password);
  const land = await admin.post('/api/v1/organizations', { kind: 'government_department', name: '兰州新区自然资源局', uscc: uscc(), bureau: 'natural_resources' });
  await admin.post(`/api/v1/organizations/${land.id}/roles`, { user_id: (await official.get('/api/v1/me')).id, role: 'government' });
  await official.post('/api/v1/guidance-prices', { instrument: code, price: '35000.00', reason: '增减挂钩节余指标指导价' });
  await official.post('/api/v1/market/instruments', { code });
  const trader = apiClient(server.base);
  await trader.signIn(server.accounts.trader, server.password);
  const firm = (await trader.get('/api/v1/me')).roles.find((/** @type {any} */ g) => g.role === 'enterprise_operator').organization_id;
  await official.post('/api/v1/rights/allocations', {
    bureau_organization_id: land.id, organization_id: firm, instrument: code, quantity: '10.25', origin: 'verified', identifier: '增减挂钩-2026-01',
  });
  await withPage(async (page) => {
    await signInAs(page, server.base, server.accounts.trader, server.password);
    await page.goto(consoleUrl(`/trade?org=${firm}&code=${code}`));
    const rules = page.getByTestId('rules');
    await rules.getByText('0.01 mu').waitFor();
    await page.getByLabel('方向').selectOption('sell');
    await page.getByLabel('价格（元）').fill('35000.50');
    await page.getByLabel(/^数量/).fill('0.25');
    await page.getByRole('button', { name: '卖出下单' }).click();
    assert.equal(await page.getByLabel('价格（元）').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('价格（元）').fill('35000.00');
    await page.getByLabel(/^数量/).fill('0.005');
    await page.getByRole('button', { name: '卖出下单' }).click();
    assert.equal(await page.getByLabel(/^数量/).getAttribute('aria-invalid'), 'true');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /两位小数/);
    await page.getByLabel(/^数量/).fill('0.25');
    await page.getByTestId('order-value').getByText('8,750.00', { exact: false }).waitFor();
    await page.getByRole('button', { name: '卖出下单' }).click();
    await page.getByTestId('placed').waitFor();
    await page.getByRole('table', { name: '当前委托' }).getByRole('cell', { name: '0.25 / 0.25' }).waitFor();
    await screenshot(page, 'trade-land');
    await assertAccessible(page, 'a land order');
  });
});

test('an applicant reads in their notifications that their organisation was approved, and chooses what they are told', async () => {
  const email = `applicant-${crypto.randomUUID().slice(0, 8)}@lz.cn`;
  const applicant = apiClient(server.base);
  await applicant.post('/api/v1/auth/register', { email, password: server.password });
  await applicant.signIn(email, server.password);
  const org = await applicant.post('/api/v1/organizations', { kind: 'enterprise', name: '兰州新区通知测试有限公司', uscc: uscc() });
  const official = apiClient(server.base);
  await official.signIn(server.accounts.official, server.password);
  await official.post(`/api/v1/organizations/${org.id}/approve`, { reason: '材料齐全' });
  await withPage(async (page) => {
    await signInAs(page, server.base, email, server.password);
    await page.goto(consoleUrl('/account'));
    const inbox = page.getByRole('table', { name: '通知' });
    const row = inbox.locator('[data-kind="organization_decided"][data-read="no"]');
    await row.getByText('兰州新区通知测试有限公司', { exact: false }).waitFor();
    assert.match((await row.textContent()) ?? '', /已批准。材料齐全/);
    await inbox.getByRole('button', { name: /标为已读/ }).click();
    await inbox.locator('[data-kind="organization_decided"][data-read="yes"]').waitFor();
    const kind = page.getByRole('checkbox', { name: '机构申请结果', exact: true });
    await kind.click();
    await page.waitForFunction(() => !(/** @type {HTMLInputElement | null} */ (document.querySelector('input[name="kind-organization_decided"]'))?.checked));
    await screenshot(page, 'inbox');
    await assertAccessible(page, 'the inbox');
  });
  const settings = await applicant.get('/api/v1/me/notification-settings');
  assert.deepEqual(settings.data.find((/** @type {any} */ s) => s.kind === 'organization_decided'), { kind: 'organization_decided', enabled: false });
});
