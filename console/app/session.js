// @ts-check
// Who is signed in (GET /api/v1/me) and what their roles let them do.
import { createContext } from '../vendor/preact.js';
import { useContext } from '../vendor/preact-hooks.js';

/** @typedef {import('./api.js').Schemas} Schemas */
/** @typedef {Schemas['MeView']} Me */
/** @typedef {Schemas['Role']} Role */

export const Session = createContext(/** @type {Me | null} */ (null));

export const useMe = () => useContext(Session);

/** Whether `me` holds `role` in some organisation (admins hold every role's rights). */
export function holds(/** @type {Me | null} */ me, /** @type {Role} */ role) {
  if (!me) return false;
  return me.roles.some((g) => g.role === role || g.role === 'admin');
}

/** The organisations in which `me` holds `role`. */
export function orgsWith(/** @type {Me | null} */ me, /** @type {Role} */ role) {
  if (!me) return [];
  return [...new Set(me.roles.filter((g) => g.role === role && g.organization_id).map((g) => /** @type {string} */ (g.organization_id)))];
}
