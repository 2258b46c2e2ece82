/* Unit tests for src/config.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64];

/* Write text to a fresh temporary file; its name is in path. */
static void write_config(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/check_config.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Load text, expect failure, and return the error after "path:". */
static const char *load_error(const char *text)
{
	static char err[1024];
	write_config(text);
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg == NULL, "config unexpectedly valid:\n%s", text);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "error lacks file name: %s", err);
	return err + strlen(path);
}

START_TEST(test_minimal_defaults)
{
	char err[256];
	write_config("source = { conninfo = \"dbname=shop\"; };\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->source.conninfo, "dbname=shop");
	ck_assert_str_eq(cfg->source.slot, "tablecast");
	ck_assert_str_eq(cfg->source.publication, "tablecast");
	ck_assert(!cfg->source.create_slot);
	ck_assert_int_eq(cfg->source.status_interval_ms, 10000);
	ck_assert_int_eq(cfg->sink.type, SINK_STDOUT);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	cfg_free(cfg);
}
END_TEST

START_TEST(test_full)
{
	char err[256];
	write_config("log_level = \"debug\";\n"
		     "state_dir = \"/tmp/x\";\n"
		     "source = {\n"
		     "  conninfo = \"host=db\";\n"
		     "  slot = \"shop_events\";\n"
		     "  publication = \"shop\";\n"
		     "  create_slot = true;\n"
		     "  create_publication = true;\n"
		     "  tables = [\"public.orders\", \"public.customers\"];\n"
		     "  status_interval = 2;\n"
		     "  max_in_flight = 16;\n"
		     "};\n"
		     "sink = { type = \"file\"; path = \"/tmp/out.jsonl\"; };\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg->state_dir, "/tmp/x");
	ck_assert_str_eq(cfg->source.slot, "shop_events");
	ck_assert(cfg->source.create_slot && cfg->source.create_publication);
	ck_assert_uint_eq(cfg->source.ntables, 2);
	ck_assert_str_eq(cfg->source.tables[1], "public.customers");
	ck_assert_int_eq(cfg->source.status_interval_ms, 2000);
	ck_assert_int_eq(cfg->source.max_in_flight, 16);
	ck_assert_int_eq(cfg->sink.type, SINK_FILE);
	ck_assert_str_eq(cfg->sink.path, "/tmp/out.jsonl");
	cfg_free(cfg);
}
END_TEST

/* Each malformed file and the "line: message" it must produce. */
static const struct {
	const char *text;
	const char *expect;
} bad[] = {
	{"source = { conninfo = \"x\"; \n", ":2: syntax error"},
	{"source = { conninfo = ; };\n", ":1: syntax error"},
	{"source = { conninfo = \"x\"; };\nsurce = 1;\n", ":2: unknown setting \"surce\""},
	{"source = {\n  conninfo = \"x\";\n  slott = \"a\";\n};\n",
	 ":3: unknown setting \"slott\" in source"},
	{"log_level = \"loud\";\nsource = { conninfo = \"x\"; };\n", ":1: unknown log_level \"loud\""},
	{"sink = { type = \"stdout\"; };\n", ": source must be a group"},
	{"source = {\n  slot = \"a\";\n};\n", ":1: source.conninfo is required"},
	{"source = {\n  conninfo = 5;\n};\n", ":2: conninfo must be a string"},
	{"source = {\n  conninfo = \"x\";\n  create_slot = \"yes\";\n};\n",
	 ":3: create_slot must be true or false"},
	{"source = {\n  conninfo = \"x\";\n  status_interval = 0;\n};\n",
	 ":3: status_interval must be between 1 and 3600"},
	{"source = {\n  conninfo = \"x\";\n  slot = \"Bad-Name\";\n};\n", ":3: slot must be"},
	{"source = {\n  conninfo = \"x\";\n  tables = [1, 2];\n};\n",
	 ":3: tables must be a list of strings"},
	{"source = { conninfo = \"x\"; };\nsink = {\n  type = \"kafka2\";\n};\n",
	 ":3: unknown sink type \"kafka2\""},
	{"source = { conninfo = \"x\"; };\nsink = {\n  type = \"file\";\n};\n",
	 ":2: sink.path is required"},
	{"source = { conninfo = \"x\"; };\nsink = 3;\n", ":2: sink must be a group"},
};

START_TEST(test_malformed)
{
	const char *err = load_error(bad[_i].text);
	ck_assert_msg(strncmp(err, bad[_i].expect, strlen(bad[_i].expect)) == 0,
		      "case %d: expected \"%s...\", got \"%s\"", _i, bad[_i].expect, err);
}
END_TEST

START_TEST(test_missing_file)
{
	char err[256];
	ck_assert_ptr_null(cfg_load("/nonexistent/tablecast.cfg", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/tablecast.cfg: cannot read file");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, test_minimal_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
