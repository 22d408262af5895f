/* run.c: one replica's life: set up, the loop round, the stop on a signal,
 * and the teardown.
 *
 * consume → decode (contacts) → dispatch (per-key order) → budget (rate) →
 * http (curl multi) → outcome (results, DLQ, audit) → produce → commit.
 *
 * A request is a job_t from the moment its message is consumed until every
 * record about it (outcome, DLQ copy, audit event) is acknowledged by Kafka;
 * only then is its offset marked done, and only the contiguous prefix of
 * done offsets is stored for commit (offsets.c). That is the at-least-once
 * guarantee: a crash anywhere before loses nothing, at worst repeats.
 *
 * Every round of the loop: wait for a socket, a timer, a signal or a Kafka
 * event; let curl finish what it can; serve Kafka; consume; start the calls
 * that may start (the pump); exchange budget reports.
 */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/flow/budget.h"
#include "cxone/flow/dispatch.h"
#include "cxone/flow/offsets.h"
#include "cxone/io/http.h"
#include "cxone/io/kafka.h"
#include "cxone/io/loop.h"
#include "cxone/io/token.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void on_signal(cxw_loop_t *loop, int fd, void *opaque)
{
        cxw_worker_t *w = opaque;
        struct signalfd_siginfo si;

        (void)loop;
        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                size_t busy = 0;

                if (w->stopping)
                        continue;
                /* Nothing starts from now on (the pumps check stopping);
                 * the loop round hands what waits over (run loop). */
                w->stopping = 1;
                w->deadline = cxw_now_ms() + w->cfg->shutdown_deadline_ms;
                cxw_kafka_set_paused(w->kafka, 1);
                for (const job_t *job = w->jobs; job; job = job->next)
                        if (job->state == JOB_IN_FLIGHT || job->state == JOB_FINISHING)
                                busy++;
                CXW_INFO("worker",
                         "signal %u: stopping; finishing %zu requests in flight or "
                         "being written within %d ms, handing %zu not started over",
                         si.ssi_signo, busy, w->cfg->shutdown_deadline_ms,
                         w->njobs - busy);
        }
}

static void log_stats(cxw_worker_t *w, const char *when)
{
        const cxw_worker_stats_t *s = &w->stats;

        CXW_INFO(
            "worker",
            "%s: consumed %llu, succeeded %llu, rejected %llu, failed %llu, "
            "requests %llu (429: %llu, 5xx: %llu, network: %llu, 401: %llu), retries "
            "%llu, buffered %zu, in flight %zu",
            when, (unsigned long long)s->consumed, (unsigned long long)s->succeeded,
            (unsigned long long)s->rejected, (unsigned long long)s->failed,
            (unsigned long long)s->http_requests, (unsigned long long)s->http_429,
            (unsigned long long)s->http_5xx, (unsigned long long)s->http_network,
            (unsigned long long)s->http_401, (unsigned long long)s->retries, w->njobs,
            cxw_http_in_flight(w->http));
}

static void stats_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        cxw_worker_t *w = opaque;

        log_stats(w, "progress");
        cxw_timer_start(loop, t, cxw_now_ms() + STATS_INTERVAL_MS, stats_timer_cb, w);
}

/* Starts what may start: contact calls, schedule imports, and the token
 * fetch ahead of expiry even between bursts. Nothing once stopping. */
static void pump(cxw_worker_t *w)
{
        if (w->stopping)
                return;
        worker_contacts_pump(w);
        worker_sched_pump(w);
        if (!w->token_in_flight && cxw_token_need_fetch(w->token, cxw_now_ms()))
                worker_ensure_token(w);
}

void worker_round(cxw_worker_t *w, int wait_ms)
{
        char err[512];

        if (cxw_loop_run_once(w->loop, w->backlog || w->peers_more ? 0 : wait_ms) == -1) {
                CXW_ERROR("worker", "the event loop failed");
                w->fatal = 1;
        }
        cxw_http_perform(w->http);
        /* Jobs finished by the calls above may have freed room. */
        cxw_kafka_serve(w->kafka);
        /* Exactly-once: commits the transaction when due (blocking, bounded:
         * transactions.c); after an abort the work is done again. */
        if (!w->fatal && worker_txn_tick(w, 0) == CXW_TXN_ABORTED)
                worker_rewind(w);
        if (!w->stopping)
                worker_consume(w);
        pump(w);
        w->peers_more = worker_peers_round(w);
        if (cxw_kafka_fatal(w->kafka, err, sizeof(err))) {
                CXW_ERROR("kafka", "fatal producer error: %s", err);
                w->fatal = 1;
        }
}

