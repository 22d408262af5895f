/* trip.c: measures a 429 trip over its window (a pure state machine). */
#include "cxone/flow/trip.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The plain cut, at once. */
#define MD_FACTOR 0.7
/* The measured rate, x EST_MARGIN, within [EST_MIN_CUT, EST_MAX_CUT] x the
 * rate that tripped: whatever the counts say, the rate goes down. */
#define EST_MARGIN  0.99
#define EST_MIN_CUT 0.3
#define EST_MAX_CUT 0.95
/* The window: at most EST_WINDOW_MS, and shorter than EST_MIN_WINDOW_MS it
 * says nothing (a burst tripping within a few ms). */
#define EST_WINDOW_MS     4000
#define EST_MIN_WINDOW_MS 50
/* Two trips at rates within EST_SAME of each other are the same limit. */
#define EST_SAME 0.1
/* The other replicas' counts come in after their pause ended: they are
 * taken up to this long after ours. */
#define COUNT_GRACE_MS 1000
/* Two replicas' clocks for the same instant differ by the rounding of the
 * wall-clock conversion. */
#define SAME_TRIP_MS 2
/* A count from another replica is believed up to this. */
#define MAX_COUNT 1000000000L
/* Slack for floating-point rounding of the share. */
#define EPS 1e-6

_Static_assert(CXW_ACCEPTED_SLOTS *CXW_ACCEPTED_SLOT_MS > EST_WINDOW_MS,
               "the accepted answers' ring is shorter than a window");

void cxw_trip_init(cxw_trip_t *t)
{
        memset(t, 0, sizeof(*t));
}

double cxw_trip_cut(double rate)
{
        return rate * MD_FACTOR;
}

void cxw_trip_busy(cxw_trip_t *t, int64_t now_ms)
{
        t->busy_since = now_ms;
}

int64_t cxw_trip_anchor(const cxw_trip_t *t)
{
        return t->busy_since > t->resumed_at ? t->busy_since : t->resumed_at;
}

void cxw_trip_sent(cxw_trip_t *t, int64_t now_ms)
{
        if (t->anchor_send < cxw_trip_anchor(t))
                t->anchor_send = now_ms;
}

void cxw_trip_accepted(cxw_trip_t *t, int64_t sent_ms, int64_t now_ms)
{
        cxw_accepted_add(&t->answers, sent_ms, now_ms);
}

int cxw_trip_pending(const cxw_trip_t *t)
{
        return t->pending;
}

/* The window is [from, sent_ms], at most EST_WINDOW_MS long, and no other
 * replica has counted it yet. */
static void set_window(cxw_trip_t *t, int64_t sent_ms, int64_t from, int anchored)
{
        if (from < sent_ms - EST_WINDOW_MS)
                from = sent_ms - EST_WINDOW_MS;
        if (from > sent_ms)
                from = sent_ms;
        t->win.sent_ms = sent_ms;
        t->win.from_ms = from;
        t->win.anchored = anchored;
        t->peers.accepted = 0;
        t->peers.n = 0;
        t->peers.first_ms = -1;
}

int cxw_trip_begin(cxw_trip_t *t, int64_t sent_ms, double rate, int64_t pause_ms)
{
        int64_t anchor = cxw_trip_anchor(t);
        int anchored;

        if (sent_ms < t->resumed_at || t->pending)
                return 0;
        anchored = t->anchor_send >= anchor &&
                   t->anchor_send >= sent_ms - EST_WINDOW_MS && t->anchor_send <= sent_ms;
        set_window(t, sent_ms, anchored ? t->anchor_send : anchor, anchored);
        t->after_ms = t->resumed_at;
        t->pending = 1;
        t->pause_ms = pause_ms;
        t->resume = anchored && t->resumed_at > 0 && t->resumed_at >= t->busy_since;
        t->rate = rate;
        return 1;
}

int cxw_trip_join(cxw_trip_t *t, const cxw_trip_window_t *peer, int began)
{
        int64_t from = peer->from_ms;

        if (!t->pending || peer->sent_ms < t->after_ms ||
            !(began || peer->sent_ms < t->win.sent_ms))
                return 0;
        /* A replica that turned busy before the one that tripped counts from
         * its own first request. */
        if (peer->anchored && t->anchor_send >= cxw_trip_anchor(t) &&
            t->anchor_send < from)
                from = t->anchor_send;
        set_window(t, peer->sent_ms, from, peer->anchored);
        return 1;
}

