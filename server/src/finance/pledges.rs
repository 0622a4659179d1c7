//! A pledge's life up to confirmation: the pledgor applies (units it
//! holds, or a project's future issuance; behind an earlier pledge on the
//! same units with that pledgee's consent; with a guarantor), the bank
//! confirms with the loan (at most `ltv` of the collateral's value) and
//! the collateral is held, or declines; the pledgor may withdraw first.
//! Every change is a guarded first write on the pledge's row, under the
//! pledgor's and instrument's named lock, so concurrent answers take
//! effect once.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::collateral;
use super::entity::{event, pledge, EventKind, GuaranteeStatus, PledgeStatus};
use super::rules::FinanceRules;
use super::terms;
use super::valuation;
use crate::auth::extract::Principal;
use crate::instruments::Code;
use crate::market::error::MarketError;
use crate::market::participants::{self, Participant};
use crate::market::{listing, money};
use crate::orgs::entity::{organization, OrgKind, Status};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeInput {
    /// The pledgor (the caller acts for it).
    pub organization_id: String,
    /// The bank lending against the pledge.
    pub pledgee_organization_id: String,
    /// The pledgor's id of the application, unique among its pledges: the
    /// same id with the same application answers the first; with another,
    /// 409 `id_reused`.
    #[schema(example = "2026-12-PLEDGE-01")]
    pub client_id: String,
    #[schema(example = "TPH-FOR-2026")]
    pub instrument: String,
    /// Units pledged, a whole number of the instrument's steps; for a
    /// future-income pledge, the units of the project's coming issuances
    /// it takes. Not given with `ranks_behind` (the pledge rests on that
    /// pledge's units).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1000")]
    pub quantity: Option<crate::amount::Units>,
    /// A future-income pledge: the pledgor's registered project whose
    /// next issuances of `instrument` are held under the pledge as they
    /// are issued.
    pub project_id: Option<String>,
    /// A future-income pledge: the share of each issuance it takes (above
    /// 0, at most 1; default 1), until `quantity` is taken.
    #[schema(example = "0.5")]
    pub share: Option<String>,
    /// A live pledge of the same units this one ranks behind; its
    /// pledgee's consent is recorded before the bank confirms.
    pub ranks_behind: Option<String>,
    /// A guarantor (a `guarantor` organisation) for a share of the loan.
    pub guarantor_organization_id: Option<String>,
    /// The guaranteed share of the loan (default `guarantee_share`, 0.5).
    #[schema(example = "0.5")]
    pub guarantee_share: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmInput {
    /// The bank (the caller is its staff).
    pub organization_id: String,
    /// The loan, fen, at most `ltv` of the collateral's value (less what
    /// earlier ranks owe on it).
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String, example = "2520000")]
    pub loan_amount: i64,
    /// The day the loan falls due (China date).
    #[schema(value_type = String, format = Date, example = "2027-12-07")]
    pub matures_on: NaiveDate,
    /// Loan-to-value ratio (default `ltv`, 0.7; at most `max_ltv`, 0.8).
    #[schema(example = "0.7")]
    pub ltv: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// The party the caller acts for (pledgor, pledgee, first pledgee or
    /// guarantor, as the route says).
    pub organization_id: String,
    /// Why: required to decline; shown to the parties.
    pub reason: Option<String>,
}

/// A pledge and whether this request changed it.
pub struct Done {
    pub pledge: pledge::Model,
    pub replayed: bool,
}

/// The first-ranked pledge whose collateral `p` shares (itself when
/// first).
pub fn root_id(p: &pledge::Model) -> &str {
    p.senior_pledge_id.as_deref().unwrap_or(&p.id)
}

/// Grams of a future-income pledge's units not issued yet (counted in its
/// collateral until they are).
pub fn expected_grams(p: &pledge::Model) -> i64 {
    if p.project_id.is_none() || p.senior_pledge_id.is_some() || !p.status.live() {
        return 0;
    }
    let (_, lot) = super::views::minor_of(&p.instrument);
    std::cmp::max(p.quantity.saturating_mul(lot) - p.captured_g, 0)
}

