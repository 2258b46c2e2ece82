/* libFuzzer target: parse arbitrary text as an expression, evaluate it against a synthetic row. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "expr.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Arena *arena;
	if (!arena && !(arena = arena_new()))
		abort();
	arena_reset(arena);

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
