/* The last halt: why a run stopped for a person, kept in <state_dir>/<slot>.halt. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "halt.h"

/*
 * The file, one "key=value" line each, the message last (it may hold any
 * character but a newline, which log lines never have):
 *
 *   # tablecast: the last run halted; removed when a run confirms past it
 *   time=1795958408
 *   kind=translation
 *   confirmed_lsn=23068672
 *   message=relation public.accounts: ...
 */

static void halt_path(const struct Config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.halt", cfg->state_dir, cfg->source.slot);
}

const char *halt_kind_name(enum halt_kind kind)
{
	switch (kind) {
	case HALT_TRANSLATION:
		return "translation";
	case HALT_PUBLICATION:
		return "publication";
	case HALT_OTHER:
		break;
	}
	return "other";
}

int halt_save(const struct Config *cfg, const struct HaltRecord *rec, char *err, size_t errlen)
{
	char path[4096], text[1400];
	halt_path(cfg, path, sizeof(path));
	if (file_state_dir(cfg->state_dir, err, errlen) < 0)
		return -1;
	char message[sizeof(rec->message)];
	snprintf(message, sizeof(message), "%s", rec->message);
	message[strcspn(message, "\r\n")] = '\0';
	int n = snprintf(text, sizeof(text),
			 "# tablecast: the last run halted; removed when a run confirms past it\n"
			 "time=%" PRId64 "\nkind=%s\nconfirmed_lsn=%" PRIu64 "\nmessage=%s\n",
			 rec->time, halt_kind_name(rec->kind), rec->confirmed_lsn, message);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)strlen(text);
	return file_replace(path, text, (size_t)n, "halt record", err, errlen);
}

int halt_load(const struct Config *cfg, struct HaltRecord *rec, char *err, size_t errlen)
{
	char path[4096], line[1400];
	halt_path(cfg, path, sizeof(path));
	memset(rec, 0, sizeof(*rec));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "halt record %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		const char *value = eq + 1;
		if (strcmp(line, "time") == 0)
			rec->time = strtoll(value, NULL, 10);
		else if (strcmp(line, "confirmed_lsn") == 0)
			rec->confirmed_lsn = strtoull(value, NULL, 10);
		else if (strcmp(line, "kind") == 0)
			rec->kind = strcmp(value, "translation") == 0   ? HALT_TRANSLATION
				    : strcmp(value, "publication") == 0 ? HALT_PUBLICATION
									: HALT_OTHER;
		else if (strcmp(line, "message") == 0)
			snprintf(rec->message, sizeof(rec->message), "%s", value);
	}
	fclose(f);
	return 1;
}

int halt_clear(const struct Config *cfg, char *err, size_t errlen)
{
	char path[4096];
	halt_path(cfg, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "halt record %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
