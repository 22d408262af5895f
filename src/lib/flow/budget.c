/* budget.c: token buckets per endpoint class under a total ceiling, scaled by
 * this replica's share, with AIMD on 429 (a pure state machine). */
#include "cxone/flow/budget.h"
#include "cxone/base/log.h"
#include "cxone/flow/accepted.h"
#include "cxone/flow/bucket.h"
#include "cxone/flow/regrow.h"

#include <math.h>
#include <stdlib.h>

/* What a 429 does to the rate of its class (docs/architecture.md, "A
 * 429"). The class pauses for the Retry-After and its rate is cut at once
 * by MD_FACTOR. The answers to what was sent before the first rejected
 * request keep coming in during the pause (a 429 comes back faster than a
 * success); when the pause ends, they show how fast the server accepted:
 * over the EST_WINDOW_MS before that request, the server can have accepted
 * at most its burst plus its rate x the window, so (accepted - burst) /
 * window is a lower bound of its rate for us (the burst taken as
 * configured, x share). When the window starts at the first request after
 * an anchor (the class turned busy or resumed: the server's bucket was full
 * then) the server ran dry exactly at the rejected request, and half a
 * token more is the better guess. The cut is then replaced by that x
 * EST_MARGIN, kept within [EST_MIN_CUT, EST_MAX_CUT] x the rate that
 * tripped. A window shorter than EST_MIN_WINDOW_MS, or nothing above the
 * burst, leaves the plain cut.
 *
 * A replica with a share below 1 spends the server's bucket together with
 * the others, so what it got through says something only when all of them
 * paused and resumed together: with trips shared (cxw_budget_on_peer_trip)
 * it measures over a window anchored at a resume, else it keeps the plain
 * cut. */
#define MD_FACTOR         0.7
#define EST_MARGIN        0.99
#define EST_MIN_CUT       0.3
#define EST_MAX_CUT       0.95
#define EST_WINDOW_MS     4000
#define EST_MIN_WINDOW_MS 50
/* The accepted answers (accepted.h) are kept in 1 ms slots, as a window can
 * be 100 ms short and the replicas of a group count over the same window
 * to the ms; the ring must hold a window and a pause's answers. */
_Static_assert(CXW_ACCEPTED_SLOTS *CXW_ACCEPTED_SLOT_MS > EST_WINDOW_MS,
               "the accepted answers' ring is shorter than a window");
/* The other replicas' counts for a trip (cxw_budget_on_peer_count()) are
 * taken up to this long after the pause ended. */
#define COUNT_GRACE_MS 1000
/* Two trips at rates within EST_SAME of each other are the same limit: the
 * estimates are averaged and the hold doubles. */
#define EST_SAME 0.1
/* Until a class has taken tokens for CONFIRM_MS without its bucket filling
 * up and without a 429 (its rate is then known not to be above the
 * server's), a bucket that filled up while idle restarts from one token:
 * a burst against a limit below the budget trips within a few ms, too soon
 * to measure the limit, while paced at the rate it trips after
 * burst / (rate - limit), long enough. */
#define CONFIRM_MS 2000
/* The rate never drops below this fraction of the configured one. */
#define AIMD_FLOOR 0.01
/* A 429 without Retry-After pauses the class one token interval, at least this. */
#define MIN_PAUSE_MS 100
/* A Retry-After is believed up to this long; more is surely a bogus header,
 * and the cap keeps now + pause far from overflow. */
#define MAX_PAUSE_MS ((int64_t)3600 * 1000)
/* Slack for floating-point rounding in token counts: without it, 0.1 token
 * added ten times could fall short of 1 and cost a needless extra ms. */
#define EPS 1e-6
/* What take() answers while the share is 0 (no partitions, nothing to do). */
#define NO_SHARE_WAIT_MS 1000

