/* worker_int.h: the replica's state, shared by the pipeline (worker.c) and
 * its admin side (worker_admin.c: metrics, health, readiness). Private to
 * those two files. */
#ifndef CXONE_WORKER_INT_H
#define CXONE_WORKER_INT_H

#include "cxone/io/admin.h"
#include "cxone/flow/budget.h"
#include "cxone/requests/contacts.h"
#include "cxone/flow/dispatch.h"
#include "cxone/io/http.h"
#include "cxone/io/kafka.h"
#include "cxone/base/log.h"
#include "cxone/io/loop.h"
#include "cxone/base/metrics.h"
#include "cxone/flow/offsets.h"
#include "cxone/requests/outcome.h"
#include "cxone/flow/peers.h"
#include "cxone/flow/retry.h"
#include "cxone/requests/schedules.h"
#include "cxone/io/token.h"
#include "worker.h"

#define ERROR_MAX          1024
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

/* The records about one request: its outcome, a DLQ copy when it did not
 * succeed, its final audit event, and for a schedule import the audit event
 * of its submission. */
typedef enum {
        REC_RESULT = 0,
        REC_DLQ,
        REC_AUDIT,
        REC_AUDIT_SUBMIT,
        REC__CNT
} rec_kind_t;
typedef enum {
        REC_LATER = 0, /* not due (yet); never due counts as unused */
        REC_NONE,      /* due, to be produced */
        REC_PENDING,   /* produced, waiting for the acknowledgement */
        REC_DONE,
        REC_UNUSED,
} rec_state_t;

typedef enum { JOB_CONTACT = 0, JOB_SCHEDULE } job_kind_t;

/* A schedule import's own state (worker_schedules.c). */
typedef struct sched_s {
        cxw_schedule_import_t imp;
        char key[CXW_SCHED_ID_MAX + 1];    /* per-key order: message key or calendar */
        char idem[CXW_SCHED_IDEMKEY_SIZE]; /* Idempotency-Key of the submission */
        char job_id[128];
        char job_status[16];     /* last status CXone reported */
        char webhook_status[16]; /* a webhook's status, while a poll is out */
        int active;              /* counted in sched_active */
        int polls;
        int64_t validation_ms, request_ms;
        int64_t polling_since, poll_interval;
        struct job_s *tracked_next; /* the jobs with a jobId, for webhooks */
} sched_t;

typedef struct jobq_s {
        struct job_s *head, *tail;
} jobq_t;

struct job_s;
typedef struct rec_s {
        struct job_s *job;
        rec_kind_t kind;
        rec_state_t state;
        size_t bytes; /* librdkafka's copy while pending (memcost.h) */
} rec_t;

typedef enum {
        JOB_QUEUED = 0, /* in the dispatcher, waiting for its key */
        JOB_READY,      /* in the retry-ready list */
        JOB_WAITING,    /* backoff timer armed */
        JOB_IN_FLIGHT,  /* HTTP call under way */
        JOB_FINISHING,  /* outcome decided, records being produced */
} job_state_t;

