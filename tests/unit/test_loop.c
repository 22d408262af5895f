/* test_loop.c: the loop's timers (order, stop, re-arm), its wakeup from
 * another thread, watched fds and the wakeup callback that runs every round.
 * No timing is asserted: waits are bounded and only order and counts are
 * checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cxone/io/loop.h"
#include "cxone/base/util.h"

#define ROUNDS_MAX 2000 /* bound on every "run until" loop */

typedef struct rec_s {
        int order[8];
        int n;
        int wakeups;
        int fd_calls;
} rec_t;

typedef struct tmr_s {
        cxw_timer_t t;
        rec_t *rec;
        int id;
} tmr_t;

static void tmr_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        tmr_t *m = opaque;

        (void)loop;
        (void)t;
        if (m->rec->n < 8)
                m->rec->order[m->rec->n++] = m->id;
}

static cxw_loop_t *new_loop(void)
{
        char err[256];
        cxw_loop_t *loop = cxw_loop_new(NULL, err, sizeof(err));

        assert_non_null(loop);
        return loop;
}

static void test_timers_fire_in_order_and_stop(void **state)
{
        cxw_loop_t *loop = new_loop();
        rec_t rec;
        tmr_t m[4];
        int64_t now = cxw_now_ms();

        (void)state;
        memset(&rec, 0, sizeof(rec));
        memset(m, 0, sizeof(m));
        for (int i = 0; i < 4; i++) {
                m[i].rec = &rec;
                m[i].id = i;
        }
        cxw_timer_start(loop, &m[2].t, now + 30, tmr_cb, &m[2]);
        cxw_timer_start(loop, &m[0].t, now + 10, tmr_cb, &m[0]);
        cxw_timer_start(loop, &m[3].t, now + 5, tmr_cb, &m[3]);
        cxw_timer_start(loop, &m[1].t, now + 20, tmr_cb, &m[1]);
        assert_int_equal(cxw_loop_timers(loop), 4);
        cxw_timer_stop(loop, &m[3].t); /* stopped: never fires */
        cxw_timer_stop(loop, &m[3].t); /* harmless twice */
        assert_false(cxw_timer_armed(&m[3].t));
        /* re-arming moves it: 0 now fires after 1 */
        cxw_timer_start(loop, &m[0].t, now + 25, tmr_cb, &m[0]);
        assert_int_equal(cxw_loop_timers(loop), 3);

        for (int r = 0; r < ROUNDS_MAX && rec.n < 3; r++)
                assert_int_equal(cxw_loop_run_once(loop, 100), 0);
        assert_int_equal(rec.n, 3);
        assert_int_equal(rec.order[0], 1);
        assert_int_equal(rec.order[1], 0);
        assert_int_equal(rec.order[2], 2);
        assert_int_equal(cxw_loop_timers(loop), 0);

        /* a timer armed and forgotten at destroy is disarmed, not fired */
        cxw_timer_start(loop, &m[3].t, now + 100000, tmr_cb, &m[3]);
        cxw_loop_destroy(loop);
        assert_false(cxw_timer_armed(&m[3].t));
        assert_int_equal(rec.n, 3);
        cxw_loop_destroy(NULL);
}

static void on_wakeup(cxw_loop_t *loop, int fd, void *opaque)
{
        rec_t *rec = opaque;

        (void)loop;
        (void)fd;
        rec->wakeups++;
}

static void *wake_later(void *arg)
{
        usleep(20000);
        cxw_loop_wakeup(arg);
        return NULL;
}

static void test_wakeup_from_another_thread(void **state)
{
        cxw_loop_t *loop = new_loop();
        rec_t rec;
        pthread_t th;
        int64_t t0;

        (void)state;
        memset(&rec, 0, sizeof(rec));
        cxw_loop_on_wakeup(loop, on_wakeup, &rec);
        /* runs every round, woken or not */
        assert_int_equal(cxw_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.wakeups, 1);

        assert_int_equal(pthread_create(&th, NULL, wake_later, loop), 0);
        t0 = cxw_now_ms();
        /* a 60 s wait ends with the wakeup (bounded: the thread writes once) */
        assert_int_equal(cxw_loop_run_once(loop, 60000), 0);
        pthread_join(th, NULL);
        assert_true(cxw_now_ms() - t0 < 60000);
        assert_int_equal(rec.wakeups, 2);

        /* many wakeups before a round: one round drains them all */
        for (int i = 0; i < 10000; i++)
                cxw_loop_wakeup(loop);
        assert_int_equal(cxw_loop_run_once(loop, 0), 0);
        assert_int_equal(cxw_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.wakeups, 4);
        assert_true(cxw_loop_wakeup_fd(loop) >= 0);
        cxw_loop_destroy(loop);
}

static void on_fd(cxw_loop_t *loop, int fd, void *opaque)
{
        rec_t *rec = opaque;
        char buf[16];

        (void)loop;
        rec->fd_calls++;
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

static void test_watched_fds(void **state)
{
        cxw_loop_t *loop = new_loop();
        rec_t rec;
        int p[2];
        int extra[8][2];
        int n = 0;

        (void)state;
        memset(&rec, 0, sizeof(rec));
        assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
        assert_int_equal(cxw_loop_watch_fd(loop, p[0], on_fd, &rec), 0);
        /* not readable: no callback */
        assert_int_equal(cxw_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.fd_calls, 0);
        assert_int_equal(write(p[1], "x", 1), 1);
        for (int r = 0; r < ROUNDS_MAX && rec.fd_calls == 0; r++)
                assert_int_equal(cxw_loop_run_once(loop, 100), 0);
        assert_int_equal(rec.fd_calls, 1);
        assert_int_equal(cxw_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.fd_calls, 1); /* drained: no more */

        /* at most 8 fds: the ninth is refused */
        for (; n < 8; n++) {
                assert_int_equal(pipe2(extra[n], O_NONBLOCK | O_CLOEXEC), 0);
                if (cxw_loop_watch_fd(loop, extra[n][0], on_fd, &rec) != 0) {
                        n++;
                        break;
                }
        }
        assert_int_equal(n, 8);
        assert_int_equal(cxw_loop_watch_fd(loop, extra[7][0], on_fd, &rec), -1);
        cxw_loop_destroy(loop);
        for (int i = 0; i < n; i++) {
                close(extra[i][0]);
                close(extra[i][1]);
        }
        close(p[0]);
        close(p[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_timers_fire_in_order_and_stop),
            cmocka_unit_test(test_wakeup_from_another_thread),
            cmocka_unit_test(test_watched_fds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
