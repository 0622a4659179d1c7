//! Logging a trip: recompute with carbon-calc (the client's number is never
//! trusted), check plausibility, apply the rules, record the trip and, when
//! credited, its personal reduction and points in one transaction. A trip
//! is identified by its owner and `client_trip_id`: sending it again
//! answers the first result and credits nothing twice.

use carbon_calc::commute::{self, CommuteEstimate, CommuteRequest, Leg};
use carbon_calc::plausibility::{self, CommuteCheckRequest, TracePoint, TraceRequest, TripProblem};
use carbon_calc::{CalcError, Catalog, Dec};
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::credit::{credit, lock_person, record_event, Credit, Part};
use super::entity::trip;
use super::leaderboard;
use super::rules::{self, Facts, Reason, Source, TripRules, TripStatus};
use crate::accounts::entity::{self as account};
use crate::accounts::service::SystemAccounts;
use crate::amount::{Grams, Points};
use crate::cache::Cache;
use crate::clock::china_day;
use crate::ledger::LedgerError;
use carbon_calc::coords::CoordinateSystem;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TripRequest {
    /// A UUID the app makes when the trip is recorded; resending it is safe.
    #[schema(format = "uuid")]
    pub client_trip_id: String,
    /// The methodology preset the app estimated with; the default preset
    /// when absent.
    #[serde(default)]
    pub preset: Option<String>,
    /// As in the commute estimate: `mode` and `distance_km` (decimal
    /// string); 1 to 10 legs.
    pub legs: Vec<Leg>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: DateTime<FixedOffset>,
    /// GPS fixes `{lat, lon, t}` in time order (at most 20,000); a trip
    /// without one is self-declared.
    #[serde(default)]
    pub trace: Option<Vec<TracePoint>>,
    /// The system of the trace's coordinates: `wgs84` (GPS, the default) or
    /// `gcj02` (Chinese map SDKs, WeChat). GCJ-02 traces are converted to
    /// WGS-84 before anything else, and kept so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinate_system: Option<CoordinateSystem>,
}

impl TripRequest {
    /// This trip with its trace in WGS-84, the system traces are measured,
    /// compared and kept in.
    pub fn in_wgs84(&self) -> std::borrow::Cow<'_, TripRequest> {
        if self.coordinate_system != Some(CoordinateSystem::Gcj02) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut converted = self.clone();
        for p in converted.trace.iter_mut().flatten() {
            let (lat, lon) = carbon_calc::coords::gcj02_to_wgs84(p.lat.0, p.lon.0);
            (p.lat.0, p.lon.0) = (lat, lon);
        }
        converted.coordinate_system = Some(CoordinateSystem::Wgs84);
        std::borrow::Cow::Owned(converted)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TripError {
    #[error(transparent)]
    Calc(CalcError),
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    #[error("this client_trip_id was already used for a different trip")]
    ClientIdReused,
    #[error("the user has no personal account")]
    NoAccount,
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<CalcError> for TripError {
    fn from(e: CalcError) -> Self {
        TripError::Calc(e)
    }
}

pub struct Logged {
    pub trip: trip::Model,
    /// The trip had been logged before: this is the first result.
    pub replayed: bool,
}

fn to_reason(p: TripProblem) -> Reason {
    match p {
        TripProblem::TooSlow => Reason::TooSlow,
        TripProblem::TooFast => Reason::TooFast,
        TripProblem::TooFar => Reason::TooFar,
    }
}

/// carbon-calc's plausibility of the whole commute (the rule the apps
/// apply offline too), as the rules' reasons.
fn plausibility_problems(
    catalog: &Catalog,
    preset: &str,
    req: &TripRequest,
) -> Result<Vec<Reason>, CalcError> {
    let check = plausibility::check_commute(
        catalog,
        &CommuteCheckRequest {
            preset: Some(preset.to_string()),
            legs: req.legs.clone(),
            started_at: req.started_at.to_rfc3339(),
            ended_at: req.ended_at.to_rfc3339(),
        },
    )?;
    Ok(check.problems.into_iter().map(to_reason).collect())
}

/// Whether the trace's first fix is before the trip's start or its last
/// after the trip's end, by more than `slack_secs`. carbon-calc has checked
/// that the fixes' times parse and are in order.
fn trace_outside_trip(points: &[TracePoint], req: &TripRequest, slack_secs: i64) -> bool {
    let time = |p: Option<&TracePoint>| p.and_then(|p| DateTime::parse_from_rfc3339(&p.t).ok());
    let slack = chrono::Duration::seconds(slack_secs);
    match (time(points.first()), time(points.last())) {
        (Some(first), Some(last)) => first < req.started_at - slack || last > req.ended_at + slack,
        _ => true,
    }
}

fn request_hash(req: &TripRequest) -> String {
    let text = serde_json::to_vec(req).expect("trip requests serialise");
    hex::encode(Sha256::digest(text))
}

/// A partner's record of a trip: which organisation, and its id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    pub org_id: String,
    pub record_id: String,
}

impl PartnerRecord {
    /// Marks the trips of `update` as evidenced by this record.
    pub(super) fn mark(
        &self,
        update: sea_orm::UpdateMany<trip::Entity>,
        now: DateTime<FixedOffset>,
    ) -> sea_orm::UpdateMany<trip::Entity> {
        update
            .col_expr(trip::Column::PartnerOrgId, Expr::value(self.org_id.clone()))
            .col_expr(
                trip::Column::PartnerRecordId,
                Expr::value(self.record_id.clone()),
            )
            .col_expr(trip::Column::ConfirmedAt, Expr::value(now))
    }
}

/// What logging, deciding and crediting trips needs from the app.
#[derive(Clone, Copy)]
pub struct Trips<'a> {
    pub db: &'a DatabaseConnection,
    pub cache: &'a Cache,
    pub rules: &'a TripRules,
    pub catalog: &'a Catalog,
    pub systems: &'a SystemAccounts,
}

