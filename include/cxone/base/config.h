/**
 * @file config.h
 * @brief Configuration: a libconfig file plus environment overrides, validated
 *        into one struct. Shared by cxone-worker and cxonectl.
 *
 * Every key is one row of a property table in config.c (path, type, default,
 * range, env override, description); the documentation in
 * docs/configuration.md is generated from that table
 * (`cxone-worker --print-config-reference`).
 *
 * Precedence: defaults < file < environment.
 */
#ifndef CXONE_CONFIG_H
#define CXONE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** A list of strings (libconfig list or array of strings). */
typedef struct cxw_strlist_s {
        char **v; /**< cnt strings, each malloc'd */
        size_t cnt;
} cxw_strlist_t;

typedef struct cxw_config_s {
        /* kafka.* */
        char *bootstrap_servers; /**< kafka.bootstrap_servers, env KAFKA_BOOTSTRAP_SERVERS
                                  */
        char *group_id;          /**< kafka.group_id, env KAFKA_GROUP_ID */
        cxw_strlist_t kafka_props;    /**< kafka.properties: "name=value", both clients */
        cxw_strlist_t consumer_props; /**< kafka.consumer_properties: "name=value" */
        cxw_strlist_t producer_props; /**< kafka.producer_properties: "name=value" */
        int kafka_stats_interval_ms;  /**< kafka.statistics_interval_ms, default 5000 */
        char *kafka_assignment; /**< kafka.assignment: "cooperative-sticky" or "eager" */
        bool kafka_static_membership; /**< kafka.static_membership: group.instance.id =
                                         worker.id */
        bool kafka_exactly_once;      /**< kafka.exactly_once: Kafka transactions */
        int kafka_txn_interval_ms;    /**< kafka.transaction_interval_ms */
        int kafka_txn_max_records;    /**< kafka.transaction_max_records */
        char *topic_contacts;         /**< kafka.topics.contact_updates */
        char *topic_schedules;        /**< kafka.topics.schedule_imports */
        char *topic_results;          /**< kafka.topics.results */
        char *topic_audit;            /**< kafka.topics.audit */
        char *topic_dlq;              /**< kafka.topics.dlq */
        char *topic_budget; /**< kafka.topics.budget, "" = no lending between replicas */

        /* cxone.* */
        char *base_url;           /**< cxone.base_url, env CXONE_BASE_URL */
        char *token_url;          /**< cxone.token_url, env CXONE_TOKEN_URL; default
                                     {base_url}/oauth/token */
        bool allow_insecure_http; /**< cxone.allow_insecure_http, env
                                     CXONE_ALLOW_INSECURE_HTTP: http:// to a host
                                     that is not loopback (warned), default false */
        char *client_id;          /**< cxone.client_id, env CXONE_CLIENT_ID */
        char *
            client_secret; /**< cxone.client_secret, env CXONE_CLIENT_SECRET, or read from
                                cxone.client_secret_file / env CXONE_CLIENT_SECRET_FILE */
        char *client_secret_file; /**< cxone.client_secret_file (the path; the secret
                                     lands above) */
        char *scope;              /**< cxone.scope, may be "" */
        char *contacts_path;      /**< cxone.contacts.path, "{contactId}" is replaced */
        char *contacts_method;    /**< cxone.contacts.method, "PATCH" */
        cxw_strlist_t contact_fields; /**< cxone.contacts.fields, allowed fields */

        /* cxone profile: the real platform (docs/cxone.md) */
        char *profile;       /**< cxone.profile, env CXONE_PROFILE: "seed" | "cxone" */
        char *issuer_url;    /**< cxone.issuer_url, env CXONE_ISSUER_URL; "" = none */
        char *auth_grant;    /**< cxone.auth.grant: "client_credentials" | "password" */
        char *client_auth;   /**< cxone.auth.client_auth: "basic" | "post" */
        char *access_key_id; /**< cxone.access_key_id, env CXONE_ACCESS_KEY_ID */
        char *access_key_secret;      /**< cxone.access_key_secret, env
                                         CXONE_ACCESS_KEY_SECRET or the file below */
        char *access_key_secret_file; /**< cxone.access_key_secret_file (the path) */
        char *tenant_id;       /**< cxone.tenant_id, env CXONE_TENANT_ID; "" = id_token */
        char *admin_prefix;    /**< cxone.admin_prefix, "" or "/..." */
        char *dfo_base_url;    /**< cxone.dfo_base_url, env CXONE_DFO_BASE_URL; "" =
                                  discovered */
        char *ca_file;         /**< cxone.ca_file, env CXONE_CA_FILE; "" = system CAs */
        char *contacts_target; /**< cxone.contacts.target, env CXONE_CONTACTS_TARGET */
        cxw_strlist_t contact_idents; /**< cxone.contacts.idents, "field=ident" */
        bool schedules_enabled;       /**< cxone.schedules.enabled */
        char *sched_job_id_field;     /**< cxone.schedules.job_id_field, "jobId" */
        char *sched_status_field;     /**< cxone.schedules.status_field, "status" */
        char *sched_done_value;       /**< cxone.schedules.done_value, "COMPLETED" */
        char *sched_failed_value;     /**< cxone.schedules.failed_value, "FAILED" */
        char *sched_error_field;      /**< cxone.schedules.error_field, "error" */

        /* the address-book target */
        char *address_book_id; /**< cxone.address_book_id, env CXONE_ADDRESS_BOOK_ID */
        cxw_strlist_t address_book_map; /**< cxone.address_book.map, "from=to" */
        int batch_max;                  /**< cxone.batch_max, default 50 */
        int batch_linger_ms;            /**< cxone.batch_linger_ms, default 20 */

        /* cxone.schedules.*, schedules.*, webhooks.* */
        char *schedules_import_path; /**< cxone.schedules.import_path */
        char *schedules_job_path; /**< cxone.schedules.job_path, "{jobId}" is replaced */
        int schedules_max_concurrent;   /**< schedules.max_concurrent, default 3 */
        int schedules_poll_interval_ms; /**< schedules.poll_interval_ms, default 1000 */
        int schedules_poll_max_interval_ms; /**< schedules.poll_max_interval_ms, default
                                               10000 */
        int schedules_max_wait_ms;          /**< schedules.max_wait_ms, default 1800000 */
        int schedules_max_shift_minutes; /**< schedules.max_shift_minutes, default 960 */
        int schedules_max_entries;       /**< schedules.max_entries, default 5000 */
        cxw_strlist_t schedules_validation_modes; /**< schedules.validation_modes */
        cxw_strlist_t
            schedules_conflict_resolutions; /**< schedules.conflict_resolutions */
        char *webhook_secret; /**< webhooks.secret, env CXONE_WEBHOOK_SECRET; "" = off */
        int webhook_tolerance_s; /**< webhooks.tolerance_s, default 300 */

        /* http.* */
        int max_in_flight;      /**< http.max_in_flight, 1..65536, default 64 */
        int max_connections;    /**< http.max_connections, 1..65536, default 64 */
        int outage_threshold;   /**< http.outage_threshold, 0 (off)..1000, default 10 */
        int outage_probe_ms;    /**< http.outage_probe_ms, default 1000 */
        int connect_timeout_ms; /**< http.connect_timeout_ms, default 5000 */
        int request_timeout_ms; /**< http.request_timeout_ms, default 30000 */
        int max_response_bytes; /**< http.max_response_bytes, default 1048576 */

        /* retry.* */
        int retry_max_attempts;   /**< retry.max_attempts, default 10 */
        int retry_max_elapsed_ms; /**< retry.max_elapsed_ms, default 600000 */
        int retry_base_delay_ms;  /**< retry.base_delay_ms, default 200 */
        int retry_max_delay_ms;   /**< retry.max_delay_ms, default 30000 */

        /* token.* */
        int token_refresh_ahead_ms; /**< token.refresh_ahead_ms, default 60000 */
        int token_timeout_ms;       /**< token.request_timeout_ms, default 10000 */
        int token_min_refresh_ms;   /**< token.min_refresh_interval_ms, default 30000 */

        /* rate.* : the budget of the whole consumer group */
        double rate_rps; /**< rate.rps, env CXONE_RATE_LIMIT_RPS, total ceiling, 0 = none,
                            default 100 */
        int rate_burst;  /**< rate.burst, default 20 */
        double rate_contacts_rps;  /**< rate.contacts_rps, 0 = up to the total */
        int rate_contacts_burst;   /**< rate.contacts_burst, 0 = rate.burst */
        double rate_schedules_rps; /**< rate.schedules_rps, 0 = up to the total */
        int rate_schedules_burst;  /**< rate.schedules_burst, 0 = rate.burst */
        double rate_polls_rps;     /**< rate.polls_rps, 0 = up to the total */
        int rate_polls_burst;      /**< rate.polls_burst, 0 = rate.burst */

        /** rate.share_interval_ms: demand reports between replicas, default 250 */
        int rate_share_interval_ms;
        /** rate.peer_secret, env CXONE_PEER_SECRET, or read from
         *  rate.peer_secret_file / env CXONE_PEER_SECRET_FILE; "" = unsigned */
        char *peer_secret;
        char *peer_secret_file; /**< rate.peer_secret_file (the path) */
        /** rate.retry_after_missing_ms: pause after a 429 without Retry-After,
         *  0 = the budget's own measure */
        int rate_retry_after_missing_ms;

        /* limits.* */
        int max_buffered_messages;  /**< limits.max_buffered_messages, default 10000 */
        int64_t max_buffered_bytes; /**< limits.max_buffered_bytes, default 67108864 */
        int max_message_bytes;      /**< limits.max_message_bytes, default 1048576 */
        double resume_ratio;        /**< limits.resume_ratio, 0.1..0.95, default 0.5 */

        /* worker.* */
        char *worker_id;          /**< worker.id, default "<hostname>-<pid>" */
        int shutdown_deadline_ms; /**< worker.shutdown_deadline_ms, default 30000 */
        char *log_level;          /**< worker.log_level: error|warn|info|debug */
        bool allow_core_dumps;    /**< worker.allow_core_dumps, default false: off */
        char *admin_listen; /**< worker.admin_listen, env CXONE_WORKER_ADMIN_LISTEN, "" =
                               off */
        int admin_max_connections; /**< worker.admin_max_connections, default 64 */
        /** worker.admin_max_connections_per_client, default 8 */
        int admin_max_connections_per_client;
        int admin_request_deadline_ms; /**< worker.admin_request_deadline_ms, 5000 */

        char *source; /**< the file read, or NULL for defaults only */
        /** Private to config.c: for each key of its table, in order, the
         *  environment variable that set it, or NULL (cxw_config_dump()). */
        const char **from_env;
} cxw_config_t;

