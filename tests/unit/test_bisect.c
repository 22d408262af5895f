/* test_bisect.c: a batch's life. Bad entries are found by halving and
 * rejected alone with CXone's answer, the good ones succeed; 5xx, 429 and
 * no answer retry the whole segment; the extra requests stay within
 * 2 k ceil(log2 n); per-entry results come from the call history. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/bisect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMAX 200

/* A fake CXone: 400 naming the first bad entry of a request, else 200. */
typedef struct {
        int bad[NMAX];
        int requests;
        int fault_pct; /* answers that are 503 instead, retried */
        uint64_t rng;
} fake_t;

static long answer_of(const fake_t *f, size_t lo, size_t hi, char *msg, size_t size)
{
        for (size_t i = lo; i < hi; i++) {
                if (f->bad[i]) {
                        snprintf(msg, size, "entry %zu: email is invalid", i);
                        return 400;
                }
        }
        snprintf(msg, size, "ok");
        return 200;
}

static int ceil_log2(size_t n)
{
        int l = 0;

        while (((size_t)1 << l) < n)
                l++;
        return l;
}

/* Sends everything ready, one at a time, until the batch is done. */
static void run(cxw_bisect_t *b, fake_t *f, int64_t *now)
{
        for (int guard = 0; guard < 100 * NMAX && !cxw_bisect_finished(b); guard++) {
                size_t lo, hi;
                char msg[128];
                int call = cxw_bisect_next(b, *now, &lo, &hi);
                long st;
                assert_true(call >= 0);
                st = answer_of(f, lo, hi, msg, sizeof(msg));
                if (f->fault_pct) {
                        f->rng ^= f->rng << 13, f->rng ^= f->rng >> 7,
                            f->rng ^= f->rng << 17;
                        if ((int)(f->rng % 100) < f->fault_pct)
                                st = 503;
                }
                f->requests++;
                *now += 1;
                if (cxw_bisect_answer(b, call, *now, st, 0, msg) == CXW_BATCH_CALL_RETRY)
                        assert_int_equal(cxw_bisect_retry_at(b, call, *now + 10), 0);
                else
                        assert_int_not_equal(st, 503);
                if (cxw_bisect_next_ms(b) > *now && cxw_bisect_next_ms(b) != INT64_MAX)
                        *now = cxw_bisect_next_ms(b);
        }
        assert_true(cxw_bisect_finished(b));
        assert_int_equal(cxw_bisect_in_flight(b), 0);
}

/* Every result as the fake decided it, and the bound on extra requests. */
static void check(cxw_bisect_t *b, const fake_t *f, size_t n)
{
        cxw_batch_result_t res[NMAX];
        const cxw_bisect_counts_t *c = cxw_bisect_counts(b);
        size_t ncalls, k = 0;
        const cxw_batch_call_t *calls = cxw_bisect_calls(b, &ncalls);

        for (size_t i = 0; i < n; i++)
                k += f->bad[i] != 0;
        assert_int_equal(cxw_batch_results(calls, ncalls, n, NULL, res), n);
        for (size_t i = 0; i < n; i++) {
                if (f->bad[i]) {
                        char want[64];
                        assert_int_equal(res[i].verdict, CXW_BATCH_CALL_REJECTED);
                        assert_int_equal(res[i].http_status, 400);
                        snprintf(want, sizeof(want), "entry %zu: email is invalid", i);
                        assert_non_null(res[i].error);
                        assert_non_null(strstr(res[i].error, want));
                        assert_non_null(strstr(res[i].error, "HTTP 400"));
                } else {
                        assert_int_equal(res[i].verdict, CXW_BATCH_CALL_OK);
                        assert_int_equal(res[i].http_status, 200);
                        assert_null(res[i].error);
                }
                assert_true(res[i].attempts >= 1);
                if (!f->fault_pct)
                        assert_true(res[i].attempts <= 1 + ceil_log2(n));
        }
        assert_int_equal(c->requests, (uint64_t)f->requests);
        assert_int_equal(c->requests, ncalls);
        assert_int_equal(c->requests, 1 + c->bisect_requests + c->retries);
        if (!f->fault_pct)
                assert_int_equal(c->retries, 0);
        assert_int_equal(c->rejected, k);
        assert_int_equal(c->succeeded, n - k);
        assert_int_equal(c->failed, 0);
        assert_true(c->bisect_requests <= 2 * k * (uint64_t)ceil_log2(n));
        assert_int_equal(c->bisect_requests, 2 * c->splits);
}

