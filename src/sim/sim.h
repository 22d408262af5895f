/**
 * @file sim.h
 * @brief cxone-sim internals: options, shared state, the latency timer and the
 *        HTTP front end. Not part of the cxw library; only src/sim/ uses it.
 *
 * Data path of one request: sim_http.c (MHD access handler, dispatch table;
 * the handlers live in the files sim_req.h lists) → faults decided up front (drop, rate
 * limit, error) → handler → the answer is queued at once or parked on the latency timer
 * (sim_delay.c), which resumes the suspended connection when its time comes. All state
 * the handlers share lives in cxw_sim_t (sim_state.c): atomics for counters and runtime
 * knobs, striped locks for contacts and idempotency keys, a read-write lock for tokens.
 */
#ifndef CXONE_SIM_H
#define CXONE_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cxone/base/hmap.h"
#include "cxone/io/httpd.h"

/** Longest contact id accepted (docs/messages.md: 1-128 chars of [A-Za-z0-9._-]). */
#define CXW_SIM_ID_MAX 128
/** Longest X-Request-Id / Idempotency-Key header kept. */
#define CXW_SIM_REQKEY_MAX 256
/** Longest client id / secret accepted on the command line and from clients. */
#define CXW_SIM_CRED_MAX 256
/** Most allowed fields (--allowed-fields). */
#define CXW_SIM_FIELDS_MAX 64
/** Body limits. */
#define CXW_SIM_TOKEN_BODY_MAX  (8 * 1024)
#define CXW_SIM_PATCH_BODY_MAX  (64 * 1024)
#define CXW_SIM_CONFIG_BODY_MAX (8 * 1024)
#define CXW_SIM_IMPORT_BODY_MAX (4 * 1024 * 1024)
#define CXW_SIM_STRIPES         64
#define CXW_SIM_STATUS_MAX      600

/** Longest custom-field value accepted, in characters (cxone profile). */
#define CXW_SIM_FIELD_VALUE_MAX 1024
/** Body limit of a custom-fields PUT. */
#define CXW_SIM_FIELDS_BODY_MAX (512 * 1024)
/** Longest addressBookId (--address-books), as the worker accepts them. */
#define CXW_SIM_BOOK_ID_MAX 64
/** Most entries in one address-book PUT (more: 413). */
#define CXW_SIM_AB_ENTRIES_MAX 1000
/** Body limit of an address-book PUT. */
#define CXW_SIM_AB_BODY_MAX (4 * 1024 * 1024)
/** Longest --admin-prefix. */
#define CXW_SIM_ADMIN_PREFIX_MAX 256
/** Longest URL kept (--webhook-url, --dfo-base-url, the sim's base URL). */
#define CXW_SIM_URL_MAX 1024

/** Which API shape the sim serves. */
typedef enum {
        CXW_SIM_PROFILE_SEED = 0, /**< the seed's shape, the default */
        CXW_SIM_PROFILE_CXONE,    /**< the real platform's: discovery, DFO */
} cxw_sim_profile_t;

/** How a 429 tells the client when to come back. */
typedef enum {
        CXW_SIM_RETRY_SECONDS = 0,
        CXW_SIM_RETRY_DATE,
        CXW_SIM_RETRY_NONE,
} cxw_sim_retry_mode_t;

