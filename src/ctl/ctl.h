/**
 * @file ctl.h
 * @brief cxonectl internals shared by its subcommand files.
 *
 * ctl_main.c parses the global options and loads the configuration, then
 * hands over to one subcommand: dev-kafka (ctl_devkafka.c), contacts import
 * (ctl_import.c: CSV rows to requests), schedules import (ctl_schedules.c:
 * JSON elements to requests), results and topic dump (ctl_results.c, which
 * also holds the topic reader and the message-as-JSON view the others use),
 * dlq list and dlq replay (ctl_dlq.c, ctl_dlq_list.c, ctl_dlq_replay.c).
 * ctl_kafka.c holds what they share: client configuration from the config
 * file, the idempotent producer, the stop signal, the outcome record
 * decoder. ctl_batch.c is what the two imports share: delivery tracking,
 * and (ctl_batch_wait.c) the --wait follow-up on the results topic, the
 * summary and the exit code.
 */
#ifndef CXONE_CTL_H
#define CXONE_CTL_H

#include <librdkafka/rdkafka.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cxone/base/config.h"

/** Exit codes (docs/cxonectl.md). */
enum {
        CTL_EXIT_OK = 0,       /**< done; for --wait: every request succeeded */
        CTL_EXIT_ERROR = 1,    /**< bad arguments, configuration, Kafka */
        CTL_EXIT_TIMEOUT = 2,  /**< --wait: timed out */
        CTL_EXIT_REJECTED = 3, /**< --wait: all outcomes in, some not succeeded */
};

/** Set by SIGINT/SIGTERM; the only mutable global of cxonectl. */
extern volatile sig_atomic_t ctl_stop;

/** @brief Installs the SIGINT/SIGTERM handlers that set ctl_stop. */
void ctl_install_signals(void);

/** Which Kafka client a configuration is for. */
typedef enum {
        CTL_PRODUCER,
        CTL_CONSUMER,
} ctl_client_t;

/**
 * @brief A librdkafka configuration from the config file
 *        (cxw_kafka_conf_new()): bootstrap servers, client.id "cxonectl",
 *        cxonectl's defaults (a throw-away group.id for a consumer,
 *        message.timeout.ms CTL_MESSAGE_TIMEOUT_MS_STR for a producer),
 *        kafka.properties, then the producer or consumer properties, and a
 *        log callback into the JSON logger; a consumer never commits
 *        (enable.auto.commit and enable.auto.offset.store false, whatever
 *        the configuration says).
 * @returns the conf, or NULL with errstr naming the property and reason.
 * @remark the caller owns the conf (rd_kafka_new() takes it over).
 */
rd_kafka_conf_t *ctl_kafka_conf(const cxw_config_t *cfg, ctl_client_t kind, char *errstr,
                                size_t errstr_size);

/** @brief librdkafka log callback writing through the JSON logger. */
void ctl_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/**
 * @brief Sets one property, writing "name=value: reason" to errstr on failure.
 * @returns 0 or -1.
 */
int ctl_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                 size_t errstr_size);

/** cxonectl's message.timeout.ms unless the configuration sets it (librdkafka's
 *  default is 300000, five minutes). */
#define CTL_MESSAGE_TIMEOUT_MS_STR "60000"

/** How long cxonectl waits for a first answer from Kafka before giving up. */
#define CTL_PROBE_TIMEOUT_MS 10000

/**
 * @brief Checks that Kafka answers: a metadata request for topic, bounded by
 *        timeout_ms. Only the cluster's answer counts: a topic-level error
 *        (unknown topic) is left to the caller's own use of the topic.
 * @returns 0, or -1 with errstr naming the bootstrap servers, where they come
 *          from, and librdkafka's reason.
 */
int ctl_kafka_probe(rd_kafka_t *rk, const cxw_config_t *cfg, const char *topic,
                    int timeout_ms, char *errstr, size_t errstr_size);

