/* test_retry.c: classification, Retry-After parsing, backoff with jitter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/retry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define HOUR_MS (3600 * 1000LL)

static void classify_maps_every_status_to_its_class(void **state)
{
        static const struct {
                long status;
                int transport;
                cxw_result_class_t want;
        } cases[] = {
            {200, 0, CXW_RESULT_OK},
            {204, 0, CXW_RESULT_OK},
            {299, 0, CXW_RESULT_OK},
            {429, 0, CXW_RESULT_RATE_LIMITED},
            {401, 0, CXW_RESULT_UNAUTHORIZED},
            {408, 0, CXW_RESULT_SERVER},
            {500, 0, CXW_RESULT_SERVER},
            {502, 0, CXW_RESULT_SERVER},
            {503, 0, CXW_RESULT_SERVER},
            {599, 0, CXW_RESULT_SERVER},
            {400, 0, CXW_RESULT_FINAL},
            {403, 0, CXW_RESULT_FINAL},
            {404, 0, CXW_RESULT_FINAL},
            {409, 0, CXW_RESULT_FINAL},
            {422, 0, CXW_RESULT_FINAL},
            {100, 0, CXW_RESULT_FINAL},
            {301, 0, CXW_RESULT_FINAL},
            {304, 0, CXW_RESULT_FINAL},
            {0, 0, CXW_RESULT_FINAL},
            {600, 0, CXW_RESULT_FINAL},
            {-1, 0, CXW_RESULT_FINAL},
            /* transport error wins over any status */
            {0, 7, CXW_RESULT_NETWORK},
            {200, 28, CXW_RESULT_NETWORK},
            {503, 1, CXW_RESULT_NETWORK},
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cxw_result_class_t got =
                    cxw_result_classify(cases[i].status, cases[i].transport);
                if (got != cases[i].want)
                        fail_msg("status %ld transport %d: got %s, want %s",
                                 cases[i].status, cases[i].transport,
                                 cxw_result_class_str(got),
                                 cxw_result_class_str(cases[i].want));
        }
}

static void class_names_are_stable(void **state)
{
        (void)state;
        assert_string_equal(cxw_result_class_str(CXW_RESULT_OK), "ok");
        assert_string_equal(cxw_result_class_str(CXW_RESULT_RATE_LIMITED),
                            "rate_limited");
        assert_string_equal(cxw_result_class_str(CXW_RESULT_SERVER), "server_error");
        assert_string_equal(cxw_result_class_str(CXW_RESULT_NETWORK), "network");
        assert_string_equal(cxw_result_class_str(CXW_RESULT_UNAUTHORIZED),
                            "unauthorized");
        assert_string_equal(cxw_result_class_str(CXW_RESULT_FINAL), "final");
}

static void retry_after_seconds_give_milliseconds(void **state)
{
        int64_t now = 1700000000123LL;
        (void)state;
        assert_int_equal(cxw_retry_after_ms("120", now, HOUR_MS), 120000);
        assert_int_equal(cxw_retry_after_ms("0", now, HOUR_MS), 0);
        assert_int_equal(cxw_retry_after_ms("1", now, HOUR_MS), 1000);
        assert_int_equal(cxw_retry_after_ms("  7 ", now, HOUR_MS), 7000);
        assert_int_equal(cxw_retry_after_ms("\t30\t", now, HOUR_MS), 30000);
        assert_int_equal(cxw_retry_after_ms("007", now, HOUR_MS), 7000);
}

static void retry_after_is_capped_and_never_overflows(void **state)
{
        int64_t now = 1700000000000LL;
        (void)state;
        assert_int_equal(cxw_retry_after_ms("3600", now, 60000), 60000);
        assert_int_equal(cxw_retry_after_ms("60", now, 60000), 60000);
        assert_int_equal(cxw_retry_after_ms("61", now, 60000), 60000);
        assert_int_equal(cxw_retry_after_ms("9223372036854775807", now, 60000), 60000);
        assert_int_equal(
            cxw_retry_after_ms("99999999999999999999999999999999999999", now, 60000),
            60000);
        assert_int_equal(cxw_retry_after_ms("99999999999999999999999", now, INT64_MAX),
                         INT64_MAX);
        /* a date far in the future is capped too */
        assert_int_equal(cxw_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now, 60000),
                         60000);
}

