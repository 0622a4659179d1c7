// @ts-check
import { html } from '../html.js';
import { t } from '../i18n.js';
import { useMe } from '../session.js';
import { navFor } from '../routes.js';
import { Page } from '../ui.js';

/** The front page: what the console is and where to go. */
export function Welcome() {
  const me = useMe();
  const mine = navFor(me).filter((i) => i.mine);
  return html`<${Page} title=${t('welcome.title')}>
    <p class="lead">${t('welcome.lead')}</p>
    <div class="cards">
      <a class="card" href="#/explorer"><h2>${t('nav.explorer')}</h2><p>${t('welcome.explorer')}</p></a>
      <a class="card" href="#/check"><h2>${t('nav.check')}</h2><p>${t('welcome.check')}</p></a>
      <a class="card" href="#/calculators"><h2>${t('nav.calculators')}</h2><p>${t('welcome.calculators')}</p></a>
      ${me
        ? mine.map((i) => html`<a class="card" href=${`#${i.path}`}><h2>${t(i.label)}</h2></a>`)
        : html`<a class="card" href="#/signin"><h2>${t('app.sign_in')}</h2><p>${t('welcome.sign_in')}</p></a>`}
    </div>
  </${Page}>`;
}
