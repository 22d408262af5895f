/* budget.c: the rate budget (a pure state machine). It composes, per
 * endpoint class, a token bucket (bucket.c) with the measurement of 429
 * trips (trip.c) and the hold and regrowth after them (regrow.c), under a
 * total bucket, all scaled by this replica's share. docs/architecture.md,
 * "The group's rate budget" and "A 429", tells the whole story. */
#include "cxone/flow/budget.h"
#include "cxone/base/log.h"
#include "cxone/flow/bucket.h"
#include "cxone/flow/regrow.h"
#include "cxone/flow/trip.h"

#include <math.h>
#include <stdlib.h>

/* A replica's bucket holds this fraction of its share of the burst. The
 * server's bucket, full after a quiet spell, stops refilling while our
 * burst is on its way to it; a bucket as deep as the server's would then
 * send its last token before the server has one (a 429 on every idle-to-busy
 * turn). */
#define DEPTH_FACTOR 0.9
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
/* Slack for floating-point rounding of the AIMD factor. */
#define EPS 1e-6
/* A window of the peers' trips (cxw_budget_set_peer_bounds()) lasts
 * PEER_WINDOW_FACTOR x the pause bound, at least PEER_WINDOW_MIN_MS (the
 * shortest hold after a trip). */
#define PEER_WINDOW_FACTOR 2
#define PEER_WINDOW_MIN_MS 10000
/* What take() answers while the share is 0 (no partitions, nothing to do). */
#define NO_SHARE_WAIT_MS 1000

typedef struct class_state_s {
        cxw_bucket_t b;
        double configured;    /**< group-wide req/s; 0 = unlimited */
        double burst;         /**< group-wide bucket depth, before share */
        double aimd;          /**< AIMD factor in [AIMD_FLOOR, 1] */
        int64_t paused_until; /**< monotonic ms */
        int confirmed;        /**< the rate has held CONFIRM_MS (see above) */
        cxw_trip_t trip;      /**< the last 429 trip and its measurement */
        cxw_regrow_t regrow;  /**< the hold and regrowth after it */
        int64_t peer_window;  /**< the peers' trips' window began */
        int peer_windowed;    /**< peer_window is set */
} class_state_t;

struct cxw_budget_s {
        double share;
        int shared_trips; /**< trips are heard by the other replicas */
        cxw_budget_count_cb *count_cb;
        void *count_opaque;
        int peer_bounded;        /**< cxw_budget_set_peer_bounds() */
        int64_t peer_max_pause;  /**< its max_pause_ms */
        int64_t own_retry_after; /**< the longest Retry-After answered here, -1 none */
        double total_rps;        /**< group-wide; 0 = unlimited */
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

/* Depth for a group-wide burst at a share: never below 1 while share > 0. */
static double scaled_depth(double burst, double share)
{
        double d = burst * share * DEPTH_FACTOR;

        if (share <= 0)
                return 0;
        return d < 1 ? 1 : d;
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
        b->own_retry_after = -1;
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
                cxw_trip_init(&s->trip);
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

/* Sets the rate of class c from its last trip's counts and starts the
 * hold. Called when the pause ends and again for each count of another
 * replica that comes in after. */
static void estimate(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s = &b->cls[c];
        cxw_trip_result_t r;

        cxw_trip_estimate(&s->trip, s->burst, b->share, b->shared_trips, &r);
        cxw_bucket_refill(&s->b, now_ms);
        set_rate(b, s, r.rate);
        cxw_regrow_hold(&s->regrow, r.estimate > 0, r.same, r.pause_ms, s->b.rate,
                        r.settled_ms);
        CXW_INFO("budget",
                 "class %s resumes at %.2f/s (was %.2f/s when the 429 came; %ld accepted "
                 "in the %lld ms before it%s, burst %.1f%s%.2f/s); holds %lld s",
                 class_names[c], s->b.rate, r.tripped, r.accepted, (long long)r.window_ms,
                 r.by_group ? " by the group" : "", r.burst,
                 r.estimate > 0 ? ": server rate for the group >= "
                 : r.measures   ? ", too few to measure; cut to "
                                : ", shared with others: not measured; cut to ",
                 r.estimate > 0 ? r.estimate : r.rate,
                 (long long)(s->regrow.hold_ms / 1000));
}

/* Once the pause of class c is over, every answer of its trip's window has
 * come in (a 429 comes back faster than a success): count them, tell the
 * others, and replace the provisional cut by what they say. */
static void settle(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s = &b->cls[c];

        if (!cxw_trip_pending(&s->trip) || now_ms < s->paused_until)
                return;
        cxw_trip_settle(&s->trip, now_ms);
        if (b->shared_trips && b->count_cb)
                b->count_cb(b->count_opaque, c, s->trip.win.sent_ms,
                            s->trip.mine.accepted, s->trip.mine.first_ms);
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
                cxw_trip_busy(&s->trip, now_ms); /* the bucket was full: we were idle */
                if (!s->confirmed)
                        cxw_bucket_cap(&s->b, 1); /* see CONFIRM_MS */
        }
        wc = cxw_bucket_wait(&s->b);
        wt = cxw_bucket_wait(&b->total);
        if (wc > 0 || wt > 0)
                return wc > wt ? wc : wt;
        if (s->b.rate > 0) {
                int64_t anchor = cxw_trip_anchor(&s->trip);

                cxw_bucket_take(&s->b);
                cxw_trip_sent(&s->trip, now_ms);
                if (!s->confirmed && !cxw_trip_pending(&s->trip) &&
                    now_ms - anchor >= CONFIRM_MS)
                        s->confirmed = 1;
        }
        cxw_bucket_take(&b->total);
        return 0;
}

/* Pauses class c for pause ms from now because of a 429 to a request sent
 * at sent_ms by this replica (peer NULL) or by another one, whose window
 * is peer; may_trip 0: it cannot begin a trip. @returns 1 if that began a
 * trip. */
static int pause_class(cxw_budget_t *b, cxw_budget_class_t c, int64_t pause,
                       int64_t sent_ms, int64_t now_ms, const cxw_trip_window_t *peer,
                       int may_trip)
{
        class_state_t *s = &b->cls[c];
        int64_t until, old_until;
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

        /* 429s of requests that were in flight only extend the pause. */
        trip = may_trip && s->configured > 0 &&
               cxw_trip_begin(&s->trip, sent_ms, old_rate, s->paused_until - now_ms);
        if (peer)
                cxw_trip_join(&s->trip, peer, trip);
        if (trip) {
                s->confirmed = 0;
                /* Provisional, until settle() measures the trip. */
                set_rate(b, s, cxw_trip_cut(old_rate));
                cxw_regrow_stop(&s->regrow);
        }
        cxw_trip_resume_at(&s->trip, s->paused_until);
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
            class_names[c], peer ? " to a peer" : "",
            (long long)(s->paused_until - now_ms), (long long)s->paused_until, old_rate,
            s->b.rate, b->share);
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
                if (pause > b->own_retry_after)
                        b->own_retry_after = pause > MAX_PAUSE_MS ? MAX_PAUSE_MS : pause;
        } else {
                rate = b->cls[c].b.rate;
                pause = rate > 0 ? (int64_t)ceil(1000.0 / rate) : 0;
                if (pause < MIN_PAUSE_MS)
                        pause = MIN_PAUSE_MS;
        }
        return pause_class(b, c, pause, sent_ms, now_ms, NULL, 1);
}

