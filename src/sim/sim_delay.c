/* sim_delay.c: the latency timer. Connections waiting out --latency-ms are
 * suspended in MHD and parked here in a min-heap of wake times; one thread
 * sleeps until the earliest and resumes it. So a thousand delayed requests
 * cost a thousand heap slots, not a thousand threads. */
#include "sim.h"

#include "cxone/base/heap.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slot {
        int64_t wake_ms;
        struct MHD_Connection *conn;
} slot_t;

struct cxw_sim_delay {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC, like cxw_now_ms */
        pthread_t thread;
        bool started;
        bool stopping;
        cxw_heap_t heap; /* of slot_t, by wake time */
};

static int slot_cmp(const void *a, const void *b)
{
        const slot_t *x = a, *y = b;

        return x->wake_ms < y->wake_ms ? -1 : x->wake_ms > y->wake_ms;
}

static void *run(void *arg)
{
        cxw_sim_delay_t *d = arg;

        pthread_mutex_lock(&d->lock);
        while (!d->stopping) {
                int64_t now = cxw_now_ms();
                const slot_t *first = cxw_heap_top(&d->heap);
                struct timespec ts;
                slot_t due;

                if (!first) {
                        pthread_cond_wait(&d->cond, &d->lock);
                        continue;
                }
                if (first->wake_ms <= now) {
                        cxw_heap_pop(&d->heap, &due);
                        /* MHD_resume_connection only flags the connection and
                         * wakes its thread: cheap enough to call under our lock,
                         * and the lock keeps stop from racing it. */
                        MHD_resume_connection(due.conn);
                        continue;
                }
                ts.tv_sec = (time_t)(first->wake_ms / 1000);
                ts.tv_nsec = (long)(first->wake_ms % 1000) * 1000000L;
                pthread_cond_timedwait(&d->cond, &d->lock, &ts);
        }
        /* Stopping: nobody stays suspended (MHD_stop_daemon requires it). */
        for (slot_t s; cxw_heap_pop(&d->heap, &s) == 0;)
                MHD_resume_connection(s.conn);
        pthread_mutex_unlock(&d->lock);
        return NULL;
}

cxw_sim_delay_t *cxw_sim_delay_start(char *errstr, size_t errstr_size)
{
        cxw_sim_delay_t *d = calloc(1, sizeof(*d));
        int rc;

        if (!d) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        cxw_sim_lock_init(&d->lock, &d->cond);
        cxw_heap_init(&d->heap, sizeof(slot_t), slot_cmp, NULL);
        rc = pthread_create(&d->thread, NULL, run, d);
        if (rc != 0) {
                snprintf(errstr, errstr_size, "latency timer thread: %s", strerror(rc));
                cxw_sim_delay_destroy(d);
                return NULL;
        }
        d->started = true;
        return d;
}

void cxw_sim_delay_add(cxw_sim_delay_t *d, struct MHD_Connection *conn, int64_t wake_ms)
{
        slot_t s = {wake_ms, conn};

        pthread_mutex_lock(&d->lock);
        if (d->stopping)
                goto now;
        if (cxw_heap_push(&d->heap, &s) != 0) {
                CXW_WARN("sim", "latency timer out of memory; answering at once");
                goto now;
        }
        /* Wake the thread only if this is the new earliest. */
        if (((const slot_t *)cxw_heap_top(&d->heap))->conn == conn)
                pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
        return;
now:
        MHD_resume_connection(conn);
        pthread_mutex_unlock(&d->lock);
}

void cxw_sim_delay_stop(cxw_sim_delay_t *d)
{
        if (!d || !d->started)
                return;
        pthread_mutex_lock(&d->lock);
        d->stopping = true;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->thread, NULL);
        d->started = false;
}

void cxw_sim_delay_destroy(cxw_sim_delay_t *d)
{
        if (!d)
                return;
        cxw_sim_delay_stop(d);
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->lock);
        cxw_heap_fini(&d->heap);
        free(d);
}
