//! Reviewers (the service centre's `verifier` role, and administrators)
//! decide trips sent to review. Every decision is recorded with who and
//! why; an approved trip is credited as any other, within the day's limits
//! as they stand when it is approved.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};

use super::credit::{credit, lock_person, record_event, take_back, Credit, Part};
use super::entity::{review, trip};
use super::leaderboard;
use super::rules::{self, Facts, Reason, Source, TripRules, TripStatus};
use super::service::{credited_on, json_text, stored_reduction, PartnerRecord, TripError, Trips};
use crate::amount::{Grams, Points};
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::pagination::{self, Order};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("only verifiers and administrators review trips")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("this trip is not waiting for review (it is {0})")]
    AlreadyDecided(String),
    #[error(transparent)]
    Trip(#[from] TripError),
}

impl From<DbErr> for ReviewError {
    fn from(e: DbErr) -> Self {
        ReviewError::Trip(TripError::Database(e))
    }
}

fn authorise(who: &Principal) -> Result<(), ReviewError> {
    if who.is_admin() || who.has_role(Role::Verifier) {
        Ok(())
    } else {
        Err(ReviewError::Forbidden)
    }
}

/// Trips waiting for review (and credited trips held for it), oldest
/// first.
pub async fn pending(
    db: &impl ConnectionTrait,
    who: &Principal,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<trip::Model>, bool), ReviewError> {
    authorise(who)?;
    Ok(pagination::fetch(
        db,
        trip::Entity::find().filter(
            sea_orm::Condition::any()
                .add(trip::Column::Status.eq(TripStatus::PendingReview.as_str()))
                .add(trip::Column::HeldForReview.eq(true)),
        ),
        trip::Column::Id,
        Order::Ascending,
        starting_after,
        limit,
    )
    .await?)
}

/// Any trip with its review and the ids of other accounts' live trips of
/// the same journey, for a reviewer.
pub async fn get(
    db: &impl ConnectionTrait,
    who: &Principal,
    trip_id: &crate::ids::TripId,
) -> Result<(trip::Model, Option<review::Model>, Vec<String>), ReviewError> {
    authorise(who)?;
    let t = trip::Entity::find_by_id(trip_id.to_string())
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let r = review::Entity::find()
        .filter(review::Column::TripId.eq(trip_id))
        .one(db)
        .await?;
    let same = match &t.fingerprint {
        Some(f) => super::copies::same_journey_elsewhere(db, f, &t.user(), 20)
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect(),
        None => Vec::new(),
    };
    Ok((t, r, same))
}

/// A trip held for review, assessed again once its doubts are resolved (by
/// a reviewer, or by a partner's record of it as `source`): what sent it to
/// review no longer applies, the day's limits as they stand now do.
pub(super) async fn reassess(
    txn: &impl ConnectionTrait,
    rules: &TripRules,
    found: &trip::Model,
    source: Source,
) -> Result<rules::Assessment, TripError> {
    let (credited_today, credited_today_g) =
        credited_on(txn, &found.user(), &found.local_day).await?;
    let (reduction, full) = stored_reduction(found)?;
    Ok(rules::assess(
        rules,
        &Facts {
            // The claim window counts from when the trip was logged.
            now: found.created_at,
            ended_at: found.ended_at,
            plausibility: Vec::new(),
            source,
            trace_ratio: None,
            trace_teleports: 0,
            trace_outside_trip: false,
            same_journey_elsewhere: false,
            overlaps: false,
            credited_today,
            credited_today_g,
            reduction_g: reduction,
            estimate_credited_g: full,
            reviewed: true,
        },
    ))
}

/// Records the new assessment of a trip that is still `pending_review`
/// (and the partner record that confirmed it, if that is what decided),
/// crediting it when credited. `None` when the trip was decided meanwhile.
pub(super) async fn settle_pending(
    txn: &DatabaseTransaction,
    rules: &TripRules,
    to: &Credit<'_>,
    trip_id: &crate::ids::TripId,
    assessment: &rules::Assessment,
    confirmed_by: Option<&PartnerRecord>,
    now: DateTime<FixedOffset>,
) -> Result<Option<trip::Model>, TripError> {
    let points = assessment.credited_g * rules.points_per_gram;
    let mut update = trip::Entity::update_many()
        .col_expr(
            trip::Column::Status,
            Expr::value(assessment.status.as_str()),
        )
        .col_expr(trip::Column::CreditedG, Expr::value(assessment.credited_g))
        .col_expr(trip::Column::Points, Expr::value(points))
        .col_expr(
            trip::Column::Reasons,
            Expr::value(json_text(&assessment.reasons)),
        );
    if let Some(record) = confirmed_by {
        update = record.mark(update, now);
    }
    let changed = update
        .filter(trip::Column::Id.eq(trip_id))
        .filter(trip::Column::Status.eq(TripStatus::PendingReview.as_str()))
        .exec(txn)
        .await?;
    if changed.rows_affected != 1 {
        return Ok(None);
    }
    let settled = trip::Entity::find_by_id(trip_id.to_string())
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("trip".into()))?;
    if assessment.status == TripStatus::Credited && settled.credited_g > 0 {
        credit(
            txn,
            to,
            &settled,
            Part::Trip,
            Grams(settled.credited_g),
            Points(settled.points),
            now,
        )
        .await?;
    } else {
        record_event(txn, "trip.decided", &settled, now).await?;
    }
    Ok(Some(settled))
}

