-- App 1, the storefront, next version: as storefront.sql, and it publishes
-- shop.orders.OrderPlaced v1 itself, from its outbox, in the transaction
-- that places the order (docs/MIGRATION.md, step 7).
-- psql variables: n (a running number).
BEGIN;
INSERT INTO customers (email, full_name, country)
VALUES ('buyer' || :n || '@example.com', 'Buyer Number ' || :n, (ARRAY['DE','FR','NL','SE'])[1 + :n % 4])
ON CONFLICT (email) DO NOTHING;
INSERT INTO storefront_sessions (token, customer_id)
SELECT md5(random()::text), id FROM customers WHERE email = 'buyer' || :n || '@example.com';
WITH o AS (
    INSERT INTO orders (customer_id)
    SELECT id FROM customers WHERE email = 'buyer' || :n || '@example.com'
    RETURNING id
)
INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price)
SELECT o.id, l, 'SKU-' || (100 + (:n * 7 + l) % 50), 1 + l % 3, 9.99 * l FROM o, generate_series(1, 2) l;
UPDATE orders o SET total = s.sum
FROM (SELECT order_id, sum(quantity * unit_price) AS sum FROM order_lines GROUP BY order_id) s
WHERE o.id = s.order_id AND o.status = 'placed' AND o.total = 0;
-- The event, as the translator declared it: order_id 1, customer_id 2,
-- total 3 (decimal text), placed_at 4 (google.protobuf.Timestamp).
INSERT INTO outbox (event, version, key, subject, payload)
SELECT 'shop.orders.OrderPlaced', 1, o.id::text, 'order/' || o.id,
       pb_int(1, o.id) || pb_int(2, o.customer_id) || pb_string(3, o.total::text)
       || pb_bytes(4, pb_int(1, floor(extract(epoch FROM o.placed_at))::bigint)
                      || pb_int(2, (extract(microseconds FROM o.placed_at)::bigint % 1000000) * 1000))
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE c.email = 'buyer' || :n || '@example.com' AND o.placed_at = now() AND o.total > 0;
DELETE FROM outbox;
-- Now and then a customer corrects an email address.
UPDATE customers SET email = 'Buyer' || (:n - 2) || '@Example.org'
WHERE email = 'buyer' || (:n - 2) || '@example.com' AND :n % 5 = 0;
COMMIT;
