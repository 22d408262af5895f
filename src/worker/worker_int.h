/* worker_int.h: one replica's state and the functions its files share,
 * private to src/worker/. The files, from the bottom up: each calls only
 * files listed before it, none calls back up.
 *   jobs.c      a job's allocation and cost, partitions, ready queues,
 *               keys held in the dispatchers, backpressure
 *   records.c   outcome, DLQ copy and audit events, produced until acked;
 *               then the offset is done (exactly-once: held in offset
 *               order, produced into the transaction)
 *   admin.c     metrics, health, readiness (the admin listener)
 *   peers.c     budget reports between replicas, this replica's share
 *   discover.c  where CXone is: the login request, the contact target, the
 *               token endpoint and API hosts discovered from the issuer
 *   calls.c     the access token, starting a call, retry or fail
 *   entries.c   the address-book target's entries, bodies, Idempotency-Keys
 *   batches.c   the address-book target: batches of updates, bisection
 *   contacts.c  the contact-update path: decode, queue, pump, answer
 *   schedules.c the schedule-import path: submit, poll, webhook
 *   transactions.c  exactly-once: the transaction's commits and aborts
 *   consume.c   messages in; partitions assigned and revoked
 *   run.c       set up, the loop round, stop, tear down
 */
#ifndef CXONE_WORKER_INT_H
#define CXONE_WORKER_INT_H

#include "cxone/io/admin.h"
#include "cxone/flow/batch.h"
#include "cxone/requests/addressbook.h"
#include "cxone/flow/breaker.h"
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
#include "cxone/flow/txn.h"
#include "cxone/requests/schedules.h"
#include "cxone/requests/target.h"
#include "cxone/io/discovery.h"
#include "cxone/io/token.h"
#include "worker.h"

#define ERROR_MAX           1024
#define CONSUME_BATCH       512  /* messages taken per loop round at most */
#define REPRODUCE_DELAY_MS  1000 /* after a failed delivery */
#define STATS_INTERVAL_MS   10000
#define REVOKE_DRAIN_MS     5000 /* at most, to finish calls in flight on revoke */
#define TXN_REOPEN_DELAY_MS 100  /* exactly-once: a transaction could not begin */

/* A partition as seen by this replica. gen changes on every assignment so
 * that a job from an earlier assignment never marks an offset of a later one. */
typedef struct part_s {
        struct part_s *next;
        char *topic;
        int32_t partition;
        uint64_t gen;
        int assigned;
        int revoking; /* being revoked: its queued work is dropped */
        /* exactly-once: jobs decided, waiting for the ones before them (by
         * offset, records.c) */
        struct job_s *held;
        /* exactly-once: the done prefix reached while the transaction
         * drained (flow/txn.h), released after its commit; -1 none */
        int64_t pending;
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
        REC_DROPPED, /* Kafka refused it for good (too large, invalid): never */
} rec_state_t;

typedef enum { JOB_CONTACT = 0, JOB_SCHEDULE } job_kind_t;

/* Which discovery document is being fetched (discover.c). */
typedef enum { DISC_OPENID = 0, DISC_HOSTS } disc_kind_t;

/* A schedule import's own state (schedules.c). */
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
        size_t orig_len;             /* the message's value; > len when not kept */
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
        int probe;    /* its call went out as the probe of an outage */
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
        int held;     /* exactly-once: decided, in its partition's held list */
        struct job_s *held_next;
} job_t;

