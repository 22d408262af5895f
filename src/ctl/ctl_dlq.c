/* ctl_dlq.c: `cxonectl dlq list` and `cxonectl dlq replay`, the operator's
 * view of the dead-letter topic (docs/messages.md "DLQ copy") and the way
 * back from it.
 *
 * A replay re-publishes a DLQ record to the topic and partition it came
 * from, with its original key, value and headers (the dlq-* ones stripped)
 * plus replay-count (previous + 1) and replayed-from ("dlq:<p>:<o>"). The
 * worker keeps a request's headers in its DLQ copy, so a replay that fails
 * again comes back to the DLQ carrying both: replay-count bounds the cycles
 * (--max-replays), and replayed-from marks the record it came from as done,
 * so that running replay again does not re-send what already went round.
 * Nothing else is remembered: a replay that succeeded leaves no trace on the
 * DLQ, hence --since.
 *
 * `dlq list` groups the records by what went wrong: status, HTTP status and
 * reason, the reason with every run of digits as '#' (attempts, ms, entry
 * indexes differ from record to record of one problem); --all lists them
 * one by one. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/hmap.h"
#include "cxone/base/util.h"
#include "cxone/requests/schedules.h"

#define REASON_MAX          1024 /* longest --reason, and dlq-reason kept */
#define SHOW_MAX            160  /* longest key shown */
#define TOPIC_MAX           249  /* Kafka's limit on topic names */
#define MAX_REPLAYS_MAX     1000
#define DEFAULT_MAX_REPLAYS 3

/* ---- options ------------------------------------------------------------ */

enum { ST_REJECTED = 1, ST_FAILED = 2 };

typedef struct {
        bool replay;         /* replay, else list */
        const char *reason;  /* substring, case-insensitive; NULL: any */
        unsigned status;     /* ST_* bits; 0: any */
        bool status_default; /* replay without --reason/--status: failed only */
        bool has_since;
        int64_t since_ms;
        bool json;
        bool all; /* list: every record, not the groups */
        bool dry_run;
        long max_replays;
} opts_t;

static void usage(bool replay)
{
        if (replay)
                fprintf(stderr, "usage: cxonectl dlq replay [--reason TEXT] "
                                "[--status rejected|failed|all] [--since RFC3339] "
                                "[--max-replays N] [--dry-run]\n");
        else
                fprintf(stderr, "usage: cxonectl dlq list [--reason TEXT] "
                                "[--status rejected|failed|all] [--since RFC3339] "
                                "[--all] [--json]\n"
                                "  groups the records by status, HTTP status and "
                                "reason (numbers as #),\n"
                                "  with counts; --all: one line per record; "
                                "--json: one JSON object per record\n");
}

/* Returns 0, 1 for --help (usage printed), -1 after printing the problem. */
static int parse_opts(opts_t *o, int argc, char **argv)
{
        bool status_given = false;

        o->max_replays = DEFAULT_MAX_REPLAYS;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(o->replay);
                        return 1;
                } else if (!strcmp(a, "--reason")) {
                        if (!v || !v[0] || strlen(v) > REASON_MAX) {
                                fprintf(stderr,
                                        "cxonectl: --reason: 1-%d characters of text\n",
                                        REASON_MAX);
                                return -1;
                        }
                        o->reason = v;
                        i++;
                } else if (!strcmp(a, "--status")) {
                        if (v && !strcmp(v, "rejected"))
                                o->status = ST_REJECTED;
                        else if (v && !strcmp(v, "failed"))
                                o->status = ST_FAILED;
                        else if (v && !strcmp(v, "all"))
                                o->status = ST_REJECTED | ST_FAILED;
                        else {
                                fprintf(stderr, "cxonectl: --status: rejected, failed "
                                                "or all\n");
                                return -1;
                        }
                        status_given = true;
                        i++;
                } else if (!strcmp(a, "--since")) {
                        const char *why = NULL;

                        if (!v || cxw_schedule_parse_time(v, strlen(v), &o->since_ms,
                                                          &why) != 0) {
                                fprintf(stderr,
                                        "cxonectl: --since: '%.64s' is not an RFC 3339 "
                                        "date-time (e.g. 2026-11-21T07:00:00Z): %s\n",
                                        v ? v : "", why ? why : "missing");
                                return -1;
                        }
                        o->has_since = true;
                        i++;
                } else if (!o->replay && !strcmp(a, "--json")) {
                        o->json = true;
                } else if (!o->replay && !strcmp(a, "--all")) {
                        o->all = true;
                } else if (o->replay && !strcmp(a, "--dry-run")) {
                        o->dry_run = true;
                } else if (o->replay && !strcmp(a, "--max-replays")) {
                        if (ctl_parse_int(a, v, 0, MAX_REPLAYS_MAX, &o->max_replays))
                                return -1;
                        i++;
                } else {
                        fprintf(stderr, "cxonectl: dlq %s: unknown argument '%s'\n",
                                o->replay ? "replay" : "list", a);
                        usage(o->replay);
                        return -1;
                }
        }
        /* Rejected requests would mostly be rejected again: replaying them
         * is a decision, not a default. */
        if (o->replay && !o->reason && !status_given) {
                o->status = ST_FAILED;
                o->status_default = true;
        }
        return 0;
}

