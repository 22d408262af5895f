/* test_metrics.c: registration rules, exact text rendering, bounds, and
 * promtool's verdict on a registry with every kind of family. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cxone/base/metrics.h"

#define PROMTOOL "/usr/bin/promtool"

static char *render(cxw_metrics_t *reg)
{
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(cxw_metrics_render(reg, &out, &len), 0);
        assert_non_null(out);
        assert_int_equal(strlen(out), len);
        return out;
}

static void assert_renders(cxw_metrics_t *reg, const char *want)
{
        char *got = render(reg);

        if (strcmp(got, want) != 0) {
                print_error("--- want\n%s--- got\n%s---\n", want, got);
                free(got);
                fail();
        }
        free(got);
}

static void test_registration_rejects_invalid_names(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        const double bad_order[] = {1, 0.5};
        const double bad_inf[] = {1, INFINITY};

        assert_non_null(reg);
#define REJECT(expr, needle)                                                             \
        do {                                                                             \
                err[0] = '\0';                                                           \
                assert_null(expr);                                                       \
                if (!strstr(err, needle))                                                \
                        fail_msg("errstr \"%s\" lacks \"%s\"", err, needle);             \
        } while (0)

        REJECT(cxw_metrics_gauge(reg, "1abc", "h", NULL, err, sizeof(err)), "invalid");
        REJECT(cxw_metrics_gauge(reg, "a-b", "h", NULL, err, sizeof(err)), "invalid");
        REJECT(cxw_metrics_gauge(reg, "", "h", NULL, err, sizeof(err)), "invalid");
        REJECT(cxw_metrics_gauge(reg, NULL, "h", NULL, err, sizeof(err)), "invalid");
        REJECT(cxw_metrics_counter(reg, "requests", "h", NULL, err, sizeof(err)),
               "_total");
        REJECT(
            cxw_metrics_gauge(reg, "g", "h", CXW_LABELS("__x", NULL), err, sizeof(err)),
            "label");
        REJECT(
            cxw_metrics_gauge(reg, "g", "h", CXW_LABELS("a:b", NULL), err, sizeof(err)),
            "label");
        REJECT(cxw_metrics_gauge(reg, "g", "h", CXW_LABELS("a", "a", NULL), err,
                                 sizeof(err)),
               "repeated");
        REJECT(cxw_metrics_histogram(reg, "h", "h", CXW_LABELS("le", NULL), NULL, 0, err,
                                     sizeof(err)),
               "le");
        REJECT(cxw_metrics_histogram(reg, "h", "h", NULL, bad_order, 2, err, sizeof(err)),
               "increasing");
        REJECT(cxw_metrics_histogram(reg, "h", "h", NULL, bad_inf, 2, err, sizeof(err)),
               "finite");
        const char *many[CXW_METRICS_MAX_LABELS + 2];
        char names[CXW_METRICS_MAX_LABELS + 1][8];
        for (int i = 0; i <= CXW_METRICS_MAX_LABELS; i++) {
                snprintf(names[i], sizeof(names[i]), "l%d", i);
                many[i] = names[i];
        }
        many[CXW_METRICS_MAX_LABELS + 1] = NULL;
        REJECT(cxw_metrics_gauge(reg, "g", "h", many, err, sizeof(err)), "labels");

        /* Valid ones, then the same name again. */
        assert_non_null(cxw_metrics_counter(reg, "ns:sub_requests_total", "h",
                                            CXW_LABELS("_a1", NULL), err, sizeof(err)));
        assert_non_null(cxw_metrics_gauge(reg, "_g", NULL, NULL, err, sizeof(err)));
        REJECT(cxw_metrics_gauge(reg, "_g", "h", NULL, err, sizeof(err)), "already");
        assert_int_equal(
            cxw_metrics_gauge_fn(reg, "_g", "h", NULL, NULL, err, sizeof(err)), -1);
#undef REJECT
        cxw_metrics_destroy(reg);
        cxw_metrics_destroy(NULL);
}

