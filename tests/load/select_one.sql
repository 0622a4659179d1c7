-- pgbench baseline: what GET /api/v1/me asks of PostgreSQL, four indexed
-- point reads, with no HTTP, JSON, JWT or pool in between.
\set n random(1, 1000)
SELECT id FROM bench_users WHERE id = :n;
SELECT id FROM bench_users WHERE id = :n;
SELECT id FROM bench_users WHERE id = :n;
SELECT id FROM bench_users WHERE id = :n;