/// Decides a credited trip held for review (another account sent the same
/// journey). Approved, the hold ends. Rejected, the trip is rejected, its
/// reductions that are in no batch are withdrawn and its points taken
/// back, as many as the account still has (points already spent stay
/// spent; the review records that). `None` when decided meanwhile.
async fn settle_held(
    txn: &DatabaseTransaction,
    to: &Credit<'_>,
    found: &trip::Model,
    approve: bool,
    now: DateTime<FixedOffset>,
) -> Result<Option<trip::Model>, TripError> {
    let mut update = trip::Entity::update_many()
        .col_expr(trip::Column::HeldForReview, Expr::value(false))
        .filter(trip::Column::Id.eq(found.id.as_str()))
        .filter(trip::Column::HeldForReview.eq(true))
        .filter(trip::Column::Status.eq(TripStatus::Credited.as_str()));
    if !approve {
        let mut reasons = super::stored_reasons(found)?;
        reasons.push(Reason::RejectedByReviewer);
        update = update
            .col_expr(
                trip::Column::Status,
                Expr::value(TripStatus::Rejected.as_str()),
            )
            .col_expr(trip::Column::CreditedG, Expr::value(0i64))
            .col_expr(trip::Column::Points, Expr::value(0i64))
            .col_expr(trip::Column::Reasons, Expr::value(json_text(&reasons)));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Ok(None);
    }
    if !approve {
        super::entity::reduction::Entity::delete_many()
            .filter(super::entity::reduction::Column::TripId.eq(found.id.as_str()))
            .filter(super::entity::reduction::Column::BatchId.is_null())
            .exec(txn)
            .await?;
        let available = crate::ledger::balances(txn, &to.account.account_id())
            .await?
            .into_iter()
            .find(|b| b.asset == crate::ledger::Asset::points().to_string())
            .map_or(0, |b| b.available());
        let back = found.points.min(available);
        if back > 0 {
            take_back(txn, to, found, Points(back), now).await?;
        }
    }
    let decided = trip::Entity::find_by_id(found.id.clone())
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("trip".into()))?;
    record_event(txn, "trip.decided", &decided, now).await?;
    Ok(Some(decided))
}

/// Tells the trip's person of a verifier's decision, in its transaction.
async fn tell(
    txn: &DatabaseTransaction,
    decided: &trip::Model,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    crate::notifications::notify(
        txn,
        &decided.user_id,
        crate::notifications::NotificationKind::TripReviewed,
        serde_json::json!({
            "trip_id": decided.id,
            "status": decided.status.as_str(),
            "reason": reason,
            "credited_g": decided.credited_g.to_string(),
            "points": decided.points.to_string(),
        }),
        now,
    )
    .await
}

/// A reviewer's verdict on one trip.
pub struct Ruling<'a> {
    pub approve: bool,
    /// Recorded with the reviewer's id.
    pub reason: &'a str,
}

pub async fn decide(
    ctx: Trips<'_>,
    who: &Principal,
    trip_id: &crate::ids::TripId,
    ruling: Ruling<'_>,
    now: DateTime<FixedOffset>,
) -> Result<(trip::Model, review::Model), ReviewError> {
    authorise(who)?;
    let Ruling { approve, reason } = ruling;
    let Trips {
        db, cache, rules, ..
    } = ctx;
    let found = trip::Entity::find_by_id(trip_id.to_string())
        .one(db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let issuer = ctx.points_issuer(now).await?;
    let txn = crate::db::begin_write(db).await?;
    let account = lock_person(&txn, &found.user()).await?;
    let recorded = review::Entity::insert(review::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        trip_id: Set(found.id.clone()),
        reviewer_id: Set(who.user_id.to_string()),
        decision: Set(if approve { "approved" } else { "rejected" }.into()),
        reason: Set(reason.to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            ReviewError::AlreadyDecided("already reviewed".into())
        }
        _ => e.into(),
    })?;
    let to = Credit {
        account: &account,
        issuer: &issuer,
    };
    if found.held_for_review && found.status == TripStatus::Credited {
        let Some(decided) = settle_held(&txn, &to, &found, approve, now).await? else {
            txn.rollback().await?;
            return Err(ReviewError::AlreadyDecided(found.status.as_str().into()));
        };
        tell(&txn, &decided, reason, now).await?;
        txn.commit().await?;
        if decided.status == TripStatus::Rejected {
            // Its grams leave the month's rankings again.
            leaderboard::record_credit(
                db,
                cache,
                &found.user(),
                &found.local_day,
                -found.credited_g,
            )
            .await;
        }
        return Ok((decided, recorded));
    }
    let assessment = if approve {
        let source = found.source;
        reassess(&txn, rules, &found, source).await?
    } else {
        rules::Assessment {
            status: TripStatus::Rejected,
            reasons: vec![Reason::RejectedByReviewer],
            credited_g: 0,
        }
    };
    let Some(decided) =
        settle_pending(&txn, rules, &to, &found.trip_id(), &assessment, None, now).await?
    else {
        txn.rollback().await?;
        return Err(ReviewError::AlreadyDecided(found.status.as_str().into()));
    };
    let credited = decided.status == TripStatus::Credited && decided.credited_g > 0;
    tell(&txn, &decided, reason, now).await?;
    txn.commit().await?;
    if credited {
        leaderboard::record_credit(
            db,
            cache,
            &decided.user(),
            &decided.local_day,
            decided.credited_g,
        )
        .await;
    }
    Ok((decided, recorded))
}
