/* peers.c: the table of the other replicas' demand reports and this
 * replica's effective share of the group's rate budget (a pure state
 * machine; the transport lives in kafka.c and worker_peers.c). */
#include "cxone/flow/peers.h"
#include "cxone/flow/budget.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* A report is fresh for this many intervals after it arrived. */
#define FRESH_INTERVALS 3
/* ... and is forgotten after this many. */
#define FORGET_INTERVALS 10
/* Clocks of two hosts may disagree by this much when `at` is judged. */
#define CLOCK_SKEW_MS 1000
/* `at` beyond this (year 2255) is garbage. */
#define AT_MAX ((int64_t)9e12)

typedef struct entry_s {
        cxw_peer_report_t r;
        int64_t received; /* monotonic ms */
} entry_t;

struct cxw_peers_s {
        char self[CXW_PEERS_ID_MAX + 1];
        int64_t interval;
        int mine, total;
        int busy;
        int64_t busy_since; /* when it last turned busy */
        int64_t last_work;  /* when it last had work */
        entry_t *v;
        size_t cnt;
};

cxw_peers_t *cxw_peers_new(const char *self_id, int64_t interval_ms)
{
        cxw_peers_t *p;

        if (!self_id || interval_ms <= 0)
                return NULL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->v = calloc(CXW_PEERS_MAX, sizeof(*p->v));
        if (!p->v) {
                free(p);
                return NULL;
        }
        cxw_strlcpy(p->self, self_id, sizeof(p->self));
        p->interval = interval_ms;
        return p;
}

void cxw_peers_destroy(cxw_peers_t *p)
{
        if (!p)
                return;
        free(p->v);
        free(p);
}

int cxw_peers_set_partitions(cxw_peers_t *p, int mine, int total)
{
        if (mine < 0)
                mine = 0;
        if (total < 0)
                total = 0;
        if (p->mine == mine && p->total == total)
                return 0;
        p->mine = mine;
        p->total = total;
        return 1;
}

int cxw_peers_set_work(cxw_peers_t *p, int has_work, int64_t now_ms)
{
        if (has_work) {
                p->last_work = now_ms;
                if (p->busy)
                        return 0;
                p->busy = 1;
                p->busy_since = now_ms;
                return 1;
        }
        /* Idle only after a quiet interval: a gap between two fetches is
         * not a reason to hand the budget to the others and take it back. */
        if (p->busy && now_ms - p->last_work >= p->interval) {
                p->busy = 0;
                return 1;
        }
        return 0;
}

int cxw_peers_busy(const cxw_peers_t *p)
{
        return p->busy;
}

static entry_t *find(cxw_peers_t *p, const char *worker)
{
        for (size_t i = 0; i < p->cnt; i++)
                if (strcmp(p->v[i].r.worker, worker) == 0)
                        return &p->v[i];
        return NULL;
}

void cxw_peers_prune(cxw_peers_t *p, int64_t now_ms)
{
        size_t i = 0;

        while (i < p->cnt) {
                if (now_ms - p->v[i].received > FORGET_INTERVALS * p->interval)
                        p->v[i] = p->v[--p->cnt];
                else
                        i++;
        }
}

static const char *const verdicts[CXW_PEERS__VERDICT_CNT] = {
    "ok", "unsigned", "bad_signature", "stale", "future"};

const char *cxw_peers_verdict_str(cxw_peers_verdict_t v)
{
        return (unsigned)v < CXW_PEERS__VERDICT_CNT ? verdicts[v] : "unknown";
}

cxw_peers_verdict_t cxw_peers_check_at(const cxw_peers_t *p, int64_t at_ms,
                                       int64_t now_wall_ms)
{
        /* Written long ago (read late, a replayed topic or record): not news. */
        if (at_ms < now_wall_ms - FRESH_INTERVALS * p->interval - CLOCK_SKEW_MS)
                return CXW_PEERS_STALE;
        /* Written "later": it would stay news for as long as it claims. */
        if (at_ms > now_wall_ms + CLOCK_SKEW_MS)
                return CXW_PEERS_FUTURE;
        return CXW_PEERS_OK;
}

