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
 * Finishing an import stores its shifts in a schedule index: "calendar\0agent"
 * → that agent's shifts in that calendar, each remembering the job that
 * imported it. A later import with an overlapping shift of the same agent in
 * the same calendar fails (conflictResolution FAIL), replaces the old shifts
 * (OVERWRITE, and AUTO_RESOLVE: the simulator resolves a conflict in favour of
 * the newer import) or leaves its own conflicting entries out (SKIP).
 *
 * Memory is bounded: at most JOBS_MAX jobs and ENTRIES_MAX parsed entries
 * are held; to make room the oldest finished jobs are evicted, with their
 * idempotency keys and the shifts they imported. If only running jobs are
 * held, a new import is refused (503).
 *
 * One mutex guards everything here: imports are rare next to contact
 * PATCHes, and a poll is a map lookup.
 */
#include "sim.h"

#include "cxone/base/heap.h"
#include "cxone/base/log.h"
#include "cxone/requests/schedules.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOBS_MAX    100000
#define ENTRIES_MAX 2000000
#define TEXT_MAX    256 /* targetCalendarId, agentId, validationMode */
#define ID_LEN      36  /* "job-" + 32 hex */

typedef enum { ST_RUNNING = 0, ST_COMPLETED, ST_FAILED } job_status_t;
typedef enum { RES_FAIL = 0, RES_OVERWRITE, RES_SKIP, RES_AUTO, RES__CNT } resolution_t;

static const char *const status_names[] = {"IN_PROGRESS", "COMPLETED", "FAILED"};
static const char *const resolution_names[] = {"FAIL", "OVERWRITE", "SKIP",
                                               "AUTO_RESOLVE"};

struct job;

typedef struct shift {
        int64_t start_ms, end_ms;
        struct job *owner;
} shift_t;

/* One agent's shifts in one calendar (value of the agents map). */
typedef struct agent {
        shift_t *v;
        size_t len, cap;
} agent_t;

/* One parsed schedule entry of a job. */
typedef struct entry {
        char *key; /* calendar '\0' agent */
        size_t klen;
        int64_t start_ms, end_ms;
} entry_t;

typedef struct job {
        char id[ID_LEN + 1];
        uint64_t seq;            /* creation order; breaks due-time ties */
        struct job *prev, *next; /* creation order list */
        job_status_t status;
        resolution_t resolution;
        bool will_fail;        /* --job-fail-rate drew this one */
        char *calendar;        /* NULL if the request had none */
        char *validation_mode; /* NULL if absent */
        char *idem_key;        /* NULL if absent */
        int64_t created_wall_ms;
        int64_t duration_ms;
        int64_t due_ms;           /* cxw_now_ms clock */
        size_t n_request_entries; /* scheduleEntries in the request */
        entry_t *entries;         /* parsed; NULL when invalid */
        size_t n_entries;
        size_t imported;
        bool bad;      /* the request is invalid: the job will fail */
        char *invalid; /* why (NULL if out of memory) */
        const char *err_code;
        char *err_msg;
} job_t;

struct cxw_sim_jobs {
        cxw_sim_t *sim;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC */
        pthread_t thread;
        bool started;
        bool stopping;
        cxw_sim_map_t *by_id;  /* id → job_t */
        cxw_sim_map_t *by_key; /* Idempotency-Key → job_t */
        cxw_sim_map_t *agents; /* calendar '\0' agent → agent_t */
        job_t *oldest, *newest;
        size_t count;       /* jobs held */
        size_t entries;     /* parsed entries held over all jobs */
        cxw_heap_t running; /* of job_t *, by (due_ms, seq) */
        uint64_t next_seq;
};

/* ---- heap of running jobs ---- */

