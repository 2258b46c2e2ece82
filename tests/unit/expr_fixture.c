/* The fixture row and table runner shared by the expression suites. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
#include "expr_fixture.h"

/* The row every table case runs against; an expression's columns are looked up here by name. */
struct FixtureColumn {
	bool old;
	const char *name;
	struct Value v;
};

struct Value text_value(const char *s, uint32_t typoid)
{
	return (struct Value){.kind = VAL_TEXT, .typoid = typoid, .s = {s, strlen(s)}};
}

struct Value numeric_value(const char *s)
{
	return (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC, .s = {s, strlen(s)}};
}

struct Value int_value(int64_t i, uint32_t typoid)
{
	return (struct Value){.kind = VAL_INT, .typoid = typoid, .i = i};
}

int32_t days(int64_t y, unsigned m, unsigned d)
{
	return (int32_t)value_days_from_civil(y, m, d);
}

static struct FixtureColumn fixture[16];
static size_t nfixture;

static void add_fixture(bool old, const char *name, struct Value v)
{
	fixture[nfixture++] = (struct FixtureColumn){.old = old, .name = name, .v = v};
}

void setup_fixture(void)
{
	nfixture = 0;
	add_fixture(false, "a", int_value(7, OID_INT4));
	add_fixture(true, "a", int_value(5, OID_INT4));
	add_fixture(false, "big", int_value(3000000000, OID_INT8));
	add_fixture(false, "s", text_value("Hello", OID_TEXT));
	add_fixture(false, "n", numeric_value("10.00"));
	add_fixture(false, "f", (struct Value){.kind = VAL_FLOAT, .typoid = OID_FLOAT8, .f = 2.5});
	add_fixture(false, "b", (struct Value){.kind = VAL_BOOL, .typoid = OID_BOOL, .b = true});
	add_fixture(false, "z", (struct Value){.kind = VAL_NULL, .typoid = OID_INT4});
	add_fixture(
	    false, "d",
	    (struct Value){.kind = VAL_DATE, .typoid = OID_DATE, .date = days(2026, 1, 15)});
	/* 2026-01-15 10:30:45.123456 */
	int64_t ts = (int64_t)days(2026, 1, 15) * 86400000000 + INT64_C(37845123456);
	add_fixture(false, "ts",
	            (struct Value){.kind = VAL_TIMESTAMP, .typoid = OID_TIMESTAMP, .ts = ts});
	add_fixture(false, "bs",
	            (struct Value){.kind = VAL_BYTEA, .typoid = OID_BYTEA, .s = {"abc", 3}});
	add_fixture(false, "u", text_value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", OID_UUID));
	add_fixture(false, "status", text_value("shipped", OID_TEXT));
	add_fixture(true, "status", text_value("paid", OID_TEXT));
}

static const struct Value *fixture_value(const struct ExprColumn *col)
{
	for (size_t i = 0; i < nfixture; i++)
		if (fixture[i].old == col->old && strcmp(fixture[i].name, col->name) == 0)
			return &fixture[i].v;
	return NULL;
}

/*
 * Parse and evaluate text against the fixture row. The result is what
 * PostgreSQL would print ("t", "11.9000"), "NULL", "error: <message>" for
 * evaluation errors, or "parse error: <message> @<position>".
 */
const char *run(const char *text)
{
	static char out[512];
	struct ExprError perr;
	Expr *e = expr_parse(text, &perr);
	if (!e) {
		snprintf(out, sizeof(out), "parse error: %s @%d", perr.message, perr.position);
		return out;
	}
	const struct ExprColumn *cols;
	size_t n = expr_columns(e, &cols);
	struct Value row[16];
	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++) {
		const struct Value *v = fixture_value(&cols[i]);
		ck_assert_msg(v != NULL, "no fixture column %s.%s", cols[i].old ? "old" : "new",
		              cols[i].name);
		row[i] = *v;
	}
	struct ExprRow r = {.cols = row, .ncols = n};
	Arena *arena = arena_new();
	struct Value v;
	char err[256];
	if (expr_eval(e, &r, arena, &v, err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "error: %s", err);
	} else if (v.kind == VAL_NULL) {
		snprintf(out, sizeof(out), "NULL");
	} else {
		const char *t;
		size_t len;
		ck_assert_int_eq(value_to_text(&v, arena, &t, &len), 0);
		snprintf(out, sizeof(out), "%.*s", (int)len, t);
	}
	arena_free(arena);
	expr_free(e);
	return out;
}

/* Run every case, report each mismatch, then fail if there was any. */
void run_cases(const struct Case *cases, size_t n)
{
	setup_fixture();
	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		const char *got = run(cases[i].expr);
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "  %s\n    want: %s\n    got:  %s\n", cases[i].expr,
			        cases[i].want, got);
			failures++;
		}
	}
	ck_assert_int_eq(failures, 0);
}
