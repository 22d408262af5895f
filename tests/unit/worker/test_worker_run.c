/* test_worker_run.c: cxw_worker_run() itself on the fakes (fakes.h): the
 * loop consumes, calls, produces and stores until SIGTERM, then drains what
 * is in flight and returns 0. The signal is raised by the fake CXone's
 * responder while it answers, so the test needs no thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fakes.h"
#include "cxone/base/util.h"

#define TC "t.contacts"

typedef struct {
        int answered;
        int stop_after; /* raise SIGTERM after this many answers */
} script_t;

static int answer_all(fh_req_t *r, void *opaque)
{
        script_t *s = opaque;

        if (strcmp(r->method, "PATCH") != 0)
                return 0;
        fh_answer(r, 200, "{}", NULL);
        if (++s->answered == s->stop_after)
                raise(SIGTERM); /* blocked: read by the worker's signalfd */
        return 1;
}

/* Two updates consumed; SIGTERM after the first answer: consumption stops
 * (paused), the second call still ends, both outcomes are acknowledged and
 * stored, and the run returns 0. */
static void test_run_drains_on_sigterm(void **state)
{
        fx_t *f = fx_new(NULL);
        script_t s = {0, 1};
        char buf[128];
        int64_t t0;

        (void)state;
        fk_inject(TC, 0, "c-1", fx_update(buf, sizeof(buf), "c-1", "A"), NULL);
        fk_inject(TC, 0, "c-2", fx_update(buf, sizeof(buf), "c-2", "B"), NULL);
        fh_set_responder(answer_all, &s);
        t0 = cxw_now_ms();
        assert_int_equal(cxw_worker_run(f->w), 0);
        assert_true(cxw_now_ms() - t0 < 2000);
        assert_int_equal(s.answered, 2);
        assert_int_equal(cxw_worker_stats(f->w)->succeeded, 2);
        assert_int_equal(f->w->njobs, 0);
        assert_true(fk_is_paused());
        assert_int_equal(fk_produced_cnt("t.results"), 2);
        assert_int_equal(fk_stored(TC, 0), 2);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_run_drains_on_sigterm, fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