/* ---- one DLQ record ----------------------------------------------------- */

typedef struct {
        char at[64];
        char status[16];
        char reason[REASON_MAX + 1];
        char http[24];
        char topic[TOPIC_MAX + 2];
        char partition_s[24];
        char offset_s[24];
        char attempts[24];
        char replays_s[24];
        bool has_replays;
        int32_t partition; /* -1 if absent or not a number */
        int64_t offset;    /* -1 if absent or not a number */
        long replays;      /* 0 if absent, -1 if not a number */
        unsigned status_bit;
        char key[SHOW_MAX + 4]; /* printable, "-" for none */
} rec_t;

/* Copies src for display: control characters as '?', truncated with "...". */
static void show(char *dst, size_t size, const void *src, size_t len)
{
        const unsigned char *s = src;
        size_t n = 0;

        for (size_t i = 0; i < len && n + 4 < size; i++)
                dst[n++] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
        if (n + 4 >= size && n < len) {
                memcpy(dst + n, "...", 3);
                n += 3;
        }
        dst[n] = '\0';
}

/* A non-negative decimal of at most 18 digits, else -1. */
static long long parse_nonneg(const char *s)
{
        long long v = 0;
        size_t n = 0;

        for (; *s >= '0' && *s <= '9' && n < 18; s++, n++)
                v = v * 10 + (*s - '0');
        return (n == 0 || *s) ? -1 : v;
}

static bool topic_name_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > TOPIC_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (; *s; s++) {
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
                        return false;
        }
        return true;
}

/* Header values are printed: control characters become '?'. */
static void clean(char *s)
{
        for (; *s; s++) {
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        *s = '?';
        }
}

static void rec_decode(const rd_kafka_message_t *m, rec_t *r)
{
        char reason[REASON_MAX + 1];
        long long v;

        memset(r, 0, sizeof(*r));
        ctl_header_get(m, "dlq-at", r->at, sizeof(r->at));
        ctl_header_get(m, "dlq-status", r->status, sizeof(r->status));
        ctl_header_get(m, "dlq-reason", reason, sizeof(reason));
        show(r->reason, sizeof(r->reason), reason, strlen(reason));
        ctl_header_get(m, "dlq-http-status", r->http, sizeof(r->http));
        ctl_header_get(m, "dlq-source-topic", r->topic, sizeof(r->topic));
        ctl_header_get(m, "dlq-source-partition", r->partition_s, sizeof(r->partition_s));
        ctl_header_get(m, "dlq-source-offset", r->offset_s, sizeof(r->offset_s));
        ctl_header_get(m, "dlq-attempts", r->attempts, sizeof(r->attempts));
        r->has_replays =
            ctl_header_get(m, "replay-count", r->replays_s, sizeof(r->replays_s));
        clean(r->at);
        clean(r->status);
        clean(r->http);
        clean(r->topic);
        clean(r->partition_s);
        clean(r->offset_s);
        clean(r->attempts);
        clean(r->replays_s);
        v = parse_nonneg(r->partition_s);
        r->partition = (v >= 0 && v <= INT32_MAX) ? (int32_t)v : -1;
        r->offset = parse_nonneg(r->offset_s);
        v = r->has_replays ? parse_nonneg(r->replays_s) : 0;
        r->replays = (v >= 0 && v <= 1000000) ? (long)v : -1;
        r->status_bit = !strcmp(r->status, "rejected") ? ST_REJECTED
                        : !strcmp(r->status, "failed") ? ST_FAILED
                                                       : 0;
        if (m->key)
                show(r->key, sizeof(r->key), m->key, m->key_len);
        else
                cxw_strlcpy(r->key, "-", sizeof(r->key));
}

