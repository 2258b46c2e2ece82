/* Checkpoint: the in-flight transaction ring that decides which LSN is safe to confirm. */
#ifndef TABLECAST_SRC_CHECKPOINT_H
#define TABLECAST_SRC_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Transactions enter in commit order (BEGIN opens one, COMMIT closes it with
 * its end LSN); the sink acknowledges their events in any order. The safe
 * flush LSN is the end LSN of the newest transaction that, together with
 * every earlier one, is committed and fully acknowledged. It never moves
 * backwards. Pure: no I/O.
 */
typedef struct Checkpoint Checkpoint;

/* A ring holding at most capacity transactions (rounded up to a power of two). */
Checkpoint *ckpt_new(size_t capacity);
void ckpt_free(Checkpoint *ckpt);

/* Start from what the slot has already confirmed. */
void ckpt_set_confirmed(Checkpoint *ckpt, uint64_t lsn);

/* True when no more transactions fit: stop reading WAL until acks arrive. */
bool ckpt_full(const Checkpoint *ckpt);

/* Open a transaction at BEGIN and return its sequence number; the ring must not be full. */
uint64_t ckpt_begin(Checkpoint *ckpt);

/* count more events of transaction seq were handed to the sink. */
void ckpt_add_events(Checkpoint *ckpt, uint64_t seq, uint32_t count);

/* The sink acknowledged one event of transaction seq. */
void ckpt_ack(Checkpoint *ckpt, uint64_t seq);

/*
 * The sink acknowledged every event of transaction seq at once (a committed
 * Kafka transaction); a no-op for one that already left the ring.
 */
void ckpt_ack_all(Checkpoint *ckpt, uint64_t seq);

/* COMMIT of transaction seq, ending at end_lsn. */
void ckpt_commit(Checkpoint *ckpt, uint64_t seq, uint64_t end_lsn);

/*
 * Drop the open (uncommitted) transaction, e.g. after the connection was
 * lost mid-transaction; the server sends it again. Events of it that the
 * sink still holds keep its entry until they are acknowledged, but the
 * entry confirms nothing: no one waits for a sink that may be down.
 */
void ckpt_drop_open(Checkpoint *ckpt);

/*
 * Forget every transaction not yet confirmed (an aborted Kafka transaction
 * took their events with it); the server sends them again from the
 * confirmed position.
 */
void ckpt_clear(Checkpoint *ckpt);

/*
 * The server says WAL up to wal_end has been sent. When no transaction is in
 * flight everything before it was either ours and acknowledged or not
 * published, so it is safe to confirm: idle publications must not pin WAL.
 */
void ckpt_idle(Checkpoint *ckpt, uint64_t wal_end);

/* The LSN safe to send as flush position. */
uint64_t ckpt_confirmed(const Checkpoint *ckpt);

/* Transactions in the ring (open or waiting for acks). */
size_t ckpt_in_flight(const Checkpoint *ckpt);

/* When transaction seq committed in PostgreSQL (Unix µs), for commit-to-ack latency. */
void ckpt_set_commit_time(Checkpoint *ckpt, uint64_t seq, int64_t unix_us);

/* Its commit time, or 0 when unknown or no longer in the ring. */
int64_t ckpt_commit_time(const Checkpoint *ckpt, uint64_t seq);

/* The oldest sequence number still in the ring: every one below it is acknowledged. */
uint64_t ckpt_oldest(const Checkpoint *ckpt);

/* Events handed to the sink and not yet acknowledged. */
uint64_t ckpt_pending_events(const Checkpoint *ckpt);

#endif