static void one_bad_entry_in_50_is_rejected_alone_and_49_succeed(void **state)
{
        fake_t f = {0};
        cxw_bisect_t *b = cxw_bisect_new(50, 5);
        int64_t now = 1000;

        (void)state;
        assert_non_null(b);
        f.bad[17] = 1;
        run(b, &f, &now);
        check(b, &f, 50);
        /* 1 + 2 per level down to the single entry: 1 + 2 * 6 at most */
        assert_true(f.requests <= 13);
        cxw_bisect_destroy(b);
}

static void all_50_bad_cost_2n_minus_2_extra_requests(void **state)
{
        fake_t f = {0};
        cxw_bisect_t *b = cxw_bisect_new(50, 5);
        int64_t now = 0;

        (void)state;
        for (int i = 0; i < 50; i++)
                f.bad[i] = 1;
        run(b, &f, &now);
        check(b, &f, 50);
        assert_int_equal(cxw_bisect_counts(b)->bisect_requests, 98);
        cxw_bisect_destroy(b);
}

static void bad_entries_at_both_edges_are_found(void **state)
{
        fake_t f = {0};
        cxw_bisect_t *b = cxw_bisect_new(50, 5);
        int64_t now = 0;

        (void)state;
        f.bad[0] = f.bad[49] = 1;
        run(b, &f, &now);
        check(b, &f, 50);
        cxw_bisect_destroy(b);
}

static void good_batch_costs_one_request_and_one_entry_batch_no_split(void **state)
{
        fake_t f = {0};
        cxw_bisect_t *b = cxw_bisect_new(50, 5);
        int64_t now = 0;

        (void)state;
        run(b, &f, &now);
        check(b, &f, 50);
        assert_int_equal(f.requests, 1);
        cxw_bisect_destroy(b);

        memset(&f, 0, sizeof(f));
        f.bad[0] = 1;
        b = cxw_bisect_new(1, 5);
        run(b, &f, &now);
        check(b, &f, 1);
        assert_int_equal(f.requests, 1);
        assert_int_equal(cxw_bisect_counts(b)->splits, 0);
        cxw_bisect_destroy(b);
}

static void random_placements_stay_within_2k_log2_n(void **state)
{
        uint64_t rng = 0x9e3779b97f4a7c15ULL;

        (void)state;
        for (int iter = 0; iter < 3000; iter++) {
                fake_t f = {0};
                size_t n, k;
                cxw_bisect_t *b;
                int64_t now = 0;

                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                n = 1 + (size_t)(rng % NMAX);
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                /* mostly few bad entries, sometimes many */
                k = iter % 4 == 0 ? (size_t)(rng % (n + 1)) : (size_t)(rng % 4);
                if (k > n)
                        k = n;
                for (size_t placed = 0; placed < k;) {
                        size_t at;
                        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                        at = (size_t)(rng % n);
                        if (!f.bad[at]) {
                                f.bad[at] = 1;
                                placed++;
                        }
                }
                b = cxw_bisect_new(n, 5);
                assert_non_null(b);
                run(b, &f, &now);
                check(b, &f, n);
                cxw_bisect_destroy(b);
        }
}

/* 503s anywhere in the tree retry their segment only: results and the
 * bisection bound are the same, the retries are counted apart. */
