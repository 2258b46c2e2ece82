/* Histogram: latencies in fixed fine buckets, for quantiles and Prometheus. */
#include "autoconf.h"

#include "histogram.h"

static unsigned bucket_of(uint64_t us)
{
	if (us < 1000)
		return (unsigned)(us / 10);
	if (us < 100000)
		return 100 + (unsigned)((us - 1000) / 100);
	if (us < 10000000)
		return 1090 + (unsigned)((us - 100000) / 10000);
	return HIST_BUCKETS - 1;
}

/* Every sample in bucket i is below this (the overflow bucket: UINT64_MAX). */
static uint64_t upper_edge(unsigned i)
{
	if (i < 100)
		return (uint64_t)(i + 1) * 10;
	if (i < 1090)
		return 1000 + (uint64_t)(i - 99) * 100;
	if (i < HIST_BUCKETS - 1)
		return 100000 + (uint64_t)(i - 1089) * 10000;
	return UINT64_MAX;
}

void hist_add(struct Histogram *h, int64_t us)
{
	uint64_t v = us > 0 ? (uint64_t)us : 0;
	h->count++;
	h->sum_us += v;
	if (v > h->max_us)
		h->max_us = v;
	h->buckets[bucket_of(v)]++;
}

uint64_t hist_quantile(const struct Histogram *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen > rank)
			return upper_edge(i) < h->max_us ? upper_edge(i) : h->max_us;
	}
	return h->max_us;
}

uint64_t hist_count_le(const struct Histogram *h, uint64_t us)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < HIST_BUCKETS && upper_edge(i) <= us; i++)
		n += h->buckets[i];
	return n;
}