/** Command-line options; read-only once the server runs. */
typedef struct cxw_sim_opts {
        char host[64]; /**< as given ("localhost" or an IPv4 address) */
        char addr[64]; /**< the IPv4 address bound */
        uint16_t port; /**< 0 = pick a free one */
        char client_id[CXW_SIM_CRED_MAX + 1];
        char client_secret[CXW_SIM_CRED_MAX + 1];
        int64_t token_ttl_s;
        double token_fail_rate;
        double rate_limit; /**< requests/s, 0 = off */
        int64_t burst;
        cxw_sim_retry_mode_t retry_after;
        int64_t latency_ms;
        int64_t latency_jitter_ms;
        double error_rate;
        double drop_rate;
        const char *contacts_file; /**< NULL = every id exists */
        char unknown_prefix[CXW_SIM_ID_MAX + 1];
        bool email_validation;
        char *allowed[CXW_SIM_FIELDS_MAX]; /**< owned by main() */
        size_t n_allowed;
        int threads;
        uint64_t seed; /**< 0 = from the clock */
        int64_t job_duration_ms;
        int64_t job_jitter_ms;
        double job_fail_rate;
        char webhook_url[1025]; /**< "" = no webhooks */
        char webhook_secret[CXW_SIM_CRED_MAX + 1];
        const char *tls_cert; /**< --tls-cert FILE; NULL = plain HTTP */
        const char *tls_key;  /**< --tls-key FILE */

        /* The cxone profile (--profile cxone). */
        cxw_sim_profile_t profile;
        char tenant_id[CXW_SIM_ID_MAX + 1];
        char area[64];
        char domain[256];
        char dfo_base_url[CXW_SIM_URL_MAX + 1]; /**< "" = the sim's own base URL */
        char access_key_id[CXW_SIM_CRED_MAX + 1];
        char access_key_secret[CXW_SIM_CRED_MAX + 1];
        char *idents[CXW_SIM_FIELDS_MAX]; /**< --custom-fields; owned by main() */
        size_t n_idents;
        char admin_prefix[CXW_SIM_ADMIN_PREFIX_MAX + 1]; /**< --admin-prefix */
        char *books[CXW_SIM_FIELDS_MAX]; /**< --address-books; owned by main() */
        size_t n_books;
        int64_t latency_per_entry_ms; /**< --latency-per-entry-ms */
} cxw_sim_opts_t;

/** A string-keyed hash table (on cxw_hmap). Not thread-safe; callers lock. */
typedef struct cxw_sim_map cxw_sim_map_t;

/** One stored contact (value in the contacts map). */
typedef struct cxw_sim_contact {
        json_t *fields; /**< object of strings; owned */
        uint64_t updates;
        char last_request_key[CXW_SIM_REQKEY_MAX + 1];
} cxw_sim_contact_t;

/** A lock and the part of a map it guards. */
typedef struct cxw_sim_stripe {
        pthread_mutex_t lock;
        cxw_sim_map_t *map;
} cxw_sim_stripe_t;

typedef struct cxw_sim_delay cxw_sim_delay_t;
typedef struct cxw_sim_jobs cxw_sim_jobs_t;
typedef struct cxw_sim_webhook cxw_sim_webhook_t;

/** Everything the request handlers share. */
typedef struct cxw_sim {
        cxw_sim_opts_t *opts; /**< not owned */

        /* Runtime knobs (POST /_sim/config changes them). */
        _Atomic double error_rate;
        _Atomic double drop_rate;
        _Atomic double token_fail_rate;
        _Atomic int64_t latency_ms;
        _Atomic int64_t job_duration_ms;
        _Atomic double job_fail_rate;

        /* Token bucket over /api/. */
        pthread_mutex_t rl_lock;
        double rl_rate;
        int64_t rl_burst;
        double rl_tokens;
        int64_t rl_last_ms;

        /* Which stripe an id's lock and map are: its hash under this key. */
        cxw_hmap_key_t stripe_key;

        /* Random numbers: a counter hashed with the seed, lock-free. */
        uint64_t seed;
        atomic_uint_fast64_t rng_counter;

        /* Statistics. */
        atomic_uint_fast64_t by_status[CXW_SIM_STATUS_MAX];
        atomic_uint_fast64_t requests_total;
        atomic_uint_fast64_t dropped;
        atomic_uint_fast64_t rate_limited;
        atomic_int_fast64_t in_flight;
        atomic_int_fast64_t max_concurrency;
        atomic_uint_fast64_t token_fetches;
        atomic_uint_fast64_t token_rejects;
        atomic_uint_fast64_t contacts_applied;
        atomic_uint_fast64_t applied_duplicates;
        atomic_uint_fast64_t bodies_with_contact_id;
        atomic_uint_fast64_t imports_submitted;
        atomic_uint_fast64_t imports_deduplicated;
        atomic_uint_fast64_t jobs_completed;
        atomic_uint_fast64_t jobs_failed;
        atomic_uint_fast64_t job_polls;
        atomic_uint_fast64_t webhooks_sent;
        atomic_uint_fast64_t webhooks_failed;
        atomic_uint_fast64_t ab_requests; /**< address-book PUTs handled */
        atomic_uint_fast64_t ab_entries;  /**< address-book entries stored */
        atomic_uint_fast64_t ab_rejected; /**< address-book PUTs answered 4xx */

        /* Data. */
        cxw_sim_stripe_t contacts[CXW_SIM_STRIPES];
        cxw_sim_stripe_t reqkeys[CXW_SIM_STRIPES];
        pthread_rwlock_t tokens_lock;
        cxw_sim_map_t *tokens; /**< token → int64_t expiry (monotonic ms) */
        char issued[16][64];   /**< the last tokens issued, for leak tests */
        unsigned issued_n;     /**< tokens issued so far (ring position) */
        int64_t tokens_swept_ms;
        cxw_sim_map_t *known; /**< --contacts-file ids, read-only; NULL = all */

        /** The daemon, for its connection counts; NULL until it runs (a
         *  request may come before cxw_sim_http_start() returns). */
        _Atomic(cxw_httpd_t *) httpd;
        /** "http(s)://HOST:PORT", written once the port is known, before
         *  base_ready is set; readers check base_ready first. */
        char base_url[128];
        atomic_bool base_ready;
        unsigned char jwt_key[32]; /**< signs id_tokens; random per process */

        cxw_sim_delay_t *delay;
        cxw_sim_jobs_t *jobs;       /**< schedule-import jobs (sim_jobs.c) */
        cxw_sim_webhook_t *webhook; /**< NULL without --webhook-url */
} cxw_sim_t;

