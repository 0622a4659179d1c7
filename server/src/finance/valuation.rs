//! Valuing pledged collateral: at each daily close of its instrument (in
//! the close's transaction, so once per pledge and day whichever replica
//! closes), value = units × the lower of the pledgor's guidance price and
//! the close; below the maintenance level a margin call with a cure
//! deadline `cure_trading_days` trading days on; above it again (prices
//! recovered, units added, loan repaid) the call is cured.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::collateral;
use super::entity::{pledge, valuation, EventKind, PledgeStatus};
use super::pledges::{self, expected_grams, root_id};
use super::rules::FinanceRules;
use super::terms;
use crate::market::error::MarketError;
use crate::market::rules::MarketRules;
use crate::orgs::entity::organization;
use crate::pricing::guidance::applicable_price;

/// The lower of the pledgor's applicable guidance price on `day` and
/// `close`, either alone when the other is missing.
pub async fn price_at(
    db: &impl ConnectionTrait,
    code: &str,
    pledgor: &organization::Model,
    day: NaiveDate,
    close: Option<i64>,
) -> Result<Option<i64>, MarketError> {
    let guidance = applicable_price(db, code, pledgor, day)
        .await?
        .map(|(_, _, p)| p);
    Ok(match (guidance, close) {
        (Some(g), Some(c)) => Some(g.min(c)),
        (g, c) => g.or(c),
    })
}

/// [`price_at`] against the last close (the instrument's reference
/// price), for valuing between closes.
pub async fn price_now(
    db: &impl ConnectionTrait,
    code: &str,
    pledgor: &organization::Model,
    day: NaiveDate,
) -> Result<Option<i64>, MarketError> {
    let close = crate::instruments::instrument::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .map(|i| i.reference_price);
    price_at(db, code, pledgor, day, close).await
}

/// One pledge of a chain valued: its collateral's value, what earlier
/// ranks owe, and whether it is below the maintenance level.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub pledge: pledge::Model,
    /// Lots of the collateral (the instrument's market step).
    pub units: i64,
    pub value: i64,
    pub senior: i64,
    pub called: bool,
}

/// Values a chain (first rank first) holding `grams` at `price`.
pub fn assess(
    chain: &[pledge::Model],
    grams: i64,
    price: i64,
    minor: i64,
    rules: &FinanceRules,
) -> Vec<Assessed> {
    let value = terms::value(grams, price, minor);
    let mut senior = 0;
    chain
        .iter()
        .map(|p| {
            let a = Assessed {
                pledge: p.clone(),
                units: grams / super::views::minor_of(&p.instrument).1,
                value,
                senior,
                called: terms::under_maintenance(
                    value,
                    senior,
                    p.outstanding,
                    rules.maintenance_ratio,
                ),
            };
            senior += p.outstanding;
            a
        })
        .collect()
}

/// The chain's collateral, grams: held lots and a future-income pledge's
/// units not yet issued.
pub async fn chain_grams(
    db: &impl ConnectionTrait,
    chain: &[pledge::Model],
) -> Result<i64, MarketError> {
    let Some(first) = chain.first() else {
        return Ok(0);
    };
    Ok(collateral::grams(&collateral::lots_of(db, root_id(first)).await?) + expected_grams(first))
}

/// The last day to cure a call made at the close of `day`.
pub fn deadline(market: &MarketRules, rules: &FinanceRules, day: NaiveDate) -> NaiveDate {
    (0..rules.cure_trading_days).fold(day, |d, _| market.next_trading_day(d))
}