static bool rec_matches(const opts_t *o, const rec_t *r)
{
        int64_t at;

        if (o->status && !(o->status & r->status_bit))
                return false;
        if (o->reason && !strcasestr(r->reason, o->reason))
                return false;
        if (o->has_since &&
            (cxw_schedule_parse_time(r->at, strlen(r->at), &at, NULL) != 0 ||
             at < o->since_ms))
                return false;
        return true;
}

static const char *or_dash(const char *s)
{
        return s[0] ? s : "-";
}

/* ---- dlq list ----------------------------------------------------------- */

/* One group: the records of one status, HTTP status and reason pattern. */
typedef struct {
        cxw_hmap_node_t node; /* in list_t.by_key; first, see group_eq() */
        char *key;            /* "<status>\t<http>\t<pattern>" */
        size_t count;
        int64_t first_ms, last_ms; /* of readable dlq-at values; -1: none */
        char first[64], last[64];
} group_t;

typedef struct {
        const opts_t *o;
        size_t read, listed;
        group_t **groups; /* in the order they came, then sorted to print */
        size_t ngroups, gcap;
        cxw_hmap_t by_key; /* the same groups */
        bool oom;
} list_t;

/* The reason with every run of digits as one '#'. */
static void pattern(const char *reason, char *out, size_t size)
{
        size_t n = 0;

        for (const char *p = reason; *p && n + 1 < size; p++) {
                if (*p >= '0' && *p <= '9') {
                        while (p[1] >= '0' && p[1] <= '9')
                                p++;
                        out[n++] = '#';
                } else {
                        out[n++] = *p;
                }
        }
        out[n] = '\0';
}

static bool group_eq(const cxw_hmap_node_t *node, const void *key)
{
        return strcmp(((const group_t *)node)->key, key) == 0;
}

/* The group of key, added if new; NULL when out of memory. */
static group_t *group_get(list_t *l, const char *key)
{
        uint64_t hash = cxw_hmap_hash(&l->by_key, key, strlen(key));
        cxw_hmap_node_t *found = cxw_hmap_find(&l->by_key, hash, group_eq, key);
        group_t *g;

        if (found)
                return (group_t *)found;
        if (l->ngroups == l->gcap) {
                size_t n = l->gcap ? l->gcap * 2 : 64;
                group_t **bigger = realloc(l->groups, n * sizeof(*bigger));

                if (!bigger)
                        return NULL;
                l->groups = bigger;
                l->gcap = n;
        }
        if (!(g = calloc(1, sizeof(*g))))
                return NULL;
        if (!(g->key = strdup(key)) || cxw_hmap_insert(&l->by_key, &g->node, hash) != 0) {
                free(g->key);
                free(g);
                return NULL;
        }
        g->first_ms = g->last_ms = -1;
        l->groups[l->ngroups++] = g;
        return g;
}

