/* Command line: subcommands, options, signals and exit codes. */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pipeline.h"

/* Exit codes: documented in --help and the man page. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2

static volatile sig_atomic_t stop_requested;

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
	      "  run --config FILE       stream changes until stopped (SIGTERM/SIGINT)\n"
	      "  check-config FILE       parse and validate a configuration file\n"
	      "  help [COMMAND]          show help\n"
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
	fputs("usage: tablecast run --config FILE [--recreate-slot] [--log-level LEVEL]\n"
	      "\n"
	      "Connect to the source database, make sure the publication and the slot\n"
	      "exist (as the configuration allows) and stream every committed change to\n"
	      "the sink, confirming to PostgreSQL only what the sink has taken.\n"
	      "\n"
	      "  -c, --config FILE       configuration file (libconfig syntax)\n"
	      "      --recreate-slot     replace a replication slot that was lost or\n"
	      "                          invalidated; changes in the gap are not sent\n"
	      "  -l, --log-level LEVEL   error, warning, info (default) or debug\n"
	      "  -h, --help              show this help\n",
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

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"recreate-slot", no_argument, NULL, 'R'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *level_name = NULL;
	bool recreate = false;
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
			recreate = true;
			break;
		case 'l':
			level_name = optarg;
			break;
		case 'h':
			usage_run(stdout);
			return EXIT_OK;
		default:
			usage_run(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind != argc) {
		fprintf(stderr, "tablecast: run needs --config FILE and nothing else\n");
		usage_run(stderr);
		return EXIT_USAGE;
	}

	struct Config *cfg = load_config(config_path);
	if (!cfg)
		return EXIT_USAGE;
	enum log_level level = cfg->log_level;
	if (level_name && !log_parse_level(level_name, &level)) {
		fprintf(stderr, "tablecast: unknown log level \"%s\"\n", level_name);
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	log_set_level(level);

	struct RunOptions opts = {.cfg = cfg, .recreate_slot = recreate, .stop = &stop_requested};
	int rc = pipe_run(&opts);
	cfg_free(cfg);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
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
		if (argc > 2 && strcmp(argv[2], "run") == 0)
			usage_run(stdout);
		else
			usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);

	fprintf(stderr, "tablecast: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
