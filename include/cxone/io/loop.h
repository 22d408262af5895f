/**
 * @file loop.h
 * @brief The event loop of a replica: one thread, timers in a min-heap,
 *        waiting in curl_multi_poll() on curl's sockets plus extra fds (the
 *        Kafka queues' io-event pipe), the wait bounded by the nearest timer.
 *
 * Timers are intrusive (cxw_timer_t lives in its owner), so arming one
 * allocates nothing and stopping one is O(log n).
 *
 * @locality everything here is for the loop thread only, except
 *           cxw_loop_wakeup(), which any thread or a signal handler may call.
 */
#ifndef CXONE_LOOP_H
#define CXONE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

typedef struct cxw_loop_s cxw_loop_t;
typedef struct cxw_timer_s cxw_timer_t;

typedef void(cxw_timer_cb)(cxw_loop_t *loop, cxw_timer_t *timer, void *opaque);

/** A one-shot timer; zero-initialise it before first use. */
struct cxw_timer_s {
        int64_t at;        /**< monotonic ms when it fires */
        size_t heap_index; /**< position in the heap + 1; 0 = not armed */
        cxw_timer_cb *cb;
        void *opaque;
};

/** Called when fd is readable (or when the loop is woken up, for the pipe). */
typedef void(cxw_fd_cb)(cxw_loop_t *loop, int fd, void *opaque);

/**
 * @brief A loop that waits on multi (may be NULL) and its own wakeup pipe.
 * @remark free with cxw_loop_destroy(); multi stays owned by the caller.
 */
cxw_loop_t *cxw_loop_new(CURLM *multi, char *errstr, size_t errstr_size);

/** @brief NULL-safe; armed timers are forgotten, not fired. */
void cxw_loop_destroy(cxw_loop_t *loop);

/** @brief Arms (or re-arms) timer to fire at monotonic time at_ms. */
void cxw_timer_start(cxw_loop_t *loop, cxw_timer_t *timer, int64_t at_ms,
                     cxw_timer_cb *cb, void *opaque);

/** @brief Disarms timer if armed; harmless otherwise. */
void cxw_timer_stop(cxw_loop_t *loop, cxw_timer_t *timer);

/** @brief 1 if timer is armed. */
static inline int cxw_timer_armed(const cxw_timer_t *timer)
{
        return timer->heap_index != 0;
}

/**
 * @brief Watches fd for readability; cb runs from cxw_loop_run_once().
 *        At most 8 fds. @returns 0 or -1 when full.
 */
int cxw_loop_watch_fd(cxw_loop_t *loop, int fd, cxw_fd_cb *cb, void *opaque);

/**
 * @brief The write end of the loop's wakeup pipe, for
 *        rd_kafka_queue_io_event_enable(): the loop drains the pipe and calls
 *        the wakeup callback.
 */
int cxw_loop_wakeup_fd(const cxw_loop_t *loop);

/** @brief What runs when the wakeup pipe was written (e.g. serve Kafka queues). */
void cxw_loop_on_wakeup(cxw_loop_t *loop, cxw_fd_cb *cb, void *opaque);

/** @brief Wakes the loop from any thread or a signal handler. */
void cxw_loop_wakeup(cxw_loop_t *loop);

/**
 * @brief Waits for curl sockets, watched fds, the wakeup pipe or the
 *        nearest timer (at most max_wait_ms), then runs fd callbacks and due
 *        timers. The caller then lets curl perform.
 * @returns 0, or -1 if curl_multi_poll() failed.
 */
int cxw_loop_run_once(cxw_loop_t *loop, int64_t max_wait_ms);

/** @brief Timers armed now (for tests and metrics). */
size_t cxw_loop_timers(const cxw_loop_t *loop);

#endif