/** A delivery report callback (rd_kafka_conf_set_dr_msg_cb). */
typedef void(ctl_dr_cb_t)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/**
 * @brief The idempotent producer of cxonectl (enable.idempotence, acks=all,
 *        message.timeout.ms 60 s unless configured) on ctl_kafka_conf().
 * @param dr_cb delivery report callback, or NULL; opaque is its third
 *        argument (the instance opaque).
 * @returns the producer, or NULL with errstr set.
 * @remark free with rd_kafka_destroy() after ctl_producer_flush().
 */
rd_kafka_t *ctl_producer_new(const cxw_config_t *cfg, ctl_dr_cb_t *dr_cb, void *opaque,
                             char *errstr, size_t errstr_size);

/**
 * @brief Produces one message (key, value and headers copied; key or value
 *        may be NULL), waiting for queue space while the local queue is full
 *        (until ctl_stop), then serves pending delivery reports.
 * @param partition a partition, or RD_KAFKA_PARTITION_UA for the partitioner.
 * @param msg_opaque the message's _private in its delivery report.
 * @returns RD_KAFKA_RESP_ERR_NO_ERROR, or why the message was not queued.
 * @remark hdrs stays the caller's (NULL for none).
 */
rd_kafka_resp_err_t ctl_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                const void *key, size_t key_len, const void *value,
                                size_t value_len, const rd_kafka_headers_t *hdrs,
                                void *msg_opaque);

/**
 * @brief Waits for every delivery report (each bounded by
 *        message.timeout.ms), or until ctl_stop.
 */
void ctl_producer_flush(rd_kafka_t *rk);

/** Called for each message of a topic read; non-zero stops the read. */
typedef int (*ctl_on_message_t)(const rd_kafka_message_t *m, void *ctx);

/**
 * @brief Reads topic from the beginning of every partition, without a
 *        consumer group and committing nothing, and calls on_message for
 *        each message; returns at the end of every partition (following:
 *        on SIGINT/SIGTERM). Problems are printed on stderr.
 * @returns CTL_EXIT_OK, or CTL_EXIT_ERROR (also when on_message stopped it).
 */
int ctl_read_topic(const cxw_config_t *cfg, const char *topic, bool follow,
                   ctl_on_message_t on_message, void *ctx);

/**
 * @brief A JSON string of arbitrary bytes: as they are when UTF-8, else with
 *        every byte above 0x7f shown as '?'; JSON null for p NULL.
 * @returns a new reference (json_null() when out of memory).
 */
json_t *ctl_bytes_json(const void *p, size_t len);

/**
 * @brief A message as {"topic","partition","offset","key","headers","value"}
 *        (the `topic dump` view; a repeated header: the last one).
 * @returns a new reference, or NULL when out of memory.
 */
json_t *ctl_message_json(const rd_kafka_message_t *m);

/**
 * @brief Prints ctl_message_json(m) compactly as one stdout line.
 * @returns 0, or -1 after printing "out of memory" on stderr.
 */
int ctl_print_message_json(const rd_kafka_message_t *m);

/**
 * @brief The number of partitions of topic (metadata request).
 * @returns the count (>= 1), or -1 with errstr set (unknown topic, timeout).
 */
int ctl_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                         size_t errstr_size);

/** Outcome statuses. */
typedef enum {
        CTL_ST_UNKNOWN = 0,
        CTL_ST_SUCCEEDED,
        CTL_ST_REJECTED,
        CTL_ST_FAILED,
} ctl_status_t;

/** @brief "succeeded", "rejected", "failed" to a status (else UNKNOWN). */
ctl_status_t ctl_status_parse(const char *s);