/* Formats wall-clock seconds with strftime (C locale) in a given form. */
static void format_date(time_t t, const char *fmt, char *buf, size_t size)
{
        struct tm tm;

        gmtime_r(&t, &tm);
        assert_true(strftime(buf, size, fmt, &tm) > 0);
}

static void retry_after_date_gives_delay_to_the_millisecond(void **state)
{
        static const char *const forms[] = {
            "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
            "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
            "%a %b %e %H:%M:%S %Y",      /* asctime */
        };
        (void)state;
        /* now = a known second + 250 ms; the date is 100 s after that second */
        time_t base = 1763708941; /* 2025-11-21T07:09:01Z */
        int64_t now = (int64_t)base * 1000 + 250;
        for (size_t i = 0; i < 3; i++) {
                char date[64];
                format_date(base + 100, forms[i], date, sizeof(date));
                int64_t got = cxw_retry_after_ms(date, now, HOUR_MS);
                if (got != 99750)
                        fail_msg("'%s': got %lld, want 99750", date, (long long)got);
        }
        /* single-digit days, where asctime pads with a space */
        base = 1762412977; /* 2025-11-06T07:09:37Z */
        now = (int64_t)base * 1000;
        for (size_t i = 0; i < 3; i++) {
                char date[64];
                format_date(base + 1, forms[i], date, sizeof(date));
                int64_t got = cxw_retry_after_ms(date, now, HOUR_MS);
                if (got != 1000)
                        fail_msg("'%s': got %lld, want 1000", date, (long long)got);
        }
}

static void retry_after_accepts_the_three_rfc7231_date_forms(void **state)
{
        /* RFC 7231's own example: 784111777 = Sun, 06 Nov 1994 08:49:37 GMT */
        int64_t now = 784111777000LL - 5000;
        (void)state;
        assert_int_equal(
            cxw_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now, HOUR_MS), 5000);
        assert_int_equal(
            cxw_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now, HOUR_MS), 5000);
        assert_int_equal(cxw_retry_after_ms("Sun Nov  6 08:49:37 1994", now, HOUR_MS),
                         5000);
        assert_int_equal(
            cxw_retry_after_ms("  Sun, 06 Nov 1994 08:49:37 GMT  ", now, HOUR_MS), 5000);
        /* a leap day */
        now = 951782400000LL - 2000; /* 2000-02-29T00:00:00Z - 2 s */
        assert_int_equal(
            cxw_retry_after_ms("Tue, 29 Feb 2000 00:00:00 GMT", now, HOUR_MS), 2000);
}

static void retry_after_date_in_the_past_gives_zero(void **state)
{
        int64_t now = 1700000000000LL;
        (void)state;
        assert_int_equal(
            cxw_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now, HOUR_MS), 0);
        assert_int_equal(cxw_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT",
                                            784111777000LL + 1, HOUR_MS),
                         0);
        /* RFC 850's two-digit year: "94" seen from 2023 is 1994 (2094 is more
         * than 50 years ahead), so it is in the past */
        assert_int_equal(
            cxw_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now, HOUR_MS), 0);
        /* exactly now */
        assert_int_equal(
            cxw_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL, HOUR_MS),
            0);
}

static void retry_after_garbage_gives_minus_one(void **state)
{
        static const char *const bad[] = {
            "abc",
            "-5",
            "+5",
            "1.5",
            "1e3",
            "0x10",
            "12a",
            "1 2",
            "",
            "   ",
            "Sun, 99 Foo",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Mon, 29 Feb 1900 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37",
            "2025-11-21T07:09:01Z",
            "Sun,",
            "S",
        };
        (void)state;
        assert_int_equal(cxw_retry_after_ms(NULL, 0, HOUR_MS), -1);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t got = cxw_retry_after_ms(bad[i], 1700000000000LL, HOUR_MS);
                if (got != -1)
                        fail_msg("'%s': got %lld, want -1", bad[i], (long long)got);
        }
        /* a very long value is refused, not scanned */
        char longv[1024];
        memset(longv, '1', sizeof(longv) - 1);
        longv[sizeof(longv) - 1] = '\0';
        assert_int_equal(cxw_retry_after_ms(longv, 0, HOUR_MS), -1);
}

