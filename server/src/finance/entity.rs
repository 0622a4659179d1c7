//! Pledges and what hangs off them (see migration 000028).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PledgeStatus {
    /// Asked for by the pledgor; waiting for the bank (and, for a
    /// later-ranked pledge, the first pledgee's consent). Nothing is held.
    #[sea_orm(string_value = "applied")]
    Applied,
    /// Confirmed: the collateral is held under the pledge.
    #[sea_orm(string_value = "active")]
    Active,
    /// Valued below the maintenance level at a close: cure by the
    /// deadline.
    #[sea_orm(string_value = "margin_call")]
    MarginCall,
    /// The bank declared enforcement: the collateral is being sold or
    /// taken over.
    #[sea_orm(string_value = "enforcing")]
    Enforcing,
    /// Repaid in full: the collateral is free (or the next rank's).
    #[sea_orm(string_value = "released")]
    Released,
    /// Ended by enforcement: the proceeds were paid out in rank order.
    #[sea_orm(string_value = "enforced")]
    Enforced,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Taken back by the pledgor before the bank confirmed.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl PledgeStatus {
    /// The pledge encumbers its collateral.
    pub fn live(self) -> bool {
        matches!(
            self,
            PledgeStatus::Active | PledgeStatus::MarginCall | PledgeStatus::Enforcing
        )
    }

    pub const LIVE: [PledgeStatus; 3] = [
        PledgeStatus::Active,
        PledgeStatus::MarginCall,
        PledgeStatus::Enforcing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PledgeStatus::Applied => "applied",
            PledgeStatus::Active => "active",
            PledgeStatus::MarginCall => "margin_call",
            PledgeStatus::Enforcing => "enforcing",
            PledgeStatus::Released => "released",
            PledgeStatus::Enforced => "enforced",
            PledgeStatus::Declined => "declined",
            PledgeStatus::Withdrawn => "withdrawn",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum GuaranteeStatus {
    /// Named in the application; the guarantor's staff have not answered.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// Accepted: the guarantor's share of the loan is held from its cash.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// The pledge ended: paid what enforcement left short, the rest
    /// released.
    #[sea_orm(string_value = "ended")]
    Ended,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMethod {
    /// Sold by one-way bidding, the bank the beneficiary.
    #[sea_orm(string_value = "auction")]
    Auction,
    /// Taken over by the reserve platform at the pledgor's applicable
    /// guidance price (收储).
    #[sea_orm(string_value = "reserve")]
    Reserve,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    #[sea_orm(string_value = "applied")]
    Applied,
    #[sea_orm(string_value = "consented")]
    Consented,
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    #[sea_orm(string_value = "guarantee_accepted")]
    GuaranteeAccepted,
    #[sea_orm(string_value = "guarantee_declined")]
    GuaranteeDeclined,
    /// The pledgor added units.
    #[sea_orm(string_value = "topped_up")]
    ToppedUp,
    /// The bank recorded a repayment (`amount`, fen).
    #[sea_orm(string_value = "repaid")]
    Repaid,
    /// Units given back to the pledgor after a partial repayment.
    #[sea_orm(string_value = "units_released")]
    UnitsReleased,
    /// Repaid in full.
    #[sea_orm(string_value = "released")]
    Released,
    /// Became the first rank when the pledge ahead of it ended.
    #[sea_orm(string_value = "ranked_first")]
    RankedFirst,
    #[sea_orm(string_value = "margin_call")]
    MarginCall,
    #[sea_orm(string_value = "cured")]
    Cured,
    /// Part of a project's issuance held under a future-income pledge.
    #[sea_orm(string_value = "captured")]
    Captured,
    #[sea_orm(string_value = "enforcement_declared")]
    EnforcementDeclared,
    /// The collateral was sold or taken over but not settled: held again.
    #[sea_orm(string_value = "enforcement_failed")]
    EnforcementFailed,
    #[sea_orm(string_value = "enforced")]
    Enforced,
}

pub mod pledge {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledges")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub status: PledgeStatus,
        pub pledgor_organization_id: String,
        /// The bank.
        pub pledgee_organization_id: String,
        pub client_id: String,
        pub request_hash: String,
        pub instrument: String,
        /// Units pledged (a future-income pledge: the units expected).
        pub quantity: i64,
        /// A future-income pledge: the project whose issuances it takes,
        /// and the share of each (decimal text).
        pub project_id: Option<String>,
        pub share: Option<String>,
        /// Grams of issuances taken so far (future income).
        pub captured_g: i64,
        /// The first-ranked pledge whose collateral this one shares, and
        /// its place (1: first).
        pub senior_pledge_id: Option<String>,
        pub rank: i32,
        pub consented_by: Option<String>,
        pub consented_at: Option<DateTimeWithTimeZone>,
        /// Decimal text.
        pub ltv: Option<String>,
        /// Fen.
        pub loan_amount: Option<i64>,
        pub outstanding: i64,
        pub matures_on: Option<String>,
        /// Units given back by partial releases.
        pub released_units: i64,
        /// The price of the last valuation (fen per unit) and its day.
        pub last_price: Option<i64>,
        pub last_valued_on: Option<String>,
        /// A margin call's last day to cure (China date).
        pub call_deadline: Option<String>,
        pub guarantor_organization_id: Option<String>,
        pub guarantee_share: Option<String>,
        pub guarantee_status: Option<GuaranteeStatus>,
        /// Fen of the guarantor's cash held for the guarantee.
        pub guarantee_held: i64,
        /// Fen the guarantor paid the bank (owed it by the pledgor).
        pub guarantor_paid: i64,
        pub enforcement_method: Option<EnforcementMethod>,
        /// The reserve operation or auction that sells the collateral.
        pub enforcement_id: Option<String>,
        /// Fen the enforcement paid this pledgee, and what it left unpaid.
        pub proceeds: Option<i64>,
        pub shortfall: Option<i64>,
        /// Salts the public log's commitments to the loan's amounts.
        pub terms_salt: String,
        /// Bumped by every change: a valuation writes only on the version
        /// it read.
        pub version: i64,
        pub reason: Option<String>,
        pub requested_by: String,
        pub decided_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        pub decided_at: Option<DateTimeWithTimeZone>,
        pub ended_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lot {
    use super::*;

    /// Grams of one batch held under one ledger hold for a chain of
    /// pledges (on its first-ranked pledge).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_lots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hold_id: String,
        pub pledge_id: String,
        pub batch_id: String,
        /// Still held.
        pub grams: i64,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub pledge_id: String,
        pub kind: EventKind,
        /// The caller's reference (repayments, top-ups, releases): one
        /// event per pledge, kind and reference.
        pub reference: Option<String>,
        /// Fen.
        pub amount: Option<i64>,
        pub units: Option<i64>,
        pub detail: Option<String>,
        pub recorded_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod valuation {
    use super::*;

    /// One valuation per pledge and trading day.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_valuations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub pledge_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        /// The lower of the pledgor's guidance price and the close, fen.
        pub price: i64,
        pub collateral_units: i64,
        /// Fen.
        pub value: i64,
        pub outstanding: i64,
        /// Outstanding loans ranked ahead of this one, fen.
        pub senior: i64,
        pub called: bool,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Carbon-sink index insurance (碳汇指数保险) on a forest project's
    /// yearly loss.
    #[sea_orm(string_value = "sink_index")]
    SinkIndex,
    /// Price insurance (碳汇价格保险) on an instrument's average close.
    #[sea_orm(string_value = "price")]
    Price,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    /// Offered by the insurer; the holder accepts (and pays the premium)
    /// or declines.
    #[sea_orm(string_value = "offered")]
    Offered,
    /// Accepted: the premium is the insurer's, the maximum payout held
    /// from its cash.
    #[sea_orm(string_value = "in_force")]
    InForce,
    /// Its period is over and its claims settled: what was held and not
    /// paid is the insurer's again.
    #[sea_orm(string_value = "ended")]
    Ended,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Taken back by the insurer before an answer.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Computed; the insurer's staff approve it.
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "paid")]
    Paid,
}

pub mod policy {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "insurance_policies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: PolicyKind,
        pub status: PolicyStatus,
        pub insurer_organization_id: String,
        pub holder_organization_id: String,
        pub client_id: String,
        pub request_hash: String,
        /// Sink index: the afforestation project, its policy year, the
        /// insured stock and the trigger (grams), the price per tonne of
        /// loss over the trigger (fen).
        pub project_id: Option<String>,
        pub policy_year: Option<i32>,
        pub insured_stock_g: Option<i64>,
        pub threshold_g: Option<i64>,
        pub price_per_t: Option<i64>,
        /// Price: the instrument, lots (its steps), the strike (fen per unit),
        /// and the closes averaged (trading days up to expiry).
        pub instrument: Option<String>,
        pub quantity: Option<i64>,
        pub strike: Option<i64>,
        /// The period covered (China dates); a price policy settles at the
        /// close of `ends_on`.
        pub starts_on: String,
        pub ends_on: String,
        pub averaging_days: Option<i32>,
        /// Fen.
        pub maximum: i64,
        pub premium: i64,
        /// Fen paid out so far.
        pub paid: i64,
        pub reason: Option<String>,
        pub offered_by: String,
        pub answered_by: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        pub answered_at: Option<DateTimeWithTimeZone>,
        pub ended_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "insurance_claims")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub policy_id: String,
        /// What made it: `reversal:<id>` (sink) or `settlement:<day>`
        /// (price); one claim per policy and basis.
        pub basis: String,
        pub status: ClaimStatus,
        /// The calculator's request and answer, JSON text.
        pub computation: String,
        /// Fen this claim pays.
        pub payout: i64,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