static void test_counter_and_gauge_render_exactly(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        cxw_metric_t *c =
            cxw_metrics_counter(reg, "cxw_requests_total", "Requests seen.",
                                CXW_LABELS("type", "status", NULL), err, sizeof(err));
        cxw_metric_t *plain =
            cxw_metrics_counter(reg, "cxw_polls_total", "Polls.", NULL, err, sizeof(err));
        cxw_metric_t *g =
            cxw_metrics_gauge(reg, "cxw_in_flight", "In flight.", NULL, err, sizeof(err));
        cxw_metric_t *empty = cxw_metrics_gauge(reg, "cxw_unused", "Never set.",
                                                CXW_LABELS("x", NULL), err, sizeof(err));
        assert_non_null(c);
        assert_non_null(plain);
        assert_non_null(g);
        assert_non_null(empty);

        /* Label-less families render 0 from the start; labelled ones nothing. */
        assert_renders(reg, "# HELP cxw_polls_total Polls.\n"
                            "# TYPE cxw_polls_total counter\n"
                            "cxw_polls_total 0\n"
                            "# HELP cxw_in_flight In flight.\n"
                            "# TYPE cxw_in_flight gauge\n"
                            "cxw_in_flight 0\n");

        cxw_series_t *ok =
            cxw_metric_series(c, CXW_LABELS("contact-update", "succeeded"));
        assert_non_null(ok);
        cxw_series_add(ok, 1);
        cxw_series_add(ok, 2);
        cxw_series_add(ok, -5);  /* ignored: counters only go up */
        cxw_series_add(ok, NAN); /* ignored */
        cxw_metric_add(c, CXW_LABELS("contact-update", "rejected"), 1);
        /* The same tuple finds the same series. */
        assert_ptr_equal(cxw_metric_series(c, CXW_LABELS("contact-update", "succeeded")),
                         ok);
        assert_int_equal(cxw_metric_series_count(c), 2);
        assert_true(cxw_series_value(ok) == 3);
        cxw_metric_add(plain, NULL, 7);
        cxw_metric_set(g, NULL, 2.5);
        cxw_metric_add(g, NULL, -4);

        assert_renders(
            reg, "# HELP cxw_requests_total Requests seen.\n"
                 "# TYPE cxw_requests_total counter\n"
                 "cxw_requests_total{type=\"contact-update\",status=\"succeeded\"} 3\n"
                 "cxw_requests_total{type=\"contact-update\",status=\"rejected\"} 1\n"
                 "# HELP cxw_polls_total Polls.\n"
                 "# TYPE cxw_polls_total counter\n"
                 "cxw_polls_total 7\n"
                 "# HELP cxw_in_flight In flight.\n"
                 "# TYPE cxw_in_flight gauge\n"
                 "cxw_in_flight -1.5\n");
        cxw_metrics_destroy(reg);
}

static void test_histogram_renders_cumulative_buckets_sum_count(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        const double bounds[] = {0.1, 0.5, 1};
        cxw_metric_t *h =
            cxw_metrics_histogram(reg, "cxw_latency_seconds", "Latency.",
                                  CXW_LABELS("op", NULL), bounds, 3, err, sizeof(err));
        assert_non_null(h);
        cxw_series_t *s = cxw_metric_series(h, CXW_LABELS("patch"));
        cxw_series_observe(s, 0.05);
        cxw_series_observe(s, 0.1); /* le is inclusive */
        cxw_series_observe(s, 0.7);
        cxw_series_observe(s, 3);
        cxw_series_observe(s, NAN); /* ignored */
        cxw_series_add(s, 100);     /* ignored on a histogram */
        assert_int_equal(cxw_series_count(s), 4);

        assert_renders(reg, "# HELP cxw_latency_seconds Latency.\n"
                            "# TYPE cxw_latency_seconds histogram\n"
                            "cxw_latency_seconds_bucket{op=\"patch\",le=\"0.1\"} 2\n"
                            "cxw_latency_seconds_bucket{op=\"patch\",le=\"0.5\"} 2\n"
                            "cxw_latency_seconds_bucket{op=\"patch\",le=\"1\"} 3\n"
                            "cxw_latency_seconds_bucket{op=\"patch\",le=\"+Inf\"} 4\n"
                            "cxw_latency_seconds_sum{op=\"patch\"} 3.85\n"
                            "cxw_latency_seconds_count{op=\"patch\"} 4\n");

        /* Default buckets, no labels. */
        cxw_metric_t *d =
            cxw_metrics_histogram(reg, "cxw_d", "D.", NULL, NULL, 0, err, sizeof(err));
        assert_non_null(d);
        cxw_metric_observe(d, NULL, 0.2);
        char *out = render(reg);
        assert_non_null(strstr(out, "cxw_d_bucket{le=\"0.005\"} 0\n"));
        assert_non_null(strstr(out, "cxw_d_bucket{le=\"0.25\"} 1\n"));
        assert_non_null(strstr(out, "cxw_d_bucket{le=\"10\"} 1\n"));
        assert_non_null(strstr(out, "cxw_d_bucket{le=\"+Inf\"} 1\n"));
        assert_non_null(strstr(out, "cxw_d_sum 0.2\ncxw_d_count 1\n"));
        free(out);
        cxw_metrics_destroy(reg);
}

