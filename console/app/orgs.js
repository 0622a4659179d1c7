// @ts-check
// Organisations by id, for showing names where the API answers ids, and the
// approved ones to choose from (a bank recording a deposit, a seller
// naming a block trade's buyer).
import { client, ok } from './api.js';
import { useLoad } from './ui.js';

/** @typedef {import('./api.js').Schemas['OrganizationView']} Organization */

/** @type {Map<string, Promise<Organization | null>>} */
const cache = new Map();

function one(/** @type {string} */ id) {
  if (!cache.has(id)) {
    cache.set(id, ok(client.GET('/api/v1/organizations/{id}', { params: { path: { id } } })).catch(() => null));
  }
  return /** @type {Promise<Organization | null>} */ (cache.get(id));
}

/** id → name of each of `ids` the caller may see. */
export function useOrgNames(/** @type {string[]} */ ids) {
  const names = useLoad(async () => {
    const orgs = await Promise.all(ids.map(one));
    return Object.fromEntries(orgs.filter((o) => o !== null).map((o) => [o.id, o.name]));
  }, [ids.join(',')]);
  return /** @type {Record<string, string>} */ (names.data ?? {});
}

/** Every approved organisation (all pages), optionally of one kind. */
export function useApprovedOrgs(/** @type {Organization['kind'] | null} */ kind = null) {
  return useLoad(async () => {
    /** @type {Organization[]} */
    const all = [];
    let after;
    for (;;) {
      const page = await ok(client.GET('/api/v1/organizations', { params: { query: { status: 'approved', limit: 100, starting_after: after } } }));
      all.push(...page.data);
      if (!page.has_more || page.data.length === 0) break;
      after = page.data[page.data.length - 1].id;
    }
    return kind ? all.filter((o) => o.kind === kind) : all;
  }, [kind]);
}
