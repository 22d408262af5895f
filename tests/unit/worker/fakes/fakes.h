/* fakes.h: link-time fakes of io/kafka and io/http for the worker's unit
 * tests, and the harness that builds and drives one replica with them.
 *
 * The seam is the linker: fake_kafka.c defines every public function of
 * src/lib/io/kafka.c and fake_http.c every one of src/lib/io/http.c, and
 * both are linked as objects ahead of libcxw_io.a, so kafka.o and http.o are
 * never pulled from it (a function left out would pull the real object and
 * the link would fail with duplicate symbols). Everything else is real:
 * the worker's pipeline (cxw_worker), the loop (curl_multi_poll() on an
 * empty multi handle, timers, the wakeup pipe), the token cache, budget,
 * dispatch, offsets, the outcome writers.
 *
 * Consumed messages: librdkafka has no public way to make an
 * rd_kafka_message_t, and the worker calls three librdkafka functions on
 * the messages cxw_kafka_consume() returns and the delivery reports:
 * rd_kafka_topic_name(), rd_kafka_message_headers(),
 * rd_kafka_message_destroy(). fake_kafka.c defines those three as well
 * (the test executable's definitions take precedence over librdkafka.so's)
 * for its own messages; no real rd_kafka_t exists in these tests, so
 * nothing inside librdkafka calls them. The message struct sits at the end
 * of its allocation: any other accessor of librdkafka's reading its
 * private fields runs past it, which AddressSanitizer reports.
 *
 * One worker at a time: the fakes' state is global, reset by fx_teardown().
 */
#ifndef CXW_TEST_FAKES_H
#define CXW_TEST_FAKES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cxone/io/http.h"
#include "cxone/io/kafka.h"
#include "worker_int.h"

/* ------------------------------------------------------------------ */
/* fake_http.c                                                         */

/** One call started through cxw_http_start(), with copies of everything. */
typedef struct fh_req_s {
        struct fh_req_s *next; /* every call, in start order */
        int seq;               /* 1, 2, ... in start order */
        char *method, *url, *authorization, *content_type, *body;
        size_t body_len;
        char **headers; /* the extra "Name: value" lines */
        size_t nheaders;
        int timeout_ms, urgent;
        int64_t started_ms;
        cxw_http_done_cb *cb;
        void *opaque;
        /* the answer: set by fh_answer()/fh_fail(), given by cxw_http_perform() */
        int answered, done;
        long status;
        int transport_error;
        char *resp_body;
        char *retry_after;
} fh_req_t;

/** Answers, from cxw_http_perform(), every call not answered yet; returns
 *  1 if it answered r (with fh_answer()/fh_fail()), 0 to leave it. */
typedef int fh_responder_t(fh_req_t *r, void *opaque);

/** The oldest call not answered yet whose method is method (NULL: any) and
 *  whose URL contains url_part (NULL: any), or NULL. */
fh_req_t *fh_open(const char *method, const char *url_part);
/** Calls started and not answered (in flight for the worker, less the
 *  answered ones not yet given back). */
size_t fh_open_cnt(void);
/** Calls started so far matching method / url_part (NULL: any). */
size_t fh_started(const char *method, const char *url_part);
/** The value of an extra header line of r ("Idempotency-Key"), or NULL. */
const char *fh_header(const fh_req_t *r, const char *name);
/** Answers r: given to its callback by the next cxw_http_perform(). */
void fh_answer(fh_req_t *r, long status, const char *body, const char *retry_after);
/** Fails r with a transport error (CURLcode) instead. */
void fh_fail(fh_req_t *r, int curlcode, const char *error);
void fh_set_responder(fh_responder_t *fn, void *opaque);
/** 1 while a cxw_http_t exists. */
int fh_alive(void);
void fh_reset(void);

/* ------------------------------------------------------------------ */
/* fake_kafka.c                                                        */

/** A record produced through cxw_kafka_produce() or _untracked(). */
typedef struct fk_rec_s {
        struct fk_rec_s *next; /* every record, in produce order */
        char *topic;
        char *key; /* NUL-terminated copies */
        size_t keylen;
        char *value;
        size_t len;
        rd_kafka_headers_t *headers; /* the record's, owned here */
        void *opaque;
        int untracked;
        int acked;     /* the broker answered (err below) */
        int delivered; /* its delivery report was given */
        rd_kafka_resp_err_t err;
        int txn;       /* exactly-once: the transaction it went into (1, 2, ...) */
        int txn_state; /* FK_TXN_OPEN, _COMMITTED or _ABORTED */
} fk_rec_t;

enum { FK_TXN_OPEN = 0, FK_TXN_COMMITTED, FK_TXN_ABORTED };

