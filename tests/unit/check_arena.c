/* Unit tests for src/arena.c. */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "run_suite.h"

START_TEST(test_alignment_and_reuse)
{
	Arena *a = arena_new();
	ck_assert_ptr_nonnull(a);
	char *p = arena_alloc(a, 3);
	double *d = arena_alloc(a, sizeof(double));
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq((uintptr_t)d % _Alignof(max_align_t), 0);
	memset(p, 'x', 3);
	*d = 1.5;
	size_t steady = arena_footprint(a);
	arena_reset(a);
	ck_assert_uint_eq(arena_footprint(a), steady);
	arena_free(a);
}
END_TEST

START_TEST(test_big_blocks_are_released)
{
	Arena *a = arena_new();
	(void)!arena_alloc(a, 16);
	size_t steady = arena_footprint(a);
	void *big = arena_alloc(a, 10 * 1024 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 0, 10 * 1024 * 1024);
	ck_assert_uint_gt(arena_footprint(a), steady);
	arena_reset(a);
	ck_assert_uint_eq(arena_footprint(a), steady);
	arena_free(a);
}
END_TEST

START_TEST(test_oversized_first_block_is_not_kept)
{
	Arena *a = arena_new();
	ck_assert_ptr_nonnull(arena_alloc(a, 1024 * 1024));
	arena_reset(a);
	ck_assert_uint_eq(arena_footprint(a), 0);
	ck_assert_ptr_nonnull(arena_alloc(a, 8));
	arena_free(a);
}
END_TEST

START_TEST(test_impossible_size)
{
	Arena *a = arena_new();
	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX));
	arena_free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_alignment_and_reuse);
	tcase_add_test(tc, test_big_blocks_are_released);
	tcase_add_test(tc, test_oversized_first_block_is_not_kept);
	tcase_add_test(tc, test_impossible_size);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
