/* Unit tests for src/halt.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "halt.h"
#include "run_suite.h"

static char dir[256], slot[] = "tablecast";

static struct Config config_in_tmp(void)
{
	struct Config cfg = {0};
	snprintf(dir, sizeof(dir), "%s/state", suite_tmpdir());
	cfg.state_dir = dir;
	cfg.source.slot = slot;
	return cfg;
}

START_TEST(test_save_load_clear)
{
	struct Config cfg = config_in_tmp();
	struct HaltRecord rec = {.time = 1795958408, .kind = HALT_TRANSLATION,
				 .confirmed_lsn = 0x1A3F2C8}, got;
	char err[512], path[512];
	struct stat st;

	ck_assert_int_eq(halt_load(&cfg, &got, err, sizeof(err)), 0); /* none yet */
	snprintf(rec.message, sizeof(rec.message),
		 "event a.B v1: field \"x\" (int32): 3000000000 out of range\nsecond line");
	ck_assert_int_eq(halt_save(&cfg, &rec, err, sizeof(err)), 0); /* makes state_dir */
	snprintf(path, sizeof(path), "%s/tablecast.halt", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(halt_load(&cfg, &got, err, sizeof(err)), 1);
	ck_assert_int_eq(got.time, 1795958408);
	ck_assert_int_eq(got.kind, HALT_TRANSLATION);
	ck_assert_uint_eq(got.confirmed_lsn, 0x1A3F2C8);
	/* One line: what follows a newline would forge other keys. */
	ck_assert_str_eq(got.message, "event a.B v1: field \"x\" (int32): 3000000000 out of range");
	ck_assert_int_eq(halt_clear(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(halt_load(&cfg, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(halt_clear(&cfg, err, sizeof(err)), 0); /* twice is fine */
}
END_TEST

START_TEST(test_kinds)
{
	struct Config cfg = config_in_tmp();
	struct HaltRecord rec = {.time = 1, .kind = HALT_PUBLICATION}, got;
	char err[512];

	ck_assert_str_eq(halt_kind_name(HALT_TRANSLATION), "translation");
	ck_assert_str_eq(halt_kind_name(HALT_PUBLICATION), "publication");
	ck_assert_str_eq(halt_kind_name(HALT_OTHER), "other");
	ck_assert_int_eq(halt_save(&cfg, &rec, err, sizeof(err)), 0);
	ck_assert_int_eq(halt_load(&cfg, &got, err, sizeof(err)), 1);
	ck_assert_int_eq(got.kind, HALT_PUBLICATION);
	ck_assert_str_eq(got.message, "");
	/* An unknown kind (a newer writer) reads as other. */
	char path[512];
	snprintf(path, sizeof(path), "%s/tablecast.halt", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("time=5\nkind=cosmic\nmessage=x=y\n", f);
	fclose(f);
	ck_assert_int_eq(halt_load(&cfg, &got, err, sizeof(err)), 1);
	ck_assert_int_eq(got.kind, HALT_OTHER);
	ck_assert_str_eq(got.message, "x=y");
	ck_assert_int_eq(halt_clear(&cfg, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("halt");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_save_load_clear);
	tcase_add_test(tc, test_kinds);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