static int group_add(list_t *l, const rec_t *r)
{
        char pat[REASON_MAX + 1], key[REASON_MAX + 64];
        group_t *g;
        int64_t at;

        pattern(r->reason, pat, sizeof(pat));
        snprintf(key, sizeof(key), "%s\t%s\t%s", or_dash(r->status), or_dash(r->http),
                 pat);
        if (!(g = group_get(l, key))) {
                fprintf(stderr, "cxonectl: out of memory\n");
                l->oom = true;
                return -1;
        }
        g->count++;
        if (cxw_schedule_parse_time(r->at, strlen(r->at), &at, NULL) == 0) {
                if (g->first_ms < 0 || at < g->first_ms) {
                        g->first_ms = at;
                        cxw_strlcpy(g->first, r->at, sizeof(g->first));
                }
                if (g->last_ms < 0 || at > g->last_ms) {
                        g->last_ms = at;
                        cxw_strlcpy(g->last, r->at, sizeof(g->last));
                }
        }
        return 0;
}

/* Most records first; then by key, so that the order is stable. */
static int group_cmp(const void *a, const void *b)
{
        const group_t *x = *(group_t *const *)a, *y = *(group_t *const *)b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return strcmp(x->key, y->key);
}

static void groups_print(list_t *l)
{
        qsort(l->groups, l->ngroups, sizeof(*l->groups), group_cmp);
        for (size_t i = 0; i < l->ngroups; i++) {
                const group_t *g = l->groups[i];
                const char *http = strchr(g->key, '\t') + 1;
                const char *pat = strchr(http, '\t') + 1;

                printf("%6zu %.*s http=%.*s first=%s last=%s %s\n", g->count,
                       (int)(http - 1 - g->key), g->key, (int)(pat - 1 - http), http,
                       or_dash(g->first), or_dash(g->last), pat);
        }
}

static void groups_clear(list_t *l)
{
        for (size_t i = 0; i < l->ngroups; i++) {
                free(l->groups[i]->key);
                free(l->groups[i]);
        }
        free(l->groups);
        cxw_hmap_fini(&l->by_key);
}

static int on_list(const rd_kafka_message_t *m, void *ctx)
{
        list_t *l = ctx;
        rec_t r;

        l->read++;
        rec_decode(m, &r);
        if (!rec_matches(l->o, &r))
                return 0;
        l->listed++;
        if (l->o->json)
                return ctl_print_message_json(m);
        if (!l->o->all)
                return group_add(l, &r);
        printf("%s %s %s[%s]@%s key=%s http=%s attempts=%s replays=%s %s\n",
               or_dash(r.at), or_dash(r.status), or_dash(r.topic), or_dash(r.partition_s),
               or_dash(r.offset_s), r.key, or_dash(r.http), or_dash(r.attempts),
               r.has_replays ? r.replays_s : "0", r.reason);
        return 0;
}

/* ---- a set of strings (refs of replayed records, sources seen) ---------- */

typedef struct {
        cxw_hmap_node_t node; /* first, see str_eq() */
        char s[];
} str_t;

typedef struct {
        cxw_hmap_t map; /* of str_t; cxw_hmap_init() first */
} strset_t;

static bool str_eq(const cxw_hmap_node_t *node, const void *key)
{
        return strcmp(((const str_t *)node)->s, key) == 0;
}

static bool strset_has(const strset_t *set, const char *s)
{
        return cxw_hmap_find(&set->map, cxw_hmap_hash(&set->map, s, strlen(s)), str_eq,
                             s) != NULL;
}

/* Returns 1 if added, 0 if already there, -1 when out of memory. */
static int strset_add(strset_t *set, const char *s)
{
        size_t len = strlen(s);
        uint64_t hash = cxw_hmap_hash(&set->map, s, len);
        str_t *e;

        if (cxw_hmap_find(&set->map, hash, str_eq, s))
                return 0;
        if (!(e = malloc(sizeof(*e) + len + 1)))
                return -1;
        memcpy(e->s, s, len + 1);
        if (cxw_hmap_insert(&set->map, &e->node, hash) != 0) {
                free(e);
                return -1;
        }
        return 1;
}

