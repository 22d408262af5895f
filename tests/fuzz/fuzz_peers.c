/* fuzz_peers.c: a budget report (a message of the budget topic, written by
 * any replica of the group or anyone who can produce there) through
 * cxw_peers_decode(), then into a peer table.
 *
 * Beyond not crashing: a decoded report keeps the documented bounds,
 * encodes again (cxw_peers_encode_ex) within CXW_PEERS_REPORT_MAX and
 * decodes to the same report; recorded in a table it gives a busy replica
 * a share within [its static share, 1]. */
#include "fuzz_common.h"

#include "cxone/flow/peers.h"

#define INTERVAL 250
#define WINDOW   60000

static void check_bounds(const cxw_peer_report_t *r)
{
        size_t wlen = strnlen(r->worker, sizeof(r->worker));

        FUZZ_CHECK(wlen >= 1 && wlen <= CXW_PEERS_ID_MAX);
        for (size_t i = 0; i < wlen; i++)
                FUZZ_CHECK(r->worker[i] >= 0x21 && r->worker[i] <= 0x7e);
        FUZZ_CHECK(r->partitions >= 0 && r->partitions <= r->total &&
                   r->total <= CXW_PEERS_PARTS_MAX);
        FUZZ_CHECK(r->busy == 0 || r->busy == 1);
        FUZZ_CHECK(r->at > 0);
        if (r->trip.cls >= 0)
                FUZZ_CHECK(r->trip.from >= r->trip.sent - WINDOW &&
                           r->trip.from <= r->trip.sent &&
                           r->trip.sent <= r->trip.until &&
                           r->trip.until <= r->trip.sent + CXW_PEERS_TRIP_MAX_MS);
        if (r->count.cls >= 0)
                FUZZ_CHECK(
                    r->count.accepted >= 0 && r->count.accepted <= 1000000000 &&
                    (r->count.first == -1 || (r->count.first <= r->count.trip &&
                                              r->count.first >= r->count.trip - WINDOW)));
}

static void check_round_trip(const cxw_peer_report_t *r)
{
        cxw_peers_t *p = cxw_peers_new(r->worker, INTERVAL);
        char buf[CXW_PEERS_REPORT_MAX + 1], err[256];
        cxw_peer_report_t again;
        int n;

        FUZZ_CHECK(p);
        cxw_peers_set_partitions(p, r->partitions, r->total);
        cxw_peers_set_work(p, r->busy, 1000);
        n = cxw_peers_encode_ex(p, r->at, r->trip.cls >= 0 ? &r->trip : NULL,
                                r->count.cls >= 0 ? &r->count : NULL, buf, sizeof(buf));
        FUZZ_CHECK(n > 0 && n <= CXW_PEERS_REPORT_MAX);
        FUZZ_CHECK(cxw_peers_decode(buf, (size_t)n, &again, err, sizeof(err)) == 0);
        FUZZ_CHECK(strcmp(again.worker, r->worker) == 0);
        FUZZ_CHECK(again.partitions == r->partitions && again.total == r->total &&
                   again.busy == r->busy && again.at == r->at);
        FUZZ_CHECK(again.trip.cls == r->trip.cls);
        if (r->trip.cls >= 0)
                FUZZ_CHECK(again.trip.sent == r->trip.sent &&
                           again.trip.from == r->trip.from &&
                           again.trip.until == r->trip.until &&
                           again.trip.anchored == r->trip.anchored);
        FUZZ_CHECK(again.count.cls == r->count.cls);
        if (r->count.cls >= 0)
                FUZZ_CHECK(again.count.trip == r->count.trip &&
                           again.count.accepted == r->count.accepted &&
                           again.count.first == r->count.first);
        cxw_peers_destroy(p);
}

static void check_share(const cxw_peer_report_t *r)
{
        cxw_peers_t *p = cxw_peers_new("fuzz-self", INTERVAL);
        int64_t now = 100000;
        int idle = -1;
        double share, stat;

        FUZZ_CHECK(p);
        cxw_peers_set_partitions(p, 1, r->total > 1 ? r->total : 2);
        cxw_peers_set_work(p, 1, now);
        /* received now, with the wall clock at its own "at" (fresh) */
        cxw_peers_update(p, r, now, r->at);
        now += 2 * INTERVAL; /* past the first busy interval */
        cxw_peers_set_work(p, 1, now);
        share = cxw_peers_share(p, now, &idle);
        stat = cxw_peers_static_share(p);
        FUZZ_CHECK(stat > 0 && stat <= 1);
        FUZZ_CHECK(share >= stat && share <= 1.0);
        FUZZ_CHECK(idle >= 0 && idle <= r->total);
        cxw_peers_prune(p, now + 100 * INTERVAL);
        cxw_peers_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_peer_report_t r;
        char err[256];

        if (cxw_peers_decode(data, size, &r, err, sizeof(err)) != 0) {
                FUZZ_CHECK(fuzz_errstr_ok(err, sizeof(err)) && err[0]);
                return 0;
        }
        check_bounds(&r);
        check_round_trip(&r);
        check_share(&r);
        return 0;
}