/* The signature member's parts: PREFIX, 64 hex digits, SUFFIX. */
#define SIG_PREFIX     ",\"sig\":\""
#define SIG_PREFIX_LEN 8
#define SIG_HEX        64
#define SIG_SUFFIX     "\"}"

_Static_assert(SIG_PREFIX_LEN + SIG_HEX + 1 == CXW_PEERS_SIG_LEN, "signature length");

/* HMAC-SHA256 under key of len bytes of buf, as lowercase hex in
 * hex[SIG_HEX + 1]; 0 or -1. */
static int mac_hex(const char *key, const void *buf, size_t len, char *hex)
{
        static const char digits[] = "0123456789abcdef";
        unsigned char mac[32];
        size_t n = 0;

        if (!key || !*key ||
            !EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, strlen(key), buf, len,
                       mac, sizeof(mac), &n) ||
            n != sizeof(mac))
                return -1;
        for (size_t i = 0; i < sizeof(mac); i++) {
                hex[2 * i] = digits[mac[i] >> 4];
                hex[2 * i + 1] = digits[mac[i] & 15];
        }
        hex[SIG_HEX] = '\0';
        OPENSSL_cleanse(mac, sizeof(mac));
        return 0;
}

int cxw_peers_sign(const char *key, char *buf, size_t len, size_t size)
{
        char hex[SIG_HEX + 1];

        if (!buf || len < 2 || buf[len - 1] != '}' || len + CXW_PEERS_SIG_LEN >= size ||
            mac_hex(key, buf, len, hex) == -1)
                return -1;
        /* buf[len - 1] is the '}' that closes the report again */
        memcpy(buf + len - 1, SIG_PREFIX, SIG_PREFIX_LEN);
        memcpy(buf + len - 1 + SIG_PREFIX_LEN, hex, SIG_HEX);
        memcpy(buf + len - 1 + SIG_PREFIX_LEN + SIG_HEX, SIG_SUFFIX, 3);
        return (int)(len + CXW_PEERS_SIG_LEN);
}

cxw_peers_verdict_t cxw_peers_verify(const char *key, const void *buf, size_t len)
{
        const char *v = buf;
        char signed_[CXW_PEERS_REPORT_MAX], hex[SIG_HEX + 1];
        size_t body;
        int same;

        if (!v || len < CXW_PEERS_SIG_LEN + 2 ||
            memcmp(v + len - CXW_PEERS_SIG_LEN - 1, SIG_PREFIX, SIG_PREFIX_LEN) != 0 ||
            memcmp(v + len - 2, SIG_SUFFIX, 2) != 0)
                return CXW_PEERS_UNSIGNED;
        body = len - CXW_PEERS_SIG_LEN; /* the report as signed, its '}' restored */
        if (body > sizeof(signed_))
                return CXW_PEERS_BAD_SIG;
        memcpy(signed_, v, body - 1);
        signed_[body - 1] = '}';
        if (mac_hex(key, signed_, body, hex) == -1)
                return CXW_PEERS_BAD_SIG;
        same = CRYPTO_memcmp(hex, v + len - CXW_PEERS_SIG_LEN - 1 + SIG_PREFIX_LEN,
                             SIG_HEX) == 0;
        return same ? CXW_PEERS_OK : CXW_PEERS_BAD_SIG;
}

