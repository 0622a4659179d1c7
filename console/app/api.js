// @ts-check
// The console's one way to the server: the documented /api/v1 through
// openapi-fetch, typed by the spec (`tph-schema` is generated from
// mobile-api-spec/openapi.json; tsc --checkJs fails on a path, parameter
// or field the spec does not have).
//
// Sign-in: the access token lives in memory and the tab's sessionStorage
// (so a reload keeps it, another tab or a closed browser does not). It is
// refreshed before it expires and after a 401; a refresh answered
// `token_reused` or 401 signs the tab out, as the API's rotation asks.
import createClient from '../vendor/openapi-fetch.js';

/** @typedef {import('tph-schema').paths} Paths */
/** @typedef {import('tph-schema').components['schemas']} Schemas */
/** @typedef {Schemas['Problem']} Problem */

const STORE = 'tph.session';
/** Refresh this long before the access token expires. */
const EARLY_MS = 30_000;

/** @typedef {{ access: string, refresh: string, expiresAt: number }} Tokens */

/** @returns {Tokens | null} */
function load() {
  try {
    const raw = sessionStorage.getItem(STORE);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

/** @type {Tokens | null} */
let tokens = load();
/** @type {Promise<void> | null} */
let refreshing = null;
/** Why the last sign-out happened, shown on the sign-in page. */
export let signedOutBecause = /** @type {string | null} */ (null);
/** @type {Set<() => void>} */
const listeners = new Set();

/** Runs `fn` whenever the tab signs in or out. */
export function onSession(/** @type {() => void} */ fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export const isSignedIn = () => tokens !== null;

/** @param {Schemas['TokenResponse'] | null} pair @param {string | null} [why] */
function keep(pair, why = null) {
  tokens = pair
    ? { access: pair.access_token, refresh: pair.refresh_token, expiresAt: Date.now() + pair.expires_in * 1000 }
    : null;
  if (tokens) sessionStorage.setItem(STORE, JSON.stringify(tokens));
  else sessionStorage.removeItem(STORE);
  signedOutBecause = why;
  listeners.forEach((fn) => fn());
}

/** Exchanges the refresh token once, however many requests ask at the same time. */
function refresh() {
  if (!refreshing) {
    const current = tokens;
    refreshing = (async () => {
      if (!current) return;
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh }),
      });
      if (res.ok) keep(await res.json());
      else if (res.status === 401) {
        const problem = await res.json().catch(() => null);
        keep(null, problem?.code === 'token_reused' ? 'token_reused' : 'expired');
      }
      // Anything else (a 503, no network): keep the tokens and let the
      // request that needed them fail in words; the next one tries again.
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** fetch for openapi-fetch: the bearer token, an Idempotency-Key on writes,
 * one refresh and retry after a 401. */
async function authedFetch(/** @type {Request} */ request) {
  if (request.method !== 'GET' && !request.headers.has('idempotency-key')) {
    request.headers.set('idempotency-key', crypto.randomUUID());
  }
  const retry = request.clone();
  if (tokens && tokens.expiresAt - Date.now() < EARLY_MS) await refresh();
  const sent = tokens?.access;
  if (sent) request.headers.set('authorization', `Bearer ${sent}`);
  const res = await fetch(request);
  if (res.status !== 401 || !sent) return res;
  if (tokens?.access === sent) await refresh();
  if (!tokens) return res;
  retry.headers.set('authorization', `Bearer ${tokens.access}`);
  return fetch(retry);
}

/** @type {import('../vendor/openapi-fetch.js').Client<Paths>} */
export const client = createClient({ baseUrl: location.origin, fetch: authedFetch });

/** A problem answered by the API (or a network failure in its shape). */
export class ApiProblem extends Error {
  /** @param {Problem} problem */
  constructor(problem) {
    super(problem.detail);
    this.problem = problem;
  }
}

/**
 * The data of an openapi-fetch answer, or an ApiProblem.
 * @template T
 * @param {Promise<{ data?: T, error?: unknown, response: Response }>} call
 * @returns {Promise<T>}
 */
export async function ok(call) {
  let answer;
  try {
    answer = await call;
  } catch (e) {
    throw new ApiProblem({
      type: 'about:blank', title: 'Network error', status: 0, code: 'network',
      detail: e instanceof Error ? e.message : String(e),
    });
  }
  const { data, error, response } = answer;
  if (response.ok) return /** @type {T} */ (data);
  const problem = /** @type {Partial<Problem>} */ (error ?? {});
  throw new ApiProblem({
    type: problem.type ?? 'about:blank',
    title: problem.title ?? response.statusText,
    status: response.status,
    code: problem.code ?? `http_${response.status}`,
    detail: problem.detail ?? response.statusText,
    param: problem.param ?? null,
  });
}

/**
 * The JSON answer of an endpoint that can also answer CSV (`format=csv`).
 * @template T @param {T | string} answer @returns {T}
 */
export function json(answer) {
  if (typeof answer === 'string') throw new Error('expected JSON, got text');
  return answer;
}

/** Signs in; the ApiProblem of a refusal is the caller's to show. */
export async function signIn(/** @type {string} */ login, /** @type {string} */ password) {
  const pair = await ok(client.POST('/api/v1/auth/login', { body: { login, password } }));
  keep(pair);
}

export async function signOut() {
  const current = tokens;
  keep(null, 'signed_out');
  if (current) {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh }),
    }).catch(() => {});
  }
}

/** Keeps the sign-in fresh while the tab is open, without waiting for a 401. */
export function keepFresh() {
  setInterval(() => {
    if (tokens && tokens.expiresAt - Date.now() < EARLY_MS * 2) refresh();
  }, 10_000);
}

/** A CSV download URL of a public list (the API answers `format=csv`). */
export function csvUrl(/** @type {string} */ path, /** @type {Record<string, string | number | undefined>} */ query = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  url.searchParams.set('format', 'csv');
  return url.pathname + url.search;
}