struct cxw_worker_s {
        const cxw_config_t *cfg;
        cxw_loop_t *loop;
        cxw_http_t *http;
        cxw_kafka_t *kafka;
        cxw_token_t *token;
        cxw_budget_t *budget;
        cxw_breaker_t breaker; /* CXone down: hold calls, probe (calls.c) */
        cxw_dispatch_t *dispatch;
        cxw_offsets_t *offsets;
        cxw_txn_t *txn;        /* kafka.exactly_once: the transactions; else NULL */
        cxw_timer_t txn_timer; /* the open transaction is due */
        part_t *parts;
        job_t *jobs;
        size_t njobs;
        int64_t bytes;       /* what the jobs cost in memory (job_cost) */
        size_t max_record;   /* the producer's message.max.bytes */
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
        char *api_base;   /* cxone.base_url (or the discovered api_endpoint) without
                             a trailing slash, plus cxone.admin_prefix; NULL until
                             discovered */
        /* where CXone is (discover.c) */
        cxw_contact_target_t *target; /* the request template of contact updates */
        char *dfo_base;               /* the DFO base; NULL until known */
        int dfo_needed;               /* the target goes to the DFO base */
        char *issuer;                 /* cxone.issuer_url, or NULL: nothing to discover */
        cxw_disc_http_t disc_http;
        int disc_token; /* the token endpoint is discovered (token_url empty) */
        int disc_hosts; /* the API or DFO base is discovered */
        int disc_in_flight;
        disc_kind_t disc_kind;
        int disc_attempt; /* failures in a row, for the backoff */
        int64_t disc_retry_at;
        cxw_timer_t disc_timer;
        char disc_error[512]; /* why the last discovery failed; "" after a success */
        char tenant_id[CXW_TENANT_ID_SIZE];
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
        /* refused webhooks, logged at most once per WEBHOOK_LOG_INTERVAL_MS
         * (schedules.c): an unauthenticated caller cannot flood the log */
        cxw_timer_t webhook_log_timer;
        int webhook_log_armed;
        int64_t webhook_logged_at; /* 0 = never */
        uint64_t webhook_refused_unlogged;
        char webhook_refused_last[96]; /* the last refusal's reason */
        /* the address-book target (batches.c); unused by the others */
        cxw_batcher_t *batcher;      /* updates popped from dispatch, not sent */
        struct abatch_s *abatches;   /* batches sent, some entry not final */
        cxw_ab_map_t ab_map;         /* message field -> entry field */
        char *ab_path;               /* /address-books/{id}/dynamic-entries?... */
        uint64_t ab_seq;             /* batches made, for their Idempotency-Keys */
        uint64_t ab_requests;        /* PUTs sent */
        uint64_t ab_entries;         /* entries they carried */
        uint64_t ab_bisect_requests; /* of the PUTs, first sends of split halves */
        uint64_t ab_batches;         /* batches taken */
        /* budget lending between replicas (peers.c) */
        cxw_peers_t *peers;
        cxw_kafka_reader_t *peers_reader; /* NULL: no lending */
        cxw_timer_t peers_timer;
        int64_t reader_retry_at;
        int shared_trips;  /**< the budget topic is read: trips go both ways */
        int peers_changed; /* a report arrived or the demand flipped */
        int peers_more;    /* reports left to read: do not wait */
        int share_mine, share_total;
        double share_applied; /* the share last fed to the budget */
        /* budget reports ignored, by cxw_peers_verdict_t (0: invalid) */
        uint64_t reports_refused[CXW_PEERS__VERDICT_CNT];
};

/* run.c */

/** One round of the loop, as cxw_worker_run() makes it: waits for events at
 *  most wait_ms (0 while a backlog or budget reports wait), runs the calls
 *  and Kafka, consumes unless stopping, starts what may start, exchanges
 *  budget reports. A failed loop or a fatal Kafka error sets w->fatal; the
 *  caller checks it and w->stopping. */
void worker_round(cxw_worker_t *w, int wait_ms);

/* jobs.c */

/** The partition topic/partition as this replica sees it, made on first use;
 *  NULL when out of memory. */
part_t *worker_part_get(cxw_worker_t *w, const char *topic, int32_t partition);
/** 1 when job's partition was revoked or reassigned since it was consumed. */
int worker_job_stale(const job_t *job);
/** A job holding copies of rkm's key, value and headers, in the job list. */
job_t *worker_job_new(cxw_worker_t *w, const rd_kafka_message_t *rkm, part_t *part);
/** Takes job out of every list and frees it (not its key: see below). */
void worker_job_free(job_t *job);
/** Brings job->bytes and the worker's total up to date. */
void worker_job_account(job_t *job);
/** Puts job at the back of its kind's retry-ready queue. */
void worker_ready_push(cxw_worker_t *w, job_t *job);
job_t *worker_ready_pop(jobq_t *q);
/** Removes the jobs for which pred holds from a retry-ready queue. */
void worker_ready_remove_if(jobq_t *q, int (*pred)(job_t *), void (*removed)(job_t *));
/** Releases the key job holds in its dispatcher, if it holds one. */
void worker_release_key(job_t *job);
/** Pauses consumption when the jobs fill the buffer, resumes below it. */
void worker_check_backpressure(cxw_worker_t *w);

/* records.c */

/** Decides job's outcome (error: printf-style, NULL on success), releases
 *  its key and produces its records. */