static void random_placements_with_503s_give_the_same_results(void **state)
{
        uint64_t rng = 0x2545f4914f6cdd1dULL, retries = 0;

        (void)state;
        for (int iter = 0; iter < 1000; iter++) {
                fake_t f = {.fault_pct = 20, .rng = rng | 1};
                size_t n, k;
                cxw_bisect_t *b;
                int64_t now = 0;

                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                n = 1 + (size_t)(rng % NMAX);
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                k = (size_t)(rng % 6) < n ? (size_t)(rng % 6) : n;
                for (size_t placed = 0; placed < k;) {
                        size_t at;
                        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                        at = (size_t)(rng % n);
                        if (!f.bad[at]) {
                                f.bad[at] = 1;
                                placed++;
                        }
                }
                b = cxw_bisect_new(n, CXW_BISECT_SENDS_MAX);
                assert_non_null(b);
                run(b, &f, &now);
                check(b, &f, n);
                retries += cxw_bisect_counts(b)->retries;
                cxw_bisect_destroy(b);
        }
        assert_true(retries > 0);
}

static void retryable_answers_retry_the_whole_batch(void **state)
{
        static const struct {
                long status;
                int transport;
        } cases[] = {{503, 0}, {500, 0}, {429, 0}, {408, 0}, {0, 1}, {401, 0}};

        (void)state;
        for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
                cxw_bisect_t *b = cxw_bisect_new(50, 5);
                cxw_batch_result_t res[50];
                size_t lo, hi, ncalls;
                const cxw_batch_call_t *calls;
                int call;

                call = cxw_bisect_next(b, 100, &lo, &hi);
                assert_int_equal(call, 0);
                assert_int_equal(cxw_bisect_next(b, 100, &lo, &hi), -1); /* in flight */
                assert_int_equal(cxw_bisect_answer(b, call, 150, cases[t].status,
                                                   cases[t].transport, "busy"),
                                 CXW_BATCH_CALL_RETRY);
                /* held for the caller's decision: nothing to send, no time */
                assert_int_equal(cxw_bisect_next(b, 150, &lo, &hi), -1);
                assert_int_equal(cxw_bisect_next_ms(b), INT64_MAX);
                assert_int_equal(cxw_bisect_sends(b, call), 1);
                assert_int_equal(cxw_bisect_retry_at(b, call, 400), 0);
                assert_int_equal(cxw_bisect_retry_at(b, call, 400), -1); /* once */
                assert_int_equal(cxw_bisect_next_ms(b), 400);
                assert_int_equal(cxw_bisect_next(b, 399, &lo, &hi), -1);
                call = cxw_bisect_next(b, 400, &lo, &hi);
                assert_int_equal(call, 1);
                assert_int_equal(lo, 0); /* the whole batch again */
                assert_int_equal(hi, 50);
                assert_int_equal(cxw_bisect_answer(b, call, 420, 200, 0, NULL),
                                 CXW_BATCH_CALL_OK);
                assert_true(cxw_bisect_finished(b));
                assert_int_equal(cxw_bisect_counts(b)->retries, 1);
                assert_int_equal(cxw_bisect_counts(b)->bisect_requests, 0);
                calls = cxw_bisect_calls(b, &ncalls);
                assert_int_equal(ncalls, 2);
                assert_int_equal(calls[0].http_status,
                                 cases[t].transport ? 0 : cases[t].status);
                assert_int_equal(cxw_batch_results(calls, ncalls, 50, NULL, res), 50);
                for (int i = 0; i < 50; i++) {
                        assert_int_equal(res[i].attempts, 2);
                        assert_int_equal(res[i].verdict, CXW_BATCH_CALL_OK);
                        assert_int_equal(res[i].http_status, 200);
                        assert_int_equal(res[i].finished_ms, 420);
                }
                cxw_bisect_destroy(b);
        }
}

