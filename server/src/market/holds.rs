//! What an order holds from entry: cash for a buy (price × quantity and
//! the most its fees can be), units for a sell (batch by batch, oldest
//! first), after the T+1 and position-limit checks.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::entity::{order, order_lot, trade, OrderStatus};
use super::error::MarketError;
use super::participants::Participant;
use super::rules::MarketRules;
use super::{money, settlement};
use crate::instruments::instrument;
use crate::ledger::entity::balance;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;
use crate::registry::entity::batch;

/// The ids of the instrument's credit batches, oldest first.
pub(crate) async fn batches_of(
    txn: &impl ConnectionTrait,
    code: &str,
) -> Result<Vec<String>, MarketError> {
    Ok(batch::Entity::find()
        .select_only()
        .column(batch::Column::Id)
        .filter(batch::Column::Instrument.eq(code))
        .order_by_asc(batch::Column::IssuedAt)
        .order_by_asc(batch::Column::Id)
        .into_tuple()
        .all(txn)
        .await?)
}

/// A participant's credit batches of an instrument with grams available
/// (posted − held), oldest batch first.
pub(crate) async fn available_lots(
    txn: &impl ConnectionTrait,
    account_id: &str,
    code: &str,
) -> Result<Vec<(String, i64)>, MarketError> {
    let batches = batches_of(txn, code).await?;
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let assets: Vec<String> = batches.iter().map(|b| format!("credit:{b}")).collect();
    let balances = balance::Entity::find()
        .filter(balance::Column::AccountId.eq(account_id))
        .filter(balance::Column::Asset.is_in(assets))
        .all(txn)
        .await?;
    let available = |b: &str| {
        balances
            .iter()
            .filter(|x| x.asset.strip_prefix("credit:") == Some(b))
            .map(|x| x.posted - x.held)
            .sum::<i64>()
    };
    Ok(batches
        .into_iter()
        .map(|b| {
            let a = available(&b);
            (b, a)
        })
        .filter(|(_, a)| *a > 0)
        .collect())
}

/// Units of the instrument the organisation bought on `day` (locked by
/// T+1).
pub(crate) async fn bought_on(
    txn: &impl ConnectionTrait,
    org_id: &str,
    code: &str,
    day: &str,
) -> Result<i64, MarketError> {
    let rows: Vec<i64> = trade::Entity::find()
        .select_only()
        .column(trade::Column::Quantity)
        .filter(trade::Column::BuyerOrganizationId.eq(org_id))
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::TradingDay.eq(day))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().sum())
}

/// Lots of the instrument the account holds (posted, whether held or
/// not), `minor_per_lot` ledger units each.
pub(super) async fn holding(
    txn: &impl ConnectionTrait,
    account_id: &str,
    code: &str,
    minor_per_lot: i64,
) -> Result<i64, MarketError> {
    let batches = batches_of(txn, code).await?;
    let assets: Vec<String> = batches.iter().map(|b| format!("credit:{b}")).collect();
    let posted: Vec<i64> = balance::Entity::find()
        .select_only()
        .column(balance::Column::Posted)
        .filter(balance::Column::AccountId.eq(account_id))
        .filter(balance::Column::Asset.is_in(assets))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(posted.into_iter().sum::<i64>() / minor_per_lot)
}

/// Open buy orders' remaining lots of the instrument.
async fn buying(txn: &impl ConnectionTrait, org_id: &str, code: &str) -> Result<i64, MarketError> {
    let rows: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::Remaining)
        .filter(order::Column::OrganizationId.eq(org_id))
        .filter(order::Column::Instrument.eq(code))
        .filter(order::Column::Side.eq("buy"))
        .filter(order::Column::Status.is_in([OrderStatus::Open, OrderStatus::Pending]))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().sum())
}

/// What the hold rule needs to know of whoever places an order, read from
/// the database (one order: [`hold_for`]) or from a lane's batch (many).
pub(super) enum Standing {
    /// A buy: units of the instrument held (posted, held or not), units
    /// other open and pending buy orders are buying, cash available.
    Buy {
        holding: i64,
        buying: i64,
        cash: i64,
    },
    /// A sell: the instrument's credit batches with grams available
    /// (posted − held), oldest first; units bought on the order's trading
    /// day.
    Sell {
        lots: Vec<(String, Asset, i64)>,
        bought_today: i64,
    },
}

