// @ts-check
// A settlement bank's staff: record money a participant paid in (its cash
// on the platform is credited), and pay out or refuse the withdrawals
// waiting for the bank.
import { useState } from '../../vendor/preact-hooks.js';
import { html } from '../html.js';
import { client, ok } from '../api.js';
import { label, t } from '../i18n.js';
import { navigate } from '../router.js';
import { orgsWith, useMe } from '../session.js';
import { useApprovedOrgs, useOrgNames } from '../orgs.js';
import { Field, More, Page, ProblemNote, Table, fenOf, localProblem, useAction, usePages, when, yuan } from '../ui.js';

/** @typedef {import('../api.js').Schemas} Schemas */

export function Bank(/** @type {{ query: URLSearchParams }} */ { query }) {
  const me = useMe();
  const banks = orgsWith(me, 'bank');
  const names = useOrgNames(banks);
  const bank = query.get('bank') ?? banks[0] ?? '';
  const [version, setVersion] = useState(0);
  return html`<${Page} title=${t('bank.title')}>
    ${banks.length > 1
      ? html`<form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
          <${Field} label=${t('bank.bank')} name="bank" value=${bank} onInput=${(/** @type {string} */ v) => navigate('/bank', { bank: v })}
            options=${banks.map((id) => /** @type {[string, string]} */ ([id, names[id] ?? id]))} />
        </form>`
      : html`<p class="lead">${names[bank] ?? ''}</p>`}
    ${bank ? html`<${Deposit} bank=${bank} recorded=${() => setVersion((v) => v + 1)} />
      <${Withdrawals} bank=${bank} version=${version} decided=${() => setVersion((v) => v + 1)} />
      <${Deposits} bank=${bank} version=${version} />` : null}
  </${Page}>`;
}

function Deposit(/** @type {{ bank: string, recorded: () => void }} */ { bank, recorded }) {
  const participants = useApprovedOrgs();
  const choices = (participants.data ?? []).filter((o) => ['enterprise', 'reserve_platform', 'guarantor', 'insurer'].includes(o.kind));
  const [org, setOrg] = useState('');
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const [local, setLocal] = useState(/** @type {import('../api.js').Problem | null} */ (null));
  const action = useAction();
  const done = /** @type {Schemas['DepositView'] | null} */ (action.done);
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    const fen = fenOf(amount);
    if (fen === null || fen === 0n) {
      setLocal(localProblem('amount', t('bank.amount_not_money')));
      return;
    }
    setLocal(null);
    action.run(async () => {
      const made = await ok(client.POST('/api/v1/market/deposits', {
        body: { bank_id: bank, organization_id: org || choices[0]?.id || '', amount: String(fen), reference: reference.trim() },
      }));
      setAmount('');
      setReference('');
      recorded();
      return made;
    });
  };
  const problem = local ?? action.problem ?? participants.problem;
  return html`<form class="form" onSubmit=${submit} aria-labelledby="deposit-title">
    <h2 id="deposit-title">${t('bank.record_deposit')}</h2>
    <${Field} label=${t('bank.participant')} name="organization_id" value=${org || choices[0]?.id || ''} onInput=${setOrg}
      options=${choices.map((o) => /** @type {[string, string]} */ ([o.id, o.name]))} problem=${problem} />
    <${Field} label=${t('bank.amount')} name="amount" inputmode="decimal" value=${amount} onInput=${setAmount} hint=${t('bank.amount_hint')} required problem=${problem} />
    <${Field} label=${t('bank.reference')} name="reference" value=${reference} onInput=${setReference} hint=${t('bank.reference_hint')} required problem=${problem} />
    <${ProblemNote} problem=${problem} />
    <button type="submit" disabled=${action.busy}>${action.busy ? t('ui.working') : t('bank.record')}</button>
    ${done ? html`<p class="note" role="status" data-testid="deposited">${t(done.replayed ? 'bank.replayed' : 'bank.recorded', { amount: yuan(done.amount), reference: done.reference })}</p>` : null}
  </form>`;
}

function Deposits(/** @type {{ bank: string, version: number }} */ { bank, version }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/market/deposits', { params: { query: { bank_id: bank, limit: 50, starting_after: after } } })), [bank, version]);
  const names = useOrgNames([...new Set(pages.rows.map((d) => d.organization_id))]);
  return html`<${Table} caption=${t('bank.deposits')} rows=${pages.rows} rowKey=${(/** @type {Schemas['DepositView']} */ d) => d.id}
      columns=${[
        [t('bank.when'), (/** @type {Schemas['DepositView']} */ d) => when(d.created_at)],
        [t('bank.participant'), (/** @type {Schemas['DepositView']} */ d) => names[d.organization_id] ?? d.organization_id],
        [t('bank.amount'), (/** @type {Schemas['DepositView']} */ d) => yuan(d.amount)],
        [t('bank.reference'), (/** @type {Schemas['DepositView']} */ d) => d.reference],
      ]} />
    <${More} pages=${pages} />`;
}

