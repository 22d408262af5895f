/**
 * @file ctl.h
 * @brief cxonectl internals shared by its subcommand files.
 *
 * ctl_main.c parses the global options and loads the configuration, then
 * hands over to one subcommand: dev-kafka (ctl_devkafka.c), contacts import
 * (ctl_import.c), results and topic dump (ctl_results.c). ctl_kafka.c holds
 * what they share: client configuration from the config file, the stop
 * signal, the outcome record decoder.
 */
#ifndef CXONE_CTL_H
#define CXONE_CTL_H

#include <librdkafka/rdkafka.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cxone/config.h"

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
 * @brief A librdkafka configuration from the config file: bootstrap servers,
 *        kafka.properties, then the producer or consumer properties, and a
 *        log callback into the JSON logger.
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
int ctl_results_main(const cxw_config_t *cfg, int argc, char **argv);
int ctl_topic_dump_main(const cxw_config_t *cfg, int argc, char **argv);

/**
 * @brief Parses a decimal integer in [min, max] for option opt.
 * @returns 0, or -1 after printing "cxonectl: opt: ..." to stderr.
 */
int ctl_parse_int(const char *opt, const char *s, long min, long max, long *out);

#endif
