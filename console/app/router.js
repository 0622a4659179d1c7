// @ts-check
// Hash routes (#/explorer/projects?kind=forest): the server serves one
// page, so a reload or a shared link never needs a server-side fallback.
import { useEffect, useState } from '../vendor/preact-hooks.js';

/** @typedef {{ path: string, query: URLSearchParams }} Location */

/** @returns {Location} */
export function current() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const on = () => setWhere(current());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return where;
}

/** A link target: `href(path, {a: 1})` → `#/path?a=1`. */
export function href(/** @type {string} */ path, /** @type {Record<string, string | number | undefined>} */ query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(/** @type {string} */ path, /** @type {Record<string, string | number | undefined>} */ query = {}) {
  location.hash = href(path, query);
}

/**
 * Matches `pattern` (`/reviews/trips/:id`) against `path`.
 * @returns {Record<string, string> | null}
 */
export function match(/** @type {string} */ pattern, /** @type {string} */ path) {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return params;
}
