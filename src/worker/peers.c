/* peers.c: budget lending between the replicas of the group.
 *
 * Each replica reports on the budget topic whether it has demand (every
 * rate.share_interval_ms and at once when that flips) and reads the reports
 * of the others; peers.c turns them into this replica's effective share,
 * which is fed to the budget. Without the topic (kafka.topics.budget = "")
 * nothing is sent or read and the share stays assigned / all partitions.
 *
 * The same reports carry 429 trips: the server's bucket is the group's, so
 * when one replica trips a class, all pause it together and measure the
 * same trip (cxw_budget_on_peer_trip()).
 *
 * Everything runs on the loop thread: the reader's queue writes the loop's
 * wakeup pipe, and a timer ticks every interval. */
#include "worker_int.h"
#include "cxone/flow/peers.h"
#include "cxone/base/util.h"

#include <stdio.h>
#include <string.h>

#define READER_START_MS       2000 /* first lookup of the budget topic, before the loop */
#define READER_RETRY_MS       200  /* later lookups, from the loop */
#define READER_RETRY_EVERY_MS 30000 /* while the topic is missing */

static int has_work(const cxw_worker_t *w)
{
        return w->njobs > 0 ||
               cxw_http_in_flight(w->http) >
                   (size_t)(w->token_in_flight + w->disc_in_flight) ||
               w->sched_active > 0 || cxw_kafka_paused(w->kafka);
}

/* Feeds the effective share to the budget; logs when it or the partitions
 * changed (force: after a rebalance). */
static void apply_share(cxw_worker_t *w, int force)
{
        int64_t now = cxw_now_ms();
        int idle = 0;
        double share = cxw_peers_share(w->peers, now, &idle);
        char buf[32], lent[96] = "";

        if (share == w->share_applied && !force)
                return;
        w->share_applied = share;
        cxw_budget_set_share(w->budget, share, now);
        if (idle > 0)
                snprintf(lent, sizeof(lent), "; %d partitions of idle peers lent", idle);
        else if (w->peers_reader && cxw_peers_busy(w->peers))
                snprintf(lent, sizeof(lent), "; no idle peer lends");
        CXW_INFO("budget", "share %.3f (%d of %d partitions): contacts rate %s%s", share,
                 w->share_mine, w->share_total,
                 w->share_mine == 0
                     ? "none (no partitions)"
                     : cxw_rate_str(cxw_budget_rate(w->budget, CXW_CLASS_CONTACTS), buf,
                                    sizeof(buf)),
                 lent);
}

/* Publishes a report (n bytes of buf, n < 0: none; buf of
 * CXW_PEERS_REPORT_MAX bytes) keyed by worker id, signed with the group key
 * if there is one. */
static void produce(cxw_worker_t *w, char *buf, int n)
{
        const cxw_config_t *cfg = w->cfg;
        rd_kafka_resp_err_t err;

        if (n >= 0 && *cfg->peer_secret)
                n = cxw_peers_sign(cfg->peer_secret, buf, (size_t)n,
                                   CXW_PEERS_REPORT_MAX);
        if (n < 0)
                return;
        err = cxw_kafka_produce_untracked(w->kafka, cfg->topic_budget, cfg->worker_id,
                                          strlen(cfg->worker_id), buf, (size_t)n);
        if (err)
                CXW_DEBUG("peers", "budget report not sent: %s", rd_kafka_err2str(err));
}

static void send_report(cxw_worker_t *w)
{
        char buf[CXW_PEERS_REPORT_MAX];

        if (w->peers_reader)
                produce(w, buf,
                        cxw_peers_encode(w->peers, cxw_wall_ms(), buf, sizeof(buf)));
}

/* Monotonic ms here <-> wall ms for the others: the monotonic clock is
 * this host's. */
static int64_t to_wall(int64_t mono_ms, int64_t now, int64_t wall)
{
        return mono_ms - now + wall;
}

static int64_t to_mono(int64_t wall_ms, int64_t now, int64_t wall)
{
        return wall_ms - wall + now;
}

void worker_budget_429(cxw_worker_t *w, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t sent_ms)
{
        int64_t now = cxw_now_ms(), wall = cxw_wall_ms(), sent, from;
        char buf[CXW_PEERS_REPORT_MAX];
        cxw_peer_trip_t t;

        /* shared_trips: the budget topic is read (so written too) */
        if (!cxw_budget_on_429(w->budget, c, retry_after_ms, sent_ms, now) ||
            !w->shared_trips || !cxw_budget_trip(w->budget, c, &sent, &from, &t.anchored))
                return;
        t.cls = (int)c;
        t.sent = to_wall(sent, now, wall);
        t.from = to_wall(from, now, wall);
        t.until = to_wall(cxw_budget_paused_until(w->budget, c, now), now, wall);
        produce(w, buf, cxw_peers_encode_ex(w->peers, wall, &t, NULL, buf, sizeof(buf)));
}

