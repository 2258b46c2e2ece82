/* Unit tests for src/checkpoint.c. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "run_suite.h"

START_TEST(test_confirms_in_commit_order_only)
{
	Checkpoint *c = ckpt_new(8);
	ckpt_set_confirmed(c, 100);

	uint64_t t1 = ckpt_begin(c);
	ckpt_add_events(c, t1, 2);
	ckpt_commit(c, t1, 200);
	uint64_t t2 = ckpt_begin(c);
	ckpt_add_events(c, t2, 1);
	ckpt_commit(c, t2, 300);

	/* The later transaction is acknowledged first: nothing moves. */
	ckpt_ack(c, t2);
	ck_assert_uint_eq(ckpt_confirmed(c), 100);
	ckpt_ack(c, t1);
	ck_assert_uint_eq(ckpt_confirmed(c), 100);
	ck_assert_uint_eq(ckpt_pending_events(c), 1);
	/* The last event of t1: both are done, the newer end LSN wins. */
	ckpt_ack(c, t1);
	ck_assert_uint_eq(ckpt_confirmed(c), 300);
	ck_assert_uint_eq(ckpt_in_flight(c), 0);
	ckpt_free(c);
}
END_TEST

START_TEST(test_uncommitted_transaction_blocks)
{
	Checkpoint *c = ckpt_new(4);
	uint64_t t1 = ckpt_begin(c);
	ckpt_add_events(c, t1, 1);
	ckpt_ack(c, t1);
	/* Acknowledged but not committed yet: its end LSN is unknown. */
	ck_assert_uint_eq(ckpt_confirmed(c), 0);
	ckpt_commit(c, t1, 50);
	ck_assert_uint_eq(ckpt_confirmed(c), 50);
	ckpt_free(c);
}
END_TEST

START_TEST(test_never_backwards)
{
	Checkpoint *c = ckpt_new(4);
	ckpt_set_confirmed(c, 500);
	uint64_t t = ckpt_begin(c);
	ckpt_commit(c, t, 400); /* a replayed transaction after reconnect */
	ck_assert_uint_eq(ckpt_confirmed(c), 500);
	ckpt_set_confirmed(c, 10);
	ck_assert_uint_eq(ckpt_confirmed(c), 500);
	ckpt_idle(c, 450);
	ck_assert_uint_eq(ckpt_confirmed(c), 500);
	ckpt_free(c);
}
END_TEST

START_TEST(test_idle_confirms_wal_end_only_when_empty)
{
	Checkpoint *c = ckpt_new(4);
	ckpt_idle(c, 1000);
	ck_assert_uint_eq(ckpt_confirmed(c), 1000);

	uint64_t t = ckpt_begin(c);
	ckpt_add_events(c, t, 1);
	ckpt_commit(c, t, 1100);
	ckpt_idle(c, 2000); /* an event is still unacknowledged */
	ck_assert_uint_eq(ckpt_confirmed(c), 1000);
	ckpt_ack(c, t);
	ck_assert_uint_eq(ckpt_confirmed(c), 1100);
	ckpt_idle(c, 2000);
	ck_assert_uint_eq(ckpt_confirmed(c), 2000);
	ckpt_free(c);
}
END_TEST

START_TEST(test_full_ring_and_wraparound)
{
	Checkpoint *c = ckpt_new(3); /* rounds up to 4 */
	uint64_t seq[4];
	for (int i = 0; i < 4; i++) {
		ck_assert(!ckpt_full(c));
		seq[i] = ckpt_begin(c);
		ckpt_add_events(c, seq[i], 1);
		ckpt_commit(c, seq[i], (uint64_t)(i + 1) * 10);
	}
	ck_assert(ckpt_full(c));
	ckpt_ack(c, seq[0]);
	ck_assert(!ckpt_full(c));
	ck_assert_uint_eq(ckpt_confirmed(c), 10);

	/* Reuse the freed slot many times over. */
	for (int round = 0; round < 100; round++) {
		uint64_t t = ckpt_begin(c);
		ckpt_add_events(c, t, 1);
		ckpt_commit(c, t, 1000 + (uint64_t)round);
		ck_assert(ckpt_full(c));
		ckpt_ack(c, seq[1 + round % 3]);
		seq[1 + round % 3] = t;
	}
	ckpt_ack(c, seq[1]);
	ckpt_ack(c, seq[2]);
	ckpt_ack(c, seq[3]);
	ck_assert_uint_eq(ckpt_in_flight(c), 0);
	ck_assert_uint_eq(ckpt_confirmed(c), 1099);
	ckpt_free(c);
}
END_TEST