int cxw_peers_update(cxw_peers_t *p, const cxw_peer_report_t *r, int64_t now_ms,
                     int64_t now_wall_ms)
{
        entry_t *e;
        cxw_peers_verdict_t age;

        if (!r->worker[0] || strcmp(r->worker, p->self) == 0)
                return 0;
        age = cxw_peers_check_at(p, r->at, now_wall_ms);
        if (age != CXW_PEERS_OK) {
                CXW_DEBUG("peers", "report of %s written %lld ms %s: ignored", r->worker,
                          (long long)llabs(now_wall_ms - r->at),
                          age == CXW_PEERS_STALE ? "ago" : "from now");
                return 0;
        }
        e = find(p, r->worker);
        if (!e) {
                if (p->cnt == CXW_PEERS_MAX)
                        cxw_peers_prune(p, now_ms);
                if (p->cnt == CXW_PEERS_MAX) {
                        CXW_DEBUG("peers", "%d peers known: report of %s ignored",
                                  CXW_PEERS_MAX, r->worker);
                        return 0;
                }
                e = &p->v[p->cnt++];
        }
        e->r = *r;
        e->received = now_ms;
        return 1;
}

double cxw_peers_static_share(const cxw_peers_t *p)
{
        double s;

        if (p->total <= 0)
                return 1.0;
        s = (double)p->mine / p->total;
        return s > 1.0 ? 1.0 : s;
}

double cxw_peers_share(const cxw_peers_t *p, int64_t now_ms, int *idle_parts)
{
        double base = cxw_peers_static_share(p), s;
        int64_t idle = 0, claimed;

        if (idle_parts)
                *idle_parts = 0;
        /* Idle: it spends nothing anyway. Just turned busy: the others may
         * not have heard yet and still spend its part. */
        if (!p->busy || p->total <= 0 || p->mine <= 0 ||
            now_ms - p->busy_since < p->interval)
                return base;
        claimed = p->mine;
        for (size_t i = 0; i < p->cnt; i++) {
                const entry_t *e = &p->v[i];
                if (now_ms - e->received > FRESH_INTERVALS * p->interval ||
                    e->r.total != p->total)
                        continue;
                claimed += e->r.partitions;
                if (!e->r.busy)
                        idle += e->r.partitions;
        }
        /* More partitions claimed than exist: a rebalance is under way and
         * some reports are from before it. Trust none of them. */
        if (claimed > p->total || idle == 0)
                return base;
        s = (double)p->mine / (double)(p->total - idle);
        if (s < base)
                s = base;
        if (s > 1.0)
                s = 1.0;
        if (idle_parts)
                *idle_parts = (int)idle;
        return s;
}

int cxw_peers_encode(const cxw_peers_t *p, int64_t now_wall_ms, char *buf, size_t size)
{
        return cxw_peers_encode_ex(p, now_wall_ms, NULL, NULL, buf, size);
}

int cxw_peers_encode_ex(const cxw_peers_t *p, int64_t now_wall_ms,
                        const cxw_peer_trip_t *trip, const cxw_peer_count_t *count,
                        char *buf, size_t size)
{
        json_t *j;
        size_t n;
        int bad = 0;

        if ((trip && (trip->cls < 0 || trip->cls >= CXW_CLASS__CNT)) ||
            (count && (count->cls < 0 || count->cls >= CXW_CLASS__CNT)))
                return -1;
        j = json_pack("{s:s,s:i,s:i,s:b,s:I}", "worker", p->self, "partitions", p->mine,
                      "total", p->total, "busy", p->busy, "at", (json_int_t)now_wall_ms);
        /* set_new takes the packed member, even when it fails */
        if (j && trip)
                bad |= json_object_set_new(
                    j, "trip",
                    json_pack("{s:s,s:I,s:I,s:I,s:b}", "class",
                              cxw_budget_class_str((cxw_budget_class_t)trip->cls), "sent",
                              (json_int_t)trip->sent, "from", (json_int_t)trip->from,
                              "until", (json_int_t)trip->until, "anchored",
                              trip->anchored));
        if (j && count)
                bad |= json_object_set_new(
                    j, "count",
                    json_pack("{s:s,s:I,s:I,s:I}", "class",
                              cxw_budget_class_str((cxw_budget_class_t)count->cls),
                              "trip", (json_int_t)count->trip, "accepted",
                              (json_int_t)count->accepted, "first",
                              (json_int_t)count->first));
        if (!j || bad) {
                json_decref(j);
                return -1;
        }
        n = json_dumpb(j, buf, size, JSON_COMPACT);
        json_decref(j);
        if (n == 0 || n >= size)
                return -1;
        buf[n] = '\0';
        return (int)n;
}