static void a_5xx_on_a_half_retries_only_that_half(void **state)
{
        cxw_bisect_t *b = cxw_bisect_new(8, 5);
        cxw_batch_result_t res[8];
        size_t lo, hi, lo2, hi2, ncalls;
        const cxw_batch_call_t *calls;
        int c0, c1, c2, c3;

        (void)state;
        c0 = cxw_bisect_next(b, 0, &lo, &hi);
        assert_int_equal(cxw_bisect_answer(b, c0, 1, 422, 0, "entry 6 bad"),
                         CXW_BATCH_CALL_SPLIT);
        /* both halves may be in flight at once */
        c1 = cxw_bisect_next(b, 1, &lo, &hi);
        c2 = cxw_bisect_next(b, 1, &lo2, &hi2);
        assert_true(c1 >= 0 && c2 >= 0);
        assert_int_equal(lo, 0);
        assert_int_equal(hi, 4);
        assert_int_equal(lo2, 4);
        assert_int_equal(hi2, 8);
        assert_int_equal(cxw_bisect_in_flight(b), 2);
        assert_int_equal(cxw_bisect_answer(b, c2, 2, 503, 0, "down"),
                         CXW_BATCH_CALL_RETRY);
        assert_int_equal(cxw_bisect_answer(b, c1, 3, 200, 0, NULL), CXW_BATCH_CALL_OK);
        assert_int_equal(cxw_bisect_retry_at(b, c2, 10), 0);
        c3 = cxw_bisect_next(b, 10, &lo, &hi);
        assert_int_equal(lo, 4);
        assert_int_equal(hi, 8);
        assert_int_equal(cxw_bisect_answer(b, c3, 11, 200, 0, NULL), CXW_BATCH_CALL_OK);
        assert_true(cxw_bisect_finished(b));
        calls = cxw_bisect_calls(b, &ncalls);
        assert_int_equal(cxw_batch_results(calls, ncalls, 8, NULL, res), 8);
        assert_int_equal(res[0].attempts, 2);
        assert_int_equal(res[7].attempts, 3);
        assert_int_equal(cxw_bisect_counts(b)->retries, 1);
        assert_int_equal(cxw_bisect_counts(b)->bisect_requests, 2);
        cxw_bisect_destroy(b);
}

static void a_404_rejects_the_whole_batch_without_splitting(void **state)
{
        cxw_bisect_t *b = cxw_bisect_new(50, 5);
        cxw_batch_result_t res[50];
        size_t lo, hi, ncalls;
        const cxw_batch_call_t *calls;
        int c;

        (void)state;
        c = cxw_bisect_next(b, 0, &lo, &hi);
        assert_int_equal(cxw_bisect_answer(b, c, 5, 404, 0, "address book 7 not found"),
                         CXW_BATCH_CALL_REJECTED);
        assert_true(cxw_bisect_finished(b));
        calls = cxw_bisect_calls(b, &ncalls);
        assert_int_equal(ncalls, 1);
        assert_int_equal(cxw_batch_results(calls, ncalls, 50, NULL, res), 50);
        assert_int_equal(res[30].verdict, CXW_BATCH_CALL_REJECTED);
        assert_string_equal(res[30].error,
                            "CXone answered HTTP 404: address book 7 not found");
        cxw_bisect_destroy(b);
}

