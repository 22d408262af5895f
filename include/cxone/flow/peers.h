/**
 * @file peers.h
 * @brief Budget lending between replicas: who of the consumer group has
 *        demand, and this replica's effective share of the group's rate.
 *
 * Every replica publishes a small report on the budget topic
 * (kafka.topics.budget) every rate.share_interval_ms and on each busy/idle
 * flip: key = worker id, value
 * `{"worker":"w1","partitions":6,"total":12,"busy":true,"at":<wall ms>}`.
 * The reports of the others land in a table here; from it a busy replica
 * borrows the partition share of the idle ones:
 *
 *     share = mine / (total - idle_parts)     clamped to [mine / total, 1]
 *
 * where idle_parts sums the partitions of the FRESH peer reports (received
 * within 3 intervals, `at` no older than 3 intervals plus a clock-skew
 * allowance) that say busy=false and whose total equals ours. Anything
 * unknown, stale or inconsistent counts as busy: with no reports at all the
 * share is the static mine / total. An idle replica keeps its static share;
 * a replica that just turned busy keeps its static share for one interval,
 * so that the others hear of it before it spends more than its own part.
 *
 * The same reports carry the group's 429 trips. A replica whose request of
 * a class was just answered 429 (a trip, see cxw_budget_on_429()) reports
 * at once with `"trip":{"class":"contacts","sent":S,"from":F,"until":U,
 * "anchored":true}` (wall ms): the send time of the rejected request, the
 * start of the window measured, the end of its pause. The server's bucket
 * is the group's, so the others pause until then too and measure the same
 * trip (cxw_budget_on_peer_trip()). When the pause ends, each reports what
 * it counted over that window, `"count":{"class":"contacts","trip":S,
 * "accepted":N,"first":T}` (T: the earliest accepted send, -1 if none), and
 * each adds the others' counts to its own (cxw_budget_on_peer_count()).
 *
 * With a group key (rate.peer_secret) every report is signed: the value
 * ends with `,"sig":"<HMAC-SHA256 hex>"}`, over the report as encoded
 * without that member (cxw_peers_sign(), cxw_peers_verify()); the key's
 * holders are the group.
 *
 * A pure state machine with the clocks passed in (monotonic ms for ages,
 * wall ms only to read and write `at`); @locality loop thread.
 */
#ifndef CXONE_PEERS_H
#define CXONE_PEERS_H

#include <stddef.h>
#include <stdint.h>

/** Longest worker id in a report. */
#define CXW_PEERS_ID_MAX 128
/** Largest report value accepted (and written), its signature included. */
#define CXW_PEERS_REPORT_MAX 640
/** Most peers remembered; beyond, new ones are ignored until old ones age out. */
#define CXW_PEERS_MAX 256
/** Largest partition count believed in a report. */
#define CXW_PEERS_PARTS_MAX 1000000

/** A 429 trip in a report (wall ms). */
typedef struct cxw_peer_trip_s {
        int cls;       /**< the cxw_budget_class_t tripped, -1 if none */
        int64_t sent;  /**< the rejected request was sent */
        int64_t from;  /**< the window measured starts */
        int64_t until; /**< the pause ends */
        int anchored;  /**< from is a busy start or resume */
} cxw_peer_trip_t;

/** What a replica counted over a trip's window (wall ms). */
typedef struct cxw_peer_count_s {
        int cls;       /**< the cxw_budget_class_t, -1 if none */
        int64_t trip;  /**< the trip's sent */
        long accepted; /**< accepted requests sent in the window */
        int64_t first; /**< the earliest of them, -1 if none */
} cxw_peer_count_t;

/** One replica's report. */
typedef struct cxw_peer_report_s {
        char worker[CXW_PEERS_ID_MAX + 1]; /**< worker.id */
        int partitions;                    /**< partitions assigned to it */
        int total;                         /**< partitions of its topics in all */
        int busy;                          /**< 1 if it has demand */
        int64_t at;                        /**< wall ms when it was written */
        cxw_peer_trip_t trip;              /**< trip.cls -1 if none */
        cxw_peer_count_t count;            /**< count.cls -1 if none */
} cxw_peer_report_t;

typedef struct cxw_peers_s cxw_peers_t;

/** Length of a report's signature member, `,"sig":"<64 hex>"`. */
#define CXW_PEERS_SIG_LEN 73

/** What cxw_peers_verify() and cxw_peers_check_at() say of a report. */
typedef enum {
        CXW_PEERS_OK = 0,      /**< signed with the key / written lately */
        CXW_PEERS_UNSIGNED,    /**< no signature member at its end */
        CXW_PEERS_BAD_SIG,     /**< a signature not made with the key */
        CXW_PEERS_STALE,       /**< `at` older than 3 intervals + clock skew */
        CXW_PEERS_FUTURE,      /**< `at` later than now + clock skew */
        CXW_PEERS__VERDICT_CNT /**< (count) */
} cxw_peers_verdict_t;

/** @brief "ok", "unsigned", "bad_signature", "stale", "future". */
const char *cxw_peers_verdict_str(cxw_peers_verdict_t v);

/**
 * @brief Signs the report of len bytes in buf (as written by
 *        cxw_peers_encode_ex(): a JSON object ending in '}') with key:
 *        replaces its closing '}' by `,"sig":"<hex>"}`, the HMAC-SHA256
 *        under key of the len bytes as they were.
 * @returns the new length (len + CXW_PEERS_SIG_LEN), or -1 if buf (size
 *          bytes) is too small, the report does not end in '}', the key is
 *          empty or the HMAC fails. The key is never copied or shown.
 */
