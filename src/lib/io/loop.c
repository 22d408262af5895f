/* loop.c: one thread, a min-heap of timers, curl_multi_poll() as the wait. */
#include "cxone/io/loop.h"
#include "cxone/base/heap.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FDS 8

struct cxw_loop_s {
        CURLM *multi;
        cxw_heap_t timers; /* of cxw_timer_t *, the nearest first */
        int pipe_rd;
        int pipe_wr;
        cxw_fd_cb *wakeup_cb;
        void *wakeup_opaque;
        struct {
                int fd;
                cxw_fd_cb *cb;
                void *opaque;
        } fds[MAX_FDS];
        size_t fd_cnt;
};

static int timer_cmp(const void *a, const void *b)
{
        const cxw_timer_t *x = *(cxw_timer_t *const *)a, *y = *(cxw_timer_t *const *)b;

        return x->at < y->at ? -1 : x->at > y->at;
}

static void timer_moved(void *item, size_t index)
{
        (*(cxw_timer_t **)item)->heap_index = index + 1;
}

static cxw_timer_t *nearest(const cxw_loop_t *loop)
{
        cxw_timer_t **top = cxw_heap_top(&loop->timers);

        return top ? *top : NULL;
}

cxw_loop_t *cxw_loop_new(CURLM *multi, char *errstr, size_t errstr_size)
{
        cxw_loop_t *loop = calloc(1, sizeof(*loop));
        int p[2];

        if (!loop) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1) {
                snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
                free(loop);
                return NULL;
        }
        loop->multi = multi;
        cxw_heap_init(&loop->timers, sizeof(cxw_timer_t *), timer_cmp, timer_moved);
        loop->pipe_rd = p[0];
        loop->pipe_wr = p[1];
        return loop;
}

void cxw_loop_destroy(cxw_loop_t *loop)
{
        cxw_timer_t *t;

        if (!loop)
                return;
        while (cxw_heap_pop(&loop->timers, &t) == 0)
                t->heap_index = 0;
        cxw_heap_fini(&loop->timers);
        close(loop->pipe_rd);
        close(loop->pipe_wr);
        free(loop);
}

void cxw_timer_stop(cxw_loop_t *loop, cxw_timer_t *timer)
{
        if (!timer->heap_index)
                return;
        cxw_heap_remove(&loop->timers, timer->heap_index - 1, NULL);
        timer->heap_index = 0;
}

void cxw_timer_start(cxw_loop_t *loop, cxw_timer_t *timer, int64_t at_ms,
                     cxw_timer_cb *cb, void *opaque)
{
        cxw_timer_stop(loop, timer);
        timer->at = at_ms;
        timer->cb = cb;
        timer->opaque = opaque;
        if (cxw_heap_push(&loop->timers, &timer) != 0)
                abort(); /* a timer that silently never fires is worse */
}

int cxw_loop_watch_fd(cxw_loop_t *loop, int fd, cxw_fd_cb *cb, void *opaque)
{
        if (loop->fd_cnt == MAX_FDS)
                return -1;
        loop->fds[loop->fd_cnt].fd = fd;
        loop->fds[loop->fd_cnt].cb = cb;
        loop->fds[loop->fd_cnt].opaque = opaque;
        loop->fd_cnt++;
        return 0;
}

int cxw_loop_wakeup_fd(const cxw_loop_t *loop)
{
        return loop->pipe_wr;
}

void cxw_loop_on_wakeup(cxw_loop_t *loop, cxw_fd_cb *cb, void *opaque)
{
        loop->wakeup_cb = cb;
        loop->wakeup_opaque = opaque;
}

void cxw_loop_wakeup(cxw_loop_t *loop)
{
        char c = 1;
        ssize_t r = write(loop->pipe_wr, &c, 1); /* EAGAIN: already pending */
        (void)r;
}

size_t cxw_loop_timers(const cxw_loop_t *loop)
{
        return cxw_heap_len(&loop->timers);
}

static void run_timers(cxw_loop_t *loop)
{
        int64_t now = cxw_now_ms();

        /* Bounded by the timers due now; a callback re-arming its own timer
         * for "now" runs on the next round, not in this one. */
        size_t budget = cxw_heap_len(&loop->timers);
        cxw_timer_t *t;

        while (budget-- > 0 && (t = nearest(loop)) && t->at <= now) {
                cxw_timer_stop(loop, t);
                t->cb(loop, t, t->opaque);
        }
}

int cxw_loop_run_once(cxw_loop_t *loop, int64_t max_wait_ms)
{
        struct curl_waitfd extra[MAX_FDS + 1];
        unsigned n = 0;
        int64_t wait = max_wait_ms;
        int numfds = 0;

        if (nearest(loop)) {
                int64_t until = nearest(loop)->at - cxw_now_ms();
                if (until < wait)
                        wait = until < 0 ? 0 : until;
        }
        extra[n].fd = loop->pipe_rd;
        extra[n].events = CURL_WAIT_POLLIN;
        extra[n].revents = 0;
        n++;
        for (size_t i = 0; i < loop->fd_cnt; i++) {
                extra[n].fd = loop->fds[i].fd;
                extra[n].events = CURL_WAIT_POLLIN;
                extra[n].revents = 0;
                n++;
        }

        if (loop->multi) {
                if (curl_multi_poll(loop->multi, extra, n, (int)wait, &numfds) !=
                    CURLM_OK)
                        return -1;
        } else {
                struct pollfd pfd[MAX_FDS + 1];
                for (unsigned i = 0; i < n; i++) {
                        pfd[i].fd = extra[i].fd;
                        pfd[i].events = POLLIN;
                        pfd[i].revents = 0;
                }
                if (poll(pfd, n, (int)wait) > 0)
                        for (unsigned i = 0; i < n; i++)
                                extra[i].revents = pfd[i].revents ? CURL_WAIT_POLLIN : 0;
        }

        if (extra[0].revents) {
                char buf[256];
                while (read(loop->pipe_rd, buf, sizeof(buf)) > 0)
                        ;
        }
        /* The wakeup callback runs every round: the Kafka queues' io-event
         * fires only on empty → non-empty, so a queue left non-empty last
         * round (we bound how much we take) would otherwise never wake us. */
        if (loop->wakeup_cb)
                loop->wakeup_cb(loop, loop->pipe_rd, loop->wakeup_opaque);
        for (size_t i = 0; i < loop->fd_cnt; i++)
                if (extra[i + 1].revents)
                        loop->fds[i].cb(loop, loop->fds[i].fd, loop->fds[i].opaque);
        run_timers(loop);
        return 0;
}