static void test_label_values_and_help_escaped(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        cxw_metric_t *g = cxw_metrics_gauge(reg, "g", "Back\\slash and\nnewline \"q\".",
                                            CXW_LABELS("v", NULL), err, sizeof(err));
        assert_non_null(g);
        cxw_metric_set(g, CXW_LABELS("a\\b\"c\nd"), 1);
        cxw_metric_set(g, CXW_LABELS("caf\xc3\xa9 bad\xff"), 2); /* é kept, 0xff not */
        cxw_metric_set(g, NULL, 3);                              /* NULL reads as "" */
        assert_renders(reg, "# HELP g Back\\\\slash and\\nnewline \"q\".\n"
                            "# TYPE g gauge\n"
                            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n"
                            "g{v=\"caf\xc3\xa9 bad?\"} 2\n"
                            "g{v=\"\"} 3\n");
        cxw_metrics_destroy(reg);
}

static void test_numbers_formatted_for_promtool(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        cxw_metric_t *g =
            cxw_metrics_gauge(reg, "n", "N.", CXW_LABELS("k", NULL), err, sizeof(err));
        assert_non_null(g);
        cxw_metric_set(g, CXW_LABELS("int"), 12345678901.0);
        cxw_metric_set(g, CXW_LABELS("frac"), 0.1);
        cxw_metric_set(g, CXW_LABELS("third"), 1.0 / 3);
        cxw_metric_set(g, CXW_LABELS("big"), 1e20);
        cxw_metric_set(g, CXW_LABELS("negzero"), -0.0);
        cxw_metric_set(g, CXW_LABELS("nan"), NAN);
        cxw_metric_set(g, CXW_LABELS("inf"), INFINITY);
        cxw_metric_set(g, CXW_LABELS("ninf"), -INFINITY);
        assert_renders(reg, "# HELP n N.\n"
                            "# TYPE n gauge\n"
                            "n{k=\"int\"} 12345678901\n"
                            "n{k=\"frac\"} 0.1\n"
                            "n{k=\"third\"} 0.33333333333333331\n"
                            "n{k=\"big\"} 1e+20\n"
                            "n{k=\"negzero\"} 0\n"
                            "n{k=\"nan\"} NaN\n"
                            "n{k=\"inf\"} +Inf\n"
                            "n{k=\"ninf\"} -Inf\n");
        cxw_metrics_destroy(reg);
}

static void test_series_cap_sends_new_tuples_to_other(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(3);
        char err[256];
        cxw_metric_t *c = cxw_metrics_counter(
            reg, "c_total", "C.", CXW_LABELS("a", "b", NULL), err, sizeof(err));
        char v[16];

        assert_non_null(c);
        for (int i = 0; i < 10; i++) {
                snprintf(v, sizeof(v), "v%d", i);
                cxw_metric_add(c, CXW_LABELS(v, "x"), 1);
        }
        /* Known tuples still find their own series. */
        cxw_metric_add(c, CXW_LABELS("v1", "x"), 1);
        assert_int_equal(cxw_metric_series_count(c), 3);
        assert_int_equal(cxw_metric_overflows(c), 7);
        assert_renders(reg, "# HELP c_total C.\n"
                            "# TYPE c_total counter\n"
                            "c_total{a=\"v0\",b=\"x\"} 1\n"
                            "c_total{a=\"v1\",b=\"x\"} 2\n"
                            "c_total{a=\"v2\",b=\"x\"} 1\n"
                            "c_total{a=\"other\",b=\"other\"} 7\n");
        cxw_metrics_destroy(reg);
}

static void test_many_series_found_again_after_table_growth(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        cxw_metric_t *c = cxw_metrics_counter(reg, "c_total", "C.", CXW_LABELS("k", NULL),
                                              err, sizeof(err));
        cxw_series_t *first[5000];
        char v[16];

        for (int i = 0; i < 5000; i++) {
                snprintf(v, sizeof(v), "k%d", i);
                first[i] = cxw_metric_series(c, CXW_LABELS(v));
                assert_non_null(first[i]);
        }
        for (int i = 0; i < 5000; i++) {
                snprintf(v, sizeof(v), "k%d", i);
                assert_ptr_equal(cxw_metric_series(c, CXW_LABELS(v)), first[i]);
        }
        assert_int_equal(cxw_metric_series_count(c), 5000);
        assert_int_equal(cxw_metric_overflows(c), 0);
        cxw_metrics_destroy(reg);
}