/** What the caller needs of the config; decides which keys are required. */
typedef enum {
        CXW_CONFIG_FOR_WORKER = 1, /**< needs CXone credentials and URLs */
        CXW_CONFIG_FOR_CTL = 2,    /**< Kafka only */
} cxw_config_purpose_t;

/** Problems found while loading; each is "file:line: key: message" or "key: message". */
typedef struct cxw_config_errors_s {
        char **v;
        size_t cnt;
} cxw_config_errors_t;

/**
 * @brief Loads defaults, then path (if not NULL), then the environment, then
 *        validates for purpose.
 * @param path a libconfig file, or NULL to run on defaults and env alone.
 * @param errs receives every problem found (not only the first); when the
 *        file cannot be read or does not parse, that is the only problem
 *        (libconfig's text, with file and line), and nothing else is checked.
 * @returns a config (also when there are problems, so that all can be listed)
 *          or NULL on out-of-memory. The caller checks errs->cnt == 0 before
 *          using it.
 * @remark the result is owned by the caller: cxw_config_destroy(). errs
 *         likewise: cxw_config_errors_clear().
 * @remark Error texts never contain the client secret.
 */
cxw_config_t *cxw_config_load(const char *path, cxw_config_purpose_t purpose,
                              cxw_config_errors_t *errs);