/* ---- the command line (sim_options.c) ---- */

/**
 * @brief Reads the command line into o (defaults first).
 * @returns 0 to run, 1 when --help/--version was answered (printed), -1 on
 *          a bad flag or value, with the reason in errstr (never a secret).
 * @remark Free o's lists with cxw_sim_opts_free(), whatever it returned.
 */
int cxw_sim_opts_parse(cxw_sim_opts_t *o, int argc, char **argv, char *errstr,
                       size_t errstr_size);

/**
 * @brief Checks --admin-prefix and --address-books (sim_cxone_addressbook.c).
 * @returns 0, or -1 with the reason in errstr.
 */
int cxw_sim_ab_opts_check(const cxw_sim_opts_t *o, char *errstr, size_t errstr_size);

/** @brief Frees the lists held by o (not o itself). */
void cxw_sim_opts_free(cxw_sim_opts_t *o);

/* ---- map (sim_map.c) ---- */

/** @brief A new empty map. @returns NULL when out of memory. */
cxw_sim_map_t *cxw_sim_map_new(void);

/**
 * @brief Frees the map and its keys; free_val (may be NULL) frees each value.
 * @remark NULL-safe.
 */
void cxw_sim_map_destroy(cxw_sim_map_t *m, void (*free_val)(void *));

/** @brief The value stored under key, or NULL. */
void *cxw_sim_map_get(const cxw_sim_map_t *m, const char *key, size_t klen);

/**
 * @brief Stores val under key (copied). The key must not be present.
 * @returns 0, or -1 when out of memory (nothing stored).
 */
int cxw_sim_map_put(cxw_sim_map_t *m, const char *key, size_t klen, void *val);

/** @brief Removes every entry for which pred(val, ctx) is true. */
void cxw_sim_map_remove_if(cxw_sim_map_t *m, bool (*pred)(void *val, void *ctx),
                           void *ctx, void (*free_val)(void *));

/**
 * @brief Removes the entry stored under key, if any (the value is not freed).
 * @returns the value removed, or NULL.
 */
void *cxw_sim_map_remove(cxw_sim_map_t *m, const char *key, size_t klen);

/** @brief Number of entries. */
size_t cxw_sim_map_count(const cxw_sim_map_t *m);

/* ---- state (sim_state.c) ---- */

/**
 * @brief Creates the shared state from the options (loads --contacts-file).
 * @returns NULL with a message in errstr.
 * @remark opts must outlive the state.
 */
cxw_sim_t *cxw_sim_new(cxw_sim_opts_t *opts, char *errstr, size_t errstr_size);

/** @brief Frees the state. @remark NULL-safe; the server must be stopped. */
void cxw_sim_destroy(cxw_sim_t *sim);

/** @brief A uniform random number in [0, 1). @locality any thread. */
double cxw_sim_rand01(cxw_sim_t *sim);

