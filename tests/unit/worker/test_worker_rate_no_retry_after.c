/* test_worker_rate_no_retry_after.c: a 429 without Retry-After (CXone
 * promises none) is never retried at once: the class pauses for
 * rate.retry_after_missing_ms when set, else for the budget's own measure
 * (at least 100 ms); calls of other keys wait too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "cxone/base/util.h"

#define TC "t.contacts"

static int one_open(fx_t *f)
{
        (void)f;
        return fh_open_cnt() >= 1;
}

static int no_jobs(fx_t *f)
{
        return f->w->njobs == 0;
}

/* Answers the first call 429 without Retry-After; @returns how long the
 * next call (of another key) waited after it. */
static int64_t pause_after_429(const char *extra)
{
        fx_t *f = fx_new(extra);
        char buf[256];
        int64_t answered, waited;
        fh_req_t *r;

        fk_inject(TC, 0, "c-1", fx_update(buf, sizeof(buf), "c-1", "Ann"), NULL);
        fx_round(f, 0);
        r = fh_open("PATCH", "/c-1");
        assert_non_null(r);
        fh_answer(r, 429, "{\"error\":\"rate limit exceeded\"}", NULL);
        answered = cxw_now_ms();
        fx_round(f, 0);
        assert_int_equal(f->w->stats.http_429, 1);
        fk_inject(TC, 0, "c-2", fx_update(buf, sizeof(buf), "c-2", "Bo"), NULL);
        fx_spin(f, 50);
        assert_int_equal(fh_started("PATCH", NULL), 1); /* not at once */
        assert_true(fx_until(f, one_open, 3000));
        r = fh_open("PATCH", NULL);
        waited = r->started_ms - answered;
        fh_answer(r, 200, "{}", NULL);
        for (int i = 0; i < 2 && fx_until(f, one_open, 3000); i++)
                fh_answer(fh_open("PATCH", NULL), 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 3000));
        assert_int_equal(f->w->stats.succeeded, 2);
        assert_int_equal(f->w->stats.failed, 0);
        fx_free(f);
        return waited;
}

static void test_configured_pause(void **state)
{
        int64_t waited =
            pause_after_429("rate = { rps = 100; retry_after_missing_ms = 300; "
                            "};\n");

        (void)state;
        print_message("  waited %lld ms\n", (long long)waited);
        assert_true(waited >= 295);
}

static void test_budget_measure_by_default(void **state)
{
        int64_t waited = pause_after_429("rate = { rps = 100; };\n");

        (void)state;
        print_message("  waited %lld ms\n", (long long)waited);
        assert_true(waited >= 95); /* at least 100 ms */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_configured_pause, fx_teardown),
            cmocka_unit_test_teardown(test_budget_measure_by_default, fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