impl Trips<'_> {
    /// The account points are issued from, read through the pool (see
    /// `SystemAccounts`) before the caller's transaction begins.
    pub(super) async fn points_issuer(
        &self,
        now: DateTime<FixedOffset>,
    ) -> Result<account::Model, DbErr> {
        self.systems.get(self.db, "issuer:points", now).await
    }
}

/// A trip request that passed the checks made before any database work.
pub(super) struct Checked {
    /// `client_trip_id`, canonical.
    pub client_id: String,
    pub estimate: CommuteEstimate,
    /// What carbon-calc's plausibility checks found.
    pub problems: Vec<Reason>,
}

/// A UUID `client_trip_id`, times in order, carbon-calc's estimate (the
/// client's number is never trusted) and its plausibility checks. Every
/// trip, logged or described by a partner's record, passes here.
pub(super) fn check(catalog: &Catalog, req: &TripRequest) -> Result<Checked, TripError> {
    let client_id = uuid::Uuid::parse_str(&req.client_trip_id)
        .map_err(|_| TripError::Invalid {
            param: "client_trip_id",
            detail: "must be a UUID".into(),
        })?
        .hyphenated()
        .to_string();
    for (param, t) in [("started_at", req.started_at), ("ended_at", req.ended_at)] {
        crate::clock::accepted_time(t).map_err(|detail| TripError::Invalid { param, detail })?;
    }
    if req.ended_at <= req.started_at {
        return Err(TripError::Invalid {
            param: "ended_at",
            detail: "must be later than started_at".into(),
        });
    }
    let estimate = commute::estimate(
        catalog,
        &CommuteRequest {
            preset: req.preset.clone(),
            legs: req.legs.clone(),
        },
    )?;
    let problems = plausibility_problems(catalog, &estimate.preset, req)?;
    Ok(Checked {
        client_id,
        estimate,
        problems,
    })
}

/// Validates, computes and records one trip of `user_id`.
pub async fn log_trip(
    ctx: Trips<'_>,
    user_id: &crate::ids::UserId,
    req: &TripRequest,
    now: DateTime<FixedOffset>,
) -> Result<Logged, TripError> {
    log_trip_from(ctx, user_id, req, None, now).await
}

