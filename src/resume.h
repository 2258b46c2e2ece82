/* Resume state: the end LSN of what Kafka has, kept across restarts in <state_dir>/<slot>.lsn. */
#ifndef TABLECAST_SRC_RESUME_H
#define TABLECAST_SRC_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * The slot's position alone cannot say where to resume: PostgreSQL 15 does
 * not always write a slot's confirmed_flush_lsn to disk at shutdown, so
 * after a restart the server streams from an older point and every
 * transaction since comes again. tablecast therefore keeps its own record:
 *
 *   # tablecast resume state ...
 *   system_identifier=<IDENTIFY_SYSTEM's systemid>
 *   timeline=<IDENTIFY_SYSTEM's timeline>
 *   slot=<name>
 *   acked_lsn=<X/X>
 *
 * Invariant: every transaction ending at or before acked_lsn had all its
 * events acknowledged by Kafka (or taken by a file sink). The record is only
 * ever behind the truth, never ahead, so skipping what it covers loses
 * nothing. It is trusted only for the same system and timeline, and only
 * when it is not past the server's WAL: a restored backup reuses LSNs for
 * other transactions. Anything doubtful is ignored, and the slot's own
 * position (duplicates at worst) is used instead.
 */
struct ResumeIdentity {
	uint64_t system_id;
	uint32_t timeline;
	const char *slot;
};

/* The state file's text for lsn (pure); returns its length, or 0 when out is too small. */
size_t rsm_format(const struct ResumeIdentity *id, uint64_t lsn, char *out, size_t outlen);

/*
 * Parse state text written for id (pure). Returns 0 with *lsn, or -1 with
 * the reason in err: malformed, another system, timeline or slot.
 */
int rsm_parse(const char *text, const struct ResumeIdentity *id, uint64_t *lsn, char *err,
	      size_t errlen) __attribute__((warn_unused_result));

/* <state_dir>/<slot>.lsn */
void rsm_path(const struct Config *cfg, char *out, size_t outlen);

/*
 * Read the state file. Returns 1 with *lsn, 0 when there is none, or -1
 * when it cannot be used (err says why; the caller falls back to the slot).
 */
int rsm_load(const struct Config *cfg, const struct ResumeIdentity *id, uint64_t *lsn, char *err,
	     size_t errlen) __attribute__((warn_unused_result));

/* Replace the state file atomically (mode 0600). Returns 0, or -1 with err. */
int rsm_save(const struct Config *cfg, const struct ResumeIdentity *id, uint64_t lsn, char *err,
	     size_t errlen) __attribute__((warn_unused_result));

#endif
