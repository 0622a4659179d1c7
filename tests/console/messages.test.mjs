// The console's words: both languages have the same keys (tsc checks the
// keys pages use exist), and every value of the enums the console shows
// has words, so a value the spec lists is never shown as a bare code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './harness.mjs';
import { messages } from '../../console/app/messages.js';

const spec = JSON.parse(fs.readFileSync(path.join(root, 'mobile-api-spec/openapi.json'), 'utf8'));
const schemas = spec.components.schemas;
const prop = (/** @type {string} */ schema, /** @type {string} */ field) => schemas[schema].properties[field].enum;

/** Each label() prefix and the spec enum whose values it names. */
const ENUMS = {
  role: schemas.Role.enum,
  org_kind: schemas.OrgKind.enum,
  bureau: schemas.Bureau.enum,
  org_status: schemas.Status.enum,
  project_kind: schemas.ProjectKind.enum,
  project_status: prop('ProjectView', 'status'),
  batch_kind: prop('BatchView', 'kind'),
  account_kind: schemas.AccountKind.enum,
  class: schemas.Class.enum,
  trading_status: schemas.TradingStatus.enum,
  trip_status: schemas.TripStatus.enum,
  notification_kind: schemas.NotificationKind.enum,
  reason: schemas.Reason.enum,
  review_decision: prop('ReviewView', 'decision'),
  order_status: schemas.OrderStatus.enum,
  withdrawal_status: schemas.WithdrawalStatus.enum,
  auction_status: schemas.AuctionStatus.enum,
  block_status: schemas.BlockStatus.enum,
  reserve_kind: schemas.OperationKind.enum,
  reserve_status: schemas.OperationStatus.enum,
  pledge_status: schemas.PledgeStatus.enum,
  guarantee_status: schemas.GuaranteeStatus.enum,
  pledge_event: schemas.EventKind.enum,
  policy_kind: schemas.PolicyKind.enum,
  policy_status: schemas.PolicyStatus.enum,
  claim_status: schemas.ClaimStatus.enum,
  enforcement_method: schemas.EnforcementMethod.enum,
  rights_origin: schemas.Origin.enum,
  allocation_status: schemas.AllocationStatus.enum,
  compliance_status: schemas.ComplianceStatus.enum,
  instalment_status: schemas.InstalmentStatus.enum,
};

test('both languages have the same keys, none empty', () => {
  assert.deepEqual(Object.keys(messages.en).sort(), Object.keys(messages.zh).sort());
  for (const lang of ['zh', 'en']) {
    for (const [k, v] of Object.entries(messages[lang])) assert.ok(v.trim(), `${lang} ${k} is empty`);
  }
});

test('every enum value the console shows has words in both languages', () => {
  for (const [prefix, values] of Object.entries(ENUMS)) {
    assert.ok(Array.isArray(values) && values.length, `${prefix}: the spec lists its values`);
    for (const v of values) {
      assert.ok(`${prefix}.${v}` in messages.zh, `${prefix}.${v} has no words`);
    }
  }
});

test('placeholders are the same in both languages', () => {
  const names = (/** @type {string} */ s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const k of Object.keys(messages.zh)) assert.equal(names(messages.en[k]), names(messages.zh[k]), k);
});

test('every problem code the API answers has words in both languages', () => {
  // The mobile guide's table is printed from the server's list of codes (a server test keeps them equal).
  const guide = fs.readFileSync(path.join(root, 'mobile-api-spec/README.md'), 'utf8');
  const codes = [...guide.matchAll(/^\| \d{3} \| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.ok(codes.length > 50, `the guide lists the codes (found ${codes.length})`);
  for (const code of codes) {
    for (const lang of ['zh', 'en']) assert.ok(`problem.${code}` in messages[lang], `${lang} has no words for ${code}`);
  }
});