static void strset_clear(strset_t *set)
{
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *n;

        while ((n = cxw_hmap_next(&set->map, &it))) {
                cxw_hmap_remove(&set->map, n);
                free(n);
        }
        cxw_hmap_fini(&set->map);
}

/* ---- dlq replay --------------------------------------------------------- */

/* Why a matching record was not replayed; the summary counts each. */
typedef enum {
        SKIP_NO_SOURCE,
        SKIP_SOURCE_IS_DLQ,
        SKIP_BAD_COUNT,
        SKIP_MAX_REPLAYS,
        SKIP_REPLAYED,
        SKIP_DUPLICATE,
        SKIP_TOO_LARGE,
        SKIP_N
} skip_t;

static const char *const skip_names[SKIP_N] = {
    "without a valid source topic",
    "from the DLQ itself",
    "with a bad replay-count",
    "at --max-replays",
    "replayed before",
    "duplicate copies",
    "too large",
};

typedef struct {
        const opts_t *o;
        const cxw_config_t *cfg;
        rd_kafka_t *producer;
        strset_t replayed; /* "dlq:<p>:<o>" of records a replay came from */
        strset_t sources;  /* "<topic>/<p>/<o>" replayed in this run */
        size_t read, matched, queued, delivered, failed, unselected_rejected;
        size_t skipped[SKIP_N];
        bool fatal;
} replay_t;

/* Pass 1: every replayed-from on the DLQ names a record whose replay failed
 * (or was rejected) and came back: that record is done. */
static int on_scan(const rd_kafka_message_t *m, void *ctx)
{
        replay_t *rp = ctx;
        char ref[64];

        rp->read++;
        if (ctl_header_get(m, "replayed-from", ref, sizeof(ref)) &&
            strset_add(&rp->replayed, ref) < 0) {
                fprintf(stderr, "cxonectl: out of memory\n");
                rp->fatal = true;
                return -1;
        }
        return 0;
}

static void skip(replay_t *rp, skip_t why, const char *ref, const rec_t *r,
                 const char *msg)
{
        rp->skipped[why]++;
        printf("skipped %s key=%s: %s\n", ref, r->key, msg);
}

/* The original headers: all but dlq-*, replay-count and replayed-from, then
 * the new replay-count and replayed-from. */
static rd_kafka_headers_t *replay_headers(const rd_kafka_message_t *m, long count,
                                          const char *ref)
{
        rd_kafka_headers_t *in = NULL, *out;
        const char *name;
        const void *val;
        size_t len;
        char num[24];

        if (rd_kafka_message_headers(m, &in) != RD_KAFKA_RESP_ERR_NO_ERROR)
                in = NULL;
        out = rd_kafka_headers_new(in ? rd_kafka_header_cnt(in) : 2);
        for (size_t i = 0; in && rd_kafka_header_get_all(in, i, &name, &val, &len) ==
                                     RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
                if (!strncmp(name, "dlq-", 4) || !strcmp(name, "replay-count") ||
                    !strcmp(name, "replayed-from"))
                        continue;
                rd_kafka_header_add(out, name, -1, val, (ssize_t)len);
        }
        snprintf(num, sizeof(num), "%ld", count);
        rd_kafka_header_add(out, "replay-count", -1, num, -1);
        rd_kafka_header_add(out, "replayed-from", -1, ref, -1);
        return out;
}

