/* Unit tests for src/expr_func.c: the function library, through expressions. */
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

/* ---- functions ------------------------------------------------------------- */

START_TEST(test_functions)
{
	static const struct Case cases[] = {
	    {"lower('ABC')", "abc"},
	    {"upper(new.s)", "HELLO"},
	    /* ASCII letters only: PostgreSQL in a UTF-8 locale gives "äb". */
	    {"lower('ÄB')", "Äb"},
	    {"pg_catalog.upper('x')", "X"},
	    {"btrim('  x  ')", "x"},
	    {"btrim('xxaxx', 'x')", "a"},
	    {"trim('  z ')", "z"},
	    {"trim(both 'x' from 'xxaxx')", "a"},
	    {"trim(leading 'x' from 'xxaxx')", "axx"},
	    {"trim(trailing 'x' from 'xxaxx')", "xxa"},
	    {"trim(both from '  a  ')", "a"},
	    {"ltrim('  a ')", "a "},
	    {"rtrim('xay', 'y')", "xa"},
	    {"rtrim('aéé', 'é')", "a"},
	    {"length('héllo')", "5"},
	    {"char_length(new.s)", "5"},
	    {"character_length('')", "0"},
	    {"length(new.bs)", "3"},
	    {"length('\\x0102'::bytea)", "2"},
	    {"octet_length('é')", "2"},
	    {"length(new.z::text)", "NULL"},
	    {"lower(new.a)", "error: function lower(integer) does not exist"},
	    {"concat('a', NULL, 1, true, 1.50)", "a1t1.50"},
	    {"concat(NULL)", ""},
	    {"abs(-5)", "5"},
	    {"abs(5)", "5"},
	    {"abs(-1.50)", "1.50"},
	    {"abs(-2.5::float8)", "2.5"},
	    {"abs(-9223372036854775808)", "error: bigint out of range"},
	    {"round(2.5)", "3"},
	    {"round(-2.5)", "-3"},
	    {"round(1.2345, 2)", "1.23"},
	    {"round(-1.235, 2)", "-1.24"},
	    {"round(1234.5, -2)", "1200"},
	    {"round(2.5::float8)", "2"},
	    {"round(new.n / 3, 2)", "3.33"},
	    {"round(new.a, 1)", "7.0"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_date_trunc)
{
	static const struct Case cases[] = {
	    {"date_trunc('microseconds', new.ts)", "2026-01-15 10:30:45.123456"},
	    {"date_trunc('milliseconds', new.ts)", "2026-01-15 10:30:45.123"},
	    {"date_trunc('second', new.ts)", "2026-01-15 10:30:45"},
	    {"date_trunc('minute', new.ts)", "2026-01-15 10:30:00"},
	    {"date_trunc('hour', new.ts)", "2026-01-15 10:00:00"},
	    {"date_trunc('day', new.ts)", "2026-01-15 00:00:00"},
	    /* A Thursday: back to Monday. */
	    {"date_trunc('week', new.ts)", "2026-01-12 00:00:00"},
	    {"date_trunc('week', timestamp '2026-01-12 00:00')", "2026-01-12 00:00:00"},
	    {"date_trunc('week', timestamp '2026-01-11 23:59')", "2026-01-05 00:00:00"},
	    {"date_trunc('month', new.ts)", "2026-01-01 00:00:00"},
	    {"date_trunc('quarter', timestamp '2026-05-20 01:02:03')", "2026-04-01 00:00:00"},
	    {"date_trunc('year', timestamp '2026-12-31 23:59:59.999999')", "2026-01-01 00:00:00"},
	    {"date_trunc('MONTH', new.ts)", "2026-01-01 00:00:00"},
	    {"date_trunc('minute', timestamp '1969-12-31 23:59:59.5')", "1969-12-31 23:59:00"},
	    {"date_trunc('week', timestamp '1969-12-31 12:00')", "1969-12-29 00:00:00"},
	    {"date_trunc('day', new.d)", "2026-01-15 00:00:00+00"},
	    {"date_trunc('hour', timestamptz '2026-01-15 10:30:00+00')", "2026-01-15 10:00:00+00"},
	    {"date_trunc('day', timestamp 'infinity')", "infinity"},
	    {"date_trunc('day', NULL::timestamp)", "NULL"},
	    {"date_trunc('fortnight', new.ts)",
	     "error: unit \"fortnight\" not recognized for type timestamp without time zone"},
	    {"date_trunc('day', new.a)",
	     "error: function date_trunc(unknown, integer) does not exist"},
	};
	RUN(cases);
}
END_TEST

START_TEST(test_digests)
{
	static const struct Case cases[] = {
	    /* Hex text, where PostgreSQL's sha256() returns bytea ("\\xe3b0..."). */
	    {"sha256('')", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"sha256(new.bs)", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"sha256(NULL::text)", "NULL"},
	    {"md5('')", "d41d8cd98f00b204e9800998ecf8427e"},
	    {"md5('abc')", "900150983cd24fb0d6963f7d28e17f72"},
	    {"md5('message digest')", "f96b697d7cb7938d525a2f31aaf161d0"},
	    {"md5('"
	     "12345678901234567890123456789012345678901234567890123456789012345678901234567890')",
	     "57edf4a22be3c955ac49da2e2107b67a"},
	    {"md5(new.a)", "error: function md5(integer) does not exist"},
	};
	RUN(cases);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("expr_func");
	TCase *tc = tcase_create("functions");
	tcase_add_test(tc, test_functions);
	tcase_add_test(tc, test_date_trunc);
	tcase_add_test(tc, test_digests);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