typedef struct class_state_s {
        cxw_bucket_t b;
        double configured; /**< group-wide class rate, before share and AIMD; 0 =
                              unlimited */
        double burst;      /**< group-wide bucket depth, before share */
        double aimd;       /**< AIMD factor in [AIMD_FLOOR, 1] */
        int64_t paused_until;
        int64_t resumed_at; /**< end of the last pause: later sends are news */
        /* The trip being measured (ev_pending until the pause ends). */
        int ev_pending;
        int64_t ev_first_sent; /**< send time of its first rejected request */
        int64_t ev_from;       /**< start of the window measured */
        double ev_rate;        /**< the rate that tripped */
        int64_t busy_since;    /**< first take after an idle (full) bucket */
        int64_t anchor_send;   /**< first token since max(busy_since, resumed_at) */
        int64_t settled_at;    /**< when the last trip's pause ended */
        long ev_acc;           /**< accepted in the window, this replica */
        int64_t ev_first;      /**< earliest accepted send in it, -1 if none */
        long ev_peer_acc;      /**< ... the other replicas, as counted by them */
        int ev_peer_n;         /**< counts received */
        int64_t ev_peer_first; /**< earliest accepted send of theirs, -1 if none */
        int ev_same;           /**< the trip came at the rate of the last one */
        double prev_estimate;  /**< last_estimate before this trip */
        double prev_window;
        int confirmed;    /**< the rate has held CONFIRM_MS (see above) */
        int ev_anchored;  /**< the window starts at anchor_send */
        int ev_resume;    /**< ... and that anchor is a resume */
        int64_t ev_pause; /**< the pause of the trip, ms */
        int64_t ev_after; /**< the end of the pause before it */
        cxw_accepted_t accepted;
        double last_trip_rate; /**< 0 before the first trip */
        double last_estimate;  /**< server rate for the group, req/s, 0 if none */
        double last_window;    /**< ms behind last_estimate */
        cxw_regrow_t regrow;
} class_state_t;

struct cxw_budget_s {
        double share;
        int shared_trips; /**< trips are heard by the other replicas */
        cxw_budget_count_cb *count_cb;
        void *count_opaque;
        double total_rps; /**< group-wide; 0 = unlimited */
        double total_burst;
        cxw_bucket_t total;
        class_state_t cls[CXW_CLASS__CNT];
};

static const char *const class_names[CXW_CLASS__CNT] = {"contacts", "schedules", "polls"};

const char *cxw_budget_class_str(cxw_budget_class_t c)
{
        if ((unsigned)c >= CXW_CLASS__CNT)
                return "unknown";
        return class_names[c];
}

static double nonneg(double v)
{
        return isfinite(v) && v > 0 ? v : 0;
}

/* A replica's bucket holds this fraction of its share of the burst. The
 * server's bucket, full after a quiet spell, stops refilling while our
 * burst is on its way to it; a bucket as deep as the server's would then
 * send its last token before the server has one (a 429 on every idle-to-busy
 * turn). */
#define DEPTH_FACTOR 0.9

/* Depth for a group-wide burst at a share: never below 1 while share > 0. */
static double scaled_depth(double burst, double share)
{
        double d = burst * share * DEPTH_FACTOR;

        if (share <= 0)
                return 0;
        return d < 1 ? 1 : d;
}

/* When the server's bucket was last full for sure: this class turned busy
 * or resumed from a pause. */
static int64_t anchor_of(const class_state_t *s)
{
        return s->busy_since > s->resumed_at ? s->busy_since : s->resumed_at;
}

/* The class rate for AIMD factor f, in req/s after the share. */
static double class_rate(const cxw_budget_t *b, const class_state_t *s, double f)
{
        return s->configured * b->share * f;
}

/* Recomputes rates and depths from the configuration, share and AIMD
 * factors. The buckets must have been refilled to now at the old rates. */
static void apply(cxw_budget_t *b)
{
        cxw_bucket_set(&b->total, b->total_rps * b->share,
                       scaled_depth(b->total_burst, b->share));
        for (int c = 0; c < CXW_CLASS__CNT; c++) {
                class_state_t *s = &b->cls[c];
                cxw_bucket_set(&s->b, class_rate(b, s, s->aimd),
                               scaled_depth(s->burst, b->share));
        }
}

