/* Backfill conditions: a row filter from a signal row or --where, checked and sent as parameterised SQL. */
#ifndef TABLECAST_SRC_CONDITION_H
#define TABLECAST_SRC_CONDITION_H

#include <stddef.h>

#include "strbuf.h"

/* Longer conditions are refused before anything parses them. */
#define COND_MAX_LEN 4096
/* Operator characters, words and opening brackets: a bound on the parse tree's depth. */
#define COND_MAX_TOKENS 256

typedef struct Condition Condition;

/*
 * Check text and parse it with PostgreSQL's grammar into the expression
 * language the translators use, over the table's plain column names:
 * constants, columns, comparison, boolean and arithmetic operators, IN,
 * BETWEEN, IS [NOT] NULL, CASE, COALESCE and a list of immutable functions.
 * Before the parser sees it the text is bounded (COND_MAX_LEN bytes,
 * COND_MAX_TOKENS nesting tokens: the parser's tree conversion recurses)
 * and refused when it holds control characters, invalid UTF-8, ';',
 * comments or dollar quotes. Returns NULL with a one-line reason in err.
 * Main thread only (libpg_query).
 */
Condition *cond_parse(const char *text, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void cond_free(Condition *cond);

/* Text parameters for PQexecParams; values[i] is $<i + 1>. */
struct CondParams {
	char **values;
	int n;
	int cap;
};

/* Add a parameter; returns its number (1-based). */
int cond_param(struct CondParams *params, const char *text, size_t len);
void cond_params_free(struct CondParams *params);

/*
 * Append the condition to out as SQL generated from the parse tree:
 * columns as quoted identifiers, constants as parameters added to params
 * ("$3::bigint", or "$3" for an untyped string), functions qualified with
 * pg_catalog. Returns 0, or -1 with err.
 */
int cond_sql(const Condition *cond, struct StrBuf *out, struct CondParams *params, char *err,
	     size_t errlen) __attribute__((warn_unused_result));

#endif