cxw_worker_t *cxw_worker_new(const cxw_config_t *cfg, char *errstr, size_t errstr_size)
{
        cxw_worker_t *w = calloc(1, sizeof(*w));
        cxw_http_conf_t hconf;
        cxw_budget_conf_t bconf;
        cxw_kafka_hooks_t hooks = {worker_on_assigned, worker_on_revoked,
                                   worker_on_delivered};
        const char *topics[2];
        sigset_t mask;

        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        w->cfg = cfg;
        w->sigfd = -1;
        /* librdkafka's prefetch takes its share of the buffer limit */
        w->bytes_limit = cfg->max_buffered_bytes - cxw_kafka_prefetch_bytes(cfg);
        w->rng = cxw_rand_seed();

        hconf.connect_timeout_ms = cfg->connect_timeout_ms;
        hconf.request_timeout_ms = cfg->request_timeout_ms;
        hconf.max_response_bytes = (size_t)cfg->max_response_bytes;
        hconf.ca_file = cfg->ca_file; /* every call: token, discovery, API */
        /* in flight, plus one for the token fetch */
        hconf.max_connections = cfg->max_connections < cfg->max_in_flight + 1
                                    ? cfg->max_connections
                                    : cfg->max_in_flight + 1;
        w->http = cxw_http_new(&hconf, errstr, errstr_size);
        if (!w->http)
                goto fail;
        w->loop = cxw_loop_new(cxw_http_multi(w->http), errstr, errstr_size);
        if (!w->loop)
                goto fail;

        memset(&bconf, 0, sizeof(bconf));
        bconf.total_rps = cfg->rate_rps;
        bconf.total_burst = cfg->rate_burst;
        bconf.rps[CXW_CLASS_CONTACTS] = cfg->rate_contacts_rps;
        bconf.burst[CXW_CLASS_CONTACTS] = cfg->rate_contacts_burst;
        bconf.rps[CXW_CLASS_SCHEDULES] = cfg->rate_schedules_rps;
        bconf.burst[CXW_CLASS_SCHEDULES] = cfg->rate_schedules_burst;
        bconf.rps[CXW_CLASS_POLLS] = cfg->rate_polls_rps;
        bconf.burst[CXW_CLASS_POLLS] = cfg->rate_polls_burst;
        w->budget = cxw_budget_new(&bconf, cxw_now_ms());
        cxw_breaker_init(&w->breaker, cfg->outage_threshold, cfg->outage_probe_ms,
                         cfg->retry_max_delay_ms);
        w->token = cxw_token_new(cfg->token_refresh_ahead_ms, 500, 30000);
        cxw_token_set_min_refresh(w->token, cfg->token_min_refresh_ms); /* NULL-safe */
        w->dispatch = cxw_dispatch_new();
        w->sched_dispatch = cxw_dispatch_new();
        w->offsets = cxw_offsets_new();
        if (!w->budget || !w->token || !w->dispatch || !w->sched_dispatch ||
            !w->offsets) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        /* the login request, the contact target, the bases or their discovery */
        if (worker_discover_init(w, errstr, errstr_size) == -1)
                goto fail;
        if (worker_batches_init(w, errstr, errstr_size) == -1)
                goto fail;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        w->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (w->sigfd == -1) {
                snprintf(errstr, errstr_size, "signalfd: %s", strerror(errno));
                goto fail;
        }
        cxw_loop_watch_fd(w->loop, w->sigfd, on_signal, w);
        cxw_loop_on_wakeup(w->loop, worker_on_wakeup, w);

        topics[0] = cfg->topic_contacts;
        topics[1] = cfg->topic_schedules;
        /* cxone.schedules.enabled off: imports stay in their topic, unread */
        w->kafka = cxw_kafka_new(cfg, topics, cfg->schedules_enabled ? 2 : 1, &hooks, w,
                                 cxw_loop_wakeup_fd(w->loop), errstr, errstr_size);
        if (!w->kafka)
                goto fail;
        w->max_record = cxw_kafka_max_record_bytes(w->kafka);
        if (worker_txn_start(w, errstr, errstr_size) == -1)
                goto fail;
        if (worker_peers_start(w, errstr, errstr_size) == -1)
                goto fail;
        if (worker_admin_start(w, worker_sched_webhook, errstr, errstr_size) == -1)
                goto fail;
        return w;
fail:
        cxw_worker_destroy(w);
        return NULL;
}