/* Pass 2: the matching records, each replayed or skipped with its reason. */
static int on_replay(const rd_kafka_message_t *m, void *ctx)
{
        replay_t *rp = ctx;
        rd_kafka_headers_t *hdrs;
        rd_kafka_resp_err_t err;
        char ref[64], src[TOPIC_MAX + 64], msg[64];
        rec_t r;

        rec_decode(m, &r);
        if (!rec_matches(rp->o, &r)) {
                opts_t any = *rp->o;

                /* Say so when the default left out what was otherwise asked. */
                any.status = 0;
                if (rp->o->status_default && r.status_bit == ST_REJECTED &&
                    rec_matches(&any, &r))
                        rp->unselected_rejected++;
                return 0;
        }
        rp->matched++;
        snprintf(ref, sizeof(ref), "dlq:%d:%lld", (int)m->partition,
                 (long long)m->offset);
        if (!topic_name_ok(r.topic)) {
                skip(rp, SKIP_NO_SOURCE, ref, &r, "no valid dlq-source-topic");
                return 0;
        }
        if (!strcmp(r.topic, rp->cfg->topic_dlq)) {
                skip(rp, SKIP_SOURCE_IS_DLQ, ref, &r, "its source is the DLQ itself");
                return 0;
        }
        if (r.replays < 0) {
                skip(rp, SKIP_BAD_COUNT, ref, &r,
                     "its replay-count header is not a number");
                return 0;
        }
        if (r.replays >= rp->o->max_replays) {
                snprintf(msg, sizeof(msg), "replayed %ld times already; not again",
                         r.replays);
                skip(rp, SKIP_MAX_REPLAYS, ref, &r, msg);
                return 0;
        }
        if (strset_has(&rp->replayed, ref)) {
                skip(rp, SKIP_REPLAYED, ref, &r,
                     "replayed before, and that replay came back to the DLQ");
                return 0;
        }
        if (r.partition >= 0 && r.offset >= 0) {
                int added;

                snprintf(src, sizeof(src), "%s/%d/%lld", r.topic, (int)r.partition,
                         (long long)r.offset);
                if ((added = strset_add(&rp->sources, src)) < 0) {
                        fprintf(stderr, "cxonectl: out of memory\n");
                        rp->fatal = true;
                        return -1;
                }
                if (added == 0) {
                        skip(rp, SKIP_DUPLICATE, ref, &r,
                             "another DLQ copy of the same request was replayed in this "
                             "run");
                        return 0;
                }
        }
        if (rp->o->dry_run) {
                printf("would replay %s key=%s -> %s[%s] replay-count=%ld %s\n", ref,
                       r.key, r.topic, r.partition >= 0 ? r.partition_s : "any",
                       r.replays + 1, r.reason);
                rp->queued++;
                return 0;
        }
        hdrs = replay_headers(m, r.replays + 1, ref);
        /* Its own partition: the request keeps its place among its key's. */
        err = ctl_produce(rp->producer, r.topic,
                          r.partition >= 0 ? r.partition : RD_KAFKA_PARTITION_UA, m->key,
                          m->key_len, m->payload, m->len, hdrs, NULL);
        rd_kafka_headers_destroy(hdrs);
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                skip(rp, SKIP_TOO_LARGE, ref, &r,
                     "larger than the producer's message.max.bytes");
                return 0;
        }
        if (err) {
                fprintf(stderr, "cxonectl: %s key=%s: cannot produce to %s: %s\n", ref,
                        r.key, r.topic, rd_kafka_err2str(err));
                rp->failed++;
                rp->fatal = true;
                return -1;
        }
        rp->queued++;
        return 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        replay_t *rp = opaque;
        char ref[64], count[24], key[SHOW_MAX + 4];

        (void)rk;
        ctl_header_get(m, "replayed-from", ref, sizeof(ref));
        ctl_header_get(m, "replay-count", count, sizeof(count));
        if (m->key)
                show(key, sizeof(key), m->key, m->key_len);
        else
                cxw_strlcpy(key, "-", sizeof(key));
        if (m->err) {
                rp->failed++;
                fprintf(stderr, "cxonectl: %s key=%s: delivery to %s failed: %s\n",
                        or_dash(ref), key, rd_kafka_topic_name(m->rkt),
                        rd_kafka_err2str(m->err));
                return;
        }
        rp->delivered++;
        printf("replayed %s key=%s -> %s[%d]@%lld replay-count=%s\n", or_dash(ref), key,
               rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
               or_dash(count));
}