/* The budget counted its side of a trip: tell the others. */
static void on_count(void *opaque, cxw_budget_class_t c, int64_t trip_sent_ms,
                     long accepted, int64_t first_ms)
{
        cxw_worker_t *w = opaque;
        int64_t now = cxw_now_ms(), wall = cxw_wall_ms();
        char buf[CXW_PEERS_REPORT_MAX];
        cxw_peer_count_t n = {(int)c, to_wall(trip_sent_ms, now, wall), accepted,
                              first_ms < 0 ? -1 : to_wall(first_ms, now, wall)};

        produce(w, buf, cxw_peers_encode_ex(w->peers, wall, NULL, &n, buf, sizeof(buf)));
}

/* A peer's trip or count: pause and measure with it (its pause capped like
 * a Retry-After). */
static void peer_budget(cxw_worker_t *w, const cxw_peer_report_t *r)
{
        int64_t now = cxw_now_ms(), wall = cxw_wall_ms(), until;
        const cxw_peer_trip_t *t = &r->trip;
        const cxw_peer_count_t *n = &r->count;

        if (strcmp(r->worker, w->cfg->worker_id) == 0)
                return;
        if (t->cls >= 0 && t->until > wall) {
                until = to_mono(t->until, now, wall);
                if (until > now + w->cfg->retry_max_delay_ms)
                        until = now + w->cfg->retry_max_delay_ms;
                cxw_budget_on_peer_trip(
                    w->budget, (cxw_budget_class_t)t->cls, to_mono(t->sent, now, wall),
                    to_mono(t->from, now, wall), t->anchored, until, now);
        }
        if (n->cls >= 0)
                cxw_budget_on_peer_count(
                    w->budget, (cxw_budget_class_t)n->cls, to_mono(n->trip, now, wall),
                    n->accepted, n->first < 0 ? -1 : to_mono(n->first, now, wall), now);
}

/* A report not taken: counted by why (CXW_PEERS_OK: invalid) and logged
 * at debug (never the key, nor the value). */
static void refuse(cxw_worker_t *w, cxw_peers_verdict_t why, const char *worker,
                   const char *what)
{
        w->reports_refused[why]++;
        CXW_DEBUG("peers", "budget report%s%s ignored: %s", worker ? " of " : "",
                  worker ? worker : "", what);
}

static void on_report(void *opaque, const void *value, size_t len)
{
        cxw_worker_t *w = opaque;
        const char *key = w->cfg->peer_secret;
        cxw_peers_verdict_t v;
        cxw_peer_report_t r;
        char err[256];

        if (cxw_peers_decode(value, len, &r, err, sizeof(err)) == -1) {
                refuse(w, CXW_PEERS_OK, NULL, err);
                return;
        }
        if (strcmp(r.worker, w->cfg->worker_id) == 0)
                return; /* our own, read back */
        /* With a group key, only the group's reports count. */
        if (*key && (v = cxw_peers_verify(key, value, len)) != CXW_PEERS_OK) {
                refuse(w, v, r.worker,
                       v == CXW_PEERS_UNSIGNED ? "not signed" : "bad signature");
                return;
        }
        /* A replay, or a forgery meant to last: nothing of it is taken. */
        v = cxw_peers_check_at(w->peers, r.at, cxw_wall_ms());
        if (v != CXW_PEERS_OK) {
                refuse(w, v, r.worker,
                       v == CXW_PEERS_STALE ? "written too long ago"
                                            : "written in the future");
                return;
        }
        if (w->shared_trips)
                peer_budget(w, &r);
        if (cxw_peers_update(w->peers, &r, cxw_now_ms(), cxw_wall_ms()))
                w->peers_changed = 1;
}

static void tick_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque);

/* The budget topic is read: trips go both ways from now on. */
static void share_trips(cxw_worker_t *w)
{
        if (w->shared_trips)
                return;
        w->shared_trips = 1;
        cxw_budget_set_shared_trips(w->budget, 1, on_count, w);
}

static void arm_tick(cxw_worker_t *w, int64_t at)
{
        cxw_timer_start(w->loop, &w->peers_timer, at, tick_cb, w);
}

static void tick_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        cxw_worker_t *w = opaque;
        int64_t now = cxw_now_ms();

        (void)loop;
        (void)t;
        if (w->peers_reader && now >= w->reader_retry_at) {
                if (cxw_kafka_reader_start(w->peers_reader, READER_RETRY_MS))
                        share_trips(w);
                else
                        w->reader_retry_at = now + READER_RETRY_EVERY_MS;
        }
        cxw_peers_set_work(w->peers, has_work(w), now);
        cxw_peers_prune(w->peers, now);
        send_report(w);
        /* Reports age out and the hold after turning busy ends with time. */
        apply_share(w, 0);
        arm_tick(w, now + w->cfg->rate_share_interval_ms);
}