/* Exactly-once, stopping: once nothing is in flight or being written, the
 * held jobs (each waits for a request handed over) can never be released:
 * they go back to Kafka too. */
static void drop_held_when_idle(cxw_worker_t *w)
{
        for (const job_t *job = w->jobs; job; job = job->next)
                if (!job->held)
                        return;
        for (part_t *p = w->parts; p; p = p->next)
                worker_drop_held(w, p);
}

/* Exactly-once, stopping: what was written commits before the replica
 * leaves (or is aborted, if it cannot be committed whole). */
static void stop_txn(cxw_worker_t *w)
{
        if (w->txn && !w->fatal)
                worker_txn_tick(w, 1);
}

int cxw_worker_run(cxw_worker_t *w)
{
        char buf[32];

        CXW_INFO("worker",
                 "cxone-worker %s started as %s: group %s, topic %s, CXone %s, %d in "
                 "flight, group budget %s",
                 CXW_VERSION, w->cfg->worker_id, w->cfg->group_id, w->cfg->topic_contacts,
                 *w->cfg->issuer_url ? w->cfg->issuer_url : w->cfg->base_url,
                 w->cfg->max_in_flight, cxw_rate_str(w->cfg->rate_rps, buf, sizeof(buf)));
        worker_ensure_token(w);
        cxw_timer_start(w->loop, &w->stats_timer, cxw_now_ms() + STATS_INTERVAL_MS,
                        stats_timer_cb, w);

        for (;;) {
                worker_round(w, 1000);
                if (w->fatal)
                        break;
                if (w->stopping) {
                        /* Only the calls in flight and the records being
                         * written are finished; the rest goes back to
                         * Kafka (a retry due now too). */
                        worker_hand_over_waiting(w);
                        if (w->txn)
                                drop_held_when_idle(w);
                        if (w->njobs == 0) {
                                stop_txn(w);
                                break;
                        }
                        if (cxw_now_ms() >= w->deadline) {
                                CXW_WARN("worker",
                                         "drain deadline reached: %zu requests left "
                                         "uncommitted (they will be consumed again)",
                                         w->njobs);
                                stop_txn(w);
                                break;
                        }
                }
        }
        log_stats(w, "stopped");
        return w->fatal ? 1 : 0;
}

const cxw_worker_stats_t *cxw_worker_stats(const cxw_worker_t *w)
{
        return &w->stats;
}

void cxw_worker_destroy(cxw_worker_t *w)
{
        if (!w)
                return;
        /* Kafka first: the final flush may still deliver records, which
         * completes jobs and stores their offsets before the last commit.
         * What is unfinished now is abandoned, not drained again on revoke. */
        w->closing = 1;
        if (w->kafka) {
                cxw_kafka_destroy(w->kafka, 10000);
                w->kafka = NULL;
        }
        worker_admin_stop(w);      /* after the last loop round */
        cxw_http_destroy(w->http); /* aborts calls in flight, no callbacks */
        w->http = NULL;
        while (w->jobs) {
                w->jobs->dispatched = 0;
                worker_job_free(w->jobs);
        }
        while (w->parts) {
                part_t *p = w->parts;
                w->parts = p->next;
                free(p->topic);
                free(p);
        }
        worker_peers_stop(w);
        worker_batches_free(w);
        worker_discover_free(w);
        cxw_loop_destroy(w->loop);
        cxw_budget_destroy(w->budget);
        cxw_token_destroy(w->token);
        cxw_dispatch_destroy(w->dispatch);
        cxw_dispatch_destroy(w->sched_dispatch);
        cxw_offsets_destroy(w->offsets);
        cxw_txn_destroy(w->txn);
        if (w->token_auth) {
                explicit_bzero(w->token_auth, strlen(w->token_auth));
                free(w->token_auth);
        }
        if (w->token_body) { /* the password grant's body holds the access key */
                explicit_bzero(w->token_body, strlen(w->token_body));
                free(w->token_body);
        }
        free(w->token_url);
        free(w->api_base);
        if (w->sigfd != -1)
                close(w->sigfd);
        free(w);
}
