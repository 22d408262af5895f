/* sim_jobs.c: cxone-sim's schedule-import jobs.
 *
 * POST /api/v2/wfm/schedules/import creates a job; it finishes
 * --job-duration-ms (plus jitter) later. Jobs wait in a min-heap of due
 * times. One timer thread sleeps until the earliest and finishes it, so a
 * webhook goes out on time even if nobody polls. A poll (cxw_sim_jobs_get)
 * first finishes every job already due, so it never sees a stale
 * IN_PROGRESS when the thread is a few milliseconds late; jobs always finish
 * in due order, whoever finishes them, and that order decides which import
 * is "earlier" for conflicts.
 *
 * Finishing an import stores its shifts in the schedule index
 * (sim_schedule_index.c), which decides conflicts; the request was read into
 * the job when it was submitted (sim_job_request.c).
 *
 * Memory is bounded: at most JOBS_MAX jobs and ENTRIES_MAX parsed entries
 * are held; to make room the oldest finished jobs are evicted, with their
 * idempotency keys and the shifts they imported. If only running jobs are
 * held, a new import is refused (503).
 *
 * One mutex guards everything here: imports are rare next to contact
 * PATCHes, and a poll is a map lookup.
 */
#include "sim_jobs_int.h"

#include "cxone/base/heap.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOBS_MAX    100000
#define ENTRIES_MAX 2000000
#define ID_LEN      CXW_SIM_JOB_ID_LEN

struct cxw_sim_jobs {
        cxw_sim_t *sim;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC */
        pthread_t thread;
        bool started;
        bool stopping;
        cxw_sim_map_t *by_id;  /* id → cxw_sim_job_t */
        cxw_sim_map_t *by_key; /* Idempotency-Key → cxw_sim_job_t */
        cxw_sim_map_t *agents; /* calendar '\0' agent → cxw_sim_agent_t */
        cxw_sim_job_t *oldest, *newest;
        size_t count;       /* jobs held */
        size_t entries;     /* parsed entries held over all jobs */
        cxw_heap_t running; /* of cxw_sim_job_t *, by (due_ms, seq) */
        uint64_t next_seq;
};

/* ---- heap of running jobs ---- */

