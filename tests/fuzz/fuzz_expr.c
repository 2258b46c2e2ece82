/* libFuzzer target: parse arbitrary text as an expression, evaluate it against a synthetic row. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
#include "numeric.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Column i gets the (i % 6)th of these, so every kind meets every operator sooner or later. */
static struct Value synthetic(size_t i)
{
	switch (i % 6) {
	case 0:
		return (struct Value){.kind = VAL_INT, .typoid = OID_INT8, .i = 7};
	case 1:
		return (struct Value){.kind = VAL_TEXT, .typoid = OID_TEXT, .s = {"x", 1}};
	case 2:
		return (struct Value){.kind = VAL_NULL};
	case 3:
		return (struct Value){.kind = VAL_NUMERIC, .typoid = OID_NUMERIC, .s = {"1.5", 3}};
	case 4:
		return (struct Value){.kind = VAL_TIMESTAMP, .typoid = OID_TIMESTAMP, .ts = 0};
	default:
		return (struct Value){.kind = VAL_BOOL, .typoid = OID_BOOL, .b = true};
	}
}

/*
 * Text num_small_parse takes must read the same through num_parse: x * 7
 * and x - 7 print alike by num_small_arith and by num_mul/num_add.
 */
static void check_small(Arena *arena, const char *s, size_t len)
{
	struct NumSmall x, seven;
	struct NumDec d, d7, r;
	if (!num_small_parse(s, len, &x))
		return;
	if (num_parse(s, len, &d) < 0 || !num_small_from_int(7, &seven))
		abort();
	num_from_int(7, &d7);
	for (int k = 0; k < 2; k++) {
		const char *p, *q;
		size_t plen, qlen;
		char err[128];
		int rc = k ? num_mul(&d, &d7, &r, err, sizeof(err))
		           : num_add(d, d7, true, &r, err, sizeof(err));
		if (rc < 0 || num_to_text(&r, arena, &q, &qlen, err, sizeof(err)) < 0)
			abort();
		rc = num_small_arith(k ? '*' : '-', &x, &seven, arena, &p, &plen, err, sizeof(err));
		if (rc < 0 || plen != qlen || memcmp(p, q, plen) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Arena *arena;
	if (!arena && !(arena = arena_new()))
		abort();
	arena_reset(arena);
	check_small(arena, (const char *)data, size);

	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct ExprError perr;
	Expr *e = expr_parse(text, &perr);
	free(text);
	if (!e)
		return 0;

	const struct ExprColumn *cols;
	size_t n = expr_columns(e, &cols);
	struct Value *row = calloc(n ? n : 1, sizeof(*row));
	uint32_t *types = calloc(n ? n : 1, sizeof(*types));
	if (row && types) {
		for (size_t i = 0; i < n; i++) {
			row[i] = synthetic(i);
			types[i] = row[i].typoid;
		}
		struct ExprRow r = {.cols = row, .ncols = n};
		struct Value v;
		char err[256];
		enum value_kind kind;
		if (expr_eval(e, &r, arena, &v, err, sizeof(err)) == 0 && v.kind != VAL_NULL) {
			/* Whatever came out must print. */
			const char *t;
			size_t len;
			(void)value_to_text(&v, arena, &t, &len);
		}
		(void)expr_infer(e, types, &kind, err, sizeof(err));
	}
	free(row);
	free(types);
	expr_free(e);
	return 0;
}
