#ifndef CARRIAGE_CLIBEVENT_SHIM_H
#define CARRIAGE_CLIBEVENT_SHIM_H

// libevent's event-config.h defines _GNU_SOURCE, which changes how glibc's headers
// declare types such as fd_set; Swift's Glibc and Dispatch modules see them without
// it, and clang refuses two definitions of one type. Including the system headers
// libevent needs first keeps them in the form every other module sees.
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <stdint.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <netdb.h>
#include <errno.h>
#include <time.h>

// Not libevent, but what the loop needs beside it that Swift's Glibc module leaves
// out: the eventfd that wakes the loop, the timerfd of its periodic chores, and
// TCP_NODELAY.
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <netinet/tcp.h>

// Only the libevent headers Carriage uses.
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
// evhttp: the metrics endpoint (one HTTP server on a loop, not a second network stack).
#include <event2/http.h>
#include <event2/buffer.h>

// `evsignal_new` and `evtimer_new` are function-like macros, which Swift cannot
// import; these inline wrappers give Swift the same calls under a visible name.

/// `evsignal_new(base, signum, cb, arg)`: a persistent event for a signal.
static inline struct event *carriage_evsignal_new(struct event_base *base, int signum,
                                                  event_callback_fn cb, void *arg) {
    return evsignal_new(base, signum, cb, arg);
}

/// `evtimer_new(base, cb, arg)`: a timer event (no fd).
static inline struct event *carriage_evtimer_new(struct event_base *base,
                                                 event_callback_fn cb, void *arg) {
    return evtimer_new(base, cb, arg);
}

#endif