/** @param {{ bank: string, version: number, decided: () => void }} props */
function Withdrawals({ bank, version, decided }) {
  const pages = usePages((after) => ok(client.GET('/api/v1/market/withdrawals', { params: { query: { bank_id: bank, status: 'requested', limit: 50, starting_after: after } } })), [bank, version]);
  const names = useOrgNames([...new Set(pages.rows.map((w) => w.organization_id))]);
  const [notes, setNotes] = useState(/** @type {Record<string, string>} */ ({}));
  const action = useAction();
  const decide = (/** @type {string} */ id, /** @type {Schemas['WithdrawalDecision']} */ decision) => action.run(async () => {
    const note = (notes[id] ?? '').trim() || null;
    await ok(client.POST('/api/v1/market/withdrawals/{id}/decision', {
      params: { path: { id } },
      body: decision === 'execute' ? { decision, reference: note } : { decision, reason: note },
    }));
    decided();
  });
  return html`<h2>${t('bank.withdrawals')}</h2>
    <${ProblemNote} problem=${action.problem} />
    <${Table} caption=${t('bank.withdrawals')} rows=${pages.rows} rowKey=${(/** @type {Schemas['WithdrawalView']} */ w) => w.id} empty=${t('bank.no_withdrawals')}
      columns=${[
        [t('bank.when'), (/** @type {Schemas['WithdrawalView']} */ w) => when(w.requested_at)],
        [t('bank.participant'), (/** @type {Schemas['WithdrawalView']} */ w) => names[w.organization_id] ?? w.organization_id],
        [t('bank.amount'), (/** @type {Schemas['WithdrawalView']} */ w) => yuan(w.amount)],
        [t('bank.bank_account'), (/** @type {Schemas['WithdrawalView']} */ w) => w.bank_account],
        [t('bank.status'), (/** @type {Schemas['WithdrawalView']} */ w) => label('withdrawal_status', w.status)],
        [t('bank.decision'), (/** @type {Schemas['WithdrawalView']} */ w) => html`<label class="inline"><span class="sr-only">${t('bank.note_for', { amount: yuan(w.amount) })}</span>
          <input value=${notes[w.id] ?? ''} placeholder=${t('bank.note_placeholder')} onInput=${(/** @type {Event} */ e) => setNotes({ ...notes, [w.id]: /** @type {HTMLInputElement} */ (e.currentTarget).value })} /></label>
          <button type="button" disabled=${action.busy} onClick=${() => decide(w.id, 'execute')}>${t('bank.execute')}</button>
          <button type="button" class="danger" disabled=${action.busy} onClick=${() => decide(w.id, 'refuse')}>${t('bank.refuse')}</button>`],
      ]} />
    <${More} pages=${pages} />`;
}

/** A participant's staff: ask the settlement bank to pay cash out, and follow the requests. */
export function CashOut(/** @type {{ org: string }} */ { org }) {
  const banks = useApprovedOrgs('bank');
  const [v, setV] = useState({ bank_id: '', amount: '', bank_account: '' });
  const [local, setLocal] = useState(/** @type {import('../api.js').Problem | null} */ (null));
  const [version, setVersion] = useState(0);
  const pages = usePages((after) => ok(client.GET('/api/v1/market/withdrawals', { params: { query: { organization_id: org, limit: 20, starting_after: after } } })), [org, version]);
  const action = useAction();
  const set = (/** @type {keyof typeof v} */ k) => (/** @type {string} */ x) => setV({ ...v, [k]: x });
  const bank = v.bank_id || banks.data?.[0]?.id || '';
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    const fen = fenOf(v.amount);
    if (fen === null || fen === 0n) {
      setLocal(localProblem('amount', t('bank.amount_not_money')));
      return;
    }
    setLocal(null);
    action.run(async () => {
      const made = await ok(client.POST('/api/v1/market/withdrawals', {
        body: { organization_id: org, bank_id: bank, amount: String(fen), bank_account: v.bank_account.trim() },
      }));
      setVersion((x) => x + 1);
      return made;
    });
  };
  const problem = local ?? action.problem ?? banks.problem;
  return html`<form class="form" onSubmit=${submit} aria-labelledby="cash-out-title">
      <h2 id="cash-out-title">${t('bank.cash_out')}</h2>
      <${Field} label=${t('bank.bank')} name="bank_id" value=${bank} onInput=${set('bank_id')} options=${(banks.data ?? []).map((b) => /** @type {[string, string]} */ ([b.id, b.name]))} problem=${problem} />
      <${Field} label=${t('bank.amount')} name="amount" inputmode="decimal" value=${v.amount} onInput=${set('amount')} required problem=${problem} />
      <${Field} label=${t('bank.bank_account')} name="bank_account" value=${v.bank_account} onInput=${set('bank_account')} required problem=${problem} />
      <${ProblemNote} problem=${problem} />
      <button type="submit" disabled=${action.busy}>${t('bank.ask')}</button>
    </form>
    <${Table} caption=${t('bank.my_withdrawals')} rows=${pages.rows} rowKey=${(/** @type {Schemas['WithdrawalView']} */ w) => w.id}
      columns=${[
        [t('bank.when'), (/** @type {Schemas['WithdrawalView']} */ w) => when(w.requested_at)],
        [t('bank.amount'), (/** @type {Schemas['WithdrawalView']} */ w) => yuan(w.amount)],
        [t('bank.bank_account'), (/** @type {Schemas['WithdrawalView']} */ w) => w.bank_account],
        [t('bank.status'), (/** @type {Schemas['WithdrawalView']} */ w) => html`<span data-withdrawal=${w.id} data-status=${w.status}>${label('withdrawal_status', w.status)}</span>${w.reason ? html` <small>${w.reason}</small>` : null}`],
        [t('bank.reference'), (/** @type {Schemas['WithdrawalView']} */ w) => w.reference ?? ''],
      ]} />
    <${More} pages=${pages} />`;
}
