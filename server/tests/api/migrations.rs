//! Migrations that rewrite tables keep what earlier versions stored.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::helpers::{backends, fresh_database};

/// Migration 10 rebuilds `personal_reductions` (keyed by trip and part
/// instead of trip): a database of version 9 with a credited trip keeps its
/// reduction record, now part 0, and the new key holds.
#[tokio::test]
async fn the_partner_feeds_migration_keeps_personal_reductions() {
    for backend in backends() {
        let (url, _dir) = fresh_database(backend).await;
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(9)).await.unwrap();
        let at = "'2026-11-28T08:00:00+08:00'";
        for sql in [
            format!("INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'a@lz.cn', 'x', {at})"),
            format!("INSERT INTO accounts (id, kind, user_id, allow_negative, created_at) VALUES ('a1', 'personal', 'u1', false, {at})"),
            format!(
                "INSERT INTO trips (id, user_id, client_trip_id, request_hash, started_at, ended_at, local_day, legs, distance_km, source, preset, preset_version, reduction_g, credited_g, points, status, reasons, created_at) \
                 VALUES ('t1', 'u1', 'c1', 'h', {at}, {at}, '2026-11-28', '[]', '8.55', 'gps', 'wuhan-2024', 1, '900.7', 901, 901, 'credited', '[]', {at})"
            ),
            format!(
                "INSERT INTO personal_reductions (id, trip_id, user_id, account_id, grams, preset, preset_version, local_day, created_at) \
                 VALUES ('r1', 't1', 'u1', 'a1', 901, 'wuhan-2024', 1, '2026-11-28', {at})"
            ),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, trip_id, part, grams FROM personal_reductions",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{backend:?}");
        let row = &rows[0];
        let got: (String, String, i16, i64) = (
            row.try_get("", "id").unwrap(),
            row.try_get("", "trip_id").unwrap(),
            row.try_get("", "part").unwrap(),
            row.try_get("", "grams").unwrap(),
        );
        assert_eq!(got, ("r1".into(), "t1".into(), 0, 901), "{backend:?}");
        let insert = |id: &str, part: i32| {
            format!(
                "INSERT INTO personal_reductions (id, trip_id, part, user_id, account_id, grams, preset, preset_version, local_day, created_at) \
                 VALUES ('{id}', 't1', {part}, 'u1', 'a1', 10, 'wuhan-2024', 1, '2026-11-28', {at})"
            )
        };
        db.execute_unprepared(&insert("r2", 1)).await.unwrap();
        assert!(
            db.execute_unprepared(&insert("r3", 1)).await.is_err(),
            "{backend:?}: one record per trip and part"
        );
    }
}

/// Migration 15 starts the registry's counters where the data left them: the
/// next project number follows the highest given, the next personal batch
/// of a vintage follows that vintage's count.
#[tokio::test]
async fn the_counters_migration_continues_the_numbers() {
    use tanpuhui_server::registry::counters::next;
    for backend in backends() {
        let (url, _dir) = fresh_database(backend).await;
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(14)).await.unwrap();
        let at = "'2026-11-28T08:00:00+08:00'";
        for sql in [
            format!("INSERT INTO organizations (id, kind, name, uscc, status, created_at) VALUES ('o1', 'enterprise', 'x', '91620100000000001X', 'approved', {at})"),
            format!("INSERT INTO accounts (id, kind, organization_id, allow_negative, created_at) VALUES ('a1', 'enterprise', 'o1', false, {at})"),
            format!(
                "INSERT INTO projects (id, number, organization_id, name, kind, methodology, methodology_version, region_code, location, crediting_start, crediting_end, documents, identities, status, created_by, created_at, updated_at) \
                 VALUES ('p1', 3, 'o1', 'x', 'afforestation', 'ccer-14-001-v01', 1, '620100', '{{}}', '2024-01-01', '2050-12-31', '[]', '[]', 'approved', 'u', {at}, {at})"
            ),
            format!(
                "INSERT INTO credit_batches (id, kind, vintage, methodology, methodology_version, quantity_g, buffer_g, holder_account_id, next_serial, retired_g, cancelled_g, issued_by, issued_at, audit_event_id) \
                 VALUES ('TPH-PER-2025-001', 'personal', 2025, 'wuhan-2024', 1, 10, 0, 'a1', 1, 0, 0, 'u', {at}, 1)"
            ),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(next(&db, "project").await.unwrap(), 4, "{backend:?}");
        assert_eq!(next(&db, "personal:2025").await.unwrap(), 2, "{backend:?}");
        assert_eq!(next(&db, "personal:2026").await.unwrap(), 1, "{backend:?}");
        assert_eq!(next(&db, "project").await.unwrap(), 5, "{backend:?}");
    }
}