int cxw_peers_sign(const char *key, char *buf, size_t len, size_t size);

/**
 * @brief Checks the signature of a received report value: CXW_PEERS_OK if
 *        it ends with a signature member that is the HMAC-SHA256 under key
 *        of the value without it (compared in constant time),
 *        CXW_PEERS_UNSIGNED if it has none at its end, else
 *        CXW_PEERS_BAD_SIG.
 */
cxw_peers_verdict_t cxw_peers_verify(const char *key, const void *buf, size_t len);

/**
 * @brief Whether a report written at at_ms (wall) is news at now_wall_ms:
 *        CXW_PEERS_STALE if older than 3 intervals plus 1 s of clock skew,
 *        CXW_PEERS_FUTURE if later than now plus that skew, else
 *        CXW_PEERS_OK. A report that is not OK must be ignored whole (its
 *        trip and count too): a replay or a forgery.
 */
cxw_peers_verdict_t cxw_peers_check_at(const cxw_peers_t *p, int64_t at_ms,
                                       int64_t now_wall_ms);

/** Longest pause a trip in a report may announce (and its clock skew). */
#define CXW_PEERS_TRIP_MAX_MS ((int64_t)3600 * 1000)

/**
 * @brief A table for the replica self_id, with reports every interval_ms.
 *        Its own state starts idle with 0 of 0 partitions.
 * @remark free with cxw_peers_destroy(). NULL if out of memory or
 *         interval_ms <= 0.
 */
cxw_peers_t *cxw_peers_new(const char *self_id, int64_t interval_ms);

/** @brief NULL-safe. */
void cxw_peers_destroy(cxw_peers_t *p);

/**
 * @brief This replica's partitions (assigned, and in all).
 * @returns 1 if they changed (worth a report now), else 0.
 */
int cxw_peers_set_partitions(cxw_peers_t *p, int mine, int total);

/**
 * @brief This replica's demand now: has_work = buffered or in-flight work
 *        or paused partitions. It turns busy at once and idle only after
 *        a quiet interval without work. Call it on every loop round and
 *        at least once an interval.
 * @returns 1 if the busy flag flipped (worth a report now), else 0.
 */
int cxw_peers_set_work(cxw_peers_t *p, int has_work, int64_t now_ms);

/** @brief 1 while this replica counts as busy. */
int cxw_peers_busy(const cxw_peers_t *p);

/**
 * @brief Records a peer's report, received at now_ms (monotonic) with the
 *        wall clock at now_wall_ms. The replica's own reports are ignored,
 *        and so are those cxw_peers_check_at() does not find OK.
 * @returns 1 if the table changed, 0 if ignored (own, too old, written in
 *          the future, table full).
 */
int cxw_peers_update(cxw_peers_t *p, const cxw_peer_report_t *r, int64_t now_ms,
                     int64_t now_wall_ms);

/** @brief Forgets reports older than 10 intervals (bounds the table). */
void cxw_peers_prune(cxw_peers_t *p, int64_t now_ms);

/** @brief The static share: mine / total (1 when total is unknown). */
double cxw_peers_static_share(const cxw_peers_t *p);

/**
 * @brief This replica's effective share at now_ms (see the file comment).
 * @param idle_parts if not NULL, receives the idle partitions lent (0 when
 *        none are used).
 */
double cxw_peers_share(const cxw_peers_t *p, int64_t now_ms, int *idle_parts);

/**
 * @brief This replica's report for now_wall_ms, as JSON in buf.
 * @returns the length written, or -1 if buf is too small.
 */
int cxw_peers_encode(const cxw_peers_t *p, int64_t now_wall_ms, char *buf, size_t size);

/**
 * @brief Like cxw_peers_encode(), with a trip and/or a count (each may be
 *        NULL).
 * @returns the length written, or -1 if buf is too small or a class is
 *          unknown.
 */
int cxw_peers_encode_ex(const cxw_peers_t *p, int64_t now_wall_ms,
                        const cxw_peer_trip_t *trip, const cxw_peer_count_t *count,
                        char *buf, size_t size);

/**
 * @brief Decodes a report value, strictly: a JSON object of at most
 *        CXW_PEERS_REPORT_MAX bytes with "worker" (1..CXW_PEERS_ID_MAX
 *        printable chars), "partitions" and "total" (integers, 0 <=
 *        partitions <= total <= CXW_PEERS_PARTS_MAX), "busy" (boolean) and
 *        "at" (a positive integer), optionally "trip" (an object with
 *        "class", one of the budget's class names, "sent", "from" and
 *        "until", positive integers with sent - 60 s <= from <= sent <=
 *        until <= sent + CXW_PEERS_TRIP_MAX_MS, and "anchored", a boolean)
 *        and "count" ("class", "trip" a positive integer, "accepted" in
 *        0..1e9, "first" -1 or within 60 s before "trip"); other members
 *        (the signature "sig" among them) are ignored.
 * @returns 0, or -1 with the reason in errstr (never a crash on any input).
 */
int cxw_peers_decode(const void *buf, size_t len, cxw_peer_report_t *out, char *errstr,
                     size_t errstr_size);

#endif