void cxw_budget_set_peer_bounds(cxw_budget_t *b, int on, int64_t max_pause_ms)
{
        if (!b)
                return;
        b->peer_bounded = on != 0;
        b->peer_max_pause = max_pause_ms > MIN_PAUSE_MS ? max_pause_ms : MIN_PAUSE_MS;
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
        const cxw_trip_t *t;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || !cxw_trip_pending(&b->cls[c].trip))
                return 0;
        t = &b->cls[c].trip;
        *sent_ms = t->win.sent_ms;
        *from_ms = t->win.from_ms;
        *anchored = t->win.anchored;
        return 1;
}

int cxw_budget_on_peer_trip(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                            int64_t from_ms, int anchored, int64_t until_ms,
                            int64_t now_ms)
{
        cxw_trip_window_t peer;
        class_state_t *s;
        int64_t bound, window;
        int may_trip = 1;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || until_ms <= now_ms)
                return 0;
        s = &b->cls[c];
        if (b->peer_bounded) {
                /* Anyone may have written it: at most one cut and one bound
                 * of pause per window, however many come. */
                bound = b->own_retry_after >= 0 && b->own_retry_after < b->peer_max_pause
                            ? b->own_retry_after
                            : b->peer_max_pause;
                if (bound < MIN_PAUSE_MS)
                        bound = MIN_PAUSE_MS;
                window = PEER_WINDOW_FACTOR * bound;
                if (window < PEER_WINDOW_MIN_MS)
                        window = PEER_WINDOW_MIN_MS;
                if (s->peer_windowed && now_ms - s->peer_window < window) {
                        may_trip = 0;
                } else {
                        s->peer_window = now_ms;
                        s->peer_windowed = 1;
                }
                if (until_ms > s->peer_window + bound)
                        until_ms = s->peer_window + bound;
                if (until_ms <= now_ms)
                        return 0;
        }
        if (sent_ms > now_ms)
                sent_ms = now_ms;
        peer.sent_ms = sent_ms;
        peer.from_ms = from_ms;
        peer.anchored = anchored != 0;
        return pause_class(b, c, until_ms - now_ms, sent_ms, now_ms, &peer, may_trip);
}

int cxw_budget_on_peer_count(cxw_budget_t *b, cxw_budget_class_t c, int64_t trip_sent_ms,
                             long accepted, int64_t first_ms, int64_t now_ms)
{
        class_state_t *s;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || accepted < 0)
                return 0;
        s = &b->cls[c];
        settle(b, c, now_ms);
        if (!cxw_trip_add_count(&s->trip, trip_sent_ms, accepted, first_ms, now_ms))
                return 0;
        /* Settled already: the estimate becomes the group's now. */
        if (!cxw_trip_pending(&s->trip))
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
        cxw_trip_accepted(&s->trip, sent_ms, now_ms);
        settle(b, c, now_ms);
        if (cxw_trip_pending(&s->trip) ||
            !cxw_regrow_due(&s->regrow, s->aimd >= 1.0, class_rate(b, s, 1.0), now_ms,
                            &add))
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
