//! Block trades (大宗协议: a seller's proposal to a named buyer, answered
//! by the end of the trading day) and one-way bidding auctions (单向竞价:
//! a lot, sealed bids, one clearing price). Both hold through orders: the
//! proposal's and the lot's units by a sell order, each bid's cash by a
//! buy order that names its auction, so settlement stays one path.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    AuctionId,
    Status,
}

#[derive(DeriveIden)]
enum BlockTrades {
    Table,
    Id,
    Instrument,
    SellerOrganizationId,
    BuyerOrganizationId,
    SellOrderId,
    BuyOrderId,
    Price,
    Quantity,
    Status,
    TradingDay,
    TradeId,
    Reason,
    ProposedBy,
    DecidedBy,
    CreatedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Auctions {
    Table,
    Id,
    Instrument,
    SellerOrganizationId,
    SellOrderId,
    Quantity,
    ReservePrice,
    MinBidUnits,
    BidderCapUnits,
    OpensAt,
    ClosesAt,
    Status,
    ClearingPrice,
    Sold,
    Bids,
    Winners,
    Reason,
    CreatedBy,
    CreatedAt,
    ClosedAt,
}

async fn index(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    name: &str,
    cols: Vec<impl IntoIden + 'static>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for c in cols {
        index.col(c);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_len_null(Orders::AuctionId, 36))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Orders::Table,
            "orders_auction",
            vec![Orders::AuctionId, Orders::Status],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlockTrades::Table)
                    .if_not_exists()
                    .col(string_len(BlockTrades::Id, 36).primary_key())
                    .col(string_len(BlockTrades::Instrument, 32))
                    .col(string_len(BlockTrades::SellerOrganizationId, 36))
                    .col(string_len(BlockTrades::BuyerOrganizationId, 36))
                    .col(string_len(BlockTrades::SellOrderId, 36).unique_key())
                    .col(string_len_null(BlockTrades::BuyOrderId, 36))
                    .col(big_integer(BlockTrades::Price))
                    .col(big_integer(BlockTrades::Quantity))
                    .col(string_len(BlockTrades::Status, 16))
                    .col(string_len(BlockTrades::TradingDay, 10))
                    .col(string_len_null(BlockTrades::TradeId, 36))
                    .col(string_len_null(BlockTrades::Reason, 500))
                    .col(string_len(BlockTrades::ProposedBy, 36))
                    .col(string_len_null(BlockTrades::DecidedBy, 36))
                    .col(timestamp_with_time_zone(BlockTrades::CreatedAt))
                    .col(timestamp_with_time_zone_null(BlockTrades::DecidedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "block_trades_buyer",
                vec![BlockTrades::BuyerOrganizationId, BlockTrades::Status],
            ),
            (
                "block_trades_seller",
                vec![BlockTrades::SellerOrganizationId, BlockTrades::Status],
            ),
            (
                "block_trades_day",
                vec![
                    BlockTrades::Instrument,
                    BlockTrades::Status,
                    BlockTrades::TradingDay,
                ],
            ),
        ] {
            index(manager, BlockTrades::Table, name, cols).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Auctions::Table)
                    .if_not_exists()
                    .col(string_len(Auctions::Id, 36).primary_key())
                    .col(string_len(Auctions::Instrument, 32))
                    .col(string_len(Auctions::SellerOrganizationId, 36))
                    .col(string_len(Auctions::SellOrderId, 36).unique_key())
                    .col(big_integer(Auctions::Quantity))
                    .col(big_integer(Auctions::ReservePrice))
                    .col(big_integer(Auctions::MinBidUnits))
                    .col(big_integer(Auctions::BidderCapUnits))
                    .col(timestamp_with_time_zone(Auctions::OpensAt))
                    .col(timestamp_with_time_zone(Auctions::ClosesAt))
                    .col(string_len(Auctions::Status, 16))
                    .col(big_integer_null(Auctions::ClearingPrice))
                    .col(big_integer(Auctions::Sold))
                    .col(big_integer(Auctions::Bids))
                    .col(big_integer(Auctions::Winners))
                    .col(string_len_null(Auctions::Reason, 500))
                    .col(string_len(Auctions::CreatedBy, 36))
                    .col(timestamp_with_time_zone(Auctions::CreatedAt))
                    .col(timestamp_with_time_zone_null(Auctions::ClosedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("auctions_due", vec![Auctions::Status, Auctions::ClosesAt]),
            (
                "auctions_instrument",
                vec![Auctions::Instrument, Auctions::CreatedAt],
            ),
        ] {
            index(manager, Auctions::Table, name, cols).await?;
        }
        Ok(())
    }
}
