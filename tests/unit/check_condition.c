/* Unit tests for src/condition.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"
#include "run_suite.h"

/* The SQL and parameters a condition becomes, or NULL with the reason in err. */
static char *render(const char *text, struct CondParams *params, char *err, size_t errlen)
{
	Condition *c = cond_parse(text, err, errlen);
	if (!c)
		return NULL;
	struct StrBuf sb = {0};
	int rc = cond_sql(c, &sb, params, err, errlen);
	cond_free(c);
	if (rc < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb.data;
}

static void refused(const char *text, const char *reason)
{
	char err[512];
	struct CondParams params = {0};
	char *sql = render(text, &params, err, sizeof(err));
	ck_assert_msg(sql == NULL, "accepted: %s -> %s", text, sql ? sql : "");
	ck_assert_msg(strstr(err, reason), "%s: reason \"%s\" lacks \"%s\"", text, err, reason);
	cond_params_free(&params);
}

START_TEST(test_generated_sql)
{
	char err[512];
	struct CondParams params = {0};
	char *sql = render("qty > 10 AND label IN ('a', 'b''c') OR \"Odd\"\"Name\" IS NULL", &params,
			   err, sizeof(err));
	ck_assert_msg(sql != NULL, "%s", err);
	ck_assert_str_eq(sql, "(((\"qty\" > $1::bigint) AND (\"label\" IN ($2, $3))) OR "
			      "(\"Odd\"\"Name\" IS NULL))");
	ck_assert_int_eq(params.n, 3);
	ck_assert_str_eq(params.values[0], "10");
	ck_assert_str_eq(params.values[2], "b'c");
	free(sql);
	cond_params_free(&params);

	/* Typed constants are folded and sent with their type; functions from pg_catalog. */
	sql = render("created BETWEEN date '2026-01-01' AND '2026-02-01'::date AND lower(label) <> 'x'",
		     &params, err, sizeof(err));
	ck_assert_msg(sql != NULL, "%s", err);
	ck_assert_str_eq(sql, "(((\"created\" >= $1::date) AND (\"created\" <= $2::date)) AND "
			      "(pg_catalog.lower(\"label\") <> $3))");
	ck_assert_str_eq(params.values[1], "2026-02-01");
	free(sql);
	cond_params_free(&params);

	/* Typed as they are, whole: not character(1), not a truncated text. */
	sql = render("code = 'abc'::char(3) AND -qty < 1.50 AND flag IS NOT TRUE", &params, err,
		     sizeof(err));
	ck_assert_msg(sql != NULL, "%s", err);
	ck_assert_str_eq(sql, "((\"code\" = $1::bpchar) AND ((- \"qty\") < $2::numeric) AND "
			      "(\"flag\" IS NOT TRUE))");
	ck_assert_str_eq(params.values[0], "abc");
	ck_assert_str_eq(params.values[1], "1.50");
	free(sql);
	cond_params_free(&params);
}
END_TEST

START_TEST(test_refusals)
{
	refused("1 = 1; DROP TABLE victim", "one expression only");
	refused("id IN (SELECT id FROM other)", "subqueries are not supported");
	refused("pg_sleep(10) IS NULL", "function pg_sleep() is not supported");
	refused("set_config('a', 'b', false) = 'b'", "function set_config() is not supported");
	refused("label::int = 1", "only constants may be cast");
	refused("(1 + 2)::text = label", "only constants may be cast");
	refused("'victim'::regclass IS NOT NULL", "type regclass is not supported");
	refused("id = 1 -- comment", "comments are not allowed");
	refused("id = 1 /* c */", "comments are not allowed");
	refused("id = $1", "dollar quotes and parameters are not allowed");
	refused("id = $$x$$", "dollar quotes");
	refused("label = 'a\x01'", "control character 0x01");
	refused("label = '\xff'", "invalid UTF-8");
	refused("victim.id = 1", "plain column names");
	refused("current_user = 'x'", "SQL value functions");
	refused("", "empty");
}
END_TEST

START_TEST(test_bounds_before_parsing)
{
	/* Each would overflow the stack in libpg_query's tree conversion if it were long enough. */
	static const char *const units[] = {"1+", "NOT ", "- ", "(", "x COLLATE \"C\" "};
	char err[512];
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t n = strlen(units[u]);
		char *text = malloc(COND_MAX_LEN + 1);
		size_t len = 0;
		while (len + n + 1 <= COND_MAX_LEN) {
			memcpy(text + len, units[u], n);
			len += n;
		}
		text[len++] = '1';
		text[len] = '\0';
		ck_assert_ptr_null(cond_parse(text, err, sizeof(err)));
		ck_assert_msg(strstr(err, "too complex"), "%s: %s", units[u], err);
		free(text);
	}
	char *long_text = malloc(COND_MAX_LEN + 2);
	memset(long_text, ' ', COND_MAX_LEN + 1);
	long_text[0] = '1';
	long_text[COND_MAX_LEN + 1] = '\0';
	ck_assert_ptr_null(cond_parse(long_text, err, sizeof(err)));
	ck_assert(strstr(err, "longer than 4096 bytes"));
	free(long_text);

	/* A long IN list is flat: it passes. */
	char list[COND_MAX_LEN];
	size_t len = (size_t)snprintf(list, sizeof(list), "id IN (0");
	for (int i = 1; len + 8 < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, ",%d", i);
	snprintf(list + len, sizeof(list) - len, ")");
	Condition *c = cond_parse(list, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	cond_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("condition");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_generated_sql);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_bounds_before_parsing);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
