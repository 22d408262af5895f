/* txn.c: when the replica's Kafka transaction commits or aborts (txn.h).
 * Pure: the producer and the clock come from the caller, so that the unit
 * test drives it with a fake producer and a fake clock. */
#include "cxone/flow/txn.h"

#include <stdlib.h>
#include <string.h>

/* While draining, how often the tick looks at the unacknowledged records
 * when nothing else wakes the caller (its delivery reports do). */
#define DRAIN_POLL_MS 2

typedef struct {
        char *topic;
        int32_t partition;
        int64_t offset;
} toff_t;

struct cxw_txn_s {
        cxw_txn_conf_t conf;
        cxw_txn_producer_t prod;
        int open;
        int failed; /* a record failed, or out of memory: abort at the next tick */
        int fatal;
        int draining;       /* due: waiting for its records' acknowledgements */
        int64_t drain_poll; /* while draining: when to look again */
        int64_t opened_at;
        size_t records;
        toff_t *offs;
        size_t noffs, cap;
        cxw_txn_offset_t *view; /* offs as the producer takes them, cap entries */
        uint64_t committed, aborted;
};

cxw_txn_t *cxw_txn_new(const cxw_txn_conf_t *conf, const cxw_txn_producer_t *prod)
{
        cxw_txn_t *t;

        if (!conf || !prod || conf->interval_ms <= 0 || conf->max_records <= 0 ||
            !prod->begin || !prod->commit || !prod->abort)
                return NULL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->conf = *conf;
        t->prod = *prod;
        return t;
}

static void clear(cxw_txn_t *t)
{
        for (size_t i = 0; i < t->noffs; i++)
                free(t->offs[i].topic);
        t->noffs = 0;
        t->records = 0;
        t->open = 0;
        t->failed = 0;
        t->draining = 0;
}

void cxw_txn_destroy(cxw_txn_t *t)
{
        if (!t)
                return;
        clear(t);
        free(t->offs);
        free(t->view);
        free(t);
}

int cxw_txn_open(cxw_txn_t *t, int64_t now)
{
        cxw_txn_step_t r;

        if (t->fatal || t->failed)
                return -1;
        if (t->open)
                return 0;
        r = t->prod.begin(t->prod.opaque);
        if (r == CXW_TXN_STEP_FATAL)
                t->fatal = 1;
        if (r != CXW_TXN_STEP_OK)
                return -1;
        t->open = 1;
        t->opened_at = now;
        return 0;
}

void cxw_txn_add_records(cxw_txn_t *t, size_t n)
{
        t->records += n;
}

static toff_t *find(const cxw_txn_t *t, const char *topic, int32_t partition)
{
        for (size_t i = 0; i < t->noffs; i++)
                if (t->offs[i].partition == partition &&
                    strcmp(t->offs[i].topic, topic) == 0)
                        return &t->offs[i];
        return NULL;
}

int cxw_txn_set_offset(cxw_txn_t *t, const char *topic, int32_t partition, int64_t offset)
{
        toff_t *o = find(t, topic, partition);

        if (o) {
                if (offset > o->offset)
                        o->offset = offset;
                return 0;
        }
        if (t->noffs == t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 16;
                toff_t *n = realloc(t->offs, ncap * sizeof(*n));
                cxw_txn_offset_t *v;

                if (!n)
                        goto oom;
                t->offs = n;
                v = realloc(t->view, ncap * sizeof(*v));
                if (!v)
                        goto oom;
                t->view = v;
                t->cap = ncap;
        }
        o = &t->offs[t->noffs];
        o->topic = strdup(topic);
        if (!o->topic)
                goto oom;
        o->partition = partition;
        o->offset = offset;
        t->noffs++;
        return 0;
oom:
        t->failed = 1; /* the offset would be missing: abort, redo */
        return -1;
}

void cxw_txn_fail(cxw_txn_t *t)
{
        if (t->open)
                t->failed = 1;
}

void cxw_txn_forget(cxw_txn_t *t, const char *topic, int32_t partition)
{
        toff_t *o = find(t, topic, partition);

        if (!o)
                return;
        free(o->topic);
        *o = t->offs[--t->noffs];
}

/* Aborts the open transaction. A retriable failure is tried again at the
 * next tick, unless force: then the transaction cannot be settled in time,
 * and nothing may be written after (the caller stops). */
static cxw_txn_result_t do_abort(cxw_txn_t *t, int force)
{
        cxw_txn_step_t r = t->prod.abort(t->prod.opaque);

        if (r == CXW_TXN_STEP_OK) {
                clear(t);
                t->aborted++;
                return CXW_TXN_ABORTED;
        }
        if (r == CXW_TXN_STEP_RETRY && !force) {
                t->failed = 1;
                return CXW_TXN_IDLE;
        }
        t->fatal = 1;
        return CXW_TXN_FATAL;
}

cxw_txn_result_t cxw_txn_tick(cxw_txn_t *t, int64_t now, int force, int blocked)
{
        cxw_txn_step_t r;

        if (t->fatal)
                return CXW_TXN_FATAL;
        if (!t->open)
                return CXW_TXN_IDLE;
        if (t->failed || (force && blocked))
                return do_abort(t, force);
        if (blocked)
                return CXW_TXN_IDLE;
        if (!force && !t->draining && (int64_t)t->records < t->conf.max_records &&
            now - t->opened_at < t->conf.interval_ms)
                return CXW_TXN_IDLE;
        if (!force && t->prod.unacked && t->prod.unacked(t->prod.opaque) > 0) {
                t->draining = 1;
                t->drain_poll = now + DRAIN_POLL_MS;
                return CXW_TXN_IDLE;
        }
        for (size_t i = 0; i < t->noffs; i++) {
                t->view[i].topic = t->offs[i].topic;
                t->view[i].partition = t->offs[i].partition;
                t->view[i].offset = t->offs[i].offset;
        }
        r = t->prod.commit(t->prod.opaque, t->view, t->noffs);
        switch (r) {
        case CXW_TXN_STEP_OK:
                clear(t);
                t->committed++;
                return CXW_TXN_COMMITTED;
        case CXW_TXN_STEP_RETRY:
                /* Forced, there is no later: abort rather than wait. */
                return force ? do_abort(t, force) : CXW_TXN_IDLE;
        case CXW_TXN_STEP_ABORT:
                return do_abort(t, force);
        default:
                t->fatal = 1;
                return CXW_TXN_FATAL;
        }
}

int cxw_txn_due(const cxw_txn_t *t, int64_t now)
{
        return t->open && !t->fatal &&
               (t->failed || t->draining || (int64_t)t->records >= t->conf.max_records ||
                now - t->opened_at >= t->conf.interval_ms);
}

int64_t cxw_txn_due_at(const cxw_txn_t *t)
{
        if (!t->open)
                return INT64_MAX;
        return t->draining ? t->drain_poll : t->opened_at + t->conf.interval_ms;
}

int cxw_txn_accepting(const cxw_txn_t *t)
{
        return !t->draining;
}

void cxw_txn_undrain(cxw_txn_t *t)
{
        t->draining = 0;
}

int cxw_txn_is_open(const cxw_txn_t *t)
{
        return t->open;
}

int cxw_txn_is_fatal(const cxw_txn_t *t)
{
        return t->fatal;
}

size_t cxw_txn_records(const cxw_txn_t *t)
{
        return t->records;
}

uint64_t cxw_txn_committed(const cxw_txn_t *t)
{
        return t->committed;
}

uint64_t cxw_txn_aborted(const cxw_txn_t *t)
{
        return t->aborted;
}