static void retry_budget_ends_in_failed_by_max_sends_or_by_the_caller(void **state)
{
        cxw_bisect_t *b = cxw_bisect_new(4, 2);
        cxw_batch_result_t res[4];
        const cxw_batch_call_t *calls;
        size_t ncalls;
        int c;

        (void)state;
        /* max_sends = 2: the second retryable answer fails the entries */
        c = cxw_bisect_next(b, 0, NULL, NULL);
        assert_int_equal(cxw_bisect_answer(b, c, 1, 503, 0, "x"), CXW_BATCH_CALL_RETRY);
        assert_int_equal(cxw_bisect_retry_at(b, c, 2), 0);
        c = cxw_bisect_next(b, 2, NULL, NULL);
        assert_int_equal(cxw_bisect_answer(b, c, 3, 0, 1, "timed out"),
                         CXW_BATCH_CALL_FAILED);
        assert_true(cxw_bisect_finished(b));
        calls = cxw_bisect_calls(b, &ncalls); /* sets ncalls first */
        assert_int_equal(cxw_batch_results(calls, ncalls, 4, NULL, res), 4);
        assert_int_equal(res[2].verdict, CXW_BATCH_CALL_FAILED);
        assert_int_equal(res[2].http_status, 0);
        assert_int_equal(res[2].attempts, 2);
        assert_string_equal(res[2].error, "gave up after 2 requests: timed out");
        assert_int_equal(cxw_bisect_counts(b)->failed, 4);
        cxw_bisect_destroy(b);

        /* the caller's budget: end() */
        b = cxw_bisect_new(4, 5);
        c = cxw_bisect_next(b, 0, NULL, NULL);
        assert_int_equal(cxw_bisect_answer(b, c, 1, 429, 0, NULL), CXW_BATCH_CALL_RETRY);
        assert_int_equal(cxw_bisect_end(b, c, 9, CXW_BATCH_CALL_OK, "no"), -1);
        assert_int_equal(cxw_bisect_end(b, c, 9, CXW_BATCH_CALL_FAILED,
                                        "gave up after 1 attempts in 9 ms: HTTP 429"),
                         0);
        assert_int_equal(cxw_bisect_end(b, c, 9, CXW_BATCH_CALL_FAILED, "twice"), -1);
        assert_true(cxw_bisect_finished(b));
        calls = cxw_bisect_calls(b, &ncalls); /* sets ncalls first */
        assert_int_equal(cxw_batch_results(calls, ncalls, 4, NULL, res), 4);
        assert_int_equal(res[0].verdict, CXW_BATCH_CALL_FAILED);
        assert_int_equal(res[0].http_status, 429);
        assert_int_equal(res[0].finished_ms, 9);
        assert_string_equal(res[0].error, "gave up after 1 attempts in 9 ms: HTTP 429");
        cxw_bisect_destroy(b);

        /* a second 401: the caller rejects */
        b = cxw_bisect_new(3, 5);
        c = cxw_bisect_next(b, 0, NULL, NULL);
        assert_int_equal(cxw_bisect_answer(b, c, 1, 401, 0, NULL), CXW_BATCH_CALL_RETRY);
        assert_int_equal(cxw_bisect_end(b, c, 2, CXW_BATCH_CALL_REJECTED, "401 again"),
                         0);
        assert_int_equal(cxw_bisect_counts(b)->rejected, 3);
        cxw_bisect_destroy(b);
}

static void misuse_is_refused(void **state)
{
        cxw_bisect_t *b = cxw_bisect_new(2, 5);
        int c;

        (void)state;
        assert_null(cxw_bisect_new(0, 5));
        assert_null(cxw_bisect_new(CXW_BISECT_N_MAX + 1, 5));
        assert_null(cxw_bisect_new(2, 0));
        assert_null(cxw_bisect_new(2, CXW_BISECT_SENDS_MAX + 1));
        assert_int_equal(cxw_bisect_answer(b, 0, 0, 200, 0, NULL), -1); /* not sent */
        c = cxw_bisect_next(b, 0, NULL, NULL);
        assert_int_equal(cxw_bisect_retry_at(b, c, 5), -1); /* not answered */
        assert_int_equal(cxw_bisect_answer(b, c + 1, 0, 200, 0, NULL), -1);
        assert_int_equal(cxw_bisect_answer(b, c, 1, 200, 0, NULL), CXW_BATCH_CALL_OK);
        assert_int_equal(cxw_bisect_answer(b, c, 1, 200, 0, NULL), -1); /* twice */
        assert_int_equal(cxw_bisect_next(b, 5, NULL, NULL), -1);        /* done */
        assert_int_equal(cxw_bisect_sends(b, 7), -1);
        cxw_bisect_destroy(b);
        cxw_bisect_destroy(NULL);
}

