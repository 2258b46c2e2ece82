/* Backfill conditions: a row filter from a signal row or --where, checked and sent as parameterised SQL. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"
#include "expr.h"
#include "utf8.h"

struct Condition {
	Expr *expr;
};

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

/*
 * A token-level look at the text before libpg_query gets it. The parser
 * turns its tree into protobuf recursively, so a long "1+1+...", "NOT NOT
 * ..." or "- - - x" overflows the stack before any check on the tree can
 * run. Every operator character, word and opening bracket outside string
 * constants counts, which bounds the nesting whatever construct makes it;
 * commas and constants do not, so long IN lists pass.
 */
static int scan(const char *text, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text), tokens = 0;

	if (len == 0) {
		snprintf(err, errlen, "the condition is empty");
		return -1;
	}
	if (len > COND_MAX_LEN) {
		snprintf(err, errlen, "the condition is longer than %d bytes", COND_MAX_LEN);
		return -1;
	}
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
			snprintf(err, errlen, "control character 0x%02x at byte %zu", c, i + 1);
			return -1;
		}
		size_t seq = utf8_seq(s + i, len - i);
		if (!seq) {
			snprintf(err, errlen, "invalid UTF-8 at byte %zu", i + 1);
			return -1;
		}
		if (c == ';') {
			snprintf(err, errlen, "';' at byte %zu: one expression only", i + 1);
			return -1;
		}
		if ((c == '-' && s[i + 1] == '-') || (c == '/' && s[i + 1] == '*')) {
			snprintf(err, errlen, "comments are not allowed (byte %zu)", i + 1);
			return -1;
		}
		if (c == '$') {
			snprintf(err, errlen, "'$' at byte %zu: dollar quotes and parameters are not allowed",
				 i + 1);
			return -1;
		}
		if (c == '\'' || c == '"') {
			/* E'...' takes backslash escapes: the same rule as PostgreSQL's lexer. */
			bool escapes = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
				       (i == 1 || !word_char(s[i - 2]));
			size_t j = i + 1;
			while (j < len) {
				if (escapes && s[j] == '\\' && j + 1 < len) {
					j += 2;
				} else if (s[j] == c && s[j + 1] == c) {
					j += 2;
				} else if (s[j] == c) {
					break;
				} else {
					if (s[j] < 0x20 && s[j] != '\t' && s[j] != '\n' && s[j] != '\r') {
						snprintf(err, errlen, "control character 0x%02x at byte %zu",
							 s[j], j + 1);
						return -1;
					}
					size_t k = utf8_seq(s + j, len - j);
					if (!k) {
						snprintf(err, errlen, "invalid UTF-8 at byte %zu", j + 1);
						return -1;
					}
					j += k;
				}
			}
			i = j + 1;
			continue;
		}
		if (word_char(c)) {
			/* Numbers do not nest; words (NOT, CASE, IS, COLLATE, ...) may. */
			bool number = c >= '0' && c <= '9';
			while (i < len && word_char(s[i]))
				i++;
			tokens += !number;
		} else {
			tokens += strchr("+-*/<>=~!@#%^&|`?:([", c) != NULL;
			i += seq;
		}
		if (tokens > COND_MAX_TOKENS) {
			snprintf(err, errlen,
				 "the condition is too complex (more than %d operators, words and brackets)",
				 COND_MAX_TOKENS);
			return -1;
		}
	}
	return 0;
}

Condition *cond_parse(const char *text, char *err, size_t errlen)
{
	struct ExprError perr;

	if (scan(text, err, errlen) < 0)
		return NULL;
	Expr *e = expr_parse_condition(text, &perr);
	if (!e) {
		if (perr.position > 0)
			snprintf(err, errlen, "%s at position %d", perr.message, perr.position);
		else
			snprintf(err, errlen, "%s", perr.message);
		return NULL;
	}
	Condition *cond = malloc(sizeof(*cond));
	if (!cond) {
		expr_free(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cond->expr = e;
	return cond;
}

void cond_free(Condition *cond)
{
	if (!cond)
		return;
	expr_free(cond->expr);
	free(cond);
}

int cond_param(struct CondParams *params, const char *text, size_t len)
{
	if (params->n == params->cap) {
		int cap = params->cap ? params->cap * 2 : 8;
		char **grown = realloc(params->values, (size_t)cap * sizeof(char *));
		if (!grown)
			abort();
		params->values = grown;
		params->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		abort();
	memcpy(copy, text, len);
	copy[len] = '\0';
	params->values[params->n++] = copy;
	return params->n;
}

void cond_params_free(struct CondParams *params)
{
	for (int i = 0; i < params->n; i++)
		free(params->values[i]);
	free(params->values);
	*params = (struct CondParams){0};
}

/* What PQescapeIdentifier does for valid UTF-8 (which scan made sure of). */
static void column_sql(void *ctx, struct StrBuf *out, const char *name)
{
	(void)ctx;
	sb_putc(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			sb_putc(out, '"');
		sb_putc(out, *p);
	}
	sb_putc(out, '"');
}

static void constant_sql(void *ctx, struct StrBuf *out, const char *text, size_t len,
			 const char *type)
{
	int n = cond_param(ctx, text, len);
	if (type)
		sb_printf(out, "$%d::%s", n, type);
	else
		sb_printf(out, "$%d", n);
}

int cond_sql(const Condition *cond, struct StrBuf *out, struct CondParams *params, char *err,
	     size_t errlen)
{
	struct ExprSqlHooks hooks = {.column = column_sql, .constant = constant_sql, .ctx = params};
	return expr_sql(cond->expr, &hooks, out, err, errlen);
}
