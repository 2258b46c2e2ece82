/* Contract: the source schema each event was validated against, kept in the state directory. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contract.h"
#include "file.h"
#include "pgoutput.h"
#include "strbuf.h"
#include "value.h"

/*
 * The file, one record a line, fields separated by tabs (names never hold
 * tabs or newlines: they come from the configuration and the catalog):
 *   column   <event> <table> <column> <from LSN> <type OID> <typmod> <type name>
 *   relation <table> <OID>
 *   gap      <table> <first LSN> <reason>
 * Lines are kept in the order they were recorded, so versions of a column
 * are in LSN order.
 */
struct Version {
	char *event, *table, *column;
	uint64_t from_lsn;
	uint32_t typoid;
	int32_t typmod;
	char *name;
};

struct TableRec {
	char *table;
	uint32_t relid; /* 0: none recorded */
	bool gap;
	uint64_t gap_lsn;
	char *gap_reason;
};

struct Contract {
	char path[4096]; /* "" for a memory record */
	char state_dir[4096];
	struct Version *versions;
	size_t nversions;
	struct TableRec *tables;
	size_t ntables;
	bool dirty;
};

Contract *ctr_new_memory(void)
{
	return calloc(1, sizeof(Contract));
}

void ctr_free(Contract *ctr)
{
	if (!ctr)
		return;
	for (size_t i = 0; i < ctr->nversions; i++) {
		free(ctr->versions[i].event);
		free(ctr->versions[i].table);
		free(ctr->versions[i].column);
		free(ctr->versions[i].name);
	}
	for (size_t i = 0; i < ctr->ntables; i++) {
		free(ctr->tables[i].table);
		free(ctr->tables[i].gap_reason);
	}
	free(ctr->versions);
	free(ctr->tables);
	free(ctr);
}

