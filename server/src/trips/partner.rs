//! A partner's record of a person's trip (a card tap-in/tap-out, a bike
//! hire). If the person logged that journey themselves, the record confirms
//! it: a trip waiting for review is credited, a reduced self-declared
//! credit is topped up to the full reduction (within the day's cap).
//! Otherwise the record becomes a trip of its own, under the same rules as
//! any other. A record is used once: sent again, it answers what it did.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::credit::{credit, lock_person, Credit, Part};
use super::entity::trip;
use super::leaderboard;
use super::review::{reassess, settle_pending};
use super::rules::{Reason, Source, TripRules, TripStatus};
use super::service::{
    check, credited_on, json_text, log_trip_from, stored_reduction, Logged, PartnerRecord,
    TripError, TripRequest, Trips, LIVE,
};
use crate::amount::{Grams, Points};

/// A journey confirms a logged trip when it uses one of the trip's modes
/// and covers at least this share of the trip's time: a short bus ride
/// does not vouch for a long self-declared trip around it.
const MIN_COVER: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

pub enum Outcome {
    /// The record confirmed a trip the person logged; `topped_up_g` more
    /// grams were credited for it now.
    Confirmed {
        trip: trip::Model,
        topped_up_g: i64,
        replayed: bool,
    },
    /// The record became a trip.
    Created(Logged),
}

/// Applies a partner's record, already found to be `user_id`'s, given as
/// the one-leg trip it describes.
pub async fn apply_record(
    ctx: Trips<'_>,
    user_id: &crate::ids::UserId,
    record: &PartnerRecord,
    req: &TripRequest,
    now: DateTime<FixedOffset>,
) -> Result<Outcome, TripError> {
    let Trips {
        db,
        cache,
        rules,
        catalog,
        ..
    } = ctx;
    // A record that is not a computable trip is refused whole; one that is
    // implausible (too fast, too far) vouches for nothing and, as a trip of
    // its own below, is rejected with its reasons.
    let plausible = check(catalog, req)?.problems.is_empty();
    let mode = req.legs.first().map(|l| l.mode.as_str()).unwrap_or("");
    let issuer = ctx.points_issuer(now).await?;
    let txn = crate::db::begin_write(db).await?;
    // Under the person's lock: a concurrent push of the same record has
    // either applied it already (seen here) or waits for this one.
    let account = lock_person(&txn, user_id).await?;
    if let Some(seen) = trip::Entity::find()
        .filter(trip::Column::PartnerOrgId.eq(record.org_id.as_str()))
        .filter(trip::Column::PartnerRecordId.eq(record.record_id.as_str()))
        .one(&txn)
        .await?
    {
        // A record the partner sent before: created trips are checked by
        // their request like any resent trip; a confirmation answers again.
        // The same record for another person is a different record.
        if seen.user_id != user_id.as_str() {
            txn.rollback().await?;
            return Err(TripError::ClientIdReused);
        }
        if seen.source != Source::Partner {
            txn.rollback().await?;
            return Ok(Outcome::Confirmed {
                trip: seen,
                topped_up_g: 0,
                replayed: true,
            });
        }
    }
    let candidate = trip::Entity::find()
        .filter(trip::Column::UserId.eq(user_id))
        .filter(trip::Column::Status.is_in(LIVE.map(TripStatus::as_str)))
        .filter(trip::Column::PartnerRecordId.is_null())
        .filter(trip::Column::StartedAt.lt(req.ended_at))
        .filter(trip::Column::EndedAt.gt(req.started_at))
        .order_by_asc(trip::Column::StartedAt)
        .one(&txn)
        .await?
        .filter(|t| plausible && confirms(t, mode, req));
    if let Some(found) = candidate {
        let to = Credit {
            account: &account,
            issuer: &issuer,
        };
        if let Some((trip, topped_up_g)) = confirm(&txn, rules, &to, &found, record, now).await? {
            txn.commit().await?;
            if topped_up_g > 0 {
                leaderboard::record_credit(db, cache, user_id, &trip.local_day, topped_up_g).await;
            }
            return Ok(Outcome::Confirmed {
                trip,
                topped_up_g,
                replayed: false,
            });
        }
    }
    txn.rollback().await?;
    let logged = log_trip_from(ctx, user_id, req, Some(record), now).await?;
    Ok(Outcome::Created(logged))
}

/// Whether the journey `req` (one leg) vouches for the logged trip `t`.
fn confirms(t: &trip::Model, mode: &str, req: &TripRequest) -> bool {
    let same_mode = serde_json::from_str::<Vec<carbon_calc::commute::Leg>>(&t.legs)
        .map(|legs| legs.iter().any(|l| l.mode == mode))
        .unwrap_or(false);
    let span = (t.ended_at - t.started_at).num_seconds();
    let from = t.started_at.max(req.started_at);
    let to = t.ended_at.min(req.ended_at);
    let covered = (to - from).num_seconds();
    same_mode && span > 0 && Decimal::from(covered) >= MIN_COVER * Decimal::from(span)
}

/// Confirms `found` within the caller's transaction (the person locked):
/// the trip and the grams credited now, or `None` if it changed meanwhile.
async fn confirm(
    txn: &DatabaseTransaction,
    rules: &TripRules,
    to: &Credit<'_>,
    found: &trip::Model,
    record: &PartnerRecord,
    now: DateTime<FixedOffset>,
) -> Result<Option<(trip::Model, i64)>, TripError> {
    if found.status == TripStatus::PendingReview {
        let assessment = reassess(txn, rules, found, Source::Partner).await?;
        let settled = settle_pending(
            txn,
            rules,
            to,
            &found.trip_id(),
            &assessment,
            Some(record),
            now,
        )
        .await?;
        return Ok(settled.map(|t| {
            let grams = t.credited_g;
            (t, grams)
        }));
    }
    let (_, full) = stored_reduction(found)?;
    let (_, credited_today_g) = credited_on(txn, &found.user(), &found.local_day).await?;
    let missing = (full - found.credited_g).max(0);
    let room = (rules.daily_cap_g - credited_today_g).max(0);
    let top_up = missing.min(room);
    let mut reasons = super::stored_reasons(found)?;
    reasons.retain(|r| {
        !matches!(
            r,
            Reason::SelfDeclaredReducedRate | Reason::CappedByDailyCap
        )
    });
    if top_up < missing {
        reasons.push(Reason::CappedByDailyCap);
    }
    let extra_points = top_up * rules.points_per_gram;
    let changed = record
        .mark(trip::Entity::update_many(), now)
        .col_expr(
            trip::Column::CreditedG,
            Expr::value(found.credited_g + top_up),
        )
        .col_expr(
            trip::Column::Points,
            Expr::value(found.points + extra_points),
        )
        .col_expr(trip::Column::Reasons, Expr::value(json_text(&reasons)))
        .filter(trip::Column::Id.eq(found.id.as_str()))
        .filter(trip::Column::Status.eq(TripStatus::Credited.as_str()))
        .filter(trip::Column::PartnerRecordId.is_null())
        .exec(txn)
        .await?;
    if changed.rows_affected != 1 {
        return Ok(None);
    }
    let confirmed = trip::Entity::find_by_id(found.id.clone())
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("trip".into()))?;
    if top_up > 0 {
        credit(
            txn,
            to,
            &confirmed,
            Part::PartnerTopUp,
            Grams(top_up),
            Points(extra_points),
            now,
        )
        .await?;
    }
    Ok(Some((confirmed, top_up)))
}