/// As `log_trip`, for a trip that a partner's record evidences (`from`):
/// it has no trace and is credited in full when the rules allow.
///
/// Three steps: `measure` (the request's own facts, before any database
/// work) and `gather` (what the database says, under the person's lock)
/// feed the pure `rules::assess`; `persist` records what it decided.
pub async fn log_trip_from(
    ctx: Trips<'_>,
    user_id: &crate::ids::UserId,
    req: &TripRequest,
    from: Option<&PartnerRecord>,
    now: DateTime<FixedOffset>,
) -> Result<Logged, TripError> {
    let req = &*req.in_wgs84();
    let measured = measure(&ctx, req, from)?;
    let issuer = ctx.points_issuer(now).await?;
    let txn = crate::db::begin_write(ctx.db).await?;
    let account = lock_person(&txn, user_id).await?;
    let gathered = match gather(&txn, user_id, req, &measured).await? {
        Gathered::Before(first) => {
            txn.rollback().await?;
            if first.request_hash != measured.hash {
                return Err(TripError::ClientIdReused);
            }
            return Ok(Logged {
                trip: *first,
                replayed: true,
            });
        }
        Gathered::New(g) => g,
    };
    let assessment = rules::assess(ctx.rules, &facts(req, &measured, &gathered, now));
    let trip = persist(
        &txn,
        &ctx,
        Credit {
            account: &account,
            issuer: &issuer,
        },
        (user_id, req, from),
        measured,
        gathered.twins,
        assessment,
        now,
    )
    .await?;
    txn.commit().await?;
    if trip.status == TripStatus::Credited && trip.credited_g > 0 {
        leaderboard::record_credit(ctx.db, ctx.cache, user_id, &trip.local_day, trip.credited_g)
            .await;
    }
    Ok(Logged {
        trip,
        replayed: false,
    })
}

/// What the request itself says, computed before any database work:
/// carbon-calc's estimate and plausibility, what the trace measures, the
/// China day, the request's hash and its journey's fingerprint.
struct Measured {
    checked: Checked,
    declared: Decimal,
    source: Source,
    measured: Option<Dec>,
    teleports: usize,
    outside: bool,
    local_day: String,
    hash: String,
    /// Trips a partner evidences carry none: their records come from the
    /// partner, not from a body someone could copy.
    fingerprint: Option<String>,
}

fn measure(
    ctx: &Trips<'_>,
    req: &TripRequest,
    from: Option<&PartnerRecord>,
) -> Result<Measured, TripError> {
    let checked = check(ctx.catalog, req)?;
    let declared: Decimal = req
        .legs
        .iter()
        .filter_map(|l| l.distance_km)
        .map(|d| d.0)
        .sum();
    let (source, measured, teleports, outside) = match &req.trace {
        Some(points) => {
            let m = plausibility::measure_trace(
                ctx.catalog,
                &TraceRequest {
                    preset: Some(checked.estimate.preset.clone()),
                    trace: points.clone(),
                },
            )?;
            let outside = trace_outside_trip(points, req, ctx.rules.trace_time_slack_secs);
            (Source::Gps, Some(m.distance_km), m.teleports.len(), outside)
        }
        None if from.is_some() => (Source::Partner, None, 0, false),
        None => (Source::SelfDeclared, None, 0, false),
    };
    Ok(Measured {
        checked,
        declared,
        source,
        measured,
        teleports,
        outside,
        local_day: china_day(req.started_at),
        hash: request_hash(req),
        fingerprint: from.is_none().then(|| super::fingerprint::of(req)),
    })
}

/// What the database says about the trip, read under the person's lock.
enum Gathered {
    /// The same `client_trip_id` was logged before: that trip.
    Before(Box<trip::Model>),
    New(Standing),
}

async fn gather(
    txn: &DatabaseTransaction,
    user_id: &crate::ids::UserId,
    req: &TripRequest,
    m: &Measured,
) -> Result<Gathered, TripError> {
    let mut standing = standing(txn, user_id, &m.checked.client_id, &m.local_day, req).await?;
    if let Some(first_id) = standing.existing.take() {
        let first = trip::Entity::find_by_id(first_id)
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("trip".into()))?;
        return Ok(Gathered::Before(Box::new(first)));
    }
    if let Some(f) = &m.fingerprint {
        // One trip of a journey at a time, whoever sends it, so that two
        // accounts sending one journey at the same moment cannot both miss
        // the other's uncommitted trip.
        crate::db::lock_named(txn, f).await?;
        let found = super::copies::twins(txn, f, user_id).await?;
        standing.same_journey = !found.is_empty();
        standing.twins = found
            .into_iter()
            .filter(|t| {
                !t.held_for_review && !t.reasons.contains("same_journey_as_another_account")
            })
            .collect();
    }
    Ok(Gathered::New(standing))
}

