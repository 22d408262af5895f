/* test_peers.c: the lending share math and the report codec, driven by
 * hand-held clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cxone/base/log.h"
#include "cxone/flow/budget.h"
#include "cxone/flow/peers.h"

#define IV   250               /* interval, ms */
#define T0   1000000           /* monotonic */
#define WALL ((int64_t)1.7e12) /* wall clock at T0 */
#define EPSD 1e-9

static cxw_peers_t *new_peers(int mine, int total)
{
        cxw_peers_t *p = cxw_peers_new("self", IV);

        assert_non_null(p);
        cxw_peers_set_partitions(p, mine, total);
        return p;
}

/* Turns p busy at t and lets the hold interval pass: returns the time after. */
static int64_t busy_since(cxw_peers_t *p, int64_t t)
{
        assert_int_equal(cxw_peers_set_work(p, 1, t), 1);
        return t + IV;
}

static cxw_peer_report_t report(const char *id, int parts, int total, int busy,
                                int64_t at)
{
        cxw_peer_report_t r;

        memset(&r, 0, sizeof(r));
        snprintf(r.worker, sizeof(r.worker), "%s", id);
        r.partitions = parts;
        r.total = total;
        r.busy = busy;
        r.at = at;
        return r;
}

static void feed(cxw_peers_t *p, const char *id, int parts, int total, int busy,
                 int64_t now)
{
        cxw_peer_report_t r = report(id, parts, total, busy, WALL + (now - T0));

        assert_int_equal(cxw_peers_update(p, &r, now, WALL + (now - T0)), 1);
}

static void test_no_reports_is_the_static_share(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        int idle = -1;
        int64_t t;

        (void)state;
        assert_true(cxw_peers_share(p, T0, NULL) == 0.5); /* idle */
        t = busy_since(p, T0);
        assert_true(cxw_peers_share(p, t + 10000, &idle) == 0.5);
        assert_int_equal(idle, 0);
        cxw_peers_destroy(p);

        /* no partitions: nothing to spend; unknown total: all of it */
        p = new_peers(0, 12);
        assert_true(cxw_peers_share(p, T0, NULL) == 0.0);
        cxw_peers_destroy(p);
        p = new_peers(0, 0);
        assert_true(cxw_peers_share(p, T0, NULL) == 1.0);
        cxw_peers_destroy(p);
}

static void test_idle_peers_lend_their_partitions(void **state)
{
        cxw_peers_t *p = new_peers(4, 12);
        int idle = -1;
        int64_t t = busy_since(p, T0);

        (void)state;
        feed(p, "b", 4, 12, 0, t);
        assert_true(fabs(cxw_peers_share(p, t, &idle) - 0.5) < EPSD); /* 4 / 8 */
        assert_int_equal(idle, 4);
        feed(p, "c", 4, 12, 0, t);
        assert_true(cxw_peers_share(p, t, &idle) == 1.0); /* 4 / 4 */
        assert_int_equal(idle, 8);
        /* c turns busy: only b lends */
        feed(p, "c", 4, 12, 1, t + 10);
        assert_true(fabs(cxw_peers_share(p, t + 10, NULL) - 0.5) < EPSD);
        /* a busy peer lends nothing */
        feed(p, "b", 4, 12, 1, t + 20);
        assert_true(fabs(cxw_peers_share(p, t + 20, &idle) - 4.0 / 12) < EPSD);
        assert_int_equal(idle, 0);
        cxw_peers_destroy(p);
}

static void test_an_idle_replica_keeps_its_static_share(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);

        (void)state;
        feed(p, "b", 6, 12, 0, T0);
        assert_int_equal(cxw_peers_busy(p), 0);
        assert_true(cxw_peers_share(p, T0 + 10, NULL) == 0.5);
        cxw_peers_destroy(p);
}

static void test_stale_reports_are_ignored(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        cxw_peer_report_t r;
        int64_t t = busy_since(p, T0);

        (void)state;
        feed(p, "b", 6, 12, 0, t);
        assert_true(cxw_peers_share(p, t + 3 * IV, NULL) == 1.0);
        /* no news for more than 3 intervals: counts as busy */
        assert_true(cxw_peers_share(p, t + 3 * IV + 1, NULL) == 0.5);

        /* a report written long ago (read late) is not taken at all */
        r = report("c", 6, 12, 0, WALL - 3 * IV - 2000);
        assert_int_equal(cxw_peers_update(p, &r, t, WALL + (t - T0)), 0);
        assert_true(cxw_peers_share(p, t + 3 * IV + 1, NULL) == 0.5);

        /* pruning forgets the old ones, keeps the fresh */
        feed(p, "d", 6, 12, 0, t + 20 * IV);
        cxw_peers_prune(p, t + 20 * IV);
        assert_true(cxw_peers_share(p, t + 20 * IV, NULL) == 1.0);
        cxw_peers_destroy(p);
}

