/* Unit tests for src/contract.c: the compatibility table of docs/SCHEMA-DRIFT.md and the record. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contract.h"
#include "run_suite.h"
#include "value.h"

static struct CtrType t(uint32_t typoid, int32_t typmod)
{
	return (struct CtrType){typoid, typmod, "x"};
}

static struct EventField f(enum field_type type)
{
	return (struct EventField){.name = (char *)"f", .type = type};
}

static bool ok(uint32_t from, uint32_t to, const struct EventField *field)
{
	struct CtrType a = t(from, -1), b = t(to, -1);
	return ctr_compatible(&a, &b, field);
}

/* Row by row, the table in docs/SCHEMA-DRIFT.md. */
START_TEST(test_compatibility_table)
{
	struct EventField i32 = f(FT_INT32), i64 = f(FT_INT64), s32 = f(FT_SINT32),
	                  s64 = f(FT_SINT64), u32 = f(FT_UINT32), u64 = f(FT_UINT64),
	                  str = f(FT_STRING), dec = f(FT_DECIMAL), dbl = f(FT_DOUBLE),
	                  flt = f(FT_FLOAT), json = f(FT_JSON), ts = f(FT_TIMESTAMP);

	/* Same type, other typmod: varchar(20) -> varchar(40), numeric(12,2) -> numeric(14,2). */
	struct CtrType v20 = t(OID_VARCHAR, 24), v40 = t(OID_VARCHAR, 44);
	ck_assert(ctr_compatible(&v20, &v40, &str));
	struct CtrType n12 = t(OID_NUMERIC, (12 << 16 | 2) + 4),
	               n14 = t(OID_NUMERIC, (14 << 16 | 2) + 4);
	ck_assert(ctr_compatible(&n12, &n14, &dec));
	struct CtrType ts3 = t(OID_TIMESTAMP, 3), tsn = t(OID_TIMESTAMP, -1);
	ck_assert(ctr_compatible(&ts3, &tsn, &ts));

	/* text <-> varchar, for anything that reads it. */
	ck_assert(ok(OID_TEXT, OID_VARCHAR, &str));
	ck_assert(ok(OID_VARCHAR, OID_TEXT, &json));
	ck_assert(ok(OID_TEXT, OID_VARCHAR, NULL));

	/* Integer widening: when every value of the new type fits the field. */
	ck_assert(ok(OID_INT4, OID_INT8, &i64));
	ck_assert(ok(OID_INT2, OID_INT8, &s64));
	ck_assert(ok(OID_INT4, OID_INT8, &str));
	ck_assert(ok(OID_INT4, OID_INT8, &dec));
	ck_assert(ok(OID_INT4, OID_INT8, NULL));
	ck_assert(ok(OID_INT2, OID_INT4, &i32));
	ck_assert(ok(OID_INT2, OID_INT4, &s32));
	ck_assert(ok(OID_INT2, OID_INT4, &dbl));
	ck_assert(!ok(OID_INT4, OID_INT8, &i32));
	ck_assert(!ok(OID_INT2, OID_INT8, &s32));
	ck_assert(!ok(OID_INT4, OID_INT8, &u32));
	ck_assert(!ok(OID_INT4, OID_INT8, &u64));
	ck_assert(!ok(OID_INT4, OID_INT8, &dbl));
	ck_assert(!ok(OID_INT2, OID_INT4, &flt));
	ck_assert(!ok(OID_INT4, OID_INT8, &flt));
	ck_assert(!ok(OID_INT2, OID_INT4, &u32));
	ck_assert(!ok(OID_INT2, OID_INT4, &json));
	ck_assert(!ok(OID_INT2, OID_INT4, &ts));
	struct EventField rep = i64;
	rep.repeated = true;
	ck_assert(!ok(OID_INT4, OID_INT8, &rep));

	/* real -> double precision. */
	ck_assert(ok(OID_FLOAT4, OID_FLOAT8, &dbl));
	ck_assert(ok(OID_FLOAT4, OID_FLOAT8, &str));
	ck_assert(ok(OID_FLOAT4, OID_FLOAT8, NULL));
	ck_assert(!ok(OID_FLOAT4, OID_FLOAT8, &flt));

	/* Narrowing, and everything else. */
	ck_assert(!ok(OID_INT8, OID_INT4, &i64));
	ck_assert(!ok(OID_INT8, OID_INT4, NULL));
	ck_assert(!ok(OID_FLOAT8, OID_FLOAT4, &dbl));
	ck_assert(!ok(OID_TEXT, OID_INT4, &str));
	ck_assert(!ok(OID_INT4, OID_NUMERIC, &i64));
	ck_assert(!ok(OID_TIMESTAMP, OID_TIMESTAMPTZ, &ts));
	ck_assert(!ok(OID_JSON, OID_JSONB, &json));
	ck_assert(!ok(OID_TEXT, OID_BPCHAR, &str));
	ck_assert(!ok(1007, 1016, NULL)); /* integer[] -> bigint[] */
}
END_TEST