int worker_peers_round(cxw_worker_t *w)
{
        int64_t now = cxw_now_ms();
        int more = 0;

        if (!w->peers)
                return 0;
        if (w->peers_reader) {
                cxw_kafka_reader_poll(w->peers_reader, on_report, w);
                more = cxw_kafka_reader_more(w->peers_reader);
        }
        if (cxw_peers_set_work(w->peers, has_work(w), now)) {
                /* Tell the others now, not at the next tick; turning busy
                 * holds the static share for one interval, and the tick
                 * that ends the hold comes one interval from now. */
                send_report(w);
                if (cxw_peers_busy(w->peers))
                        arm_tick(w, now + w->cfg->rate_share_interval_ms);
                w->peers_changed = 1;
        }
        if (w->peers_changed) {
                w->peers_changed = 0;
                apply_share(w, 0);
        }
        return more;
}

void worker_share_update(cxw_worker_t *w)
{
        if (!w->peers) /* a failed start being undone */
                return;
        w->share_total = cxw_kafka_total_partitions(w->kafka);
        w->share_mine = cxw_kafka_assigned_cnt(w->kafka);
        if (cxw_peers_set_partitions(w->peers, w->share_mine, w->share_total))
                send_report(w);
        apply_share(w, 1);
}

int worker_peers_start(cxw_worker_t *w, char *errstr, size_t errstr_size)
{
        const cxw_config_t *cfg = w->cfg;
        cxw_peer_report_t self;
        char buf[CXW_PEERS_REPORT_MAX], err[256];
        int n;

        /* The budget starts at share 1; nothing is logged until that changes
         * or the first assignment. */
        w->share_applied = cxw_budget_share(w->budget);
        w->peers = cxw_peers_new(cfg->worker_id, cfg->rate_share_interval_ms);
        if (!w->peers) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        /* Unsigned reports may be anyone's: bound what their trips do. */
        cxw_budget_set_peer_bounds(w->budget, !*cfg->peer_secret,
                                   cfg->retry_max_delay_ms);
        if (!cfg->topic_budget[0]) {
                CXW_INFO("peers",
                         "kafka.topics.budget is empty: no lending, each replica "
                         "keeps assigned / all partitions of the budget");
                return 0;
        }
        /* The others must be able to read what we send. */
        n = cxw_peers_encode(w->peers, cxw_wall_ms(), buf, sizeof(buf));
        if (n >= 0 && *cfg->peer_secret)
                n = cxw_peers_sign(cfg->peer_secret, buf, (size_t)n, sizeof(buf));
        if (n < 0 || cxw_peers_decode(buf, (size_t)n, &self, err, sizeof(err)) == -1 ||
            strcmp(self.worker, cfg->worker_id) != 0) {
                CXW_WARN("peers",
                         "worker.id cannot go into a budget report (%s): no lending for "
                         "this replica",
                         n < 0 ? "too long" : err);
                return 0;
        }
        w->peers_reader = cxw_kafka_reader_new(
            cfg, cfg->topic_budget, cxw_loop_wakeup_fd(w->loop), errstr, errstr_size);
        if (!w->peers_reader)
                return -1;
        CXW_INFO("peers",
                 *cfg->peer_secret
                     ? "budget reports signed with rate.peer_secret; unsigned or badly "
                       "signed ones are ignored"
                     : "rate.peer_secret is not set: budget reports unsigned, a peer's "
                       "trip pauses at most the longest Retry-After seen here (at most "
                       "retry.max_delay_ms) and cuts once per window");
        if (cxw_kafka_reader_start(w->peers_reader, READER_START_MS)) {
                share_trips(w);
        } else {
                CXW_WARN("peers",
                         "budget topic %s not found: no lending until it exists (see "
                         "docs/deployment.md); looking again every %d s",
                         cfg->topic_budget, READER_RETRY_EVERY_MS / 1000);
                w->reader_retry_at = cxw_now_ms() + READER_RETRY_EVERY_MS;
        }
        arm_tick(w, cxw_now_ms() + cfg->rate_share_interval_ms);
        return 0;
}

void worker_peers_stop(cxw_worker_t *w)
{
        cxw_timer_stop(w->loop, &w->peers_timer);
        /* No trip or count goes out any more: shared_trips means a reader. */
        w->shared_trips = 0;
        cxw_budget_set_shared_trips(w->budget, 0, NULL, NULL);
        cxw_kafka_reader_destroy(w->peers_reader);
        w->peers_reader = NULL;
        cxw_peers_destroy(w->peers);
        w->peers = NULL;
}