pub fn decimal(param: &'static str, text: &str) -> Result<Decimal, MarketError> {
    let d: Decimal = text
        .trim()
        .parse()
        .map_err(|_| MarketError::invalid(param, "a decimal share such as 0.5"))?;
    if d <= Decimal::ZERO || d > Decimal::ONE || d.scale() > 6 {
        return Err(MarketError::invalid(
            param,
            "a share above 0 and at most 1, with at most 6 decimals",
        ));
    }
    Ok(d.normalize())
}

pub fn stored_share(text: Option<&str>) -> Decimal {
    text.and_then(|t| t.parse().ok()).unwrap_or(Decimal::ONE)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<pledge::Model, MarketError> {
    pledge::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// The live pledges resting on the collateral of `root`, first rank
/// first.
pub async fn chain(
    db: &impl ConnectionTrait,
    root: &str,
) -> Result<Vec<pledge::Model>, MarketError> {
    Ok(pledge::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(pledge::Column::Id.eq(root))
                .add(pledge::Column::SeniorPledgeId.eq(root)),
        )
        .filter(pledge::Column::Status.is_in(PledgeStatus::LIVE))
        .order_by_asc(pledge::Column::Rank)
        .all(db)
        .await?)
}

/// Serialises every change to one pledgor's pledges of one instrument
/// (PostgreSQL; SQLite's write transactions are exclusive already).
pub async fn lock(txn: &DatabaseTransaction, p: &pledge::Model) -> Result<(), MarketError> {
    crate::db::lock_named(
        txn,
        &format!("pledges:{}:{}", p.pledgor_organization_id, p.instrument),
    )
    .await?;
    Ok(())
}

/// Re-reads the pledge under its lock and bumps its version: the first
/// write of every change.
pub async fn locked(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
) -> Result<pledge::Model, MarketError> {
    lock(txn, p).await?;
    pledge::Entity::update_many()
        .col_expr(
            pledge::Column::Version,
            Expr::col(pledge::Column::Version).add(1),
        )
        .filter(pledge::Column::Id.eq(p.id.as_str()))
        .exec(txn)
        .await?;
    find(txn, &p.id).await
}

pub fn not_open(p: &pledge::Model, wanted: &str) -> MarketError {
    MarketError::Conflict(
        ProblemCode::PledgeNotOpen,
        format!("the pledge is {}; {wanted}", p.status.as_str()),
    )
}

/// Which party of a pledge the caller answers for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Party {
    Pledgor,
    Pledgee,
    Guarantor,
}

/// The pledge `id` when the caller acts for `org_id` and it is that party
/// of it; otherwise the pledge looks absent.
pub async fn for_party(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    org_id: &str,
    party: Party,
) -> Result<(pledge::Model, Participant), MarketError> {
    let me = participants::acting_for_cash(db, who, "organization_id", org_id).await?;
    let p = find(db, id).await?;
    let theirs = match party {
        Party::Pledgor => Some(&p.pledgor_organization_id),
        Party::Pledgee => Some(&p.pledgee_organization_id),
        Party::Guarantor => p.guarantor_organization_id.as_ref(),
    };
    if theirs != Some(&me.org.id) {
        return Err(MarketError::NotFound);
    }
    Ok((p, me))
}

/// The caller's party to pledge `id` through any organisation it acts
/// for (for reading it); `None` when it is none of them.
pub fn party_of(who: &Principal, p: &pledge::Model) -> Option<Party> {
    if who.acts_for(&p.pledgor_organization_id) {
        Some(Party::Pledgor)
    } else if who.acts_for(&p.pledgee_organization_id) {
        Some(Party::Pledgee)
    } else if p
        .guarantor_organization_id
        .as_deref()
        .is_some_and(|g| who.acts_for(g))
    {
        Some(Party::Guarantor)
    } else {
        None
    }
}

/// Whether the caller may read pledge `p`: a party, or staff of the
/// first bank of the units it ranks behind (who consents to it).
pub async fn may_read(
    db: &impl ConnectionTrait,
    who: &Principal,
    p: &pledge::Model,
) -> Result<bool, MarketError> {
    if party_of(who, p).is_some() {
        return Ok(true);
    }
    let Some(root) = &p.senior_pledge_id else {
        return Ok(false);
    };
    Ok(find(db, root)
        .await
        .is_ok_and(|first| who.acts_for(&first.pledgee_organization_id)))
}

