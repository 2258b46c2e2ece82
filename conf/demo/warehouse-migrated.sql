-- App 2 after the migration (docs/MIGRATION.md, step 5): the warehouse finds
-- the orders to pay and ship in its own read model, built from the events,
-- and no longer reads the storefront's orders table. It still sets their
-- status here (by id, which needs only SELECT (id)): that write is the
-- next thing to migrate. psql variables: id, status.
UPDATE orders SET status = :'status',
       shipped_at = CASE WHEN :'status' = 'shipped' THEN now() END,
       carrier = CASE WHEN :'status' = 'shipped' THEN 'DHL' END
WHERE id = :id;
