// @ts-check
// The console's shell: who is signed in and with which roles, the
// navigation their roles allow, and the page the hash names. Pages live in
// pages/, one module per screen; routes.js says which role sees which.
import { render } from '../vendor/preact.js';
import { useEffect, useState } from '../vendor/preact-hooks.js';
import { html } from './html.js';
import { client, isSignedIn, keepFresh, ok, onSession, signOut } from './api.js';
import { currentLang, onLang, setLang, t } from './i18n.js';
import { match, useLocation } from './router.js';
import { ROUTES, allowed, navFor, publicNav } from './routes.js';
import { asProblem, Busy, ProblemNote } from './ui.js';
import { Session } from './session.js';

/** @typedef {import('./api.js').Schemas} Schemas */

function useSignedIn() {
  const [me, setMe] = useState(/** @type {Schemas['MeView'] | null} */ (null));
  const [state, setState] = useState(/** @type {{ loading: boolean, problem: import('./api.js').Problem | null }} */ ({ loading: isSignedIn(), problem: null }));
  const [version, setVersion] = useState(0);
  useEffect(() => onSession(() => setVersion((v) => v + 1)), []);
  useEffect(() => {
    if (!isSignedIn()) {
      setMe(null);
      setState({ loading: false, problem: null });
      return;
    }
    setState({ loading: true, problem: null });
    ok(client.GET('/api/v1/me')).then(
      (m) => { setMe(m); setState({ loading: false, problem: null }); },
      (e) => setState({ loading: false, problem: asProblem(e) }),
    );
  }, [version]);
  return { me, ...state };
}

function App() {
  const [, setLangVersion] = useState(0);
  useEffect(() => onLang(() => setLangVersion((v) => v + 1)), []);
  const where = useLocation();
  const session = useSignedIn();
  const me = session.me;

  // Move focus to the new page's heading, as a page load would.
  useEffect(() => {
    /** @type {HTMLElement | null} */ (document.getElementById('page-title'))?.focus({ preventScroll: true });
  }, [where.path]);

  const nav = navFor(me);
  // The deepest navigation entry containing this page is the current one.
  const here = nav.map((i) => i.path).filter((p) => where.path === p || where.path.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0];

  let page = null;
  for (const route of ROUTES) {
    const params = match(route.path, where.path);
    if (!params) continue;
    if (session.loading) page = html`<${Busy} />`;
    else if (!allowed(route, me)) {
      page = me
        ? html`<section class="page"><h1 id="page-title" tabindex="-1">${t('app.forbidden')}</h1><p>${t('app.forbidden_detail')}</p></section>`
        : html`<${route.signInPage} next=${where.path} />`;
    } else page = html`<${route.page} params=${params} query=${where.query} me=${me} />`;
    break;
  }
  if (!page) {
    page = html`<section class="page"><h1 id="page-title" tabindex="-1">${t('app.not_found')}</h1><p><a href="#/">${t('app.home')}</a></p></section>`;
  }

  return html`<${Session.Provider} value=${me}>
    <a class="skip" href="#main" onClick=${(/** @type {Event} */ e) => { e.preventDefault(); document.getElementById('page-title')?.focus(); }}>${t('app.skip')}</a>
    <header class="top">
      <a class="brand" href="#/">${t('app.name')}</a>
      <nav aria-label=${t('app.nav')}>
        <ul>
          ${nav.map((item) => html`<li><a href=${`#${item.path}`} aria-current=${item.path === here ? 'page' : undefined}>${t(item.label)}</a></li>`)}
        </ul>
      </nav>
      <div class="tools">
        <label class="lang">
          <span class="sr-only">${t('app.language')}</span>
          <select aria-label=${t('app.language')} value=${currentLang()} onChange=${(/** @type {Event} */ e) => setLang(/** @type {HTMLSelectElement} */ (e.currentTarget).value === 'en' ? 'en' : 'zh')}>
            <option value="zh" selected=${currentLang() === 'zh'}>简体中文</option>
            <option value="en" selected=${currentLang() === 'en'}>English</option>
          </select>
        </label>
        ${me
          ? html`<span class="who">${me.email ?? me.mobile}</span><button type="button" onClick=${() => signOut()}>${t('app.sign_out')}</button>`
          : html`<a class="button" href="#/signin">${t('app.sign_in')}</a>`}
      </div>
    </header>
    <main id="main">
      <${ProblemNote} problem=${session.problem} />
      ${page}
    </main>
    <footer class="bottom">
      <nav aria-label=${t('app.public_nav')}>
        <ul>${publicNav().map((item) => html`<li><a href=${`#${item.path}`}>${t(item.label)}</a></li>`)}<li><a href="/docs/">${t('app.api_docs')}</a></li></ul>
      </nav>
    </footer>
  </${Session.Provider}>`;
}

keepFresh();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
