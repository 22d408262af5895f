/* ctl_dlq.c: `cxonectl dlq list` and `cxonectl dlq replay`, the operator's
 * view of the dead-letter topic (docs/messages.md "DLQ copy") and the way
 * back from it: their options, one DLQ record as both read it, and the
 * subcommand's entry. The listing is in ctl_dlq_list.c, the replay in
 * ctl_dlq_replay.c. */
#include "ctl_dlq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/util.h"
#include "cxone/requests/schedules.h"

#define MAX_REPLAYS_MAX     1000
#define DEFAULT_MAX_REPLAYS 3

/* ---- options ------------------------------------------------------------ */

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

/* Copies src for display: control characters as '?', truncated with "...". */
void dlq_show(char *dst, size_t size, const void *src, size_t len)
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

/* Header values are printed: control characters become '?'. */
static void clean(char *s)
{
        for (; *s; s++) {
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        *s = '?';
        }
}

void dlq_rec_decode(const rd_kafka_message_t *m, rec_t *r)
{
        char reason[REASON_MAX + 1];
        long long v;

        memset(r, 0, sizeof(*r));
        ctl_header_get(m, "dlq-at", r->at, sizeof(r->at));
        ctl_header_get(m, "dlq-status", r->status, sizeof(r->status));
        ctl_header_get(m, "dlq-reason", reason, sizeof(reason));
        dlq_show(r->reason, sizeof(r->reason), reason, strlen(reason));
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
                dlq_show(r->key, sizeof(r->key), m->key, m->key_len);
        else
                cxw_strlcpy(r->key, "-", sizeof(r->key));
}

bool dlq_rec_matches(const opts_t *o, const rec_t *r)
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

int ctl_dlq_main(const cxw_config_t *cfg, int argc, char **argv)
{
        opts_t o = {0};
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
        return o.replay ? dlq_replay_main(cfg, &o) : dlq_list_main(cfg, &o);
}
