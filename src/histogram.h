/* Histogram: latencies in fixed fine buckets, for quantiles and Prometheus. */
#ifndef TABLECAST_SRC_HISTOGRAM_H
#define TABLECAST_SRC_HISTOGRAM_H

#include <stdint.h>

/*
 * Microseconds in buckets of 10 µs below 1 ms, 100 µs below 100 ms and
 * 10 ms below 10 s, then one overflow bucket: quantiles are exact to the
 * bucket's width, and every Prometheus bound in use (1 ms ... 10 s) falls
 * on a bucket edge. Pure, fixed size (about 8 KiB), no allocation.
 */
#define HIST_BUCKETS 2081

struct Histogram {
	uint64_t count;
	uint64_t sum_us;
	uint64_t max_us;
	uint32_t buckets[HIST_BUCKETS];
};

/* Record one latency (negative counts as 0: clocks of two hosts may disagree). */
void hist_add(struct Histogram *h, int64_t us);

/* The upper edge of the bucket holding quantile q (0..1), in µs; 0 when empty. */
uint64_t hist_quantile(const struct Histogram *h, double q);

/* How many samples are at most us (us on a bucket edge). */
uint64_t hist_count_le(const struct Histogram *h, uint64_t us);

#endif
