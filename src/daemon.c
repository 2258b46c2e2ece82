/* Daemon glue: tell systemd how the service is doing; a no-op outside systemd. */
#include "autoconf.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <stdbool.h>

#include "daemon.h"
#include "mono.h"

void daemon_ready(const char *status)
{
#ifdef HAVE_SYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
#else
	(void)status;
#endif
}

void daemon_reloading(void)
{
#ifdef HAVE_SYSTEMD
	/* MONOTONIC_USEC lets systemd 253+ match the reload to this notification. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)mono_us());
#endif
}

void daemon_stopping(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
#endif
}

#ifdef HAVE_SYSTEMD
static int watchdog_enabled = -1;
static uint64_t watchdog_usec;

static bool watchdog_on(void)
{
	if (watchdog_enabled < 0)
		watchdog_enabled = sd_watchdog_enabled(0, &watchdog_usec) > 0;
	return watchdog_enabled;
}
#endif

int daemon_watchdog_period_ms(void)
{
#ifdef HAVE_SYSTEMD
	if (watchdog_on())
		return (int)(watchdog_usec / 2000 > 0 ? watchdog_usec / 2000 : 1);
#endif
	return INT_MAX;
}

void daemon_watchdog(void)
{
#ifdef HAVE_SYSTEMD
	static uint64_t last;

	if (!watchdog_on())
		return;
	uint64_t interval = watchdog_usec;
	uint64_t now = mono_us();
	if (now - last >= interval / 2) {
		sd_notify(0, "WATCHDOG=1");
		last = now;
	}
#endif
}
