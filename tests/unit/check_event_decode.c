/* Unit tests for src/event_decode.c. */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "encoder.h"
#include "event_decode.h"
#include "run_suite.h"

static struct EventField field(const char *name, uint32_t number, enum field_type type)
{
	return (struct EventField){.name = (char *)name, .number = number, .type = type};
}

/* What enc_protobuf writes, evd_decode reads back: the same JSON from both value sets. */
START_TEST(test_round_trip)
{
	struct EventField fields[] = {field("id", 1, FT_INT64), field("qty", 2, FT_SINT32),
				      field("label", 3, FT_STRING), field("price", 4, FT_DECIMAL),
				      field("at", 5, FT_TIMESTAMP), field("absent", 6, FT_INT32)};
	struct EventDef ev = {.name = (char *)"t.Item", .version = 1, .fields = fields, .nfields = 6};
	struct Value in[6] = {
		{.kind = VAL_INT, .i = 42},
		{.kind = VAL_INT, .i = -7},
		{.kind = VAL_TEXT, .s = {"widget", 6}},
		{.kind = VAL_NUMERIC, .s = {"12.50", 5}},
		{.kind = VAL_TIMESTAMP, .ts = 1234567},
		{.kind = VAL_NULL},
	};
	struct StrBuf pb = {0}, a = {0}, b = {0};
	char err[256];
	ck_assert_int_eq(enc_protobuf(&ev, in, &pb, err, sizeof(err)), 0);

	struct Value out[6];
	Arena *arena = arena_new();
	ck_assert(evd_decode(&ev, (const uint8_t *)pb.data, pb.len, arena, out));
	ck_assert_int_eq(out[5].kind, VAL_NULL);
	ck_assert_int_eq(enc_json(&ev, in, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(enc_json(&ev, out, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(a.data, b.data);

	/* Truncated bytes or an unknown field number do not decode. */
	ck_assert(!evd_decode(&ev, (const uint8_t *)pb.data, pb.len - 1, arena, out));
	const uint8_t unknown[] = {0x38, 0x01}; /* field 7, varint 1 */
	ck_assert(!evd_decode(&ev, unknown, sizeof(unknown), arena, out));
	arena_free(arena);
	sb_free(&pb);
	sb_free(&a);
	sb_free(&b);
}
END_TEST

/* The event inside a structured-mode CloudEvent, as enc_cloudevent writes it. */
START_TEST(test_cloudevent_data)
{
	const uint8_t payload[] = {0x08, 0x2a};
	struct CloudEventAttrs attrs = {.id = "0/16B3748-2", .source = "/s", .type = "t.Item.v1",
					.subject = "item/42", .time_us = 1};
	struct StrBuf ce = {0};
	ck_assert_int_eq(enc_cloudevent(&attrs, payload, sizeof(payload), &ce), 0);
	const uint8_t *data;
	size_t len;
	ck_assert(evd_cloudevent_data((const uint8_t *)ce.data, ce.len, &data, &len));
	ck_assert_uint_eq(len, sizeof(payload));
	ck_assert(memcmp(data, payload, len) == 0);
	/* Without data, or not a CloudEvent: nothing. */
	sb_reset(&ce);
	ck_assert_int_eq(enc_cloudevent(&attrs, NULL, 0, &ce), 0);
	ck_assert(!evd_cloudevent_data((const uint8_t *)ce.data, ce.len, &data, &len));
	const uint8_t junk[] = {0x0a, 0x05, 'a'};
	ck_assert(!evd_cloudevent_data(junk, sizeof(junk), &data, &len));
	sb_free(&ce);
}
END_TEST

START_TEST(test_event_for_type)
{
	struct EventDef events[2] = {{.name = (char *)"shop.Order", .version = 1},
				     {.name = (char *)"shop.Order", .version = 2}};
	struct Config cfg = {.events = events, .nevents = 2};
	ck_assert_ptr_eq(evd_event_for_type(&cfg, "shop.Order.v2", 13), &events[1]);
	ck_assert_ptr_eq(evd_event_for_type(&cfg, "shop.Order.v2x", 13), &events[1]);
	ck_assert_ptr_null(evd_event_for_type(&cfg, "shop.Order.v3", 13));
	ck_assert_ptr_null(evd_event_for_type(&cfg, "shop.Order.v1x", 14));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event_decode");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_cloudevent_data);
	tcase_add_test(tc, test_event_for_type);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