static void results_map_a_hand_written_history(void **state)
{
        /* 4 entries: the batch got 503, then 400 and a split; [0,2) ok,
         * [2,3) rejected, [3,4) still in flight */
        cxw_batch_call_t calls[] = {
            {.lo = 0,
             .hi = 4,
             .sent_ms = 10,
             .decided_ms = 20,
             .http_status = 503,
             .verdict = CXW_BATCH_CALL_RETRY},
            {.lo = 0,
             .hi = 4,
             .sent_ms = 30,
             .decided_ms = 40,
             .http_status = 400,
             .verdict = CXW_BATCH_CALL_SPLIT},
            {.lo = 0,
             .hi = 2,
             .sent_ms = 41,
             .decided_ms = 50,
             .http_status = 204,
             .verdict = CXW_BATCH_CALL_OK},
            {.lo = 2,
             .hi = 4,
             .sent_ms = 41,
             .decided_ms = 55,
             .http_status = 400,
             .verdict = CXW_BATCH_CALL_SPLIT},
            {.lo = 2,
             .hi = 3,
             .sent_ms = 56,
             .decided_ms = 70,
             .http_status = 400,
             .verdict = CXW_BATCH_CALL_REJECTED,
             .error = "CXone answered HTTP 400: bad"},
            {.lo = 3, .hi = 4, .sent_ms = 56, .verdict = CXW_BATCH_CALL_IN_FLIGHT},
        };
        int64_t consumed[4] = {1, 2, 3, 4};
        cxw_batch_result_t res[4], res5[5];

        (void)state;
        assert_int_equal(cxw_batch_results(calls, 6, 4, consumed, res), 3);
        assert_int_equal(res[0].verdict, CXW_BATCH_CALL_OK);
        assert_int_equal(res[0].attempts, 3);
        assert_int_equal(res[0].http_status, 204);
        assert_int_equal(res[0].latency_ms, 49);
        assert_int_equal(res[1].latency_ms, 48);
        assert_int_equal(res[2].verdict, CXW_BATCH_CALL_REJECTED);
        assert_int_equal(res[2].attempts, 4);
        assert_int_equal(res[2].latency_ms, 67);
        assert_string_equal(res[2].error, "CXone answered HTTP 400: bad");
        assert_int_equal(res[3].verdict, CXW_BATCH_CALL_IN_FLIGHT);
        assert_int_equal(res[3].attempts, 4);
        assert_int_equal(res[3].latency_ms, 0);
        assert_int_equal(res[3].finished_ms, 0);
        assert_false(cxw_batch_verdict_final(res[3].verdict));
        assert_string_equal(cxw_batch_verdict_str(CXW_BATCH_CALL_SPLIT), "split");
        /* an entry no call carried */
        assert_int_equal(cxw_batch_results(calls, 1, 5, NULL, res5), 0);
        assert_int_equal(res5[3].attempts, 1);
        assert_int_equal(res5[4].attempts, 0);
        assert_int_equal(res5[4].verdict, CXW_BATCH_CALL_IN_FLIGHT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(one_bad_entry_in_50_is_rejected_alone_and_49_succeed),
            cmocka_unit_test(all_50_bad_cost_2n_minus_2_extra_requests),
            cmocka_unit_test(bad_entries_at_both_edges_are_found),
            cmocka_unit_test(good_batch_costs_one_request_and_one_entry_batch_no_split),
            cmocka_unit_test(random_placements_stay_within_2k_log2_n),
            cmocka_unit_test(random_placements_with_503s_give_the_same_results),
            cmocka_unit_test(retryable_answers_retry_the_whole_batch),
            cmocka_unit_test(a_5xx_on_a_half_retries_only_that_half),
            cmocka_unit_test(a_404_rejects_the_whole_batch_without_splitting),
            cmocka_unit_test(retry_budget_ends_in_failed_by_max_sends_or_by_the_caller),
            cmocka_unit_test(misuse_is_refused),
            cmocka_unit_test(results_map_a_hand_written_history),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
