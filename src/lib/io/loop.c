/* loop.c: one thread, a min-heap of timers, curl_multi_poll() as the wait. */
#include "cxone/io/loop.h"
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
        cxw_timer_t **heap; /* heap[0] is the nearest timer */
        size_t heap_cnt;
        size_t heap_cap;
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
        loop->pipe_rd = p[0];
        loop->pipe_wr = p[1];
        return loop;
}

void cxw_loop_destroy(cxw_loop_t *loop)
{
        if (!loop)
                return;
        for (size_t i = 0; i < loop->heap_cnt; i++)
                loop->heap[i]->heap_index = 0;
        free(loop->heap);
        close(loop->pipe_rd);
        close(loop->pipe_wr);
        free(loop);
}

static void heap_set(cxw_loop_t *loop, size_t i, cxw_timer_t *t)
{
        loop->heap[i] = t;
        t->heap_index = i + 1;
}

static void sift_up(cxw_loop_t *loop, size_t i)
{
        cxw_timer_t *t = loop->heap[i];

        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (loop->heap[parent]->at <= t->at)
                        break;
                heap_set(loop, i, loop->heap[parent]);
                i = parent;
        }
        heap_set(loop, i, t);
}

static void sift_down(cxw_loop_t *loop, size_t i)
{
        cxw_timer_t *t = loop->heap[i];

        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                int64_t m_at = t->at;
                if (l < loop->heap_cnt && loop->heap[l]->at < m_at) {
                        m = l;
                        m_at = loop->heap[l]->at;
                }
                if (r < loop->heap_cnt && loop->heap[r]->at < m_at)
                        m = r;
                if (m == i)
                        break;
                heap_set(loop, i, loop->heap[m]);
                i = m;
        }
        heap_set(loop, i, t);
}

void cxw_timer_stop(cxw_loop_t *loop, cxw_timer_t *timer)
{
        size_t i;
        cxw_timer_t *last;

        if (!timer->heap_index)
                return;
        i = timer->heap_index - 1;
        timer->heap_index = 0;
        last = loop->heap[--loop->heap_cnt];
        if (i == loop->heap_cnt)
                return;
        heap_set(loop, i, last);
        sift_down(loop, i);
        sift_up(loop, last->heap_index - 1);
}

void cxw_timer_start(cxw_loop_t *loop, cxw_timer_t *timer, int64_t at_ms,
                     cxw_timer_cb *cb, void *opaque)
{
        cxw_timer_stop(loop, timer);
        timer->at = at_ms;
        timer->cb = cb;
        timer->opaque = opaque;
        if (loop->heap_cnt == loop->heap_cap) {
                size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
                cxw_timer_t **h = realloc(loop->heap, cap * sizeof(*h));
                if (!h)
                        abort(); /* a timer that silently never fires is worse */
                loop->heap = h;
                loop->heap_cap = cap;
        }
        heap_set(loop, loop->heap_cnt++, timer);
        sift_up(loop, loop->heap_cnt - 1);
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
        return loop->heap_cnt;
}

static void run_timers(cxw_loop_t *loop)
{
        int64_t now = cxw_now_ms();

        /* Bounded by the timers due now; a callback re-arming its own timer
         * for "now" runs on the next round, not in this one. */
        size_t budget = loop->heap_cnt;
        while (budget-- > 0 && loop->heap_cnt > 0 && loop->heap[0]->at <= now) {
                cxw_timer_t *t = loop->heap[0];
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

        if (loop->heap_cnt > 0) {
                int64_t until = loop->heap[0]->at - cxw_now_ms();
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