START_TEST(test_drop_open_transaction)
{
	Checkpoint *c = ckpt_new(4);
	uint64_t t1 = ckpt_begin(c);
	ckpt_commit(c, t1, 10);
	uint64_t t2 = ckpt_begin(c);
	ckpt_add_events(c, t2, 1);
	ckpt_ack(c, t2);
	ck_assert_uint_eq(ckpt_in_flight(c), 1);
	ckpt_drop_open(c); /* connection lost before its COMMIT */
	ck_assert_uint_eq(ckpt_in_flight(c), 0);
	ck_assert_uint_eq(ckpt_confirmed(c), 10);
	/* Idle again: the dropped transaction no longer holds anything back. */
	ckpt_idle(c, 30);
	ck_assert_uint_eq(ckpt_confirmed(c), 30);
	ckpt_drop_open(c); /* nothing open: no-op */
	ckpt_free(c);
}
END_TEST

START_TEST(test_drop_open_with_events_in_the_sink)
{
	Checkpoint *c = ckpt_new(4);
	uint64_t t1 = ckpt_begin(c);
	ckpt_add_events(c, t1, 1);
	ckpt_commit(c, t1, 10);
	uint64_t t2 = ckpt_begin(c);
	ckpt_add_events(c, t2, 2);
	/* The connection closes mid-transaction while Kafka holds two of its events. */
	ckpt_drop_open(c);
	ck_assert_uint_eq(ckpt_in_flight(c), 2);
	/* The server sends t2 again, whole, as a new transaction. */
	uint64_t t3 = ckpt_begin(c);
	ckpt_add_events(c, t3, 1);
	ckpt_commit(c, t3, 20);
	ckpt_ack(c, t3);
	ckpt_ack(c, t1);
	ck_assert_uint_eq(ckpt_confirmed(c), 10); /* the abandoned events still wait */
	ckpt_ack(c, t2);
	ckpt_ack(c, t2);
	/* The abandoned entry confirms nothing of its own, and holds nothing back. */
	ck_assert_uint_eq(ckpt_confirmed(c), 20);
	ck_assert_uint_eq(ckpt_in_flight(c), 0);
	ck_assert_uint_eq(ckpt_pending_events(c), 0);
	ckpt_free(c);
}
END_TEST

START_TEST(test_ack_all_and_clear)
{
	Checkpoint *c = ckpt_new(8);
	uint64_t t1 = ckpt_begin(c);
	ckpt_commit(c, t1, 10); /* no events: leaves the ring at once */
	uint64_t t2 = ckpt_begin(c);
	ckpt_add_events(c, t2, 3);
	ckpt_commit(c, t2, 20);
	uint64_t t3 = ckpt_begin(c);
	ckpt_add_events(c, t3, 2);
	ckpt_commit(c, t3, 30);
	ck_assert_uint_eq(ckpt_confirmed(c), 10);

	/* A committed Kafka transaction acknowledges whole transactions. */
	ckpt_ack_all(c, t1); /* already gone: no-op */
	ckpt_ack_all(c, t2);
	ck_assert_uint_eq(ckpt_confirmed(c), 20);
	ck_assert_uint_eq(ckpt_pending_events(c), 2);

	/* An aborted one: forget what is unconfirmed, keep the confirmed LSN. */
	uint64_t t4 = ckpt_begin(c);
	ckpt_add_events(c, t4, 1);
	ckpt_clear(c);
	ck_assert_uint_eq(ckpt_in_flight(c), 0);
	ck_assert_uint_eq(ckpt_pending_events(c), 0);
	ck_assert_uint_eq(ckpt_confirmed(c), 20);
	uint64_t t5 = ckpt_begin(c);
	ckpt_commit(c, t5, 40);
	ck_assert_uint_eq(ckpt_confirmed(c), 40);
	ckpt_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, test_confirms_in_commit_order_only);
	tcase_add_test(tc, test_uncommitted_transaction_blocks);
	tcase_add_test(tc, test_never_backwards);
	tcase_add_test(tc, test_idle_confirms_wal_end_only_when_empty);
	tcase_add_test(tc, test_full_ring_and_wraparound);
	tcase_add_test(tc, test_drop_open_transaction);
	tcase_add_test(tc, test_drop_open_with_events_in_the_sink);
	tcase_add_test(tc, test_ack_all_and_clear);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