cxw_budget_t *cxw_budget_new(const cxw_budget_conf_t *conf, int64_t now_ms)
{
        cxw_budget_t *b;

        if (!conf)
                return NULL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->share = 1.0;
        b->total_rps = nonneg(conf->total_rps);
        b->total_burst = conf->total_burst > 0 ? conf->total_burst : 0;
        cxw_bucket_init(&b->total, now_ms);
        for (int c = 0; c < CXW_CLASS__CNT; c++) {
                class_state_t *s = &b->cls[c];
                double rps = nonneg(conf->rps[c]);

                if (rps == 0 || (b->total_rps > 0 && b->total_rps < rps))
                        rps = b->total_rps;
                s->configured = rps;
                s->burst = conf->burst[c] > 0 ? conf->burst[c] : b->total_burst;
                s->aimd = 1.0;
                cxw_bucket_init(&s->b, now_ms);
                cxw_regrow_init(&s->regrow, now_ms);
        }
        apply(b);
        /* One token, not a full burst: a replica that starts (or joins)
         * while the server's bucket is already busy with others would
         * otherwise trip it with its first burst, and a bucket running
         * behind the server's by a burst absorbs send-time jitter. */
        cxw_bucket_set_tokens(&b->total, 1);
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                cxw_bucket_set_tokens(&b->cls[c].b, 1);
        return b;
}

void cxw_budget_destroy(cxw_budget_t *b)
{
        free(b);
}

static void refill_all(cxw_budget_t *b, int64_t now_ms)
{
        cxw_bucket_refill(&b->total, now_ms);
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                cxw_bucket_refill(&b->cls[c].b, now_ms);
}

void cxw_budget_set_share(cxw_budget_t *b, double share, int64_t now_ms)
{
        double old;

        if (!b)
                return;
        if (!isfinite(share) || share < 0)
                share = 0;
        if (share > 1)
                share = 1;
        if (share == b->share)
                return;
        refill_all(b, now_ms);
        old = b->share;
        b->share = share;
        apply(b);
        CXW_INFO("budget",
                 "share %.4f -> %.4f: total rate %.2f/s, contacts %.2f/s, schedules "
                 "%.2f/s, polls %.2f/s",
                 old, share, b->total.rate, b->cls[CXW_CLASS_CONTACTS].b.rate,
                 b->cls[CXW_CLASS_SCHEDULES].b.rate, b->cls[CXW_CLASS_POLLS].b.rate);
}

/* Sets the AIMD factor of s so that its rate is rps (within the floor and
 * the ceiling); the bucket must be refilled to now at the old rate. */
static void set_rate(const cxw_budget_t *b, class_state_t *s, double rps)
{
        double full = class_rate(b, s, 1.0);
        double f = full > 0 ? rps / full : 1.0;

        if (!isfinite(f) || f < AIMD_FLOOR)
                f = AIMD_FLOOR;
        if (f > 1.0 - EPS)
                f = 1.0;
        s->aimd = f;
        cxw_bucket_set(&s->b, class_rate(b, s, f), s->b.depth);
}

/* Sets the rate of class c from its last trip's counts: this replica's,
 * and the other replicas' if any came in (then the estimate is for the
 * group, and this replica takes its share of it). Called when the pause
 * ends and again for each count of another replica. */
