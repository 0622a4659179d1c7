//! The market's first tables: instruments (what is tradeable and its
//! rules), every credit batch's instrument, holds that are drawn in parts
//! (an order fills in several trades), and cash: deposits confirmed by a
//! settlement bank and withdrawals it executes or refuses.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instruments {
    Table,
    Code,
    Class,
    Vintage,
    Unit,
    MinorPerUnit,
    Status,
    ReferencePrice,
    LastSequence,
    ListedBy,
    ListedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CreditBatches {
    Table,
    Instrument,
}

#[derive(DeriveIden)]
enum LedgerHolds {
    Table,
    Drawn,
}

#[derive(DeriveIden)]
enum CashDeposits {
    Table,
    Id,
    BankId,
    Reference,
    OrganizationId,
    AccountId,
    Amount,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CashWithdrawals {
    Table,
    Id,
    OrganizationId,
    AccountId,
    Amount,
    BankAccount,
    Status,
    RequestedBy,
    RequestedAt,
    DecidedBy,
    DecidedAt,
    BankId,
    Reference,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instruments::Table)
                    .if_not_exists()
                    .col(string_len(Instruments::Code, 32).primary_key())
                    .col(string_len(Instruments::Class, 32))
                    .col(integer(Instruments::Vintage))
                    .col(string_len(Instruments::Unit, 16))
                    .col(big_integer(Instruments::MinorPerUnit))
                    .col(string_len(Instruments::Status, 16))
                    .col(big_integer(Instruments::ReferencePrice))
                    // The last order sequence number given out: orders of
                    // one instrument are serialised on this row.
                    .col(big_integer(Instruments::LastSequence).default(0))
                    .col(string_len(Instruments::ListedBy, 36))
                    .col(timestamp_with_time_zone(Instruments::ListedAt))
                    .col(timestamp_with_time_zone(Instruments::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CreditBatches::Table)
                    .add_column(string_len_null(CreditBatches::Instrument, 32))
                    .to_owned(),
            )
            .await?;
        // Every batch issued so far belongs to the instrument of its kind
        // and vintage.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE credit_batches SET instrument = 'TPH-PER-' || CAST(vintage AS TEXT) \
             WHERE kind = 'personal'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE credit_batches SET instrument = CASE WHEN \
             (SELECT p.kind FROM projects p WHERE p.id = credit_batches.project_id) = 'afforestation' \
             THEN 'TPH-FOR-' ELSE 'TPH-PRJ-' END || CAST(vintage AS TEXT) \
             WHERE kind = 'project'",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("credit_batches_instrument")
                    .table(CreditBatches::Table)
                    .col(CreditBatches::Instrument)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerHolds::Table)
                    .add_column(big_integer(LedgerHolds::Drawn).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CashDeposits::Table)
                    .if_not_exists()
                    .col(string_len(CashDeposits::Id, 36).primary_key())
                    .col(string_len(CashDeposits::BankId, 36))
                    .col(string_len(CashDeposits::Reference, 64))
                    .col(string_len(CashDeposits::OrganizationId, 36))
                    .col(string_len(CashDeposits::AccountId, 36))
                    .col(big_integer(CashDeposits::Amount))
                    .col(string_len(CashDeposits::RecordedBy, 36))
                    .col(timestamp_with_time_zone(CashDeposits::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cash_deposits_bank_reference")
                    .table(CashDeposits::Table)
                    .col(CashDeposits::BankId)
                    .col(CashDeposits::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cash_deposits_organization")
                    .table(CashDeposits::Table)
                    .col(CashDeposits::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CashWithdrawals::Table)
                    .if_not_exists()
                    .col(string_len(CashWithdrawals::Id, 36).primary_key())
                    .col(string_len(CashWithdrawals::OrganizationId, 36))
                    .col(string_len(CashWithdrawals::AccountId, 36))
                    .col(big_integer(CashWithdrawals::Amount))
                    .col(string_len(CashWithdrawals::BankAccount, 64))
                    .col(string_len(CashWithdrawals::Status, 16))
                    .col(string_len(CashWithdrawals::RequestedBy, 36))
                    .col(timestamp_with_time_zone(CashWithdrawals::RequestedAt))
                    .col(string_len_null(CashWithdrawals::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(CashWithdrawals::DecidedAt))
                    .col(string_len(CashWithdrawals::BankId, 36))
                    .col(string_len_null(CashWithdrawals::Reference, 64))
                    .col(string_len_null(CashWithdrawals::Reason, 500))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cash_withdrawals_organization")
                    .table(CashWithdrawals::Table)
                    .col(CashWithdrawals::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cash_withdrawals_status")
                    .table(CashWithdrawals::Table)
                    .col(CashWithdrawals::Status)
                    .to_owned(),
            )
            .await
    }
}
