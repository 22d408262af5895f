/* admin.c: what a replica shows to the people who run it — the
 * Prometheus metrics, /healthz and /readyz on the admin listener.
 *
 * Counters the pipeline already keeps for its log lines (cxw_worker_stats_t)
 * are read at render time by a collector, so nothing is counted twice; only
 * what needs labels known at run time (requests by status code, durations,
 * messages by topic) lives in the registry. Everything runs on the loop
 * thread, so the admin hooks read the worker's state without locks. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <stdio.h>
#include <string.h>

static const double duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10,  30};

void worker_metrics_call(cxw_worker_t *w, const char *endpoint, long status,
                         int64_t elapsed_ms)
{
        char code[24];

        if (!w->metrics)
                return;
        if (status > 0)
                snprintf(code, sizeof(code), "%ld", status);
        else
                cxw_strlcpy(code, "none", sizeof(code));
        cxw_metric_add(w->m_requests, CXW_LABELS(endpoint, code), 1);
        cxw_metric_observe(w->m_duration, CXW_LABELS(endpoint),
                           (double)elapsed_ms / 1000.0);
}

void worker_metrics_consumed(cxw_worker_t *w, const char *topic)
{
        if (w->metrics)
                cxw_metric_add(w->m_consumed, CXW_LABELS(topic), 1);
}

static void counter(cxw_metrics_emitter_t *e, const char *name, const char *help,
                    double v)
{
        cxw_metrics_emit_family(e, name, help, CXW_METRIC_COUNTER);
        cxw_metrics_emit_sample(e, NULL, v);
}

static void gauge(cxw_metrics_emitter_t *e, const char *name, const char *help, double v)
{
        cxw_metrics_emit_family(e, name, help, CXW_METRIC_GAUGE);
        cxw_metrics_emit_sample(e, NULL, v);
}

static void emit_lag(void *opaque, const char *topic, int32_t partition, int64_t lag)
{
        char p[16];

        snprintf(p, sizeof(p), "%d", (int)partition);
        cxw_metrics_emit_sample(opaque, CXW_LABELS("topic", topic, "partition", p, NULL),
                                (double)lag);
}

static int ready(void *opaque, char *reason, size_t size);

static void collect(void *opaque, cxw_metrics_emitter_t *e)
{
        cxw_worker_t *w = opaque;
        const cxw_worker_stats_t *s = &w->stats;
        int64_t now = cxw_now_ms();
        int assigned = cxw_kafka_assigned_cnt(w->kafka);
        char reason[CXW_ADMIN_MAX_REASON];

        cxw_metrics_emit_family(e, "cxw_outcomes_total",
                                "Outcomes published, by request type and status.",
                                CXW_METRIC_COUNTER);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "contact-update", "status", "succeeded", NULL),
            (double)s->succeeded);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "contact-update", "status", "rejected", NULL),
            (double)s->rejected);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "contact-update", "status", "failed", NULL),
            (double)s->failed);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "schedule-import", "status", "succeeded", NULL),
            (double)s->sched_succeeded);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "schedule-import", "status", "rejected", NULL),
            (double)s->sched_rejected);
        cxw_metrics_emit_sample(
            e, CXW_LABELS("type", "schedule-import", "status", "failed", NULL),
            (double)s->sched_failed);
        counter(e, "cxw_job_polls_total", "Status calls for schedule import jobs.",
                (double)s->job_polls);
        cxw_metrics_emit_family(e, "cxw_webhooks_total", "Webhooks received, by result.",
                                CXW_METRIC_COUNTER);
        cxw_metrics_emit_sample(e, CXW_LABELS("result", "accepted", NULL),
                                (double)s->webhooks_accepted);
        cxw_metrics_emit_sample(e, CXW_LABELS("result", "refused", NULL),
                                (double)s->webhooks_refused);
        counter(e, "cxw_admin_deadline_closes_total",
                "Admin connections closed at worker.admin_request_deadline_ms.",
                (double)cxw_admin_deadline_closes(w->admin));
        gauge(e, "cxw_schedule_imports_in_progress",
              "Schedule imports submitted or being submitted whose job has not ended.",
              (double)w->sched_active);

        cxw_metrics_emit_family(e, "cxw_retries_total", "Calls retried, by reason.",
                                CXW_METRIC_COUNTER);
        cxw_metrics_emit_sample(e, CXW_LABELS("reason", "rate_limited", NULL),
                                (double)s->retries_rate_limited);
        cxw_metrics_emit_sample(e, CXW_LABELS("reason", "server_error", NULL),
                                (double)s->retries_server);
        cxw_metrics_emit_sample(e, CXW_LABELS("reason", "network", NULL),
                                (double)s->retries_network);
        cxw_metrics_emit_sample(e, CXW_LABELS("reason", "unauthorized", NULL),
                                (double)s->retries_unauthorized);

        counter(e, "cxw_address_book_batches_total",
                "Batches of contact updates made (address-book target).",
                (double)w->ab_batches);
        counter(e, "cxw_address_book_requests_total",
                "Address-book PUTs sent: first sends, split halves and retries.",
                (double)w->ab_requests);
        counter(e, "cxw_address_book_entries_total",
                "Entries the address-book PUTs carried (entries per request = this "
                "/ cxw_address_book_requests_total).",
                (double)w->ab_entries);
        counter(e, "cxw_address_book_bisect_requests_total",
                "Of the address-book PUTs, the extra ones that split halves of a "
                "refused batch cost (counted when the batch ends).",
                (double)w->ab_bisect_requests);

        counter(e, "cxw_cxone_rate_limited_total", "Answers 429 from CXone.",
                (double)s->http_429);
        gauge(e, "cxw_cxone_down",
              "1 while CXone counts as down (http.outage_threshold calls in a row "
              "failed): calls wait for a probe to get an answer.",
              (double)cxw_breaker_is_open(&w->breaker));
        counter(e, "cxw_cxone_outages_total", "Times CXone was counted as down.",
                (double)w->breaker.opened);
        cxw_metrics_emit_family(e, "cxw_budget_reports_refused_total",
                                "Budget reports of other replicas ignored, by reason.",
                                CXW_METRIC_COUNTER);
        for (int v = 0; v < CXW_PEERS__VERDICT_CNT; v++)
                cxw_metrics_emit_sample(
                    e,
                    CXW_LABELS("reason",
                               v == CXW_PEERS_OK
                                   ? "invalid"
                                   : cxw_peers_verdict_str((cxw_peers_verdict_t)v),
                               NULL),
                    (double)w->reports_refused[v]);
        cxw_metrics_emit_family(e, "cxw_token_refreshes_total",
                                "OAuth token fetches, by result.", CXW_METRIC_COUNTER);
        cxw_metrics_emit_sample(e, CXW_LABELS("result", "ok", NULL),
                                (double)cxw_token_fetches_ok(w->token));
        cxw_metrics_emit_sample(e, CXW_LABELS("result", "error", NULL),
                                (double)cxw_token_fetches_failed(w->token));
        counter(e, "cxw_dlq_records_total", "Requests copied to the dead-letter topic.",
                (double)s->dlq_records);
        counter(e, "cxw_transactions_committed_total",
                "Kafka transactions committed (kafka.exactly_once).",
                (double)s->txn_committed);
        counter(e, "cxw_transactions_aborted_total",
                "Kafka transactions aborted, their work done again (kafka.exactly_once).",
                (double)s->txn_aborted);
        counter(e, "cxw_records_dropped_total",
                "Outcome, DLQ and audit records Kafka refused for good (too large, "
                "invalid); their requests complete without them.",
                (double)s->records_dropped);
        counter(e, "cxw_requests_abandoned_total",
                "Requests dropped uncommitted, not started (revoked partitions, stop); "
                "consumed again later.",
                (double)s->abandoned);
        counter(e, "cxw_revoke_commit_failures_total",
                "Synchronous commits of revoked partitions' offsets that failed (their "
                "done work may be done again by the next owner).",
                (double)cxw_kafka_revoke_commit_failures(w->kafka));
        counter(e, "cxw_consumption_pauses_total",
                "Times consumption paused at the buffer limits.", (double)s->pauses);

        gauge(e, "cxw_requests_in_flight", "Calls to CXone under way.",
              (double)cxw_http_in_flight(w->http));
        gauge(e, "cxw_buffered_messages", "Requests consumed and not yet completed.",
              (double)w->njobs);
        gauge(e, "cxw_buffered_bytes", "Bytes held by buffered requests.",
              (double)w->bytes);
        gauge(e, "cxw_assigned_partitions", "Partitions assigned to this replica.",
              (double)assigned);
        gauge(e, "cxw_paused_partitions", "Assigned partitions paused for backpressure.",
              cxw_kafka_paused(w->kafka) ? (double)assigned : 0);
        gauge(e, "cxw_budget_share",
              "This replica's effective share of the group's rate budget: assigned / "
              "all partitions, more while idle peers lend theirs.",
              cxw_budget_share(w->budget));
        if (w->peers) {
                int lent = 0;

                cxw_peers_share(w->peers, now, &lent);
                gauge(e, "cxw_budget_static_share",
                      "Assigned / all partitions: the share without lending.",
                      cxw_peers_static_share(w->peers));
                gauge(e, "cxw_budget_lent_partitions",
                      "Partitions of idle peers whose share this replica uses now.",
                      (double)lent);
                gauge(e, "cxw_budget_busy",
                      "1 while this replica reports demand to its peers.",
                      cxw_peers_busy(w->peers) ? 1 : 0);
        }

        cxw_metrics_emit_family(
            e, "cxw_budget_rate_per_second",
            "Current rate of the budget class after share and AIMD; 0 = "
            "unlimited.",
            CXW_METRIC_GAUGE);
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                cxw_metrics_emit_sample(
                    e,
                    CXW_LABELS("class", cxw_budget_class_str((cxw_budget_class_t)c),
                               NULL),
                    cxw_budget_rate(w->budget, (cxw_budget_class_t)c));
        cxw_metrics_emit_family(e, "cxw_budget_paused",
                                "1 while the budget class is paused by a Retry-After.",
                                CXW_METRIC_GAUGE);
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                cxw_metrics_emit_sample(
                    e,
                    CXW_LABELS("class", cxw_budget_class_str((cxw_budget_class_t)c),
                               NULL),
                    cxw_budget_paused_until(w->budget, (cxw_budget_class_t)c, now) ? 1
                                                                                   : 0);

        cxw_metrics_emit_family(e, "cxw_consumer_lag",
                                "Messages behind the high watermark, per partition (from "
                                "librdkafka's statistics).",
                                CXW_METRIC_GAUGE);
        cxw_kafka_foreach_lag(w->kafka, emit_lag, e);

        gauge(e, "cxw_ready", "1 when /readyz answers ready.",
              ready(w, reason, sizeof(reason)) ? 1 : 0);
}

static int render(void *opaque, char **body, size_t *len)
{
        cxw_worker_t *w = opaque;

        return cxw_metrics_render(w->metrics, body, len);
}

static int alive(void *opaque)
{
        cxw_worker_t *w = opaque;

        /* The loop answered this request, which is most of the proof. */
        return !w->fatal;
}

