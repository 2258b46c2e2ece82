/* Unit tests for src/histogram.c. */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "histogram.h"
#include "run_suite.h"

START_TEST(test_empty)
{
	struct Histogram h;
	memset(&h, 0, sizeof(h));
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 0);
	ck_assert_uint_eq(hist_count_le(&h, 1000), 0);
}
END_TEST

START_TEST(test_quantiles_within_a_bucket)
{
	struct Histogram h;
	memset(&h, 0, sizeof(h));
	/* 1..1000 ms in 1 ms steps: p50 near 500 ms, p99 near 990 ms, to 10 ms buckets. */
	for (int ms = 1; ms <= 1000; ms++)
		hist_add(&h, (int64_t)ms * 1000);
	ck_assert_uint_eq(h.count, 1000);
	ck_assert_uint_eq(h.max_us, 1000000);
	uint64_t p50 = hist_quantile(&h, 0.5), p99 = hist_quantile(&h, 0.99);
	ck_assert(p50 >= 500000 && p50 <= 510000);
	ck_assert(p99 >= 990000 && p99 <= 1000000);
	/* Never above the largest sample. */
	ck_assert_uint_eq(hist_quantile(&h, 1.0), 1000000);
}
END_TEST

START_TEST(test_fine_below_a_millisecond)
{
	struct Histogram h;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 99; i++)
		hist_add(&h, 123);
	hist_add(&h, 7000);
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 130); /* the 120-130 µs bucket */
	ck_assert_uint_eq(hist_quantile(&h, 0.995), 7000); /* capped at the max */
	ck_assert_uint_eq(h.sum_us, 99 * 123 + 7000);
}
END_TEST

START_TEST(test_prometheus_bounds_and_edges)
{
	struct Histogram h;
	memset(&h, 0, sizeof(h));
	hist_add(&h, -5); /* clock disagreement counts as 0 */
	hist_add(&h, 999);
	hist_add(&h, 2499);
	hist_add(&h, 2500);
	hist_add(&h, 9999999);
	hist_add(&h, 60000000); /* a minute: the overflow bucket */
	ck_assert_uint_eq(hist_count_le(&h, 1000), 2);
	ck_assert_uint_eq(hist_count_le(&h, 2500), 3);
	ck_assert_uint_eq(hist_count_le(&h, 5000), 4);
	ck_assert_uint_eq(hist_count_le(&h, 10000000), 5);
	ck_assert_uint_eq(h.count, 6);
	ck_assert_uint_eq(hist_quantile(&h, 0.99), 60000000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("histogram");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_quantiles_within_a_bucket);
	tcase_add_test(tc, test_fine_below_a_millisecond);
	tcase_add_test(tc, test_prometheus_bounds_and_edges);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
