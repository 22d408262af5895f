/* sim_delay.c: the latency timer. Connections waiting out --latency-ms are
 * suspended in MHD and parked here in a min-heap of wake times; one thread
 * sleeps until the earliest and resumes it. So a thousand delayed requests
 * cost a thousand heap slots, not a thousand threads. */
#include "sim.h"

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
        slot_t *heap;
        size_t len, cap;
};

static void sift_up(slot_t *h, size_t i)
{
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                slot_t tmp;
                if (h[parent].wake_ms <= h[i].wake_ms)
                        break;
                tmp = h[parent];
                h[parent] = h[i];
                h[i] = tmp;
                i = parent;
        }
}

static void sift_down(slot_t *h, size_t len, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, min = i;
                slot_t tmp;
                if (l < len && h[l].wake_ms < h[min].wake_ms)
                        min = l;
                if (r < len && h[r].wake_ms < h[min].wake_ms)
                        min = r;
                if (min == i)
                        return;
                tmp = h[min];
                h[min] = h[i];
                h[i] = tmp;
                i = min;
        }
}

static void *run(void *arg)
{
        cxw_sim_delay_t *d = arg;

        pthread_mutex_lock(&d->lock);
        while (!d->stopping) {
                int64_t now = cxw_now_ms();
                struct timespec ts;

                if (d->len == 0) {
                        pthread_cond_wait(&d->cond, &d->lock);
                        continue;
                }
                if (d->heap[0].wake_ms <= now) {
                        struct MHD_Connection *conn = d->heap[0].conn;
                        d->heap[0] = d->heap[--d->len];
                        sift_down(d->heap, d->len, 0);
                        /* MHD_resume_connection only flags the connection and
                         * wakes its thread: cheap enough to call under our lock,
                         * and the lock keeps stop from racing it. */
                        MHD_resume_connection(conn);
                        continue;
                }
                ts.tv_sec = (time_t)(d->heap[0].wake_ms / 1000);
                ts.tv_nsec = (long)(d->heap[0].wake_ms % 1000) * 1000000L;
                pthread_cond_timedwait(&d->cond, &d->lock, &ts);
        }
        /* Stopping: nobody stays suspended (MHD_stop_daemon requires it). */
        while (d->len > 0)
                MHD_resume_connection(d->heap[--d->len].conn);
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
        pthread_mutex_lock(&d->lock);
        if (d->stopping)
                goto now;
        if (d->len == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 256;
                slot_t *h = realloc(d->heap, cap * sizeof(*h));
                if (!h) {
                        CXW_WARN("sim", "latency timer out of memory; answering at once");
                        goto now;
                }
                d->heap = h;
                d->cap = cap;
        }
        d->heap[d->len].wake_ms = wake_ms;
        d->heap[d->len].conn = conn;
        sift_up(d->heap, d->len++);
        /* Wake the thread only if this is the new earliest. */
        if (d->heap[0].conn == conn)
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
        free(d->heap);
        free(d);
}