void cxw_trip_resume_at(cxw_trip_t *t, int64_t until_ms)
{
        t->resumed_at = until_ms;
}

void cxw_trip_settle(cxw_trip_t *t, int64_t now_ms)
{
        t->pending = 0;
        /* The ms of the rejected request counts: what was sent in it before
         * that request went out first. */
        t->mine.accepted = cxw_accepted_count(&t->answers, t->win.from_ms, t->win.sent_ms,
                                              &t->mine.first_ms);
        t->same =
            t->last_rate > 0 && fabs(t->rate - t->last_rate) <= EST_SAME * t->last_rate;
        t->prev_estimate = t->estimate;
        t->prev_window_ms = t->window_ms;
        t->last_rate = t->rate;
        t->settled_ms = now_ms;
}

int cxw_trip_add_count(cxw_trip_t *t, int64_t trip_sent_ms, long accepted,
                       int64_t first_ms, int64_t now_ms)
{
        if (llabs(trip_sent_ms - t->win.sent_ms) > SAME_TRIP_MS ||
            (!t->pending &&
             (t->settled_ms <= 0 || now_ms - t->settled_ms > COUNT_GRACE_MS)))
                return 0;
        if (accepted > MAX_COUNT)
                accepted = MAX_COUNT;
        t->peers.accepted += accepted;
        t->peers.n++;
        if (first_ms >= 0 && (t->peers.first_ms < 0 || first_ms < t->peers.first_ms))
                t->peers.first_ms = first_ms;
        return 1;
}

void cxw_trip_estimate(cxw_trip_t *t, double burst, double share, int shared_trips,
                       cxw_trip_result_t *r)
{
        int64_t from = t->win.from_ms, first = t->mine.first_ms, window;
        double rps = t->rate * MD_FACTOR, est = 0;
        long accepted = t->mine.accepted;
        int measures;

        if (t->peers.n == 0) {
                burst *= share; /* alone, it had its share of the burst */
        } else {
                accepted += t->peers.accepted;
                if (t->peers.first_ms >= 0 && (first < 0 || t->peers.first_ms < first))
                        first = t->peers.first_ms;
        }
        /* Anchored: the window starts when the group's first request went
         * out (each replica counted from its own first one). */
        if (t->win.anchored && first >= 0 && first < t->win.sent_ms)
                from = first;
        window = t->win.sent_ms - from;
        /* A replica with a share below 1 spends the server's bucket with the
         * others: what it got through says something only with their counts,
         * or when all of them resumed together. */
        measures = share >= 1.0 - EPS || t->peers.n > 0 || (shared_trips && t->resume);
        if (measures && window >= EST_MIN_WINDOW_MS && share > 0) {
                double over = (double)accepted - burst;
                /* At a busy start or a resume the server's bucket was full,
                 * and it ran dry exactly at the rejected request. */
                if (over > 0)
                        est = (over + (t->win.anchored ? 0.5 : 0)) * 1000.0 /
                              (double)window;
                if (t->peers.n == 0)
                        est /= share; /* the server's rate for the group */
        }
        t->estimate = 0;
        t->window_ms = 0;
        if (est > 0) {
                /* The same limit seen again: both windows count, by length. */
                if (t->same && t->prev_estimate > 0) {
                        est = (est * (double)window +
                               t->prev_estimate * t->prev_window_ms) /
                              ((double)window + t->prev_window_ms);
                        t->window_ms = (double)window + t->prev_window_ms;
                        if (t->window_ms > 2 * EST_WINDOW_MS)
                                t->window_ms = 2 * EST_WINDOW_MS;
                } else {
                        t->window_ms = (double)window;
                }
                t->estimate = est;
                rps = est * share * EST_MARGIN;
                if (rps < t->rate * EST_MIN_CUT)
                        rps = t->rate * EST_MIN_CUT;
                if (rps > t->rate * EST_MAX_CUT)
                        rps = t->rate * EST_MAX_CUT;
        }
        r->rate = rps;
        r->estimate = est;
        r->measures = measures;
        r->accepted = accepted;
        r->by_group = t->peers.n > 0;
        r->window_ms = window;
        r->burst = burst;
        r->tripped = t->rate;
        r->same = t->same;
        r->pause_ms = t->pause_ms;
        r->settled_ms = t->settled_ms;
}
