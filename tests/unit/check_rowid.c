/* Unit tests for src/rowid.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rowid.h"
#include "run_suite.h"

static struct PgoValue text(const char *s)
{
	return (struct PgoValue){.kind = 't', .len = (uint32_t)strlen(s), .data = (const uint8_t *)s};
}

static void id_of(struct RowId *r, char *out, uint32_t relid, const char *a, const char *b)
{
	struct PgoValue cols[3] = {text("not a key"), text(a), b ? text(b) : text("")};
	const uint16_t keys[2] = {1, 2};
	rowid_format(r, out, 80, "p:", relid, cols, keys, b ? 2 : 1);
}

START_TEST(test_same_key_same_id)
{
	struct RowId r = {.secret = {1, 2, 3}};
	char a[80], b[80], c[80], d[80], e[80];
	id_of(&r, a, 16384, "ab", "c");
	id_of(&r, b, 16384, "ab", "c");
	id_of(&r, c, 16384, "a", "bc"); /* length-prefixed: not the same bytes run together */
	id_of(&r, d, 16385, "ab", "c"); /* another table */
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(strlen(a), 2 + 32);
	ck_assert(strncmp(a, "p:", 2) == 0);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	r.secret[0] = 9; /* another secret: nothing to guess the key from */
	id_of(&r, e, 16384, "ab", "c");
	ck_assert_str_ne(a, e);
	rowid_free(&r);
}
END_TEST

START_TEST(test_long_keys_and_nulls)
{
	struct RowId r = {0};
	char big[5000], a[80], b[80];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	id_of(&r, a, 1, big, NULL);
	struct PgoValue cols[2] = {{.kind = 'n'}, text("")};
	const uint16_t keys[1] = {0};
	rowid_format(&r, b, sizeof(b), "p:", 1, cols, keys, 1);
	char c[80];
	rowid_format(&r, c, sizeof(c), "p:", 1, cols + 1, keys, 1); /* '' is not NULL */
	ck_assert_str_ne(b, c);
	ck_assert_int_eq(strlen(a), 34);
	rowid_free(&r);
}
END_TEST

START_TEST(test_secret_kept)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/slot.rowid", suite_tmpdir());
	char err[256];
	struct RowId a = {0}, b = {0}, c = {0};
	ck_assert_int_eq(rowid_load(&a, path, err, sizeof(err)), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(rowid_load(&b, path, err, sizeof(err)), 0);
	ck_assert(memcmp(a.secret, b.secret, ROWID_SECRET_BYTES) == 0);
	/* A damaged file gets a new secret: new ids, duplicates at worst. */
	FILE *f = fopen(path, "w");
	fputs("zz\n", f);
	fclose(f);
	ck_assert_int_eq(rowid_load(&c, path, err, sizeof(err)), 0);
	ck_assert(memcmp(a.secret, c.secret, ROWID_SECRET_BYTES) != 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rowid");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_same_key_same_id);
	tcase_add_test(tc, test_long_keys_and_nulls);
	tcase_add_test(tc, test_secret_kept);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
