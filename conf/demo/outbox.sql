-- The owning service's side of the transactional outbox (docs/MIGRATION.md,
-- step 7; also used by the tests): the outbox table as tablecast reads it,
-- and a small protobuf wire encoder in SQL, standing in for what a service
-- does with its own protoc-generated classes.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    event text NOT NULL,
    version int NOT NULL,
    key text,
    subject text,
    payload bytea NOT NULL,
    headers jsonb
);

-- Base-128 varint of a non-negative or two's complement 64-bit value.
CREATE FUNCTION pb_varint(v bigint) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    out bytea := '';
    u numeric := CASE WHEN v < 0 THEN v::numeric + 18446744073709551616 ELSE v END;
BEGIN
    LOOP
        IF u < 128 THEN
            RETURN out || set_byte('\x00'::bytea, 0, u::int);
        END IF;
        out := out || set_byte('\x00'::bytea, 0, (mod(u, 128) + 128)::int);
        u := div(u, 128);
    END LOOP;
END $$;

-- One field: tag (number << 3 | wire type), then the value.
CREATE FUNCTION pb_int(number int, v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT pb_varint(number::bigint << 3) || pb_varint(v) $$;
CREATE FUNCTION pb_bytes(number int, v bytea) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT pb_varint((number::bigint << 3) | 2) || pb_varint(length(v)) || v $$;
CREATE FUNCTION pb_string(number int, v text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT pb_bytes(number, convert_to(v, 'UTF8')) $$;

-- tablecast.v1.OutboxMessage (proto/tablecast/v1/outbox.proto).
CREATE FUNCTION outbox_message(event text, version int, key text, payload bytea,
                               subject text DEFAULT NULL) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT pb_string(1, event) || pb_int(2, version)
        || coalesce(pb_string(3, key), '') || coalesce(pb_string(4, subject), '')
        || pb_bytes(5, payload) $$;

-- The storefront writes its outbox; tablecast (which reads it through the
-- publication) needs no more than it has on the other tables.
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'storefront') THEN
        GRANT INSERT, DELETE ON outbox TO storefront;
        GRANT USAGE ON SEQUENCE outbox_id_seq TO storefront;
    END IF;
END $$;