static int add_version(Contract *ctr, const char *event, const char *table, const char *column,
                       uint64_t lsn, uint32_t typoid, int32_t typmod, const char *name)
{
	struct Version *grown = realloc(ctr->versions, (ctr->nversions + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	ctr->versions = grown;
	struct Version *v = &ctr->versions[ctr->nversions];
	*v = (struct Version){.event = strdup(event),
	                      .table = strdup(table),
	                      .column = strdup(column),
	                      .from_lsn = lsn,
	                      .typoid = typoid,
	                      .typmod = typmod,
	                      .name = strdup(name)};
	if (!v->event || !v->table || !v->column || !v->name) {
		free(v->event);
		free(v->table);
		free(v->column);
		free(v->name);
		return -1;
	}
	ctr->nversions++;
	return 0;
}

static struct TableRec *table_rec(Contract *ctr, const char *table, bool create)
{
	for (size_t i = 0; i < ctr->ntables; i++)
		if (strcmp(ctr->tables[i].table, table) == 0)
			return &ctr->tables[i];
	if (!create)
		return NULL;
	struct TableRec *grown = realloc(ctr->tables, (ctr->ntables + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ctr->tables = grown;
	struct TableRec *t = &ctr->tables[ctr->ntables];
	*t = (struct TableRec){.table = strdup(table)};
	if (!t->table)
		return NULL;
	ctr->ntables++;
	return t;
}

/* Split line at tabs into at most max fields; the number found. */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;
	while (n < max) {
		fields[n++] = line;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

static int parse_line(Contract *ctr, char *line)
{
	char *f[8];
	uint64_t lsn;
	int n = split_tabs(line, f, 8);

	if (n == 8 && strcmp(f[0], "column") == 0 && pgo_lsn_parse(f[4], &lsn))
		return add_version(ctr, f[1], f[2], f[3], lsn, (uint32_t)strtoul(f[5], NULL, 10),
		                   (int32_t)strtol(f[6], NULL, 10), f[7]);
	if (n == 3 && strcmp(f[0], "relation") == 0) {
		struct TableRec *t = table_rec(ctr, f[1], true);
		if (!t)
			return -1;
		t->relid = (uint32_t)strtoul(f[2], NULL, 10);
		return 0;
	}
	if (n == 4 && strcmp(f[0], "gap") == 0 && pgo_lsn_parse(f[2], &lsn))
		return ctr_set_gap(ctr, f[1], lsn, f[3]);
	return -2;
}

Contract *ctr_open(const struct Config *cfg, char *err, size_t errlen)
{
	Contract *ctr = ctr_new_memory();
	if (!ctr) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(ctr->state_dir, sizeof(ctr->state_dir), "%s", cfg->state_dir);
	snprintf(ctr->path, sizeof(ctr->path), "%s/%s.schema", cfg->state_dir, cfg->source.slot);
	FILE *f = fopen(ctr->path, "r");
	if (!f) {
		if (errno == ENOENT)
			return ctr;
		snprintf(err, errlen, "schema record %s: %s", ctr->path, strerror(errno));
		ctr_free(ctr);
		return NULL;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		rc = parse_line(ctr, line);
	}
	free(line);
	fclose(f);
	ctr->dirty = false;
	if (rc < 0) {
		snprintf(err, errlen, "schema record %s:%d: %s", ctr->path, lineno,
		         rc == -1 ? "out of memory"
		                  : "unreadable line (restore it or remove the file to record the "
		                    "schema afresh)");
		ctr_free(ctr);
		return NULL;
	}
	return ctr;
}

bool ctr_lookup(const Contract *ctr, const char *event, const char *table, const char *column,
                uint64_t lsn, struct CtrType *out)
{
	const struct Version *found = NULL;
	for (size_t i = 0; i < ctr->nversions; i++) {
		const struct Version *v = &ctr->versions[i];
		if (strcmp(v->column, column) != 0 || strcmp(v->event, event) != 0 ||
		    strcmp(v->table, table) != 0)
			continue;
		/* The first version holds from the start, whatever LSN it was recorded at. */
		if (!found || v->from_lsn <= lsn)
			found = v;
	}
	if (!found)
		return false;
	*out = (struct CtrType){found->typoid, found->typmod, found->name};
	return true;
}

int ctr_record(Contract *ctr, const char *event, const char *table, const char *column,
               uint64_t lsn, const struct CtrType *type)
{
	ctr->dirty = true;
	return add_version(ctr, event, table, column, lsn, type->typoid, type->typmod, type->name);
}

uint32_t ctr_relid(const Contract *ctr, const char *table)
{
	const struct TableRec *t = table_rec((Contract *)ctr, table, false);
	return t ? t->relid : 0;
}

int ctr_set_relid(Contract *ctr, const char *table, uint32_t relid)
{
	struct TableRec *t = table_rec(ctr, table, true);
	if (!t)
		return -1;
	if (t->relid != relid)
		ctr->dirty = true;
	t->relid = relid;
	return 0;
}

bool ctr_gap(const Contract *ctr, const char *table, uint64_t *lsn, const char **reason)
{
	const struct TableRec *t = table_rec((Contract *)ctr, table, false);
	if (!t || !t->gap)
		return false;
	*lsn = t->gap_lsn;
	*reason = t->gap_reason;
	return true;
}

int ctr_set_gap(Contract *ctr, const char *table, uint64_t lsn, const char *reason)
{
	struct TableRec *t = table_rec(ctr, table, true);
	char *copy = strdup(reason);
	if (!t || !copy) {
		free(copy);
		return -1;
	}
	/* The first gap stays: rows are missing from its LSN on, whatever followed. */
	if (t->gap) {
		free(copy);
		return 0;
	}
	t->gap = true;
	t->gap_lsn = lsn;
	t->gap_reason = copy;
	ctr->dirty = true;
	return 0;
}

void ctr_clear_gap(Contract *ctr, const char *table)
{
	struct TableRec *t = table_rec(ctr, table, false);
	if (!t || !t->gap)
		return;
	t->gap = false;
	free(t->gap_reason);
	t->gap_reason = NULL;
	ctr->dirty = true;
}

int ctr_save(Contract *ctr, char *err, size_t errlen)
{
	char lsn[PGO_LSN_BUFSIZE];
	struct StrBuf sb = {0};

	if (!ctr->dirty || !ctr->path[0])
		return 0;
	if (file_state_dir(ctr->state_dir, err, errlen) < 0)
		return -1;
	sb_printf(&sb, "# tablecast: the source schema each event was validated against "
	               "(docs/SCHEMA-DRIFT.md)\n");
	for (size_t i = 0; i < ctr->ntables; i++) {
		const struct TableRec *t = &ctr->tables[i];
		if (t->relid)
			sb_printf(&sb, "relation\t%s\t%" PRIu32 "\n", t->table, t->relid);
		if (t->gap)
			sb_printf(&sb, "gap\t%s\t%s\t%s\n", t->table,
			          pgo_lsn_format(t->gap_lsn, lsn), t->gap_reason);
	}
	for (size_t i = 0; i < ctr->nversions; i++) {
		const struct Version *v = &ctr->versions[i];
		sb_printf(&sb, "column\t%s\t%s\t%s\t%s\t%" PRIu32 "\t%" PRId32 "\t%s\n", v->event,
		          v->table, v->column, pgo_lsn_format(v->from_lsn, lsn), v->typoid,
		          v->typmod, v->name);
	}
	if (!sb_ok(&sb)) {
		sb_free(&sb);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = file_replace(ctr->path, sb.data, sb.len, "schema record", err, errlen);
	sb_free(&sb);
	if (rc == 0)
		ctr->dirty = false;
	return rc;
}

/* ---- compatibility ------------------------------------------------------- */

static int int_bits(uint32_t typoid)
{
	return typoid == OID_INT2 ? 16 : typoid == OID_INT4 ? 32 : typoid == OID_INT8 ? 64 : 0;
}

static bool is_text(uint32_t typoid)
{
	return typoid == OID_TEXT || typoid == OID_VARCHAR;
}

/* Does every integer of this many bits fit the field exactly? */
static bool field_holds_int(const struct EventField *f, int bits)
{
	if (!f)
		return true; /* when, key, subject: comparisons and text keep their meaning */
	if (f->repeated)
		return false;
	switch (f->type) {
	case FT_INT64:
	case FT_SINT64:
	case FT_STRING:
	case FT_DECIMAL:
		return true;
	case FT_INT32:
	case FT_SINT32:
	case FT_DOUBLE:
		return bits <= 32;
	case FT_FLOAT:
		return bits <= 16;
	default:
		return false;
	}
}

bool ctr_compatible(const struct CtrType *from, const struct CtrType *to,
                    const struct EventField *field)
{
	if (from->typoid == to->typoid)
		return true; /* a typmod: values keep their type and their text */
	if (is_text(from->typoid) && is_text(to->typoid))
		return true;
	int fb = int_bits(from->typoid), tb = int_bits(to->typoid);
	if (fb && tb)
		return tb > fb && field_holds_int(field, tb);
	if (from->typoid == OID_FLOAT4 && to->typoid == OID_FLOAT8)
		return !field ||
		       (!field->repeated && (field->type == FT_DOUBLE || field->type == FT_STRING ||
		                             field->type == FT_DECIMAL));
	return false;
}

void ctr_type_format(uint32_t typoid, int32_t typmod, const char *custom, char *out, size_t outlen)
{
	uint32_t elem = value_array_element_type(typoid);
	uint32_t base = elem ? elem : typoid;
	const char *name = value_type_name(base);
	const char *suffix = elem ? "[]" : "";

	if (!name) {
		if (custom)
			snprintf(out, outlen, "%s", custom);
		else
			snprintf(out, outlen, "type OID %" PRIu32, typoid);
		return;
	}
	if (typmod < 0) {
		snprintf(out, outlen, "%s%s", name, suffix);
		return;
	}
	switch (base) {
	case OID_VARCHAR:
	case OID_BPCHAR:
		snprintf(out, outlen, "%s(%" PRId32 ")%s", name, typmod - 4, suffix);
		return;
	case OID_NUMERIC: {
		int32_t m = typmod - 4;
		snprintf(out, outlen, "numeric(%d,%d)%s", (int)((m >> 16) & 0xffff),
		         (int)(m & 0xffff), suffix);
		return;
	}
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		snprintf(out, outlen, "timestamp(%" PRId32 ") with%s time zone%s", typmod,
		         base == OID_TIMESTAMP ? "out" : "", suffix);
		return;
	default:
		snprintf(out, outlen, "%s%s", name, suffix);
	}
}
