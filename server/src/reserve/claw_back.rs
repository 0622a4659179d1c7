//! Claw-back (无偿收回): government staff order rights allocated to a
//! closed, bankrupt or relocated enterprise returned to the reserve
//! without payment, in one ledger transaction. It applies to allocated
//! rights only ([`Class::allocated`](crate::instruments::Class::allocated));
//! issued carbon credits and indicators are refused, whoever holds them.
//! It is the one way unconverted units leave their holder.

use chrono::{DateTime, FixedOffset};
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::entity::{operation, OperationKind, OperationStatus};
use super::lots::{self, Holder};
use super::offers::reserve_platform;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::finance::views::units;
use crate::ledger::{self, Command, Draw, Request};
use crate::market::error::MarketError;
use crate::market::{listing, money, participants};
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;
use crate::rights::allocation::take_unconverted;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClawBackInput {
    /// The enterprise whose rights return.
    pub organization_id: String,
    /// The reserve platform that receives them.
    pub reserve_organization_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// Units, a whole number of the instrument's steps.
    #[schema(value_type = String, example = "1000")]
    pub quantity: crate::amount::Units,
    /// Why (closure, bankruptcy, relocation), for the record.
    pub reason: String,
    /// SHA-256 of the decision document, 64 hex digits.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub document_sha256: String,
}

/// What a claw-back returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClawBackView {
    /// The reserve operation that records it (kind `claw_back`), public
    /// with the platform's other operations.
    pub operation_id: String,
    pub organization_id: String,
    pub reserve_organization_id: String,
    pub instrument: String,
    /// Units returned (decimal text).
    #[schema(example = "1000")]
    pub quantity: String,
    /// Of them, units that were still unconverted (taken first).
    #[schema(example = "800")]
    pub unconverted: String,
    pub reason: String,
}

/// Returns `quantity` units of an allocated class from the enterprise to
/// the reserve platform: first what its free allocations still hold
/// unconverted (oldest allocation first), then its available units.
/// Units pledged are refused with the pledge named; carbon credits are
/// never clawed back.
pub async fn order(
    db: &DatabaseConnection,
    who: &Principal,
    input: &ClawBackInput,
    now: DateTime<FixedOffset>,
) -> Result<ClawBackView, MarketError> {
    if !(who.is_admin() || who.has_role(Role::Government)) {
        return Err(MarketError::Forbidden(
            "only government staff order a claw-back",
        ));
    }
    let code = listing::parse_code("instrument", &input.instrument)?;
    let step = money::Step::of(code.class);
    let quantity = crate::market::orders::lots(step, "quantity", input.quantity)?;
    let reason = crate::text::clean(
        &input.reason,
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    let hash = &input.document_sha256;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MarketError::invalid(
            "document_sha256",
            "the SHA-256 of the decision document, 64 hex digits",
        ));
    }
    // A closed or bankrupt enterprise need not be approved any more.
    let org = organization::Entity::find_by_id(input.organization_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| MarketError::unknown("organization_id", "no such organisation"))?;
    let reserve = reserve_platform(
        db,
        "reserve_organization_id",
        &input.reserve_organization_id,
    )
    .await?;
    if !code.class.allocated() {
        return Err(MarketError::Conflict(
            ProblemCode::ClawBackNotApplicable,
            format!(
                "{code} is not allocated: carbon credits and indicators made from verified activity are never clawed back; claw-back returns allocated rights"
            ),
        ));
    }
    if org.id == reserve.org.id {
        return Err(MarketError::invalid(
            "organization_id",
            "the reserve platform does not claw back from itself",
        ));
    }
    let holder = participants::account_of(db, &org.id).await?;
    let instrument = code.to_string();
    let minor = step.minor_per_lot(code.class.unit().1);
    let grams = money::to_minor(quantity, minor)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    let taken =
        take_unconverted(&txn, &org.id, &instrument, grams, &reserve.account.id, now).await?;
    let unconverted: i64 = taken.iter().map(|(d, _)| d.amount).sum();
    let mut draws: Vec<Draw> = taken.into_iter().map(|(d, _)| d).collect();
    let left = grams - unconverted;
    if left > 0 {
        let holder_view = Holder {
            account: &holder,
            who: "the enterprise",
            t_plus_one: None,
        };
        let lots = lots::hold(
            &txn,
            &holder_view,
            &code,
            left / minor,
            &format!("claw-back:{id}"),
            now,
        )
        .await
        .map_err(|e| match e {
            MarketError::Conflict(ProblemCode::InsufficientUnits, _) => MarketError::Conflict(
                ProblemCode::InsufficientUnits,
                format!(
                    "{} holds fewer than {} units of {instrument} that may be clawed back",
                    org.name,
                    step.show(quantity)
                ),
            ),
            other => other,
        })?;
        draws.extend(lots::deliver(&lots, &reserve.account.id));
    }
    ledger::apply_within(
        &txn,
        &Request {
            id: format!("claw-back:{id}"),
            memo: Some(format!(
                "claw-back of {} units of {instrument}",
                step.show(quantity)
            )),
            command: Command::Settle { draws },
        },
        &[&holder, &reserve.account],
        now,
    )
    .await?;
    let hash = hash.to_ascii_lowercase();
    operation::Entity::insert(operation::ActiveModel {
        id: Set(id.clone()),
        kind: Set(OperationKind::ClawBack),
        status: Set(OperationStatus::Accepted),
        reserve_organization_id: Set(reserve.org.id.clone()),
        organization_id: Set(org.id.clone()),
        // Ordered, not offered: the order's own id and document stand in
        // for a holder's client id and request.
        client_id: Set(format!("claw-back:{id}")),
        request_hash: Set(hash.clone()),
        instrument: Set(instrument.clone()),
        quantity: Set(quantity),
        price: Set(0),
        value: Set(0),
        lots: Set("[]".into()),
        reason: Set(Some(reason.clone())),
        requested_by: Set(who.user_id.to_string()),
        decided_by: Set(Some(who.user_id.to_string())),
        created_at: Set(now),
        decided_at: Set(Some(now)),
        ended_at: Set(Some(now)),
        // No swap, lease, fee, pledge or settlement terms: left empty.
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    crate::audit::log::append(
        &txn,
        "reserve.clawed_back",
        serde_json::json!({
            "claw_back": id,
            "organization": org.id,
            "reserve": reserve.org.id,
            "instrument": instrument,
            "quantity": step.show(quantity),
            "unconverted": units(unconverted, code.class.unit().1),
            "reason": reason,
            "document_sha256": hash,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(ClawBackView {
        operation_id: id,
        organization_id: org.id,
        reserve_organization_id: reserve.org.id,
        instrument,
        quantity: step.show(quantity),
        unconverted: units(unconverted, code.class.unit().1),
        reason,
    })
}