/// Values every live pledge of `code` at the close of `day`, in the
/// close's transaction. Answers the valuations written.
pub async fn at_close(
    txn: &DatabaseTransaction,
    rules: &FinanceRules,
    market: &MarketRules,
    code: &str,
    day: NaiveDate,
    close: i64,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let live = pledge::Entity::find()
        .filter(pledge::Column::Instrument.eq(code))
        .filter(pledge::Column::Status.is_in(PledgeStatus::LIVE))
        .all(txn)
        .await?;
    let mut roots: Vec<String> = live.iter().map(|p| root_id(p).to_string()).collect();
    roots.sort();
    roots.dedup();
    let minor = crate::instruments::Code::parse(code)
        .map_or(crate::instruments::GRAMS_PER_TONNE, |c| c.class.unit().1);
    let day_text = day.format("%Y-%m-%d").to_string();
    let mut written = 0;
    for root in roots {
        let chain = pledges::chain(txn, &root).await?;
        let Some(first) = chain.first() else { continue };
        let Some(pledgor) = organization::Entity::find_by_id(first.pledgor_organization_id.clone())
            .one(txn)
            .await?
        else {
            continue;
        };
        let Some(price) = price_at(txn, code, &pledgor, day, Some(close)).await? else {
            continue;
        };
        let grams = chain_grams(txn, &chain).await?;
        for a in assess(&chain, grams, price, minor, rules) {
            let inserted = valuation::Entity::insert(valuation::ActiveModel {
                pledge_id: Set(a.pledge.id.clone()),
                day: Set(day_text.clone()),
                price: Set(price),
                collateral_units: Set(a.units),
                value: Set(a.value),
                outstanding: Set(a.pledge.outstanding),
                senior: Set(a.senior),
                called: Set(a.called),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::columns([valuation::Column::PledgeId, valuation::Column::Day])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
            if inserted == 0 {
                continue;
            }
            written += 1;
            let call = (a.called && a.pledge.status == PledgeStatus::Active)
                .then(|| deadline(market, rules, day).format("%Y-%m-%d").to_string());
            settle_state(txn, &a, price, &day_text, call, now).await?;
        }
    }
    Ok(written)
}

/// Writes a valuation's outcome on the pledge: the price, and a call made
/// (`call`: its deadline) or cured. Only on the version valued, so a
/// change committed meanwhile (a repayment, a top-up) is never undone;
/// the next close values it again.
async fn settle_state(
    txn: &DatabaseTransaction,
    a: &Assessed,
    price: i64,
    day: &str,
    call: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let p = &a.pledge;
    let cured = !a.called && p.status == PledgeStatus::MarginCall;
    let mut update = pledge::Entity::update_many()
        .col_expr(pledge::Column::LastPrice, Expr::value(price))
        .col_expr(pledge::Column::LastValuedOn, Expr::value(day))
        .col_expr(pledge::Column::Version, Expr::value(p.version + 1))
        .filter(pledge::Column::Id.eq(p.id.as_str()))
        .filter(pledge::Column::Version.eq(p.version));
    if let Some(deadline) = &call {
        update = update
            .col_expr(
                pledge::Column::Status,
                Expr::value(PledgeStatus::MarginCall),
            )
            .col_expr(pledge::Column::CallDeadline, Expr::value(deadline.as_str()));
    }
    if cured {
        update = update
            .col_expr(pledge::Column::Status, Expr::value(PledgeStatus::Active))
            .col_expr(
                pledge::Column::CallDeadline,
                Expr::value(Option::<String>::None),
            );
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Ok(());
    }
    if call.is_none() && !cured {
        return Ok(());
    }
    let p = pledges::find(txn, &p.id).await?;
    let kind = if cured {
        EventKind::Cured
    } else {
        EventKind::MarginCall
    };
    let detail = serde_json::json!({
        "day": day,
        "price": crate::market::money::yuan(price),
        "value": crate::market::money::yuan(a.value),
        "senior": crate::market::money::yuan(a.senior),
        "outstanding": crate::market::money::yuan(p.outstanding),
        "deadline": p.call_deadline,
    });
    pledges::record_as(
        txn,
        &p,
        kind,
        None,
        Some((Some(a.value), Some(a.units))),
        None,
        Some(detail.to_string()),
        now,
    )
    .await?;
    let log_kind = if cured {
        "finance.margin_call_cured"
    } else {
        "finance.margin_call"
    };
    pledges::log(txn, log_kind, &p, now).await?;
    Ok(())
}

/// After units were added or a repayment recorded: each call of the chain
/// of `root` that the collateral now covers (at the last valuation's
/// price) is cured. A call is only ever made at a close.
pub async fn cure(
    txn: &DatabaseTransaction,
    rules: &FinanceRules,
    root: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let chain = pledges::chain(txn, root).await?;
    let Some(first) = chain.first() else {
        return Ok(());
    };
    let minor = crate::instruments::Code::parse(&first.instrument)
        .map_or(crate::instruments::GRAMS_PER_TONNE, |c| c.class.unit().1);
    let Some(price) = first.last_price else {
        return Ok(());
    };
    let grams = chain_grams(txn, &chain).await?;
    for a in assess(&chain, grams, price, minor, rules) {
        if a.called || a.pledge.status != PledgeStatus::MarginCall {
            continue;
        }
        let day = a.pledge.last_valued_on.clone().unwrap_or_default();
        settle_state(txn, &a, price, &day, None, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_cured_within_five_trading_days_after_its_close() {
        let market = MarketRules::default();
        let rules = FinanceRules::default();
        // Called at Friday's close (2026-12-04): Mon–Fri of the next week.
        let friday = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(
            deadline(&market, &rules, friday),
            NaiveDate::from_ymd_opt(2026, 12, 11).unwrap()
        );
    }
}
