//! Moving credits: transfers between holders, retirements (final, each
//! taking the next unused serial sub-range of its batch) and the
//! cancellation of buffer-pool units when a forest sink is reversed.
//!
//! Retired and cancelled units go to sink accounts nothing ever moves out
//! of, so for every batch: issued = Σ holdings + retired + cancelled
//! (invariant 1), with the batch row's counters telling the same story.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::aggregation::AGGREGATOR;
use super::entity::{batch, retirement, reversal};
use super::error::{clean_text, RegistryError};
use super::issuance::{self, asset, serial, BUFFER_POOL, CANCELLED, RETIRED};
use super::projects::{status as project_status, ProjectKind};
use super::rules::RegistryRules;
use crate::accounts::entity::{self as account, AccountKind};
use crate::accounts::service as accounts;
use crate::audit::log::append;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::ledger::{self, entity::balance, Command, LedgerError, Outcome, Posting, Request};
use crate::orgs::entity::organization;
use crate::problem::ProblemCode;
use crate::text::{Shape, NAME_MAX, REASON_MAX};

/// The role by which `who` may move the account's credits: the staff role
/// of the account's organisation, or (the aggregator's personal credits)
/// the service centre's.
async fn staff_of(
    db: &impl ConnectionTrait,
    who: &Principal,
    account: &account::Model,
) -> Result<Option<Role>, RegistryError> {
    if account.code.as_deref() == Some(AGGREGATOR) {
        return Ok(who.has_role(Role::Verifier).then_some(Role::Verifier));
    }
    let Some(org_id) = &account.organization_id else {
        return Ok(None);
    };
    let Some(org) = organization::Entity::find_by_id(org_id.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let role = org.kind.staff_role();
    Ok(who.has_role_in(role, org_id).then_some(role))
}

/// Accounts that hold credits for someone: enterprises', governments'.
fn holder_kind(a: &account::Model) -> bool {
    matches!(a.kind, AccountKind::Enterprise | AccountKind::Government)
}

/// Accounts whose credits may be sent or retired: holders, and the
/// aggregator of personal reductions.
fn sender_kind(a: &account::Model) -> bool {
    holder_kind(a) || a.code.as_deref() == Some(AGGREGATOR)
}

/// The batch must exist (a bad id is the caller's mistake, not a 404 of
/// the route).
async fn known_batch(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<super::entity::batch::Model, RegistryError> {
    match issuance::find(db, id).await {
        Ok(b) => Ok(b),
        Err(RegistryError::NotFound) => Err(RegistryError::invalid("batch_id", "no such batch")),
        Err(e) => Err(e),
    }
}

fn check_quantity(q: i64) -> Result<(), RegistryError> {
    if !(1..=ledger::service::MAX_AMOUNT).contains(&q) {
        return Err(RegistryError::invalid(
            "quantity_g",
            "must be 1 to 10^15 grams",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// A UUID the client chooses: sending the same transfer again answers
    /// the first outcome and moves nothing.
    #[schema(value_type = String)]
    pub transfer_id: uuid::Uuid,
    pub from_account_id: String,
    pub to_account_id: String,
    pub batch_id: String,
    /// Serial units, an integer string: grams of CO2e, or the ledger minor
    /// unit of a batch of rights (g, L, kgce, 1/10,000 mu).
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub quantity_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    pub transfer_id: String,
    pub batch_id: String,
    pub from_account_id: String,
    pub to_account_id: String,
    pub quantity_g: String,
    /// The request had been applied before; nothing moved now.
    pub replayed: bool,
}

/// Moves credits between two holders (enterprise or government accounts).
/// The sender's staff may; one transfer moves at most `max_transfer_g`
/// except for the reserve platform.
pub async fn transfer(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RegistryRules,
    input: &TransferInput,
    now: DateTime<FixedOffset>,
) -> Result<TransferView, RegistryError> {
    check_quantity(input.quantity_g)?;
    let unusable = || RegistryError::unusable_account("from_account_id", &input.from_account_id);
    let from = accounts::find(db, &input.from_account_id)
        .await?
        .ok_or_else(unusable)?;
    let role = staff_of(db, who, &from).await?;
    if role.is_none() || !sender_kind(&from) {
        return Err(unusable());
    }
    if role != Some(Role::Reserve) && input.quantity_g > rules.max_transfer_g {
        return Err(RegistryError::invalid(
            "quantity_g",
            format!("one transfer moves at most {} g", rules.max_transfer_g),
        ));
    }
    let to = accounts::find(db, &input.to_account_id)
        .await?
        .filter(holder_kind)
        .ok_or_else(|| {
            RegistryError::invalid(
                "to_account_id",
                "must be an enterprise or government account",
            )
        })?;
    if to.id == from.id {
        return Err(RegistryError::invalid(
            "to_account_id",
            "must differ from the sender",
        ));
    }
    if known_batch(db, &input.batch_id).await?.kind == issuance::ALLOCATION {
        crate::rights::expiry::refuse_lapsed(db, &input.batch_id, now).await?;
    }
    let credits = asset(&input.batch_id);
    let outcome: Result<Outcome, LedgerError> = ledger::apply(
        db,
        &Request {
            id: format!("transfer:{}", input.transfer_id.hyphenated()),
            memo: None,
            command: Command::Transfer {
                postings: vec![
                    Posting {
                        account_id: from.id.clone(),
                        asset: credits.clone(),
                        amount: -input.quantity_g,
                    },
                    Posting {
                        account_id: to.id.clone(),
                        asset: credits,
                        amount: input.quantity_g,
                    },
                ],
            },
        },
        now,
    )
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return Err(if_pledged(db, e, &from.id, &input.batch_id, input.quantity_g).await),
    };
    Ok(TransferView {
        transfer_id: input.transfer_id.hyphenated().to_string(),
        batch_id: input.batch_id.clone(),
        from_account_id: from.id,
        to_account_id: to.id,
        quantity_g: input.quantity_g.to_string(),
        replayed: outcome.replayed,
    })
}

/// A ledger refusal of a move of `grams` of a batch: `units_pledged`
/// naming the pledges when pledged units would have covered it.
async fn if_pledged(
    db: &impl sea_orm::ConnectionTrait,
    e: LedgerError,
    account_id: &str,
    batch_id: &str,
    grams: i64,
) -> RegistryError {
    if !matches!(e, LedgerError::Insufficient { .. }) {
        return e.into();
    }
    let named = crate::finance::encumbrance::short_of_units(
        db,
        crate::market::error::MarketError::Ledger(e),
        account_id,
        batch_id,
        grams,
    )
    .await;
    match named {
        crate::market::error::MarketError::Ledger(e) => e.into(),
        other => other.into(),
    }
}

/// Takes the next `quantity` unused serials of the batch, or `None` when
/// fewer are left. The update is the batch's row lock, so concurrent
/// retirements of one batch get disjoint ranges.
pub(crate) async fn take_serials(
    txn: &DatabaseTransaction,
    batch_id: &str,
    quantity: i64,
    column: batch::Column,
) -> Result<Option<(i64, i64)>, RegistryError> {
    let rows = batch::Entity::update_many()
        .col_expr(
            batch::Column::NextSerial,
            Expr::col(batch::Column::NextSerial).add(quantity),
        )
        .col_expr(column, Expr::col(column).add(quantity))
        .filter(batch::Column::Id.eq(batch_id))
        .filter(
            Expr::col(batch::Column::NextSerial)
                .add(quantity - 1)
                .lte(Expr::col(batch::Column::QuantityG)),
        )
        .exec_with_returning(txn)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|b| (b.next_serial - quantity, b.next_serial - 1)))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireInput {
    /// A UUID the client chooses: the same retirement sent again answers
    /// the first one.
    #[schema(value_type = String)]
    pub retirement_id: uuid::Uuid,
    /// The holder whose credits are retired.
    pub account_id: String,
    pub batch_id: String,
    /// Grams CO2e, an integer string.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub quantity_g: i64,
    /// Who the retirement is for (an organisation, an event, a person's
    /// name as they wish it printed).
    pub beneficiary: String,
    /// e.g. "carbon-neutral 2026 Lanzhou marathon" or "Company X, 2026".
    pub purpose: String,
}

/// Retires credits: by the holder's staff, or by the service centre on the
/// holder's behalf. Final: the units go to the retired sink.
pub async fn retire(
    db: &DatabaseConnection,
    who: &Principal,
    input: &RetireInput,
    now: DateTime<FixedOffset>,
) -> Result<(retirement::Model, bool), RegistryError> {
    check_quantity(input.quantity_g)?;
    let input = &RetireInput {
        beneficiary: clean_text("beneficiary", &input.beneficiary, NAME_MAX, Shape::Line)?,
        purpose: clean_text("purpose", &input.purpose, REASON_MAX, Shape::Paragraph)?,
        ..input.clone()
    };
    let id = input.retirement_id.hyphenated().to_string();
    let unusable = || RegistryError::unusable_account("account_id", &input.account_id);
    let holder = accounts::find(db, &input.account_id)
        .await?
        .filter(sender_kind)
        .ok_or_else(unusable)?;
    let allowed = who.has_role(Role::Verifier) || staff_of(db, who, &holder).await?.is_some();
    if !allowed {
        return Err(unusable());
    }
    let same = |r: &retirement::Model| {
        r.account_id == input.account_id
            && r.batch_id == input.batch_id
            && r.quantity_g == input.quantity_g
            && r.beneficiary == input.beneficiary
            && r.purpose == input.purpose
    };
    if let Some(first) = retirement::Entity::find_by_id(id.clone()).one(db).await? {
        return if same(&first) {
            Ok((first, true))
        } else {
            Err(RegistryError::Conflict(
                ProblemCode::IdReused,
                "this retirement_id was used for a different retirement".into(),
            ))
        };
    }
    if known_batch(db, &input.batch_id).await?.kind == issuance::ALLOCATION {
        // A certificate counts tonnes of CO2e; rights are surrendered for
        // compliance instead.
        return Err(RegistryError::invalid(
            "batch_id",
            "a batch of environmental rights is not retired: rights are surrendered for compliance",
        ));
    }
    let sink = accounts::system(db, RETIRED, now).await?;
    let txn = crate::db::begin_write(db).await?;
    // The ledger id is the retirement's: a concurrent duplicate waits here
    // and then finds it replayed (or reused).
    let outcome = ledger::apply_within(
        &txn,
        &Request {
            id: format!("retire:{id}"),
            memo: None,
            command: Command::Transfer {
                postings: vec![
                    Posting {
                        account_id: holder.id.clone(),
                        asset: asset(&input.batch_id),
                        amount: -input.quantity_g,
                    },
                    Posting {
                        account_id: sink.id.clone(),
                        asset: asset(&input.batch_id),
                        amount: input.quantity_g,
                    },
                ],
            },
        },
        &[&holder, &sink],
        now,
    )
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return Err(if_pledged(&txn, e, &holder.id, &input.batch_id, input.quantity_g).await)
        }
    };
    if outcome.replayed {
        drop(txn);
        let first = retirement::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(RegistryError::NotFound)?;
        return Ok((first, true));
    }
    let (first, last) = take_serials(
        &txn,
        &input.batch_id,
        input.quantity_g,
        batch::Column::RetiredG,
    )
    .await?
    .ok_or_else(|| {
        RegistryError::Conflict(
            ProblemCode::InsufficientCredits,
            "the batch has fewer unused units than that".into(),
        )
    })?;
    let event = append(
        &txn,
        "registry.retirement",
        json!({
            "retirement": id,
            "batch": input.batch_id,
            "account": holder.id,
            "quantity_g": input.quantity_g,
            "serial_first": serial(&input.batch_id, first),
            "serial_last": serial(&input.batch_id, last),
            "beneficiary": input.beneficiary,
            "purpose": input.purpose,
        }),
        None,
        now,
    )
    .await?;
    let r = retirement::Entity::insert(retirement::ActiveModel {
        id: Set(id),
        batch_id: Set(input.batch_id.clone()),
        account_id: Set(holder.id.clone()),
        quantity_g: Set(input.quantity_g),
        serial_first: Set(first),
        serial_last: Set(last),
        beneficiary: Set(input.beneficiary.clone()),
        purpose: Set(input.purpose.clone()),
        retired_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        audit_event_id: Set(event),
    })
    .exec_with_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok((r, false))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalInput {
    /// Grams CO2e of sink lost (fire, felling, …), an integer string.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub loss_g: i64,
    pub cause: String,
    #[schema(value_type = String, format = Date)]
    pub occurred_on: NaiveDate,
}

/// Records a forest reversal: cancels buffer-pool units equal to the loss,
/// from the project's own batches first (oldest first), then from the rest
/// of the pool. When the pool holds less than the loss, all it holds is
/// cancelled and the shortfall is recorded (`cancelled_g < loss_g`).
pub async fn reverse(
    db: &DatabaseConnection,
    who: &Principal,
    project_id: &str,
    input: &ReversalInput,
    now: DateTime<FixedOffset>,
) -> Result<reversal::Model, RegistryError> {
    if !who.has_role(Role::Verifier) {
        return Err(RegistryError::Forbidden(
            "only the service centre records reversals",
        ));
    }
    check_quantity(input.loss_g)
        .map_err(|_| RegistryError::invalid("loss_g", "must be 1 to 10^15 grams"))?;
    let input = &ReversalInput {
        cause: clean_text("cause", &input.cause, REASON_MAX, Shape::Paragraph)?,
        ..input.clone()
    };
    let p = super::projects::find(db, project_id).await?;
    if ProjectKind::parse(&p.kind) != Some(ProjectKind::Afforestation)
        || p.status != project_status::APPROVED
    {
        return Err(RegistryError::Conflict(
            ProblemCode::NotAForestSink,
            "reversals are recorded for approved afforestation projects".into(),
        ));
    }
    super::error::check_date("occurred_on", input.occurred_on)?;
    if input.occurred_on > crate::clock::china_date(now) {
        return Err(RegistryError::invalid(
            "occurred_on",
            "must not be in the future",
        ));
    }
    let pool = accounts::system(db, BUFFER_POOL, now).await?;
    let sink = accounts::system(db, CANCELLED, now).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let txn = crate::db::begin_write(db).await?;
    // One reversal at a time, whatever its project: the pool's holdings
    // (other projects' batches too) are read, then spent. A lock of the
    // project alone let two reversals of different projects spend the same
    // units of the rest of the pool (the second failed with 409).
    crate::db::lock_named(&txn, BUFFER_POOL).await?;
    super::projects::lock(&txn, project_id).await?;
    let held = balance::Entity::find()
        .filter(balance::Column::AccountId.eq(pool.id.as_str()))
        .filter(balance::Column::Posted.gt(0))
        .all(&txn)
        .await?;
    let mut batches = batch::Entity::find()
        .filter(
            batch::Column::Id.is_in(
                held.iter()
                    .filter_map(|b| b.asset.strip_prefix("credit:").map(str::to_string)),
            ),
        )
        .order_by_asc(batch::Column::IssuedAt)
        .order_by_asc(batch::Column::Id)
        .all(&txn)
        .await?;
    // This project's batches first; the sort is stable.
    batches.sort_by_key(|b| b.project_id.as_deref() != Some(project_id));
    let mut remaining = input.loss_g;
    let mut cancelled = Vec::new();
    for b in batches {
        if remaining == 0 {
            break;
        }
        let available = held
            .iter()
            .find(|h| h.asset == asset(&b.id).as_str())
            .map(|h| h.posted - h.held)
            .unwrap_or_default();
        let take = std::cmp::min(remaining, available);
        if take <= 0 {
            continue;
        }
        ledger::apply_within(
            &txn,
            &Request {
                id: format!("reversal:{id}:{}", b.id),
                memo: None,
                command: Command::Transfer {
                    postings: vec![
                        Posting {
                            account_id: pool.id.clone(),
                            asset: asset(&b.id),
                            amount: -take,
                        },
                        Posting {
                            account_id: sink.id.clone(),
                            asset: asset(&b.id),
                            amount: take,
                        },
                    ],
                },
            },
            &[&pool, &sink],
            now,
        )
        .await?;
        let (first, last) = take_serials(&txn, &b.id, take, batch::Column::CancelledG)
            .await?
            .ok_or_else(|| {
                sea_orm::DbErr::Custom(format!("batch {} has no serials left for its buffer", b.id))
            })?;
        cancelled.push(json!({
            "batch": b.id,
            "quantity_g": take,
            "serial_first": serial(&b.id, first),
            "serial_last": serial(&b.id, last),
        }));
        remaining -= take;
    }
    let cancelled_g = input.loss_g - remaining;
    append(
        &txn,
        "registry.reversal",
        json!({
            "reversal": id,
            "project": project_id,
            "loss_g": input.loss_g,
            "cancelled_g": cancelled_g,
            "cancelled": cancelled,
            "cause": input.cause,
            "occurred_on": input.occurred_on.to_string(),
        }),
        None,
        now,
    )
    .await?;
    let r = reversal::Entity::insert(reversal::ActiveModel {
        id: Set(id),
        project_id: Set(project_id.to_string()),
        loss_g: Set(input.loss_g),
        cancelled_g: Set(cancelled_g),
        cause: Set(input.cause.clone()),
        occurred_on: Set(input.occurred_on.to_string()),
        recorded_by: Set(who.user_id.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    // Sink insurance of the project: a claim when the year's losses cross
    // a policy's trigger.
    crate::finance::claims::on_reversal(&txn, project_id, &r.id, input.occurred_on, now)
        .await
        .map_err(RegistryError::from)?;
    txn.commit().await?;
    Ok(r)
}
