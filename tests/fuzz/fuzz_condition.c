/* libFuzzer target: arbitrary text as a backfill condition, checked, parsed and printed as SQL. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
		/* What is sent is one expression: no statement separator, no comment. */
		if (!sql.data || strchr(sql.data, ';') || strstr(sql.data, "--") || strstr(sql.data, "/*"))
			abort();
	}
	sb_free(&sql);
	cond_params_free(&params);
	cond_free(c);
	return 0;
}
