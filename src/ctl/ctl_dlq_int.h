/* ctl_dlq_int.h: what the parts of `cxonectl dlq` share, private to
 * src/ctl/ctl_dlq*.c:
 *   ctl_dlq.c         the options, one DLQ record decoded and matched, and
 *                     the subcommand's entry
 *   ctl_dlq_list.c    dlq list: the records grouped, or one by one
 *   ctl_dlq_replay.c  dlq replay: the records back to where they came from */
#ifndef CXONE_CTL_DLQ_INT_H
#define CXONE_CTL_DLQ_INT_H

#include "ctl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REASON_MAX 1024 /* longest --reason, and dlq-reason kept */
#define SHOW_MAX   160  /* longest key shown */
#define TOPIC_MAX  249  /* Kafka's limit on topic names */

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

/* ---- ctl_dlq.c ---------------------------------------------------------- */

/* Copies src for display: control characters as '?', truncated with "...". */
void dlq_show(char *dst, size_t size, const void *src, size_t len);
/* The dlq-* and replay-count headers of m, checked and made printable. */
void dlq_rec_decode(const rd_kafka_message_t *m, rec_t *r);
/* Does r pass the --status, --reason and --since filters of o? */
bool dlq_rec_matches(const opts_t *o, const rec_t *r);

static inline const char *dlq_or_dash(const char *s)
{
        return s[0] ? s : "-";
}

/* ---- ctl_dlq_list.c, ctl_dlq_replay.c ----------------------------------- */

/* @returns a CTL_EXIT_* code. */
int dlq_list_main(const cxw_config_t *cfg, const opts_t *o);
/* @returns a CTL_EXIT_* code. */
int dlq_replay_main(const cxw_config_t *cfg, const opts_t *o);

#endif
