/* Monotonic time: timeouts, intervals and ages that a clock step must not move. */
#ifndef TABLECAST_SRC_MONO_H
#define TABLECAST_SRC_MONO_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t mono_ms(void);

/* Microseconds of CLOCK_MONOTONIC (systemd's watchdog and notify timestamps). */
uint64_t mono_us(void);

#endif