typedef struct job_s {
        job_kind_t kind;
        struct job_s *prev, *next; /* all jobs */
        struct job_s *ready_next;  /* retry-ready list */
        cxw_worker_t *w;
        part_t *part;
        uint64_t gen;
        int64_t offset;
        char *key; /* key, value, batch and correlation ids: in the job's block */
        size_t keylen;
        void *value;
        size_t len;
        size_t block_len;            /* the job's allocation, copies included */
        rd_kafka_headers_t *headers; /* the request's, copied */
        char *batch_id;
        char *correlation_id;
        cxw_contact_update_t upd; /* JOB_CONTACT */
        sched_t *sched;           /* JOB_SCHEDULE */
        int dispatched;           /* holds its key in the dispatcher */
        job_state_t state;
        int attempts; /* calls made */
        int failures; /* 5xx / network failures, for the retry budget */
        int reauths;  /* 401s answered by fetching a new token */
        uint64_t token_gen;
        int64_t consumed_at;
        int64_t first_attempt_at;
        long http_status;
        cxw_outcome_status_t status;
        char *error;        /* what went wrong, malloc'd; NULL on success */
        cxw_timer_t timer;  /* backoff or next poll */
        cxw_timer_t rtimer; /* re-producing a record Kafka did not take */
        rec_t recs[REC__CNT];
        size_t bytes; /* what it costs in memory, counted in the worker's bytes */
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
        int64_t bytes;       /* what the jobs cost in memory (job_cost) */
        int64_t bytes_limit; /* max_buffered_bytes less librdkafka's prefetch share */
        jobq_t ready;        /* contact retries, before the dispatcher's keys */
        jobq_t sched_ready;  /* schedule retries */
        cxw_dispatch_t *sched_dispatch;
        int sched_active; /* imports submitted or being submitted, job not ended */
        job_t *tracked;   /* imports with a jobId */
        cxw_timer_t pump_timer;
        cxw_timer_t sched_timer; /* schedule submissions waiting for the budget */
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
        /* budget lending between replicas (worker_peers.c) */
        cxw_peers_t *peers;
        cxw_kafka_reader_t *peers_reader; /* NULL: no lending */
        cxw_timer_t peers_timer;
        int64_t reader_retry_at;
        int shared_trips;  /**< the budget topic is read: trips go both ways */
        int peers_changed; /* a report arrived or the demand flipped */
        int peers_more;    /* reports left to read: do not wait */
        int share_mine, share_total;
        double share_applied; /* the share last fed to the budget */
};

/* worker.c, for worker_schedules.c */

void worker_job_finish(job_t *job, cxw_outcome_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void worker_produce_records(job_t *job);
void worker_log_job(const job_t *job, cxw_log_level_t level, const char *component,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void worker_ready_push(cxw_worker_t *w, job_t *job);
void worker_retry_or_fail(job_t *job, int64_t delay_ms, const char *why,
                          uint64_t *reason);
/* Starts a call of job with the access token: the Authorization line is
 * built here and wiped once curl has its copy; on success the job is in
 * flight under that token's generation, and the call counts as an attempt
 * when attempt is set (updates and submissions; not job polls). */
int worker_start_call(job_t *job, cxw_http_request_t *req, const char *token,
                      uint64_t gen, cxw_http_done_cb *cb, int attempt);
void worker_call_failed(job_t *job, const cxw_http_response_t *r, cxw_result_class_t cls,
                        cxw_budget_class_t c);
void worker_describe_answer(const cxw_http_response_t *r, char *out, size_t size);
void worker_ensure_token(cxw_worker_t *w);
void worker_pump(cxw_worker_t *w);
/* The URL of base_url + path with "{name}" replaced by value; malloc'd. */
char *worker_url(const cxw_worker_t *w, const char *path, const char *name,
                 const char *value);

/* worker_schedules.c */

/* Decodes, validates and queues a consumed import (or finishes it). */
void sched_on_message(cxw_worker_t *w, job_t *job);
/* Starts submissions as the concurrency cap, token and budget allow. */
void sched_pump(cxw_worker_t *w);
/* Frees a job's schedule state and takes it out of the tracking. */
void sched_release(job_t *job);
/* The answer to POST /webhooks/cxone (admin hook). */
int sched_webhook(void *opaque, const cxw_admin_request_t *req, const char *body,
                  size_t len, char *answer, size_t answer_size);

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

/* worker_peers.c */

/** Creates the peer table and, unless kafka.topics.budget is "", the
 *  reader of the budget topic and the report timer. @returns 0 or -1. */
int worker_peers_start(cxw_worker_t *w, char *errstr, size_t errstr_size);

/** Stops the timer, frees the reader and the table; before the loop goes. */
void worker_peers_stop(cxw_worker_t *w);

/** After a rebalance: this replica's partitions changed; reports them and
 *  feeds the new effective share to the budget. */
void worker_share_update(cxw_worker_t *w);

/** Every loop round: reads the reports that arrived, notes this replica's
 *  demand (reporting a flip at once), updates the share if anything
 *  changed. @returns 1 if reports are left to read (do not wait). */
int worker_peers_round(cxw_worker_t *w);

/**
 * @brief CXone answered 429 to a request of class c sent at sent_ms (a
 *        Retry-After of retry_after_ms, < 0 if none): tells the budget
 *        and, if that began a trip, the other replicas.
 */
void worker_budget_429(cxw_worker_t *w, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t sent_ms);

#endif
