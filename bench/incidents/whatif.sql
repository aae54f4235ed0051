-- What-if plans for bench/incidents/RESULTS.md: the slow reads as the app role under RLS, as the app
-- writes them (tenant_id = ANY (app_tenant_ids())), then with the changes proposed there.
-- psql -d <bench db> -v unit=14 [-v keep=1] -f bench/incidents/whatif.sql   (as a superuser, on the THROWAWAY
-- database only: section 3 creates indexes and section 4 flips a catalog flag, both undone at the end
-- unless keep is set, for a what-if run of lifecycle.py).
\set ON_ERROR_STOP on
\pset pager off
SET max_parallel_workers_per_gather = 0;

\echo '== 1. as the app writes them'
BEGIN;
SET LOCAL ROLE liandong_app;
SELECT set_config('app.tenant_ids', '{1}', true);
\echo '-- inbox page 1 (GET /units/<id>/instructions)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM instructions
 WHERE unit_id = :unit AND tenant_id = ANY (app_tenant_ids()) ORDER BY id DESC LIMIT 10 OFFSET 0;
\echo '-- its count'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM instructions
 WHERE unit_id = :unit AND tenant_id = ANY (app_tenant_ids());
\echo '-- incident list page 1 (GET /incidents)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM incidents
 WHERE tenant_id = ANY (app_tenant_ids()) ORDER BY received_at DESC, id DESC LIMIT 10 OFFSET 0;
\echo '-- search count (GET /incidents?q=漏水)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM incidents
 WHERE search_vector @@ '''漏水'''::tsquery
   AND strpos(lower(description || E'\n' || address), '漏水') > 0 AND tenant_id = ANY (app_tenant_ids());
ROLLBACK;

\echo '== 2. the ORM tenant criterion as an equality when the scope is one tenant (tenant_id = 1)'
BEGIN;
SET LOCAL ROLE liandong_app;
SELECT set_config('app.tenant_ids', '{1}', true);
\echo '-- inbox page 1'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM instructions
 WHERE unit_id = :unit AND tenant_id = 1 ORDER BY id DESC LIMIT 10 OFFSET 0;
\echo '-- incident list page 1'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM incidents
 WHERE tenant_id = 1 ORDER BY received_at DESC, id DESC LIMIT 10 OFFSET 0;
ROLLBACK;

\echo '== 3. proposed indexes (created here only, in the throwaway database)'
CREATE INDEX IF NOT EXISTS bench_ix_instructions_unit_id_id ON instructions (unit_id, id);
CREATE INDEX IF NOT EXISTS bench_ix_incidents_received_at_id ON incidents (received_at, id);
CREATE INDEX IF NOT EXISTS bench_ix_instructions_tenant_unit_id ON instructions (tenant_id, unit_id, id);
CREATE INDEX IF NOT EXISTS bench_ix_incidents_tenant_received_id ON incidents (tenant_id, received_at, id);
VACUUM ANALYZE instructions;
VACUUM ANALYZE incidents;
BEGIN;
SET LOCAL ROLE liandong_app;
SELECT set_config('app.tenant_ids', '{1}', true);
\echo '-- inbox page 1 as the app writes it today (= ANY), with (unit_id, id)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM instructions
 WHERE unit_id = :unit AND tenant_id = ANY (app_tenant_ids()) ORDER BY id DESC LIMIT 10 OFFSET 0;
\echo '-- inbox count as today, with the new indexes'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM instructions
 WHERE unit_id = :unit AND tenant_id = ANY (app_tenant_ids());
\echo '-- incident list page 1 as today (= ANY), with (received_at, id)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM incidents
 WHERE tenant_id = ANY (app_tenant_ids()) ORDER BY received_at DESC, id DESC LIMIT 10 OFFSET 0;
\echo '-- inbox page 1 with tenant_id = 1, with (tenant_id, unit_id, id)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM instructions
 WHERE unit_id = :unit AND tenant_id = 1 ORDER BY id DESC LIMIT 10 OFFSET 0;
\echo '-- incident list page 1 with tenant_id = 1, with (tenant_id, received_at, id)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM incidents
 WHERE tenant_id = 1 ORDER BY received_at DESC, id DESC LIMIT 10 OFFSET 0;
ROLLBACK;
DROP INDEX bench_ix_instructions_tenant_unit_id;
DROP INDEX bench_ix_incidents_tenant_received_id;
\if :{?keep}
\echo 'keeping bench_ix_instructions_unit_id_id and bench_ix_incidents_received_at_id (-v keep=1)'
\else
DROP INDEX bench_ix_instructions_unit_id_id;
DROP INDEX bench_ix_incidents_received_at_id;
\endif

\echo '== 4. search: @@ (ts_match_vq) is not LEAKPROOF, so under RLS it cannot be an index condition'
SELECT proname, proleakproof FROM pg_proc WHERE proname = 'ts_match_vq';
ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF;
BEGIN;
SET LOCAL ROLE liandong_app;
SELECT set_config('app.tenant_ids', '{1}', true);
\echo '-- search count, ts_match_vq marked LEAKPROOF (this database only)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM incidents
 WHERE search_vector @@ '''漏水'''::tsquery
   AND strpos(lower(description || E'\n' || address), '漏水') > 0 AND tenant_id = ANY (app_tenant_ids());
\echo '-- search page 1'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM incidents
 WHERE search_vector @@ '''漏水'''::tsquery
   AND strpos(lower(description || E'\n' || address), '漏水') > 0 AND tenant_id = ANY (app_tenant_ids())
 ORDER BY received_at DESC, id DESC LIMIT 10;
ROLLBACK;
\if :{?keep}
\echo 'keeping ts_match_vq LEAKPROOF in this database (-v keep=1)'
\else
ALTER FUNCTION ts_match_vq(tsvector, tsquery) NOT LEAKPROOF;
\endif
