//! Carbon accounts and the double-entry ledger: transactions (idempotent by
//! their client-supplied id and request hash), entries (one per posting,
//! append-only), balances (posted and held per account and asset; issuer
//! accounts spread over several shard rows so no single row is hot) and
//! holds (released or executed exactly once).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Kind,
    UserId,
    OrganizationId,
    Code,
    AllowNegative,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    Kind,
    RequestHash,
    Memo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    TransactionId,
    AccountId,
    Asset,
    Amount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerBalances {
    Table,
    AccountId,
    Asset,
    Shard,
    Posted,
    Held,
}

#[derive(DeriveIden)]
enum LedgerHolds {
    Table,
    Id,
    AccountId,
    Asset,
    Amount,
    Status,
    CreatedAt,
    ResolvedBy,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

fn to_accounts(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Accounts::Table, Accounts::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .if_not_exists()
                    .col(string_len(Accounts::Id, 36).primary_key())
                    .col(string_len(Accounts::Kind, 16))
                    .col(string_len_null(Accounts::UserId, 36).unique_key())
                    .col(string_len_null(Accounts::OrganizationId, 36).unique_key())
                    // System accounts (issuers, pools) are found by code.
                    .col(string_len_null(Accounts::Code, 64).unique_key())
                    .col(boolean(Accounts::AllowNegative))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Accounts::Table, Accounts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Accounts::Table, Accounts::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerTransactions::Table)
                    .if_not_exists()
                    .col(string_len(LedgerTransactions::Id, 100).primary_key())
                    .col(string_len(LedgerTransactions::Kind, 16))
                    .col(string_len(LedgerTransactions::RequestHash, 64))
                    .col(string_len_null(LedgerTransactions::Memo, 200))
                    .col(timestamp_with_time_zone(LedgerTransactions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .if_not_exists()
                    .col(big_pk_auto(LedgerEntries::Id))
                    .col(string_len(LedgerEntries::TransactionId, 100))
                    .col(string_len(LedgerEntries::AccountId, 36))
                    .col(string_len(LedgerEntries::Asset, 64))
                    .col(big_integer(LedgerEntries::Amount))
                    .col(timestamp_with_time_zone(LedgerEntries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LedgerEntries::Table, LedgerEntries::TransactionId)
                            .to(LedgerTransactions::Table, LedgerTransactions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut to_accounts(
                        LedgerEntries::Table,
                        LedgerEntries::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_account")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::AccountId)
                    .col(LedgerEntries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_transaction")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::TransactionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerBalances::Table)
                    .if_not_exists()
                    .col(string_len(LedgerBalances::AccountId, 36))
                    .col(string_len(LedgerBalances::Asset, 64))
                    .col(integer(LedgerBalances::Shard))
                    .col(big_integer(LedgerBalances::Posted))
                    .col(big_integer(LedgerBalances::Held))
                    .primary_key(
                        Index::create()
                            .col(LedgerBalances::AccountId)
                            .col(LedgerBalances::Asset)
                            .col(LedgerBalances::Shard),
                    )
                    .foreign_key(&mut to_accounts(
                        LedgerBalances::Table,
                        LedgerBalances::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerHolds::Table)
                    .if_not_exists()
                    // The id of the transaction that placed the hold.
                    .col(string_len(LedgerHolds::Id, 100).primary_key())
                    .col(string_len(LedgerHolds::AccountId, 36))
                    .col(string_len(LedgerHolds::Asset, 64))
                    .col(big_integer(LedgerHolds::Amount))
                    .col(string_len(LedgerHolds::Status, 16))
                    .col(timestamp_with_time_zone(LedgerHolds::CreatedAt))
                    .col(string_len_null(LedgerHolds::ResolvedBy, 100))
                    .foreign_key(&mut to_accounts(LedgerHolds::Table, LedgerHolds::AccountId))
                    .to_owned(),
            )
            .await
    }
}
