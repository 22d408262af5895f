/* ctl_dlq_replay.c: `cxonectl dlq replay`.
 *
 * A replay re-publishes a DLQ record to the topic and partition it came
 * from, with its original key, value and headers (the dlq-* ones stripped)
 * plus replay-count (previous + 1) and replayed-from ("dlq:<p>:<o>"). The
 * worker keeps a request's headers in its DLQ copy, so a replay that fails
 * again comes back to the DLQ carrying both: replay-count bounds the cycles
 * (--max-replays), and replayed-from marks the record it came from as done,
 * so that running replay again does not re-send what already went round.
 * Nothing else is remembered: a replay that succeeded leaves no trace on the
 * DLQ, hence --since. */
#include "ctl_dlq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/hmap.h"
#include "cxone/base/util.h"

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

        dlq_rec_decode(m, &r);
        if (!dlq_rec_matches(rp->o, &r)) {
                opts_t any = *rp->o;

                /* Say so when the default left out what was otherwise asked. */
                any.status = 0;
                if (rp->o->status_default && r.status_bit == ST_REJECTED &&
                    dlq_rec_matches(&any, &r))
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
                dlq_show(key, sizeof(key), m->key, m->key_len);
        else
                cxw_strlcpy(key, "-", sizeof(key));
        if (m->err) {
                rp->failed++;
                fprintf(stderr, "cxonectl: %s key=%s: delivery to %s failed: %s\n",
                        dlq_or_dash(ref), key, rd_kafka_topic_name(m->rkt),
                        rd_kafka_err2str(m->err));
                return;
        }
        rp->delivered++;
        printf("replayed %s key=%s -> %s[%d]@%lld replay-count=%s\n", dlq_or_dash(ref),
               key, rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
               dlq_or_dash(count));
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

int dlq_replay_main(const cxw_config_t *cfg, const opts_t *o)
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