static void estimate(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s = &b->cls[c];
        int64_t from = s->ev_from, first = s->ev_first, window;
        double rps = s->ev_rate * MD_FACTOR, est = 0, burst = s->burst * b->share;
        long accepted = s->ev_acc;
        int measures;

        if (s->ev_peer_n > 0) {
                accepted += s->ev_peer_acc;
                burst = s->burst;
                if (s->ev_peer_first >= 0 && (first < 0 || s->ev_peer_first < first))
                        first = s->ev_peer_first;
        }
        /* Anchored: the window starts when the group's first request went
         * out (each replica counted from its own first one). */
        if (s->ev_anchored && first >= 0 && first < s->ev_first_sent)
                from = first;
        window = s->ev_first_sent - from;
        /* A share below 1: see the comment at the top. */
        measures = b->share >= 1.0 - EPS || s->ev_peer_n > 0 ||
                   (b->shared_trips && s->ev_resume);
        if (measures && window >= EST_MIN_WINDOW_MS && b->share > 0) {
                double over = (double)accepted - burst;
                if (over > 0)
                        est =
                            (over + (s->ev_anchored ? 0.5 : 0)) * 1000.0 / (double)window;
                /* the server's rate for the whole group */
                if (s->ev_peer_n == 0)
                        est /= b->share;
        }
        s->last_estimate = 0;
        s->last_window = 0;
        if (est > 0) {
                /* The same limit seen again: both windows count, by length. */
                if (s->ev_same && s->prev_estimate > 0) {
                        est = (est * (double)window + s->prev_estimate * s->prev_window) /
                              ((double)window + s->prev_window);
                        s->last_window = (double)window + s->prev_window;
                        if (s->last_window > 2 * EST_WINDOW_MS)
                                s->last_window = 2 * EST_WINDOW_MS;
                } else {
                        s->last_window = (double)window;
                }
                s->last_estimate = est;
                rps = est * b->share * EST_MARGIN;
                if (rps < s->ev_rate * EST_MIN_CUT)
                        rps = s->ev_rate * EST_MIN_CUT;
                if (rps > s->ev_rate * EST_MAX_CUT)
                        rps = s->ev_rate * EST_MAX_CUT;
        }
        cxw_bucket_refill(&s->b, now_ms);
        set_rate(b, s, rps);
        cxw_regrow_hold(&s->regrow, est > 0, s->ev_same, s->ev_pause, s->b.rate,
                        s->settled_at);
        CXW_INFO("budget",
                 "class %s resumes at %.2f/s (was %.2f/s when the 429 came; %ld accepted "
                 "in the %lld ms before it%s, burst %.1f%s%.2f/s); holds %lld s",
                 class_names[c], s->b.rate, s->ev_rate, accepted, (long long)window,
                 s->ev_peer_n > 0 ? " by the group" : "", burst,
                 est > 0    ? ": server rate for the group >= "
                 : measures ? ", too few to measure; cut to "
                            : ", shared with others: not measured; cut to ",
                 est > 0 ? est : rps, (long long)(s->regrow.hold_ms / 1000));
}

/* The pause of class c is over and every answer of the trip's window has
 * come in: count them, tell the others, replace the provisional cut by
 * what the server was seen to accept, and start the hold. */
static void settle(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s = &b->cls[c];

        if (!s->ev_pending || now_ms < s->paused_until)
                return;
        s->ev_pending = 0;
        /* The ms of the rejected request counts: what was sent in it
         * before that request went out first. */
        s->ev_acc =
            cxw_accepted_count(&s->accepted, s->ev_from, s->ev_first_sent, &s->ev_first);
        s->ev_same = s->last_trip_rate > 0 &&
                     fabs(s->ev_rate - s->last_trip_rate) <= EST_SAME * s->last_trip_rate;
        s->prev_estimate = s->last_estimate;
        s->prev_window = s->last_window;
        s->last_trip_rate = s->ev_rate;
        s->settled_at = now_ms;
        if (b->shared_trips && b->count_cb)
                b->count_cb(b->count_opaque, c, s->ev_first_sent, s->ev_acc, s->ev_first);
        estimate(b, c, now_ms);
}

int64_t cxw_budget_take(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s;
        int64_t wc, wt;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || b->share <= 0)
                return NO_SHARE_WAIT_MS;
        s = &b->cls[c];
        if (now_ms < s->paused_until)
                return s->paused_until - now_ms;
        settle(b, c, now_ms);
        cxw_bucket_refill(&s->b, now_ms);
        cxw_bucket_refill(&b->total, now_ms);
        if (cxw_bucket_full(&s->b)) {
                s->busy_since = now_ms; /* the bucket was full: we were idle */
                if (!s->confirmed)
                        cxw_bucket_cap(&s->b, 1); /* see CONFIRM_MS */
        }
        wc = cxw_bucket_wait(&s->b);
        wt = cxw_bucket_wait(&b->total);
        if (wc > 0 || wt > 0)
                return wc > wt ? wc : wt;
        if (s->b.rate > 0) {
                int64_t anchor = anchor_of(s);

                cxw_bucket_take(&s->b);
                if (s->anchor_send < anchor)
                        s->anchor_send = now_ms;
                if (!s->confirmed && !s->ev_pending && now_ms - anchor >= CONFIRM_MS)
                        s->confirmed = 1;
        }
        cxw_bucket_take(&b->total);
        return 0;
}