/// A ledger hold a new order needs, with the lot it records (sells).
pub(super) type Hold = (Request, Option<order_lot::Model>);

/// The rule for what a new order holds: cash for a buy (price × quantity
/// and the most its fees can be) within the position limit; units for a
/// sell, batch by batch, oldest first, none bought on its trading day
/// (T+1). Refuses with the problem the API answers (`position_limit`,
/// `insufficient_cash`, `insufficient_units`, `t_plus_one`).
pub(super) fn holds_needed(
    o: &order::Model,
    who: &Participant,
    i: &instrument::Model,
    rules: &MarketRules,
    standing: Standing,
) -> Result<Vec<Hold>, MarketError> {
    let account = &who.account.id;
    let step = i.step();
    match standing {
        Standing::Buy {
            holding,
            buying,
            cash,
        } => {
            if who.org.kind != OrgKind::ReservePlatform {
                let after = holding + buying + o.quantity;
                if after > rules.position_limit_units * step.lots_per_unit {
                    return Err(MarketError::Conflict(
                        ProblemCode::PositionLimit,
                        format!(
                            "holding and buying {} units would pass the position limit of {} units in {}",
                            step.show(after),
                            rules.position_limit_units,
                            i.code
                        ),
                    ));
                }
            }
            let amount =
                settlement::buy_hold(o.price, o.quantity, step, rules.fee_rate_of_order(o))
                    .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
            if cash < amount {
                return Err(insufficient_cash(amount));
            }
            Ok(vec![(
                Request {
                    id: settlement::cash_hold_id(&o.id),
                    memo: Some(format!("buy order {}", o.id)),
                    command: Command::Hold {
                        account_id: account.clone(),
                        asset: Asset::cny(),
                        amount,
                    },
                },
                None,
            )])
        }
        Standing::Sell { lots, bought_today } => {
            let available: i64 = lots.iter().map(|(_, _, g)| g).sum::<i64>() / i.minor_per_lot();
            let locked = if rules.t_plus_one { bought_today } else { 0 };
            if o.quantity > available {
                return Err(MarketError::Conflict(
                    ProblemCode::InsufficientUnits,
                    format!(
                        "{} units of {} are available to sell",
                        step.show(available),
                        i.code
                    ),
                ));
            }
            if o.quantity > available - locked {
                return Err(MarketError::Conflict(
                    ProblemCode::TPlusOne,
                    format!(
                        "{} of the {} units available were bought today and can be sold from the next trading day",
                        step.show(locked),
                        step.show(available)
                    ),
                ));
            }
            let grams = money::to_minor(o.quantity, i.minor_per_lot())
                .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
            let lots = lots.into_iter().map(|(b, a, g)| ((b, a), g));
            let mut out = Vec::new();
            for (position, ((batch_id, asset), take)) in (0i32..).zip(oldest_first(lots, grams)) {
                let hold_id = settlement::lot_hold_id(&o.id, position);
                out.push((
                    Request {
                        id: hold_id.clone(),
                        memo: Some(format!("sell order {}", o.id)),
                        command: Command::Hold {
                            account_id: account.clone(),
                            asset,
                            amount: take,
                        },
                    },
                    Some(order_lot::Model {
                        order_id: o.id.clone(),
                        position,
                        batch_id,
                        hold_id,
                        grams: take,
                    }),
                ));
            }
            Ok(out)
        }
    }
}

/// Which lots `grams` are taken from, and how much of each: the lots in
/// the order given (oldest batch first), each as far as it goes. Every
/// sale, buy-back, swap and return takes units by this rule.
pub(crate) fn oldest_first<L>(
    lots: impl IntoIterator<Item = (L, i64)>,
    grams: i64,
) -> Vec<(L, i64)> {
    let mut left = grams;
    let mut out = Vec::new();
    for (lot, available) in lots {
        if left == 0 {
            break;
        }
        let take = available.min(left);
        if take > 0 {
            out.push((lot, take));
            left -= take;
        }
    }
    out
}

fn insufficient_cash(amount: i64) -> MarketError {
    MarketError::Conflict(
        ProblemCode::InsufficientCash,
        format!(
            "the order needs {} yuan of cash available (price × quantity and the most its fees can be)",
            money::yuan(amount)
        ),
    )
}

