/* Command line: subcommands, options, signals and exit codes. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#include "audit.h"
#include "asyncapi.h"
#include "backfill.h"
#include "casefile.h"
#include "check.h"
#include "config.h"
#include "file.h"
#include "lock.h"
#include "log.h"
#include "pipeline.h"
#include "schema.h"
#include "status.h"
#include "tail.h"
#include "verify.h"

/* Exit codes: documented in --help and the man page. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_AUDIT_NEW_FOREIGN 1 /* audit --since-last: a new foreign reader or writer */
#define EXIT_AUDIT_FAILED 3 /* audit: the statistics could not be read */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_reload_signal(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The first signal asks for a clean stop; a second one means now. */
static void on_stop_signal(int sig)
{
	if (stop_requested)
		_exit(128 + sig);
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &sa, NULL);
	/* A closed stdout is a write error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
}

static const char usage_run[] =
	"usage: tablecast run --config FILE [--recreate-slot] [--resync-table TABLE]...\n"
	"                     [--log-level LEVEL]\n"
	"\n"
	"Connect to the source database, make sure the publication and the slot\n"
	"exist (as the configuration allows) and stream every committed change to\n"
	"the sink, confirming to PostgreSQL only what the sink has taken.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"      --recreate-slot     replace a replication slot that was lost or\n"
	"                          invalidated; changes in the gap are not sent\n"
	"      --resync-table TABLE  accept that TABLE (schema.table) was re-created\n"
	"                          or missed from the publication: record it as it\n"
	"                          is now and, with source.signal_table, backfill it\n"
	"  -l, --log-level LEVEL   error, warning, info (default) or debug\n"
	"  -h, --help              show this help\n";

static const char usage_snapshot[] =
	"usage: tablecast snapshot --config FILE [--log-level LEVEL]\n"
	"\n"
	"Publish the current rows of every table with events declared\n"
	"on = [\"snapshot\"], then stop; a later `tablecast run` streams the changes\n"
	"from where the slot stands, so for every key the last event is the row's\n"
	"latest state. A missing slot is created (as source.create_slot allows) with\n"
	"its own consistent snapshot; an existing one gets a fresh snapshot and its\n"
	"pending changes follow it. Run it while `tablecast run` is stopped. An\n"
	"interrupted snapshot resumes, skipping the chunks Kafka acknowledged. A\n"
	"progress bar shows on a terminal.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -l, --log-level LEVEL   error, warning, info (default) or debug\n"
	"  -h, --help              show this help\n";

static const char usage_backfill[] =
	"usage: tablecast backfill --config FILE --table SCHEMA.TABLE [--where CONDITION]\n"
	"                          [--wait SECONDS]\n"
	"       tablecast backfill --config FILE --status [--id ID [--wait SECONDS]]\n"
	"\n"
	"Ask tablecast to publish the table's current rows again, as snapshot events\n"
	"(tablecastsnapshot=backfill), without stopping the stream: a row goes into\n"
	"source.signal_table and the running tablecast (now or at its next start)\n"
	"reads the table in key order, source.backfill_chunk rows at a time, between\n"
	"watermarks, so no row overwrites a newer change. CONDITION is a condition\n"
	"on the table's plain column names in the language of event expressions\n"
	"(comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, arithmetic, a few\n"
	"functions; at most 4096 bytes), sent as parameterised SQL in a read-only\n"
	"transaction; anything else is refused with exit status 2. Any SQL client\n"
	"can do the same: INSERT INTO <signal_table> (kind, target, condition)\n"
	"VALUES ('backfill', 'schema.table', NULL).\n"
	"\n"
	"The request's row records its status (requested, running, done, refused,\n"
	"failed), the reason for a refusal, the rows emitted and skipped, and its\n"
	"times; it is deleted source.backfill_retention after it ended. Deleting a\n"
	"request's row cancels it.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -t, --table TABLE       the table, as the events name it (schema.table)\n"
	"  -w, --where CONDITION   only rows matching it\n"
	"  -s, --status            list the requests in the signal table\n"
	"  -i, --id ID             only request ID\n"
	"  -W, --wait SECONDS      wait up to SECONDS for the request to end, then\n"
	"                          print it: exit 0 when done, 1 when refused, failed\n"
	"                          or still running\n"
	"  -h, --help              show this help\n";

static const char usage_check[] =
	"usage: tablecast check --config FILE [--lock LOCK]\n"
	"\n"
	"Check the configuration against the source database's catalog: tables and\n"
	"columns exist, expression types fit the declared field types, old.<col>\n"
	"reads have the replica identity they need, TOAST-able columns read from\n"
	"updates, and the publication covers the tables. With --lock, also refuse\n"
	"changes that break an event version the lock lists (as schema check does).\n"
	"One line per finding; exit 0 when there is no error, 1 otherwise, 2 for a\n"
	"malformed file.\n";

static const char usage_schema[] =
	"usage: tablecast schema generate --config FILE [--out DIR] [--asyncapi FILE]\n"
	"       tablecast schema lock --config FILE [--lock LOCK] [--force]\n"
	"       tablecast schema check --config FILE --lock LOCK [--frozen]\n"
	"\n"
	"generate: write one .proto file per event version\n"
	"(DIR/<package path>/v<N>/<name>.proto) and an index, DIR/README.md; and/or\n"
	"an AsyncAPI 3.0 document (JSON) to FILE: the topics as channels, one message\n"
	"per event version with its protobuf schema, its Kafka key and its\n"
	"CloudEvents headers. The same configuration always gives the same bytes.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -o, --out DIR           where the .proto files go\n"
	"  -a, --asyncapi FILE     where the AsyncAPI document goes\n"
	"\n"
	"lock: write LOCK (default tablecast.lock) listing every event version's\n"
	"contract: full name, package, fields (number, name, type, repeated, enum\n"
	"values) and reserved numbers and names. Commit it next to the\n"
	"configuration. An existing lock is checked first: a change that breaks it\n"
	"is refused (exit 1) unless --force.\n"
	"\n"
	"check: refuse every change within a locked event version that breaks wire\n"
	"or JSON compatibility (buf's WIRE_JSON rules): a field number reused, a\n"
	"field removed without reserving its number and name, renamed or changed\n"
	"in type or cardinality, an enum value removed or renumbered, the message\n"
	"or package renamed, a version removed. One line per change; exit 0 when\n"
	"compatible, 1 when a change breaks the lock, 2 for a malformed file.\n"
	"--frozen also fails when the lock is not current (additions not recorded).\n";

static const char usage_test[] =
	"usage: tablecast test --config FILE CASES...\n"
	"\n"
	"Run the contract cases of the case files CASES against the configuration's\n"
	"events, with no database and no broker: each case's row change (column\n"
	"types and PostgreSQL text values) goes through the translator and encoder\n"
	"`run` uses, the bytes produced are decoded again and compared with the\n"
	"events, dead letters or halt the case expects (docs/CONTRACTS.md). One line\n"
	"per case, a diff for each failure, then \"N passed, N failed\".\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -h, --help              show this help\n"
	"\n"
	"exit status: 0 every case passed, 1 a case failed, 2 a malformed file\n";

static const char usage_tail[] =
	"usage: tablecast tail --config FILE [--event NAME] [--from-beginning]\n"
	"                      [--count N] [--idle-exit SECONDS] [--no-group]\n"
	"\n"
	"Consume the configured events' topics (and the dead-letter topic) with the\n"
	"sink's Kafka settings and print one JSON line per record: topic, partition,\n"
	"offset, key, the CloudEvents headers and the payload decoded with the\n"
	"configuration's schema (protobuf JSON mapping). Commits no offsets.\n"
	"\n"
	"  -e, --event NAME        only this event (full name, any version)\n"
	"  -b, --from-beginning    start at the oldest record, not the next one\n"
	"  -n, --count N           exit after N records\n"
	"      --idle-exit S       exit after S seconds without a record (allowing\n"
	"                          10 more before the first one, to join the group);\n"
	"                          exit 1 when no broker answers within S seconds\n"
	"  -G, --no-group          read every partition directly, without joining a\n"
	"                          consumer group (no join delay, no rebalances)\n";

static const char usage_audit[] =
	"usage: tablecast audit --config FILE [--json] [--since-last]\n"
	"\n"
	"Show who still reads and writes each table of the source database, and how\n"
	"much, from pg_stat_statements (each statement parsed with PostgreSQL's\n"
	"grammar; unqualified names resolved with each role's search_path, views to\n"
	"their base tables) and pg_stat_user_tables: per table its owner (owners in\n"
	"the configuration), the events published for it, every role's reads and\n"
	"writes with calls, rows and the last change seen, and a status such as\n"
	"\"2 readers left\" or \"no foreign access\". Each audit is kept in\n"
	"<state_dir>/audit.last.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -j, --json              one JSON document, for dashboards\n"
	"  -s, --since-last        compare with the previous audit: who started and\n"
	"                          who stopped using each table\n"
	"  -h, --help              show this help\n"
	"\n"
	"exit status: 0 done; 1 with --since-last, a role other than a table's owner\n"
	"started reading or writing it; 2 usage or configuration error; 3 the\n"
	"statistics could not be read (no pg_stat_statements, connection, state)\n";

static const char usage_verify[] =
	"usage: tablecast verify --config FILE [--event NAME] [--sample N] [--timeout SECONDS]\n"
	"\n"
	"Compare, for every event declared on = [\"snapshot\"] (or only NAME), the\n"
	"latest event of each key on Kafka with the table's rows translated through\n"
	"the same definition, both at one point of the WAL: the table under the\n"
	"snapshot of a temporary replication slot, the topic once the running\n"
	"tablecast has confirmed that point, counting only events committed before\n"
	"it. A key whose latest event is one of the table's delete events (or a\n"
	"tombstone) must have no row. Prints the counts of equal, missing (a row\n"
	"without its event), extra (an event without a row) and different keys,\n"
	"and the field differences of a few. Exit 0 when equal, 1 otherwise.\n"
	"\n"
	"  -c, --config FILE       configuration file (libconfig syntax)\n"
	"  -e, --event NAME        only this event (full name, any version)\n"
	"  -s, --sample N          keys of each kind shown with their differences (5)\n"
	"  -t, --timeout SECONDS   wait this long for the slot to confirm (60)\n"
	"  -h, --help              show this help\n";

static const char usage_check_config[] = "usage: tablecast check-config [--lock LOCK] FILE\n";

static const char usage_status[] =
	"usage: tablecast status --config FILE [--json]\n"
	"\n"
	"One screen on the slot and the daemon: the slot as the database sees it\n"
	"(held by which pid and client, confirmed LSN, lag in bytes and seconds,\n"
	"WAL retention), the daemon's /metrics and /readyz when metrics.listen is\n"
	"set (streaming, Kafka reachable, in-flight transactions and events, dead\n"
	"letters), and the last halt recorded in state_dir. --json prints one JSON\n"
	"object instead. The runbook, docs/OPERATIONS.md, says what to do next.\n"
	"\n"
	"exit status: 0 healthy; 1 degraded (lagging, standby: the slot is held by\n"
	"another connection, Kafka unreachable, not ready); 2 usage or configuration\n"
	"error; 3 halted or down (no daemon answers, slot missing or invalidated,\n"
	"database unreachable)\n";

static struct Config *load_config(const char *path)
{
	char err[1024];
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	if (!cfg)
		fprintf(stderr, "tablecast: %s\n", err);
	return cfg;
}

/*
 * Every option of every command, as parsed: an option means the same in
 * each command that takes it. Defaults are set in main.
 */