/* A peer's trip: the window it measures. */
typedef struct peer_window_s {
        int64_t from;
        int anchored;
} peer_window_t;

/* The trip's window is [from, sent_ms], at most EST_WINDOW_MS long, and no
 * other replica has counted it yet. */
static void set_window(class_state_t *s, int64_t sent_ms, int64_t from, int anchored)
{
        if (from < sent_ms - EST_WINDOW_MS)
                from = sent_ms - EST_WINDOW_MS;
        if (from > sent_ms)
                from = sent_ms;
        s->ev_first_sent = sent_ms;
        s->ev_from = from;
        s->ev_anchored = anchored;
        s->ev_peer_acc = 0;
        s->ev_peer_n = 0;
        s->ev_peer_first = -1;
}

/* Pauses class c for pause ms from now because of a 429 to a request sent
 * at sent_ms by this replica (pw NULL) or by a peer, measuring over pw.
 * @returns 1 if that began a trip. */
static int pause_class(cxw_budget_t *b, cxw_budget_class_t c, int64_t pause,
                       int64_t sent_ms, int64_t now_ms, const peer_window_t *pw)
{
        class_state_t *s = &b->cls[c];
        int64_t until, old_until, anchor;
        double old_rate;
        int trip;

        if (sent_ms > now_ms)
                sent_ms = now_ms;
        settle(b, c, now_ms);
        cxw_bucket_refill(&s->b, now_ms);
        old_rate = s->b.rate;
        if (pause > MAX_PAUSE_MS)
                pause = MAX_PAUSE_MS;
        old_until = s->paused_until;
        until = now_ms + pause;
        /* A later 429 never shortens a pause already promised. */
        if (until > s->paused_until)
                s->paused_until = until;

        /* A request sent before the last pause ended belongs to the trip
         * already handled (it was in flight): it can extend the pause but
         * not cut the rate again. A later one is a new trip. */
        trip = sent_ms >= s->resumed_at && !s->ev_pending && s->configured > 0;
        if (trip) {
                int anchored;

                anchor = anchor_of(s);
                anchored = s->anchor_send >= anchor &&
                           s->anchor_send >= sent_ms - EST_WINDOW_MS &&
                           s->anchor_send <= sent_ms;
                set_window(s, sent_ms, anchored ? s->anchor_send : anchor, anchored);
                s->ev_after = s->resumed_at;
                s->ev_pending = 1;
                s->ev_pause = s->paused_until - now_ms;
                s->ev_resume =
                    anchored && s->resumed_at > 0 && s->resumed_at >= s->busy_since;
                s->ev_rate = old_rate;
        }
        /* The group measures the earliest trip of its replicas: all count
         * over the same window. */
        if (pw && s->ev_pending && sent_ms >= s->ev_after &&
            (trip || sent_ms < s->ev_first_sent)) {
                int64_t from = pw->from;

                /* A replica that turned busy before the one that tripped
                 * counts from its own first request. */
                if (pw->anchored && s->anchor_send >= anchor_of(s) &&
                    s->anchor_send < from)
                        from = s->anchor_send;
                set_window(s, sent_ms, from, pw->anchored);
        }
        if (trip) {
                s->confirmed = 0;
                set_rate(b, s, old_rate * MD_FACTOR); /* provisional, see settle() */
                cxw_regrow_stop(&s->regrow);
        }
        s->resumed_at = s->paused_until;
        /* Resume with an empty bucket: tokens that accrued during the pause
         * would go out as one burst the moment it ends and trip the limit
         * again. */
        cxw_bucket_empty_until(&s->b, s->paused_until);

        /* Log when a pause starts or the rate changes, not for every 429 of
         * the requests that were already in flight. */
        if (old_until > now_ms && s->b.rate == old_rate)
                return trip;
        CXW_INFO(
            "budget",
            "class %s answered 429%s: paused for %lld ms (until %lld), rate %.2f/s -> "
            "%.2f/s, share %.4f",
            class_names[c], pw ? " to a peer" : "", (long long)(s->paused_until - now_ms),
            (long long)s->paused_until, old_rate, s->b.rate, b->share);
        return trip;
}

int cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                      int64_t sent_ms, int64_t now_ms)
{
        int64_t pause;
        double rate;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return 0;
        if (retry_after_ms >= 0) {
                pause = retry_after_ms;
        } else {
                rate = b->cls[c].b.rate;
                pause = rate > 0 ? (int64_t)ceil(1000.0 / rate) : 0;
                if (pause < MIN_PAUSE_MS)
                        pause = MIN_PAUSE_MS;
        }
        return pause_class(b, c, pause, sent_ms, now_ms, NULL);
}

void cxw_budget_set_shared_trips(cxw_budget_t *b, int on, cxw_budget_count_cb *cb,
                                 void *opaque)
{
        if (!b)
                return;
        b->shared_trips = on != 0;
        b->count_cb = on ? cb : NULL;
        b->count_opaque = on ? opaque : NULL;
}

int cxw_budget_trip(const cxw_budget_t *b, cxw_budget_class_t c, int64_t *sent_ms,
                    int64_t *from_ms, int *anchored)
{
        const class_state_t *s;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || !b->cls[c].ev_pending)
                return 0;
        s = &b->cls[c];
        *sent_ms = s->ev_first_sent;
        *from_ms = s->ev_from;
        *anchored = s->ev_anchored;
        return 1;
}

int cxw_budget_on_peer_trip(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                            int64_t from_ms, int anchored, int64_t until_ms,
                            int64_t now_ms)
{
        peer_window_t pw = {from_ms, anchored != 0};

        if (!b || (unsigned)c >= CXW_CLASS__CNT || until_ms <= now_ms)
                return 0;
        if (sent_ms > now_ms)
                sent_ms = now_ms;
        return pause_class(b, c, until_ms - now_ms, sent_ms, now_ms, &pw);
}

/* Two replicas' clocks for the same instant differ by the rounding of the
 * wall-clock conversion. */
#define SAME_TRIP_MS 2

int cxw_budget_on_peer_count(cxw_budget_t *b, cxw_budget_class_t c, int64_t trip_sent_ms,
                             long accepted, int64_t first_ms, int64_t now_ms)
{
        class_state_t *s;
        int settled;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || accepted < 0)
                return 0;
        s = &b->cls[c];
        settle(b, c, now_ms);
        /* The trip in its pause, or the last one settled (ev_first_sent
         * stays until the next trip) within the grace second. */
        settled = !s->ev_pending;
        if (llabs(trip_sent_ms - s->ev_first_sent) > SAME_TRIP_MS ||
            (settled && (s->settled_at <= 0 || now_ms - s->settled_at > COUNT_GRACE_MS)))
                return 0;
        if (accepted > 1000000000L)
                accepted = 1000000000L;
        s->ev_peer_acc += accepted;
        s->ev_peer_n++;
        if (first_ms >= 0 && (s->ev_peer_first < 0 || first_ms < s->ev_peer_first))
                s->ev_peer_first = first_ms;
        if (settled)
                estimate(b, c, now_ms);
        return 1;
}

void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                           int64_t now_ms)
{
        class_state_t *s;
        double old_rate, add;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return;
        s = &b->cls[c];
        if (s->configured <= 0)
                return;
        cxw_accepted_add(&s->accepted, sent_ms, now_ms);
        settle(b, c, now_ms);
        if (s->ev_pending || !cxw_regrow_due(&s->regrow, s->aimd >= 1.0,
                                             class_rate(b, s, 1.0), now_ms, &add))
                return;
        cxw_bucket_refill(&s->b, now_ms);
        old_rate = s->b.rate;
        set_rate(b, s, old_rate + add);
        CXW_INFO("budget", "class %s rate %.2f/s -> %.2f/s, share %.4f", class_names[c],
                 old_rate, s->b.rate, b->share);
}

double cxw_budget_rate(const cxw_budget_t *b, cxw_budget_class_t c)
{
        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return 0;
        return b->cls[c].b.rate;
}

double cxw_budget_share(const cxw_budget_t *b)
{
        return b ? b->share : 0;
}

int64_t cxw_budget_paused_until(const cxw_budget_t *b, cxw_budget_class_t c,
                                int64_t now_ms)
{
        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return 0;
        return b->cls[c].paused_until > now_ms ? b->cls[c].paused_until : 0;
}
