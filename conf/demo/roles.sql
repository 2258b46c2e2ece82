-- Each demo app connects as a role of its own, so that `tablecast audit`
-- can tell who reads and writes each shared table (docs/MIGRATION.md).
-- The statistics it reads: needs shared_preload_libraries = 'pg_stat_statements'.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- The storefront places orders (and removes one placed by mistake): it owns
-- customers and orders.
CREATE ROLE storefront LOGIN;
GRANT SELECT, INSERT, UPDATE ON customers, orders, order_lines, storefront_sessions TO storefront;
GRANT DELETE ON orders, order_lines TO storefront;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO storefront;
-- The warehouse reads the orders to take payment and ship them.
CREATE ROLE warehouse LOGIN;
GRANT SELECT, UPDATE ON orders TO warehouse;