/** @brief A uniform random 64-bit number. @locality any thread. */
uint64_t cxw_sim_rand64(cxw_sim_t *sim);

/**
 * @brief Takes one token from the /api/ bucket.
 * @returns true if allowed; false if limited, with the wait in *wait_ms.
 */
bool cxw_sim_rate_take(cxw_sim_t *sim, int64_t *wait_ms);

/** @brief Changes the bucket's rate (<0 = keep) and burst (<1 = keep). */
void cxw_sim_rate_set(cxw_sim_t *sim, double rate, int64_t burst);

/** @brief Reads the bucket's rate and burst. */
void cxw_sim_rate_get(cxw_sim_t *sim, double *rate, int64_t *burst);

/**
 * @brief Issues a new token valid for --token-ttl seconds into out
 *        (at least 65 bytes).
 * @returns 0, or -1 (no randomness or no memory).
 */
int cxw_sim_token_issue(cxw_sim_t *sim, char *out, size_t size);

/** @brief Whether token is one we issued and has not expired. */
bool cxw_sim_token_valid(cxw_sim_t *sim, const char *token);

/** @brief Whether id is 1-128 chars of [A-Za-z0-9._-]. */
bool cxw_sim_id_valid(const char *id);

/** @brief Whether contact id exists (--contacts-file, --unknown-contact-prefix). */
bool cxw_sim_contact_exists(cxw_sim_t *sim, const char *id);

/**
 * @brief Merges fields (an object of strings) into the contact, counts the
 *        update, records reqkey (may be NULL) and whether it was seen before.
 * @returns the stored contact as a new JSON object {"contactId", fields...},
 *          or NULL when out of memory.
 */
json_t *cxw_sim_contact_apply(cxw_sim_t *sim, const char *id, json_t *fields,
                              const char *reqkey);

/** @brief {"contactId","fields","updates","lastRequestId"} or NULL if unknown. */
json_t *cxw_sim_contact_get(cxw_sim_t *sim, const char *id);

/** @brief Counts a status in the per-status statistics. */
void cxw_sim_count_status(cxw_sim_t *sim, unsigned status);

/** @brief Counts an /api/ request starting (in flight, max concurrency). */
void cxw_sim_api_begin(cxw_sim_t *sim);

/** @brief Counts an /api/ request ending. */
void cxw_sim_api_end(cxw_sim_t *sim);

/** @brief The statistics as JSON (GET /_sim/stats). */
json_t *cxw_sim_stats_json(cxw_sim_t *sim);

/**
 * @brief {"issued": [the last 16 tokens issued]}: lets a test look for the
 *        access token in what a client wrote. A simulator's tokens are
 *        worthless outside it; never add this to anything real.
 */
json_t *cxw_sim_tokens_json(cxw_sim_t *sim);

/**
 * @brief Initialises a timer thread's mutex and its condition variable on
 *        CLOCK_MONOTONIC (its timed waits are against cxw_now_ms()).
 */
void cxw_sim_lock_init(pthread_mutex_t *lock, pthread_cond_t *cond);

/** @brief Clears contacts, idempotency keys, schedule-import jobs and statistics. */
void cxw_sim_reset(cxw_sim_t *sim);

/* ---- latency timer (sim_delay.c) ---- */

/**
 * @brief Starts the timer thread that resumes suspended connections.
 * @returns NULL with a message in errstr.
 */
cxw_sim_delay_t *cxw_sim_delay_start(char *errstr, size_t errstr_size);

/**
 * @brief Resumes conn (already suspended by the caller) at wake_ms
 *        (cxw_now_ms clock). After cxw_sim_delay_stop, or if out of memory,
 *        resumes it at once.
 * @locality any thread (the MHD access handler).
 */
void cxw_sim_delay_add(cxw_sim_delay_t *d, struct MHD_Connection *conn, int64_t wake_ms);

/** @brief Resumes every parked connection now and stops the thread. */
void cxw_sim_delay_stop(cxw_sim_delay_t *d);

/** @brief Frees the timer. @remark NULL-safe; stops it first if needed. */
void cxw_sim_delay_destroy(cxw_sim_delay_t *d);

/* ---- schedule-import jobs (sim_jobs.c; inside: sim_jobs_int.h) ---- */

