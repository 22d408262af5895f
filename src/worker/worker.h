/**
 * @file worker.h
 * @brief One replica's pipeline: consume → decode → dispatch → budget →
 *        http → outcome → produce → commit, driven by one event loop.
 */
#ifndef CXONE_WORKER_H
#define CXONE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "cxone/base/config.h"

typedef struct cxw_worker_s cxw_worker_t;

/** Counters of one replica (read by the admin endpoint and the exit log). */
typedef struct cxw_worker_stats_s {
        uint64_t consumed;
        uint64_t succeeded, rejected, failed;                   /**< contact updates */
        uint64_t sched_succeeded, sched_rejected, sched_failed; /**< schedule imports */
        uint64_t job_polls;         /**< async job status calls */
        uint64_t webhooks_accepted; /**< verified webhooks */
        uint64_t webhooks_refused;  /**< bad signature, expired, malformed */
        uint64_t http_requests, http_429, http_5xx, http_network, http_401;
        uint64_t retries; /**< all of the below */
        uint64_t retries_rate_limited, retries_server, retries_network,
            retries_unauthorized;
        uint64_t dlq_records;     /**< DLQ copies acknowledged */
        uint64_t records_dropped; /**< records Kafka refused for good */
        uint64_t abandoned;       /**< work not started, dropped on revoke or stop */
        uint64_t pauses;
        uint64_t txn_committed; /**< exactly-once: transactions committed */
        uint64_t txn_aborted;   /**< exactly-once: transactions aborted */
} cxw_worker_stats_t;

/**
 * @brief Creates the replica: Kafka clients, HTTP client, token cache,
 *        budget, dispatcher. SIGINT and SIGTERM must already be blocked in
 *        every thread (the caller blocks them before this call, so
 *        librdkafka's threads inherit the mask): the loop reads them from a
 *        signalfd.
 * @param cfg validated config; must outlive the worker.
 * @returns NULL with errstr set on failure.
 * @remark free with cxw_worker_destroy().
 */
cxw_worker_t *cxw_worker_new(const cxw_config_t *cfg, char *errstr, size_t errstr_size);

/**
 * @brief Runs until SIGINT/SIGTERM, then stops: nothing new starts, work
 *        not started is handed over (dropped uncommitted), calls in flight
 *        finish within worker.shutdown_deadline_ms and their outcomes are
 *        written; cxw_worker_destroy() then commits and leaves the group.
 * @returns 0 after a clean stop, 1 after a fatal error.
 */
int cxw_worker_run(cxw_worker_t *w);

/** @brief The counters so far. */
const cxw_worker_stats_t *cxw_worker_stats(const cxw_worker_t *w);

/** @brief NULL-safe. Abandons whatever is still in flight (not committed). */
void cxw_worker_destroy(cxw_worker_t *w);

#endif