static void test_future_reports_are_ignored(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        cxw_peer_report_t r;
        int64_t t = busy_since(p, T0), wall = WALL + (t - T0);

        (void)state;
        /* A forged "idle" that would stay news for an hour: not taken. */
        r = report("b", 6, 12, 0, wall + 3600 * 1000);
        assert_int_equal(cxw_peers_update(p, &r, t, wall), 0);
        assert_true(cxw_peers_share(p, t, NULL) == 0.5);
        assert_int_equal(cxw_peers_check_at(p, wall + 1001, wall), CXW_PEERS_FUTURE);
        assert_int_equal(cxw_peers_check_at(p, wall + 1000, wall), CXW_PEERS_OK);
        assert_int_equal(cxw_peers_check_at(p, wall - 3 * IV - 1000, wall), CXW_PEERS_OK);
        assert_int_equal(cxw_peers_check_at(p, wall - 3 * IV - 1001, wall),
                         CXW_PEERS_STALE);
        assert_string_equal(cxw_peers_verdict_str(CXW_PEERS_FUTURE), "future");
        assert_string_equal(cxw_peers_verdict_str(CXW_PEERS_BAD_SIG), "bad_signature");
        cxw_peers_destroy(p);
}

static void test_mismatched_totals_are_ignored(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        int64_t t = busy_since(p, T0);

        (void)state;
        feed(p, "b", 6, 24, 0, t); /* another topic set */
        assert_true(cxw_peers_share(p, t, NULL) == 0.5);
        cxw_peers_destroy(p);
}

static void test_more_partitions_claimed_than_exist_lends_nothing(void **state)
{
        /* c left the group, its partitions moved to a and b, c's last
         * report is still fresh: mid-rebalance, nothing is trusted. */
        cxw_peers_t *p = new_peers(6, 12);
        int64_t t = busy_since(p, T0);

        (void)state;
        feed(p, "b", 6, 12, 1, t);
        feed(p, "c", 4, 12, 0, t);
        assert_true(cxw_peers_share(p, t, NULL) == 0.5);
        cxw_peers_destroy(p);
}

static void test_own_reports_are_ignored(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        cxw_peer_report_t r = report("self", 6, 12, 0, WALL);
        int64_t t = busy_since(p, T0);

        (void)state;
        assert_int_equal(cxw_peers_update(p, &r, T0, WALL), 0);
        assert_true(cxw_peers_share(p, t, NULL) == 0.5);
        cxw_peers_destroy(p);
}

static void test_just_turned_busy_holds_static_share_one_interval(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        int64_t t;

        (void)state;
        feed(p, "b", 6, 12, 0, T0);
        assert_int_equal(cxw_peers_set_work(p, 1, T0 + 100), 1); /* flips */
        assert_int_equal(cxw_peers_set_work(p, 1, T0 + 150), 0); /* no flip */
        assert_true(cxw_peers_share(p, T0 + 100, NULL) == 0.5);
        assert_true(cxw_peers_share(p, T0 + 100 + IV - 1, NULL) == 0.5);
        assert_true(cxw_peers_share(p, T0 + 100 + IV, NULL) == 1.0);

        /* idle only after a quiet interval without work */
        t = T0 + 399;
        assert_int_equal(cxw_peers_set_work(p, 0, t), 0); /* last work at 150 */
        assert_int_equal(cxw_peers_busy(p), 1);
        assert_int_equal(cxw_peers_set_work(p, 0, 150 + T0 + IV), 1);
        assert_int_equal(cxw_peers_busy(p), 0);
        assert_true(cxw_peers_share(p, T0 + 150 + IV, NULL) == 0.5);
        /* busy again: a new hold */
        t = T0 + 1000;
        assert_int_equal(cxw_peers_set_work(p, 1, t), 1);
        feed(p, "b", 6, 12, 0, t);
        assert_true(cxw_peers_share(p, t + 1, NULL) == 0.5);
        assert_true(cxw_peers_share(p, t + IV, NULL) == 1.0);
        cxw_peers_destroy(p);
}

