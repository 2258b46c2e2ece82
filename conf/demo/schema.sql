-- The demo's shared database: a small shop whose tables two applications
-- read and write directly (the anti-pattern tablecast helps retire).
CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    full_name   text NOT NULL,
    country     char(2) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- CustomerEmailChanged compares old and new email: it needs the whole old row.
ALTER TABLE customers REPLICA IDENTITY FULL;

CREATE TYPE order_status AS ENUM ('placed', 'paid', 'shipped', 'cancelled');

CREATE TABLE orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers(id),
    status       order_status NOT NULL DEFAULT 'placed',
    total        numeric(12,2) NOT NULL DEFAULT 0,
    placed_at    timestamptz NOT NULL DEFAULT now(),
    shipped_at   timestamptz,
    carrier      text
);
-- Translators that compare old and new status need the whole old row.
ALTER TABLE orders REPLICA IDENTITY FULL;

CREATE TABLE order_lines (
    order_id    bigint NOT NULL REFERENCES orders(id),
    line_no     int NOT NULL,
    sku         text NOT NULL,
    quantity    int NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Internal bookkeeping of one application: deliberately not published.
CREATE TABLE storefront_sessions (
    token       text PRIMARY KEY,
    customer_id bigint,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
