/* libFuzzer target: arbitrary text as a backfill condition, checked, parsed and printed as SQL. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "condition.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* utf8_valid_prefix skips ASCII a word at a time: it must stop where utf8_seq by utf8_seq does. */
static void check_utf8(const uint8_t *data, size_t size)
{
	size_t i = 0;
	while (i < size) {
		size_t n = utf8_seq(data + i, size - i);
		if (!n)
			break;
		i += n;
	}
	if (utf8_valid_prefix(data, size) != i || utf8_valid(data, size) != (i == size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_utf8(data, size);
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	char err[512];
	Condition *c = cond_parse(text, err, sizeof(err));
	free(text);
	if (!c)
		return 0;
	struct StrBuf sql = {0};
	struct CondParams params = {0};
	if (cond_sql(c, &sql, &params, err, sizeof(err)) == 0) {
		/*
		 * What is sent is one expression: no statement separator and no
		 * comment among its tokens (inside a quoted name either may be).
		 */
		if (!sql.data)
			abort();
		PgQueryScanResult r = pg_query_scan(sql.data);
		if (r.error)
			abort();
		PgQuery__ScanResult *sr =
			pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
		if (!sr)
			abort();
		for (size_t i = 0; i < sr->n_tokens; i++) {
			PgQuery__Token t = sr->tokens[i]->token;
			if (t == PG_QUERY__TOKEN__ASCII_59 || t == PG_QUERY__TOKEN__SQL_COMMENT ||
			    t == PG_QUERY__TOKEN__C_COMMENT)
				abort();
		}
		pg_query__scan_result__free_unpacked(sr, NULL);
		pg_query_free_scan_result(r);
	}
	sb_free(&sql);
	cond_params_free(&params);
	cond_free(c);
	return 0;
}