static void test_share_is_clamped(void **state)
{
        /* 3 of 12 mine; b claims 9 idle: 3 / 3 = 1, never above */
        cxw_peers_t *p = new_peers(3, 12);
        int64_t t = busy_since(p, T0);

        (void)state;
        feed(p, "b", 9, 12, 0, t);
        assert_true(cxw_peers_share(p, t, NULL) == 1.0);
        /* partitions changed: the same report now over-claims */
        assert_int_equal(cxw_peers_set_partitions(p, 6, 12), 1);
        assert_int_equal(cxw_peers_set_partitions(p, 6, 12), 0);
        assert_true(cxw_peers_share(p, t, NULL) == 0.5);
        cxw_peers_destroy(p);
}

static void test_table_is_bounded(void **state)
{
        cxw_peers_t *p = new_peers(1, 2 * CXW_PEERS_MAX);
        cxw_peer_report_t r;
        char id[32];

        (void)state;
        for (int i = 0; i < CXW_PEERS_MAX; i++) {
                snprintf(id, sizeof(id), "p%d", i);
                feed(p, id, 1, 2 * CXW_PEERS_MAX, 0, T0);
        }
        r = report("one-too-many", 1, 2 * CXW_PEERS_MAX, 0, WALL);
        assert_int_equal(cxw_peers_update(p, &r, T0, WALL), 0);
        /* once the old ones age out, there is room again */
        r.at = WALL + 20 * IV;
        assert_int_equal(cxw_peers_update(p, &r, T0 + 20 * IV, WALL + 20 * IV), 1);
        cxw_peers_destroy(p);
}

static void test_encode_decode_round_trip(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        cxw_peer_report_t r;
        char buf[CXW_PEERS_REPORT_MAX], err[256];
        int n;

        (void)state;
        cxw_peers_set_work(p, 1, T0);
        n = cxw_peers_encode(p, WALL, buf, sizeof(buf));
        assert_true(n > 0);
        assert_string_equal(
            buf,
            "{\"worker\":\"self\",\"partitions\":6,\"total\":12,\"busy\":true,\"at\":"
            "1700000000000}");
        assert_int_equal(cxw_peers_decode(buf, (size_t)n, &r, err, sizeof(err)), 0);
        assert_string_equal(r.worker, "self");
        assert_int_equal(r.partitions, 6);
        assert_int_equal(r.total, 12);
        assert_int_equal(r.busy, 1);
        assert_true(r.at == WALL);
        assert_int_equal(cxw_peers_encode(p, WALL, buf, 10), -1); /* too small */
        cxw_peers_destroy(p);
}

static void bad(const char *json, const char *why)
{
        cxw_peer_report_t r;
        char err[256] = "";

        assert_int_equal(cxw_peers_decode(json, strlen(json), &r, err, sizeof(err)), -1);
        if (!strstr(err, why))
                fail_msg("'%s': error '%s' does not mention '%s'", json, err, why);
        assert_string_equal(r.worker, "");
}