/// Migrations 32 and 33 add rights to a populated database: organisations
/// (a bureau among them) and credit batches of version 31 stay as they
/// were; an allocation of version 32 gets what it converted (quantity less
/// unconverted), nothing expired, and a holder has one compliance year per
/// class and year.
#[tokio::test]
async fn the_rights_migrations_keep_what_was_there() {
    for backend in backends() {
        let (url, _dir) = fresh_database(backend).await;
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(31)).await.unwrap();
        let at = "'2026-12-07T08:00:00+08:00'";
        for sql in [
            format!("INSERT INTO organizations (id, kind, name, uscc, status, bureau, created_at) VALUES ('d1', 'government_department', '生态环境局', '91620100000000001X', 'approved', 'ecology', {at})"),
            format!("INSERT INTO organizations (id, kind, name, uscc, status, created_at) VALUES ('o1', 'enterprise', 'x', '91620100000000002X', 'approved', {at})"),
            format!("INSERT INTO accounts (id, kind, organization_id, allow_negative, created_at) VALUES ('a1', 'enterprise', 'o1', false, {at})"),
            format!(
                "INSERT INTO credit_batches (id, kind, vintage, methodology, methodology_version, quantity_g, buffer_g, holder_account_id, next_serial, retired_g, cancelled_g, issued_by, issued_at, audit_event_id, instrument) \
                 VALUES ('TPH-PER-2025-001', 'personal', 2025, 'wuhan-2024', 1, 10, 0, 'a1', 1, 0, 0, 'u', {at}, 1, 'TPH-PER-2025')"
            ),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        // `up` counts steps: one more is version 32.
        Migrator::up(&db, Some(1)).await.unwrap();
        db.execute_unprepared(&format!(
            "INSERT INTO right_allocations (id, batch_id, instrument, class, vintage, origin, holder_organization_id, bureau_organization_id, identifier, reserve_organization_id, quantity_g, unconverted_g, valid_until, status, allocated_by, created_at, updated_at) \
             VALUES ('r1', 'TPH-SO2-2026-00001', 'TPH-SO2-2026', 'so2', 2026, 'free', 'o1', 'd1', '91620100000000002X001P', 'o9', 1000000, 400000, '2031-03-31', 'active', 'u', {at}, {at})"
        ))
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();
        let one = |sql: &'static str| {
            let db = &db;
            async move {
                db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let r = one("SELECT converted_g, expired_g, unconverted_g FROM right_allocations").await;
        let got: (i64, i64, i64) = (
            r.try_get("", "converted_g").unwrap(),
            r.try_get("", "expired_g").unwrap(),
            r.try_get("", "unconverted_g").unwrap(),
        );
        assert_eq!(got, (600_000, 0, 400_000), "{backend:?}");
        let o = one("SELECT bureau FROM organizations WHERE id = 'd1'").await;
        assert_eq!(o.try_get::<String>("", "bureau").unwrap(), "ecology");
        let b = one("SELECT quantity_g FROM credit_batches").await;
        assert_eq!(b.try_get::<i64>("", "quantity_g").unwrap(), 10);
        let insert = |id: &str| {
            format!(
                "INSERT INTO right_compliance (id, class, year, organization_id, bureau_organization_id, verified_g, surrendered_g, deadline, recorded_by, created_at, updated_at) \
                 VALUES ('{id}', 'so2', 2026, 'o1', 'd1', 5, 0, '2027-03-31', 'u', {at}, {at})"
            )
        };
        db.execute_unprepared(&insert("c1")).await.unwrap();
        assert!(
            db.execute_unprepared(&insert("c2")).await.is_err(),
            "{backend:?}: one compliance year per class, year and holder"
        );
    }
}

/// Migration 35 counts land in lots of 0.01 mu: a database of version 34
/// with a land order, its day's bar and a reserve swap into land keeps
/// their meaning (10 mu are 1,000 lots), and carbon's rows are untouched.
#[tokio::test]
async fn the_land_lots_migration_scales_land_quantities_only() {
    for backend in backends() {
        let (url, _dir) = fresh_database(backend).await;
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(34)).await.unwrap();
        let at = "'2026-12-07T08:00:00+08:00'";
        let order = |id: &str, code: &str| {
            format!(
                "INSERT INTO orders (id, instrument, seq, organization_id, account_id, placed_by, client_order_id, request_hash, kind, side, price, quantity, remaining, filled, tif, status, trading_day, created_at, updated_at) \
                 VALUES ('{id}', '{code}', 1, 'o1', 'a1', 'u', '{id}', 'h', 'limit', 'sell', 3500000, 10, 4, 6, 'gtc', 'open', '2026-12-07', {at}, {at})"
            )
        };
        let bar = |code: &str| {
            format!(
                "INSERT INTO daily_bars (instrument, day, close, volume, turnover, block_volume, trades, previous_close, closed_at) \
                 VALUES ('{code}', '2026-12-07', 3500000, 6, 21000000, 2, 1, 3500000, {at})"
            )
        };
        for sql in [
            order("land", "TPH-LLS-2026"),
            order("carbon", "TPH-FOR-2025"),
            bar("TPH-LCI-2026"),
            bar("TPH-FOR-2025"),
            format!(
                "INSERT INTO reserve_operations (id, kind, status, reserve_organization_id, organization_id, client_id, request_hash, instrument, quantity, price, value, wanted_instrument, wanted_price, wanted_quantity, cash, lots, requested_by, created_at) \
                 VALUES ('s1', 'swap', 'offered', 'r1', 'o1', 'c', 'h', 'TPH-FOR-2025', 100, 5000, 500000, 'TPH-LLS-2026', 3500000, 1, 25000, '[]', 'u', {at})"
            ),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let row = |sql: String| {
            let db = &db;
            async move {
                db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        for (id, want) in [("land", (1_000, 400, 600)), ("carbon", (10, 4, 6))] {
            let o = row(format!(
                "SELECT quantity, remaining, filled, price FROM orders WHERE id = '{id}'"
            ))
            .await;
            let got: (i64, i64, i64) = (
                o.try_get("", "quantity").unwrap(),
                o.try_get("", "remaining").unwrap(),
                o.try_get("", "filled").unwrap(),
            );
            assert_eq!(got, want, "{backend:?} {id}");
            assert_eq!(o.try_get::<i64>("", "price").unwrap(), 3_500_000);
        }
        for (code, want) in [("TPH-LCI-2026", (600, 200)), ("TPH-FOR-2025", (6, 2))] {
            let b = row(format!(
                "SELECT volume, block_volume FROM daily_bars WHERE instrument = '{code}'"
            ))
            .await;
            let got: (i64, i64) = (
                b.try_get("", "volume").unwrap(),
                b.try_get("", "block_volume").unwrap(),
            );
            assert_eq!(got, want, "{backend:?} {code}");
        }
        let s = row("SELECT quantity, wanted_quantity FROM reserve_operations".into()).await;
        let got: (i64, i64) = (
            s.try_get("", "quantity").unwrap(),
            s.try_get("", "wanted_quantity").unwrap(),
        );
        assert_eq!(
            got,
            (100, 100),
            "{backend:?}: the swap gives carbon, takes land"
        );
    }
}