static int ready(void *opaque, char *reason, size_t size)
{
        cxw_worker_t *w = opaque;

        if (w->stopping) {
                snprintf(reason, size, "stopping");
                return 0;
        }
        if (w->fatal) {
                snprintf(reason, size, "fatal error (see the log)");
                return 0;
        }
        if (!cxw_kafka_reachable(w->kafka)) {
                snprintf(reason, size, "Kafka brokers unreachable");
                return 0;
        }
        if (!worker_endpoints_known(w)) {
                snprintf(reason, size, "CXone endpoints not discovered yet%s%s",
                         w->disc_error[0] ? ": " : "", w->disc_error);
                return 0;
        }
        /* A token held, or obtainable: only a failed last fetch with no
         * valid token left makes us not ready. */
        if (!cxw_token_get(w->token, cxw_now_ms(), NULL) && w->token_error[0]) {
                snprintf(reason, size, "no access token: %s", w->token_error);
                return 0;
        }
        return 1;
}

int worker_admin_start(cxw_worker_t *w, cxw_admin_webhook_cb *webhook, char *errstr,
                       size_t errstr_size)
{
        const cxw_config_t *cfg = w->cfg;
        cxw_admin_hooks_t hooks = {0};
        cxw_admin_limits_t limits = {0};

        w->metrics = cxw_metrics_new(0);
        if (!w->metrics) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        w->m_requests = cxw_metrics_counter(
            w->metrics, "cxw_cxone_requests_total",
            "Calls to CXone, by endpoint and HTTP status code (\"none\": no answer).",
            CXW_LABELS("endpoint", "code", NULL), errstr, errstr_size);
        w->m_duration = cxw_metrics_histogram(
            w->metrics, "cxw_cxone_request_duration_seconds",
            "Duration of calls to CXone, by endpoint.", CXW_LABELS("endpoint", NULL),
            duration_bounds, sizeof(duration_bounds) / sizeof(duration_bounds[0]), errstr,
            errstr_size);
        w->m_consumed = cxw_metrics_counter(
            w->metrics, "cxw_messages_consumed_total", "Messages consumed, by topic.",
            CXW_LABELS("topic", NULL), errstr, errstr_size);
        if (!w->m_requests || !w->m_duration || !w->m_consumed ||
            cxw_metrics_add_collector(w->metrics, collect, w) == -1)
                return -1;

        if (!cfg->admin_listen || !*cfg->admin_listen)
                return 0;
        hooks.metrics = render;
        hooks.alive = alive;
        hooks.ready = ready;
        hooks.webhook = webhook;
        limits.max_connections = (unsigned)cfg->admin_max_connections;
        limits.per_client = (unsigned)cfg->admin_max_connections_per_client;
        limits.request_deadline_ms = (unsigned)cfg->admin_request_deadline_ms;
        w->admin =
            cxw_admin_new(cfg->admin_listen, &limits, &hooks, w, errstr, errstr_size);
        if (!w->admin)
                return -1;
        if (cxw_admin_attach(w->admin, w->loop) != 0) {
                snprintf(errstr, errstr_size, "cannot watch the admin listener");
                return -1;
        }
        CXW_INFO("admin", "admin listener on %s (port %d): /metrics /healthz /readyz",
                 cfg->admin_listen, cxw_admin_port(w->admin));
        return 0;
}

void worker_admin_stop(cxw_worker_t *w)
{
        cxw_admin_destroy(w->admin);
        w->admin = NULL;
        cxw_metrics_destroy(w->metrics);
        w->metrics = NULL;
}
