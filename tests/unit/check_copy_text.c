/* Unit tests for src/copy_text.c: COPY text rows from bytes. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "copy_text.h"
#include "run_suite.h"
#include "strbuf.h"

/* Parse text (copied, since parsing rewrites it) into n columns. */
static int parse(const char *text, struct PgoValue *cols, uint16_t n, char *buf, char *err)
{
	size_t len = strlen(text);
	memcpy(buf, text, len + 1);
	return copy_parse_row((uint8_t *)buf, len, cols, n, err, 256);
}

static void assert_text(const struct PgoValue *v, const char *want, size_t len)
{
	ck_assert_int_eq(v->kind, 't');
	ck_assert_uint_eq(v->len, len);
	ck_assert(memcmp(v->data, want, len) == 0);
}

START_TEST(test_plain_and_null)
{
	struct PgoValue c[3];
	char buf[64], err[256];
	ck_assert_int_eq(parse("42\t\\N\thello\n", c, 3, buf, err), 0);
	assert_text(&c[0], "42", 2);
	ck_assert_int_eq(c[1].kind, 'n');
	assert_text(&c[2], "hello", 5);
	/* An empty string is not NULL. */
	ck_assert_int_eq(parse("\t\n", c, 2, buf, err), 0);
	assert_text(&c[0], "", 0);
	assert_text(&c[1], "", 0);
}
END_TEST

START_TEST(test_escapes)
{
	struct PgoValue c[1];
	char buf[128], err[256];
	ck_assert_int_eq(parse("a\\tb\\nc\\\\d\\re\\bf\\fg\\vh\n", c, 1, buf, err), 0);
	assert_text(&c[0], "a\tb\nc\\d\re\bf\fg\vh", 15);
	/* Octal (1-3 digits), hex (1-2 digits), and \ before anything else. */
	ck_assert_int_eq(parse("\\101\\7x\\x41\\xaZ\\q\\N\n", c, 1, buf, err), 0);
	assert_text(&c[0], "A\7xA\nZqN", 8);
	/* \N inside a longer value is the letter N, not NULL. */
	ck_assert_int_eq(parse("\\Nx\n", c, 1, buf, err), 0);
	assert_text(&c[0], "Nx", 2);
}
END_TEST

START_TEST(test_wrong_shape)
{
	struct PgoValue c[2];
	char buf[64], err[256];
	ck_assert_int_eq(parse("1\t2\t3\n", c, 2, buf, err), -1);
	ck_assert_str_eq(err, "COPY row has more than the 2 columns asked for");
	ck_assert_int_eq(parse("1\n", c, 2, buf, err), -1);
	ck_assert_str_eq(err, "COPY row has 1 columns, 2 were asked for");
	ck_assert_int_eq(parse("1\t2", c, 2, buf, err), -1);
	ck_assert_str_eq(err, "COPY row of 3 bytes does not end in a newline");
	ck_assert_int_eq(parse("", c, 2, buf, err), -1);
	/* No columns asked for: SELECT of nothing gives empty lines. */
	ck_assert_int_eq(parse("\n", c, 0, buf, err), 0);
	ck_assert_int_eq(parse("x\n", c, 0, buf, err), -1);
}
END_TEST

START_TEST(test_escape_round_trip)
{
	static const char value[] = "tab\there\nnew\\back\rcr \\N";
	struct StrBuf sb = {0};
	copy_escape(&sb, value, sizeof(value) - 1);
	sb_putc(&sb, '\t');
	copy_escape(&sb, NULL, 0);
	sb_putc(&sb, '\n');
	ck_assert(sb_ok(&sb));
	struct PgoValue c[2];
	char err[256];
	ck_assert_int_eq(copy_parse_row((uint8_t *)sb.data, sb.len, c, 2, err, sizeof(err)), 0);
	assert_text(&c[0], value, sizeof(value) - 1);
	ck_assert_int_eq(c[1].kind, 'n');
	sb_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("copy_text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_plain_and_null);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_wrong_shape);
	tcase_add_test(tc, test_escape_round_trip);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