static void test_long_label_values_cut_at_character_boundary(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        cxw_metric_t *g =
            cxw_metrics_gauge(reg, "g", "G.", CXW_LABELS("v", NULL), err, sizeof(err));
        char longv[CXW_METRICS_MAX_VALUE + 10];

        /* 255 x 'a', then a 2-byte é straddling the cut, then more. */
        memset(longv, 'a', sizeof(longv));
        memcpy(longv + CXW_METRICS_MAX_VALUE - 1, "\xc3\xa9", 2);
        longv[sizeof(longv) - 1] = '\0';
        cxw_series_t *s = cxw_metric_series(g, CXW_LABELS(longv));
        assert_non_null(s);
        longv[CXW_METRICS_MAX_VALUE + 5] = 'b'; /* differs past the cut: same series */
        assert_ptr_equal(cxw_metric_series(g, CXW_LABELS(longv)), s);
        char *out = render(reg);
        char want[CXW_METRICS_MAX_VALUE + 16];
        memset(want, 'a', CXW_METRICS_MAX_VALUE - 1);
        snprintf(want + CXW_METRICS_MAX_VALUE - 1, 16, "\"} 0\n");
        assert_non_null(strstr(out, want));
        free(out);
        cxw_metrics_destroy(reg);
}

static double in_flight(void *opaque)
{
        return (double)*(int *)opaque;
}

static void collect_lag(void *opaque, cxw_metrics_emitter_t *e)
{
        int *calls = opaque;

        (*calls)++;
        assert_int_equal(
            cxw_metrics_emit_family(e, "cxw_consumer_lag", "Lag.", CXW_METRIC_GAUGE), 0);
        assert_int_equal(cxw_metrics_emit_sample(
                             e, CXW_LABELS("topic", "t\"1", "partition", "0", NULL), 42),
                         0);
        assert_int_equal(cxw_metrics_emit_sample(e, NULL, 1), 0);
        /* Rejected: invalid label, repeated label, dangling name. */
        assert_int_equal(cxw_metrics_emit_sample(e, CXW_LABELS("__x", "1", NULL), 1), -1);
        assert_int_equal(
            cxw_metrics_emit_sample(e, CXW_LABELS("a", "1", "a", "2", NULL), 1), -1);
        assert_int_equal(cxw_metrics_emit_sample(e, CXW_LABELS("a", NULL), 1), -1);
        /* Rejected families: duplicate of a registered one, of this render's,
         * a counter without _total, a histogram; their samples are dropped. */
        assert_int_equal(
            cxw_metrics_emit_family(e, "cxw_in_flight", "x", CXW_METRIC_GAUGE), -1);
        assert_int_equal(cxw_metrics_emit_sample(e, NULL, 1), -1);
        assert_int_equal(
            cxw_metrics_emit_family(e, "cxw_consumer_lag", "x", CXW_METRIC_GAUGE), -1);
        assert_int_equal(cxw_metrics_emit_family(e, "cxw_x", "x", CXW_METRIC_COUNTER),
                         -1);
        assert_int_equal(cxw_metrics_emit_family(e, "cxw_h", "x", CXW_METRIC_HISTOGRAM),
                         -1);
        assert_int_equal(cxw_metrics_emit_family(e, "cxw_rebalances_total", "Rebalances.",
                                                 CXW_METRIC_COUNTER),
                         0);
        assert_int_equal(cxw_metrics_emit_sample(e, NULL, 3), 0);
}

static void test_callback_gauge_and_collector_rendered_at_render_time(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char err[256];
        int n = 5, calls = 0;

        assert_int_equal(cxw_metrics_gauge_fn(reg, "cxw_in_flight", "In flight.",
                                              in_flight, &n, err, sizeof(err)),
                         0);
        assert_int_equal(cxw_metrics_add_collector(reg, collect_lag, &calls), 0);
        /* No family, no series. */
        assert_null(cxw_metric_series(NULL, NULL));
        n = 9;
        assert_renders(reg, "# HELP cxw_in_flight In flight.\n"
                            "# TYPE cxw_in_flight gauge\n"
                            "cxw_in_flight 9\n"
                            "# HELP cxw_consumer_lag Lag.\n"
                            "# TYPE cxw_consumer_lag gauge\n"
                            "cxw_consumer_lag{topic=\"t\\\"1\",partition=\"0\"} 42\n"
                            "cxw_consumer_lag 1\n"
                            "# HELP cxw_rebalances_total Rebalances.\n"
                            "# TYPE cxw_rebalances_total counter\n"
                            "cxw_rebalances_total 3\n");
        assert_int_equal(calls, 1);
        /* A second render starts afresh (names of the last one forgotten). */
        char *out = render(reg);
        assert_non_null(strstr(out, "cxw_consumer_lag 1\n"));
        free(out);
        assert_int_equal(calls, 2);
        cxw_metrics_destroy(reg);
}

