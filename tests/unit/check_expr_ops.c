/* Unit tests for src/expr_ops.c: arithmetic, concatenation and casts, through expressions. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
#include "expr_fixture.h"
#include "run_suite.h"
#include "value.h"

/* ---- arithmetic ------------------------------------------------------------ */

START_TEST(test_integer_arithmetic)
{
	static const struct Case cases[] = {
	    {"1 + 2", "3"},
	    {"2 * 3 - 1", "5"},
	    {"7 / 2", "3"},
	    {"-7 / 2", "-3"}, /* truncates toward zero */
	    {"7 % 3", "1"},
	    {"-7 % 3", "-1"},
	    {"new.a * 2", "14"},
	    {"new.a - old.a", "2"},
	    {"-new.a", "-7"},
	    {"+new.a", "7"},
	    {"new.a + new.z", "NULL"},
	    {"new.a + '1'", "8"},
	    {"9223372036854775807 + 1", "error: bigint out of range"},
	    {"-9223372036854775808 - 1", "error: bigint out of range"},
	    {"9223372036854775807 * 2", "error: bigint out of range"},
	    {"-9223372036854775808 / -1", "error: bigint out of range"},
	    {"-(-9223372036854775807 - 1)", "error: bigint out of range"},
	    /* The minus folds into the literal, which is then numeric. */
	    {"-(-9223372036854775808)", "9223372036854775808"},
	    {"-9223372036854775808 % -1", "0"},
	    {"1 / 0", "error: division by zero"},
	    {"1 % 0", "error: division by zero"},
	    {"new.s + 1", "error: operator does not exist: text + integer"},
	    {"'a' + 'b'", "error: operator is not unique: unknown + unknown"},
	    {"-new.s", "error: operator does not exist: - text"},
	    {"date '2026-01-31' + 1", "2026-02-01"},
	    {"1 + date '2026-12-31'", "2027-01-01"},
	    {"new.d - 15", "2025-12-31"},
	    {"date '2026-03-01' - date '2026-02-01'", "28"},
	    {"new.ts - new.ts",
	     "error: timestamp subtraction yields an interval, which expressions do not support"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_numeric_arithmetic)
{
	static const struct Case cases[] = {
	    {"10.00 * 1.19", "11.9000"},
	    {"1 / 3::numeric", "0.33333333333333333333"},
	    {"0.1 + 0.2", "0.3"},
	    {"1.10 + 2.205", "3.305"},
	    {"10.00 - 0.5", "9.50"},
	    {"0.5 - 10.00", "-9.50"},
	    {"2.50 * 4", "10.00"},
	    {"10 / 4.0", "2.5000000000000000"},
	    {"1 / 7::numeric", "0.14285714285714285714"},
	    {"100000 / 3.0", "33333.333333333333"},
	    {"2 / 3.0", "0.66666666666666666667"}, /* rounds half away from zero */
	    {"-2 / 3.0", "-0.66666666666666666667"},
	    {"1.000 / 8", "0.12500000000000000000"},
	    {"0.001 / 1000", "0.000001000000000000000000"},
	    {"new.n * 1.19", "11.9000"},
	    {"new.n / 3", "3.3333333333333333"},
	    {"new.n + new.a", "17.00"},
	    {"new.n - 0.001", "9.999"},
	    {"7.5 % 2", "1.5"},
	    {"-7.5 % 2", "-1.5"},
	    {"-new.n", "-10.00"},
	    {"-(-1.5)", "1.5"},
	    {"-0.0", "0.0"},
	    {"1.5 - 1.5", "0.0"},
	    {"'NaN'::numeric + 1", "NaN"},
	    {"'NaN'::numeric / 0", "NaN"},
	    {"'Infinity'::numeric + 1", "Infinity"},
	    {"1.5 / 0", "error: division by zero"},
	    {"1.5 % 0.0", "error: division by zero"},
	    {"99999999999999999999999999999999999999 + 1",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"12345678901234567890.5 * 12345678901234567890.5",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"9999999999999999999999999999999999999.9 + 0.1",
	     "error: numeric value out of range for exact arithmetic (38 significant digits)"},
	    {"1234567890123456789012345678901234567.8 - 1234567890123456789012345678901234567.7",
	     "0.1"},
	    /* Up to 18 digits a side takes the 64-bit path, beyond the general one: the same rules. */
	    {"new.a * 1234.56", "8641.92"},
	    {"-0.00 * 5", "0.00"},
	    {"123.450 - 123.45", "0.000"},
	    {"99999999999999999.9 * 99999999999999999.9", "9999999999999999980000000000000000.01"},
	    {"999999999999999999 * 999999999999999999.0", "999999999999999998000000000000000001.0"},
	    {"-99999999999999999.9 - 99999999999999999.9", "-199999999999999999.8"},
	    {"0.000000000000000001 + 1", "1.000000000000000001"},
	    {"0.00000000000000001 + 1", "1.00000000000000001"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_float_arithmetic)
{
	static const struct Case cases[] = {
	    {"1.5::float8 + 1", "2.5"},
	    {"new.f * 2", "5"},
	    {"new.f + new.n", "12.5"},
	    {"1 / 2::float8", "0.5"},
	    {"0.1::float8 + 0.2::float8", "0.30000000000000004"},
	    {"-new.f", "-2.5"},
	    {"1 / 0::float8", "error: division by zero"},
	    {"1e308::float8 * 10", "error: value out of range: overflow"},
	    {"new.f % 2", "error: operator does not exist: double precision % integer"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_concat)
{
	static const struct Case cases[] = {
	    {"'a' || 'b'", "ab"},
	    {"new.s || '!'", "Hello!"},
	    {"'n=' || new.a", "n=7"},
	    {"new.n || ' EUR'", "10.00 EUR"},
	    {"'x' || NULL", "NULL"},
	    {"new.z || 'x'", "NULL"},
	    {"'x' || true", "xtrue"},
	    {"'on ' || new.d", "on 2026-01-15"},
	    {"'x'::char(3) || '|'", "x|"},
	    {"'\\x01'::bytea || '\\x02'::bytea", "\\x0102"},
	    {"1 || 2", "error: operator does not exist: integer || integer"},
	};
	RUN(cases);
}
END_TEST

/* ---- casts ----------------------------------------------------------------- */

START_TEST(test_casts)
{
	static const struct Case cases[] = {
	    {"'12'::int8", "12"},
	    {"' 12 '::integer", "12"},
	    {"CAST(new.a AS text)", "7"},
	    {"new.a::text || ''", "7"},
	    {"new.a::bigint", "7"},
	    {"new.s::int", "error: invalid input syntax for type integer: \"Hello\""},
	    {"new.big::int4", "error: integer out of range"},
	    {"new.big::int2", "error: smallint out of range"},
	    {"new.big::int8", "3000000000"},
	    {"1.5::int", "2"},
	    {"2.5::int", "3"},
	    {"(-2.5)::int", "-3"},
	    {"2.5::float8::int", "2"}, /* rint: half to even */
	    {"3.5::float8::int", "4"},
	    {"(new.f * 1e20)::int8", "error: bigint out of range"},
	    {"99999999999.5::int8", "100000000000"},
	    {"(new.n * 1000000000)::int4", "error: integer out of range"},
	    {"12.345::numeric(5,2)", "12.35"},
	    {"-12.345::numeric(5,2)", "-12.35"},
	    {"new.n::numeric(4,1)", "10.0"},
	    {"new.n::numeric(3)", "10"},
	    {"new.a::numeric(3,2)", "7.00"},
	    {"new.a::numeric(2,2)", "error: numeric field overflow"},
	    {"new.n::decimal(10,4)", "10.0000"},
	    {"new.a::numeric", "7"},
	    {"new.a::float8", "7"},
	    {"new.n::float8", "10"},
	    {"new.n::real", "10"},
	    {"0.1::float8::numeric", "0.1"},
	    {"new.f::numeric", "2.5"},
	    {"(1.0::float8 / 3)::numeric", "0.333333333333333"},
	    {"new.ts::date", "2026-01-15"},
	    {"new.d::timestamp", "2026-01-15 00:00:00"},
	    {"new.d::timestamptz", "2026-01-15 00:00:00+00"},
	    {"new.ts::timestamp(0)", "2026-01-15 10:30:45"},
	    {"new.ts::timestamp(3)", "2026-01-15 10:30:45.123"},
	    {"new.s::varchar(3)", "Hel"},
	    {"new.s::character varying", "Hello"},
	    {"new.s::char(7) || '|'", "Hello|"},
	    {"length(new.s::char(7))", "5"},
	    {"octet_length(new.s::char(7))", "7"},
	    {"'héllo'::varchar(2)", "hé"},
	    {"new.b::text", "true"},
	    {"new.b::int", "1"},
	    {"1::boolean", "t"},
	    {"0::bool", "f"},
	    {"'yes'::boolean", "t"},
	    {"'2026-01-01 12:00'::timestamp", "2026-01-01 12:00:00"},
	    {"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid",
	     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	    {"'{\"a\": 1}'::jsonb", "{\"a\": 1}"},
	    {"'\\x4142'::bytea", "\\x4142"},
	    {"new.s::bytea", "\\x48656c6c6f"},
	    {"new.bs::text", "\\x616263"},
	    {"new.u::text", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	    {"NULL::int", "NULL"},
	    {"new.z::text", "NULL"},
	    {"new.d::int", "error: cannot cast type date to integer"},
	    {"new.a::uuid", "error: cannot cast type integer to uuid"},
	    {"new.s::date", "error: invalid input syntax for type date: \"Hello\""},
	};
	RUN(cases);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("expr_ops");
	TCase *tc = tcase_create("arithmetic");
	tcase_add_test(tc, test_integer_arithmetic);
	tcase_add_test(tc, test_numeric_arithmetic);
	tcase_add_test(tc, test_float_arithmetic);
	tcase_add_test(tc, test_concat);
	tcase_add_test(tc, test_casts);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
