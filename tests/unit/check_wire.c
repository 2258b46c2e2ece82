/* Unit tests for src/wire.c: what the encoder writes reads back to the same values. */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "arena.h"
#include "encoder.h"
#include "run_suite.h"
#include "wire.h"

static char *carriers[] = {(char *)"DHL", (char *)"UPS"};

START_TEST(test_event_round_trip)
{
	struct EventField fields[] = {
	    {.name = (char *)"id", .number = 1, .type = FT_INT64},
	    {.name = (char *)"carrier",
	     .number = 2,
	     .type = FT_ENUM,
	     .enum_values = carriers,
	     .n_enum_values = 2},
	    {.name = (char *)"total", .number = 3, .type = FT_DECIMAL},
	    {.name = (char *)"at", .number = 4, .type = FT_TIMESTAMP},
	    {.name = (char *)"delta", .number = 5, .type = FT_SINT32},
	    {.name = (char *)"note", .number = 6, .type = FT_STRING},
	};
	struct EventDef ev = {.name = (char *)"p.E", .version = 1, .fields = fields, .nfields = 6};
	struct Value in[6] = {
	    {.kind = VAL_INT, .i = -42},
	    {.kind = VAL_TEXT, .s = {"UPS", 3}},
	    {.kind = VAL_NUMERIC, .s = {"12.50", 5}},
	    {.kind = VAL_TIMESTAMP, .ts = 1795507500123456},
	    {.kind = VAL_INT, .i = -7},
	    {.kind = VAL_NULL},
	};
	struct StrBuf out = {0};
	char err[256];
	ck_assert_int_eq(enc_protobuf(&ev, in, &out, err, sizeof(err)), 0);

	Arena *arena = arena_new();
	struct Value back[6];
	ck_assert(wire_decode_event(&ev, (const uint8_t *)out.data, out.len, arena, back));
	ck_assert_int_eq(back[0].kind, VAL_INT);
	ck_assert_int_eq(back[0].i, -42);
	ck_assert_int_eq(back[1].kind, VAL_TEXT);
	ck_assert_mem_eq(back[1].s.p, "UPS", 3);
	ck_assert_int_eq(back[2].kind, VAL_NUMERIC);
	ck_assert_mem_eq(back[2].s.p, "12.50", 5);
	ck_assert_int_eq(back[3].kind, VAL_TIMESTAMP);
	ck_assert_int_eq(back[3].ts, 1795507500123456);
	ck_assert_int_eq(back[4].i, -7);
	ck_assert_int_eq(back[5].kind, VAL_NULL);

	/* A field number the event does not declare, and a cut message, do not decode. */
	ck_assert(!wire_decode_event(&ev, (const uint8_t *)"\x38\x01", 2, arena, back));
	ck_assert(!wire_decode_event(&ev, (const uint8_t *)out.data, out.len - 1, arena, back));
	arena_free(arena);
	sb_free(&out);
}
END_TEST

START_TEST(test_cloudevent_round_trip)
{
	struct CloudEventAttrs a = {
	    .id = "0/1-0", .source = "//db", .type = "p.E.v1", .subject = "s", .time_us = 1};
	struct StrBuf out = {0};
	Arena *arena = arena_new();
	struct WireCloudEvent ce;

	ck_assert_int_eq(enc_cloudevent(&a, "type.googleapis.com/p.v1.E", "\x08\x01", 2, &out), 0);
	ck_assert(wire_decode_cloudevent((const uint8_t *)out.data, out.len, arena, &ce));
	ck_assert_str_eq(ce.id, "0/1-0");
	ck_assert_str_eq(ce.source, "//db");
	ck_assert_str_eq(ce.spec_version, "1.0");
	ck_assert_str_eq(ce.type, "p.E.v1");
	ck_assert_str_eq(ce.type_url, "type.googleapis.com/p.v1.E");
	ck_assert_uint_eq(ce.data_len, 2);
	ck_assert_mem_eq(ce.data, "\x08\x01", 2);

	/* binary_data: no type URL. */
	sb_reset(&out);
	ck_assert_int_eq(enc_cloudevent(&a, NULL, "\x08\x01", 2, &out), 0);
	ck_assert(wire_decode_cloudevent((const uint8_t *)out.data, out.len, arena, &ce));
	ck_assert_ptr_null(ce.type_url);
	ck_assert_uint_eq(ce.data_len, 2);

	/* Truncated: refused. */
	ck_assert(!wire_decode_cloudevent((const uint8_t *)out.data, out.len - 1, arena, &ce));
	arena_free(arena);
	sb_free(&out);
}
END_TEST

START_TEST(test_event_for_type)
{
	struct EventDef events[2] = {{.name = (char *)"shop.Order", .version = 1},
				     {.name = (char *)"shop.Order", .version = 2}};
	struct Config cfg = {.events = events, .nevents = 2};
	ck_assert_ptr_eq(wire_event_for_type(&cfg, "shop.Order.v2", 13), &events[1]);
	ck_assert_ptr_eq(wire_event_for_type(&cfg, "shop.Order.v2x", 13), &events[1]);
	ck_assert_ptr_null(wire_event_for_type(&cfg, "shop.Order.v3", 13));
	ck_assert_ptr_null(wire_event_for_type(&cfg, "shop.Order.v1x", 14));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("decode");
	tcase_add_test(tc, test_event_round_trip);
	tcase_add_test(tc, test_cloudevent_round_trip);
	tcase_add_test(tc, test_event_for_type);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
