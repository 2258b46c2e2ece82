/* Unit tests for src/log.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "run_suite.h"

/* What log_msg wrote to stderr for one message. */
static void logged(char *out, size_t outlen, const char *text)
{
	FILE *tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	log_msg(LOG_ERROR, "%s", text);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, outlen - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	/* Outside the journal a line starts with its UTC time: "2026-01-02T03:04:05.678Z ". */
	ck_assert_msg(n > 25 && out[4] == '-' && out[10] == 'T' && out[23] == 'Z' && out[24] == ' ',
		      "no timestamp: %s", out);
	memmove(out, out + 25, n - 25 + 1);
}

START_TEST(test_one_line_per_message)
{
	char out[4096];
	unsetenv("JOURNAL_STREAM");
	logged(out, sizeof(out),
	       "backfill 1: condition refused (condition: id = 1\ntablecast: error: FORGED\r\x1b[2J\x7f)");
	ck_assert_str_eq(out, "tablecast: error: backfill 1: condition refused (condition: id = "
			      "1\\x0atablecast: error: FORGED\\x0d\\x1b[2J\\x7f)\n");
	logged(out, sizeof(out), "plain text, caf\xc3\xa9");
	ck_assert_str_eq(out, "tablecast: error: plain text, caf\xc3\xa9\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_one_line_per_message);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
