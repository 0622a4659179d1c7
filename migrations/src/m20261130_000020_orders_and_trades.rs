//! Orders of the continuous book (and picks), the credit batches a sell
//! order holds, trades and what each delivered from which batch, and each
//! instrument's daily bars (the close).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Instrument,
    Seq,
    OrganizationId,
    AccountId,
    PlacedBy,
    ClientOrderId,
    RequestHash,
    Kind,
    Side,
    Price,
    Quantity,
    Remaining,
    Filled,
    Tif,
    Status,
    Reason,
    PickedOrderId,
    TradingDay,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLots {
    Table,
    OrderId,
    Position,
    BatchId,
    HoldId,
    Grams,
}

#[derive(DeriveIden)]
enum Trades {
    Table,
    Id,
    Instrument,
    Seq,
    Method,
    BuyOrderId,
    SellOrderId,
    BuyerOrganizationId,
    SellerOrganizationId,
    BuyerAccountId,
    SellerAccountId,
    Price,
    Quantity,
    Value,
    BuyerFee,
    SellerFee,
    TakerSide,
    TradingDay,
    AuditEventId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DailyBars {
    Table,
    Instrument,
    Day,
    Open,
    High,
    Low,
    Close,
    Vwap,
    Volume,
    Turnover,
    BlockVolume,
    Trades,
    PreviousClose,
    ClosedAt,
}

#[derive(DeriveIden)]
enum TradeDeliveries {
    Table,
    TradeId,
    BatchId,
    Grams,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(string_len(Orders::Id, 36).primary_key())
                    .col(string_len(Orders::Instrument, 32))
                    .col(big_integer(Orders::Seq))
                    .col(string_len(Orders::OrganizationId, 36))
                    .col(string_len(Orders::AccountId, 36))
                    .col(string_len(Orders::PlacedBy, 36))
                    .col(string_len(Orders::ClientOrderId, 64))
                    .col(string_len(Orders::RequestHash, 64))
                    .col(string_len(Orders::Kind, 16))
                    .col(string_len(Orders::Side, 4))
                    .col(big_integer(Orders::Price))
                    .col(big_integer(Orders::Quantity))
                    .col(big_integer(Orders::Remaining))
                    .col(big_integer(Orders::Filled))
                    .col(string_len(Orders::Tif, 8))
                    .col(string_len(Orders::Status, 16))
                    .col(string_len_null(Orders::Reason, 32))
                    .col(string_len_null(Orders::PickedOrderId, 36))
                    .col(string_len(Orders::TradingDay, 10))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "orders_client_order_id",
                vec![Orders::OrganizationId, Orders::ClientOrderId],
                true,
            ),
            (
                "orders_instrument_seq",
                vec![Orders::Instrument, Orders::Seq],
                true,
            ),
            // The book: open orders of a side, best price then time.
            (
                "orders_book",
                vec![
                    Orders::Instrument,
                    Orders::Status,
                    Orders::Side,
                    Orders::Price,
                    Orders::Seq,
                ],
                false,
            ),
            (
                "orders_organization",
                vec![Orders::OrganizationId, Orders::Status],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Orders::Table);
            for c in cols {
                index.col(c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderLots::Table)
                    .if_not_exists()
                    .col(string_len(OrderLots::OrderId, 36))
                    .col(integer(OrderLots::Position))
                    .col(string_len(OrderLots::BatchId, 50))
                    .col(string_len(OrderLots::HoldId, 100))
                    .col(big_integer(OrderLots::Grams))
                    .primary_key(
                        Index::create()
                            .col(OrderLots::OrderId)
                            .col(OrderLots::Position),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Trades::Table)
                    .if_not_exists()
                    .col(string_len(Trades::Id, 36).primary_key())
                    .col(string_len(Trades::Instrument, 32))
                    .col(big_integer(Trades::Seq))
                    .col(string_len(Trades::Method, 16))
                    .col(string_len_null(Trades::BuyOrderId, 36))
                    .col(string_len_null(Trades::SellOrderId, 36))
                    .col(string_len(Trades::BuyerOrganizationId, 36))
                    .col(string_len(Trades::SellerOrganizationId, 36))
                    .col(string_len(Trades::BuyerAccountId, 36))
                    .col(string_len(Trades::SellerAccountId, 36))
                    .col(big_integer(Trades::Price))
                    .col(big_integer(Trades::Quantity))
                    .col(big_integer(Trades::Value))
                    .col(big_integer(Trades::BuyerFee))
                    .col(big_integer(Trades::SellerFee))
                    .col(string_len_null(Trades::TakerSide, 4))
                    .col(string_len(Trades::TradingDay, 10))
                    .col(big_integer(Trades::AuditEventId))
                    .col(timestamp_with_time_zone(Trades::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("trades_tape", vec![Trades::Instrument, Trades::Seq]),
            ("trades_day", vec![Trades::Instrument, Trades::TradingDay]),
            (
                "trades_buyer",
                vec![Trades::BuyerOrganizationId, Trades::TradingDay],
            ),
            ("trades_seller", vec![Trades::SellerOrganizationId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Trades::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TradeDeliveries::Table)
                    .if_not_exists()
                    .col(string_len(TradeDeliveries::TradeId, 36))
                    .col(string_len(TradeDeliveries::BatchId, 50))
                    .col(big_integer(TradeDeliveries::Grams))
                    .primary_key(
                        Index::create()
                            .col(TradeDeliveries::TradeId)
                            .col(TradeDeliveries::BatchId),
                    )
                    .to_owned(),
            )
            .await?;
        // One bar per instrument and trading day: the key is also what
        // makes the close run once among several replicas.
        manager
            .create_table(
                Table::create()
                    .table(DailyBars::Table)
                    .if_not_exists()
                    .col(string_len(DailyBars::Instrument, 32))
                    .col(string_len(DailyBars::Day, 10))
                    .col(big_integer_null(DailyBars::Open))
                    .col(big_integer_null(DailyBars::High))
                    .col(big_integer_null(DailyBars::Low))
                    .col(big_integer(DailyBars::Close))
                    .col(big_integer_null(DailyBars::Vwap))
                    .col(big_integer(DailyBars::Volume))
                    .col(big_integer(DailyBars::Turnover))
                    .col(big_integer(DailyBars::BlockVolume))
                    .col(big_integer(DailyBars::Trades))
                    .col(big_integer(DailyBars::PreviousClose))
                    .col(timestamp_with_time_zone(DailyBars::ClosedAt))
                    .primary_key(
                        Index::create()
                            .col(DailyBars::Instrument)
                            .col(DailyBars::Day),
                    )
                    .to_owned(),
            )
            .await
    }
}