async fn org_of_kind(
    db: &impl ConnectionTrait,
    param: &'static str,
    id: &str,
    kind: OrgKind,
    what: &str,
) -> Result<organization::Model, MarketError> {
    organization::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .filter(|o| o.kind == kind && o.status == Status::Approved)
        .ok_or_else(|| MarketError::unknown(param, format!("{id} is not an approved {what}")))
}

fn request_hash(
    i: &PledgeInput,
    code: &str,
    lots: Option<i64>,
    share: Option<Decimal>,
    g: Option<Decimal>,
) -> String {
    let body = serde_json::json!([
        i.pledgee_organization_id,
        code,
        lots,
        i.project_id,
        share.map(|s| s.to_string()),
        i.ranks_behind,
        i.guarantor_organization_id,
        g.map(|s| s.to_string()),
    ]);
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

async fn by_client_id(
    db: &impl ConnectionTrait,
    org_id: &str,
    client_id: &str,
) -> Result<Option<pledge::Model>, MarketError> {
    Ok(pledge::Entity::find()
        .filter(pledge::Column::PledgorOrganizationId.eq(org_id))
        .filter(pledge::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

fn replay(first: pledge::Model, hash: &str) -> Result<Done, MarketError> {
    if first.request_hash != hash {
        return Err(MarketError::Conflict(
            ProblemCode::IdReused,
            format!(
                "client_id {} was used before for a different pledge",
                first.client_id
            ),
        ));
    }
    Ok(Done {
        pledge: first,
        replayed: true,
    })
}

/// The pledgor applies. Nothing is held until the bank confirms; units
/// the pledgor does not have free now are refused at once (naming the
/// pledges that hold them).
pub async fn apply(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    input: &PledgeInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let instrument = code.to_string();
    let client_id = crate::text::clean(
        &input.client_id,
        crate::text::CODE_MAX,
        crate::text::Shape::Line,
    )
    .map_err(|e| MarketError::invalid("client_id", e.to_string()))?;
    let share = input
        .share
        .as_deref()
        .map(|s| decimal("share", s))
        .transpose()?;
    if share.is_some() && input.project_id.is_none() {
        return Err(MarketError::invalid(
            "share",
            "a share is of a project's issuances: give project_id",
        ));
    }
    let guarantee_share = match (&input.guarantor_organization_id, &input.guarantee_share) {
        (None, Some(_)) => {
            return Err(MarketError::invalid(
                "guarantee_share",
                "a guaranteed share needs guarantor_organization_id",
            ))
        }
        (None, None) => None,
        (Some(_), s) => Some(match s {
            Some(s) => decimal("guarantee_share", s)?,
            None => rules.guarantee_share,
        }),
    };
    let quantity = match (input.quantity, &input.ranks_behind) {
        (Some(_), Some(_)) => {
            return Err(MarketError::invalid(
                "quantity",
                "a pledge behind another rests on its units: give no quantity",
            ))
        }
        (None, None) => return Err(MarketError::invalid("quantity", "how many units")),
        (Some(q), None) => Some(crate::market::orders::lots(
            money::Step::of(code.class),
            "quantity",
            q,
        )?),
        (None, Some(_)) => None,
    };
    if input.project_id.is_some() && input.ranks_behind.is_some() {
        return Err(MarketError::invalid(
            "project_id",
            "a future-income pledge is first on the issuances it takes",
        ));
    }
    let me = participants::acting_for(db, who, "organization_id", &input.organization_id).await?;
    let hash = request_hash(input, &instrument, quantity, share, guarantee_share);
    if let Some(first) = by_client_id(db, &me.org.id, &client_id).await? {
        return replay(first, &hash);
    }
    let bank = participants::bank(
        db,
        "pledgee_organization_id",
        &input.pledgee_organization_id,
    )
    .await?;
    if let Some(g) = &input.guarantor_organization_id {
        org_of_kind(
            db,
            "guarantor_organization_id",
            g,
            OrgKind::Guarantor,
            "guarantor",
        )
        .await?;
    }
    let (minor, lot) = super::views::minor_of(&instrument);
    let (senior, rank, quantity) = match &input.ranks_behind {
        Some(s) => {
            let s = find(db, s)
                .await
                .map_err(|_| MarketError::unknown("ranks_behind", "no such pledge"))?;
            if s.pledgor_organization_id != me.org.id
                || s.instrument != instrument
                || !matches!(s.status, PledgeStatus::Active | PledgeStatus::MarginCall)
            {
                return Err(MarketError::unknown(
                    "ranks_behind",
                    "not a live pledge of yours of this instrument",
                ));
            }
            let root = root_id(&s).to_string();
            // A future-income pledge's claim on issuances is its own: a
            // later rank could not follow it when the first is repaid.
            if find(db, &root).await?.project_id.is_some() {
                return Err(MarketError::invalid(
                    "ranks_behind",
                    "a pledge of a project's future issuance takes no pledge behind it",
                ));
            }
            let chain = chain(db, &root).await?;
            let last = chain.iter().map(|p| p.rank).max().unwrap_or(1);
            let first = chain.first().ok_or(MarketError::NotFound)?;
            let held =
                collateral::grams(&collateral::lots_of(db, &root).await?) + expected_grams(first);
            (Some(root), last + 1, held / lot)
        }
        None => {
            let q = quantity.unwrap_or(0);
            if let Some(project) = &input.project_id {
                future_project(db, project, &me.org.id, &code).await?;
            } else {
                free_units(db, &me, &instrument, q * lot, minor).await?;
            }
            (None, 1, q)
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    let row = pledge::ActiveModel {
        id: Set(id.clone()),
        status: Set(PledgeStatus::Applied),
        pledgor_organization_id: Set(me.org.id.clone()),
        pledgee_organization_id: Set(bank.id.clone()),
        client_id: Set(client_id.clone()),
        request_hash: Set(hash.clone()),
        instrument: Set(instrument),
        quantity: Set(quantity),
        project_id: Set(input.project_id.clone()),
        share: Set(input
            .project_id
            .as_ref()
            .map(|_| share.unwrap_or(Decimal::ONE).to_string())),
        captured_g: Set(0),
        senior_pledge_id: Set(senior),
        rank: Set(rank),
        consented_by: Set(None),
        consented_at: Set(None),
        ltv: Set(None),
        loan_amount: Set(None),
        outstanding: Set(0),
        matures_on: Set(None),
        released_units: Set(0),
        last_price: Set(None),
        last_valued_on: Set(None),
        call_deadline: Set(None),
        guarantor_organization_id: Set(input.guarantor_organization_id.clone()),
        guarantee_share: Set(guarantee_share.map(|s| s.to_string())),
        guarantee_status: Set(input
            .guarantor_organization_id
            .as_ref()
            .map(|_| GuaranteeStatus::Proposed)),
        guarantee_held: Set(0),
        guarantor_paid: Set(0),
        enforcement_method: Set(None),
        enforcement_id: Set(None),
        proceeds: Set(None),
        shortfall: Set(None),
        terms_salt: Set(hex::encode(crate::crypto::random::<16>())),
        version: Set(0),
        reason: Set(None),
        requested_by: Set(who.user_id.to_string()),
        decided_by: Set(None),
        created_at: Set(now),
        decided_at: Set(None),
        ended_at: Set(None),
    };
    let txn = crate::db::begin_write(db).await?;
    let inserted = pledge::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                pledge::Column::PledgorOrganizationId,
                pledge::Column::ClientId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        let first = by_client_id(db, &me.org.id, &client_id)
            .await?
            .ok_or(MarketError::NotFound)?;
        return replay(first, &hash);
    }
    let p = find(&txn, &id).await?;
    record(&txn, &p, EventKind::Applied, None, who, now).await?;
    log(&txn, "finance.pledge_applied", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// The project a future-income pledge takes the issuances of: the
/// pledgor's, approved, and of the instrument's class.
async fn future_project(
    db: &impl ConnectionTrait,
    project_id: &str,
    org_id: &str,
    code: &Code,
) -> Result<(), MarketError> {
    let p = crate::registry::entity::project::Entity::find_by_id(project_id.to_string())
        .one(db)
        .await?
        .filter(|p| p.organization_id == org_id)
        .ok_or_else(|| MarketError::unknown("project_id", "not a project of the pledgor"))?;
    if p.status != crate::registry::projects::status::APPROVED {
        return Err(MarketError::invalid(
            "project_id",
            format!(
                "the project is {}; only registered projects issue",
                p.status
            ),
        ));
    }
    if crate::instruments::Class::of_batch("project", Some(&p.kind)) != code.class {
        return Err(MarketError::invalid(
            "instrument",
            format!("the project's issuances are not {}", code),
        ));
    }
    Ok(())
}

/// Refuses an application for more units than the pledgor has free,
/// naming the pledges that hold the rest.
async fn free_units(
    db: &impl ConnectionTrait,
    me: &Participant,
    instrument: &str,
    grams: i64,
    minor: i64,
) -> Result<(), MarketError> {
    let free: i64 = crate::market::holds::available_lots(db, &me.account.id, instrument)
        .await?
        .iter()
        .map(|(_, g)| g)
        .sum();
    if free >= grams {
        return Ok(());
    }
    let short = MarketError::Conflict(
        ProblemCode::InsufficientUnits,
        format!(
            "you have {} units of {instrument} free to pledge",
            super::views::units(free, minor)
        ),
    );
    Err(super::encumbrance::short_of_units(db, short, &me.account.id, instrument, grams).await)
}

/// The first pledgee's staff consent to a pledge ranking behind theirs.
pub async fn consent(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &PartyInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let me =
        participants::acting_for_cash(db, who, "organization_id", &input.organization_id).await?;
    let p = find(db, id).await?;
    let Some(root) = p.senior_pledge_id.clone() else {
        return Err(MarketError::NotFound);
    };
    let first = find(db, &root).await?;
    if first.pledgee_organization_id != me.org.id {
        return Err(MarketError::NotFound);
    }
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    if p.consented_by.is_some() {
        return Ok(Done {
            pledge: p,
            replayed: true,
        });
    }
    if p.status != PledgeStatus::Applied {
        return Err(not_open(&p, "consent is given before the bank confirms"));
    }
    pledge::Entity::update_many()
        .col_expr(
            pledge::Column::ConsentedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(pledge::Column::ConsentedAt, Expr::value(now))
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = find(&txn, id).await?;
    record(&txn, &p, EventKind::Consented, None, who, now).await?;
    log(&txn, "finance.pledge_consented", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// The bank confirms: the loan is checked against the collateral's value
/// and the units are held under the pledge.
pub async fn confirm(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &FinanceRules,
    id: &str,
    input: &ConfirmInput,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let (p, _bank) = for_party(db, who, id, &input.organization_id, Party::Pledgee).await?;
    let ltv = match &input.ltv {
        Some(t) => decimal("ltv", t)?,
        None => rules.ltv,
    };
    if ltv > rules.max_ltv {
        return Err(MarketError::invalid(
            "ltv",
            format!("at most {} of the value", rules.max_ltv.normalize()),
        ));
    }
    if !(1..=money::MAX_VALUE_FEN).contains(&input.loan_amount) {
        return Err(MarketError::invalid(
            "loan_amount",
            format!("fen, 1 to {}", money::MAX_VALUE_FEN),
        ));
    }
    let today = crate::clock::china_date(now);
    let last = today + chrono::Duration::days(i64::from(rules.max_term_days));
    if input.matures_on <= today || input.matures_on > last {
        return Err(MarketError::invalid(
            "matures_on",
            format!(
                "a day after today and at most {} days on",
                rules.max_term_days
            ),
        ));
    }
    if let Some(until) = crate::rights::expiry::valid_until_of(db, &p.instrument).await? {
        // Collateral that lapses before the loan is repaid is no collateral.
        if input.matures_on.format("%Y-%m-%d").to_string() > until {
            return Err(MarketError::invalid(
                "matures_on",
                format!(
                    "{} is valid until {until}: the loan matures by then",
                    p.instrument
                ),
            ));
        }
    }
    let code = listing::parse_code("instrument", &p.instrument)?;
    let (minor, lot) = super::views::minor_of(&p.instrument);
    let pledgor = organization::Entity::find_by_id(p.pledgor_organization_id.clone())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let account = participants::account_of(db, &pledgor.id).await?;
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    if p.status != PledgeStatus::Applied {
        return settled_meanwhile(
            p,
            PledgeStatus::LIVE.as_slice(),
            "the bank confirms an application",
        );
    }
    let price = valuation::price_now(&txn, &p.instrument, &pledgor, today)
        .await?
        .ok_or_else(|| {
            MarketError::Conflict(
                ProblemCode::NoGuidancePrice,
                format!(
                    "{} has neither a guidance price in force nor a close to value it by",
                    p.instrument
                ),
            )
        })?;
    let (grams, senior, rank) = match &p.senior_pledge_id {
        None => (p.quantity.saturating_mul(lot), 0, 1),
        Some(root) => {
            if p.consented_by.is_none() {
                return Err(MarketError::Conflict(
                    ProblemCode::LienConsentRequired,
                    format!(
                        "the units are pledged under {root}: its pledgee consents before a pledge ranking behind it is confirmed"
                    ),
                ));
            }
            let chain = chain(&txn, root).await?;
            let first = chain
                .first()
                .ok_or_else(|| not_open(&p, "the pledge it ranks behind has ended: apply again"))?;
            let held =
                collateral::grams(&collateral::lots_of(&txn, root).await?) + expected_grams(first);
            // Ranked now, behind every pledge confirmed on these units
            // (another application may have been confirmed since this one
            // was made, and earlier ranks may have ended).
            let last = chain.iter().map(|c| c.rank).max().unwrap_or(1);
            (held, chain.iter().map(|c| c.outstanding).sum(), last + 1)
        }
    };
    let value = terms::value(grams, price, minor);
    let most = terms::max_loan(value, ltv, senior);
    if input.loan_amount > most {
        return Err(MarketError::Conflict(
            ProblemCode::LoanOverLtv,
            format!(
                "the collateral is worth {} yuan at {} yuan a unit; at a ratio of {} the loan is at most {} yuan{}",
                money::yuan(value),
                money::yuan(price),
                ltv.normalize(),
                money::yuan(most),
                if senior > 0 {
                    format!(" after the {} yuan owed to earlier ranks", money::yuan(senior))
                } else {
                    String::new()
                }
            ),
        ));
    }
    if p.senior_pledge_id.is_none() && p.project_id.is_none() {
        collateral::hold_units(&txn, &account, &code, p.quantity, &p.id, "lot", now).await?;
    }
    pledge::Entity::update_many()
        .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Active))
        .col_expr(pledge::Column::Rank, Expr::value(rank))
        .col_expr(
            pledge::Column::Ltv,
            Expr::value(ltv.normalize().to_string()),
        )
        .col_expr(pledge::Column::LoanAmount, Expr::value(input.loan_amount))
        .col_expr(pledge::Column::Outstanding, Expr::value(input.loan_amount))
        .col_expr(
            pledge::Column::MaturesOn,
            Expr::value(input.matures_on.format("%Y-%m-%d").to_string()),
        )
        .col_expr(pledge::Column::LastPrice, Expr::value(price))
        .col_expr(
            pledge::Column::DecidedBy,
            Expr::value(who.user_id.to_string()),
        )
        .col_expr(pledge::Column::DecidedAt, Expr::value(now))
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = find(&txn, id).await?;
    record(
        &txn,
        &p,
        EventKind::Confirmed,
        Some((Some(input.loan_amount), None)),
        who,
        now,
    )
    .await?;
    log(&txn, "finance.pledge_confirmed", &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// After losing a race or on a repeat: the pledge as it is, answered as a
/// replay when it is in one of `outcomes`.
pub fn settled_meanwhile(
    p: pledge::Model,
    outcomes: &[PledgeStatus],
    wanted: &str,
) -> Result<Done, MarketError> {
    if outcomes.contains(&p.status) {
        Ok(Done {
            pledge: p,
            replayed: true,
        })
    } else {
        Err(not_open(&p, wanted))
    }
}

/// The bank declines (with a reason) or the pledgor withdraws an
/// application.
pub async fn refuse(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &PartyInput,
    party: Party,
    now: DateTime<FixedOffset>,
) -> Result<Done, MarketError> {
    let reason = crate::text::clean_optional(
        input.reason.as_deref(),
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    if party == Party::Pledgee && reason.is_none() {
        return Err(MarketError::invalid(
            "reason",
            "say why the pledge is declined: the pledgor sees it",
        ));
    }
    let (p, _) = for_party(db, who, id, &input.organization_id, party).await?;
    let (to, kind, log_kind) = match party {
        Party::Pledgee => (
            PledgeStatus::Declined,
            EventKind::Declined,
            "finance.pledge_declined",
        ),
        _ => (
            PledgeStatus::Withdrawn,
            EventKind::Withdrawn,
            "finance.pledge_withdrawn",
        ),
    };
    let txn = crate::db::begin_write(db).await?;
    let p = locked(&txn, &p).await?;
    if p.status != PledgeStatus::Applied {
        return settled_meanwhile(p, &[to], "only an application not yet confirmed ends so");
    }
    pledge::Entity::update_many()
        .col_expr(pledge::Column::Status, Expr::value(to))
        .col_expr(pledge::Column::Reason, Expr::value(reason))
        .col_expr(pledge::Column::EndedAt, Expr::value(now))
        .filter(pledge::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let p = find(&txn, id).await?;
    record(&txn, &p, kind, None, who, now).await?;
    log(&txn, log_kind, &p, now).await?;
    txn.commit().await?;
    Ok(Done {
        pledge: p,
        replayed: false,
    })
}

/// A row of the pledge's history (its parties see them).
pub async fn record(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
    kind: EventKind,
    amounts: Option<(Option<i64>, Option<i64>)>,
    who: &Principal,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    record_as(
        txn,
        p,
        kind,
        None,
        amounts,
        Some(who.user_id.to_string()),
        None,
        now,
    )
    .await?;
    Ok(())
}

/// A row of the pledge's history with the caller's `reference`; `false`
/// when the pledge has an event of that kind and reference already.
#[allow(clippy::too_many_arguments)]
pub async fn record_as(
    txn: &DatabaseTransaction,
    p: &pledge::Model,
    kind: EventKind,
    reference: Option<&str>,
    amounts: Option<(Option<i64>, Option<i64>)>,
    by: Option<String>,
    detail: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let (amount, units) = amounts.unwrap_or((None, None));
    let inserted = event::Entity::insert(event::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        pledge_id: Set(p.id.clone()),
        kind: Set(kind),
        reference: Set(reference.map(str::to_string)),
        amount: Set(amount),
        units: Set(units),
        detail: Set(detail),
        recorded_by: Set(by),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            event::Column::PledgeId,
            event::Column::Kind,
            event::Column::Reference,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(inserted == 1)
}

/// The pledge's event in the public log: the parties, the units and the
/// dates in clear; the loan's amounts only as commitments under a salt
/// the server keeps (the parties see them in the API).
pub async fn log(
    txn: &DatabaseTransaction,
    kind: &str,
    p: &pledge::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let salt = crate::audit::log::Salt::fresh();
    let commit = |v: Option<i64>| v.map(|v| salt.commit(&format!("{}:{v}", p.terms_salt)));
    crate::audit::log::append(
        txn,
        kind,
        serde_json::json!({
            "pledge": p.id,
            "status": p.status,
            "pledgor": p.pledgor_organization_id,
            "pledgee": p.pledgee_organization_id,
            "instrument": p.instrument,
            "quantity": money::Step::of_code(&p.instrument).show(p.quantity),
            "project": p.project_id,
            "share": p.share,
            "rank": p.rank,
            "ranks_behind": p.senior_pledge_id,
            "guarantor": p.guarantor_organization_id,
            "matures_on": p.matures_on,
            "loan": commit(p.loan_amount),
            "outstanding": commit(Some(p.outstanding)),
            "enforcement": p.enforcement_method,
        }),
        Some(&salt),
        now,
    )
    .await?;
    Ok(())
}
