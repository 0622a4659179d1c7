// @ts-check
// Every page, who may open it and where the navigation lists it. A page's
// `who` is `public` (no sign-in), `signed_in`, or the roles any one of
// which opens it (administrators open every page). The API decides what is
// really allowed; this only keeps people from pages that would refuse them.
import { holds } from './session.js';
import { Welcome } from './pages/welcome.js';
import { SignIn, Register } from './pages/signin.js';
import { Account } from './pages/account.js';
import { Overview } from './pages/explorer/overview.js';
import { Projects, Batches, Retirements } from './pages/explorer/lists.js';
import { Markets, MarketData } from './pages/explorer/market.js';
import { AuditLog } from './pages/explorer/audit.js';
import { Check } from './pages/check.js';
import { Calculators } from './pages/calculators.js';
import { ReviewQueue, ReviewTrip } from './pages/reviews.js';
import { Trade } from './pages/trade.js';
import { Bank } from './pages/bank.js';
import { EditProject, NewProject, ProjectDetail, ProjectList } from './pages/projects.js';
import { Holdings, ServiceCentre } from './pages/holdings.js';
import { Approvals, Instruments } from './pages/government.js';
import { Apply, Members } from './pages/organization.js';
import { Auction, Auctions, Blocks } from './pages/auctions.js';
import { Admin } from './pages/admin.js';
import { Claim, NewClaim } from './pages/claims.js';
import { Statistics } from './pages/statistics.js';
import { Methodologies } from './pages/methodologies.js';
import { GuidancePrices } from './pages/pricing.js';
import { PublicReserve, Reserve } from './pages/reserve.js';
import { Insurance, Pledges, PublicPledges } from './pages/finance.js';
import { PublicRights, Rights } from './pages/rights.js';

/** @typedef {import('./session.js').Me} Me */
/** @typedef {import('./session.js').Role} Role */
/** @typedef {import('./i18n.js').Key} Key */
/** @typedef {{ path: string, page: any, who: 'public' | 'signed_in' | Role[], nav?: Key, signInPage: any }} Route */

/** @param {string} path @param {any} page @param {Route['who']} who @param {Key} [nav] @returns {Route} */
const route = (path, page, who, nav) => ({ path, page, who, nav, signInPage: SignIn });

/** @type {Route[]} */
export const ROUTES = [
  route('/', Welcome, 'public'),
  route('/signin', SignIn, 'public'),
  route('/register', Register, 'public'),
  route('/account', Account, 'signed_in', 'nav.account'),
  route('/reviews/trips', ReviewQueue, ['verifier'], 'nav.reviews'),
  route('/reviews/trips/:id', ReviewTrip, ['verifier']),
  route('/trade', Trade, ['enterprise_operator', 'reserve'], 'nav.trade'),
  route('/bank', Bank, ['bank'], 'nav.bank'),
  route('/projects', ProjectList, ['enterprise_operator', 'verifier', 'government'], 'nav.projects'),
  route('/projects/new', NewProject, ['enterprise_operator']),
  route('/projects/:id/edit', EditProject, ['enterprise_operator']),
  route('/projects/:id', ProjectDetail, ['enterprise_operator', 'verifier', 'government']),
  route('/holdings', Holdings, ['enterprise_operator', 'reserve'], 'nav.holdings'),
  route('/centre', ServiceCentre, ['verifier'], 'nav.centre'),
  route('/approvals', Approvals, ['government'], 'nav.approvals'),
  route('/instruments', Instruments, ['government'], 'nav.instruments'),
  route('/members', Members, ['enterprise_operator', 'verifier', 'government', 'reserve', 'bank', 'guarantor', 'insurer'], 'nav.members'),
  route('/organizations/new', Apply, 'signed_in'),
  route('/blocks', Blocks, ['enterprise_operator', 'reserve'], 'nav.blocks'),
  route('/reserve', Reserve, ['enterprise_operator', 'reserve'], 'nav.reserve'),
  route('/pledges', Pledges, ['enterprise_operator', 'bank', 'guarantor'], 'nav.pledges'),
  route('/insurance', Insurance, ['enterprise_operator', 'insurer'], 'nav.insurance'),
  route('/rights', Rights, ['enterprise_operator', 'government'], 'nav.rights'),
  route('/auctions', Auctions, 'public', 'nav.auctions'),
  route('/auctions/:id', Auction, 'public'),
  route('/statistics', Statistics, ['government', 'verifier', 'enterprise_operator'], 'nav.statistics'),
  route('/claims/new', NewClaim, ['enterprise_operator', 'government'], 'nav.claims'),
  route('/claims/:id', Claim, 'public'),
  route('/admin', Admin, ['admin'], 'nav.admin'),
  route('/explorer', Overview, 'public', 'nav.explorer'),
  route('/explorer/projects', Projects, 'public'),
  route('/explorer/batches', Batches, 'public'),
  route('/explorer/retirements', Retirements, 'public'),
  route('/explorer/market', Markets, 'public', 'nav.market_data'),
  route('/explorer/market/:code', MarketData, 'public'),
  route('/explorer/audit', AuditLog, 'public', 'nav.audit'),
  route('/check', Check, 'public', 'nav.check'),
  route('/methodologies', Methodologies, 'public', 'nav.methodologies'),
  route('/pricing', GuidancePrices, 'public', 'nav.pricing'),
  route('/explorer/reserve', PublicReserve, 'public', 'nav.reserve_public'),
  route('/explorer/pledges', PublicPledges, 'public', 'nav.register'),
  route('/explorer/rights', PublicRights, 'public', 'nav.rights_public'),
  route('/calculators', Calculators, 'public', 'nav.calculators'),
];

/** Whether `me` may open `route`. */
export function allowed(/** @type {Route} */ route, /** @type {Me | null} */ me) {
  if (route.who === 'public') return true;
  if (!me) return false;
  if (route.who === 'signed_in') return true;
  return route.who.some((role) => holds(me, role));
}

/** The navigation `me` sees: their work when signed in (with the public
 * explorer), the public pages otherwise; `publicNav` lists the public pages
 * for the footer. */
export function navFor(/** @type {Me | null} */ me) {
  const items = ROUTES.filter((r) => r.nav && allowed(r, me)).map((r) => ({ path: r.path, label: /** @type {Key} */ (r.nav), mine: r.who !== 'public' }));
  const mine = items.filter((i) => i.mine);
  return mine.length ? [...mine, ...items.filter((i) => i.path === '/explorer')] : items;
}

export function publicNav() {
  return ROUTES.filter((r) => r.nav && r.who === 'public').map((r) => ({ path: r.path, label: /** @type {Key} */ (r.nav) }));
}