void worker_job_finish(job_t *job, cxw_outcome_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Produces the records of job that are due (again on a timer if Kafka's
 *  queue is full). */
void worker_produce_records(job_t *job);
/** Kafka's delivery report for one record (the kafka hook). */
void worker_on_delivered(void *opaque, const rd_kafka_message_t *rkm);
/** Exactly-once: frees the held jobs of part (their partition goes, or the
 *  transaction was aborted): they are done again. */
void worker_drop_held(cxw_worker_t *w, part_t *part);
/** Exactly-once: releases into the open transaction what the partitions
 *  reached while the last one drained (records.c). */
void worker_release_pending(cxw_worker_t *w);
/** Exactly-once: 1 while a released job's record waits to be queued (a
 *  commit now would leave it out of the transaction). */
int worker_txn_blocked(const cxw_worker_t *w);
/** A log line about one request, with its topic, partition, offset, key and
 *  last HTTP status. */
void worker_log_job(const job_t *job, cxw_log_level_t level, const char *component,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* discover.c */

/** Builds the login request (cxone.auth.*), the contact target and the
 *  bases the config gives; notes what is to be discovered. @returns 0 or
 *  -1 with errstr. */
int worker_discover_init(cxw_worker_t *w, char *errstr, size_t errstr_size);
/** Frees what worker_discover_init() made; before the loop goes. */
void worker_discover_free(cxw_worker_t *w);
/** Starts the next discovery fetch that is due (the token endpoint, then,
 *  once the tenant is known, the API hosts), unless one is under way or
 *  its backoff runs (a timer then calls it again). */
void worker_discover_step(cxw_worker_t *w);
/** The token endpoint failed (why): a discovered one is discovered again. */
void worker_discover_token_lost(cxw_worker_t *w, const char *why);

/** Are the token endpoint and every base the contact target needs known? */
static inline int worker_endpoints_known(const cxw_worker_t *w)
{
        return w->token_url && w->api_base && (!w->dfo_needed || w->dfo_base);
}

/* calls.c */

/** Fetches a token unless one is fresh or a fetch is under way; arms the
 *  refresh timer. */
void worker_ensure_token(cxw_worker_t *w);
/** Starts a call with the access token (req->authorization is set here and
 *  wiped once curl has its copy); cb(opaque) gets the answer. @returns 0 or
 *  -1 (out of memory). */
int worker_http_call(cxw_worker_t *w, cxw_http_request_t *req, const char *token,
                     cxw_http_done_cb *cb, void *opaque);
/* Starts a call of job with the access token: the Authorization line is
 * built here and wiped once curl has its copy; on success the job is in
 * flight under that token's generation, and the call counts as an attempt
 * when attempt is set (updates and submissions; not job polls). */
int worker_start_call(job_t *job, cxw_http_request_t *req, const char *token,
                      uint64_t gen, cxw_http_done_cb *cb, int attempt);
/** A call of job got an answer other than 2xx (or none), of class cls,
 *  for budget class c: retry, pause, or end the job. */
void worker_call_failed(job_t *job, const cxw_http_response_t *r, cxw_result_class_t cls,
                        cxw_budget_class_t c);
/** Retries job after delay_ms if its retry budget allows (counting it in
 *  *reason); else fails it. */
void worker_retry_or_fail(job_t *job, int64_t delay_ms, const char *why,
                          uint64_t *reason);
/** May a call of budget class c start now (the token, an outage, the
 *  budget)? @returns the access token (its generation in *gen), or NULL:
 *  then the fetch of a token is under way, or timer t is armed (cb(w)) for
 *  when the outage or the budget allows one. */
const char *worker_call_gate(cxw_worker_t *w, cxw_budget_class_t c, int64_t now,
                             uint64_t *gen, cxw_timer_t *t, cxw_timer_cb *cb);
/** CXone answered a call (anything but 5xx or no answer): an outage ends. */
void worker_cxone_answered(cxw_worker_t *w);
/** A job's backoff timer: the job is ready again. */
void worker_retry_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque);
/** Short, printable description of an error answer. */
void worker_describe_answer(const cxw_http_response_t *r, char *out, size_t size);
/* The URL of the API base + path with "{name}" replaced by value; malloc'd. */
char *worker_url(const cxw_worker_t *w, const char *path, const char *name,
                 const char *value);

/* entries.c */

/** Checks that a decoded update makes a valid entry (its fields mapped);
 *  @returns 0 or -1 with errstr naming the problem. */
int worker_entry_check(cxw_worker_t *w, const job_t *job, char *errstr,
                       size_t errstr_size);
/** The address-book body of the n updates of jobs, malloc'd (its length in
 *  *len), or NULL with errstr and *bad = the index of the update at fault,
 *  or (size_t)-1 when the body as a whole cannot be made (size, memory). */
char *worker_entries_body(cxw_worker_t *w, job_t *const *jobs, size_t n, size_t *len,
                          size_t *bad, char *errstr, size_t errstr_size);
/** The "Idempotency-Key: ..." line of a request carrying jobs[0..n), entries
 *  [first, first + n) of batch seq: the same for the same entries sent
 *  again, another for any other run (a hash of their source offsets). */
void worker_entries_idem(job_t *const *jobs, size_t n, uint64_t seq, size_t first,
                         char *out, size_t size);

/* batches.c */

/** With a batched target (address-book): the map, the path and the batch
 *  builder; nothing otherwise. @returns 0 or -1 with errstr. */
int worker_batches_init(cxw_worker_t *w, char *errstr, size_t errstr_size);
/** Frees the batches and the builder (not their jobs); after the last round. */
void worker_batches_free(cxw_worker_t *w);
/** Moves ready updates into the builder and sends the batches and the
 *  segments that are due, as the in-flight limit, token and budget allow. */
void worker_batches_pump(cxw_worker_t *w);
/** Drops the updates for which pred holds that wait in the builder, and
 *  the unfinished entries of batches with nothing in flight once all of
 *  them satisfy pred (not started again: the next owner redoes them). */
void worker_batches_hand_over(cxw_worker_t *w, int (*pred)(job_t *));

/* contacts.c */

/** Decodes a consumed update and queues it under its contactId. */
void worker_contact_on_message(cxw_worker_t *w, job_t *job);
/** Starts contact calls as the in-flight limit, token and budget allow. */
void worker_contacts_pump(cxw_worker_t *w);

/* schedules.c */

/** Decodes, validates and queues a consumed import (or finishes it). */
void worker_sched_on_message(cxw_worker_t *w, job_t *job);
/** Starts submissions as the concurrency cap, token and budget allow. */
void worker_sched_pump(cxw_worker_t *w);
/** The answer to POST /webhooks/cxone (the admin hook). */
int worker_sched_webhook(void *opaque, const cxw_admin_request_t *req, const char *body,
                         size_t len, char *answer, size_t answer_size);

/* transactions.c */

/** Exactly-once: creates w->txn when kafka.exactly_once is on. @returns 0 or
 *  -1 with errstr. */
int worker_txn_start(cxw_worker_t *w, char *errstr, size_t errstr_size);
/** Commits the open transaction when due (force: now, or abort it), and
 *  arms the timer for the next due time. On a fatal error sets w->fatal.
 *  @returns what the scheduler did (CXW_TXN_ABORTED: the caller rewinds
 *  with worker_rewind()). CXW_TXN_IDLE without exactly-once. */
cxw_txn_result_t worker_txn_tick(cxw_worker_t *w, int force);

/* consume.c */

/** Takes what the consumer queue holds (a bounded batch) into jobs. */
void worker_consume(cxw_worker_t *w);
/** The loop's Kafka wakeup: serve Kafka, consume unless rebalancing. */
void worker_on_wakeup(cxw_loop_t *loop, int fd, void *opaque);
/** Drops the jobs that wait (queued, ready, in backoff: not started) of
 *  the partitions being revoked, or every one once the replica stops; their
 *  offsets stay uncommitted for the partition's next owner. @returns how
 *  many were dropped. */
size_t worker_hand_over_waiting(cxw_worker_t *w);
/** Exactly-once, after an abort: every assigned partition starts a new
 *  generation (its jobs become stale), its waiting and held work is
 *  dropped, and the consumer goes back to the committed offsets. */
void worker_rewind(cxw_worker_t *w);
/** Rebalance hooks. */
void worker_on_assigned(void *opaque, const rd_kafka_topic_partition_list_t *parts);
void worker_on_revoked(void *opaque, const rd_kafka_topic_partition_list_t *parts);

/* admin.c */

/** Registers the metrics and, when worker.admin_listen is set, starts the
 *  admin listener on the loop, with webhook as its webhook route. @returns
 *  0 or -1 with errstr. */
int worker_admin_start(cxw_worker_t *w, cxw_admin_webhook_cb *webhook, char *errstr,
                       size_t errstr_size);

/** Frees the listener and the registry; after the last loop round. */
void worker_admin_stop(cxw_worker_t *w);

/** Counts one finished call to CXone: endpoint ("contacts", "token"), HTTP
 *  status (0 = no answer) and its duration. */
void worker_metrics_call(cxw_worker_t *w, const char *endpoint, long status,
                         int64_t elapsed_ms);

/** Counts one consumed message of topic. */
void worker_metrics_consumed(cxw_worker_t *w, const char *topic);

/* peers.c */

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
