//! Who takes part in the market: approved enterprises, government
//! departments, the reserve platform and the service centre (which sells
//! aggregated personal batches), acting through their staff. Persons do
//! not trade (as in the national CCER market); banks settle cash but do
//! not trade.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::error::MarketError;
use crate::accounts::entity as account;
use crate::auth::extract::Principal;
use crate::auth::roles::{grant, Role};
use crate::ids::UserId;
use crate::orgs::entity::{organization, OrgKind, Status};
use crate::problem::ProblemCode;

/// An organisation that trades, with its account.
#[derive(Debug, Clone)]
pub struct Participant {
    pub org: organization::Model,
    pub account: account::Model,
}

pub fn trades(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::Enterprise
            | OrgKind::GovernmentDepartment
            | OrgKind::ReservePlatform
            | OrgKind::ServiceCentre
    )
}

/// Kinds whose accounts hold cash without trading: banks (enforcement
/// proceeds), guarantors (guarantee payments) and insurers (premiums and
/// payouts). Every trading kind holds cash too.
pub fn holds_cash(kind: OrgKind) -> bool {
    trades(kind) || matches!(kind, OrgKind::Bank | OrgKind::Guarantor | OrgKind::Insurer)
}

async fn organization(
    db: &impl ConnectionTrait,
    param: &'static str,
    org_id: &str,
) -> Result<organization::Model, MarketError> {
    organization::Entity::find_by_id(org_id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| MarketError::unknown(param, format!("no organisation {org_id}")))
}

/// The organisation `org_id` (named by field `param`) as a participant:
/// approved and of a kind that trades.
pub async fn participant(
    db: &impl ConnectionTrait,
    param: &'static str,
    org_id: &str,
) -> Result<Participant, MarketError> {
    as_participant(db, organization(db, param, org_id).await?).await
}

async fn as_participant(
    db: &impl ConnectionTrait,
    org: organization::Model,
) -> Result<Participant, MarketError> {
    if org.status != Status::Approved || !trades(org.kind) {
        return Err(MarketError::Conflict(
            ProblemCode::NotAParticipant,
            format!("{} does not trade: it must be an approved enterprise, government department, reserve platform or service centre", org.name),
        ));
    }
    let account = account_of(db, &org.id).await?;
    Ok(Participant { org, account })
}

/// Organisations' accounts by organisation id, remembered: an
/// organisation's account is opened with it and never changes or goes
/// away, and every order would otherwise read it again. (Its
/// organisation is read every time: its status may change.)
static ACCOUNTS: std::sync::LazyLock<std::sync::Mutex<HashMap<String, account::Model>>> =
    std::sync::LazyLock::new(Default::default);

/// Entries remembered at most; past it the map starts again (a bound, not
/// a business rule).
const ACCOUNTS_REMEMBERED: usize = 100_000;

pub(crate) async fn account_of(
    db: &impl ConnectionTrait,
    org_id: &str,
) -> Result<account::Model, MarketError> {
    if let Some(a) = ACCOUNTS.lock().expect("accounts lock").get(org_id) {
        return Ok(a.clone());
    }
    let account = account::Entity::find()
        .filter(account::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("account of {org_id}")))?;
    let mut known = ACCOUNTS.lock().expect("accounts lock");
    if known.len() >= ACCOUNTS_REMEMBERED {
        known.clear();
    }
    known.insert(org_id.to_string(), account.clone());
    Ok(account)
}

/// The participant `org_id`, when `who` is its staff; otherwise the
/// organisation looks absent (404 with `param`), as objects one may not use
/// do everywhere.
pub async fn acting_for(
    db: &impl ConnectionTrait,
    who: &Principal,
    param: &'static str,
    org_id: &str,
) -> Result<Participant, MarketError> {
    let org = organization(db, param, org_id).await?;
    let staff = who.has_role_in(org.kind.staff_role(), &org.id);
    may_act(staff, param, &org)?;
    as_participant(db, org).await
}

