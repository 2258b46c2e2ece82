/* Unit tests for src/audit.c: the parts that need no database. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "run_suite.h"

/* The schemas of a search_path value, "|"-joined. */
static void expect_path(const char *value, const char *role, const char *want)
{
	char *schemas[8], got[512] = "";
	size_t n = audit_search_path(value, role, schemas, 8), len = 0;
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "|" : "", schemas[i]);
		free(schemas[i]);
	}
	ck_assert_msg(strcmp(got, want) == 0, "%s: got %s, want %s", value, got, want);
}

START_TEST(test_search_path)
{
	expect_path("\"$user\", public", "bench", "bench|public");
	expect_path("$user,public", "bench", "bench|public");
	/* Unquoted names fold to lower case; quoted ones keep case, commas and doubled quotes. */
	expect_path("Reports, \"Mixed Case\", \"a,b\", \"q\"\"t\"", "r", "reports|Mixed Case|a,b|q\"t");
	expect_path("", "r", "");
	expect_path(" , public ,, ", "r", "public");
	expect_path("pg_catalog, public", "r", "pg_catalog|public");
	/* At most max schemas. */
	char *schemas[2];
	ck_assert_uint_eq(audit_search_path("a, b, c", "r", schemas, 2), 2);
	free(schemas[0]);
	free(schemas[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_search_path);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
