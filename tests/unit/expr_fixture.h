/* The fixture row and table runner shared by the expression suites. */
#ifndef TABLECAST_TESTS_UNIT_EXPR_FIXTURE_H
#define TABLECAST_TESTS_UNIT_EXPR_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct Value text_value(const char *s, uint32_t typoid);
struct Value numeric_value(const char *s);
struct Value int_value(int64_t i, uint32_t typoid);
int32_t days(int64_t y, unsigned m, unsigned d);

/*
 * The row every table case runs against: new.a = 7, old.a = 5, new.big,
 * new.s = 'Hello', new.n = 10.00, new.f = 2.5, new.b, new.z (NULL),
 * new.d, new.ts, new.bs, new.u, new.status and old.status.
 */
void setup_fixture(void);

/*
 * Parse and evaluate text against the fixture row. The result is what
 * PostgreSQL would print ("t", "11.9000"), "NULL", "error: <message>" for
 * evaluation errors, or "parse error: <message> @<position>".
 */
const char *run(const char *text);

struct Case {
	const char *expr;
	const char *want;
};

/* Run every case, report each mismatch, then fail if there was any. */
void run_cases(const struct Case *cases, size_t n);

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

#endif