static int job_cmp(const void *a, const void *b)
{
        const job_t *x = *(job_t *const *)a, *y = *(job_t *const *)b;

        if (x->due_ms != y->due_ms)
                return x->due_ms < y->due_ms ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The running job due first, or NULL. */
static job_t *first_due(const cxw_sim_jobs_t *j)
{
        job_t **top = cxw_heap_top(&j->running);

        return top ? *top : NULL;
}

/* ---- the schedule index ---- */

static void agent_free(void *p)
{
        agent_t *a = p;

        if (!a)
                return;
        free(a->v);
        free(a);
}

static int agent_add(cxw_sim_jobs_t *j, const entry_t *e, job_t *owner)
{
        agent_t *a = cxw_sim_map_get(j->agents, e->key, e->klen);

        if (!a) {
                a = calloc(1, sizeof(*a));
                if (!a || cxw_sim_map_put(j->agents, e->key, e->klen, a) != 0) {
                        free(a);
                        return -1;
                }
        }
        if (a->len == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 4;
                shift_t *v = realloc(a->v, cap * sizeof(*v));
                if (!v)
                        return -1;
                a->v = v;
                a->cap = cap;
        }
        a->v[a->len].start_ms = e->start_ms;
        a->v[a->len].end_ms = e->end_ms;
        a->v[a->len].owner = owner;
        a->len++;
        return 0;
}

static bool overlaps(const shift_t *s, const entry_t *e)
{
        return s->start_ms < e->end_ms && e->start_ms < s->end_ms;
}

/* Removes from e's agent the shifts of owner (any, if overlapping_only is
 * false) or the shifts of other jobs overlapping e (if it is true). Frees the
 * agent when it has none left. */
static void agent_remove(cxw_sim_jobs_t *j, const entry_t *e, const job_t *owner,
                         bool overlapping_only)
{
        agent_t *a = cxw_sim_map_get(j->agents, e->key, e->klen);
        size_t keep = 0;

        if (!a)
                return;
        for (size_t i = 0; i < a->len; i++) {
                bool drop = overlapping_only
                                ? a->v[i].owner != owner && overlaps(&a->v[i], e)
                                : a->v[i].owner == owner;
                if (!drop)
                        a->v[keep++] = a->v[i];
        }
        a->len = keep;
        if (a->len == 0)
                agent_free(cxw_sim_map_remove(j->agents, e->key, e->klen));
}

/* The first shift of another job that e overlaps, or NULL. */
static const shift_t *conflict_of(cxw_sim_jobs_t *j, const entry_t *e, const job_t *self)
{
        agent_t *a = cxw_sim_map_get(j->agents, e->key, e->klen);

        for (size_t i = 0; a && i < a->len; i++) {
                if (a->v[i].owner != self && overlaps(&a->v[i], e))
                        return &a->v[i];
        }
        return NULL;
}

/* ---- jobs ---- */

static void job_free(job_t *jb)
{
        if (!jb)
                return;
        for (size_t i = 0; i < jb->n_entries; i++)
                free(jb->entries[i].key);
        free(jb->entries);
        free(jb->calendar);
        free(jb->validation_mode);
        free(jb->idem_key);
        free(jb->invalid);
        free(jb->err_msg);
        free(jb);
}

static void set_invalid(job_t *jb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_invalid(job_t *jb, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        jb->bad = true;
        free(jb->invalid);
        jb->invalid = strdup(msg); /* NULL: the job still fails, reason shorter */
}

/* A string value of 1..TEXT_MAX bytes without NULs, or NULL. */
static const char *short_text(json_t *v)
{
        const char *s = json_string_value(v);

        if (!s || !*s || json_string_length(v) > TEXT_MAX ||
            strlen(s) != json_string_length(v))
                return NULL;
        return s;
}

static int parse_time(json_t *v, int64_t *ms, const char **why)
{
        if (!json_is_string(v)) {
                *why = "must be an RFC 3339 date-time string";
                return -1;
        }
        return cxw_schedule_parse_time(json_string_value(v), json_string_length(v), ms,
                                       why);
}

/* Reads the request into jb. Problems with the request make the job fail
 * later (VALIDATION_ERROR), as a real asynchronous import reports them.
 * @returns 0, or -1 when out of memory. */
static int parse_request(job_t *jb, json_t *body)
{
        json_t *cal = json_object_get(body, "targetCalendarId");
        json_t *mode = json_object_get(body, "validationMode");
        json_t *res = json_object_get(body, "conflictResolution");
        json_t *list = json_object_get(body, "scheduleEntries");
        const char *cal_s = short_text(cal), *s;
        size_t cal_len;

        jb->n_request_entries = json_array_size(list);
        if ((s = short_text(mode)) && !(jb->validation_mode = strdup(s)))
                return -1;
        if (!mode || json_is_null(mode)) {
                set_invalid(jb, "validationMode is missing");
                return 0;
        }
        if (!s) {
                set_invalid(jb, "validationMode must be a string of 1-%d characters",
                            TEXT_MAX);
                return 0;
        }
        {
                const char *r = json_string_value(res);
                size_t i;
                for (i = 0; r && i < RES__CNT; i++) {
                        if (strcmp(r, resolution_names[i]) == 0)
                                break;
                }
                if (!res || json_is_null(res)) {
                        set_invalid(jb, "conflictResolution is missing");
                        return 0;
                }
                if (!r || i == RES__CNT) {
                        set_invalid(jb, "conflictResolution must be AUTO_RESOLVE, FAIL, "
                                        "OVERWRITE or SKIP");
                        return 0;
                }
                jb->resolution = (resolution_t)i;
        }
        if (!cal_s) {
                set_invalid(jb, "targetCalendarId must be a string of 1-%d characters",
                            TEXT_MAX);
                return 0;
        }
        jb->calendar = strdup(cal_s);
        if (!jb->calendar)
                return -1;
        cal_len = strlen(cal_s);
        if (jb->n_request_entries == 0)
                return 0;
        jb->entries = calloc(jb->n_request_entries, sizeof(*jb->entries));
        if (!jb->entries)
                return -1;
        for (size_t i = 0; i < jb->n_request_entries; i++) {
                json_t *e = json_array_get(list, i);
                const char *agent = short_text(json_object_get(e, "agentId"));
                const char *why = NULL;
                entry_t *en = &jb->entries[i];
                size_t alen;

                if (!json_is_object(e)) {
                        set_invalid(jb, "scheduleEntries[%zu]: must be an object", i);
                        goto invalid;
                }
                if (!agent) {
                        set_invalid(jb,
                                    "scheduleEntries[%zu]: agentId must be a string of "
                                    "1-%d characters",
                                    i, TEXT_MAX);
                        goto invalid;
                }
                if (parse_time(json_object_get(e, "startDateTime"), &en->start_ms,
                               &why) != 0) {
                        set_invalid(jb, "scheduleEntries[%zu]: startDateTime %s", i,
                                    why ? why : "is not a valid date-time");
                        goto invalid;
                }
                if (parse_time(json_object_get(e, "endDateTime"), &en->end_ms, &why) !=
                    0) {
                        set_invalid(jb, "scheduleEntries[%zu]: endDateTime %s", i,
                                    why ? why : "is not a valid date-time");
                        goto invalid;
                }
                if (en->end_ms <= en->start_ms) {
                        set_invalid(jb,
                                    "scheduleEntries[%zu]: endDateTime must be after "
                                    "startDateTime",
                                    i);
                        goto invalid;
                }
                alen = strlen(agent);
                en->klen = cal_len + 1 + alen;
                en->key = malloc(en->klen + 1);
                if (!en->key)
                        return -1; /* job_free frees the keys made so far */
                memcpy(en->key, cal_s, cal_len + 1);
                memcpy(en->key + cal_len + 1, agent, alen + 1);
                jb->n_entries = i + 1;
        }
        return 0;
invalid:
        for (size_t i = 0; i < jb->n_entries; i++)
                free(jb->entries[i].key);
        free(jb->entries);
        jb->entries = NULL;
        jb->n_entries = 0;
        return 0;
}

static void finish_failed(cxw_sim_jobs_t *j, job_t *jb, const char *code, const char *msg)
{
        jb->status = ST_FAILED;
        jb->imported = 0;
        jb->err_code = code;
        jb->err_msg = strdup(msg ? msg : code);
        atomic_fetch_add(&j->sim->jobs_failed, 1);
}

/* Imports jb's shifts by its conflict resolution.
 * @returns 0, or -1 when out of memory (nothing of jb stays imported). */
static int import_shifts(cxw_sim_jobs_t *j, job_t *jb, char *conflict, size_t size)
{
        conflict[0] = '\0';
        if (jb->resolution == RES_FAIL) {
                for (size_t i = 0; i < jb->n_entries; i++) {
                        const entry_t *e = &jb->entries[i];
                        const shift_t *s = conflict_of(j, e, jb);
                        char a[40], b[40], c[40], d[40];
                        if (!s)
                                continue;
                        snprintf(
                            conflict, size,
                            "scheduleEntries[%zu]: agent %s: shift %s to %s overlaps "
                            "shift %s to %s imported by %s into calendar %s",
                            i, e->key + strlen(e->key) + 1,
                            cxw_rfc3339(e->start_ms, a, sizeof(a)),
                            cxw_rfc3339(e->end_ms, b, sizeof(b)),
                            cxw_rfc3339(s->start_ms, c, sizeof(c)),
                            cxw_rfc3339(s->end_ms, d, sizeof(d)), s->owner->id,
                            jb->calendar);
                        return 0;
                }
        }
        jb->imported = 0;
        for (size_t i = 0; i < jb->n_entries; i++) {
                const entry_t *e = &jb->entries[i];
                if (jb->resolution == RES_SKIP && conflict_of(j, e, jb))
                        continue;
                if (jb->resolution == RES_OVERWRITE || jb->resolution == RES_AUTO)
                        agent_remove(j, e, jb, true);
                if (agent_add(j, e, jb) != 0)
                        goto oom;
                jb->imported++;
        }
        return 0;
oom:
        for (size_t i = 0; i < jb->n_entries; i++)
                agent_remove(j, &jb->entries[i], jb, false);
        jb->imported = 0;
        return -1;
}

static void finish(cxw_sim_jobs_t *j, job_t *jb)
{
        char conflict[640];

        if (jb->bad) {
                finish_failed(j, jb, "VALIDATION_ERROR",
                              jb->invalid ? jb->invalid : "invalid request");
        } else if (jb->will_fail) {
                finish_failed(j, jb, "SIMULATED_FAILURE", "simulated job failure");
        } else if (import_shifts(j, jb, conflict, sizeof(conflict)) != 0) {
                finish_failed(j, jb, "INTERNAL_ERROR", "out of memory");
        } else if (conflict[0]) {
                finish_failed(j, jb, "SCHEDULE_CONFLICT", conflict);
        } else {
                jb->status = ST_COMPLETED;
                atomic_fetch_add(&j->sim->jobs_completed, 1);
        }
        CXW_DEBUG("sim", "job %s %s (%zu of %zu entries imported)", jb->id,
                  status_names[jb->status], jb->imported, jb->n_request_entries);
        cxw_sim_webhook_post(j->sim->webhook, jb->id, status_names[jb->status]);
}

/* Finishes every job due by now, in due order. Called with the lock held. */
static void advance(cxw_sim_jobs_t *j, int64_t now)
{
        job_t *jb;

        while ((jb = first_due(j)) && jb->due_ms <= now) {
                cxw_heap_pop(&j->running, NULL);
                finish(j, jb);
        }
}

static void unlink_job(cxw_sim_jobs_t *j, job_t *jb)
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
static void evict(cxw_sim_jobs_t *j, job_t *jb)
{
        if (jb->status == ST_COMPLETED) {
                for (size_t i = 0; i < jb->n_entries; i++)
                        agent_remove(j, &jb->entries[i], jb, false);
        }
        cxw_sim_map_remove(j->by_id, jb->id, strlen(jb->id));
        if (jb->idem_key)
                cxw_sim_map_remove(j->by_key, jb->idem_key, strlen(jb->idem_key));
        unlink_job(j, jb);
        j->count--;
        j->entries -= jb->n_entries;
        job_free(jb);
}

/* Evicts the oldest finished jobs until one more job of n entries fits.
 * @returns false if it cannot be made to fit. */
static bool make_room(cxw_sim_jobs_t *j, size_t n)
{
        job_t *jb = j->oldest;

        if (n > ENTRIES_MAX)
                return false;
        while (j->count >= JOBS_MAX || j->entries + n > ENTRIES_MAX) {
                while (jb && jb->status == ST_RUNNING)
                        jb = jb->next;
                if (!jb)
                        return false;
                {
                        job_t *next = jb->next;
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
        job_t *jb;

        if (!idem_key)
                return false;
        jb = cxw_sim_map_get(j->by_key, idem_key, strlen(idem_key));
        if (!jb)
                return false;
        cxw_strlcpy(job_id, jb->id, size);
        *status = status_names[jb->status];
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
        job_t *jb;
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
        if (parse_request(jb, body) != 0)
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
        *status = status_names[ST_RUNNING];
        pthread_mutex_unlock(&j->lock);
        atomic_fetch_add(&sim->imports_submitted, 1);
        CXW_DEBUG("sim", "job %s created (%zu entries, due in %lld ms)", jb->id,
                  jb->n_request_entries, (long long)jb->duration_ms);
        return CXW_SIM_JOB_CREATED;
out:
        job_free(jb);
        return rc;
}

static json_t *job_json(const job_t *jb, bool internal)
{
        char ts[40];
        json_t *o = json_object();

        if (!o)
                return NULL;
        json_object_set_new(o, "jobId", json_string(jb->id));
        json_object_set_new(o, "status", json_string(status_names[jb->status]));
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
                json_object_set_new(o, "conflictResolution",
                                    json_string(resolution_names[jb->resolution]));
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
        job_t *jb;

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
        job_t *jb = j->oldest;

        while (jb) {
                job_t *next = jb->next;
                job_free(jb);
                jb = next;
        }
        j->oldest = j->newest = NULL;
        j->count = j->entries = 0;
        cxw_heap_clear(&j->running);
        cxw_sim_map_remove_if(j->by_id, NULL, NULL, NULL);
        cxw_sim_map_remove_if(j->by_key, NULL, NULL, NULL);
        cxw_sim_map_remove_if(j->agents, NULL, NULL, agent_free);
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
        cxw_heap_init(&j->running, sizeof(job_t *), job_cmp, NULL);
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
        for (job_t *jb = j->oldest, *next; jb; jb = next) {
                next = jb->next;
                job_free(jb);
        }
        cxw_sim_map_destroy(j->by_id, NULL);
        cxw_sim_map_destroy(j->by_key, NULL);
        cxw_sim_map_destroy(j->agents, agent_free);
        cxw_heap_fini(&j->running);
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        free(j);
}
