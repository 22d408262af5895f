/**
 * @file budget.h
 * @brief The rate budget: token buckets per endpoint class under a total
 *        ceiling, this replica's share of the group-wide rate, and AIMD on
 *        429 (a Retry-After pauses the whole class).
 *
 * The configured rates are for the whole consumer group; each replica runs
 * at its share of them (cxw_budget_set_share()). docs/architecture.md,
 * "The group's rate budget" and "A 429", tells how and why.
 *
 * A pure state machine with the clock passed in (monotonic ms);
 * @locality loop thread.
 */
#ifndef CXONE_BUDGET_H
#define CXONE_BUDGET_H

#include <stdint.h>

typedef enum {
        CXW_CLASS_CONTACTS = 0, /**< contact updates */
        CXW_CLASS_SCHEDULES,    /**< schedule import submissions */
        CXW_CLASS_POLLS,        /**< async job polls */
        CXW_CLASS__CNT
} cxw_budget_class_t;

typedef struct cxw_budget_conf_s {
        double total_rps;           /**< ceiling for all classes; 0 = none */
        int total_burst;            /**< bucket depth of the total */
        double rps[CXW_CLASS__CNT]; /**< per class; 0 = up to the total */
        int burst[CXW_CLASS__CNT];  /**< per class; 0 = total_burst */
} cxw_budget_conf_t;

typedef struct cxw_budget_s cxw_budget_t;

/** @remark free with cxw_budget_destroy(). share starts at 1.0. */
cxw_budget_t *cxw_budget_new(const cxw_budget_conf_t *conf, int64_t now_ms);

/** @brief NULL-safe. */
void cxw_budget_destroy(cxw_budget_t *b);

/**
 * @brief Sets this replica's share (0 < share <= 1; 0 means no partitions:
 *        nothing is taken). Rates and bursts scale by it (a burst never
 *        below 1 while share > 0). Tokens already in a bucket are capped at
 *        its new depth.
 */
void cxw_budget_set_share(cxw_budget_t *b, double share, int64_t now_ms);

/**
 * @brief Takes one request's token of class c (and of the total) if both
 *        buckets hold one and the class is not paused. Until the class has
 *        taken tokens for 2 s without its bucket filling up and without a
 *        429, a bucket that filled up while idle holds one token, not a
 *        burst.
 * @returns 0 when taken, else the ms to wait before trying again (>= 1;
 *          1000 while the share is 0 or for a bad class).
 */
int64_t cxw_budget_take(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms);

/**
 * @brief CXone answered 429 to a request of class c sent at sent_ms: pauses
 *        the class for retry_after_ms (when < 0: one token interval, at
 *        least 100 ms; at most an hour; a pause already promised is never
 *        shortened), and its bucket resumes empty.
 *
 * A request sent after the last pause ended begins a trip: the rate is cut
 * x0.7 at once; when the pause ends (seen by the next take, success, 429
 * or peer call for the class) it becomes what the server was seen to
 * accept, held for a while, then regrown (cxw_budget_on_success()). A 429
 * to a request sent before the last pause ended only extends the pause.
 *
 * @returns 1 if this 429 began a trip (worth telling the other replicas,
 *          see cxw_budget_trip() and cxw_budget_on_peer_trip()), else 0.
 */
int cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                      int64_t sent_ms, int64_t now_ms);

/**
 * @brief Called when a trip's pause ends with what this replica counted
 *        over the trip's window: accepted requests sent in it, the earliest
 *        of them at first_ms (-1 if none). The trip is named by the send
 *        time of its first rejected request, trip_sent_ms. For the other
 *        replicas: cxw_budget_on_peer_count().
 */
typedef void(cxw_budget_count_cb)(void *opaque, cxw_budget_class_t c,
                                  int64_t trip_sent_ms, long accepted, int64_t first_ms);