static void print_summary(const replay_t *rp)
{
        size_t skipped = 0;
        const char *sep = " (";

        for (int i = 0; i < SKIP_N; i++)
                skipped += rp->skipped[i];
        printf("%s %zu, skipped %zu", rp->o->dry_run ? "would replay" : "replayed",
               rp->o->dry_run ? rp->queued : rp->delivered, skipped);
        for (int i = 0; i < SKIP_N; i++) {
                if (rp->skipped[i]) {
                        printf("%s%zu %s", sep, rp->skipped[i], skip_names[i]);
                        sep = ", ";
                }
        }
        printf("%s", skipped ? ")" : "");
        if (rp->failed)
                printf(", NOT DELIVERED %zu", rp->failed);
        printf("\n");
        if (rp->unselected_rejected)
                printf("%zu rejected record(s) not selected: replaying rejected requests "
                       "needs --status rejected\n",
                       rp->unselected_rejected);
}

static int replay_main(const cxw_config_t *cfg, const opts_t *o)
{
        replay_t rp = {0};
        char errstr[512];
        int rc = CTL_EXIT_ERROR;

        rp.o = o;
        rp.cfg = cfg;
        cxw_hmap_init(&rp.replayed.map);
        cxw_hmap_init(&rp.sources.map);
        if (ctl_read_topic(cfg, cfg->topic_dlq, false, on_scan, &rp) != CTL_EXIT_OK ||
            rp.fatal)
                goto out;
        if (!o->dry_run) {
                rp.producer = ctl_producer_new(cfg, dr_cb, &rp, errstr, sizeof(errstr));
                if (!rp.producer) {
                        fprintf(stderr, "cxonectl: kafka producer: %s\n", errstr);
                        goto out;
                }
        }
        rc = ctl_read_topic(cfg, cfg->topic_dlq, false, on_replay, &rp);
        if (rp.producer)
                ctl_producer_flush(rp.producer);
        if (!o->dry_run && rp.delivered + rp.failed < rp.queued) {
                fprintf(stderr, "cxonectl: %zu replay(s) without a delivery report%s\n",
                        rp.queued - rp.delivered - rp.failed,
                        ctl_stop ? " (interrupted)" : "");
                rp.failed += rp.queued - rp.delivered - rp.failed;
        }
        print_summary(&rp);
        if (rp.fatal || rp.failed || ctl_stop)
                rc = CTL_EXIT_ERROR;
out:
        if (rp.producer)
                rd_kafka_destroy(rp.producer);
        strset_clear(&rp.replayed);
        strset_clear(&rp.sources);
        return rc;
}

int ctl_dlq_main(const cxw_config_t *cfg, int argc, char **argv)
{
        opts_t o = {0};
        list_t l = {0};
        bool grouped;
        int rc;

        if (argc < 2 || (strcmp(argv[1], "list") && strcmp(argv[1], "replay"))) {
                fprintf(stderr,
                        "usage: cxonectl dlq list|replay [OPTIONS] (see --help)\n");
                return CTL_EXIT_ERROR;
        }
        o.replay = !strcmp(argv[1], "replay");
        rc = parse_opts(&o, argc - 1, argv + 1);
        if (rc != 0)
                return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
        if (o.replay)
                return replay_main(cfg, &o);
        l.o = &o;
        cxw_hmap_init(&l.by_key);
        rc = ctl_read_topic(cfg, cfg->topic_dlq, false, on_list, &l);
        if (l.oom)
                rc = CTL_EXIT_ERROR;
        grouped = !o.all && !o.json;
        if (rc == CTL_EXIT_OK && grouped)
                groups_print(&l);
        fflush(stdout);
        if (rc == CTL_EXIT_OK && grouped)
                fprintf(stderr, "listed %zu of %zu DLQ records (%s) in %zu groups\n",
                        l.listed, l.read, cfg->topic_dlq, l.ngroups);
        else if (rc == CTL_EXIT_OK)
                fprintf(stderr, "listed %zu of %zu DLQ records (%s)\n", l.listed, l.read,
                        cfg->topic_dlq);
        groups_clear(&l);
        return rc;
}
