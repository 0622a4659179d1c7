// @ts-check
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok, signedOutBecause, signIn } from '../api.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { Field, Page, ProblemNote, useAction } from '../ui.js';

/** Sign in with the API's tokens; `next` is the page that asked for it. */
export function SignIn(/** @type {{ next?: string }} */ { next }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    action.run(async () => {
      await signIn(login.trim(), password);
      navigate(next && next !== '/signin' ? next : '/account');
    });
  };
  return html`<${Page} title=${t('signin.title')}>
    ${signedOutBecause === 'token_reused' ? html`<p class="problem" role="alert">${t('signin.reused')}</p>` : null}
    ${signedOutBecause === 'expired' ? html`<p class="note" role="status">${t('signin.expired')}</p>` : null}
    ${next && next !== '/signin' ? html`<p class="note">${t('signin.needed')}</p>` : null}
    <form class="form narrow" onSubmit=${submit}>
      <${Field} label=${t('signin.login')} name="login" value=${login} onInput=${setLogin} autocomplete="username" required problem=${action.problem} />
      <${Field} label=${t('signin.password')} name="password" type="password" value=${password} onInput=${setPassword} autocomplete="current-password" required problem=${action.problem} />
      <${ProblemNote} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('app.sign_in')}</button>
    </form>
    <p><a href="#/register">${t('signin.no_account')}</a></p>
  </${Page}>`;
}

/** Register with an email address or a mobile number, then sign in. */
export function Register() {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    action.run(async () => {
      const id = login.trim();
      const body = id.includes('@') ? { email: id, password } : { mobile: id, password };
      await ok(client.POST('/api/v1/auth/register', { body }));
      await signIn(id, password);
      navigate('/account');
    });
  };
  return html`<${Page} title=${t('register.title')}>
    <form class="form narrow" onSubmit=${submit}>
      <${Field} label=${t('register.login')} name=${login.includes('@') ? 'email' : 'mobile'} value=${login} onInput=${setLogin} autocomplete="username" required problem=${action.problem} />
      <${Field} label=${t('signin.password')} name="password" type="password" value=${password} onInput=${setPassword} autocomplete="new-password" minlength="10" hint=${t('register.password_hint')} required problem=${action.problem} />
      <${ProblemNote} problem=${action.problem} />
      <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('register.submit')}</button>
    </form>
  </${Page}>`;
}
