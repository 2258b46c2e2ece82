/* Configuration: load and validate a libconfig file into plain settings. */
#ifndef TABLECAST_SRC_CONFIG_H
#define TABLECAST_SRC_CONFIG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "expr.h"
#include "field.h"
#include "log.h"
#include "shard.h"

enum sink_type { SINK_STDOUT, SINK_FILE, SINK_KAFKA };

/* Row operations an event is declared for (EventDef.ops bits). */
#define OP_INSERT 1u
#define OP_UPDATE 2u
#define OP_DELETE 4u
#define OP_TRUNCATE 8u
#define OP_SNAPSHOT 16u

struct EventField {
	char *name; /* proto field name, snake_case */
	uint32_t number; /* explicit, never reused */
	enum field_type type;
	bool repeated; /* from a PostgreSQL array */
	char **enum_values; /* FT_ENUM: labels, in number order */
	size_t n_enum_values;
	char *value_text; /* NULL for an outbox event: the service writes the payload */
	Expr *value;
	bool required; /* an outbox payload must carry it (a translator's NULL fails the row) */
	int line; /* in the configuration file */
};

/* What to do with a row that cannot become its event. */
enum on_error { ON_ERROR_HALT, ON_ERROR_DEAD_LETTER };

struct EventDef {
	char *name; /* full protobuf name, e.g. "shop.orders.OrderShipped" */
	int version; /* >= 1; the generated package is <package>.v<version> */
	char *table; /* "schema.table"; an outbox-only event: its outbox table */
	unsigned ops; /* OP_* bits */
	/*
	 * The transactional outbox: rows of this "schema.table" (and logical
	 * decoding messages with the prefix "tablecast") naming this event
	 * are published as it. NULL: the event comes from a translator only.
	 */
	char *outbox;
	bool outbox_only; /* no translator: no on, when, key, subject or field values */
	/*
	 * handover = "outbox": a translator and the outbox both feed the
	 * event; in a transaction with an outbox record for the event and a
	 * key, the translator's events for that key are dropped.
	 */
	bool handover;
	char *when_text; /* NULL = always */
	Expr *when;
	int when_line, key_line, subject_line; /* where they are written */
	char *topic;
	char *key_text; /* NULL = no key */
	Expr *key;
	char *subject_text; /* NULL = no ce_subject */
	Expr *subject;
	enum on_error on_error;
	struct EventField *fields;
	size_t nfields;
	/* Numbers and names of removed fields, never to be used again (proto `reserved`). */
	uint32_t *reserved_numbers;
	size_t n_reserved_numbers;
	char **reserved_names;
	size_t n_reserved_names;
	int line;
};

/* owners = ( { table = "public.orders"; role = "orders_service"; } ): who owns a shared table. */
struct TableOwner {
	char *table; /* "schema.table" */
	char *role;
	int line;
};

struct Config {
	char *path; /* the file it came from */
	enum log_level log_level;
	char *state_dir; /* where slot identity is remembered */

	struct {
		char *conninfo;
		char *slot;
		char *publication;
		bool create_slot; /* create the slot when it has never existed */
		bool create_publication; /* create the publication when missing */
		char **tables; /* for a created publication; NULL = the tables events read */
		size_t ntables;
		bool all_tables; /* a created publication is FOR ALL TABLES */
		bool readd_recreated; /* on_table_recreated = "readd_and_backfill" */
		int guard_interval_ms; /* publication membership checked this often */
		int status_interval_ms;
		int max_in_flight; /* transactions waiting for acknowledgement */
		int release_after_ms; /* sink silent this long: close the replication connection; 0 = never */
		int standby_poll_ms; /* a standby asks whether the slot is free this often */
		/* TCP keepalives of the replication connection, on both ends (see docs/HA.md). */
		int keepalives_idle_s;
		int keepalives_interval_s;
		int keepalives_count;
		bool snapshot_initial; /* a created slot starts with a snapshot of every table */
		int snapshot_workers; /* connections reading tables in parallel */
		char *signal_table; /* "schema.table" whose inserts request backfills; "" = none */
		int backfill_chunk; /* rows per backfill chunk */
		int backfill_timeout_ms; /* statement_timeout of each chunk's read */
		int backfill_retention_s; /* how long finished requests stay in the signal table */
		/* Tables whose rows this instance's publication splits with its siblings (shard.h). */
		struct ShardDef *shards;
		size_t nshards;
	} source;

	struct {
		enum sink_type type;
		bool raw_changes; /* format "changes": every raw change, for development */
		char *path; /* SINK_FILE */
		char *dead_letter_topic; /* for on_error = "dead_letter" */
		char **kafka; /* SINK_KAFKA: librdkafka properties, "name=value", verbatim */
		size_t nkafka;
		int flush_timeout_ms; /* on shutdown, for outstanding deliveries */
		bool exactly_once; /* transactional producer + offsets topic */
		char *offsets_topic; /* exactly_once: slot -> committed end LSN (compacted) */
		int transaction_ms; /* exactly_once: how long one Kafka transaction collects */
	} sink;

	struct {
		char *source; /* ce_source, a URI-reference */
		char *dataschema_base; /* ce_dataschema = base + "/" + proto path; "" = none */
		bool structured; /* structured mode: io.cloudevents.v1.CloudEvent */
	} cloudevents;

	struct {
		char *listen; /* "host:port" for /metrics, /healthz, /readyz; "" = off */
		long long max_slot_lag; /* bytes of WAL the slot may hold before it is a warning */
		int audit_interval_s; /* tablecast_audit_* gauges every this many seconds; 0 = off */
	} metrics;

	struct EventDef *events;
	size_t nevents;

	struct TableOwner *owners; /* for tablecast audit: access by other roles is foreign */
	size_t nowners;
};

/*
 * Load and validate path. On error returns NULL with "file:line: reason" in
 * err; the caller exits 2.
 */
struct Config *cfg_load(const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* What a long-running caller needs while a file loads. */
struct CfgLoadHooks {
	/* Non-zero (set by a signal handler) gives the load up: NULL, "loading stopped". */
	volatile sig_atomic_t *stop;
	/* Called between steps, at least every few milliseconds, e.g. to feed a watchdog. */
	void (*tick)(void);
};

/* cfg_load, with hooks (NULL = none). */
struct Config *cfg_load_hooked(const char *path, const struct CfgLoadHooks *hooks, char *err,
			       size_t errlen) __attribute__((warn_unused_result));
void cfg_free(struct Config *cfg);

/* The shard of qualname ("schema.table") this instance publishes; NULL: every row. */
const struct ShardDef *cfg_shard(const struct Config *cfg, const char *qualname);

/*
 * Settings that differ between a running and a newly loaded configuration
 * but cannot change while running (the connection, the slot, the sink):
 * their names, comma-separated, in out ("" when none).
 */
void cfg_fixed_differences(const struct Config *running, const struct Config *next, char *out,
			   size_t outlen);

#endif
