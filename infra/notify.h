/*
 * notify.h: telling a service manager (systemd) how the daemon is, over the plain
 * sd_notify datagram protocol: no library.
 *
 * When NOTIFY_SOCKET names a Unix datagram socket (a path, or "@name" for an abstract
 * one), notify_send writes one datagram of "KEY=VALUE" lines to it: READY=1 once serving,
 * RELOADING=1 while a configuration is read again, STOPPING=1 when stopping, WATCHDOG=1
 * as a heartbeat. Without NOTIFY_SOCKET it does nothing.
 */
#ifndef SIGNPOST_NOTIFY_H
#define SIGNPOST_NOTIFY_H

#include <stdint.h>

/* 0 when sent or when there is no manager to tell; -1 (errno set) when sending failed. */
int notify_send(const char *state);
/*
 * The watchdog interval the manager asked for (WATCHDOG_USEC, for this process when
 * WATCHDOG_PID is set), in microseconds; 0 when there is none.
 */
int64_t notify_watchdog_usec(void);

#endif