static void test_empty_registry_renders_empty_text(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(0);
        char *out = NULL;

        assert_renders(reg, "");
        assert_int_equal(cxw_metrics_render(NULL, &out, NULL), -1);
        assert_null(out);
        cxw_metrics_destroy(reg);
}

static void collect_simple(void *opaque, cxw_metrics_emitter_t *e)
{
        (void)opaque;
        cxw_metrics_emit_family(e, "cxw_partition_lag", "Lag per partition.",
                                CXW_METRIC_GAUGE);
        for (int p = 0; p < 3; p++) {
                char pv[8];
                snprintf(pv, sizeof(pv), "%d", p);
                cxw_metrics_emit_sample(
                    e,
                    CXW_LABELS("topic", "cxone.contact-updates", "partition", pv, NULL),
                    p * 10);
        }
}

static void test_promtool_accepts_every_kind_of_family(void **state)
{
        (void)state;
        cxw_metrics_t *reg = cxw_metrics_new(2);
        char err[256];
        int n = 4;

        if (access(PROMTOOL, X_OK) != 0) {
                print_message("NOTE: %s absent; promtool check skipped "
                              "(install Debian package prometheus)\n",
                              PROMTOOL);
                cxw_metrics_destroy(reg);
                skip();
        }
        cxw_metric_t *c =
            cxw_metrics_counter(reg, "cxw_outcomes_total", "Outcomes by status.",
                                CXW_LABELS("status", NULL), err, sizeof(err));
        cxw_metric_t *g =
            cxw_metrics_gauge(reg, "cxw_queue_depth", "Help with \\ and\nnl.",
                              CXW_LABELS("key", NULL), err, sizeof(err));
        cxw_metric_t *h = cxw_metrics_histogram(
            reg, "cxw_http_request_duration_seconds", "HTTP latency.",
            CXW_LABELS("class", NULL), NULL, 0, err, sizeof(err));
        cxw_metric_t *u = cxw_metrics_gauge(reg, "cxw_up", "Up.", NULL, err, sizeof(err));
        assert_non_null(c);
        assert_non_null(g);
        assert_non_null(h);
        assert_non_null(u);
        assert_int_equal(cxw_metrics_gauge_fn(reg, "cxw_in_flight", "In flight.",
                                              in_flight, &n, err, sizeof(err)),
                         0);
        assert_int_equal(cxw_metrics_add_collector(reg, collect_simple, NULL), 0);
        cxw_metric_add(c, CXW_LABELS("succeeded"), 10);
        cxw_metric_add(c, CXW_LABELS("rejected"), 2);
        cxw_metric_add(c, CXW_LABELS("failed"), 1); /* over the cap of 2: "other" */
        cxw_metric_set(g, CXW_LABELS("a\"b\\c\nd"), 0.25);
        cxw_metric_set(g, CXW_LABELS("nan"), NAN);
        cxw_metric_observe(h, CXW_LABELS("contacts"), 0.042);
        cxw_metric_observe(h, CXW_LABELS("contacts"), 12);
        cxw_metric_set(u, NULL, 1);

        char *out = render(reg);
        char path[] = "/tmp/test_metrics_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
        close(fd);
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "timeout 60 %s check metrics < %s 2>&1", PROMTOOL,
                 path);
        int rc = system(cmd);
        unlink(path);
        if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
                print_error("promtool rejected:\n%s", out);
                free(out);
                fail_msg("promtool check metrics: status %d", rc);
        }
        free(out);
        cxw_metrics_destroy(reg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_registration_rejects_invalid_names),
            cmocka_unit_test(test_counter_and_gauge_render_exactly),
            cmocka_unit_test(test_histogram_renders_cumulative_buckets_sum_count),
            cmocka_unit_test(test_label_values_and_help_escaped),
            cmocka_unit_test(test_numbers_formatted_for_promtool),
            cmocka_unit_test(test_series_cap_sends_new_tuples_to_other),
            cmocka_unit_test(test_many_series_found_again_after_table_growth),
            cmocka_unit_test(test_long_label_values_cut_at_character_boundary),
            cmocka_unit_test(test_callback_gauge_and_collector_rendered_at_render_time),
            cmocka_unit_test(test_empty_registry_renders_empty_text),
            cmocka_unit_test(test_promtool_accepts_every_kind_of_family),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