START_TEST(test_type_names)
{
	char buf[128];
	ctr_type_format(OID_INT4, -1, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "integer");
	ctr_type_format(OID_VARCHAR, 44, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "character varying(40)");
	ctr_type_format(OID_BPCHAR, 5, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "character(1)");
	ctr_type_format(OID_NUMERIC, (12 << 16 | 2) + 4, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "numeric(12,2)");
	ctr_type_format(OID_TIMESTAMPTZ, 3, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "timestamp(3) with time zone");
	ctr_type_format(OID_TIMESTAMP, -1, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "timestamp without time zone");
	ctr_type_format(1015, 24, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "character varying(20)[]");
	ctr_type_format(16500, -1, "public.mood", buf, sizeof(buf));
	ck_assert_str_eq(buf, "public.mood");
	ctr_type_format(16500, -1, NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "type OID 16500");
}
END_TEST

/* Versions by LSN, relation OIDs and gaps survive a save and a load; the file is 0600. */
START_TEST(test_record_round_trip)
{
	char dir[] = "/tmp/check_contract.XXXXXX", err[512], path[600];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct Config cfg = {0};
	cfg.state_dir = dir;
	cfg.source.slot = (char *)"s";

	Contract *c = ctr_open(&cfg, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	struct CtrType got, int4 = {OID_INT4, -1, "integer"}, int8 = {OID_INT8, -1, "bigint"};
	ck_assert(!ctr_lookup(c, "a.B v1", "public.t", "qty", 100, &got));
	ck_assert_int_eq(ctr_record(c, "a.B v1", "public.t", "qty", 100, &int4), 0);
	ck_assert_int_eq(ctr_record(c, "a.B v1", "public.t", "qty", 500, &int8), 0);
	ck_assert_int_eq(ctr_set_relid(c, "public.t", 16385), 0);
	ck_assert_int_eq(ctr_set_gap(c, "public.u", 0x1234, "relation public.u is gone"), 0);
	ck_assert_int_eq(ctr_set_gap(c, "public.u", 0x9999, "later"), 0); /* the first gap stays */
	ck_assert_int_eq(ctr_save(c, err, sizeof(err)), 0);
	ctr_free(c);

	snprintf(path, sizeof(path), "%s/s.schema", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	c = ctr_open(&cfg, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	/* Before the change (a replay), and from the start: the first version. */
	ck_assert(ctr_lookup(c, "a.B v1", "public.t", "qty", 50, &got));
	ck_assert_uint_eq(got.typoid, OID_INT4);
	ck_assert(ctr_lookup(c, "a.B v1", "public.t", "qty", 499, &got));
	ck_assert_str_eq(got.name, "integer");
	ck_assert(ctr_lookup(c, "a.B v1", "public.t", "qty", 500, &got));
	ck_assert_str_eq(got.name, "bigint");
	ck_assert(!ctr_lookup(c, "a.B v2", "public.t", "qty", 500, &got)); /* per event version */
	ck_assert_uint_eq(ctr_relid(c, "public.t"), 16385);
	ck_assert_uint_eq(ctr_relid(c, "public.u"), 0);
	uint64_t lsn;
	const char *why;
	ck_assert(ctr_gap(c, "public.u", &lsn, &why));
	ck_assert_uint_eq(lsn, 0x1234);
	ck_assert_str_eq(why, "relation public.u is gone");
	ctr_clear_gap(c, "public.u");
	ck_assert(!ctr_gap(c, "public.u", &lsn, &why));
	ck_assert_int_eq(ctr_save(c, err, sizeof(err)), 0);
	ctr_free(c);

	/* A damaged file is an error that names its line, not an empty record. */
	FILE *out = fopen(path, "a");
	ck_assert_ptr_nonnull(out);
	fputs("column\tbroken\n", out);
	fclose(out);
	ck_assert_ptr_null(ctr_open(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "s.schema:") && strstr(err, "unreadable line"), "%s", err);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *contract_suite(void)
{
	Suite *s = suite_create("contract");
	TCase *tc = tcase_create("contract");
	tcase_add_test(tc, test_compatibility_table);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_record_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(contract_suite());
}
