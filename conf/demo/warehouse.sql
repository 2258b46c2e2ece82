-- App 2, the warehouse: takes payment for the oldest placed order and ships the oldest paid one.
UPDATE orders SET status = 'paid'
WHERE id = (SELECT min(id) FROM orders WHERE status = 'placed');
UPDATE orders SET status = 'shipped', shipped_at = now(), carrier = (ARRAY['DHL','UPS','PostNL'])[1 + id % 3]
WHERE id = (SELECT min(id) FROM orders WHERE status = 'paid');