/// The credit asset of a batch.
pub(crate) fn credit_asset(batch_id: &str) -> Result<Asset, MarketError> {
    Asset::parse(&format!("credit:{batch_id}"))
        .map_err(|e| MarketError::Database(sea_orm::DbErr::Custom(e.to_string())))
}

/// Holds what a new order (already written, so not counted among the
/// other buy orders) may need, by [`holds_needed`] on what the database
/// holds now. The ledger takes each hold in turn and refuses one whose
/// balance moved meanwhile (a transfer or retirement of the batch).
pub(super) async fn hold_for(
    txn: &DatabaseTransaction,
    o: &order::Model,
    who: &Participant,
    i: &instrument::Model,
    rules: &MarketRules,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let standing = if o.side == "buy" {
        let cash = balance::Entity::find()
            .filter(balance::Column::AccountId.eq(who.account.id.as_str()))
            .filter(balance::Column::Asset.eq(Asset::cny().as_str()))
            .all(txn)
            .await?
            .iter()
            .map(|b| b.posted - b.held)
            .sum();
        Standing::Buy {
            holding: holding(txn, &who.account.id, &i.code, i.minor_per_lot()).await?,
            buying: buying(txn, &who.org.id, &i.code).await? - o.remaining,
            cash,
        }
    } else {
        let lots = available_lots(txn, &who.account.id, &i.code)
            .await?
            .into_iter()
            .map(|(b, g)| Ok((b.clone(), credit_asset(&b)?, g)))
            .collect::<Result<_, MarketError>>()?;
        let bought_today = if rules.t_plus_one {
            bought_on(txn, &who.org.id, &i.code, &o.trading_day).await?
        } else {
            0
        };
        Standing::Sell { lots, bought_today }
    };
    for (request, lot) in holds_needed(o, who, i, rules, standing)? {
        let amount = match &request.command {
            Command::Hold { amount, .. } => *amount,
            _ => 0,
        };
        ledger::apply_within(txn, &request, &[&who.account], now)
            .await
            .map_err(|e| match (e, &lot) {
                (LedgerError::Insufficient { .. }, None) => insufficient_cash(amount),
                (LedgerError::Insufficient { .. }, Some(lot)) => MarketError::Conflict(
                    ProblemCode::InsufficientUnits,
                    format!("units of {} moved meanwhile; try again", lot.batch_id),
                ),
                (other, _) => other.into(),
            })?;
        if let Some(lot) = lot {
            order_lot::Entity::insert(lot.into_active_model())
                .exec_without_returning(txn)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::entity::{self as account, AccountKind};
    use crate::instruments::{Class, TradingStatus};
    use crate::market::entity::OrderKind;
    use crate::orgs::entity::{organization, Status};

    const T: i64 = 1_000_000;

    fn at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00").unwrap()
    }

    fn who(kind: OrgKind) -> Participant {
        Participant {
            org: organization::Model {
                id: "org-1".into(),
                kind,
                name: "Org".into(),
                uscc: "91620000000000000X".into(),
                status: Status::Approved,
                applied_by: None,
                decided_by: None,
                decided_at: None,
                decision_reason: None,
                created_at: at(),
                bureau: None,
            },
            account: account::Model {
                id: "acc-1".into(),
                kind: AccountKind::Enterprise,
                user_id: None,
                organization_id: Some("org-1".into()),
                code: None,
                allow_negative: false,
                created_at: at(),
            },
        }
    }

    fn instrument() -> instrument::Model {
        instrument::Model {
            code: "TPH-FOR-2026".into(),
            class: Class::CarbonForest,
            vintage: 2026,
            unit: "tCO2e".into(),
            minor_per_unit: T,
            status: TradingStatus::Listed,
            reference_price: 5_000,
            last_sequence: 0,
            block_min_units: None,
            fee_rate: None,
            guidance_price: None,
            floor_price: None,
            listed_by: "u".into(),
            listed_at: at(),
            updated_at: at(),
        }
    }

    fn order(side: &str, price: i64, quantity: i64) -> order::Model {
        order::Model {
            id: "o-1".into(),
            instrument: "TPH-FOR-2026".into(),
            seq: 1,
            organization_id: "org-1".into(),
            account_id: "acc-1".into(),
            placed_by: "u".into(),
            client_order_id: "c".into(),
            request_hash: "h".into(),
            kind: OrderKind::Limit,
            side: side.into(),
            price,
            quantity,
            remaining: quantity,
            filled: 0,
            tif: "gtc".into(),
            status: OrderStatus::Open,
            reason: None,
            picked_order_id: None,
            trading_day: "2026-12-01".into(),
            created_at: at(),
            updated_at: at(),
            auction_id: None,
            fee_rate: Some("0.001".into()),
        }
    }

    fn rules() -> MarketRules {
        MarketRules {
            position_limit_units: 100,
            ..MarketRules::default()
        }
    }

    fn code(r: Result<Vec<Hold>, MarketError>) -> Option<ProblemCode> {
        match r {
            Err(MarketError::Conflict(c, _)) => Some(c),
            Err(e) => panic!("{e}"),
            Ok(_) => None,
        }
    }

    fn lots(grams: &[i64]) -> Vec<(String, Asset, i64)> {
        (1..)
            .zip(grams)
            .map(|(n, g)| {
                let b = format!("B{n}");
                (b.clone(), credit_asset(&b).unwrap(), *g)
            })
            .collect()
    }

    #[test]
    fn a_buy_holds_its_value_and_the_most_its_fees_can_be_within_the_position_limit() {
        let (i, r) = (instrument(), rules());
        let buy = |holding, buying, cash, kind| {
            let standing = Standing::Buy {
                holding,
                buying,
                cash,
            };
            holds_needed(&order("buy", 5_000, 10), &who(kind), &i, &r, standing)
        };
        // 10 t at 50.00 yuan: 50,000 fen, a fee of 0.1 % (50 fen) and a fen
        // of rounding for each unit (each could be a fill of its own).
        let holds = buy(0, 0, 50_060, OrgKind::Enterprise).unwrap();
        assert_eq!(holds.len(), 1);
        assert!(holds[0].1.is_none());
        match &holds[0].0.command {
            Command::Hold { asset, amount, .. } => {
                assert_eq!((asset, *amount), (&Asset::cny(), 50_060))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            code(buy(0, 0, 50_059, OrgKind::Enterprise)),
            Some(ProblemCode::InsufficientCash)
        );
        // 60 held + 30 being bought + 10: exactly the limit.
        assert_eq!(code(buy(60, 30, 50_060, OrgKind::Enterprise)), None);
        assert_eq!(
            code(buy(61, 30, 50_060, OrgKind::Enterprise)),
            Some(ProblemCode::PositionLimit)
        );
        // The reserve platform buys without a position limit.
        assert_eq!(code(buy(1_000, 30, 50_060, OrgKind::ReservePlatform)), None);
    }

    #[test]
    fn a_sell_holds_its_units_batch_by_batch_oldest_first_except_what_was_bought_today() {
        let (i, r) = (instrument(), rules());
        let sell = |grams: &[i64], bought_today, quantity, r: &MarketRules| {
            let standing = Standing::Sell {
                lots: lots(grams),
                bought_today,
            };
            holds_needed(
                &order("sell", 5_000, quantity),
                &who(OrgKind::Enterprise),
                &i,
                r,
                standing,
            )
        };
        let holds = sell(&[3 * T + 500, 4 * T, 9 * T], 0, 7, &r).unwrap();
        let taken: Vec<(String, i64, i32)> = holds
            .iter()
            .map(|(req, lot)| {
                let lot = lot.as_ref().unwrap();
                assert_eq!(req.id, lot.hold_id);
                (lot.batch_id.clone(), lot.grams, lot.position)
            })
            .collect();
        assert_eq!(
            taken,
            [("B1".into(), 3 * T + 500, 0), ("B2".into(), 4 * T - 500, 1)]
        );
        assert_eq!(
            code(sell(&[3 * T, 4 * T - 1], 0, 7, &r)),
            Some(ProblemCode::InsufficientUnits)
        );
        assert_eq!(
            code(sell(&[3 * T, 4 * T], 1, 7, &r)),
            Some(ProblemCode::TPlusOne)
        );
        let same_day = MarketRules {
            t_plus_one: false,
            ..rules()
        };
        assert_eq!(code(sell(&[3 * T, 4 * T], 7, 7, &same_day)), None);
    }
}
