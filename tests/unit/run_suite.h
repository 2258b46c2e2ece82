/* Run one Check suite the same way in every unit test binary. */
#ifndef TABLECAST_TESTS_UNIT_RUN_SUITE_H
#define TABLECAST_TESTS_UNIT_RUN_SUITE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * A private directory for the files a suite writes, made before the run and
 * removed after it by the parent process. Check forks each test, and a failed
 * assertion ends the child before its own clean-up: only the parent can
 * promise that nothing is left in /tmp.
 */
static char suite_tmp[96];

static inline const char *suite_tmpdir(void)
{
	return suite_tmp;
}

/* Run s with Check's normal output (the "N%: Checks: ..." line CI reads); the exit status. */
static inline int run_suite(Suite *s)
{
	const char *base = getenv("TMPDIR");
	snprintf(suite_tmp, sizeof(suite_tmp), "%s/tablecast-unit.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(suite_tmp)) {
		perror(suite_tmp);
		return EXIT_FAILURE;
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", suite_tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", suite_tmp);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