static void test_decode_rejects_bad_records(void **state)
{
        static char big[CXW_PEERS_REPORT_MAX + 100];
        char longid[300];
        char json[600];
        cxw_peer_report_t r;
        char err[256];

        (void)state;
        bad("", "empty");
        bad("not json", "not JSON");
        bad("[1,2]", "not a JSON object");
        bad("\"x\"", "not JSON"); /* a bare string */
        bad("{\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5}",
            "\"worker\" is missing");
        bad("{\"worker\":7,\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5}",
            "not a string");
        bad("{\"worker\":\"\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5}",
            "0 chars");
        bad("{\"worker\":\"a b\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5}",
            "printable");
        bad("{\"worker\":\"a\\u0000b\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":"
            "5}",
            "not JSON"); /* NUL inside */
        bad("{\"worker\":\"a\\u00e9\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":"
            "5}",
            "printable");
        bad("{\"worker\":\"a\",\"total\":2,\"busy\":true,\"at\":5}",
            "\"partitions\" is missing");
        bad("{\"worker\":\"a\",\"partitions\":\"1\",\"total\":2,\"busy\":true,\"at\":5}",
            "not an integer");
        bad("{\"worker\":\"a\",\"partitions\":1.5,\"total\":2,\"busy\":true,\"at\":5}",
            "not an integer");
        bad("{\"worker\":\"a\",\"partitions\":-1,\"total\":2,\"busy\":true,\"at\":5}",
            "out of range");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2000000,\"busy\":true,\"at\":"
            "5}",
            "out of range");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":99999999999999999999999,"
            "\"busy\":true,\"at\":5}",
            "not JSON");
        bad("{\"worker\":\"a\",\"partitions\":3,\"total\":2,\"busy\":true,\"at\":5}",
            "> \"total\"");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":1,\"at\":5}",
            "not a boolean");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"at\":5}",
            "\"busy\" is missing");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":true}",
            "\"at\" is missing");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":0}",
            "out of range");
        bad("{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5,"
            "\"at\":6}",
            "not JSON");

        memset(longid, 'x', 200);
        longid[200] = '\0';
        snprintf(
            json, sizeof(json),
            "{\"worker\":\"%s\",\"partitions\":1,\"total\":2,\"busy\":true,\"at\":5}",
            longid);
        bad(json, "200 chars");

        memset(big, ' ', sizeof(big));
        memcpy(big, "{\"worker\":\"a\"", 13);
        assert_int_equal(cxw_peers_decode(big, sizeof(big), &r, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "bytes"));
        assert_int_equal(cxw_peers_decode(NULL, 0, &r, err, sizeof(err)), -1);

        /* unknown members are ignored */
        snprintf(json, sizeof(json),
                 "{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":false,\"at\":5,"
                 "\"future\":[1,{}]}");
        assert_int_equal(cxw_peers_decode(json, strlen(json), &r, err, sizeof(err)), 0);
        assert_int_equal(r.busy, 0);

        /* every truncation of a good record fails cleanly */
        snprintf(
            json, sizeof(json),
            "{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":false,\"at\":5}");
        for (size_t n = 0; n < strlen(json); n++)
                assert_int_equal(cxw_peers_decode(json, n, &r, err, sizeof(err)), -1);
}

static void test_trip_and_count_round_trip(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        cxw_peer_trip_t t = {CXW_CLASS_POLLS, WALL - 5, WALL - 100, WALL + 995, 1};
        cxw_peer_count_t k = {CXW_CLASS_CONTACTS, WALL - 5, 42, WALL - 99};
        cxw_peer_report_t r;
        char buf[CXW_PEERS_REPORT_MAX], err[256];
        int n;

        (void)state;
        /* A plain report has neither. */
        n = cxw_peers_encode(p, WALL, buf, sizeof(buf));
        assert_int_equal(cxw_peers_decode(buf, (size_t)n, &r, err, sizeof(err)), 0);
        assert_int_equal(r.trip.cls, -1);
        assert_int_equal(r.count.cls, -1);

        n = cxw_peers_encode_ex(p, WALL, &t, &k, buf, sizeof(buf));
        assert_true(n > 0);
        assert_non_null(strstr(buf, "\"trip\":{\"class\":\"polls\""));
        assert_int_equal(cxw_peers_decode(buf, (size_t)n, &r, err, sizeof(err)), 0);
        assert_int_equal(r.partitions, 6);
        assert_int_equal(r.trip.cls, CXW_CLASS_POLLS);
        assert_true(r.trip.sent == WALL - 5 && r.trip.from == WALL - 100 &&
                    r.trip.until == WALL + 995 && r.trip.anchored == 1);
        assert_int_equal(r.count.cls, CXW_CLASS_CONTACTS);
        assert_true(r.count.trip == WALL - 5 && r.count.accepted == 42 &&
                    r.count.first == WALL - 99);

        /* The longest worker id still fits with both. */
        {
                char id[CXW_PEERS_ID_MAX + 1];
                cxw_peers_t *q;

                memset(id, 'w', CXW_PEERS_ID_MAX);
                id[CXW_PEERS_ID_MAX] = '\0';
                q = cxw_peers_new(id, IV);
                assert_non_null(q);
                cxw_peers_set_partitions(q, CXW_PEERS_PARTS_MAX, CXW_PEERS_PARTS_MAX);
                assert_true(cxw_peers_encode_ex(q, WALL, &t, &k, buf, sizeof(buf)) > 0);
                cxw_peers_destroy(q);
        }
        t.cls = CXW_CLASS__CNT;
        assert_int_equal(cxw_peers_encode_ex(p, WALL, &t, NULL, buf, sizeof(buf)), -1);
        cxw_peers_destroy(p);
}