/** An outcome record decoded leniently: missing fields are NULL / -1. */
typedef struct ctl_outcome_s {
        json_t *root;           /**< owns every string below */
        const char *type;       /**< "contact-update", ... or NULL */
        const char *status_str; /**< as given, or NULL */
        ctl_status_t status;
        const char *contact_id;     /**< NULL if absent */
        const char *calendar_id;    /**< targetCalendarId, NULL if absent */
        const char *job_id;         /**< NULL if absent */
        long long http_status;      /**< -1 if null/absent */
        long long attempts;         /**< -1 if absent */
        const char *error;          /**< NULL if null/absent */
        const char *batch_id;       /**< the field, else the batch-id header */
        const char *correlation_id; /**< the field, else the correlation-id header */
        const char *finished_at;    /**< NULL if absent */
        const char *src_topic;      /**< source.topic or NULL */
        int32_t src_partition;      /**< -1 if absent */
        int64_t src_offset;         /**< -1 if absent */
        char hdr_batch[256];        /**< copy of the batch-id header, if any */
        char hdr_corr[256];         /**< copy of the correlation-id header, if any */
        char key[256];              /**< the message key (truncated), "" if none */
} ctl_outcome_t;

/**
 * @brief Decodes an outcome message.
 * @returns 0, or -1 if the value is not a JSON object (errstr says why).
 * @remark free with ctl_outcome_clear().
 */
int ctl_outcome_decode(const rd_kafka_message_t *m, ctl_outcome_t *o, char *errstr,
                       size_t errstr_size);

/** @brief Frees what ctl_outcome_decode() allocated; NULL-safe. */
void ctl_outcome_clear(ctl_outcome_t *o);

/**
 * @brief Copies header name's value of m into buf (NUL-terminated, truncated).
 * @returns true if the header exists.
 */
bool ctl_header_get(const rd_kafka_message_t *m, const char *name, char *buf,
                    size_t size);

/** Warnings about skipped messages printed before only counting them. */
#define CTL_MAX_WARNINGS 10

/**
 * @brief Counts a message skipped for reason why, and warns on stderr about
 *        the first CTL_MAX_WARNINGS of them.
 */
void ctl_warn_skipped(size_t *count, const rd_kafka_message_t *m, const char *why);

/* The subcommands: argc/argv start at the subcommand's own arguments
 * (argv[0] is the subcommand name). Each returns an exit code. */
int ctl_devkafka_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_import_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_schedules_import_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_results_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_topic_dump_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_dlq_main(const cxw_config_t *cfg, int argc, char **argv);
/** `cxonectl doctor` (ctl_doctor.c): discovery, login and the custom fields
 *  checked with the worker's configuration; ends with "doctor: OK" or
 *  "doctor: FAILED: ...". cfg may be NULL when argv[1] is -h or --help
 *  (only the usage is printed). @returns CTL_EXIT_OK or CTL_EXIT_ERROR. */
int ctl_doctor_main(const cxw_config_t *cfg, int argc, char **argv);
/** The doctor's last line when the configuration has problems. */
void ctl_doctor_config_failed(const cxw_config_errors_t *errs);

/**
 * @brief Parses a decimal integer in [min, max] for option opt.
 * @returns 0, or -1 after printing "cxonectl: opt: ..." to stderr.
 */
int ctl_parse_int(const char *opt, const char *s, long min, long max, long *out);

/* ---- a batch of requests (ctl_batch.c) ---------------------------------- */

/** Longest --batch-id. */
#define CTL_BATCH_ID_MAX 128

/** How a request's place in its file is shown. */
typedef enum {
        CTL_POS_LINE,  /**< a CSV line: "FILE:12", "(line 12)" */
        CTL_POS_INDEX, /**< a 0-based JSON array index: "FILE #3", "(#3)" */
} ctl_pos_kind_t;

struct ctl_batch_s;

/** What differs between the imports; constant for one command. */
typedef struct {
        const char *cmd;          /**< "contacts import", for messages */
        const char *file_arg;     /**< "FILE.csv", for the usage line */
        const char *noun;         /**< "contact", "calendar": what the key is */
        const char *outcome_type; /**< "contact-update": outcomes of this type */
        ctl_pos_kind_t pos_kind;
        bool idempotency_key; /**< also send the header idempotency-key */
        /** The command's own options, or NULL: called with each argument a
         *  (v the next one, or NULL); returns how many it used (1 or 2), 0
         *  when a is not one of them, -1 after printing the problem. b is
         *  the first member of the command's own state. */
        int (*option)(struct ctl_batch_s *b, const char *a, const char *v);
        const char *option_usage; /**< " [--strict]", for the usage line, or NULL */
} ctl_batch_kind_t;

