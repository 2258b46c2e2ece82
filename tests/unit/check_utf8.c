/* Unit tests for src/utf8.c: skipping ASCII a word at a time accepts exactly what utf8_seq does. */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "run_suite.h"
#include "utf8.h"

/* The valid prefix, one utf8_seq at a time: the rule utf8_valid_prefix must agree with. */
static size_t seq_prefix(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);
		if (!n)
			break;
		i += n;
	}
	return i;
}

struct Seq {
	const char *bytes;
	size_t len;
	bool valid;
};

/* One of each sequence length, and each way a sequence can be wrong. */
static const struct Seq seqs[] = {
    {"\xc3\xa9", 2, true},          /* U+00E9 */
    {"\xe2\x82\xac", 3, true},      /* U+20AC */
    {"\xf0\x9f\x98\x80", 4, true},  /* U+1F600 */
    {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF, the last code point */
    {"\xed\x9f\xbf", 3, true},      /* U+D7FF, just below the surrogates */
    {"\x80", 1, false},             /* a continuation byte alone */
    {"\xc0\xaf", 2, false},         /* overlong '/' */
    {"\xc1\xbf", 2, false},         /* overlong U+007F */
    {"\xe0\x80\xaf", 3, false},     /* overlong, three bytes */
    {"\xf0\x80\x80\xaf", 4, false}, /* overlong, four bytes */
    {"\xed\xa0\x80", 3, false},     /* U+D800, a surrogate */
    {"\xed\xbf\xbf", 3, false},     /* U+DFFF */
    {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
    {"\xf5\x80\x80\x80", 4, false}, /* lead byte beyond U+10FFFF */
    {"\xff", 1, false},
    {"\xc3\x41", 2, false},     /* a lead byte followed by ASCII */
    {"\xe2\x82", 2, false},     /* truncated: a lead byte promising three */
    {"\xf0\x9f\x98", 3, false}, /* truncated: promising four */
};
#define NSEQS (sizeof(seqs) / sizeof(seqs[0]))

/*
 * Every alignment: a sequence at offsets 0..16 of ASCII buffers of length
 * 0..40, cut short where the buffer ends (a truncated sequence at the end).
 */
START_TEST(test_every_alignment)
{
	unsigned char buf[48];
	for (size_t k = 0; k < NSEQS; k++) {
		const struct Seq *q = &seqs[k];
		for (size_t len = 0; len <= 40; len++) {
			for (size_t at = 0; at <= 16 && at < len; at++) {
				memset(buf, 'a', len);
				size_t put = len - at < q->len ? len - at : q->len;
				memcpy(buf + at, q->bytes, put);
				bool whole = put == q->len && q->valid;
				size_t want = whole ? len : at;
				size_t got = utf8_valid_prefix(buf, len);
				ck_assert_msg(got == want && got == seq_prefix(buf, len),
				              "sequence %zu at %zu of %zu: prefix %zu, want %zu", k,
				              at, len, got, want);
				ck_assert(utf8_valid(buf, len) == whole);
			}
			memset(buf, 'a', len);
			ck_assert_uint_eq(utf8_valid_prefix(buf, len), len);
		}
	}
}
END_TEST

/* Invalid bytes right after whole words of ASCII, and after valid text that is not ASCII. */
START_TEST(test_after_words)
{
	unsigned char buf[64];
	for (size_t ascii = 8; ascii <= 24; ascii += 8) {
		memset(buf, 'x', ascii);
		memcpy(buf + ascii, "\xed\xa0\x80zzzzzzzzzzzz", 15);
		ck_assert_uint_eq(utf8_valid_prefix(buf, ascii + 15), ascii);
		memcpy(buf + ascii, "\xc3\xa9zzzzzzzz\xe2\x82", 12);
		ck_assert_uint_eq(utf8_valid_prefix(buf, ascii + 12), ascii + 10);
		ck_assert(!utf8_valid(buf, ascii + 12));
		ck_assert(utf8_valid(buf, ascii + 10));
	}
	/* The high bit of the last byte of a word, and of the first. */
	memcpy(buf, "abcdefg\x80hijklmno", 16);
	ck_assert_uint_eq(utf8_valid_prefix(buf, 16), 7);
	memcpy(buf, "abcdefgh\x80ijklmno", 16);
	ck_assert_uint_eq(utf8_valid_prefix(buf, 16), 8);
}
END_TEST

/* NUL is U+0000, one ASCII byte, anywhere in a word. */
START_TEST(test_nul)
{
	unsigned char buf[32] = {0};
	ck_assert(utf8_valid(buf, sizeof(buf)));
	memcpy(buf + 9, "\xe2\x82\xac", 3);
	ck_assert(utf8_valid(buf, sizeof(buf)));
	ck_assert(utf8_valid("", 0));
}
END_TEST

/* Random text, mostly ASCII with some of every other byte, against one sequence at a time. */
START_TEST(test_random)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	unsigned char buf[80];
	for (int round = 0; round < 200000; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len = (size_t)(x % sizeof(buf));
		uint64_t r = x;
		for (size_t i = 0; i < len; i++) {
			r = r * 6364136223846793005u + 1442695040888963407u;
			unsigned b = (unsigned)(r >> 56);
			buf[i] = (r >> 40) % 16 ? (unsigned char)(b & 0x7f) : (unsigned char)b;
		}
		size_t got = utf8_valid_prefix(buf, len), want = seq_prefix(buf, len);
		ck_assert_msg(got == want, "round %d: prefix %zu, want %zu", round, got, want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("validation");
	tcase_add_test(tc, test_every_alignment);
	tcase_add_test(tc, test_after_words);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
