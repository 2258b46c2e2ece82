/* Contract cases: offline tests of the configured events, read from case files. */
#ifndef TABLECAST_SRC_CASEFILE_H
#define TABLECAST_SRC_CASEFILE_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct CaseTotals {
	unsigned passed;
	unsigned failed;
};

/*
 * Run every case of the case files (libconfig, described in
 * docs/CONTRACTS.md) against cfg's events, with no database and no broker:
 * each case's row change, given as PostgreSQL text values of columns with
 * declared types, goes through the translator and the encoder the daemon
 * uses; the bytes produced are decoded again (CloudEvent envelope too in
 * structured mode) and compared with the events, dead letters or halt the
 * case expects. One line per case on out, with a diff for a failure
 * ("- expected", "+ actual"). Returns 0 with the counts in totals, or -1
 * with "file:line: reason" in err for a case file that cannot be read.
 */
int case_run_files(const struct Config *cfg, char *const *files, size_t nfiles, FILE *out,
                   struct CaseTotals *totals, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