/** What cxw_sim_jobs_submit did. */
typedef enum {
        CXW_SIM_JOB_CREATED = 0, /**< a new job */
        CXW_SIM_JOB_DUPLICATE,   /**< the Idempotency-Key named an existing job */
        CXW_SIM_JOB_FULL,        /**< no room: every stored job is in progress */
        CXW_SIM_JOB_NOMEM,       /**< out of memory */
} cxw_sim_job_submit_t;

/**
 * @brief Starts the job store and its timer thread, which finishes each job
 *        when its time comes (and hands the webhook to sim->webhook).
 * @returns NULL with a message in errstr.
 * @remark sim->webhook must be set (or stay NULL) before the first submit.
 */
cxw_sim_jobs_t *cxw_sim_jobs_start(cxw_sim_t *sim, char *errstr, size_t errstr_size);

/**
 * @brief Creates a job for a schedule import body (a JSON object with a
 *        scheduleEntries array; the caller checked that much), or finds the
 *        one created earlier under idem_key (may be NULL).
 * @param job_id receives the job id (at least 40 bytes).
 * @param status receives the job's status now ("IN_PROGRESS", ...), static.
 * @remark body is only read. @locality any thread.
 */
cxw_sim_job_submit_t cxw_sim_jobs_submit(cxw_sim_jobs_t *j, json_t *body,
                                         const char *idem_key, char *job_id,
                                         size_t job_id_size, const char **status);

/**
 * @brief The job as the API shows it ({"jobId","status","createdAt",
 *        "finishedAt"?,"entriesImported"?,"error"?}), or with internal set, as
 *        GET /_sim/jobs shows it (plus the request's details).
 * @returns a new object, or NULL if the job is unknown (or out of memory).
 * @remark A job whose time has come is finished here if the timer thread has
 *         not got to it yet, so a poll never sees a stale IN_PROGRESS.
 */
json_t *cxw_sim_jobs_get(cxw_sim_jobs_t *j, const char *job_id, bool internal);

/** @brief Forgets every job and the schedules they imported. */
void cxw_sim_jobs_reset(cxw_sim_jobs_t *j);

/** @brief Number of jobs stored. */
size_t cxw_sim_jobs_count(cxw_sim_jobs_t *j);

/** @brief Stops the timer thread; jobs still running stay IN_PROGRESS. */
void cxw_sim_jobs_stop(cxw_sim_jobs_t *j);

/** @brief Frees the store. @remark NULL-safe; stops it first if needed. */
void cxw_sim_jobs_destroy(cxw_sim_jobs_t *j);

/* ---- signed webhooks (sim_webhook.c) ---- */

/**
 * @brief Checks a --webhook-url: http://127.0.0.1:PORT/path only.
 * @returns 0, or -1 with the reason in errstr.
 */
int cxw_sim_webhook_check_url(const char *url, char *errstr, size_t errstr_size);

/**
 * @brief Starts the delivery thread for opts->webhook_url / webhook_secret.
 * @returns NULL with a message in errstr.
 */
cxw_sim_webhook_t *cxw_sim_webhook_start(cxw_sim_t *sim, char *errstr,
                                         size_t errstr_size);

/**
 * @brief Queues the event for a finished job; never blocks on the network.
 *        A full queue counts the event in webhooksFailed.
 * @remark NULL-safe (no webhook configured). @locality any thread.
 */
void cxw_sim_webhook_post(cxw_sim_webhook_t *w, const char *job_id, const char *status);

/** @brief Stops the thread; events still queued are dropped (logged). */
void cxw_sim_webhook_stop(cxw_sim_webhook_t *w);

/** @brief Frees it. @remark NULL-safe; stops it first if needed. */
void cxw_sim_webhook_destroy(cxw_sim_webhook_t *w);

/* ---- HTTP front end (sim_http.c) ---- */

/**
 * @brief Starts the cxw_httpd daemon for sim on opts->addr:opts->port
 *        (HTTPS with opts->tls_cert and tls_key) and sets sim->httpd.
 * @returns the daemon (free with cxw_httpd_stop(), after clearing
 *          sim->httpd), or NULL with a message in errstr; *port_out gets
 *          the port actually bound.
 */
cxw_httpd_t *cxw_sim_http_start(cxw_sim_t *sim, uint16_t *port_out, char *errstr,
                                size_t errstr_size);

#endif
