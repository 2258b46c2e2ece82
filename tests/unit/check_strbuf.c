/* Unit tests for src/strbuf.c. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>

#include "strbuf.h"
#include "run_suite.h"

START_TEST(test_json_string_escapes)
{
	struct StrBuf sb = {0};
	sb_json_string(&sb, "a\"b\\c\n\t\x01\x7f\xc3\xa9", 11);
	ck_assert(sb_ok(&sb));
	ck_assert_str_eq(sb.data, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\"");
	sb_reset(&sb);
	sb_json_string(&sb, "", 0);
	ck_assert_str_eq(sb.data, "\"\"");
	sb_free(&sb);
}
END_TEST

START_TEST(test_base64)
{
	/* RFC 4648 test vectors */
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		struct StrBuf sb = {0};
		sb_puts(&sb, "");
		sb_base64(&sb, in[i], (size_t)i);
		ck_assert_str_eq(sb.data, out[i]);
		sb_free(&sb);
	}
}
END_TEST

START_TEST(test_timestamp)
{
	struct StrBuf sb = {0};
	sb_timestamp(&sb, 0);
	ck_assert_str_eq(sb.data, "2000-01-01T00:00:00.000000Z");
	sb_reset(&sb);
	/* Before 1970 and with a fractional part: floors, not truncates. */
	sb_timestamp(&sb, -946684800000001LL);
	ck_assert_str_eq(sb.data, "1969-12-31T23:59:59.999999Z");
	sb_reset(&sb);
	sb_timestamp(&sb, 1234567890123456LL);
	ck_assert_str_eq(sb.data, "2039-02-13T23:31:30.123456Z");
	sb_free(&sb);
}
END_TEST

START_TEST(test_growth_and_printf)
{
	struct StrBuf sb = {0};
	for (int i = 0; i < 10000; i++)
		sb_printf(&sb, "%d,", i);
	ck_assert(sb_ok(&sb));
	ck_assert_uint_eq(sb.len, 48890);
	sb_reset(&sb);
	sb_printf(&sb, "%0300d", 7);
	ck_assert_uint_eq(sb.len, 300);
	ck_assert_int_eq(sb.data[299], '7');
	sb_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_json_string_escapes);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_timestamp);
	tcase_add_test(tc, test_growth_and_printf);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