/** Assigns topic/partition to the replica (the assigned hook runs now). */
void fk_assign(const char *topic, int32_t partition);
/** Revokes it: the revoked hook runs now, then the commit; its messages
 *  not consumed yet are dropped (the next owner reads them). */
void fk_revoke(const char *topic, int32_t partition);
/** Queues a message for consumption at the partition's next offset, with
 *  header name/value pairs (NULL-terminated list, or NULL). @returns the
 *  offset. */
int64_t fk_inject(const char *topic, int32_t partition, const char *key,
                  const char *value, const char *const *headers);
/** Messages injected and not consumed yet. */
size_t fk_queued(void);
/** Records produced to topic (untracked ones too), and the i-th of them. */
size_t fk_produced_cnt(const char *topic);
fk_rec_t *fk_produced(const char *topic, size_t i);
/** The value of a header of a produced record, as a string, or NULL. */
const char *fk_rec_header(const fk_rec_t *rec, const char *name, char *buf, size_t size);
/** 1 (the default): every record is acknowledged by the next
 *  cxw_kafka_serve(). 0: only by fk_ack(). */
void fk_set_auto_ack(int on);
/** Acknowledges the records produced and not acknowledged yet (err 0: a
 *  success); their reports are given by the next cxw_kafka_serve().
 *  @returns how many. */
size_t fk_ack(rd_kafka_resp_err_t err);
/** Records produced and not delivered yet (tracked ones only). */
size_t fk_undelivered(void);
/** cxw_kafka_produce() fails with __QUEUE_FULL the next n times. */
void fk_fail_produce(int n);
/** The last offset stored for topic/partition, or -1; how many stores. */
int64_t fk_stored(const char *topic, int32_t partition);
size_t fk_store_cnt(void);
int fk_is_paused(void);
int fk_pause_cnt(void);  /* pauses (0 -> 1) */
int fk_resume_cnt(void); /* resumes (1 -> 0) */
int fk_commit_cnt(void);
void fk_set_total_partitions(int n);
/* Exactly-once (cfg->kafka_exactly_once): the producer is transactional. A
 * record may only be produced inside a transaction (asserted). */
/** The next commit answers step (and, fatal, every step after). */
void fk_txn_fail_next_commit(cxw_kafka_txn_step_t step);
int fk_txn_commits(void);
int fk_txn_aborts(void);
int fk_txn_is_open(void);
/** The offset the last committed transaction gave topic/partition, or -1. */
int64_t fk_txn_offset(const char *topic, int32_t partition);
/** Rewinds so far; each one drops the queued messages of the assigned
 *  partitions and makes their next fk_inject() offset the committed one
 *  (the test injects them again, as Kafka delivers them again). */
int fk_rewinds(void);
void fk_reset(void);

/* ------------------------------------------------------------------ */
/* harness.c                                                           */

typedef struct fx_s {
        cxw_config_t *cfg;
        cxw_worker_t *w;
} fx_t;

/** A config for the tests: the worker's required keys, short delays,
 *  kafka.topics.budget "" (no reader), no rate limit unless extra has a
 *  rate group, then extra (libconfig text, may be
 *  NULL) on top. Fails the test on a problem. */
cxw_config_t *fx_config(const char *extra);
/** Builds a worker on cfg (owned by the fixture from now on), answers the
 *  token fetch and assigns partition 0 of the contact and schedule topics
 *  (signals blocked first). */
fx_t *fx_start(cxw_config_t *cfg);
/** fx_start(fx_config(extra)). Builds a worker on cfg (signals blocked first), answers
 * the token fetch and assigns partition 0 of the contact and schedule topics. */
fx_t *fx_new(const char *extra);
/** Destroys the worker and the config, resets the fakes. */
void fx_free(fx_t *f);
/** cmocka teardown: frees the fixture a failed test left, resets the fakes. */
int fx_teardown(void **state);
/** One loop round as cxw_worker_run() makes it (wait at most wait_ms). */
void fx_round(fx_t *f, int wait_ms);
/** Loop rounds until pred(f) holds or ms pass (rounds wait up to 5 ms);
 *  @returns pred's last value. */
int fx_until(fx_t *f, int (*pred)(fx_t *f), int ms);
/** Rounds for ms milliseconds. */
void fx_spin(fx_t *f, int ms);
/** Answers the open token fetch with a fresh token. */
void fx_token(fx_t *f);
/** A contact update's JSON for contactId id with field firstName = name. */
const char *fx_update(char *buf, size_t size, const char *id, const char *name);

/** The i-th record produced to topic, parsed (the caller json_decref()s). */
json_t *fx_rec_json(const char *topic, size_t i);
/** A string member of j, which must be there. */
const char *fx_jstr(json_t *j, const char *name);

#endif
