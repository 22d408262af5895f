/* config_table.c: the property table, one row per key, from which the
 * config is read, checked, dumped and documented; and the accessors of a
 * row's field in cxw_config_t. */
#include "config_int.h"

#include <string.h>

#define OFF(f) offsetof(cxw_config_t, f)
#define MS_MAX 3600000.0 /* one hour */

/* The table. The order is the order of the reference, the dump and the
 * example config/cxone-worker.conf. */
const prop_t cfg_props[] = {
    /* kafka */
    {"kafka.bootstrap_servers", PT_STR, OFF(bootstrap_servers), "127.0.0.1:9092", 0, 0,
     "KAFKA_BOOTSTRAP_SERVERS", PF_NONEMPTY, NULL,
     "Kafka brokers, comma-separated host:port."},
    {"kafka.group_id", PT_STR, OFF(group_id), "cxone-worker", 0, 0, "KAFKA_GROUP_ID",
     PF_NONEMPTY, NULL, "Consumer group shared by all worker replicas."},
    {"kafka.properties", PT_LIST, OFF(kafka_props), "", 0, 0, NULL, PF_PROPS, NULL,
     "librdkafka properties for consumer and producer, each `name=value`, passed "
     "through unchanged."},
    {"kafka.consumer_properties", PT_LIST, OFF(consumer_props), "", 0, 0, NULL, PF_PROPS,
     NULL, "librdkafka properties for the consumer only, each `name=value`."},
    {"kafka.producer_properties", PT_LIST, OFF(producer_props), "", 0, 0, NULL, PF_PROPS,
     NULL, "librdkafka properties for the producer only, each `name=value`."},
    {"kafka.statistics_interval_ms", PT_INT, OFF(kafka_stats_interval_ms), "5000", 100,
     MS_MAX, NULL, 0, NULL,
     "How often the worker's consumer takes librdkafka's statistics: the consumer lag "
     "of each assigned partition (`cxw_consumer_lag` on /metrics) and whether brokers "
     "are up (`/readyz`)."},
    {"kafka.assignment", PT_STR, OFF(kafka_assignment), "cooperative-sticky", 0, 0, NULL,
     PF_ASSIGN, NULL,
     "How the group moves partitions when a replica joins or leaves. "
     "`cooperative-sticky` (incremental): only the partitions that must move are "
     "revoked, the others keep working through the rebalance. `eager`: every join or "
     "leave revokes every partition of every replica (librdkafka's `range,roundrobin`). "
     "All replicas of a group must agree; switching a running group takes two rolling "
     "restarts (docs/operations.md, Scaling out and in). `partition.assignment.strategy` "
     "in kafka.consumer_properties overrides it."},
    {"kafka.static_membership", PT_BOOL, OFF(kafka_static_membership), "false", 0, 0,
     NULL, 0, NULL,
     "Static group membership: `group.instance.id` = worker.id, so a replica that "
     "restarts within `session.timeout.ms` gets its partitions back without a "
     "rebalance. worker.id must then be stable and unique per replica (the pod name of a "
     "StatefulSet); a replica that stops holds its partitions until its session times "
     "out (docs/operations.md)."},
    {"kafka.exactly_once", PT_BOOL, OFF(kafka_exactly_once), "false", 0, 0,
     "KAFKA_EXACTLY_ONCE", 0, NULL,
     "Kafka transactions: the outcome, audit events and DLQ copy of a request and the "
     "consumer offset that covers it commit together or not at all, so a "
     "`read_committed` reader sees one outcome per request even across a SIGKILL "
     "(docs/messages.md). The producer's `transactional.id` is "
     "`cxone-worker-<kafka.group_id>-<worker.id>`: worker.id must be stable and unique "
     "per replica. Off by default: see docs/reliability.md for the cost."},
    {"kafka.transaction_interval_ms", PT_INT, OFF(kafka_txn_interval_ms), "100", 10,
     60000, NULL, 0, NULL,
     "With kafka.exactly_once: an open transaction commits after this long (results "
     "reach `read_committed` readers this much later)."},
    {"kafka.transaction_max_records", PT_INT, OFF(kafka_txn_max_records), "2000", 1,
     1000000, NULL, 0, NULL,
     "With kafka.exactly_once: or once it holds this many records."},
    {"kafka.topics.contact_updates", PT_STR, OFF(topic_contacts), "cxone.contact-updates",
     0, 0, NULL, PF_NONEMPTY | PF_TOPIC, NULL, "Topic of contact update requests."},
    {"kafka.topics.schedule_imports", PT_STR, OFF(topic_schedules),
     "cxone.schedule-imports", 0, 0, NULL, PF_NONEMPTY | PF_TOPIC, NULL,
     "Topic of schedule import requests."},
    {"kafka.topics.results", PT_STR, OFF(topic_results), "cxone.results", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL, "Topic of outcomes, one per request."},
    {"kafka.topics.audit", PT_STR, OFF(topic_audit), "cxone.audit", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL, "Topic of audit events."},
    {"kafka.topics.dlq", PT_STR, OFF(topic_dlq), "cxone.dlq", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL,
     "Dead-letter topic: copies of rejected and failed requests."},
    {"kafka.topics.budget", PT_STR, OFF(topic_budget), "cxone.budget", 0, 0, NULL,
     PF_TOPIC, NULL,
     "Topic where replicas report whether they have demand, so that idle ones lend "
     "their rate share to busy ones, and their 429 trips, so that all pause together "
     "and share one estimate of CXone's rate; \"\" turns both off (each replica keeps "
     "assigned / all partitions of `rate.rps` and, with a share below 1, the plain "
     "cut on a 429)."},

    /* cxone */
    {"cxone.base_url", PT_STR, OFF(base_url), "http://127.0.0.1:8080", 0, 0,
     "CXONE_BASE_URL", PF_URL, NULL,
     "CXone API base URL (https://; http:// only to loopback, or with "
     "cxone.allow_insecure_http)."},
    {"cxone.token_url", PT_STR, OFF(token_url), "", 0, 0, "CXONE_TOKEN_URL",
     PF_URL | PF_DERIVED, "{base_url}/oauth/token",
     "OAuth token endpoint (client credentials); empty means `{base_url}/oauth/token`."},
    {"cxone.allow_insecure_http", PT_BOOL, OFF(allow_insecure_http), "false", 0, 0,
     "CXONE_ALLOW_INSECURE_HTTP", 0, NULL,
     "Accept `http://` in cxone.base_url and cxone.token_url for a host that is not "
     "loopback (127.0.0.0/8, ::1, localhost), which sends the client secret and the "
     "access token in clear text; logged as a warning. Off: such a URL is an error. "
     "Loopback is always accepted over http://."},
    {"cxone.client_id", PT_STR, OFF(client_id), "", 0, 0, "CXONE_CLIENT_ID", PF_REQUIRED,
     NULL, "OAuth client id. Required by the worker."},
    {"cxone.client_secret", PT_STR, OFF(client_secret), "", 0, 0, "CXONE_CLIENT_SECRET",
     PF_REQUIRED | PF_SECRET, NULL,
     "OAuth client secret. Required by the worker: set it, or client_secret_file, not "
     "both. Prefer the environment or a file over this key."},
    {"cxone.client_secret_file", PT_STR, OFF(client_secret_file), "", 0, 0,
     "CXONE_CLIENT_SECRET_FILE", PF_FILE, NULL,
     "File holding the client secret (at most 4 KiB; one trailing newline is removed)."},
    {"cxone.scope", PT_STR, OFF(scope), "", 0, 0, NULL, 0, NULL,
     "OAuth scope for the token request; may be empty."},
    {"cxone.contacts.path", PT_STR, OFF(contacts_path), "/api/v2/contacts/{contactId}", 0,
     0, NULL, PF_CONTACTID, NULL,
     "Path of the contact update call; `{contactId}` is replaced by the contact id."},
    {"cxone.contacts.method", PT_STR, OFF(contacts_method), "PATCH", 0, 0, NULL,
     PF_METHOD, NULL, "HTTP method of the contact update call."},
    {"cxone.contacts.fields", PT_LIST, OFF(contact_fields), "firstName,lastName,email", 0,
     0, NULL, PF_IDENTS, NULL,
     "Fields a contact update may change; any other field is rejected."},

    /* cxone: the profile, the real platform's login, discovery and targets */
    {"cxone.profile", PT_STR, OFF(profile), "seed", 0, 0, "CXONE_PROFILE", PF_CHOICE,
     NULL,
     "Which CXone the worker talks to. `seed`: the API of cxone-sim's default "
     "profile (client credentials at cxone.token_url, `PATCH` of a contact). `cxone`: "
     "a real NICE CXone tenant (docs/cxone.md): the token endpoint and the API hosts "
     "are discovered from cxone.issuer_url, login with an access key (password grant), "
     "contact data go to DFO custom fields, schedule imports are off. The profile only "
     "changes defaults (named `cxone profile:` below); every key stays settable."},
    {"cxone.issuer_url", PT_STR, OFF(issuer_url), "", 0, 0, "CXONE_ISSUER_URL",
     PF_URL | PF_EMPTYOK, NULL,
     "OpenID issuer of the tenant's login, e.g. `https://cxone.niceincontact.com`. "
     "The token endpoint comes from `{issuer}/.well-known/openid-configuration` "
     "(unless cxone.token_url is set) and the API hosts from "
     "`{issuer}/.well-known/cxone-configuration?tenantId=` (unless cxone.base_url and, "
     "for DFO, cxone.dfo_base_url are set). Empty = no discovery (seed)."},
    {"cxone.auth.grant", PT_STR, OFF(auth_grant), "client_credentials", 0, 0, NULL,
     PF_CHOICE, NULL,
     "OAuth2 grant of the token request: `client_credentials` (seed), or `password` "
     "with cxone.access_key_id and cxone.access_key_secret as username and password "
     "(cxone profile)."},
    {"cxone.auth.client_auth", PT_STR, OFF(client_auth), "basic", 0, 0, NULL, PF_CHOICE,
     NULL,
     "How the token request carries cxone.client_id and cxone.client_secret: `basic` "
     "(HTTP Basic, `client_secret_basic`) or `post` (`client_id` and `client_secret` "
     "in the form body, `client_secret_post`)."},
    {"cxone.access_key_id", PT_STR, OFF(access_key_id), "", 0, 0, "CXONE_ACCESS_KEY_ID",
     0, NULL,
     "Access Key ID of a CXone user: the password grant's username. Required by "
     "the worker with cxone.auth.grant = password."},
    {"cxone.access_key_secret", PT_STR, OFF(access_key_secret), "", 0, 0,
     "CXONE_ACCESS_KEY_SECRET", PF_SECRET, NULL,
     "Access Key Secret: the password grant's password. Set it, or "
     "access_key_secret_file, not both; prefer the environment or a file."},
    {"cxone.access_key_secret_file", PT_STR, OFF(access_key_secret_file), "", 0, 0,
     "CXONE_ACCESS_KEY_SECRET_FILE", PF_FILE, NULL,
     "File holding the Access Key Secret (at most 4 KiB; one trailing newline is "
     "removed)."},
    {"cxone.tenant_id", PT_STR, OFF(tenant_id), "", 0, 0, "CXONE_TENANT_ID", PF_TENANT,
     NULL,
     "Tenant id for the discovery of the API hosts; empty = the `tenantId` claim of "
     "the login's id_token."},
    {"cxone.admin_prefix", PT_STR, OFF(admin_prefix), "", 0, 0, NULL, PF_PREFIX, NULL,
     "Path put between the API host (cxone.base_url or the discovered `api_endpoint`) "
     "and the admin API paths. cxone profile: `/inContactAPI/services/v30.0`."},
    {"cxone.dfo_base_url", PT_STR, OFF(dfo_base_url), "", 0, 0, "CXONE_DFO_BASE_URL",
     PF_URL | PF_EMPTYOK, NULL,
     "Base URL of the Digital (DFO) API; empty = discovered: "
     "`https://api-de-{area}.{domain}`."},
    {"cxone.ca_file", PT_STR, OFF(ca_file), "", 0, 0, "CXONE_CA_FILE", PF_CAFILE, NULL,
     "CA bundle (PEM) that verifies CXone's TLS certificates, for every call (token, "
     "discovery, API) of the worker and cxonectl; empty = the system's CAs."},
    {"cxone.contacts.target", PT_STR, OFF(contacts_target), "seed", 0, 0,
     "CXONE_CONTACTS_TARGET", PF_CHOICE, NULL,
     "Where a contact update goes. `seed`: cxone.contacts.method to cxone.contacts.path "
     "below the API base, the fields as a JSON object. `dfo-custom-fields`: `PUT "
     "{dfo}/dfo/3.0/customers/{contactId}/custom-fields`, the fields as "
     "`[{\"ident\",\"value\"}]`, each value at most 1,024 characters (cxone profile). "
     "`address-book`: `PUT {api}/address-books/{id}/dynamic-entries?fullLoad=false` "
     "below the API base, many updates per request (cxone.address_book_id, "
     "cxone.batch_max; docs/cxone.md)."},
    {"cxone.contacts.idents", PT_LIST, OFF(contact_idents), "", 0, 0, NULL, PF_IDENTMAP,
     NULL,
     "For `dfo-custom-fields`: the custom field of each message field, each "
     "`field=ident` (e.g. `firstName=first_name`). Empty = a field's ident is its own "
     "name; else a field without an ident is rejected, naming it."},
    {"cxone.address_book_id", PT_STR, OFF(address_book_id), "", 0, 0,
     "CXONE_ADDRESS_BOOK_ID", 0, NULL,
     "For `address-book`: the id of the address book the entries go to, 1-64 of "
     "A-Z a-z 0-9 _ -. Required with that target."},
    {"cxone.address_book.map", PT_LIST, OFF(address_book_map),
     "contactId=externalId,firstName,lastName,email,phone,mobile", 0, 0, NULL, 0, NULL,
     "For `address-book`: the entry field of each message field, each `from=to`, or "
     "`name` for the same name on both sides; `contactId=externalId` must be in it. "
     "Every field of cxone.contacts.fields must be mapped."},
    {"cxone.batch_max", PT_INT, OFF(batch_max), "50", 1, 1000, NULL, 0, NULL,
     "For `address-book`: most entries (updates) in one request."},
    {"cxone.batch_linger_ms", PT_INT, OFF(batch_linger_ms), "20", 0, 10000, NULL, 0, NULL,
     "For `address-book`: how long a batch waits to fill while the rate budget is the "
     "bottleneck; 0 = send what is ready at once. No wait while requests are allowed."},
    {"cxone.schedules.enabled", PT_BOOL, OFF(schedules_enabled), "true", 0, 0, NULL, 0,
     NULL,
     "Consume schedule imports (kafka.topics.schedule_imports). cxone profile: `false` "
     "(no public CXone API imports WFM schedules as the seed describes)."},
    {"cxone.schedules.job_id_field", PT_STR, OFF(sched_job_id_field), "jobId", 0, 0, NULL,
     PF_JSONKEY, NULL, "Field of the import's answer holding the job id."},
    {"cxone.schedules.status_field", PT_STR, OFF(sched_status_field), "status", 0, 0,
     NULL, PF_JSONKEY, NULL, "Field of the job's answer holding its status."},
    {"cxone.schedules.done_value", PT_STR, OFF(sched_done_value), "COMPLETED", 0, 0, NULL,
     PF_JSONKEY, NULL, "Status of a job that ended well."},
    {"cxone.schedules.failed_value", PT_STR, OFF(sched_failed_value), "FAILED", 0, 0,
     NULL, PF_JSONKEY, NULL, "Status of a job that failed."},
    {"cxone.schedules.error_field", PT_STR, OFF(sched_error_field), "error", 0, 0, NULL,
     PF_JSONKEY, NULL,
     "Field of an ended job's answer holding its error: a string, or an object with a "
     "`message`."},

    /* schedule imports */
    {"cxone.schedules.import_path", PT_STR, OFF(schedules_import_path),
     "/api/v2/wfm/schedules/import", 0, 0, NULL, PF_NONEMPTY, NULL,
     "Path of the schedule import call (POST, answered 202 with a jobId)."},
    {"cxone.schedules.job_path", PT_STR, OFF(schedules_job_path),
     "/api/v2/wfm/async-jobs/{jobId}", 0, 0, NULL, PF_NONEMPTY, NULL,
     "Path of the async job status call (GET); `{jobId}` is replaced by the job id."},
    {"schedules.max_concurrent", PT_INT, OFF(schedules_max_concurrent), "3", 1, 1000,
     NULL, 0, NULL,
     "Schedule imports in progress at once in one replica (submitted, job not ended); "
     "the rest wait in order."},
    {"schedules.poll_interval_ms", PT_INT, OFF(schedules_poll_interval_ms), "1000", 10,
     MS_MAX, NULL, 0, NULL,
     "First delay between polls of an import job; it grows x1.5. With webhooks "
     "on (webhooks.secret and worker.admin_listen set) polls start at "
     "poll_max_interval_ms."},
    {"schedules.poll_max_interval_ms", PT_INT, OFF(schedules_poll_max_interval_ms),
     "10000", 10, MS_MAX, NULL, 0, NULL, "Longest delay between polls of an import job."},
    {"schedules.max_wait_ms", PT_INT, OFF(schedules_max_wait_ms), "1800000", 1000, MS_MAX,
     NULL, 0, NULL, "Longest wait for an import job to end; then the import is failed."},
    {"schedules.max_shift_minutes", PT_INT, OFF(schedules_max_shift_minutes), "960", 1,
     10080, NULL, 0, NULL, "Longest shift accepted by validation."},
    {"schedules.max_entries", PT_INT, OFF(schedules_max_entries), "5000", 1, 1000000,
     NULL, 0, NULL, "Most schedule entries in one import."},
    {"schedules.validation_modes", PT_LIST, OFF(schedules_validation_modes),
     "STRICT,LENIENT", 0, 0, NULL, PF_VALUES, NULL,
     "Values an import's `validationMode` may have (matched exactly); any other is "
     "rejected. Passed to CXone unchanged: `STRICT` asks it to refuse an import with "
     "any invalid entry, `LENIENT` to import the valid entries (the worker validates "
     "every entry before sending either way)."},
    {"schedules.conflict_resolutions", PT_LIST, OFF(schedules_conflict_resolutions),
     "AUTO_RESOLVE,OVERWRITE,SKIP,FAIL", 0, 0, NULL, PF_VALUES, NULL,
     "Values an import's `conflictResolution` may have (matched exactly); any other is "
     "rejected. Passed to CXone unchanged, which decides what to do with shifts that "
     "overlap shifts already in the calendar: `AUTO_RESOLVE` lets CXone resolve them, "
     "`OVERWRITE` replaces the old shifts, `SKIP` leaves the import's conflicting "
     "entries out, `FAIL` fails the import."},
    {"webhooks.secret", PT_STR, OFF(webhook_secret), "", 0, 0, "CXONE_WEBHOOK_SECRET",
     PF_SECRET, NULL,
     "Shared secret of the HMAC-SHA256 signature of CXone's webhooks (POST "
     "/webhooks/cxone on the admin listener); empty = webhooks refused."},
    {"webhooks.tolerance_s", PT_INT, OFF(webhook_tolerance_s), "300", 1, 86400, NULL, 0,
     NULL, "Largest clock difference accepted in a webhook's timestamp."},

    /* http */
    {"http.max_in_flight", PT_INT, OFF(max_in_flight), "64", 1, 65536, NULL, 0, NULL,
     "Most CXone requests in flight at once in one replica."},
    {"http.max_connections", PT_INT, OFF(max_connections), "64", 1, 65536, NULL, 0, NULL,
     "Most connections to CXone at once in one replica (HTTP/1.1: one request each). "
     "Requests in flight beyond it wait, in order, for a free connection; their "
     "timeout starts when they get one."},
    {"http.connect_timeout_ms", PT_INT, OFF(connect_timeout_ms), "5000", 1, MS_MAX, NULL,
     0, NULL, "TCP and TLS connect timeout."},
    {"http.request_timeout_ms", PT_INT, OFF(request_timeout_ms), "30000", 1, MS_MAX, NULL,
     0, NULL, "Whole-request timeout."},
    {"http.outage_threshold", PT_INT, OFF(outage_threshold), "10", 0, 1000, NULL, 0, NULL,
     "Calls in a row answered 5xx or not at all after which CXone counts as down: "
     "new calls wait, one probe call at a time finds out when it is back, "
     "consumption pauses, and the failures of the outage do not count against "
     "the requests' retry.max_attempts (retry.max_elapsed_ms still does). 0 = off: "
     "every failure counts against its request."},
    {"http.outage_probe_ms", PT_INT, OFF(outage_probe_ms), "1000", 1, MS_MAX, NULL, 0,
     NULL,
     "Wait before the first probe of an outage; it doubles after each failed probe, "
     "up to retry.max_delay_ms."},
    {"http.max_response_bytes", PT_INT, OFF(max_response_bytes), "1048576", 1024,
     1073741824, NULL, 0, NULL,
     "Largest response body read; a larger one fails the call."},

    /* retry */
    {"retry.max_attempts", PT_INT, OFF(retry_max_attempts), "10", 1, 1000, NULL, 0, NULL,
     "Most attempts of one request, the first included."},
    {"retry.max_elapsed_ms", PT_INT, OFF(retry_max_elapsed_ms), "600000", 1, 86400000,
     NULL, 0, NULL, "Retry budget of one request in time, from its first attempt."},
    {"retry.base_delay_ms", PT_INT, OFF(retry_base_delay_ms), "200", 1, MS_MAX, NULL, 0,
     NULL, "First backoff delay; it doubles per attempt, with jitter."},
    {"retry.max_delay_ms", PT_INT, OFF(retry_max_delay_ms), "30000", 1, MS_MAX, NULL, 0,
     NULL, "Longest backoff delay; at least retry.base_delay_ms."},

    /* token */
    {"token.refresh_ahead_ms", PT_INT, OFF(token_refresh_ahead_ms), "60000", 0, MS_MAX,
     NULL, 0, NULL, "Refresh the access token this long before it expires."},
    {"token.request_timeout_ms", PT_INT, OFF(token_timeout_ms), "10000", 1, MS_MAX, NULL,
     0, NULL, "Timeout of one token request."},
    {"token.min_refresh_interval_ms", PT_INT, OFF(token_min_refresh_ms), "30000", 0,
     MS_MAX, NULL, 0, NULL,
     "Least time between two token fetches after the endpoint answered 200, however "
     "short the token's expires_in (or 0, refused): a token living less than this "
     "leaves requests waiting for the next fetch rather than fetching in a loop. A "
     "401 is not held back. 0 = no floor."},

    /* rate */
    {"rate.rps", PT_DBL, OFF(rate_rps), "100", 0, 1e6, "CXONE_RATE_LIMIT_RPS", 0, NULL,
     "Requests per second to CXone for the whole consumer group; 0 = no limit."},
    {"rate.burst", PT_INT, OFF(rate_burst), "20", 1, 1000000, NULL, 0, NULL,
     "Token bucket size of the total rate."},
    {"rate.contacts_rps", PT_DBL, OFF(rate_contacts_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Contact update calls per second; 0 = up to the total."},
    {"rate.contacts_burst", PT_INT, OFF(rate_contacts_burst), "0", 0, 1000000, NULL, 0,
     NULL, "Bucket size for contact updates; 0 = rate.burst."},
    {"rate.schedules_rps", PT_DBL, OFF(rate_schedules_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Schedule import calls per second; 0 = up to the total."},
    {"rate.schedules_burst", PT_INT, OFF(rate_schedules_burst), "0", 0, 1000000, NULL, 0,
     NULL, "Bucket size for schedule imports; 0 = rate.burst."},
    {"rate.polls_rps", PT_DBL, OFF(rate_polls_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Async job status polls per second; 0 = up to the total."},
    {"rate.polls_burst", PT_INT, OFF(rate_polls_burst), "0", 0, 1000000, NULL, 0, NULL,
     "Bucket size for job polls; 0 = rate.burst."},
    {"rate.share_interval_ms", PT_INT, OFF(rate_share_interval_ms), "250", 50, 10000,
     NULL, 0, NULL,
     "How often a replica reports its demand on kafka.topics.budget. A replica counts "
     "as idle after this long without work; reports older than 3 intervals are "
     "ignored."},
    {"rate.peer_secret", PT_STR, OFF(peer_secret), "", 0, 0, "CXONE_PEER_SECRET",
     PF_SECRET, NULL,
     "Group key of the budget reports: each replica signs its reports with "
     "HMAC-SHA256 under it and ignores (and counts) reports not so signed. Set the same "
     "one on every replica; set it, or peer_secret_file, not both. Empty = reports "
     "unsigned, and what one can do is bounded (docs/security.md)."},
    {"rate.peer_secret_file", PT_STR, OFF(peer_secret_file), "", 0, 0,
     "CXONE_PEER_SECRET_FILE", PF_FILE, NULL,
     "File holding rate.peer_secret (at most 4 KiB; one trailing newline is removed)."},
    {"rate.retry_after_missing_ms", PT_INT, OFF(rate_retry_after_missing_ms), "0", 0,
     MS_MAX, NULL, 0, NULL,
     "Pause of a class after a 429 without Retry-After; 0 = the budget's own measure "
     "(one token interval of the rate before the cut, at least 100 ms). Never a retry "
     "at once. cxone profile: 1000."},

    /* limits */
    {"limits.max_buffered_messages", PT_INT, OFF(max_buffered_messages), "10000", 1,
     10000000, NULL, 0, NULL,
     "Most consumed messages not yet finished; above it partitions are paused."},
    {"limits.max_buffered_bytes", PT_INT64, OFF(max_buffered_bytes), "67108864", 1024,
     1099511627776.0, NULL, 0, NULL,
     "Memory for consumed messages not yet finished, librdkafka's prefetch included: a "
     "quarter goes to the prefetch (`queued.max.messages.kbytes` and "
     "`queued.min.messages` are derived from it unless set in kafka.properties or "
     "kafka.consumer_properties), the rest bounds the requests, each counted as the "
     "heap it really holds (copy of key, value and headers, PATCH body or decoded "
     "import, error text, dispatcher entry, records awaiting Kafka's acknowledgement); "
     "above it partitions are paused. See docs/operations.md, Memory. Values above "
     "2147483647 need an L suffix (libconfig)."},
    {"limits.max_message_bytes", PT_INT, OFF(max_message_bytes), "983040", 64, 1000000000,
     NULL, 0, NULL,
     "Largest request message accepted; a larger one is rejected without being read. "
     "With 16 KiB of room for its DLQ copy's key and headers it must fit the "
     "producer's `message.max.bytes` (1000000 unless set in kafka.properties or "
     "kafka.producer_properties); a DLQ copy that still does not fit is truncated "
     "(docs/messages.md)."},
    {"limits.resume_ratio", PT_DBL, OFF(resume_ratio), "0.5", 0.1, 0.95, NULL, 0, NULL,
     "Paused partitions resume when the buffers fall below this share of the limits."},

    /* worker */
    {"worker.id", PT_STR, OFF(worker_id), "", 0, 0, "CXONE_WORKER_ID", PF_DERIVED,
     "<hostname>-<pid>",
     "Name of this replica in audit events and logs, and its `group.instance.id` with "
     "kafka.static_membership; empty means `<hostname>-<pid>`."},
    {"worker.shutdown_deadline_ms", PT_INT, OFF(shutdown_deadline_ms), "30000", 1, MS_MAX,
     NULL, 0, NULL, "On SIGTERM, time given to requests in flight before exiting."},
    {"worker.log_level", PT_STR, OFF(log_level), "info", 0, 0, NULL, PF_LOGLEVEL, NULL,
     "Log threshold."},
    {"worker.allow_core_dumps", PT_BOOL, OFF(allow_core_dumps), "false", 0, 0, NULL, 0,
     NULL,
     "Leave core dumps on. Off (the default), cxone-worker and cxonectl turn them off at "
     "start (RLIMIT_CORE 0, not dumpable), as a core would hold the client secret and "
     "access tokens."},
    {"worker.admin_listen", PT_STR, OFF(admin_listen), "", 0, 0,
     "CXONE_WORKER_ADMIN_LISTEN", PF_LISTEN, NULL,
     "HOST:PORT of the admin HTTP server (/metrics, /healthz, /readyz, webhooks); empty "
     "= "
     "off. `:PORT` binds every interface, with a warning in the log: write "
     "`0.0.0.0:PORT` to mean it."},
    {"worker.admin_max_connections", PT_INT, OFF(admin_max_connections), "64", 2, 4096,
     NULL, 0, NULL,
     "Connections the admin listener holds at once; more wait in the backlog of "
     "the same size, then are refused."},
    {"worker.admin_max_connections_per_client", PT_INT,
     OFF(admin_max_connections_per_client), "8", 1, 4096, NULL, 0, NULL,
     "Of them, connections from one client IP address; more are closed at "
     "once. Keep it well below worker.admin_max_connections, so that one client "
     "cannot take them all and the probes still get in."},
    {"worker.admin_request_deadline_ms", PT_INT, OFF(admin_request_deadline_ms), "5000",
     100, MS_MAX, NULL, 0, NULL,
     "Time an admin connection may take over one request, from its accept (or "
     "its previous answer) until the answer, however slowly it sends: past it "
     "the connection is closed. The idle timeout (10 s) only counts silence."},
};

const size_t cfg_nprops = sizeof(cfg_props) / sizeof(cfg_props[0]);

const choice_t cfg_choices[] = {
    {"cxone.profile", {"seed", "cxone", NULL}},
    {"cxone.auth.grant", {"client_credentials", "password", NULL}},
    {"cxone.auth.client_auth", {"basic", "post", NULL}},
    {"cxone.contacts.target", {"seed", "dfo-custom-fields", "address-book", NULL}},
};

const size_t cfg_nchoices = sizeof(cfg_choices) / sizeof(cfg_choices[0]);

/* The cxone profile: a real tenant. base_url and token_url empty = discovered. */
const preset_t cfg_presets[] = {
    {"cxone", "cxone.base_url", ""},
    {"cxone", "cxone.auth.grant", "password"},
    {"cxone", "cxone.admin_prefix", "/inContactAPI/services/v30.0"},
    {"cxone", "cxone.contacts.target", "dfo-custom-fields"},
    {"cxone", "cxone.schedules.enabled", "false"},
    {"cxone", "rate.retry_after_missing_ms", "1000"},
};

const size_t cfg_npresets = sizeof(cfg_presets) / sizeof(cfg_presets[0]);

void *cfg_field(cxw_config_t *cfg, const prop_t *p)
{
        return (char *)cfg + p->off;
}

const void *cfg_cfield(const cxw_config_t *cfg, const prop_t *p)
{
        return (const char *)cfg + p->off;
}

const char *const *cfg_choice_words(const prop_t *p)
{
        for (size_t i = 0; i < cfg_nchoices; i++)
                if (!strcmp(cfg_choices[i].path, p->path))
                        return cfg_choices[i].words;
        return NULL;
}

const prop_t *cfg_find_prop(const char *path)
{
        for (size_t i = 0; i < cfg_nprops; i++)
                if (!strcmp(cfg_props[i].path, path))
                        return &cfg_props[i];
        return NULL;
}
