//! Land indicators trade in hundredths of a mu: the market's quantities
//! of land instruments (`TPH-LCI-*`, `TPH-LLS-*`) become lots of 0.01 mu,
//! so every stored quantity, volume and unit count of them is multiplied
//! by 100. Other instruments count whole units, one lot each: untouched.
//! Prices stay fen per unit; ledger amounts were never in units.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const LAND: &str = "(instrument LIKE 'TPH-LCI-%' OR instrument LIKE 'TPH-LLS-%')";

/// (table, columns, which rows): every place the market counts lots.
fn updates() -> Vec<String> {
    let land_pledges = format!("pledge_id IN (SELECT id FROM pledges WHERE {LAND})");
    let scale = |table: &str, columns: &[&str], filter: &str| {
        let set: Vec<String> = columns.iter().map(|c| format!("{c} = {c} * 100")).collect();
        format!("UPDATE {table} SET {} WHERE {filter}", set.join(", "))
    };
    vec![
        scale("orders", &["quantity", "remaining", "filled"], LAND),
        scale("trades", &["quantity"], LAND),
        scale("daily_bars", &["volume", "block_volume"], LAND),
        scale("block_trades", &["quantity"], LAND),
        scale(
            "auctions",
            &["quantity", "min_bid_units", "bidder_cap_units", "sold"],
            LAND,
        ),
        scale("reserve_operations", &["quantity"], LAND),
        scale(
            "reserve_operations",
            &["wanted_quantity"],
            "(wanted_instrument LIKE 'TPH-LCI-%' OR wanted_instrument LIKE 'TPH-LLS-%')",
        ),
        scale("pledges", &["quantity", "released_units"], LAND),
        scale("pledge_events", &["units"], &land_pledges),
        scale("pledge_valuations", &["collateral_units"], &land_pledges),
        scale("insurance_policies", &["quantity"], LAND),
        scale("stabilisation_actions", &["quantity"], LAND),
        scale("guidance_reviews", &["volume"], LAND),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in updates() {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
