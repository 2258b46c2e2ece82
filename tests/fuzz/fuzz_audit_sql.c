/* libFuzzer target: attribute arbitrary text, as pg_stat_statements could hold it, to tables. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);
	if (!sql)
		abort();
	memcpy(sql, data, size);
	sql[size] = '\0';
	struct AuditRefs refs = {0};
	char err[256];
	if (asql_tables(sql, &refs, err, sizeof(err)) == 0) {
		/* Every reference names something and is read or written. */
		for (size_t i = 0; i < refs.n; i++)
			if (!refs.refs[i].name[0] || !(refs.refs[i].access & (ASQL_READ | ASQL_WRITE)))
				abort();
	}
	asql_refs_free(&refs);
	free(sql);
	return 0;
}
