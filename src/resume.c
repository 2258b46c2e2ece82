/* Resume state: the end LSN of what Kafka has, kept across restarts in <state_dir>/<slot>.lsn. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "pgoutput.h"
#include "resume.h"

size_t rsm_format(const struct ResumeIdentity *id, uint64_t lsn, char *out, size_t outlen)
{
	char text[PGO_LSN_BUFSIZE];
	int n = snprintf(out, outlen,
			 "# tablecast resume state: Kafka has every transaction ending at or before acked_lsn\n"
			 "system_identifier=%" PRIu64 "\ntimeline=%" PRIu32 "\nslot=%s\nacked_lsn=%s\n",
			 id->system_id, id->timeline, id->slot, pgo_lsn_format(lsn, text));
	return n > 0 && (size_t)n < outlen ? (size_t)n : 0;
}

/* The value of "name=value" when line is that setting, else NULL. */
static const char *setting(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncmp(line, name, n) == 0 && line[n] == '=' ? line + n + 1 : NULL;
}

static bool parse_u64(const char *text, uint64_t *out)
{
	char *end;
	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int rsm_parse(const char *text, const struct ResumeIdentity *id, uint64_t *lsn, char *err,
	      size_t errlen)
{
	uint64_t sysid = 0, timeline = 0;
	bool has_sysid = false, has_timeline = false, has_lsn = false, same_slot = false;
	char line[256];
	const char *v;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "line too long");
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((v = setting(line, "system_identifier")))
			has_sysid = parse_u64(v, &sysid);
		else if ((v = setting(line, "timeline")))
			has_timeline = parse_u64(v, &timeline);
		else if ((v = setting(line, "slot")))
			same_slot = strcmp(v, id->slot) == 0;
		else if ((v = setting(line, "acked_lsn")))
			has_lsn = pgo_lsn_parse(v, lsn);
		else {
			snprintf(err, errlen, "unexpected line \"%.40s\"", line);
			return -1;
		}
	}
	if (!has_sysid || !has_timeline || !has_lsn) {
		snprintf(err, errlen, "incomplete or malformed");
		return -1;
	}
	if (sysid != id->system_id) {
		snprintf(err, errlen, "written for database system %" PRIu64 ", this is %" PRIu64,
			 sysid, id->system_id);
		return -1;
	}
	if (timeline != id->timeline) {
		snprintf(err, errlen, "written on timeline %" PRIu64 ", the server is on %" PRIu32,
			 timeline, id->timeline);
		return -1;
	}
	if (!same_slot) {
		snprintf(err, errlen, "written for another slot");
		return -1;
	}
	return 0;
}

void rsm_path(const struct Config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.lsn", cfg->state_dir, cfg->source.slot);
}

int rsm_load(const struct Config *cfg, const struct ResumeIdentity *id, uint64_t *lsn, char *err,
	     size_t errlen)
{
	char path[4096], text[1024], why[256];

	rsm_path(cfg, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	bool too_long = !feof(f);
	fclose(f);
	text[n] = '\0';
	if (too_long || strlen(text) != n) {
		snprintf(err, errlen, "%s: not a resume state file", path);
		return -1;
	}
	if (rsm_parse(text, id, lsn, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 1;
}

int rsm_save(const struct Config *cfg, const struct ResumeIdentity *id, uint64_t lsn, char *err,
	     size_t errlen)
{
	char path[4096], text[512];

	if (file_state_dir(cfg->state_dir, err, errlen) < 0)
		return -1;
	size_t n = rsm_format(id, lsn, text, sizeof(text));
	rsm_path(cfg, path, sizeof(path));
	if (n == 0) {
		snprintf(err, errlen, "resume state %s: slot name too long", path);
		return -1;
	}
	return file_replace(path, text, n, "resume state", err, errlen);
}
