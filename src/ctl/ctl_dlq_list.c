/* ctl_dlq_list.c: `cxonectl dlq list`. It groups the records by what went
 * wrong: status, HTTP status and reason, the reason with every run of digits
 * as '#' (attempts, ms, entry indexes differ from record to record of one
 * problem); --all lists them one by one, --json as JSON. */
#include "ctl_dlq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/hmap.h"
#include "cxone/base/util.h"
#include "cxone/requests/schedules.h"

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
        snprintf(key, sizeof(key), "%s\t%s\t%s", dlq_or_dash(r->status),
                 dlq_or_dash(r->http), pat);
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
                       dlq_or_dash(g->first), dlq_or_dash(g->last), pat);
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
        dlq_rec_decode(m, &r);
        if (!dlq_rec_matches(l->o, &r))
                return 0;
        l->listed++;
        if (l->o->json)
                return ctl_print_message_json(m);
        if (!l->o->all)
                return group_add(l, &r);
        printf("%s %s %s[%s]@%s key=%s http=%s attempts=%s replays=%s %s\n",
               dlq_or_dash(r.at), dlq_or_dash(r.status), dlq_or_dash(r.topic),
               dlq_or_dash(r.partition_s), dlq_or_dash(r.offset_s), r.key,
               dlq_or_dash(r.http), dlq_or_dash(r.attempts),
               r.has_replays ? r.replays_s : "0", r.reason);
        return 0;
}

int dlq_list_main(const cxw_config_t *cfg, const opts_t *o)
{
        list_t l = {0};
        bool grouped;
        int rc;

        l.o = o;
        cxw_hmap_init(&l.by_key);
        rc = ctl_read_topic(cfg, cfg->topic_dlq, false, on_list, &l);
        if (l.oom)
                rc = CTL_EXIT_ERROR;
        grouped = !o->all && !o->json;
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