static void backoff_stays_within_bounds_and_reaches_the_ceiling(void **state)
{
        uint64_t rng = 0x1234567887654321ULL;
        const int64_t base = 100, cap = 10000;
        int64_t prev_max = -1;
        (void)state;
        for (int attempt = 1; attempt <= 10; attempt++) {
                int64_t ceiling = base << (attempt - 1);
                if (ceiling > cap)
                        ceiling = cap;
                int64_t max = 0, min = INT64_MAX;
                for (int i = 0; i < 10000; i++) {
                        int64_t v = cxw_backoff_ms(attempt, base, cap, &rng);
                        if (v < 0 || v > ceiling)
                                fail_msg("attempt %d: %lld outside [0, %lld]", attempt,
                                         (long long)v, (long long)ceiling);
                        if (v > max)
                                max = v;
                        if (v < min)
                                min = v;
                }
                /* 10,000 uniform draws: the maximum is within 1% of the ceiling
                 * and the minimum within 1% of 0, unless astronomically unlucky */
                assert_true(max >= ceiling - ceiling / 100 - 1);
                assert_true(min <= ceiling / 100 + 1);
                /* the ceiling grows with attempts, then stays at the cap */
                if (ceiling < cap)
                        assert_true(max > prev_max);
                else
                        assert_true(max >= cap - cap / 100);
                prev_max = max;
        }
}

static void backoff_treats_attempt_below_one_as_one(void **state)
{
        uint64_t rng = 42;
        (void)state;
        for (int i = 0; i < 1000; i++) {
                assert_in_range(cxw_backoff_ms(0, 100, 10000, &rng), 0, 100);
                assert_in_range(cxw_backoff_ms(-5, 100, 10000, &rng), 0, 100);
                assert_in_range(cxw_backoff_ms(INT32_MIN, 100, 10000, &rng), 0, 100);
        }
}

static void backoff_does_not_overflow_for_attempt_1000(void **state)
{
        uint64_t rng = 7;
        int64_t max = 0;
        (void)state;
        for (int i = 0; i < 10000; i++) {
                int64_t v = cxw_backoff_ms(1000, 250, 30000, &rng);
                assert_in_range(v, 0, 30000);
                if (v > max)
                        max = v;
        }
        assert_true(max >= 29700);
        for (int i = 0; i < 1000; i++) {
                int64_t v = cxw_backoff_ms(INT32_MAX, INT64_MAX / 2, INT64_MAX, &rng);
                assert_true(v >= 0);
        }
}

static void backoff_with_zero_base_or_cap_is_zero(void **state)
{
        uint64_t rng = 9;
        (void)state;
        assert_int_equal(cxw_backoff_ms(3, 0, 1000, &rng), 0);
        assert_int_equal(cxw_backoff_ms(3, 100, 0, &rng), 0);
        /* a zero rng state is repaired, not stuck at 0 forever */
        rng = 0;
        int64_t sum = 0;
        for (int i = 0; i < 100; i++)
                sum += cxw_backoff_ms(1, 1000, 1000, &rng);
        assert_true(sum > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(classify_maps_every_status_to_its_class),
            cmocka_unit_test(class_names_are_stable),
            cmocka_unit_test(retry_after_seconds_give_milliseconds),
            cmocka_unit_test(retry_after_is_capped_and_never_overflows),
            cmocka_unit_test(retry_after_date_gives_delay_to_the_millisecond),
            cmocka_unit_test(retry_after_accepts_the_three_rfc7231_date_forms),
            cmocka_unit_test(retry_after_date_in_the_past_gives_zero),
            cmocka_unit_test(retry_after_garbage_gives_minus_one),
            cmocka_unit_test(backoff_stays_within_bounds_and_reaches_the_ceiling),
            cmocka_unit_test(backoff_treats_attempt_below_one_as_one),
            cmocka_unit_test(backoff_does_not_overflow_for_attempt_1000),
            cmocka_unit_test(backoff_with_zero_base_or_cap_is_zero),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
