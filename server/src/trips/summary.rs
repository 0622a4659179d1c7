//! Monthly summaries of trips: a person's own, and a department's or
//! enterprise's members in aggregate (government dashboards see totals,
//! never a member's trips).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::trip;
use super::rules::TripStatus;
use crate::auth::extract::Principal;
use crate::clock::china_time;
use crate::orgs::service::{self as orgs, OrgError};

/// `YYYY-MM`, a calendar month in China Standard Time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period(String);

impl Period {
    pub fn parse(text: &str) -> Option<Period> {
        let (y, m) = text.split_once('-')?;
        let ok = y.len() == 4
            && m.len() == 2
            && y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
            && (1..=12).contains(&m.parse::<u32>().ok()?);
        ok.then(|| Period(text.to_string()))
    }

    /// The China month of `now`.
    pub fn of(now: crate::clock::Timestamp) -> Period {
        Period(now.with_timezone(&china_time()).format("%Y-%m").to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct TripCounts {
    pub logged: u64,
    pub credited: u64,
    pub rejected: u64,
    pub pending_review: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModeSummary {
    pub mode: String,
    /// Credited trips with a leg of this mode.
    pub trips: u64,
    /// Declared kilometres of this mode in credited trips (decimal string).
    pub distance_km: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub period: String,
    pub trips: TripCounts,
    /// Grams credited (integer string).
    pub credited_g: String,
    /// Points credited (integer string).
    pub points: String,
    pub by_mode: Vec<ModeSummary>,
}

fn summarise(period: &Period, trips: &[trip::Model]) -> Summary {
    let mut counts = TripCounts::default();
    let (mut grams, mut points) = (0i64, 0i64);
    let mut modes: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    for t in trips {
        counts.logged += 1;
        match t.status.as_str() {
            s if s == TripStatus::Credited.as_str() => counts.credited += 1,
            s if s == TripStatus::Rejected.as_str() => counts.rejected += 1,
            _ => counts.pending_review += 1,
        }
        if t.status != TripStatus::Credited {
            continue;
        }
        grams += t.credited_g;
        points += t.points;
        let legs: Vec<carbon_calc::commute::Leg> =
            serde_json::from_str(&t.legs).unwrap_or_default();
        let mut seen = Vec::new();
        for leg in legs {
            let entry = modes.entry(leg.mode.clone()).or_default();
            if !seen.contains(&leg.mode) {
                entry.0 += 1;
                seen.push(leg.mode);
            }
            entry.1 += leg.distance_km.map_or(Decimal::ZERO, |d| d.0);
        }
    }
    Summary {
        period: period.as_str().to_string(),
        trips: counts,
        credited_g: grams.to_string(),
        points: points.to_string(),
        by_mode: modes
            .into_iter()
            .map(|(mode, (trips, km))| ModeSummary {
                mode,
                trips,
                distance_km: km.normalize().to_string(),
            })
            .collect(),
    }
}

fn in_period(period: &Period) -> sea_orm::sea_query::SimpleExpr {
    trip::Column::LocalDay.starts_with(format!("{}-", period.as_str()))
}

pub async fn of_person(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    period: &Period,
) -> Result<Summary, DbErr> {
    let trips = trip::Entity::find()
        .filter(trip::Column::UserId.eq(user_id))
        .filter(in_period(period))
        .all(db)
        .await?;
    Ok(summarise(period, &trips))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationSummary {
    pub organization_id: String,
    /// Approved members.
    pub members: u64,
    /// Members with a credited trip in the period.
    pub active_members: u64,
    #[serde(flatten)]
    pub summary: Summary,
}

/// The organisation's approved members in aggregate; for its staff and
/// administrators.
pub async fn of_organization(
    db: &impl ConnectionTrait,
    who: &Principal,
    org_id: &str,
    period: &Period,
) -> Result<OrganizationSummary, OrgError> {
    let org = orgs::get(db, who, org_id).await?;
    if !orgs::manages(who, &org) {
        return Err(OrgError::Forbidden(
            "only the organisation's staff and administrators see its summary",
        ));
    }
    let members = orgs::approved_members(db, &org.id).await?;
    let trips = trip::Entity::find()
        .filter(trip::Column::UserId.is_in(members.clone()))
        .filter(in_period(period))
        .all(db)
        .await?;
    let mut active: Vec<&str> = trips
        .iter()
        .filter(|t| t.status == TripStatus::Credited)
        .map(|t| t.user_id.as_str())
        .collect();
    active.sort_unstable();
    active.dedup();
    Ok(OrganizationSummary {
        organization_id: org.id,
        members: members.len() as u64,
        active_members: active.len() as u64,
        summary: summarise(period, &trips),
    })
}

#[cfg(test)]
mod tests {
    use super::Period;

    #[test]
    fn periods_are_calendar_months() {
        assert!(Period::parse("2026-11").is_some());
        for bad in [
            "2026-13", "2026-00", "26-11", "2026-1", "2026/11", "abcd-ef", "",
        ] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-30T16:00:00Z").unwrap();
        assert_eq!(
            Period::of(t).as_str(),
            "2026-12",
            "China's December starts at 16:00 UTC"
        );
    }
}
