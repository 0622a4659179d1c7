// The console's browser tests' set-up: a real tanpuhui server (the binary
// `TANPUHUI_BIN`, else target/debug/tanpuhui) on a fresh SQLite database
// filled by `tanpuhui demo`, Debian's Chromium driven by playwright-core,
// an API client for arranging what a flow needs, axe-core for the
// accessibility check and screenshots for review (target/console-screenshots/).
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.TANPUHUI_BIN ?? path.join(root, 'target/debug/tanpuhui');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = path.join(root, 'target/console-screenshots');
const AXE = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/**
 * A fresh database: on the PostgreSQL of TEST_DATABASE_URL when set (as CI
 * sets it), else an SQLite file in `work`.
 * @returns {Promise<{ url: string, drop: () => Promise<void> }>}
 */
async function freshDatabase(/** @type {string} */ work) {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) return { url: `sqlite://${work}/console.db?mode=rwc`, drop: async () => {} };
  const name = `tph_console_${process.pid}_${Date.now()}`;
  const psql = (/** @type {string} */ sql) => promisify(execFile)('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
  await psql(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => { await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } };
}

/**
 * Starts a server on a fresh database with the demo data.
 * @returns {Promise<{ base: string, password: string, accounts: Record<string, string>, demo: Record<string, string>, stop: () => Promise<void> }>}
 */
export async function startServer(extraEnv = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tph-console-'));
  const port = await freePort();
  const db = await freshDatabase(work);
  const env = {
    ...process.env,
    TANPUHUI_DATABASE_URL: db.url,
    TANPUHUI_AUDIT_KEY_FILE: `${work}/audit.key`,
    TANPUHUI_LISTEN: `127.0.0.1:${port}`,
    TANPUHUI_LOG_FORMAT: 'text',
    TANPUHUI_LOG: 'warn',
    // The market trades at any hour, so the tests do not depend on when they run.
    TANPUHUI_MARKET__ROUND_THE_CLOCK: 'true',
    ...extraEnv,
  };
  // The server refuses settings it does not know; these are the tests' own.
  delete env.TANPUHUI_REDIS_URL;
  delete env.TANPUHUI_BIN;
  const { stdout } = await promisify(execFile)(BIN, ['demo'], { env, encoding: 'utf8', timeout: 120_000 });
  const password = /password: (\S+)/.exec(stdout)?.[1];
  if (!password) throw new Error(`demo printed no password:\n${stdout}`);
  /** @type {Record<string, string>} */
  const accounts = {};
  for (const m of stdout.matchAll(/^\s+(\S+@demo\.tanpuhui\.cn)\s+(.+)$/gm)) accounts[m[1].split('@')[0]] = m[1];
  /** @type {Record<string, string>} */
  const demo = {};
  for (const m of stdout.matchAll(/^\s{2}([a-z][a-z ]+[a-z])\s{2,}(\S+)$/gm)) demo[m[1]] = m[2];
  const log = fs.openSync(path.join(work, 'server.log'), 'w');
  const child = spawn(BIN, [], { env, stdio: ['ignore', log, log] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) {
      throw new Error(`server did not start:\n${fs.readFileSync(path.join(work, 'server.log'), 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, password, accounts, demo,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      await db.drop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** A JSON API client for arranging a flow's data (never for what the flow itself tests). */
export function apiClient(/** @type {string} */ base) {
  /** @type {string | null} */
  let token = null;
  const call = async (/** @type {string} */ method, /** @type {string} */ url, /** @type {unknown} */ body) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const data = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return data;
  };
  return {
    get: (/** @type {string} */ url) => call('GET', url),
    post: (/** @type {string} */ url, /** @type {unknown} */ body) => call('POST', url, body),
    signIn: async (/** @type {string} */ login, /** @type {string} */ password) => {
      const pair = await call('POST', '/api/v1/auth/login', { login, password });
      token = pair.access_token;
      return pair;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * A page that fails the test on a script error or a CSP refusal (the
 * console must run under its policy, with no inline script).
 * @param {import('playwright-core').Browser} browser
 */
export async function openPage(browser, { width = 1280, height = 900, lang = 'zh' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: lang === 'zh' ? 'zh-CN' : 'en-US' });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
  return { page, context, errors };
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function accessibilityViolations(/** @type {import('playwright-core').Page} */ page) {
  // evaluate() runs through the DevTools protocol, outside the page's CSP.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // @ts-ignore axe is what the script above defined
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((/** @type {any} */ v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the console's own sign-in page. */
export async function signInAs(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ base, /** @type {string} */ login, /** @type {string} */ password) {
  await page.goto(`${base}/console/#/signin`);
  await page.getByLabel(/邮箱或手机号|Email or mobile number/).fill(login);
  await page.getByLabel(/^(密码|Password)$/).fill(password);
  await page.getByRole('button', { name: /^(登录|Sign in)$/ }).last().click();
  await page.waitForURL(/#\/account/);
  await page.getByRole('heading', { name: /我的账户|My account/ }).waitFor();
}