static void test_decode_rejects_bad_trips_and_counts(void **state)
{
        const char *head = "{\"worker\":\"a\",\"partitions\":1,\"total\":2,\"busy\":true,"
                           "\"at\":1700000000000,";
        char json[1024];

        (void)state;
#define BAD(member, why)                                                                 \
        do {                                                                             \
                snprintf(json, sizeof(json), "%s%s}", head, member);                     \
                bad(json, why);                                                          \
        } while (0)
        BAD("\"trip\":[]", "\"trip\" is not an object");
        BAD("\"trip\":{\"class\":\"x\",\"sent\":1700000000000,\"from\":1700000000000,"
            "\"until\":1700000000000,\"anchored\":true}",
            "\"class\" contacts, schedules or polls");
        BAD("\"trip\":{\"class\":\"contacts\",\"sent\":1700000000000,\"from\":"
            "1600000000000,"
            "\"until\":1700000000000,\"anchored\":true}",
            "\"from\"");
        BAD("\"trip\":{\"class\":\"contacts\",\"sent\":1700000000000,\"from\":"
            "1700000000000,"
            "\"until\":1799999999999,\"anchored\":true}",
            "\"until\"");
        BAD("\"trip\":{\"class\":\"contacts\",\"sent\":1700000000000,\"from\":"
            "1700000000000,"
            "\"until\":1700000000000,\"anchored\":1}",
            "\"anchored\" is not a boolean");
        BAD("\"trip\":{\"class\":\"contacts\",\"from\":1700000000000,"
            "\"until\":1700000000000,\"anchored\":true}",
            "\"sent\" is missing");
        BAD("\"count\":7", "\"count\" is not an object");
        BAD("\"count\":{\"class\":\"polls\",\"trip\":1700000000000,\"accepted\":-1,"
            "\"first\":-1}",
            "\"accepted\"");
        BAD("\"count\":{\"class\":\"polls\",\"trip\":1700000000000,\"accepted\":1,"
            "\"first\":1700000000001}",
            "\"first\"");
        BAD("\"count\":{\"class\":\"polls\",\"trip\":1700000000000,\"accepted\":1,"
            "\"first\":1600000000000}",
            "more than 60 s before");
#undef BAD
}

/* A signed trip report of p at WALL into buf. */
static int signed_trip(cxw_peers_t *p, const char *key, char *buf, size_t size)
{
        cxw_peer_trip_t t = {CXW_CLASS_CONTACTS, WALL - 10, WALL - 500, WALL + 1000, 1};
        int n = cxw_peers_encode_ex(p, WALL, &t, NULL, buf, size);

        assert_true(n > 0);
        return cxw_peers_sign(key, buf, (size_t)n, size);
}