/// The facts the pure rules decide on.
fn facts(req: &TripRequest, m: &Measured, g: &Standing, now: DateTime<FixedOffset>) -> Facts {
    Facts {
        now,
        ended_at: req.ended_at,
        plausibility: m.checked.problems.clone(),
        source: m.source,
        trace_ratio: m
            .measured
            .filter(|_| m.declared > Decimal::ZERO)
            .map(|measured| measured.0 / m.declared),
        trace_teleports: m.teleports,
        trace_outside_trip: m.outside,
        same_journey_elsewhere: g.same_journey,
        overlaps: g.overlaps,
        credited_today: g.credited_today,
        credited_today_g: g.credited_today_g,
        reduction_g: m.checked.estimate.reduction_g.0,
        estimate_credited_g: m.checked.estimate.credited_g,
        reviewed: false,
    }
}

/// Records the assessed trip: the row, its audit event (or its credit's),
/// the earlier copies of its journey sent to review, and when credited its
/// personal reduction and points.
#[allow(clippy::too_many_arguments)]
async fn persist(
    txn: &DatabaseTransaction,
    ctx: &Trips<'_>,
    to: Credit<'_>,
    (user_id, req, from): (&str, &TripRequest, Option<&PartnerRecord>),
    m: Measured,
    twins: Vec<trip::Model>,
    assessment: rules::Assessment,
    now: DateTime<FixedOffset>,
) -> Result<trip::Model, TripError> {
    let points = assessment
        .credited_g
        .checked_mul(ctx.rules.points_per_gram)
        .ok_or(TripError::Invalid {
            param: "legs",
            detail: "the reduction is too large".into(),
        })?;
    let estimate = m.checked.estimate;
    let model = trip::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user_id.to_string()),
        client_trip_id: Set(m.checked.client_id),
        request_hash: Set(m.hash),
        started_at: Set(req.started_at),
        ended_at: Set(req.ended_at),
        local_day: Set(m.local_day),
        legs: Set(json_text(&req.legs)),
        distance_km: Set(Dec(m.declared).to_string()),
        measured_km: Set(m.measured.map(|d| d.to_string())),
        trace: Set(req.trace.as_ref().map(json_text)),
        source: Set(m.source),
        preset: Set(estimate.preset.clone()),
        preset_version: Set(estimate.preset_version as i32),
        reduction_g: Set(estimate.reduction_g.to_string()),
        credited_g: Set(assessment.credited_g),
        points: Set(points),
        status: Set(assessment.status),
        reasons: Set(json_text(&assessment.reasons)),
        partner_org_id: Set(from.map(|r| r.org_id.clone())),
        partner_record_id: Set(from.map(|r| r.record_id.clone())),
        confirmed_at: Set(from.map(|_| now)),
        created_at: Set(now),
        fingerprint: Set(m.fingerprint),
        held_for_review: Set(false),
    };
    let trip = trip::Entity::insert(model).exec_with_returning(txn).await?;
    let credited = assessment.status == TripStatus::Credited && assessment.credited_g > 0;
    if !credited {
        // A credited trip's event is its credit's ledger event (see `credit`).
        record_event(txn, "trip.logged", &trip, now).await?;
    }
    for earlier in twins {
        super::copies::send_to_review(txn, earlier, now).await?;
    }
    if credited {
        credit(
            txn,
            &to,
            &trip,
            Part::Trip,
            Grams(trip.credited_g),
            Points(trip.points),
            now,
        )
        .await?;
    }
    Ok(trip)
}

/// What the person's other trips say about a new one, in one query: the
/// trip of the same `client_trip_id` if any, whether a live (credited or
/// pending) trip overlaps it, and the day's credited trips and grams.
struct Standing {
    existing: Option<String>,
    overlaps: bool,
    credited_today: u32,
    credited_today_g: i64,
    /// Another account sent the same journey.
    same_journey: bool,
    /// Those of its copies not yet sent to review.
    twins: Vec<trip::Model>,
}