static int job_cmp(const void *a, const void *b)
{
        const cxw_sim_job_t *x = *(cxw_sim_job_t *const *)a,
                            *y = *(cxw_sim_job_t *const *)b;

        if (x->due_ms != y->due_ms)
                return x->due_ms < y->due_ms ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The running job due first, or NULL. */
static cxw_sim_job_t *first_due(const cxw_sim_jobs_t *j)
{
        cxw_sim_job_t **top = cxw_heap_top(&j->running);

        return top ? *top : NULL;
}

static void finish_failed(cxw_sim_jobs_t *j, cxw_sim_job_t *jb, const char *code,
                          const char *msg)
{
        jb->status = ST_FAILED;
        jb->imported = 0;
        jb->err_code = code;
        jb->err_msg = strdup(msg ? msg : code);
        atomic_fetch_add(&j->sim->jobs_failed, 1);
}

static void finish(cxw_sim_jobs_t *j, cxw_sim_job_t *jb)
{
        char conflict[640];

        if (jb->bad) {
                finish_failed(j, jb, "VALIDATION_ERROR",
                              jb->invalid ? jb->invalid : "invalid request");
        } else if (jb->will_fail) {
                finish_failed(j, jb, "SIMULATED_FAILURE", "simulated job failure");
        } else if (cxw_sim_index_import(j->agents, jb, conflict, sizeof(conflict)) != 0) {
                finish_failed(j, jb, "INTERNAL_ERROR", "out of memory");
        } else if (conflict[0]) {
                finish_failed(j, jb, "SCHEDULE_CONFLICT", conflict);
        } else {
                jb->status = ST_COMPLETED;
                atomic_fetch_add(&j->sim->jobs_completed, 1);
        }
        CXW_DEBUG("sim", "job %s %s (%zu of %zu entries imported)", jb->id,
                  cxw_sim_job_status_names[jb->status], jb->imported,
                  jb->n_request_entries);
        cxw_sim_webhook_post(j->sim->webhook, jb->id,
                             cxw_sim_job_status_names[jb->status]);
}

/* Finishes every job due by now, in due order. Called with the lock held. */
static void advance(cxw_sim_jobs_t *j, int64_t now)
{
        cxw_sim_job_t *jb;

        while ((jb = first_due(j)) && jb->due_ms <= now) {
                cxw_heap_pop(&j->running, NULL);
                finish(j, jb);
        }
}

static void unlink_job(cxw_sim_jobs_t *j, cxw_sim_job_t *jb)
{
        if (jb->prev)
                jb->prev->next = jb->next;
        else
                j->oldest = jb->next;
        if (jb->next)
                jb->next->prev = jb->prev;
        else
                j->newest = jb->prev;
        jb->prev = jb->next = NULL;
}

/* Forgets a finished job, its key and the shifts it imported. */
static void evict(cxw_sim_jobs_t *j, cxw_sim_job_t *jb)
{
        if (jb->status == ST_COMPLETED)
                cxw_sim_index_forget(j->agents, jb);
        cxw_sim_map_remove(j->by_id, jb->id, strlen(jb->id));
        if (jb->idem_key)
                cxw_sim_map_remove(j->by_key, jb->idem_key, strlen(jb->idem_key));
        unlink_job(j, jb);
        j->count--;
        j->entries -= jb->n_entries;
        cxw_sim_job_free(jb);
}

/* Evicts the oldest finished jobs until one more job of n entries fits.
 * @returns false if it cannot be made to fit. */
static bool make_room(cxw_sim_jobs_t *j, size_t n)
{
        cxw_sim_job_t *jb = j->oldest;

        if (n > ENTRIES_MAX)
                return false;
        while (j->count >= JOBS_MAX || j->entries + n > ENTRIES_MAX) {
                while (jb && jb->status == ST_RUNNING)
                        jb = jb->next;
                if (!jb)
                        return false;
                {
                        cxw_sim_job_t *next = jb->next;
                        evict(j, jb);
                        jb = next;
                }
        }
        return true;
}

static void make_id(cxw_sim_t *sim, char *out)
{
        uint64_t a = cxw_sim_rand64(sim), b = cxw_sim_rand64(sim);

        snprintf(out, ID_LEN + 1, "job-%016llx%016llx", (unsigned long long)a,
                 (unsigned long long)b);
}

/* The job under idem_key, copied out. @returns true if there is one. */
static bool find_key(cxw_sim_jobs_t *j, const char *idem_key, char *job_id, size_t size,
                     const char **status)
{
        cxw_sim_job_t *jb;

        if (!idem_key)
                return false;
        jb = cxw_sim_map_get(j->by_key, idem_key, strlen(idem_key));
        if (!jb)
                return false;
        cxw_strlcpy(job_id, jb->id, size);
        *status = cxw_sim_job_status_names[jb->status];
        return true;
}

cxw_sim_job_submit_t cxw_sim_jobs_submit(cxw_sim_jobs_t *j, json_t *body,
                                         const char *idem_key, char *job_id,
                                         size_t job_id_size, const char **status)
{
        cxw_sim_t *sim = j->sim;
        int64_t jitter = sim->opts->job_jitter_ms;
        double fail = atomic_load(&sim->job_fail_rate);
        cxw_sim_job_submit_t rc = CXW_SIM_JOB_NOMEM;
        cxw_sim_job_t *jb;
        bool found;

        if (idem_key && !*idem_key)
                idem_key = NULL;
        pthread_mutex_lock(&j->lock);
        advance(j, cxw_now_ms());
        found = find_key(j, idem_key, job_id, job_id_size, status);
        pthread_mutex_unlock(&j->lock);
        if (found) {
                atomic_fetch_add(&sim->imports_deduplicated, 1);
                return CXW_SIM_JOB_DUPLICATE;
        }

        /* Parsed outside the lock: a 4 MiB body takes a while. */
        jb = calloc(1, sizeof(*jb));
        if (!jb)
                return CXW_SIM_JOB_NOMEM;
        if (cxw_sim_job_parse(jb, body) != 0)
                goto out;
        if (idem_key && !(jb->idem_key = strdup(idem_key)))
                goto out;
        jb->created_wall_ms = cxw_wall_ms();
        jb->duration_ms = atomic_load(&sim->job_duration_ms);
        if (jitter > 0)
                jb->duration_ms +=
                    (int64_t)(cxw_sim_rand64(sim) % (uint64_t)(jitter + 1));
        jb->due_ms = cxw_now_ms() + jb->duration_ms;
        jb->will_fail = fail > 0 && cxw_sim_rand01(sim) < fail;

        pthread_mutex_lock(&j->lock);
        /* Two requests with one new key may race here: the first one wins. */
        if (find_key(j, idem_key, job_id, job_id_size, status)) {
                pthread_mutex_unlock(&j->lock);
                atomic_fetch_add(&sim->imports_deduplicated, 1);
                rc = CXW_SIM_JOB_DUPLICATE;
                goto out;
        }
        if (!make_room(j, jb->n_entries)) {
                pthread_mutex_unlock(&j->lock);
                rc = CXW_SIM_JOB_FULL;
                goto out;
        }
        if (cxw_heap_reserve(&j->running, 1) != 0) {
                pthread_mutex_unlock(&j->lock);
                goto out;
        }
        do {
                make_id(sim, jb->id);
        } while (cxw_sim_map_get(j->by_id, jb->id, ID_LEN));
        if (cxw_sim_map_put(j->by_id, jb->id, ID_LEN, jb) != 0) {
                pthread_mutex_unlock(&j->lock);
                goto out;
        }
        if (jb->idem_key &&
            cxw_sim_map_put(j->by_key, jb->idem_key, strlen(jb->idem_key), jb) != 0) {
                cxw_sim_map_remove(j->by_id, jb->id, ID_LEN);
                pthread_mutex_unlock(&j->lock);
                goto out;
        }
        jb->seq = j->next_seq++;
        jb->prev = j->newest;
        if (j->newest)
                j->newest->next = jb;
        else
                j->oldest = jb;
        j->newest = jb;
        j->count++;
        j->entries += jb->n_entries;
        cxw_heap_push(&j->running, &jb); /* cannot fail: reserved above */
        if (first_due(j) == jb)
                pthread_cond_signal(&j->cond);
        cxw_strlcpy(job_id, jb->id, job_id_size);
        *status = cxw_sim_job_status_names[ST_RUNNING];
        pthread_mutex_unlock(&j->lock);
        atomic_fetch_add(&sim->imports_submitted, 1);
        CXW_DEBUG("sim", "job %s created (%zu entries, due in %lld ms)", jb->id,
                  jb->n_request_entries, (long long)jb->duration_ms);
        return CXW_SIM_JOB_CREATED;
out:
        cxw_sim_job_free(jb);
        return rc;
}

static json_t *job_json(const cxw_sim_job_t *jb, bool internal)
{
        char ts[40];
        json_t *o = json_object();

        if (!o)
                return NULL;
        json_object_set_new(o, "jobId", json_string(jb->id));
        json_object_set_new(o, "status",
                            json_string(cxw_sim_job_status_names[jb->status]));
        json_object_set_new(
            o, "createdAt",
            json_string(cxw_rfc3339(jb->created_wall_ms, ts, sizeof(ts))));
        if (jb->status != ST_RUNNING) {
                /* The moment it was due, not the moment someone noticed. */
                cxw_rfc3339(jb->created_wall_ms + jb->duration_ms, ts, sizeof(ts));
                json_object_set_new(o, "finishedAt", json_string(ts));
        }
        if (jb->status == ST_COMPLETED)
                json_object_set_new(o, "entriesImported",
                                    json_integer((json_int_t)jb->imported));
        if (jb->status == ST_FAILED)
                json_object_set_new(o, "error",
                                    json_pack("{s:s, s:s}", "code", jb->err_code,
                                              "message",
                                              jb->err_msg ? jb->err_msg : jb->err_code));
        if (internal) {
                json_object_set_new(o, "targetCalendarId",
                                    jb->calendar ? json_string(jb->calendar)
                                                 : json_null());
                json_object_set_new(o, "validationMode",
                                    jb->validation_mode ? json_string(jb->validation_mode)
                                                        : json_null());
                json_object_set_new(
                    o, "conflictResolution",
                    json_string(cxw_sim_job_resolution_names[jb->resolution]));
                json_object_set_new(o, "entries",
                                    json_integer((json_int_t)jb->n_request_entries));
                json_object_set_new(o, "idempotencyKey",
                                    jb->idem_key ? json_string(jb->idem_key)
                                                 : json_null());
                json_object_set_new(o, "durationMs", json_integer(jb->duration_ms));
        }
        return o;
}

json_t *cxw_sim_jobs_get(cxw_sim_jobs_t *j, const char *job_id, bool internal)
{
        json_t *out = NULL;
        cxw_sim_job_t *jb;

        pthread_mutex_lock(&j->lock);
        advance(j, cxw_now_ms());
        jb = cxw_sim_map_get(j->by_id, job_id, strlen(job_id));
        if (jb)
                out = job_json(jb, internal);
        pthread_mutex_unlock(&j->lock);
        return out;
}

size_t cxw_sim_jobs_count(cxw_sim_jobs_t *j)
{
        size_t n;

        pthread_mutex_lock(&j->lock);
        n = j->count;
        pthread_mutex_unlock(&j->lock);
        return n;
}

/* Frees every job; with the lock held. */
static void clear(cxw_sim_jobs_t *j)
{
        cxw_sim_job_t *jb = j->oldest;

        while (jb) {
                cxw_sim_job_t *next = jb->next;
                cxw_sim_job_free(jb);
                jb = next;
        }
        j->oldest = j->newest = NULL;
        j->count = j->entries = 0;
        cxw_heap_clear(&j->running);
        cxw_sim_map_remove_if(j->by_id, NULL, NULL, NULL);
        cxw_sim_map_remove_if(j->by_key, NULL, NULL, NULL);
        cxw_sim_map_remove_if(j->agents, NULL, NULL, cxw_sim_index_agent_free);
}

void cxw_sim_jobs_reset(cxw_sim_jobs_t *j)
{
        if (!j)
                return;
        pthread_mutex_lock(&j->lock);
        clear(j);
        pthread_mutex_unlock(&j->lock);
}

static void *run(void *arg)
{
        cxw_sim_jobs_t *j = arg;

        pthread_mutex_lock(&j->lock);
        while (!j->stopping) {
                struct timespec ts;
                int64_t due;

                advance(j, cxw_now_ms());
                if (!first_due(j)) {
                        pthread_cond_wait(&j->cond, &j->lock);
                        continue;
                }
                due = first_due(j)->due_ms;
                ts.tv_sec = (time_t)(due / 1000);
                ts.tv_nsec = (long)(due % 1000) * 1000000L;
                pthread_cond_timedwait(&j->cond, &j->lock, &ts);
        }
        pthread_mutex_unlock(&j->lock);
        return NULL;
}

cxw_sim_jobs_t *cxw_sim_jobs_start(cxw_sim_t *sim, char *errstr, size_t errstr_size)
{
        cxw_sim_jobs_t *j = calloc(1, sizeof(*j));
        int rc;

        if (!j) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        j->sim = sim;
        cxw_sim_lock_init(&j->lock, &j->cond);
        cxw_heap_init(&j->running, sizeof(cxw_sim_job_t *), job_cmp, NULL);
        j->by_id = cxw_sim_map_new();
        j->by_key = cxw_sim_map_new();
        j->agents = cxw_sim_map_new();
        if (!j->by_id || !j->by_key || !j->agents) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        rc = pthread_create(&j->thread, NULL, run, j);
        if (rc != 0) {
                snprintf(errstr, errstr_size, "job timer thread: %s", strerror(rc));
                goto fail;
        }
        j->started = true;
        return j;
fail:
        cxw_sim_jobs_destroy(j);
        return NULL;
}

void cxw_sim_jobs_stop(cxw_sim_jobs_t *j)
{
        if (!j || !j->started)
                return;
        pthread_mutex_lock(&j->lock);
        j->stopping = true;
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
        pthread_join(j->thread, NULL);
        j->started = false;
}

void cxw_sim_jobs_destroy(cxw_sim_jobs_t *j)
{
        if (!j)
                return;
        cxw_sim_jobs_stop(j);
        for (cxw_sim_job_t *jb = j->oldest, *next; jb; jb = next) {
                next = jb->next;
                cxw_sim_job_free(jb);
        }
        cxw_sim_map_destroy(j->by_id, NULL);
        cxw_sim_map_destroy(j->by_key, NULL);
        cxw_sim_map_destroy(j->agents, cxw_sim_index_agent_free);
        cxw_heap_fini(&j->running);
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        free(j);
}