/* An integer member in [min, max]. */
static int get_int(json_t *o, const char *name, json_int_t min, json_int_t max,
                   json_int_t *out, char *errstr, size_t errstr_size)
{
        json_t *v = json_object_get(o, name);

        if (!v) {
                cxw_set_err(errstr, errstr_size, "\"%s\" is missing", name);
                return -1;
        }
        if (!json_is_integer(v)) {
                cxw_set_err(errstr, errstr_size, "\"%s\" is not an integer", name);
                return -1;
        }
        *out = json_integer_value(v);
        if (*out < min || *out > max) {
                cxw_set_err(errstr, errstr_size, "\"%s\" %lld is out of range %lld..%lld",
                            name, (long long)*out, (long long)min, (long long)max);
                return -1;
        }
        return 0;
}

/* The "class" member of o (named what in errors) as a class number. */
static int get_class(json_t *o, const char *what, int *out, char *errstr,
                     size_t errstr_size)
{
        json_t *v = json_object_get(o, "class");

        for (int c = 0; c < CXW_CLASS__CNT && json_is_string(v); c++)
                if (strcmp(json_string_value(v),
                           cxw_budget_class_str((cxw_budget_class_t)c)) == 0) {
                        *out = c;
                        return 0;
                }
        cxw_set_err(errstr, errstr_size,
                    "\"%s\" has no \"class\" contacts, schedules or polls", what);
        return -1;
}

/* A trip's window reaches this far back (and a count's first send). */
#define WINDOW_MAX_MS 60000

/* The optional "trip" member v. */
static int decode_trip(json_t *v, cxw_peer_trip_t *t, char *errstr, size_t errstr_size)
{
        json_int_t sent, from, until;
        json_t *a;

        t->cls = -1;
        if (!v)
                return 0;
        if (!json_is_object(v)) {
                cxw_set_err(errstr, errstr_size, "\"trip\" is not an object");
                return -1;
        }
        a = json_object_get(v, "anchored");
        if (get_class(v, "trip", &t->cls, errstr, errstr_size) == -1 ||
            get_int(v, "sent", WINDOW_MAX_MS, AT_MAX, &sent, errstr, errstr_size) == -1 ||
            get_int(v, "from", sent - WINDOW_MAX_MS, sent, &from, errstr, errstr_size) ==
                -1 ||
            get_int(v, "until", sent, sent + CXW_PEERS_TRIP_MAX_MS, &until, errstr,
                    errstr_size) == -1)
                goto fail;
        if (!json_is_boolean(a)) {
                cxw_set_err(errstr, errstr_size, "\"trip\" \"anchored\" is %s",
                            a ? "not a boolean" : "missing");
                goto fail;
        }
        t->sent = sent;
        t->from = from;
        t->until = until;
        t->anchored = json_is_true(a);
        return 0;
fail:
        t->cls = -1;
        return -1;
}

/* The optional "count" member v. */
static int decode_count(json_t *v, cxw_peer_count_t *n, char *errstr, size_t errstr_size)
{
        json_int_t trip, accepted, first;

        n->cls = -1;
        if (!v)
                return 0;
        if (!json_is_object(v)) {
                cxw_set_err(errstr, errstr_size, "\"count\" is not an object");
                return -1;
        }
        if (get_class(v, "count", &n->cls, errstr, errstr_size) == -1 ||
            get_int(v, "trip", WINDOW_MAX_MS, AT_MAX, &trip, errstr, errstr_size) == -1 ||
            get_int(v, "accepted", 0, 1000000000, &accepted, errstr, errstr_size) == -1 ||
            get_int(v, "first", -1, trip, &first, errstr, errstr_size) == -1)
                goto fail;
        if (first != -1 && first < trip - WINDOW_MAX_MS) {
                cxw_set_err(errstr, errstr_size,
                            "\"count\" \"first\" is more than 60 s before \"trip\"");
                goto fail;
        }
        n->trip = trip;
        n->accepted = (long)accepted;
        n->first = first;
        return 0;
fail:
        n->cls = -1;
        return -1;
}