/**
 * @brief Says whether this replica's trips and counts reach the other
 *        replicas and theirs reach it (cxw_budget_on_peer_trip(),
 *        cxw_budget_on_peer_count()); off at first. With a share below 1, a
 *        replica measures the server's rate after a trip alone only while
 *        this is on. cb (may be NULL) receives this replica's counts, from
 *        within the call that settles a trip.
 */
void cxw_budget_set_shared_trips(cxw_budget_t *b, int on, cxw_budget_count_cb *cb,
                                 void *opaque);

/**
 * @brief The trip class c is in (paused, not yet measured): the send time
 *        of its first rejected request, the start of the window measured
 *        and whether that start is an anchor (busy start or resume).
 * @returns 1 if in a trip, else 0 (outputs untouched).
 */
int cxw_budget_trip(const cxw_budget_t *b, cxw_budget_class_t c, int64_t *sent_ms,
                    int64_t *from_ms, int *anchored);

/**
 * @brief Another replica of the group tripped class c: its request sent at
 *        sent_ms was answered 429, and it pauses until until_ms, measuring
 *        over the window from from_ms (anchored: see cxw_budget_trip()); all
 *        on this replica's monotonic clock. This replica pauses until then
 *        too and takes it as its own trip; of two trips at once, the
 *        earlier one's window is measured.
 * @returns 1 if it began a trip here, 0 if it only extended a pause or
 *          was stale (until_ms <= now_ms).
 */
int cxw_budget_on_peer_trip(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                            int64_t from_ms, int anchored, int64_t until_ms,
                            int64_t now_ms);

/**
 * @brief Bounds what the other replicas' trips can do here, for reports
 *        that anyone able to write the budget topic could have forged (no
 *        group key); off at first. While on, a peer's trip (i) pauses a
 *        class at most as long as the longest Retry-After this replica was
 *        itself answered (max_pause_ms until it has seen one, and never
 *        more), counted from the first peer trip of a window, and (ii)
 *        begins a trip (the cut) only as the first peer trip of a window:
 *        a window starts with a peer trip and lasts twice that bound, at
 *        least 10 s. Other peer trips in the window only join the trip in
 *        progress or extend its pause within the bound.
 */
void cxw_budget_set_peer_bounds(cxw_budget_t *b, int on, int64_t max_pause_ms);

/**
 * @brief Another replica counted accepted requests (the earliest sent at
 *        first_ms, -1 if none) over the window of the trip named
 *        trip_sent_ms (all on this replica's monotonic clock). If that is
 *        this replica's trip (in its pause, or its pause ended less than
 *        1 s ago), the count is added: the estimate becomes the group's,
 *        and this replica's rate its share of it.
 * @returns 1 if counted, 0 if it is not this replica's trip (or accepted
 *          < 0).
 */
int cxw_budget_on_peer_count(cxw_budget_t *b, cxw_budget_class_t c, int64_t trip_sent_ms,
                             long accepted, int64_t first_ms, int64_t now_ms);

/**
 * @brief A request of class c sent at sent_ms succeeded (answered at
 *        now_ms): counted for the measurement of a trip, and, once the hold
 *        after a trip is over, the rate regrows additively toward its
 *        ceiling, at most one step a second — the "AI" of AIMD.
 */
void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                           int64_t now_ms);

/**
 * @brief The current effective rate of class c (after share and AIMD),
 *        req/s; 0 = unlimited.
 */
double cxw_budget_rate(const cxw_budget_t *b, cxw_budget_class_t c);

/** @brief The current share. */
double cxw_budget_share(const cxw_budget_t *b);

/** @brief Until when class c is paused (monotonic ms), or 0 if not paused at now. */
int64_t cxw_budget_paused_until(const cxw_budget_t *b, cxw_budget_class_t c,
                                int64_t now_ms);

/** @brief "contacts", "schedules", "polls". */
const char *cxw_budget_class_str(cxw_budget_class_t c);

#endif
