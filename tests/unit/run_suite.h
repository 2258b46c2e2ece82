/* Run one Check suite the same way in every unit test binary. */
#ifndef TABLECAST_TESTS_UNIT_RUN_SUITE_H
#define TABLECAST_TESTS_UNIT_RUN_SUITE_H

#include <check.h>
#include <stdlib.h>

/* Run s with Check's normal output (the "N%: Checks: ..." line CI reads); the exit status. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
