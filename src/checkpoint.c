/* Checkpoint: the in-flight transaction ring that decides which LSN is safe to confirm. */
#include "autoconf.h"

#include <assert.h>
#include <stdlib.h>

#include "checkpoint.h"

struct Txn {
	uint64_t end_lsn;
	int64_t commit_time_us; /* Unix µs, 0 when unknown (snapshot chunks) */
	uint32_t outstanding; /* events not yet acknowledged */
	bool committed;
};

struct Checkpoint {
	struct Txn *ring;
	size_t mask; /* capacity - 1, capacity a power of two */
	uint64_t head; /* sequence number of the oldest transaction in the ring */
	uint64_t tail; /* sequence number the next BEGIN gets */
	uint64_t confirmed;
	uint64_t pending_events;
};

Checkpoint *ckpt_new(size_t capacity)
{
	size_t size = 1;
	while (size < capacity)
		size <<= 1;

	Checkpoint *ckpt = calloc(1, sizeof(*ckpt));
	if (!ckpt)
		return NULL;
	ckpt->ring = calloc(size, sizeof(struct Txn));
	if (!ckpt->ring) {
		free(ckpt);
		return NULL;
	}
	ckpt->mask = size - 1;
	return ckpt;
}

void ckpt_free(Checkpoint *ckpt)
{
	if (!ckpt)
		return;
	free(ckpt->ring);
	free(ckpt);
}

static struct Txn *txn_at(Checkpoint *ckpt, uint64_t seq)
{
	assert(seq >= ckpt->head && seq < ckpt->tail);
	return &ckpt->ring[seq & ckpt->mask];
}

/* Retire the contiguous prefix of finished transactions. */
static void advance(Checkpoint *ckpt)
{
	while (ckpt->head < ckpt->tail) {
		struct Txn *txn = &ckpt->ring[ckpt->head & ckpt->mask];
		if (!txn->committed || txn->outstanding > 0)
			break;
		if (txn->end_lsn > ckpt->confirmed)
			ckpt->confirmed = txn->end_lsn;
		ckpt->head++;
	}
}

void ckpt_set_confirmed(Checkpoint *ckpt, uint64_t lsn)
{
	if (lsn > ckpt->confirmed)
		ckpt->confirmed = lsn;
}

bool ckpt_full(const Checkpoint *ckpt)
{
	return ckpt->tail - ckpt->head > ckpt->mask;
}

uint64_t ckpt_begin(Checkpoint *ckpt)
{
	assert(!ckpt_full(ckpt));
	uint64_t seq = ckpt->tail++;
	ckpt->ring[seq & ckpt->mask] = (struct Txn){0};
	return seq;
}

void ckpt_add_events(Checkpoint *ckpt, uint64_t seq, uint32_t count)
{
	txn_at(ckpt, seq)->outstanding += count;
	ckpt->pending_events += count;
}

void ckpt_ack(Checkpoint *ckpt, uint64_t seq)
{
	struct Txn *txn = txn_at(ckpt, seq);
	assert(txn->outstanding > 0);
	txn->outstanding--;
	ckpt->pending_events--;
	advance(ckpt);
}

void ckpt_ack_all(Checkpoint *ckpt, uint64_t seq)
{
	/* A transaction without events may have left the ring already. */
	if (seq < ckpt->head)
		return;
	struct Txn *txn = txn_at(ckpt, seq);
	ckpt->pending_events -= txn->outstanding;
	txn->outstanding = 0;
	advance(ckpt);
}

void ckpt_commit(Checkpoint *ckpt, uint64_t seq, uint64_t end_lsn)
{
	struct Txn *txn = txn_at(ckpt, seq);
	txn->end_lsn = end_lsn;
	txn->committed = true;
	advance(ckpt);
}

void ckpt_drop_open(Checkpoint *ckpt)
{
	if (ckpt->tail == ckpt->head)
		return;
	struct Txn *txn = txn_at(ckpt, ckpt->tail - 1);
	if (txn->committed)
		return;
	if (txn->outstanding > 0) {
		/* Committed at LSN 0: retired with its acknowledgements, it moves nothing. */
		txn->committed = true;
		txn->end_lsn = 0;
		return;
	}
	ckpt->tail--;
	advance(ckpt);
}

void ckpt_clear(Checkpoint *ckpt)
{
	ckpt->head = ckpt->tail;
	ckpt->pending_events = 0;
}

void ckpt_idle(Checkpoint *ckpt, uint64_t wal_end)
{
	if (ckpt->head == ckpt->tail && wal_end > ckpt->confirmed)
		ckpt->confirmed = wal_end;
}

uint64_t ckpt_confirmed(const Checkpoint *ckpt)
{
	return ckpt->confirmed;
}

size_t ckpt_in_flight(const Checkpoint *ckpt)
{
	return (size_t)(ckpt->tail - ckpt->head);
}

uint64_t ckpt_pending_events(const Checkpoint *ckpt)
{
	return ckpt->pending_events;
}

uint64_t ckpt_oldest(const Checkpoint *ckpt)
{
	return ckpt->head;
}

void ckpt_set_commit_time(Checkpoint *ckpt, uint64_t seq, int64_t unix_us)
{
	txn_at(ckpt, seq)->commit_time_us = unix_us;
}

int64_t ckpt_commit_time(const Checkpoint *ckpt, uint64_t seq)
{
	if (seq < ckpt->head || seq >= ckpt->tail)
		return 0;
	return ckpt->ring[seq & ckpt->mask].commit_time_us;
}