struct Args {
	const char *config_path, *lock_path, *level_name;
	const char *table, *condition; /* backfill */
	bool status; /* backfill --status */
	long long id; /* backfill --id */
	int wait_s; /* backfill --wait */
	bool recreate; /* run --recreate-slot */
	char *resync[64]; /* run --resync-table */
	size_t nresync;
	const char *out_dir, *asyncapi; /* schema generate */
	bool force, frozen; /* schema lock, schema check */
	bool json; /* status, audit */
	bool since_last; /* audit */
	const char *event; /* tail, verify */
	bool from_beginning, no_group; /* tail */
	long count; /* tail --count */
	int idle_exit_ms; /* tail --idle-exit */
	int sample; /* verify --sample */
	int timeout_ms; /* verify --timeout */
};

/*
 * A command: what `tablecast --help` says of it, its own help, its options
 * (each long option's val is its short letter, or a letter of its own for a
 * long-only option; 'h' is --help everywhere), and what runs it once the
 * options are parsed. Commands of two words ("schema lock") share the first
 * word's help.
 */
struct Command {
	const char *name;
	const char *synopsis; /* "run --config FILE", in tablecast --help */
	const char *purpose; /* after the synopsis; continuation lines indented */
	const char *usage; /* the command's help: `tablecast help CMD`, CMD --help, usage errors */
	void (*setup)(void); /* before the options are parsed (signal handlers), or NULL */
	const char *shortopts; /* NULL: the command reads its arguments itself */
	const struct option *longopts;
	/* Parsed options in a; argv[optind..argc-1] are the operands. Returns the exit status. */
	int (*run)(const struct Command *cmd, struct Args *a, int argc, char **argv);
};