int cxw_peers_decode(const void *buf, size_t len, cxw_peer_report_t *out, char *errstr,
                     size_t errstr_size)
{
        json_t *j = NULL, *v;
        json_error_t jerr;
        json_int_t parts, total, at;
        cxw_peer_trip_t trip;
        cxw_peer_count_t count;
        int busy;
        const char *worker;
        size_t wlen;

        memset(out, 0, sizeof(*out));
        if (!buf || len == 0) {
                cxw_set_err(errstr, errstr_size, "empty report");
                return -1;
        }
        if (len > CXW_PEERS_REPORT_MAX) {
                cxw_set_err(errstr, errstr_size, "report of %zu bytes (at most %d)", len,
                            CXW_PEERS_REPORT_MAX);
                return -1;
        }
        j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                cxw_set_err(errstr, errstr_size, "not JSON: %s", jerr.text);
                return -1;
        }
        if (!json_is_object(j)) {
                cxw_set_err(errstr, errstr_size, "not a JSON object");
                goto fail;
        }
        v = json_object_get(j, "worker");
        if (!json_is_string(v)) {
                cxw_set_err(errstr, errstr_size, "\"worker\" is %s",
                            v ? "not a string" : "missing");
                goto fail;
        }
        worker = json_string_value(v);
        wlen = json_string_length(v);
        if (wlen == 0 || wlen > CXW_PEERS_ID_MAX) {
                cxw_set_err(errstr, errstr_size, "\"worker\" has %zu chars (1..%d)", wlen,
                            CXW_PEERS_ID_MAX);
                goto fail;
        }
        for (size_t i = 0; i < wlen; i++)
                if ((unsigned char)worker[i] < 0x21 || (unsigned char)worker[i] > 0x7e) {
                        cxw_set_err(errstr, errstr_size,
                                    "\"worker\" has a character that is not printable "
                                    "ASCII");
                        goto fail;
                }
        if (get_int(j, "partitions", 0, CXW_PEERS_PARTS_MAX, &parts, errstr,
                    errstr_size) == -1 ||
            get_int(j, "total", 0, CXW_PEERS_PARTS_MAX, &total, errstr, errstr_size) ==
                -1 ||
            get_int(j, "at", 1, AT_MAX, &at, errstr, errstr_size) == -1)
                goto fail;
        if (parts > total) {
                cxw_set_err(errstr, errstr_size, "\"partitions\" %lld > \"total\" %lld",
                            (long long)parts, (long long)total);
                goto fail;
        }
        v = json_object_get(j, "busy");
        if (!json_is_boolean(v)) {
                cxw_set_err(errstr, errstr_size, "\"busy\" is %s",
                            v ? "not a boolean" : "missing");
                goto fail;
        }
        busy = json_is_true(v);
        if (decode_trip(json_object_get(j, "trip"), &trip, errstr, errstr_size) == -1 ||
            decode_count(json_object_get(j, "count"), &count, errstr, errstr_size) == -1)
                goto fail;
        memcpy(out->worker, worker, wlen);
        out->worker[wlen] = '\0';
        out->partitions = (int)parts;
        out->total = (int)total;
        out->busy = busy;
        out->at = at;
        out->trip = trip;
        out->count = count;
        json_decref(j);
        return 0;
fail:
        json_decref(j);
        memset(out, 0, sizeof(*out));
        return -1;
}
