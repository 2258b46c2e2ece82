/* Unit tests for src/resume.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resume.h"
#include "run_suite.h"

static const struct ResumeIdentity id = {.system_id = 7345678901234567890ULL, .timeline = 1,
					 .slot = "tablecast"};

START_TEST(test_round_trip)
{
	char text[512], err[256];
	uint64_t lsn = 0;
	size_t n = rsm_format(&id, 0x47E8B60, text, sizeof(text));
	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(text, "acked_lsn=0/47E8B60\n"));
	ck_assert_int_eq(rsm_parse(text, &id, &lsn, err, sizeof(err)), 0);
	ck_assert_uint_eq(lsn, 0x47E8B60);
	/* Too small a buffer: nothing half-written. */
	ck_assert_uint_eq(rsm_format(&id, 1, text, 20), 0);
}
END_TEST

START_TEST(test_other_server_or_slot_is_not_trusted)
{
	char text[512], err[256];
	uint64_t lsn;
	struct ResumeIdentity other = id;

	rsm_format(&id, 0x1000, text, sizeof(text));
	other.system_id++;
	ck_assert_int_eq(rsm_parse(text, &other, &lsn, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "database system"));
	other = id;
	other.timeline = 2; /* a restored backup, a promoted standby */
	ck_assert_int_eq(rsm_parse(text, &other, &lsn, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "timeline"));
	other = id;
	other.slot = "other";
	ck_assert_int_eq(rsm_parse(text, &other, &lsn, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_corrupt_text_is_rejected)
{
	char err[256];
	uint64_t lsn;
	static const char *const bad[] = {
		"",
		"system_identifier=7345678901234567890\ntimeline=1\nslot=tablecast\n",
		"system_identifier=7345678901234567890\ntimeline=1\nslot=tablecast\nacked_lsn=0/ZZ\n",
		"system_identifier=x\ntimeline=1\nslot=tablecast\nacked_lsn=0/10\n",
		"system_identifier=7345678901234567890\ntimeline=1\nslot=tablecast\nacked_lsn=0/10\ngarbage\n",
		"system_identifier=7345678901234567890\ntimeline=\nslot=tablecast\nacked_lsn=0/10\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rsm_parse(bad[i], &id, &lsn, err, sizeof(err)) == -1, "accepted: %s", bad[i]);
	/* A file cut short by a crash before the rename cannot exist; one without its final newline parses. */
	ck_assert_int_eq(rsm_parse("system_identifier=7345678901234567890\ntimeline=1\nslot=tablecast\nacked_lsn=0/10",
				   &id, &lsn, err, sizeof(err)), 0);
	ck_assert_uint_eq(lsn, 0x10);
}
END_TEST

START_TEST(test_save_and_load)
{
	char dir[] = "/tmp/check_resume.XXXXXX", slot[] = "tablecast", path[4096], err[512];
	struct Config cfg = {0};
	struct stat st;
	uint64_t lsn = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg.state_dir = dir;
	cfg.source.slot = slot;
	ck_assert_int_eq(rsm_load(&cfg, &id, &lsn, err, sizeof(err)), 0); /* none yet */
	ck_assert_int_eq(rsm_save(&cfg, &id, 0x2D9E560, err, sizeof(err)), 0);
	ck_assert_int_eq(rsm_load(&cfg, &id, &lsn, err, sizeof(err)), 1);
	ck_assert_uint_eq(lsn, 0x2D9E560);
	rsm_path(&cfg, path, sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600); /* private, whatever the umask */

	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("acked_lsn=\xff\xfe\n", f);
	fclose(f);
	ck_assert_int_eq(rsm_load(&cfg, &id, &lsn, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resume");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_other_server_or_slot_is_not_trusted);
	tcase_add_test(tc, test_corrupt_text_is_rejected);
	tcase_add_test(tc, test_save_and_load);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
