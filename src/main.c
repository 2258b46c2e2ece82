/* Command line: subcommands, options, signals and exit codes. */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asyncapi.h"
#include "backfill.h"
#include "casefile.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "schema.h"
#include "tail.h"

/* Exit codes: documented in --help and the man page. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2

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

static void usage(FILE *out)
{
	fputs("usage: tablecast COMMAND [OPTIONS]\n"
	      "\n"
	      "Stream a PostgreSQL database's committed changes (logical replication,\n"
	      "pgoutput) to a sink.\n"
	      "\n"
	      "commands:\n"
	      "  run --config FILE       stream events until stopped (SIGTERM/SIGINT)\n"
	      "  snapshot --config FILE  publish every existing row as snapshot events, then stop\n"
	      "  backfill --config FILE --table T [--where COND]\n"
	      "                          ask the running tablecast to publish T's rows again\n"
	      "  check --config FILE     check the configuration against the live database\n"
	      "  check-config FILE       parse and validate a configuration file offline\n"
	      "  tail --config FILE      print the events on Kafka as JSON lines\n"
	      "  schema generate --config FILE [--out DIR] [--asyncapi FILE]\n"
	      "                          write the .proto files of the configured events,\n"
	      "                          and an AsyncAPI 3.0 document of the topics\n"
	      "  test --config FILE CASES...\n"
	      "                          run contract cases offline (no database, no broker)\n"
	      "  help [COMMAND]          show help for a command\n"
	      "\n"
	      "options:\n"
	      "  -h, --help              show help\n"
	      "  -V, --version           show the version\n"
	      "\n"
	      "exit status: 0 success, 1 runtime failure, 2 usage or configuration error\n",
	      out);
}

static void usage_run(FILE *out)
{
	fputs("usage: tablecast run --config FILE [--recreate-slot] [--resync-table TABLE]...\n"
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
	      "  -h, --help              show this help\n",
	      out);
}

static void usage_snapshot(FILE *out)
{
	fputs("usage: tablecast snapshot --config FILE [--log-level LEVEL]\n"
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
	      "  -h, --help              show this help\n",
	      out);
}

static void usage_backfill(FILE *out)
{
	fputs("usage: tablecast backfill --config FILE --table SCHEMA.TABLE [--where CONDITION]\n"
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
	      "  -c, --config FILE       configuration file (libconfig syntax)\n"
	      "  -t, --table TABLE       the table, as the events name it (schema.table)\n"
	      "  -w, --where CONDITION   only rows matching it\n"
	      "  -h, --help              show this help\n",
	      out);
}

static void usage_check(FILE *out)
{
	fputs("usage: tablecast check --config FILE\n"
	      "\n"
	      "Check the configuration against the source database's catalog: tables and\n"
	      "columns exist, expression types fit the declared field types, old.<col>\n"
	      "reads have the replica identity they need, TOAST-able columns read from\n"
	      "updates, and the publication covers the tables. One line per finding;\n"
	      "exit 0 when there is no error, 1 otherwise, 2 for a malformed file.\n",
	      out);
}

static void usage_schema(FILE *out)
{
	fputs("usage: tablecast schema generate --config FILE [--out DIR] [--asyncapi FILE]\n"
	      "\n"
	      "Write one .proto file per event version (DIR/<package path>/v<N>/<name>.proto)\n"
	      "and an index, DIR/README.md; and/or an AsyncAPI 3.0 document (JSON) to FILE:\n"
	      "the topics as channels, one message per event version with its protobuf\n"
	      "schema, its Kafka key and its CloudEvents headers. The same configuration\n"
	      "always gives the same bytes.\n"
	      "\n"
	      "  -c, --config FILE       configuration file (libconfig syntax)\n"
	      "  -o, --out DIR           where the .proto files go\n"
	      "  -a, --asyncapi FILE     where the AsyncAPI document goes\n",
	      out);
}

static void usage_test(FILE *out)
{
	fputs("usage: tablecast test --config FILE CASES...\n"
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
	      "exit status: 0 every case passed, 1 a case failed, 2 a malformed file\n",
	      out);
}

static void usage_tail(FILE *out)
{
	fputs("usage: tablecast tail --config FILE [--event NAME] [--from-beginning]\n"
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
	      "                          consumer group (no join delay, no rebalances)\n",
	      out);
}

static struct Config *load_config(const char *path)
{
	char err[1024];
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	if (!cfg)
		fprintf(stderr, "tablecast: %s\n", err);
	return cfg;
}

static int cmd_backfill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"table", required_argument, NULL, 't'},
		{"where", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *table = NULL, *condition = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'w':
			condition = optarg;
			break;
		case 'h':
			usage_backfill(stdout);
			return EXIT_OK;
		default:
			usage_backfill(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || !table || optind != argc) {
		fprintf(stderr, "tablecast: backfill needs --config FILE and --table TABLE\n");
		usage_backfill(stderr);
		return EXIT_USAGE;
	}
	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	char err[1024];
	long long id = bf_request(cfg, table, condition, err, sizeof(err));
	cfg_free(cfg);
	if (id < 0) {
		fprintf(stderr, "tablecast: %s\n", err);
		return id == -2 ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
	}
	printf("backfill %lld of %s requested; the running tablecast logs its progress\n", id, table);
	return EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"recreate-slot", no_argument, NULL, 'R'},
		{"resync-table", required_argument, NULL, 'T'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *level_name = NULL;
	bool recreate = false;
	char *resync[64];
	size_t nresync = 0;
	bool snapshot_only = strcmp(argv[0], "snapshot") == 0;
	void (*usage_fn)(FILE *) = snapshot_only ? usage_snapshot : usage_run;
	int c;

	/* From the start, so a stop during start-up is a clean one too. */
	install_signals();
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'R':
			if (snapshot_only) {
				usage_fn(stderr);
				return EXIT_USAGE;
			}
			recreate = true;
			break;
		case 'T':
			if (snapshot_only || nresync == sizeof(resync) / sizeof(resync[0]) ||
			    !strchr(optarg, '.')) {
				fprintf(stderr, "tablecast: --resync-table takes schema.table (at most 64)\n");
				usage_fn(stderr);
				return EXIT_USAGE;
			}
			resync[nresync++] = optarg;
			break;
		case 'l':
			level_name = optarg;
			break;
		case 'h':
			usage_fn(stdout);
			return EXIT_OK;
		default:
			usage_fn(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind != argc) {
		fprintf(stderr, "tablecast: %s needs --config FILE and nothing else\n", argv[0]);
		usage_fn(stderr);
		return EXIT_USAGE;
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
	if (level_name && !log_parse_level(level_name, &level)) {
		fprintf(stderr, "tablecast: unknown log level \"%s\"\n", level_name);
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
				  .recreate_slot = recreate,
				  .resync_tables = resync,
				  .nresync_tables = nresync,
				  .stop = &stop_requested,
				  .reload = &reload_requested,
				  .config_path = config_path,
				  .snapshot_only = snapshot_only};
	int rc = pipe_run(&opts);
	cfg_free(cfg);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

/* Parse "--config FILE [--out DIR]" for check. */
static int parse_config_args(int argc, char **argv, const char **config_path, const char **out_dir,
			     void (*usage_fn)(FILE *))
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config_path = optarg;
			break;
		case 'o':
			if (!out_dir) {
				usage_fn(stderr);
				return EXIT_USAGE;
			}
			*out_dir = optarg;
			break;
		case 'h':
			usage_fn(stdout);
			return EXIT_OK;
		default:
			usage_fn(stderr);
			return EXIT_USAGE;
		}
	}
	if (!*config_path || optind != argc || (out_dir && !*out_dir)) {
		usage_fn(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static int cmd_check(int argc, char **argv)
{
	const char *config_path = NULL;
	char err[1024];
	int rc = parse_config_args(argc, argv, &config_path, NULL, usage_check);
	if (rc >= 0)
		return rc;
	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	int errors = chk_run(cfg, stdout, err, sizeof(err));
	cfg_free(cfg);
	if (errors < 0) {
		log_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	return errors == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static int cmd_schema(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},
		{"asyncapi", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *out_dir = NULL, *asyncapi = NULL;
	char err[1024];
	int c;

	if (argc < 2 || strcmp(argv[1], "generate") != 0) {
		bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		usage_schema(help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'a':
			asyncapi = optarg;
			break;
		case 'h':
			usage_schema(stdout);
			return EXIT_OK;
		default:
			usage_schema(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind != argc || (!out_dir && !asyncapi) || (out_dir && !*out_dir) ||
	    (asyncapi && !*asyncapi)) {
		usage_schema(stderr);
		return EXIT_USAGE;
	}
	struct Config *cfg = load_config(config_path);
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

static int cmd_tail(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"event", required_argument, NULL, 'e'},
		{"from-beginning", no_argument, NULL, 'b'},
		{"count", required_argument, NULL, 'n'},
		{"idle-exit", required_argument, NULL, 'I'},
		{"no-group", no_argument, NULL, 'G'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct TailOptions opts = {.stop = &stop_requested, .out = stdout};
	const char *config_path = NULL;
	char err[1024], *end;
	int c;

	install_signals();
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:e:bn:Gh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'e':
			opts.event = optarg;
			break;
		case 'b':
			opts.from_beginning = true;
			break;
		case 'G':
			opts.no_group = true;
			break;
		case 'n':
			opts.max_count = strtol(optarg, &end, 10);
			if (*end || opts.max_count <= 0) {
				fprintf(stderr, "tablecast: --count needs a positive number\n");
				return EXIT_USAGE;
			}
			break;
		case 'I':
			opts.idle_exit_ms = (int)strtol(optarg, &end, 10) * 1000;
			if (*end || opts.idle_exit_ms <= 0) {
				fprintf(stderr, "tablecast: --idle-exit needs a positive number of seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage_tail(stdout);
			return EXIT_OK;
		default:
			usage_tail(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind != argc) {
		usage_tail(stderr);
		return EXIT_USAGE;
	}
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

static int cmd_test(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	char err[1024];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage_test(stdout);
			return EXIT_OK;
		default:
			usage_test(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind >= argc) {
		usage_test(stderr);
		return EXIT_USAGE;
	}
	struct Config *cfg = load_config(config_path);
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

static int cmd_check_config(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fputs("usage: tablecast check-config FILE\n", argc == 2 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_USAGE;
	}
	struct Config *cfg = load_config(argv[1]);
	if (!cfg)
		return EXIT_USAGE;
	printf("%s: ok\n", argv[1]);
	cfg_free(cfg);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("tablecast %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		const char *topic = argc > 2 ? argv[2] : "";
		if (strcmp(topic, "run") == 0)
			usage_run(stdout);
		else if (strcmp(topic, "snapshot") == 0)
			usage_snapshot(stdout);
		else if (strcmp(topic, "backfill") == 0)
			usage_backfill(stdout);
		else if (strcmp(topic, "check") == 0)
			usage_check(stdout);
		else if (strcmp(topic, "schema") == 0)
			usage_schema(stdout);
		else if (strcmp(topic, "tail") == 0)
			usage_tail(stdout);
		else if (strcmp(topic, "test") == 0)
			usage_test(stdout);
		else
			usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "snapshot") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "backfill") == 0)
		return cmd_backfill(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "schema") == 0)
		return cmd_schema(argc - 1, argv + 1);
	if (strcmp(cmd, "tail") == 0)
		return cmd_tail(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "test") == 0)
		return cmd_test(argc - 1, argv + 1);

	fprintf(stderr, "tablecast: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
