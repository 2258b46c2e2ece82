/* Daemon glue: tell systemd how the service is doing; a no-op outside systemd. */
#ifndef TABLECAST_SRC_DAEMON_H
#define TABLECAST_SRC_DAEMON_H

/* READY=1 with a STATUS line: the slot is streaming and the sink is reachable. */
void daemon_ready(const char *status);

/* RELOADING=1: a new configuration is being read (daemon_ready ends it). */
void daemon_reloading(void);

/* STOPPING=1: shutting down cleanly. */
void daemon_stopping(void);

/*
 * WATCHDOG=1, at most every half of WatchdogSec: called from the main loop,
 * so a loop that hangs stops petting and systemd restarts the service.
 */
void daemon_watchdog(void);

/* How long the main loop may sleep and still pet the watchdog in time (ms); INT_MAX without one. */
int daemon_watchdog_period_ms(void);

#endif
