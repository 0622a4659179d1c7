// @ts-check
import { html } from '../../html.js';
import { client, ok } from '../../api.js';
import { t } from '../../i18n.js';
import { carbonCalc } from '../../wasm.js';
import { Busy, Page, ProblemNote, Table, useLoad } from '../../ui.js';

/** @typedef {import('../../api.js').Schemas} Schemas */

const RECENT = 10;

/** The audit log's current signed tree head, checked here, and its latest entries. */
export function AuditLog() {
  const log = useLoad(async () => {
    const [head, key, calc] = await Promise.all([
      ok(client.GET('/api/v1/audit/tree-head')),
      ok(client.GET('/api/v1/audit/public-key')),
      carbonCalc(),
    ]);
    const signed = calc.verifyTreeHead({
      tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp,
      signature: head.signature, public_key: head.public_key,
    });
    const entries = head.tree_size > 0
      ? await ok(client.GET('/api/v1/audit/entries', { params: { query: { start: Math.max(0, head.tree_size - RECENT), end: head.tree_size } } }))
      : { entries: [] };
    return { head, key, signed, entries };
  }, []);
  const d = log.data;
  return html`<${Page} title=${t('nav.audit')}>
    <p>${t('audit.lead')}</p>
    ${log.loading ? html`<${Busy} />` : null}
    <${ProblemNote} problem=${log.problem} />
    ${d
      ? html`<dl class="facts" data-testid="tree-head">
          <dt>${t('audit.size')}</dt><dd>${d.head.tree_size}</dd>
          <dt>${t('audit.root')}</dt><dd class="mono wrap">${d.head.root_hash}</dd>
          <dt>${t('audit.signed_at')}</dt><dd>${new Date(d.head.timestamp).toISOString()}</dd>
          <dt>${t('audit.key')}</dt><dd class="mono wrap">${d.key.public_key}</dd>
          <dt>${t('audit.signature')}</dt>
          <dd data-signature=${d.signed && d.key.public_key === d.head.public_key ? 'valid' : 'invalid'}>
            ${d.signed && d.key.public_key === d.head.public_key ? t('audit.signature_ok') : t('audit.signature_bad')}
          </dd>
        </dl>
        <${Table} caption=${t('audit.recent')} rows=${[...d.entries.entries].reverse()} rowKey=${(/** @type {Schemas['AuditEntryView']} */ e) => String(e.leaf_index)}
          columns=${[
            [t('audit.index'), (/** @type {Schemas['AuditEntryView']} */ e) => e.leaf_index],
            [t('audit.kind'), (/** @type {Schemas['AuditEntryView']} */ e) => e.kind],
            [t('audit.leaf'), (/** @type {Schemas['AuditEntryView']} */ e) => html`<code class="wrap">${e.leaf}</code>`],
          ]} />`
      : null}
  </${Page}>`;
}