/** @brief Frees the config; NULL-safe. */
void cxw_config_destroy(cxw_config_t *cfg);

/** @brief Frees the problem texts; the struct itself may be on the stack. */
void cxw_config_errors_clear(cxw_config_errors_t *errs);

/**
 * @brief Writes the configuration reference (Markdown: every key, type,
 *        default, range, env override, description) generated from the table.
 */
void cxw_config_print_reference(FILE *out);

/**
 * @brief Writes the effective configuration, one "key = value" a line, the
 *        secrets shown as "(set)" or "(unset)"; a value set by an
 *        environment variable ends with "  # env NAME".
 */
void cxw_config_dump(const cxw_config_t *cfg, FILE *out);

/**
 * @brief Writes every environment override, one a line: indent, the
 *        variable's name, then the key it sets (for --help).
 */
void cxw_config_print_env(FILE *out, const char *indent);

/**
 * @brief The warnings of a loaded configuration (worker): what it allows but
 *        should not be left so: an http:// URL to a host that is not
 *        loopback allowed by cxone.allow_insecure_http; a secret file
 *        (cxone.client_secret_file, any key holding a secret's path) readable
 *        by others, or by its group unless the worker reads it through that
 *        group (not its owner, the group one of its own). Each is "key: message"
 *        and never holds a secret.
 * @param warns receives the warnings (appended); free with
 *        cxw_config_errors_clear().
 * @returns 0, or -1 on out-of-memory.
 */
int cxw_config_warnings(const cxw_config_t *cfg, cxw_config_errors_t *warns);

/**
 * @brief Splits "name=value" into name and value (pointers into a copy).
 * @returns 0, or -1 if there is no '=' or the name is empty.
 */
int cxw_config_split_prop(const char *prop, char **name, char **value);

#endif
