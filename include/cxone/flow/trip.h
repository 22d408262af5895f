/**
 * @file trip.h
 * @brief A 429 trip of one endpoint class, measured: its window (the time
 *        before the first rejected request), what the server accepted in
 *        it (from this replica and, as counted by them, the others), and
 *        the rate to resume at when its pause ends. docs/architecture.md,
 *        "A 429", tells the method.
 *
 * The owner (budget.c) pauses the class and sets its rate; this part says
 * whether a 429 begins a trip, over which window to count, and what the
 * counts say. A pure state machine with the clock passed in (monotonic
 * ms); the struct is embedded by its owner. @locality the owner's thread
 * (the loop thread).
 */
#ifndef CXONE_TRIP_H
#define CXONE_TRIP_H

#include "cxone/flow/accepted.h"

#include <stdint.h>

/** The window of a trip, the same for every replica of the group. */
typedef struct cxw_trip_window_s {
        int64_t sent_ms; /**< send time of the first rejected request; names the trip */
        int64_t from_ms; /**< start of the window, at most 4 s before sent_ms */
        int anchored;    /**< from_ms is the first send after the server's
                              bucket was full (a busy start or a resume) */
} cxw_trip_window_t;

/** Accepted requests sent in a trip's window. */
typedef struct cxw_trip_count_s {
        long accepted;    /**< how many */
        int64_t first_ms; /**< when the server saw the earliest, -1 if none */
        int n;            /**< counts added (the other replicas' only) */
} cxw_trip_count_t;

typedef struct cxw_trip_s {
        cxw_accepted_t answers; /**< accepted answers by send time */
        /* When the server's bucket was last full for sure: the anchor. */
        int64_t busy_since;  /**< the class turned busy (its bucket was full) */
        int64_t resumed_at;  /**< the last pause ended; earlier sends are old */
        int64_t anchor_send; /**< the first send since the later of the two */
        /* The trip: being measured while pending, else the last one. */
        int pending;
        cxw_trip_window_t win;
        int resume;         /**< anchored at a resume (not a busy start) */
        double rate;        /**< the rate that tripped, req/s */
        int64_t pause_ms;   /**< its pause */
        int64_t after_ms;   /**< resumed_at when it began */
        int64_t settled_ms; /**< when its pause ended (0 before) */
        cxw_trip_count_t mine;
        cxw_trip_count_t peers;
        /* What the trips measured, to average the same limit seen twice. */
        int same;              /**< it tripped at the rate of the last one */
        double last_rate;      /**< the rate that tripped last, 0 before */
        double estimate;       /**< the server's rate for the group, 0 if none */
        double window_ms;      /**< the time behind estimate */
        double prev_estimate;  /**< estimate before this trip */
        double prev_window_ms; /**< window_ms before this trip */
} cxw_trip_t;

/** What a trip's counts say (cxw_trip_estimate()). */
typedef struct cxw_trip_result_s {
        double rate;        /**< the rate to resume at, req/s, this replica's */
        double estimate;    /**< the server's rate for the group; 0 = not measured */
        int measures;       /**< the counts could say something (see there) */
        long accepted;      /**< counted in the window (the group's, if by_group) */
        int by_group;       /**< the other replicas' counts are in */
        int64_t window_ms;  /**< the window's length */
        double burst;       /**< the burst taken off accepted */
        double tripped;     /**< the rate that tripped */
        int same;           /**< it tripped at the rate of the trip before */
        int64_t pause_ms;   /**< its pause */
        int64_t settled_ms; /**< when its pause ended */
} cxw_trip_result_t;

/** @brief No trip yet, nothing accepted, no anchor. */
void cxw_trip_init(cxw_trip_t *t);

/** @brief The plain cut of a trip: the rate until it is measured. */
double cxw_trip_cut(double rate);

/**
 * @brief The class turns busy at now_ms: its bucket was full, so it was
 *        idle long enough for the server's bucket to be full too.
 */
void cxw_trip_busy(cxw_trip_t *t, int64_t now_ms);

/** @returns when the server's bucket was last full for sure (the anchor). */
int64_t cxw_trip_anchor(const cxw_trip_t *t);

/** @brief A request goes out at now_ms (the first after the anchor is kept). */
void cxw_trip_sent(cxw_trip_t *t, int64_t now_ms);

/** @brief A request sent at sent_ms was accepted, answered at now_ms. */
void cxw_trip_accepted(cxw_trip_t *t, int64_t sent_ms, int64_t now_ms);

/** @returns 1 while a trip waits for its pause to end, else 0. */
int cxw_trip_pending(const cxw_trip_t *t);

/**
 * @brief A request sent at sent_ms was answered 429 while the class rate
 *        was rate, and the class pauses for pause_ms: a trip, unless one
 *        is pending or the request was sent before the last pause ended
 *        (it was in flight: the trip before already counts it). The
 *        window runs from the anchor (the first send after it, if that is
 *        within 4 s of sent_ms), at most 4 s, to sent_ms.
 * @returns 1 if it began a trip, else 0.
 */
int cxw_trip_begin(cxw_trip_t *t, int64_t sent_ms, double rate, int64_t pause_ms);

/**
 * @brief Another replica tripped (its window peer): the group measures the
 *        earliest trip of its replicas, so the pending trip takes peer's
 *        window if it began just now (began) or peer's came earlier, and
 *        peer's request was sent after the pause before it. An anchored
 *        window starts at this replica's first send when that is earlier.
 * @returns 1 if the window was taken, else 0.
 */
int cxw_trip_join(cxw_trip_t *t, const cxw_trip_window_t *peer, int began);

/**
 * @brief The class's pause (now) ends at until_ms: requests sent before
 *        then belong to the trip already begun.
 */
void cxw_trip_resume_at(cxw_trip_t *t, int64_t until_ms);

/**
 * @brief The pending trip's pause ended at now_ms, and every answer of its
 *        window has come in: counts this replica's accepted answers (into
 *        t->mine) and ends the trip.
 */
void cxw_trip_settle(cxw_trip_t *t, int64_t now_ms);

/**
 * @brief Adds another replica's count for the trip named trip_sent_ms
 *        (accepted >= 0, the earliest first_ms or -1): taken if it is the
 *        pending trip, or the last one within a second of its settling.
 * @returns 1 if counted, else 0.
 */
int cxw_trip_add_count(cxw_trip_t *t, int64_t trip_sent_ms, long accepted,
                       int64_t first_ms, int64_t now_ms);

/**
 * @brief The rate to resume at after the last trip (call after
 *        cxw_trip_settle() and after each count added then). The server
 *        accepted at most its burst plus its rate x the window: (accepted -
 *        burst) / window is a lower bound of its rate, plus half a token
 *        over an anchored window; the same limit seen again is averaged
 *        with the last estimate. The rate is that x share x 0.99, within
 *        0.3-0.95 x the rate that tripped; it is the plain cut when nothing
 *        is measured: a window under 50 ms, nothing above the burst, or a
 *        share below 1 without the group's counts (unless trips are shared
 *        and the window starts at a resume).
 * @param burst the group's burst of the class (before the share).
 * @param share this replica's share, 0..1.
 * @param shared_trips the replicas pause and resume together.
 * @param r receives the result.
 */
void cxw_trip_estimate(cxw_trip_t *t, double burst, double share, int shared_trips,
                       cxw_trip_result_t *r);

#endif