/** One produced request. */
typedef struct {
        unsigned long pos;   /**< CSV line or array index */
        char *key;           /**< the message key, or NULL for none */
        int delivered;       /**< 0 pending, 1 acknowledged, -1 failed */
        int32_t partition;   /**< from the delivery report */
        int64_t offset;      /**< from the delivery report */
        ctl_status_t status; /**< its outcome, UNKNOWN until seen */
        char *error;         /**< delivery error or the outcome's error */
        char *job_id;        /**< the outcome's jobId, if any */
} ctl_req_t;

/** A batch of requests: arguments, producer, deliveries, outcomes. */
typedef struct ctl_batch_s {
        const cxw_config_t *cfg;
        const ctl_batch_kind_t *kind;
        const char *topic; /**< the request topic */

        /* From the arguments. */
        const char *path;
        char batch_id[CTL_BATCH_ID_MAX + 1];
        bool wait, quiet, verbose;
        long timeout_s;

        ctl_req_t *reqs;
        size_t nreqs, cap;
        size_t skipped; /**< rows or elements not sent; the command counts them;
                             with --wait any makes the exit code 3 */
        size_t acked, delivery_failed;
        size_t timed_out;     /**< deliveries failed for message.timeout.ms */
        char msg_timeout[32]; /**< the producer's message.timeout.ms */

        rd_kafka_t *producer;
        rd_kafka_t *consumer; /**< with --wait: the results topic */
} ctl_batch_t;

/**
 * @brief Parses the arguments common to the imports: FILE [--batch-id ID]
 *        [--wait] [--timeout S] [--quiet] [--verbose], and the command's
 *        own through kind->option; generates a batch id when none is given.
 * @returns 0, 1 after printing the usage for --help, or -1 after printing
 *          the problem.
 * @remark b must be zeroed; kind and topic must outlive b.
 */
int ctl_batch_init(ctl_batch_t *b, const cxw_config_t *cfg, const ctl_batch_kind_t *kind,
                   const char *topic, int argc, char **argv);

/**
 * @brief Gets ready to send: with --wait, a consumer at the current end of
 *        the results topic (so exactly the outcomes written from now on are
 *        read), then the idempotent producer; prints the batch id as
 *        stdout's first line.
 * @returns 0, or -1 after printing why.
 */
int ctl_batch_start(ctl_batch_t *b);

/**
 * @brief Where pos is, for messages: "FILE:12" or "FILE #3".
 */
void ctl_batch_where(const ctl_batch_t *b, unsigned long pos, char *buf, size_t size);

/**
 * @brief Produces one request: key (NULL for none), value, and the headers
 *        batch-id, correlation-id "<batch>:<pos>" (and idempotency-key, the
 *        same, if the kind says so); waits for queue space when the local
 *        queue is full.
 * @returns 0 when sent; 1 when skipped and reported (too large for the
 *          producer; b->skipped counted); -1 on a fatal error (reported).
 * @remark value is copied.
 */
int ctl_batch_produce(ctl_batch_t *b, unsigned long pos, const char *key, size_t key_len,
                      const char *value, size_t value_len);

/**
 * @brief Ends the batch: waits for every delivery report, reports the
 *        undelivered, prints "batch <id>: produced N, skipped S" on stderr
 *        (unless --quiet and all is well) and, with --wait, follows the
 *        outcomes and prints the summary.
 * @param produce_rc 0 if producing went through, -1 if it stopped.
 * @returns the exit code.
 */
int ctl_batch_finish(ctl_batch_t *b, int produce_rc);

/** @brief Frees the batch's requests and Kafka clients; NULL-safe. */
void ctl_batch_clear(ctl_batch_t *b);

#endif
