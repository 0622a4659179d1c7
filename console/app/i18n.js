// @ts-check
// 简体中文 by default, English on request; the choice is kept per browser.
// Every text a page shows is a key of messages.js, in both languages (a
// test checks the two have the same keys and that every key used exists).
import { messages } from './messages.js';

/** @typedef {keyof typeof messages.zh} Key */
/** @typedef {'zh' | 'en'} Lang */

const STORE = 'tph.lang';
/** @type {Lang} */
let lang = localStorage.getItem(STORE) === 'en' ? 'en' : 'zh';
/** @type {Set<() => void>} */
const listeners = new Set();

export const currentLang = () => lang;
export const locale = () => (lang === 'zh' ? 'zh-CN' : 'en');

export function setLang(/** @type {Lang} */ next) {
  lang = next;
  localStorage.setItem(STORE, next);
  document.documentElement.lang = locale();
  listeners.forEach((fn) => fn());
}

export function onLang(/** @type {() => void} */ fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * The text of `key` in the current language, `{name}` replaced from `vars`.
 * @param {Key} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  const text = messages[lang][key] ?? messages.zh[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? `{${k}}`)) : text;
}

/**
 * The words for an API enum value (`label('org_kind', 'bank')`), or the
 * value itself when the console has none: the API may add values before
 * the console learns them. A test checks every value the spec lists has words.
 * @param {string} prefix @param {string} value
 */
export function label(prefix, value) {
  const key = /** @type {Key} */ (`${prefix}.${value}`);
  return key in messages[lang] ? messages[lang][key] : value;
}

/** A problem code's words, if the console has them, else null. */
export function problemText(/** @type {string} */ code) {
  const key = /** @type {Key} */ (`problem.${code}`);
  return key in messages[lang] ? messages[lang][key] : null;
}

document.documentElement.lang = locale();