async fn standing(
    txn: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    client_id: &str,
    local_day: &str,
    req: &TripRequest,
) -> Result<Standing, DbErr> {
    use sea_orm::sea_query::{Alias, Condition, Func};
    use trip::Column as T;
    let overlapping = Condition::all()
        .add(T::Status.is_in(LIVE.map(TripStatus::as_str)))
        .add(T::StartedAt.lt(req.ended_at))
        .add(T::EndedAt.gt(req.started_at));
    let today = credited_on_day(local_day);
    let same = T::ClientTripId.eq(client_id);
    // SUM of a bigint is numeric on PostgreSQL: cast back.
    let sum = |e: Expr| Expr::from(Func::cast_as(Func::sum(e), Alias::new("BIGINT")));
    // existing id, overlapping trips, the day's credited trips and grams.
    type Row = (Option<String>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = trip::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::max(
                Expr::case(same.clone(), Expr::col(T::Id)).finally(Expr::null()),
            )),
            "existing",
        )
        .column_as(
            sum(Expr::case(overlapping.clone(), 1).finally(0).into()),
            "overlaps",
        )
        .column_as(sum(Expr::case(today.clone(), 1).finally(0).into()), "n")
        .column_as(
            sum(Expr::case(today.clone(), Expr::col(T::CreditedG))
                .finally(0)
                .into()),
            "g",
        )
        .filter(T::UserId.eq(user_id))
        .filter(Condition::any().add(same).add(overlapping).add(today))
        .into_tuple()
        .one(txn)
        .await?;
    let (existing, overlaps, n, g) = row.unwrap_or((None, None, None, None));
    Ok(Standing {
        existing,
        overlaps: overlaps.unwrap_or(0) > 0,
        credited_today: u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX),
        credited_today_g: g.unwrap_or(0),
        same_journey: false,
        twins: Vec::new(),
    })
}

/// How many trips of the person were credited on `local_day`, and grams.
/// Counted by the database: a busy person's day must not be read row by
/// row on every trip.
pub(super) async fn credited_on(
    txn: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    local_day: &str,
) -> Result<(u32, i64), DbErr> {
    use sea_orm::sea_query::{Alias, Func};
    let (count, grams): (Option<i64>, Option<i64>) = trip::Entity::find()
        .select_only()
        .column_as(Expr::col(trip::Column::Id).count(), "n")
        // Both databases: SUM of a bigint is numeric on PostgreSQL.
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(trip::Column::CreditedG)),
                Alias::new("BIGINT"),
            )),
            "g",
        )
        .filter(trip::Column::UserId.eq(user_id))
        .filter(credited_on_day(local_day))
        .into_tuple()
        .one(txn)
        .await?
        .unwrap_or((None, None));
    Ok((
        u32::try_from(count.unwrap_or(0)).unwrap_or(u32::MAX),
        grams.unwrap_or(0),
    ))
}

/// The trips that count against a person's daily limits: credited on that
/// China day. The one definition `credited_on` and `standing` share.
fn credited_on_day(local_day: &str) -> sea_orm::sea_query::Condition {
    sea_orm::sea_query::Condition::all()
        .add(trip::Column::LocalDay.eq(local_day))
        .add(trip::Column::Status.eq(TripStatus::Credited.as_str()))
}

/// Statuses of trips that count: credited, or waiting for review.
pub(super) const LIVE: [TripStatus; 2] = [TripStatus::Credited, TripStatus::PendingReview];

/// A stored trip's exact reduction and the grams it credits in full.
pub(super) fn stored_reduction(trip: &trip::Model) -> Result<(Decimal, i64), TripError> {
    let reduction: Decimal = trip.reduction_g.parse().map_err(|_| TripError::Invalid {
        param: "reduction_g",
        detail: "stored reduction is not a decimal".into(),
    })?;
    let full = carbon_calc::decimal::credited_grams(reduction, "reduction_g")?;
    Ok((reduction, full))
}

/// JSON text of a stored value.
pub(super) fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("stored values serialise")
}