static int usage_error(const struct Command *cmd)
{
	fputs(cmd->usage, stderr);
	return EXIT_USAGE;
}

/* A number from optarg within [min, max]; false when it is not one. */
static bool number_arg(const char *arg, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Take one option (by its long name) into a. Returns -1 to go on, or the
 * exit status of a refused one (its message printed).
 */
static int take_option(const struct Command *cmd, struct Args *a, const char *name, char *arg)
{
	bool snapshot_only = strcmp(cmd->name, "snapshot") == 0;
	long long v;
	char *end;

	if (strcmp(name, "config") == 0) {
		a->config_path = arg;
	} else if (strcmp(name, "lock") == 0) {
		a->lock_path = arg;
	} else if (strcmp(name, "log-level") == 0) {
		a->level_name = arg;
	} else if (strcmp(name, "table") == 0) {
		a->table = arg;
	} else if (strcmp(name, "where") == 0) {
		a->condition = arg;
	} else if (strcmp(name, "status") == 0) {
		a->status = true;
	} else if (strcmp(name, "id") == 0 || strcmp(name, "wait") == 0) {
		bool wait = strcmp(name, "wait") == 0;
		if (!number_arg(arg, 1, wait ? 86400 : LLONG_MAX, &v)) {
			fprintf(stderr, "tablecast: --%s: not a number in range: %s\n", name, arg);
			return EXIT_USAGE;
		}
		if (wait)
			a->wait_s = (int)v;
		else
			a->id = v;
	} else if (strcmp(name, "recreate-slot") == 0) {
		if (snapshot_only)
			return usage_error(cmd);
		a->recreate = true;
	} else if (strcmp(name, "resync-table") == 0) {
		if (snapshot_only || a->nresync == sizeof(a->resync) / sizeof(a->resync[0]) ||
		    !strchr(arg, '.')) {
			fprintf(stderr, "tablecast: --resync-table takes schema.table (at most 64)\n");
			return usage_error(cmd);
		}
		a->resync[a->nresync++] = arg;
	} else if (strcmp(name, "out") == 0) {
		a->out_dir = arg;
	} else if (strcmp(name, "asyncapi") == 0) {
		a->asyncapi = arg;
	} else if (strcmp(name, "force") == 0) {
		if (strcmp(cmd->name, "schema lock") != 0)
			return usage_error(cmd);
		a->force = true;
	} else if (strcmp(name, "frozen") == 0) {
		if (strcmp(cmd->name, "schema check") != 0)
			return usage_error(cmd);
		a->frozen = true;
	} else if (strcmp(name, "json") == 0) {
		a->json = true;
	} else if (strcmp(name, "since-last") == 0) {
		a->since_last = true;
	} else if (strcmp(name, "event") == 0) {
		a->event = arg;
	} else if (strcmp(name, "from-beginning") == 0) {
		a->from_beginning = true;
	} else if (strcmp(name, "no-group") == 0) {
		a->no_group = true;
	} else if (strcmp(name, "count") == 0) {
		a->count = strtol(arg, &end, 10);
		if (*end || a->count <= 0) {
			fprintf(stderr, "tablecast: --count needs a positive number\n");
			return EXIT_USAGE;
		}
	} else if (strcmp(name, "idle-exit") == 0) {
		a->idle_exit_ms = (int)strtol(arg, &end, 10) * 1000;
		if (*end || a->idle_exit_ms <= 0) {
			fprintf(stderr, "tablecast: --idle-exit needs a positive number of seconds\n");
			return EXIT_USAGE;
		}
	} else if (strcmp(name, "sample") == 0) {
		long n = strtol(arg, &end, 10);
		if (*end || n < 0 || n > 1000) {
			fprintf(stderr, "tablecast: --sample needs a number from 0 to 1000\n");
			return EXIT_USAGE;
		}
		a->sample = (int)n;
	} else if (strcmp(name, "timeout") == 0) {
		long n = strtol(arg, &end, 10);
		if (*end || n <= 0 || n > 86400) {
			fprintf(stderr, "tablecast: --timeout needs a positive number of seconds\n");
			return EXIT_USAGE;
		}
		a->timeout_ms = (int)n * 1000;
	} else {
		return usage_error(cmd);
	}
	return -1;
}

/*
 * The command's options into a, by its table entry. Returns -1 to run the
 * command, or the exit status: 0 after --help, 2 for a refused option.
 */
static int parse_options(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cmd->shortopts, cmd->longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		}
		const struct option *o = cmd->longopts;
		while (o->name && o->val != c)
			o++;
		if (!o->name)
			return usage_error(cmd);
		int rc = take_option(cmd, a, o->name, optarg);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

static int cmd_backfill(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	long long id = a->id;
	if (!a->config_path || optind != argc ||
	    (a->status ? a->table || a->condition : !a->table || a->id) ||
	    (a->status && a->wait_s && !a->id)) {
		fprintf(stderr,
			"tablecast: backfill needs --config FILE and either --table TABLE or --status\n");
		return usage_error(cmd);
	}
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	char err[1024];
	int rc = EXIT_OK;
	if (!a->status) {
		id = bf_request(cfg, a->table, a->condition, err, sizeof(err));
		if (id < 0) {
			fprintf(stderr, "tablecast: %s\n", err);
			cfg_free(cfg);
			return id == -2 ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
		}
		printf("backfill %lld of %s requested; the running tablecast logs its progress\n", id,
		       a->table);
	}
	if (a->status || a->wait_s) {
		fflush(stdout);
		int st = bf_status(cfg, id, a->wait_s, stdout, err, sizeof(err));
		if (st < 0)
			fprintf(stderr, "tablecast: %s\n", err);
		rc = st == 0 ? EXIT_OK : st == -2 ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
	}
	cfg_free(cfg);
	return rc;
}

/* run, and snapshot: a run that takes a snapshot, then stops. */
static int cmd_run(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	bool snapshot_only = strcmp(cmd->name, "snapshot") == 0;
	const char *config_path = a->config_path;

	if (!config_path || optind != argc) {
		fprintf(stderr, "tablecast: %s needs --config FILE and nothing else\n", cmd->name);
		return usage_error(cmd);
	}

	/* A stop during a long load ends it: systemd's stop must not wait for it. */
	char err[1024];
	struct CfgLoadHooks hooks = {.stop = &stop_requested};
	struct Config *cfg = cfg_load_hooked(config_path, &hooks, err, sizeof(err));
	if (!cfg && stop_requested)
		return EXIT_OK;
	if (!cfg) {
		fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_USAGE;
	}
	enum log_level level = cfg->log_level;
	if (a->level_name && !log_parse_level(a->level_name, &level)) {
		fprintf(stderr, "tablecast: unknown log level \"%s\"\n", a->level_name);
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	log_set_level(level);

	/* A configuration that can never translate is refused now, not row by row later. */
	if (!cfg->sink.raw_changes && cfg->nevents) {
		int errors = chk_start(cfg, err, sizeof(err));
		if (errors < 0) {
			/* The server may be restarting: the stream reconnects and checks as it goes. */
			log_warning("%s: the catalog checks could not run at start", err);
		} else if (errors > 0) {
			log_error("%s: %d error%s against the live catalog (the lines above; tablecast check --config %s lists them too): not starting",
				  config_path, errors, errors == 1 ? "" : "s", config_path);
			cfg_free(cfg);
			return EXIT_USAGE;
		}
	}

	struct RunOptions opts = {.cfg = cfg,
				  .recreate_slot = a->recreate,
				  .resync_tables = a->resync,
				  .nresync_tables = a->nresync,
				  .stop = &stop_requested,
				  .reload = &reload_requested,
				  .config_path = config_path,
				  .snapshot_only = snapshot_only};
	int rc = pipe_run(&opts);
	cfg_free(cfg);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

/*
 * Read the lock at path. NULL with a one-line reason in err when it cannot
 * be read or parsed; *missing tells a file that does not exist from a bad one.
 */
static Lock *read_lock(const char *path, bool *missing, char *err, size_t errlen)
{
	*missing = false;
	FILE *f = fopen(path, "rb");
	if (!f) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct StrBuf text = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && text.len <= LOCK_MAX_BYTES)
		sb_append(&text, buf, n);
	int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	Lock *lock = NULL;
	if (read_errno)
		snprintf(err, errlen, "reading %s: %s", path, strerror(read_errno));
	else if (!sb_ok(&text))
		snprintf(err, errlen, "reading %s: out of memory", path);
	else
		lock = lock_parse(text.data ? text.data : "", text.len, path, err, errlen);
	sb_free(&text);
	return lock;
}

/*
 * Compare cfg with the lock at lock_path, printing one line per breaking
 * change to out. frozen: a lock that is not exactly what `schema lock`
 * would write fails too. Returns EXIT_OK, EXIT_FAILURE_RUNTIME (a change
 * breaks the lock) or EXIT_USAGE (a lock that cannot be read).
 */
static int check_lock(const struct Config *cfg, const char *lock_path, bool frozen, FILE *out)
{
	bool missing;
	char err[1024];
	Lock *locked = read_lock(lock_path, &missing, err, sizeof(err));
	if (!locked) {
		if (missing)
			fprintf(stderr, "tablecast: %s: no such file (tablecast schema lock --config %s --lock %s writes it)\n",
				lock_path, cfg->path, lock_path);
		else
			fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_USAGE;
	}
	Lock *next = lock_from_events(cfg->events, cfg->nevents, cfg->path);
	struct StrBuf lines = {0}, now = {0}, then = {0};
	int rc = EXIT_OK;
	if (!next) {
		fprintf(stderr, "tablecast: out of memory\n");
		rc = EXIT_FAILURE_RUNTIME;
		goto out;
	}
	size_t breaking = lock_compare(locked, next, &lines);
	if (!sb_ok(&lines)) {
		fprintf(stderr, "tablecast: out of memory\n");
		rc = EXIT_FAILURE_RUNTIME;
		goto out;
	}
	if (breaking) {
		fwrite(lines.data, 1, lines.len, out);
		fprintf(stderr, "tablecast: %s: %zu change%s break%s %s\n", cfg->path, breaking,
			breaking == 1 ? "" : "s", breaking == 1 ? "s" : "", lock_path);
		rc = EXIT_FAILURE_RUNTIME;
		goto out;
	}
	lock_format(next, &now);
	lock_format(locked, &then);
	if (sb_ok(&now) && sb_ok(&then) &&
	    (now.len != then.len || memcmp(now.data, then.data, now.len) != 0)) {
		fprintf(frozen ? out : stderr,
			"%s: %s is not current: the configuration adds to it (tablecast schema lock --config %s --lock %s records it)\n",
			cfg->path, lock_path, cfg->path, lock_path);
		if (frozen)
			rc = EXIT_FAILURE_RUNTIME;
	}
out:
	sb_free(&lines);
	sb_free(&now);
	sb_free(&then);
	lock_free(next);
	lock_free(locked);
	return rc;
}

static int cmd_check(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	char err[1024];

	if (!a->config_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	/* The lock first: it needs no database, and a malformed one is a usage error. */
	int lock_rc = a->lock_path ? check_lock(cfg, a->lock_path, false, stdout) : EXIT_OK;
	if (lock_rc == EXIT_USAGE) {
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	int errors = chk_run(cfg, stdout, err, sizeof(err));
	cfg_free(cfg);
	if (errors < 0) {
		log_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	return errors == 0 && lock_rc == EXIT_OK ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static int cmd_schema_lock(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	const char *lock_path = a->lock_path ? a->lock_path : "tablecast.lock";
	bool force = a->force;
	int rc;
	if (!a->config_path || !*lock_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	bool missing = false;
	char err[1024];
	Lock *locked = force ? NULL : read_lock(lock_path, &missing, err, sizeof(err));
	Lock *next = NULL;
	struct StrBuf lines = {0}, text = {0};
	rc = EXIT_FAILURE_RUNTIME;
	if (!force && !locked && !missing) {
		fprintf(stderr, "tablecast: %s; not writing over it (--force replaces it)\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(next = lock_from_events(cfg->events, cfg->nevents, cfg->path))) {
		fprintf(stderr, "tablecast: out of memory\n");
		goto out;
	}
	size_t breaking = locked ? lock_compare(locked, next, &lines) : 0;
	if (breaking) {
		if (sb_ok(&lines))
			fwrite(lines.data, 1, lines.len, stdout);
		fprintf(stderr, "tablecast: not writing %s: %zu change%s break%s it (--force writes it anyway)\n",
			lock_path, breaking, breaking == 1 ? "" : "s", breaking == 1 ? "s" : "");
		goto out;
	}
	lock_format(next, &text);
	if (!sb_ok(&text)) {
		fprintf(stderr, "tablecast: out of memory\n");
		goto out;
	}
	if (file_publish(lock_path, text.data, text.len, "writing", err, sizeof(err)) < 0) {
		fprintf(stderr, "tablecast: %s\n", err);
		goto out;
	}
	printf("%s: %zu event version%s locked\n", lock_path, cfg->nevents,
	       cfg->nevents == 1 ? "" : "s");
	rc = EXIT_OK;
out:
	sb_free(&lines);
	sb_free(&text);
	lock_free(next);
	lock_free(locked);
	cfg_free(cfg);
	return rc;
}

static int cmd_schema_check(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	const char *config_path = a->config_path, *lock_path = a->lock_path;
	if (!config_path || !lock_path || !*lock_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	int rc = check_lock(cfg, lock_path, a->frozen, stdout);
	if (rc == EXIT_OK)
		printf("%s: compatible with %s\n", config_path, lock_path);
	cfg_free(cfg);
	return rc;
}

static int cmd_schema_generate(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	const char *out_dir = a->out_dir, *asyncapi = a->asyncapi;
	char err[1024];

	if (!a->config_path || optind != argc || (!out_dir && !asyncapi) || (out_dir && !*out_dir) ||
	    (asyncapi && !*asyncapi))
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	int rc = 0;
	if (out_dir)
		rc = schema_generate(cfg->events, cfg->nevents, out_dir, err, sizeof(err));
	if (rc == 0 && asyncapi)
		rc = aapi_generate(cfg, asyncapi, err, sizeof(err));
	cfg_free(cfg);
	if (rc < 0) {
		fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}

static int cmd_tail(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	struct TailOptions opts = {.stop = &stop_requested,
				   .out = stdout,
				   .event = a->event,
				   .from_beginning = a->from_beginning,
				   .no_group = a->no_group,
				   .max_count = a->count,
				   .idle_exit_ms = a->idle_exit_ms};
	const char *config_path = a->config_path;
	char err[1024];

	if (!config_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	if (cfg->sink.type != SINK_KAFKA) {
		fprintf(stderr, "tablecast: %s: tail needs a kafka sink (sink.type = \"kafka\")\n",
			config_path);
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	opts.cfg = cfg;
	int rc = tail_run(&opts, err, sizeof(err));
	cfg_free(cfg);
	if (rc < 0) {
		fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}

static int cmd_audit(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	struct AuditOptions opts = {.out = stdout, .json = a->json, .since_last = a->since_last};

	if (!a->config_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	opts.cfg = cfg;
	char err[1024];
	int rc = audit_run(&opts, err, sizeof(err));
	cfg_free(cfg);
	if (rc == AUDIT_FAILED) {
		fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_AUDIT_FAILED;
	}
	return rc == AUDIT_NEW_FOREIGN ? EXIT_AUDIT_NEW_FOREIGN : EXIT_OK;
}

static int cmd_status(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	if (!a->config_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	int rc = status_run(cfg, a->json, stdout);
	cfg_free(cfg);
	return rc;
}

static int cmd_verify(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)argv;
	struct VerifyOptions opts = {.sample = a->sample,
				     .timeout_ms = a->timeout_ms,
				     .stop = &stop_requested,
				     .out = stdout,
				     .event = a->event};
	const char *config_path = a->config_path;
	char err[1024];

	if (!config_path || optind != argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	if (cfg->sink.type != SINK_KAFKA) {
		fprintf(stderr, "tablecast: %s: verify needs a kafka sink (sink.type = \"kafka\")\n",
			config_path);
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	log_set_level(cfg->log_level);
	opts.cfg = cfg;
	int rc = verify_run(&opts, err, sizeof(err));
	cfg_free(cfg);
	if (rc < 0) {
		log_error("%s", err);
		return rc == -2 ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
	}
	return rc == 1 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static int cmd_test(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	char err[1024];

	if (!a->config_path || optind >= argc)
		return usage_error(cmd);
	struct Config *cfg = load_config(a->config_path);
	if (!cfg)
		return EXIT_USAGE;
	/* Dead letters a case expects are results here, not warnings. */
	log_set_level(LOG_ERROR);
	struct CaseTotals totals;
	int rc = case_run_files(cfg, argv + optind, (size_t)(argc - optind), stdout, &totals, err,
				sizeof(err));
	cfg_free(cfg);
	if (rc < 0) {
		fprintf(stderr, "tablecast: %s\n", err);
		return EXIT_USAGE;
	}
	printf("%u passed, %u failed\n", totals.passed, totals.failed);
	if (fflush(stdout) != 0)
		return EXIT_FAILURE_RUNTIME;
	return totals.failed ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}

static int cmd_check_config(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	if (optind != argc - 1)
		return usage_error(cmd);
	const char *path = argv[optind];
	struct Config *cfg = load_config(path);
	if (!cfg)
		return EXIT_USAGE;
	int rc = a->lock_path ? check_lock(cfg, a->lock_path, false, stdout) : EXIT_OK;
	if (rc == EXIT_OK)
		printf("%s: ok\n", path);
	cfg_free(cfg);
	return rc;
}

static void ignore_sigpipe(void)
{
	/* A closed stdout is a write error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
}

static int cmd_help(const struct Command *cmd, struct Args *a, int argc, char **argv);

static const struct option run_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"recreate-slot", no_argument, NULL, 'R'},
	{"resync-table", required_argument, NULL, 'T'},
	{"log-level", required_argument, NULL, 'l'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option backfill_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"table", required_argument, NULL, 't'},
	{"where", required_argument, NULL, 'w'},
	{"status", no_argument, NULL, 's'},
	{"id", required_argument, NULL, 'i'},
	{"wait", required_argument, NULL, 'W'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option check_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"lock", required_argument, NULL, 'L'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option check_config_options[] = {
	{"lock", required_argument, NULL, 'L'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option status_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option tail_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"event", required_argument, NULL, 'e'},
	{"from-beginning", no_argument, NULL, 'b'},
	{"count", required_argument, NULL, 'n'},
	{"idle-exit", required_argument, NULL, 'I'},
	{"no-group", no_argument, NULL, 'G'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option audit_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"since-last", no_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option verify_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"event", required_argument, NULL, 'e'},
	{"sample", required_argument, NULL, 's'},
	{"timeout", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option schema_generate_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"out", required_argument, NULL, 'o'},
	{"asyncapi", required_argument, NULL, 'a'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* schema lock and schema check: --force is lock's, --frozen check's. */
static const struct option schema_lock_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"lock", required_argument, NULL, 'L'},
	{"force", no_argument, NULL, 'F'},
	{"frozen", no_argument, NULL, 'Z'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option test_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* In the order tablecast --help lists them. */
static const struct Command commands[] = {
	{"run", "run --config FILE", "stream events until stopped (SIGTERM/SIGINT)", usage_run,
	 install_signals, "c:l:h", run_options, cmd_run},
	{"snapshot", "snapshot --config FILE",
	 "publish every existing row as snapshot events, then stop", usage_snapshot,
	 install_signals, "c:l:h", run_options, cmd_run},
	{"backfill", "backfill --config FILE --table T [--where COND]",
	 "ask the running tablecast to publish T's rows again", usage_backfill, NULL,
	 "c:t:w:si:W:h", backfill_options, cmd_backfill},
	{"check", "check --config FILE [--lock LOCK]",
	 "check the configuration against the live database", usage_check, NULL, "c:h",
	 check_options, cmd_check},
	{"check-config", "check-config [--lock LOCK] FILE",
	 "parse and validate a configuration file offline", usage_check_config, NULL, "h",
	 check_config_options, cmd_check_config},
	{"status", "status --config FILE [--json]", "the slot and the running daemon at a glance",
	 usage_status, NULL, "c:jh", status_options, cmd_status},
	{"tail", "tail --config FILE", "print the events on Kafka as JSON lines", usage_tail,
	 install_signals, "c:e:bn:Gh", tail_options, cmd_tail},
	{"audit", "audit --config FILE [--json] [--since-last]",
	 "show which roles read and write each table", usage_audit, ignore_sigpipe, "c:jsh",
	 audit_options, cmd_audit},
	{"verify", "verify --config FILE", "compare the latest event per key with the tables",
	 usage_verify, install_signals, "c:e:s:t:h", verify_options, cmd_verify},
	{"schema generate", "schema generate --config FILE [--out DIR] [--asyncapi FILE]",
	 "write the .proto files of the configured events,\n"
	 "                          and an AsyncAPI 3.0 document of the topics",
	 usage_schema, NULL, "c:o:a:h", schema_generate_options, cmd_schema_generate},
	{"schema lock", "schema lock --config FILE [--lock LOCK] [--force]",
	 "record the events' contract in a lock file", usage_schema, NULL, "c:h",
	 schema_lock_options, cmd_schema_lock},
	{"schema check", "schema check --config FILE --lock LOCK [--frozen]",
	 "refuse changes that break a locked event version", usage_schema, NULL, "c:h",
	 schema_lock_options, cmd_schema_check},
	{"test", "test --config FILE CASES...", "run contract cases offline (no database, no broker)",
	 usage_test, NULL, "c:h", test_options, cmd_test},
	{"help", "help [COMMAND]", "show help for a command", NULL, NULL, NULL, NULL, cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: tablecast COMMAND [OPTIONS]\n"
	      "\n"
	      "Stream a PostgreSQL database's committed changes (logical replication,\n"
	      "pgoutput) to a sink.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int n = fprintf(out, "  %s", commands[i].synopsis);
		if (n < 26)
			fprintf(out, "%*s%s\n", 26 - n, "", commands[i].purpose);
		else
			fprintf(out, "\n%26s%s\n", "", commands[i].purpose);
	}
	fputs("\n"
	      "options:\n"
	      "  -h, --help              show help\n"
	      "  -V, --version           show the version\n"
	      "\n"
	      "exit status: 0 success, 1 runtime failure, 2 usage or configuration error\n"
	      "(status: 0 healthy, 1 degraded, 2 usage or configuration error, 3 halted or down)\n",
	      out);
}

/* Does the command's name start with the word w ("schema" for "schema lock")? */
static bool first_word_is(const char *name, const char *w)
{
	size_t n = strlen(w);
	return n && strncmp(name, w, n) == 0 && (name[n] == '\0' || name[n] == ' ');
}

/* help [COMMAND]: the command's own help, else the overview. */
static int cmd_help(const struct Command *cmd, struct Args *a, int argc, char **argv)
{
	(void)cmd;
	(void)a;
	const char *topic = argc > 1 ? argv[1] : "";
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].usage && first_word_is(commands[i].name, topic)) {
			fputs(commands[i].usage, stdout);
			return EXIT_OK;
		}
	}
	usage(stdout);
	return EXIT_OK;
}

/* argv[0] is the command's last word. */
static int run_command(const struct Command *cmd, int argc, char **argv)
{
	struct Args a = {.sample = 5, .timeout_ms = 60000};
	if (cmd->setup)
		cmd->setup();
	if (cmd->shortopts) {
		int rc = parse_options(cmd, &a, argc, argv);
		if (rc >= 0)
			return rc;
	}
	return cmd->run(cmd, &a, argc, argv);
}

/* Which malloc serves the process: mimalloc only when it comes before libc's. */
static void print_allocator(void)
{
#ifdef HAVE_MIMALLOC
	int v = mi_version();
	void *probe = malloc(1);
	bool serving = mi_is_in_heap_region(probe);
	free(probe);
	printf("allocator: mimalloc %d.%d.%d%s\n", v / 100, v / 10 % 10, v % 10,
	       serving ? "" : " (linked, but libc's malloc serves)");
#else
	printf("allocator: libc malloc\n");
#endif
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		printf("tablecast %s\n", PACKAGE_VERSION);
		print_allocator();
		return EXIT_OK;
	}
	const struct Command *group = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct Command *cmd = &commands[i];
		if (strcmp(cmd->name, name) == 0)
			return run_command(cmd, argc - 1, argv + 1);
		if (!first_word_is(cmd->name, name))
			continue;
		/* A command of two words: "schema lock". */
		group = cmd;
		if (argc > 2 && strcmp(cmd->name + strlen(name) + 1, argv[2]) == 0)
			return run_command(cmd, argc - 2, argv + 2);
	}
	if (group) {
		bool help = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
		fputs(group->usage, help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	fprintf(stderr, "tablecast: unknown command \"%s\"\n", name);
	usage(stderr);
	return EXIT_USAGE;
}
