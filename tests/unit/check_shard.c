/* Unit tests for src/shard.c. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"
#include "run_suite.h"

START_TEST(test_filter_sql)
{
	char buf[128];
	char table[] = "public.hot", key[] = "id";
	struct ShardDef sh = {.table = table, .key = key, .count = 2, .index = 1};
	shard_filter_sql(&sh, buf, sizeof(buf));
	ck_assert_str_eq(buf, "abs(\"id\" % 2) = 1");
}
END_TEST

/* What PostgreSQL 15 prints for the generated filter, per key type, parses back. */
START_TEST(test_parse_printed_forms)
{
	int c = -1, i = -1;
	ck_assert(shard_parse_rowfilter("(abs((id % 2)) = 1)", "id", &c, &i));
	ck_assert_int_eq(c, 2);
	ck_assert_int_eq(i, 1);
	ck_assert(shard_parse_rowfilter("(abs(((id)::integer % 3)) = 0)", "id", &c, &i));
	ck_assert_int_eq(c, 3);
	ck_assert_int_eq(i, 0);
	ck_assert(shard_parse_rowfilter("(abs((id % (16)::bigint)) = 15)", "id", &c, &i));
	ck_assert_int_eq(c, 16);
	ck_assert_int_eq(i, 15);
	/* A keyword column is printed quoted. */
	ck_assert(shard_parse_rowfilter("(abs((\"order\" % 2)) = 0)", "order", &c, &i));
	ck_assert_int_eq(c, 2);
	ck_assert_int_eq(i, 0);
}
END_TEST

/* Anything else is not known to split rows exactly once, even if it does. */
START_TEST(test_parse_refuses_others)
{
	int c, i;
	static const char *const bad[] = {
		"((id % 2) = 1)", /* misses negative odd keys */
		"((abs(id) % 2) = 1)", /* abs(min bigint) fails in the walsender */
		"(abs((id % 2)) = 2)", /* index out of range */
		"(abs((id % 1)) = 0)", /* one shard is no split */
		"(abs((id % 2)) = 01)",
		"(abs((id % 2)) = 1) OR true",
		"(abs((idx % 2)) = 1)",
		"(abs((other % 2)) = 1)",
		"(abs((id % 2)) = -1)",
		"(abs((id % 99999999999)) = 1)",
		"(abs((id % 2)) <> 1)",
		"",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ck_assert_msg(!shard_parse_rowfilter(bad[k], "id", &c, &i), "accepted %s", bad[k]);
	ck_assert(!shard_parse_rowfilter(NULL, "id", &c, &i));
}
END_TEST

START_TEST(test_cover_exact)
{
	char err[512];
	bool gap;
	struct ShardPart two[] = {{"a", 2, 0}, {"b", 2, 1}};
	ck_assert_int_eq(shard_cover("public.hot", "id", two, 2, &gap, err, sizeof(err)), 0);
	/* Different counts can still cover every row once. */
	struct ShardPart mixed[] = {{"a", 2, 0}, {"b", 4, 1}, {"c", 4, 3}};
	ck_assert_int_eq(shard_cover("public.hot", "id", mixed, 3, &gap, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_cover_overlap_and_gap)
{
	char err[512];
	bool gap;
	/* count 2 index 0 and count 3 index 1: 4 is in both, 1 in neither. */
	struct ShardPart mixed[] = {{"a", 2, 0}, {"b", 3, 1}};
	ck_assert_int_eq(shard_cover("public.hot", "id", mixed, 2, &gap, err, sizeof(err)), -1);
	ck_assert(!gap);
	ck_assert_msg(strstr(err, "overlap") && strstr(err, "abs(id % 6) = 4"), "%s", err);
	struct ShardPart same[] = {{"a", 2, 1}, {"b", 2, 1}};
	ck_assert_int_eq(shard_cover("public.hot", "id", same, 2, &gap, err, sizeof(err)), -1);
	ck_assert(!gap);
	ck_assert_msg(strstr(err, "\"a\"") && strstr(err, "\"b\""), "%s", err);
	struct ShardPart half[] = {{"a", 2, 0}};
	ck_assert_int_eq(shard_cover("public.hot", "id", half, 1, &gap, err, sizeof(err)), -1);
	ck_assert(gap);
	ck_assert_msg(strstr(err, "gap") && strstr(err, "index = 1"), "%s", err);
	ck_assert_int_eq(shard_cover("public.hot", "id", NULL, 0, &gap, err, sizeof(err)), -1);
	ck_assert(gap);
	/* Counts whose lcm is too large to enumerate are refused, not guessed. */
	struct ShardPart wide[] = {{"a", 1021, 0}, {"b", 1019, 0}, {"c", 1013, 0}};
	ck_assert_int_eq(shard_cover("public.hot", "id", wide, 3, &gap, err, sizeof(err)), -1);
	ck_assert(!gap);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shard");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_filter_sql);
	tcase_add_test(tc, test_parse_printed_forms);
	tcase_add_test(tc, test_parse_refuses_others);
	tcase_add_test(tc, test_cover_exact);
	tcase_add_test(tc, test_cover_overlap_and_gap);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