/// The organisation `org_id` with its account, when it is approved and
/// holds cash ([`holds_cash`]) other than a bank's: whom a deposit credits
/// (a bank's own cash on the platform is only what enforcement paid it,
/// never money it created for itself).
pub async fn cash_holder(
    db: &impl ConnectionTrait,
    param: &'static str,
    org_id: &str,
) -> Result<Participant, MarketError> {
    let org = organization(db, param, org_id).await?;
    if org.kind == OrgKind::Bank {
        return Err(MarketError::Conflict(
            ProblemCode::NotAParticipant,
            format!(
                "{} is a bank: deposits credit participants, guarantors and insurers",
                org.name
            ),
        ));
    }
    with_cash(db, org).await
}

/// [`cash_holder`] `org_id`, when `who` is its staff (otherwise it looks
/// absent): who may ask for a withdrawal.
pub async fn acting_for_cash(
    db: &impl ConnectionTrait,
    who: &Principal,
    param: &'static str,
    org_id: &str,
) -> Result<Participant, MarketError> {
    let org = organization(db, param, org_id).await?;
    may_act(who.has_role_in(org.kind.staff_role(), &org.id), param, &org)?;
    with_cash(db, org).await
}

async fn with_cash(
    db: &impl ConnectionTrait,
    org: organization::Model,
) -> Result<Participant, MarketError> {
    if org.status != Status::Approved || !holds_cash(org.kind) {
        return Err(MarketError::Conflict(
            ProblemCode::NotAParticipant,
            format!(
                "{} holds no cash on the platform: it must be an approved participant, bank, guarantor or insurer",
                org.name
            ),
        ));
    }
    let account = account_of(db, &org.id).await?;
    Ok(Participant { org, account })
}

/// For a batch of requests, each (user, organisation) as [`acting_for`]
/// answers it, with one read of the organisations and one of the users'
/// grants in them, however many requests there are.
pub async fn acting_for_each(
    db: &impl ConnectionTrait,
    param: &'static str,
    asks: &[(&UserId, &str)],
) -> Result<Vec<Result<Participant, MarketError>>, MarketError> {
    if asks.is_empty() {
        return Ok(Vec::new());
    }
    let org_ids: BTreeSet<&str> = asks.iter().map(|(_, o)| *o).collect();
    let users: BTreeSet<&str> = asks.iter().map(|(u, _)| u.as_str()).collect();
    let orgs: HashMap<String, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let grants: HashSet<(String, Role, String)> = grant::Entity::find()
        .filter(grant::Column::UserId.is_in(users))
        .filter(grant::Column::OrganizationId.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|g| Some((g.user_id, g.role, g.organization_id?)))
        .collect();
    let mut answers = Vec::with_capacity(asks.len());
    for (user, org_id) in asks {
        let Some(org) = orgs.get(*org_id) else {
            answers.push(Err(MarketError::unknown(
                param,
                format!("no organisation {org_id}"),
            )));
            continue;
        };
        let staff = grants.contains(&(user.to_string(), org.kind.staff_role(), org.id.clone()));
        answers.push(match may_act(staff, param, org) {
            Ok(()) => as_participant(db, org.clone()).await,
            Err(e) => Err(e),
        });
    }
    Ok(answers)
}

/// Only an organisation's staff act for it; to anyone else it looks
/// absent.
fn may_act(staff: bool, param: &'static str, org: &organization::Model) -> Result<(), MarketError> {
    if staff {
        Ok(())
    } else {
        Err(MarketError::unknown(
            param,
            format!("{} is not an organisation you act for", org.id),
        ))
    }
}

/// The approved bank `bank_id` (named by field `param`).
pub async fn bank(
    db: &impl ConnectionTrait,
    param: &'static str,
    bank_id: &str,
) -> Result<organization::Model, MarketError> {
    let org = organization(db, param, bank_id).await?;
    if org.kind != OrgKind::Bank || org.status != Status::Approved {
        return Err(MarketError::unknown(
            param,
            format!("{bank_id} is not an approved settlement bank"),
        ));
    }
    Ok(org)
}

/// The bank `bank_id`, when `who` is its staff.
pub async fn bank_staff(
    db: &impl ConnectionTrait,
    who: &Principal,
    param: &'static str,
    bank_id: &str,
) -> Result<organization::Model, MarketError> {
    let bank = bank(db, param, bank_id).await?;
    if !who.has_role_in(Role::Bank, &bank.id) {
        return Err(MarketError::Forbidden(
            "only the settlement bank's staff record its deposits and decide its withdrawals",
        ));
    }
    Ok(bank)
}
