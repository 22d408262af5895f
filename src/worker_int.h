/* worker_int.h: the replica's state, shared by the pipeline (worker.c) and
 * its admin side (worker_admin.c: metrics, health, readiness). Private to
 * those two files. */
#ifndef CXONE_WORKER_INT_H
#define CXONE_WORKER_INT_H

#include "cxone/admin.h"
#include "cxone/budget.h"
#include "cxone/contacts.h"
#include "cxone/dispatch.h"
#include "cxone/http.h"
#include "cxone/kafka.h"
#include "cxone/loop.h"
#include "cxone/metrics.h"
#include "cxone/offsets.h"
#include "cxone/outcome.h"
#include "cxone/token.h"
#include "cxone/worker.h"

#define ERROR_MAX          512
#define CONSUME_BATCH      512  /* messages taken per loop round at most */
#define REPRODUCE_DELAY_MS 1000 /* after a failed delivery */
#define STATS_INTERVAL_MS  10000
#define REVOKE_DRAIN_MS    5000 /* at most, to finish calls in flight on revoke */

/* A partition as seen by this replica. gen changes on every assignment so
 * that a job from an earlier assignment never marks an offset of a later one. */
typedef struct part_s {
        struct part_s *next;
        char *topic;
        int32_t partition;
        uint64_t gen;
        int assigned;
        int revoking; /* being revoked: its queued work is dropped */
} part_t;

typedef enum { REC_RESULT = 0, REC_DLQ, REC_AUDIT, REC__CNT } rec_kind_t;
typedef enum { REC_NONE = 0, REC_PENDING, REC_DONE, REC_UNUSED } rec_state_t;

struct job_s;
typedef struct rec_s {
        struct job_s *job;
        rec_kind_t kind;
        rec_state_t state;
} rec_t;

typedef enum {
        JOB_QUEUED = 0, /* in the dispatcher, waiting for its key */
        JOB_READY,      /* in the retry-ready list */
        JOB_WAITING,    /* backoff timer armed */
        JOB_IN_FLIGHT,  /* HTTP call under way */
        JOB_FINISHING,  /* outcome decided, records being produced */
} job_state_t;

typedef struct job_s {
        struct job_s *prev, *next; /* all jobs */
        struct job_s *ready_next;  /* retry-ready list */
        cxw_worker_t *w;
        part_t *part;
        uint64_t gen;
        int64_t offset;
        char *key;
        size_t keylen;
        void *value;
        size_t len;
        rd_kafka_headers_t *headers; /* the request's, copied */
        char *batch_id;
        char *correlation_id;
        cxw_contact_update_t upd;
        int dispatched; /* holds its key in the dispatcher */
        job_state_t state;
        int attempts; /* calls made */
        int failures; /* 5xx / network failures, for the retry budget */
        int reauths;  /* 401s answered by fetching a new token */
        uint64_t token_gen;
        int64_t consumed_at;
        int64_t first_attempt_at;
        long http_status;
        cxw_outcome_status_t status;
        char error[ERROR_MAX];
        cxw_timer_t timer;
        rec_t recs[REC__CNT];
        size_t bytes;
} job_t;

struct cxw_worker_s {
        const cxw_config_t *cfg;
        cxw_loop_t *loop;
        cxw_http_t *http;
        cxw_kafka_t *kafka;
        cxw_token_t *token;
        cxw_budget_t *budget;
        cxw_dispatch_t *dispatch;
        cxw_offsets_t *offsets;
        part_t *parts;
        job_t *jobs;
        size_t njobs;
        int64_t bytes;
        job_t *ready_head, *ready_tail;
        cxw_timer_t pump_timer;
        cxw_timer_t token_timer;
        cxw_timer_t stats_timer;
        int token_in_flight;
        char *token_url;
        char *token_body;
        char *token_auth; /* holds the secret: wiped at destroy, never logged */
        char *contacts_url_prefix;
        uint64_t rng;
        int sigfd;
        int stopping;
        int64_t deadline;
        int fatal;
        int backlog;           /* the consumer queue may hold more than we took */
        int in_rebalance;      /* inside the revoke hook: do not consume */
        int closing;           /* being destroyed: abandon, do not drain */
        char token_error[256]; /* why the last token fetch failed; "" after a success */
        cxw_worker_stats_t stats;
        cxw_metrics_t *metrics;
        cxw_metric_t *m_requests; /* by endpoint and code */
        cxw_metric_t *m_duration; /* by endpoint */
        cxw_metric_t *m_consumed; /* by topic */
        cxw_admin_t *admin;
};

/* worker_admin.c */

/** Registers the metrics and, when worker.admin_listen is set, starts the
 *  admin listener on the loop. @returns 0 or -1 with errstr. */
int worker_admin_start(cxw_worker_t *w, char *errstr, size_t errstr_size);

/** Frees the listener and the registry; after the last loop round. */
void worker_admin_stop(cxw_worker_t *w);

/** Counts one finished call to CXone: endpoint ("contacts", "token"), HTTP
 *  status (0 = no answer) and its duration. */
void worker_metrics_call(cxw_worker_t *w, const char *endpoint, long status,
                         int64_t elapsed_ms);

/** Counts one consumed message of topic. */
void worker_metrics_consumed(cxw_worker_t *w, const char *topic);

#endif