static void test_signed_reports_verify_with_the_key_only(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        char buf[CXW_PEERS_REPORT_MAX], plain[CXW_PEERS_REPORT_MAX], err[256];
        cxw_peer_report_t r;
        int n, m;

        (void)state;
        m = cxw_peers_encode(p, WALL, plain, sizeof(plain));
        n = signed_trip(p, "group-key", buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal((int)strlen(buf), n);
        /* The signature is the last member; the rest is the report as encoded. */
        assert_non_null(strstr(buf, "},\"sig\":\""));
        assert_int_equal(buf[n - 1], '}');
        assert_int_equal(cxw_peers_verify("group-key", buf, (size_t)n), CXW_PEERS_OK);
        /* ... and decodes as before, the signature ignored. */
        assert_int_equal(cxw_peers_decode(buf, (size_t)n, &r, err, sizeof(err)), 0);
        assert_int_equal(r.trip.cls, CXW_CLASS_CONTACTS);
        assert_true(r.trip.until == WALL + 1000);

        /* wrong key */
        assert_int_equal(cxw_peers_verify("other-key", buf, (size_t)n),
                         CXW_PEERS_BAD_SIG);
        /* missing signature */
        assert_int_equal(cxw_peers_verify("group-key", plain, (size_t)m),
                         CXW_PEERS_UNSIGNED);
        assert_int_equal(cxw_peers_verify("group-key", "{}", 2), CXW_PEERS_UNSIGNED);
        assert_int_equal(cxw_peers_verify("group-key", NULL, 0), CXW_PEERS_UNSIGNED);
        /* bad signature: the report changed after signing (an hour's pause) */
        {
                char *u = strstr(buf, "\"until\":");
                assert_non_null(u);
                u[9] = u[9] == '9' ? '8' : '9';
                assert_int_equal(cxw_peers_verify("group-key", buf, (size_t)n),
                                 CXW_PEERS_BAD_SIG);
                u[9] = u[9] == '9' ? '8' : '9';
        }
        /* bad signature: a digit of it changed, or not hex at all */
        buf[n - 3] = buf[n - 3] == '0' ? '1' : '0';
        assert_int_equal(cxw_peers_verify("group-key", buf, (size_t)n),
                         CXW_PEERS_BAD_SIG);
        memset(buf + n - 2 - 64, 'z', 64);
        assert_int_equal(cxw_peers_verify("group-key", buf, (size_t)n),
                         CXW_PEERS_BAD_SIG);
        /* a signature member forged onto an unsigned report */
        n = m;
        memcpy(buf, plain, (size_t)m + 1);
        n = cxw_peers_sign("guessed-key", buf, (size_t)n, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(cxw_peers_verify("group-key", buf, (size_t)n),
                         CXW_PEERS_BAD_SIG);
        cxw_peers_destroy(p);
}

static void test_sign_refuses_what_it_cannot_sign(void **state)
{
        cxw_peers_t *p = new_peers(6, 12);
        char buf[CXW_PEERS_REPORT_MAX];
        int n;

        (void)state;
        n = cxw_peers_encode(p, WALL, buf, sizeof(buf));
        assert_int_equal(cxw_peers_sign("", buf, (size_t)n, sizeof(buf)), -1);
        assert_int_equal(cxw_peers_sign(NULL, buf, (size_t)n, sizeof(buf)), -1);
        assert_int_equal(cxw_peers_sign("k", buf, (size_t)n, (size_t)n + 10), -1);
        assert_int_equal(cxw_peers_sign("k", buf, (size_t)n - 1, sizeof(buf)), -1);
        /* The largest report there is, signed, fits and decodes. */
        {
                char id[CXW_PEERS_ID_MAX + 1], err[256];
                cxw_peers_t *q;
                cxw_peer_trip_t t = {CXW_CLASS_SCHEDULES, 9e12 - 3600000, 9e12 - 3660000,
                                     9e12, 0};
                cxw_peer_count_t c = {CXW_CLASS_SCHEDULES, 9e12 - 1, 1000000000,
                                      9e12 - 60001};
                cxw_peer_report_t r;

                memset(id, 'x', CXW_PEERS_ID_MAX);
                id[CXW_PEERS_ID_MAX] = '\0';
                q = cxw_peers_new(id, IV);
                assert_non_null(q);
                cxw_peers_set_partitions(q, CXW_PEERS_PARTS_MAX, CXW_PEERS_PARTS_MAX);
                n = cxw_peers_encode_ex(q, 9e12, &t, &c, buf, sizeof(buf));
                assert_true(n > 0);
                n = cxw_peers_sign("k", buf, (size_t)n, sizeof(buf));
                assert_true(n > 0);
                assert_int_equal(cxw_peers_decode(buf, (size_t)n, &r, err, sizeof(err)),
                                 0);
                assert_int_equal(cxw_peers_verify("k", buf, (size_t)n), CXW_PEERS_OK);
                cxw_peers_destroy(q);
        }
        cxw_peers_destroy(p);
}

static void test_bad_arguments(void **state)
{
        (void)state;
        assert_null(cxw_peers_new(NULL, IV));
        assert_null(cxw_peers_new("x", 0));
        cxw_peers_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_no_reports_is_the_static_share),
            cmocka_unit_test(test_idle_peers_lend_their_partitions),
            cmocka_unit_test(test_an_idle_replica_keeps_its_static_share),
            cmocka_unit_test(test_stale_reports_are_ignored),
            cmocka_unit_test(test_mismatched_totals_are_ignored),
            cmocka_unit_test(test_more_partitions_claimed_than_exist_lends_nothing),
            cmocka_unit_test(test_own_reports_are_ignored),
            cmocka_unit_test(test_just_turned_busy_holds_static_share_one_interval),
            cmocka_unit_test(test_share_is_clamped),
            cmocka_unit_test(test_table_is_bounded),
            cmocka_unit_test(test_encode_decode_round_trip),
            cmocka_unit_test(test_decode_rejects_bad_records),
            cmocka_unit_test(test_trip_and_count_round_trip),
            cmocka_unit_test(test_decode_rejects_bad_trips_and_counts),
            cmocka_unit_test(test_future_reports_are_ignored),
            cmocka_unit_test(test_signed_reports_verify_with_the_key_only),
            cmocka_unit_test(test_sign_refuses_what_it_cannot_sign),
            cmocka_unit_test(test_bad_arguments),
        };

        cxw_log_threshold = CXW_LOG_ERROR;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
