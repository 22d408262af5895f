/* test_config.c: the config module: defaults, file, environment, every
 * problem reported with its place, the secret kept out of texts, and the
 * documentation and example config kept true to the table.
 * Runs in tests/unit (fixtures in data/config/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cxone/base/config.h"

#define DATA         "data/config/"
#define EXAMPLE_CONF "../../config/cxone-worker.conf"
#define DOC_FILE     "../../docs/configuration.md"
#define DOC_BEGIN    "<!-- BEGIN GENERATED -->\n"
#define DOC_END      "<!-- END GENERATED -->"
#define DOC_EXPECTED "/tmp/cxone-config-reference.md"

static const char *const env_vars[] = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_GROUP_ID",
    "CXONE_BASE_URL",
    "CXONE_TOKEN_URL",
    "CXONE_CLIENT_ID",
    "CXONE_CLIENT_SECRET",
    "CXONE_CLIENT_SECRET_FILE",
    "CXONE_RATE_LIMIT_RPS",
    "CXONE_WORKER_ADMIN_LISTEN",
    "CXONE_WEBHOOK_SECRET",
    "CXONE_ALLOW_INSECURE_HTTP",
    "CXONE_PEER_SECRET",
    "CXONE_PEER_SECRET_FILE",
    "CXONE_PROFILE",
    "CXONE_ISSUER_URL",
    "CXONE_ACCESS_KEY_ID",
    "CXONE_ACCESS_KEY_SECRET",
    "CXONE_ACCESS_KEY_SECRET_FILE",
    "CXONE_TENANT_ID",
    "CXONE_CONTACTS_TARGET",
    "CXONE_CA_FILE",
    "CXONE_DFO_BASE_URL",
};

static int clear_env(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
                unsetenv(env_vars[i]);
        return 0;
}

static void print_errs(const cxw_config_errors_t *errs)
{
        for (size_t i = 0; i < errs->cnt; i++)
                print_message("  problem: %s\n", errs->v[i]);
}

/* Does one problem contain all of the given pieces (NULL-terminated)? */
static bool has_err(const cxw_config_errors_t *errs, ...)
{
        for (size_t i = 0; i < errs->cnt; i++) {
                va_list ap;
                const char *piece;
                bool all = true;

                va_start(ap, errs);
                while ((piece = va_arg(ap, const char *)) != NULL)
                        if (!strstr(errs->v[i], piece))
                                all = false;
                va_end(ap);
                if (all)
                        return true;
        }
        print_message("no such problem among %zu:\n", errs->cnt);
        print_errs(errs);
        return false;
}

static cxw_config_t *load_clean(const char *path, cxw_config_purpose_t purpose)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg = cxw_config_load(path, purpose, &errs);

        assert_non_null(cfg);
        print_errs(&errs);
        assert_int_equal(errs.cnt, 0);
        cxw_config_errors_clear(&errs);
        return cfg;
}

static char *dump_to_string(const cxw_config_t *cfg)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        cxw_config_dump(cfg, f);
        fclose(f);
        return buf;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults_without_file_match_the_contract(void **state)
{
        cxw_config_t *cfg;
        char host[256] = "";

        (void)state;
        cfg = load_clean(NULL, CXW_CONFIG_FOR_CTL);
        assert_null(cfg->source);
        assert_string_equal(cfg->bootstrap_servers, "127.0.0.1:9092");
        assert_string_equal(cfg->group_id, "cxone-worker");
        assert_int_equal(cfg->kafka_props.cnt, 0);
        assert_int_equal(cfg->consumer_props.cnt, 0);
        assert_int_equal(cfg->producer_props.cnt, 0);
        assert_string_equal(cfg->topic_contacts, "cxone.contact-updates");
        assert_string_equal(cfg->topic_schedules, "cxone.schedule-imports");
        assert_string_equal(cfg->topic_results, "cxone.results");
        assert_string_equal(cfg->topic_audit, "cxone.audit");
        assert_string_equal(cfg->topic_dlq, "cxone.dlq");
        assert_string_equal(cfg->topic_budget, "cxone.budget");
        assert_string_equal(cfg->base_url, "http://127.0.0.1:8080");
        assert_string_equal(cfg->token_url, "http://127.0.0.1:8080/oauth/token");
        assert_string_equal(cfg->client_id, "");
        assert_string_equal(cfg->client_secret, "");
        assert_string_equal(cfg->client_secret_file, "");
        assert_string_equal(cfg->scope, "");
        assert_string_equal(cfg->contacts_path, "/api/v2/contacts/{contactId}");
        assert_string_equal(cfg->contacts_method, "PATCH");
        assert_int_equal(cfg->contact_fields.cnt, 3);
        assert_string_equal(cfg->contact_fields.v[0], "firstName");
        assert_string_equal(cfg->contact_fields.v[1], "lastName");
        assert_string_equal(cfg->contact_fields.v[2], "email");
        assert_int_equal(cfg->max_in_flight, 64);
        assert_int_equal(cfg->connect_timeout_ms, 5000);
        assert_int_equal(cfg->request_timeout_ms, 30000);
        assert_int_equal(cfg->max_response_bytes, 1048576);
        assert_int_equal(cfg->retry_max_attempts, 10);
        assert_int_equal(cfg->retry_max_elapsed_ms, 600000);
        assert_int_equal(cfg->retry_base_delay_ms, 200);
        assert_int_equal(cfg->retry_max_delay_ms, 30000);
        assert_int_equal(cfg->token_refresh_ahead_ms, 60000);
        assert_int_equal(cfg->token_timeout_ms, 10000);
        assert_true(cfg->rate_rps == 100.0);
        assert_int_equal(cfg->rate_burst, 20);
        assert_true(cfg->rate_contacts_rps == 0.0);
        assert_int_equal(cfg->rate_contacts_burst, 0);
        assert_true(cfg->rate_schedules_rps == 0.0);
        assert_int_equal(cfg->rate_schedules_burst, 0);
        assert_true(cfg->rate_polls_rps == 0.0);
        assert_int_equal(cfg->rate_polls_burst, 0);
        assert_int_equal(cfg->rate_share_interval_ms, 250);
        assert_int_equal(cfg->max_buffered_messages, 10000);
        assert_true(cfg->max_buffered_bytes == 67108864);
        assert_int_equal(cfg->max_message_bytes, 983040);
        assert_true(cfg->resume_ratio == 0.5);
        assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
        assert_non_null(strstr(cfg->worker_id, host));
        assert_int_equal(cfg->shutdown_deadline_ms, 30000);
        assert_string_equal(cfg->log_level, "info");
        assert_string_equal(cfg->admin_listen, "");
        cxw_config_destroy(cfg);
}

static void test_defaults_lack_credentials_for_worker_but_suit_ctl(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_non_null(cfg);
        assert_int_equal(errs.cnt, 2);
        assert_true(
            has_err(&errs, "cxone.client_id", "CXONE_CLIENT_ID", "required", NULL));
        assert_true(has_err(&errs,
                            "cxone.client_secret (or CXONE_CLIENT_SECRET / "
                            "CXONE_CLIENT_SECRET_FILE) is required",
                            NULL));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        cxw_config_destroy(load_clean(NULL, CXW_CONFIG_FOR_CTL));
}

/* ---- a good file ------------------------------------------------------- */

static void test_good_file_fills_every_field_type(void **state)
{
        cxw_config_t *cfg;

        (void)state;
        cfg = load_clean(DATA "good.conf", CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->source, DATA "good.conf");
        assert_string_equal(cfg->bootstrap_servers, "broker1:9092,broker2:9092");
        assert_string_equal(cfg->group_id, "g1");
        assert_int_equal(cfg->kafka_props.cnt, 2);
        assert_string_equal(cfg->kafka_props.v[0], "socket.keepalive.enable=true");
        assert_string_equal(cfg->kafka_props.v[1], "client.id=cx=1");
        assert_int_equal(cfg->consumer_props.cnt, 1); /* a libconfig list ( ) */
        assert_string_equal(cfg->consumer_props.v[0], "session.timeout.ms=10000");
        assert_int_equal(cfg->producer_props.cnt, 1);
        assert_string_equal(cfg->topic_contacts, "t.contacts");
        assert_string_equal(cfg->topic_schedules, "t.schedules");
        assert_string_equal(cfg->topic_results, "t.results");
        assert_string_equal(cfg->topic_audit, "t.audit");
        assert_string_equal(cfg->topic_dlq, "t.dlq");
        assert_string_equal(cfg->base_url, "https://cxone.example.com/");
        /* derived from base_url, without a double slash */
        assert_string_equal(cfg->token_url, "https://cxone.example.com/oauth/token");
        assert_string_equal(cfg->client_id, "id-1");
        assert_string_equal(cfg->client_secret, "file-secret-value");
        assert_string_equal(cfg->scope, "contacts wfm");
        assert_string_equal(cfg->contacts_path, "/api/v3/contacts/{contactId}/fields");
        assert_string_equal(cfg->contacts_method, "PUT");
        assert_int_equal(cfg->contact_fields.cnt, 2);
        assert_string_equal(cfg->contact_fields.v[1], "phone_1");
        assert_int_equal(cfg->max_in_flight, 8);
        assert_int_equal(cfg->connect_timeout_ms, 1000);
        assert_int_equal(cfg->request_timeout_ms, 2000);
        assert_int_equal(cfg->max_response_bytes, 4096);
        assert_int_equal(cfg->retry_max_attempts, 3);
        assert_int_equal(cfg->retry_max_elapsed_ms, 5000);
        assert_int_equal(cfg->retry_base_delay_ms, 10);
        assert_int_equal(cfg->retry_max_delay_ms, 100);
        assert_int_equal(cfg->token_refresh_ahead_ms, 0);
        assert_int_equal(cfg->token_timeout_ms, 1234);
        assert_true(cfg->rate_rps == 12.5);
        assert_int_equal(cfg->rate_burst, 7);
        assert_true(cfg->rate_contacts_rps == 5.0); /* an integer for a number */
        assert_int_equal(cfg->rate_contacts_burst, 2);
        assert_true(cfg->rate_schedules_rps == 1.5);
        assert_int_equal(cfg->rate_schedules_burst, 1);
        assert_true(cfg->rate_polls_rps == 0.5);
        assert_int_equal(cfg->rate_polls_burst, 3);
        assert_int_equal(cfg->max_buffered_messages, 500);
        assert_true(cfg->max_buffered_bytes == 5000000000LL); /* 64-bit */
        assert_int_equal(cfg->max_message_bytes, 65536);
        assert_true(cfg->resume_ratio == 0.25);
        assert_string_equal(cfg->worker_id, "w-7");
        assert_int_equal(cfg->shutdown_deadline_ms, 1500);
        assert_string_equal(cfg->log_level, "debug");
        assert_string_equal(cfg->admin_listen, "127.0.0.1:9100");
        cxw_config_destroy(cfg);
}

/* ---- the environment --------------------------------------------------- */

static void test_env_overrides_win_over_the_file(void **state)
{
        cxw_config_t *cfg;

        (void)state;
        setenv("KAFKA_BOOTSTRAP_SERVERS", "env-broker:9093", 1);
        setenv("KAFKA_GROUP_ID", "env-group", 1);
        setenv("CXONE_BASE_URL", "http://env.example:81", 1);
        setenv("CXONE_ALLOW_INSECURE_HTTP", "true", 1);
        setenv("CXONE_TOKEN_URL", "https://login.example/auth/token", 1);
        setenv("CXONE_CLIENT_ID", "env-id", 1);
        setenv("CXONE_CLIENT_SECRET", "env-secret", 1);
        setenv("CXONE_RATE_LIMIT_RPS", "42.5", 1);
        setenv("CXONE_WORKER_ADMIN_LISTEN", "0.0.0.0:9200", 1);
        cfg = load_clean(DATA "good.conf", CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->bootstrap_servers, "env-broker:9093");
        assert_string_equal(cfg->group_id, "env-group");
        assert_string_equal(cfg->base_url, "http://env.example:81");
        assert_true(cfg->allow_insecure_http);
        assert_string_equal(cfg->token_url, "https://login.example/auth/token");
        assert_string_equal(cfg->client_id, "env-id");
        assert_string_equal(cfg->client_secret, "env-secret");
        assert_true(cfg->rate_rps == 42.5);
        assert_string_equal(cfg->admin_listen, "0.0.0.0:9200");
        assert_int_equal(cfg->max_in_flight, 8); /* the file still counts */
        cxw_config_destroy(cfg);

        /* The token URL follows an overridden base URL. */
        unsetenv("CXONE_TOKEN_URL");
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->token_url, "http://env.example:81/oauth/token");
        cxw_config_destroy(cfg);
        clear_env(NULL);
}

static void test_env_value_that_does_not_parse_names_the_variable(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        setenv("CXONE_RATE_LIMIT_RPS", "abc", 1);
        setenv("CXONE_BASE_URL", "not-a-url", 1);
        setenv("CXONE_WORKER_ADMIN_LISTEN", "nowhere", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_non_null(cfg);
        assert_true(has_err(&errs, "CXONE_RATE_LIMIT_RPS", "rate.rps", "abc", NULL));
        assert_true(has_err(&errs, "CXONE_BASE_URL", "not-a-url", NULL));
        assert_true(has_err(&errs, "CXONE_WORKER_ADMIN_LISTEN", "HOST:PORT", NULL));
        assert_true(cfg->rate_rps == 100.0); /* the bad value is not taken */
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        setenv("CXONE_RATE_LIMIT_RPS", "-1", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_CTL, &errs);
        assert_true(
            has_err(&errs, "CXONE_RATE_LIMIT_RPS", "out of range 0..1000000", NULL));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        clear_env(NULL);
}

static void test_secret_file_is_read_and_one_newline_stripped(void **state)
{
        char path[] = "/tmp/cxw-test-secret-XXXXXX";
        int fd = mkstemp(path);
        cxw_config_t *cfg;

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET_FILE", path, 1);

        write_file(path, "s3cr3t-from-file\n");
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->client_secret, "s3cr3t-from-file");
        assert_string_equal(cfg->client_secret_file, path);
        cxw_config_destroy(cfg);

        write_file(path, "crlf-secret\r\n");
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->client_secret, "crlf-secret");
        cxw_config_destroy(cfg);

        write_file(path, "two-newlines\n\n"); /* only one is removed */
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->client_secret, "two-newlines\n");
        cxw_config_destroy(cfg);

        /* The env file replaces both forms of the file's secret. */
        write_file(path, "env-file-secret");
        cfg = load_clean(DATA "good.conf", CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->client_secret, "env-file-secret");
        cxw_config_destroy(cfg);

        unlink(path);
        clear_env(NULL);
}

static void test_secret_file_problems_name_the_path_not_the_content(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char path[] = "/tmp/cxw-test-secret-XXXXXX";
        char big[5000];
        int fd = mkstemp(path);

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        setenv("CXONE_CLIENT_ID", "id", 1);

        setenv("CXONE_CLIENT_SECRET_FILE", "/nonexistent/cxw-secret", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "CXONE_CLIENT_SECRET_FILE", "/nonexistent/cxw-secret",
                            "cannot read", NULL));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        setenv("CXONE_CLIENT_SECRET_FILE", "/tmp", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "'/tmp' is not a regular file", NULL));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        /* cxonectl does not need the secret, so does not read the file. */
        cxw_config_destroy(load_clean(NULL, CXW_CONFIG_FOR_CTL));

        memset(big, 'k', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        write_file(path, big);
        setenv("CXONE_CLIENT_SECRET_FILE", path, 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, path, "larger than 4096", NULL));
        assert_null(strstr(errs.v[0], "kkkk"));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        write_file(path, "both-secret-value\n");
        setenv("CXONE_CLIENT_SECRET", "env-secret-value", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "set only one of", "CXONE_CLIENT_SECRET_FILE", NULL));
        for (size_t i = 0; i < errs.cnt; i++) {
                assert_null(strstr(errs.v[i], "both-secret-value"));
                assert_null(strstr(errs.v[i], "env-secret-value"));
        }
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        unlink(path);
        clear_env(NULL);
}

/* ---- bad files --------------------------------------------------------- */

static cxw_config_t *load_bad(const char *path, cxw_config_purpose_t purpose,
                              cxw_config_errors_t *errs)
{
        cxw_config_t *cfg = cxw_config_load(path, purpose, errs);

        assert_non_null(cfg);
        assert_true(errs->cnt > 0);
        return cfg;
}

static void test_syntax_error_names_file_and_line(void **state)
{
        cxw_config_errors_t errs = {0};

        (void)state;
        cxw_config_destroy(load_bad(DATA "syntax.conf", CXW_CONFIG_FOR_CTL, &errs));
        assert_true(has_err(&errs, DATA "syntax.conf:3: ", "syntax error", NULL));
        cxw_config_errors_clear(&errs);

        cxw_config_destroy(load_bad(DATA "no-such-file.conf", CXW_CONFIG_FOR_CTL, &errs));
        assert_true(has_err(&errs, DATA "no-such-file.conf", "cannot read", NULL));
        cxw_config_errors_clear(&errs);
}

/* A file that does not parse is reported with libconfig's text alone: no
 * "client_id is required" for the keys it holds but could not be read. */
static void test_syntax_error_is_the_only_problem_reported(void **state)
{
        static const char text[] = "cxone = {\n  client_id = \"c\";\n"
                                   "  client_secret = \"s\";\n"
                                   "  base_url = \"http://127.0.0.1:1\";\n"
                                   "  scope = = \"x\";\n"
                                   "};\nhttp = { max_in_flight = 8; };\n";
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        cxw_config_errors_t errs = {0};
        int fd = mkstemp(path);

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        write_file(path, text); /* line 5: "= =" */
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, path, ":5: ", "syntax error", NULL));
        print_errs(&errs);
        assert_int_equal(errs.cnt, 1);
        cxw_config_errors_clear(&errs);

        /* so is a file that cannot be read */
        cxw_config_destroy(
            load_bad(DATA "no-such-file.conf", CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, DATA "no-such-file.conf", "cannot read", NULL));
        assert_int_equal(errs.cnt, 1);
        cxw_config_errors_clear(&errs);
        unlink(path);
}

static void test_unknown_keys_name_key_and_line_with_a_hint(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        cfg = load_bad(DATA "unknown.conf", CXW_CONFIG_FOR_CTL, &errs);
        assert_int_equal(errs.cnt, 2);
        assert_true(has_err(&errs, DATA "unknown.conf:3: unknown key 'http.max_inflight'",
                            "did you mean 'http.max_in_flight'", NULL));
        assert_true(has_err(&errs, DATA "unknown.conf:5: unknown key 'bogus'", NULL));
        assert_string_equal(cfg->topic_results, "r"); /* the rest is still read */
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
}

static void test_wrong_types_name_key_and_line(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        cfg = load_bad(DATA "wrongtype.conf", CXW_CONFIG_FOR_CTL, &errs);
        assert_true(has_err(
            &errs, DATA "wrongtype.conf:2: http.max_in_flight: expected an integer",
            NULL));
        assert_true(
            has_err(&errs, DATA "wrongtype.conf:3: rate.rps: expected a number", NULL));
        assert_true(has_err(
            &errs, DATA "wrongtype.conf:5: kafka.topics: expected a group", NULL));
        assert_true(has_err(&errs, DATA "wrongtype.conf:6: kafka.properties: item 2",
                            "expected a string", NULL));
        assert_int_equal(errs.cnt, 4);
        assert_int_equal(cfg->max_in_flight, 64); /* the default stays */
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
}

static void test_out_of_range_names_key_line_and_range(void **state)
{
        cxw_config_errors_t errs = {0};

        (void)state;
        cxw_config_destroy(load_bad(DATA "range.conf", CXW_CONFIG_FOR_CTL, &errs));
        assert_int_equal(errs.cnt, 2);
        assert_true(has_err(&errs, DATA "range.conf:2: http.max_in_flight",
                            "0 is out of range 1..65536", NULL));
        assert_true(has_err(&errs, DATA "range.conf:3: limits.resume_ratio",
                            "out of range 0.1..0.95", NULL));
        cxw_config_errors_clear(&errs);
}

static void test_bad_urls_are_rejected_for_the_worker(void **state)
{
        cxw_config_errors_t errs = {0};

        (void)state;
        cxw_config_destroy(load_bad(DATA "badurl.conf", CXW_CONFIG_FOR_WORKER, &errs));
        assert_int_equal(errs.cnt, 2);
        assert_true(has_err(&errs, DATA "badurl.conf:2: cxone.base_url",
                            "ftp://files.example.com", "http:// or https://", NULL));
        assert_true(has_err(&errs, DATA "badurl.conf:3: cxone.token_url", NULL));
        cxw_config_errors_clear(&errs);
}

static void test_url_shapes(void **state)
{
        static const struct {
                const char *url;
                bool ok;
        } cases[] = {
            {"http://127.0.0.1:8080", true},
            {"https://a.example/base/", true},
            {"HTTPS://a.example", true},
            {"http://[::1]:80/x", true},
            {"http://", false},
            {"http://:80", false},
            {"https://a.example:0", false},
            {"https://a.example:99999", false},
            {"https://a b", false},
            {"https://user:pw@host", false},
            {"file:///etc/passwd", false},
            {"127.0.0.1:8080", false},
        };

        (void)state;
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cxw_config_errors_t errs = {0};
                cxw_config_t *cfg;

                setenv("CXONE_BASE_URL", cases[i].url, 1);
                cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
                if ((errs.cnt == 0) != cases[i].ok) {
                        print_errs(&errs);
                        fail_msg("URL '%s' should be %s", cases[i].url,
                                 cases[i].ok ? "accepted" : "rejected");
                }
                cxw_config_errors_clear(&errs);
                cxw_config_destroy(cfg);
        }
        clear_env(NULL);
}

/* Security finding 7: http:// to a host that is not loopback sends the
 * Basic secret and the token in clear text: an error naming the key and the
 * fix, unless cxone.allow_insecure_http, then a warning. */
static void test_cleartext_http_only_to_loopback(void **state)
{
        static const struct {
                const char *url;
                bool ok;
        } cases[] = {
            {"http://127.0.0.1:8080", true},
            {"http://127.8.9.10/api", true},
            {"http://localhost:80", true},
            {"http://LOCALHOST/x", true},
            {"http://[::1]:8080/x", true},
            {"http://[::ffff:127.0.0.1]:80", true},
            {"https://cxone.example.com", true},
            {"https://10.0.0.1:8443", true},
            {"http://cxone.example.com", false},
            {"HTTP://cxone.example.com:80/", false},
            {"http://10.0.0.1:8080", false},
            {"http://127.0.0.1.evil.example", false},
            {"http://localhost.evil.example", false},
            {"http://[::2]:80", false},
            {"http://128.0.0.1", false},
        };
        const char *path = "/tmp/cxone-test-config-http.conf";
        cxw_config_errors_t errs = {0}, warns = {0};
        cxw_config_t *cfg;

        (void)state;
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                setenv("CXONE_BASE_URL", cases[i].url, 1);
                cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
                assert_non_null(cfg);
                if ((errs.cnt == 0) != cases[i].ok) {
                        print_errs(&errs);
                        fail_msg("URL '%s' should be %s", cases[i].url,
                                 cases[i].ok ? "accepted" : "refused");
                }
                if (!cases[i].ok)
                        assert_true(has_err(&errs, "CXONE_BASE_URL (cxone.base_url)",
                                            "not loopback", "clear text", "https://",
                                            "cxone.allow_insecure_http = true", NULL));
                assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
                assert_int_equal(warns.cnt, 0);
                cxw_config_errors_clear(&errs);
                cxw_config_destroy(cfg);

                /* allowed: no error, a warning for each remote http:// URL
                 * (the base URL and the token URL derived from it) */
                setenv("CXONE_ALLOW_INSECURE_HTTP", "true", 1);
                cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
                assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
                assert_int_equal(warns.cnt, cases[i].ok ? 0 : 2);
                if (!cases[i].ok) {
                        assert_true(has_err(&warns, "cxone.base_url: ", cases[i].url,
                                            "allowed by cxone.allow_insecure_http",
                                            NULL));
                        assert_true(has_err(&warns, "cxone.token_url: ", NULL));
                }
                cxw_config_errors_clear(&warns);
                cxw_config_destroy(cfg);
                unsetenv("CXONE_ALLOW_INSECURE_HTTP");
        }
        unsetenv("CXONE_BASE_URL");

        /* In a file: file:line and the key; the token URL too. */
        write_file(path, "cxone = {\n"
                         "  base_url = \"http://cxone.example.com\";\n"
                         "  token_url = \"http://login.example.com/oauth/token\";\n"
                         "};\n");
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_int_equal(errs.cnt, 2);
        assert_true(has_err(&errs, path, ":2: cxone.base_url: ",
                            "cxone.allow_insecure_http = true", NULL));
        assert_true(has_err(&errs, path, ":3: cxone.token_url: ",
                            "cxone.allow_insecure_http = true", NULL));
        cxw_config_errors_clear(&errs);
        /* cxonectl does not talk to CXone: no check */
        cxw_config_destroy(load_clean(path, CXW_CONFIG_FOR_CTL));

        write_file(path, "cxone = {\n"
                         "  base_url = \"http://cxone.example.com\";\n"
                         "  allow_insecure_http = true;\n"
                         "};\n");
        cfg = load_clean(path, CXW_CONFIG_FOR_WORKER);
        assert_true(cfg->allow_insecure_http);
        assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
        assert_int_equal(warns.cnt, 2);
        cxw_config_errors_clear(&warns);
        cxw_config_destroy(cfg);
        unlink(path);
        clear_env(NULL);
}

static void test_bad_kafka_properties_name_key_and_line(void **state)
{
        cxw_config_errors_t errs = {0};
        char *name = NULL, *value = NULL;

        (void)state;
        cxw_config_destroy(load_bad(DATA "badprop.conf", CXW_CONFIG_FOR_CTL, &errs));
        assert_int_equal(errs.cnt, 2);
        assert_true(has_err(&errs, DATA "badprop.conf:3: kafka.properties",
                            "'socket.keepalive.enable' is not name=value", NULL));
        assert_true(has_err(&errs, DATA "badprop.conf:4: kafka.consumer_properties",
                            "item 2", NULL));
        cxw_config_errors_clear(&errs);

        assert_int_equal(cxw_config_split_prop("a.b=c=d", &name, &value), 0);
        assert_string_equal(name, "a.b");
        assert_string_equal(value, "c=d");
        free(name);
        assert_int_equal(cxw_config_split_prop("k=", &name, &value), 0);
        assert_string_equal(value, "");
        free(name);
        assert_int_equal(cxw_config_split_prop("=v", &name, &value), -1);
        assert_null(name);
        assert_int_equal(cxw_config_split_prop("novalue", &name, &value), -1);
}

static void test_several_problems_in_one_file_are_all_reported(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        cfg = load_bad(DATA "many.conf", CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(
            has_err(&errs, "many.conf:2: http.max_in_flight", "out of range", NULL));
        assert_true(has_err(&errs, "many.conf:3: unknown key 'http.request_timeout'",
                            "http.request_timeout_ms", NULL));
        assert_true(has_err(&errs, "many.conf:4: retry.max_attempts", "integer", NULL));
        assert_true(has_err(&errs, "many.conf:5: cxone.base_url", NULL));
        assert_true(has_err(&errs, "many.conf:6: cxone.contacts.method", "GET", NULL));
        assert_true(has_err(&errs, "many.conf:7: worker.log_level", "verbose", NULL));
        assert_int_equal(errs.cnt, 6);
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        /* The CXone checks are the worker's: cxonectl sees four. */
        cfg = load_bad(DATA "many.conf", CXW_CONFIG_FOR_CTL, &errs);
        assert_int_equal(errs.cnt, 4);
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        clear_env(NULL);
}

static void test_worker_checks_on_contacts(void **state)
{
        static const char text[] = "cxone = { client_id = \"c\"; client_secret = \"s\";\n"
                                   "  contacts = { path = \"/api/v2/contacts\";\n"
                                   "               fields = [ \"firstName\", \"bad "
                                   "field\", \"contactId\" ]; };\n"
                                   "};\n";
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        cxw_config_errors_t errs = {0};
        int fd = mkstemp(path);

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        write_file(path, text);
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, ":2: cxone.contacts.path", "{contactId}", NULL));
        assert_true(has_err(&errs, ":3: cxone.contacts.fields", "'bad field'", NULL));
        assert_true(has_err(&errs, ":3: cxone.contacts.fields", "contactId", NULL));
        assert_int_equal(errs.cnt, 3);
        cxw_config_errors_clear(&errs);

        write_file(path, "cxone = { contacts = { fields = []; }; };\n"
                         "retry = { base_delay_ms = 500; max_delay_ms = 100; };\n");
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, ":1: cxone.contacts.fields", "at least one", NULL));
        assert_true(has_err(&errs, ":2: retry.max_delay_ms", "base_delay_ms", NULL));
        cxw_config_errors_clear(&errs);
        unlink(path);
        clear_env(NULL);
}

static void test_schedule_value_lists_default_to_the_seeds_and_are_checked(void **state)
{
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        int fd = mkstemp(path);

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_CTL);
        assert_int_equal(cfg->schedules_validation_modes.cnt, 2);
        assert_string_equal(cfg->schedules_validation_modes.v[0], "STRICT");
        assert_string_equal(cfg->schedules_validation_modes.v[1], "LENIENT");
        assert_int_equal(cfg->schedules_conflict_resolutions.cnt, 4);
        assert_string_equal(cfg->schedules_conflict_resolutions.v[0], "AUTO_RESOLVE");
        assert_string_equal(cfg->schedules_conflict_resolutions.v[1], "OVERWRITE");
        assert_string_equal(cfg->schedules_conflict_resolutions.v[2], "SKIP");
        assert_string_equal(cfg->schedules_conflict_resolutions.v[3], "FAIL");
        cxw_config_destroy(cfg);

        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        write_file(path, "schedules = { conflict_resolutions = [ \"MERGE\" ]; };\n");
        cfg = load_clean(path, CXW_CONFIG_FOR_WORKER);
        assert_int_equal(cfg->schedules_conflict_resolutions.cnt, 1);
        assert_string_equal(cfg->schedules_conflict_resolutions.v[0], "MERGE");
        cxw_config_destroy(cfg);

        write_file(path, "schedules = {\n  validation_modes = [];\n"
                         "  conflict_resolutions = [ \"AUTO RESOLVE\" ];\n};\n");
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(
            has_err(&errs, ":2: schedules.validation_modes", "at least one", NULL));
        assert_true(
            has_err(&errs, ":3: schedules.conflict_resolutions", "'AUTO RESOLVE'", NULL));
        assert_int_equal(errs.cnt, 2);
        cxw_config_errors_clear(&errs);
        unlink(path);
        clear_env(NULL);
}

/* A request accepted by limits.max_message_bytes must leave room for its
 * DLQ copy within the producer's message.max.bytes (security finding 1). */
static void test_max_message_bytes_fits_the_producer(void **state)
{
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        cxw_config_errors_t errs = {0};
        int fd = mkstemp(path);
        cxw_config_t *cfg;

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "x", 1);
        write_file(path, "limits = { max_message_bytes = 1048576; };\n");
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, ":1: limits.max_message_bytes",
                            "message.max.bytes (1000000)", "at most 983616", NULL));
        assert_int_equal(errs.cnt, 1);
        cxw_config_errors_clear(&errs);

        /* the producer's own list wins over kafka.properties */
        write_file(path,
                   "limits = { max_message_bytes = 1048576; };\n"
                   "kafka = { properties = [ \"message.max.bytes=2000000\" ];\n"
                   "  producer_properties = [ \"message.max.bytes=1000000\" ]; };\n");
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_WORKER, &errs));
        assert_true(has_err(&errs, "limits.max_message_bytes", "(1000000)", NULL));
        cxw_config_errors_clear(&errs);

        write_file(
            path,
            "limits = { max_message_bytes = 1048576; };\n"
            "kafka = { producer_properties = [ \"message.max.bytes=1064960\" ]; };\n");
        cfg = load_clean(path, CXW_CONFIG_FOR_WORKER);
        assert_int_equal(cfg->max_message_bytes, 1048576);
        cxw_config_destroy(cfg);
        unlink(path);
        clear_env(NULL);
}

static void test_problem_list_is_bounded(void **state)
{
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        cxw_config_errors_t errs = {0};
        int fd = mkstemp(path);
        FILE *f;

        (void)state;
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        for (int i = 0; i < 500; i++)
                fprintf(f, "junk%d = %d;\n", i, i);
        fclose(f);
        cxw_config_destroy(load_bad(path, CXW_CONFIG_FOR_CTL, &errs));
        assert_true(errs.cnt <= 100);
        assert_true(has_err(&errs, "more problems", NULL));
        assert_true(has_err(&errs, ":1: unknown key 'junk0'", NULL));
        cxw_config_errors_clear(&errs);
        unlink(path);
}

/* ---- the secret -------------------------------------------------------- */

static void assert_secret_absent(const cxw_config_errors_t *errs, const cxw_config_t *cfg,
                                 const char *secret)
{
        char *dump;

        for (size_t i = 0; i < errs->cnt; i++)
                if (strstr(errs->v[i], secret))
                        fail_msg("the secret is in a problem: %s", errs->v[i]);
        dump = dump_to_string(cfg);
        if (strstr(dump, secret))
                fail_msg("the secret is in the dump:\n%s", dump);
        free(dump);
}

static void test_peer_secret_from_env_or_file_never_shown(void **state)
{
        char path[] = "/tmp/cxw-test-peer-secret-XXXXXX";
        int fd = mkstemp(path);
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char *dump;

        (void)state;
        assert_true(fd >= 0);
        close(fd);
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "s", 1);
        setenv("CXONE_PEER_SECRET", "PeerKey-from-env-9", 1);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->peer_secret, "PeerKey-from-env-9");
        dump = dump_to_string(cfg);
        assert_non_null(strstr(dump, "rate.peer_secret = (set)"));
        assert_null(strstr(dump, "PeerKey"));
        free(dump);
        cxw_config_destroy(cfg);
        unsetenv("CXONE_PEER_SECRET");

        setenv("CXONE_PEER_SECRET_FILE", path, 1);
        write_file(path, "PeerKey-from-file\n");
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->peer_secret, "PeerKey-from-file");
        cxw_config_destroy(cfg);

        /* Both forms: an error naming the keys, never the value. */
        setenv("CXONE_PEER_SECRET", "PeerKey-both", 1);
        cfg = load_bad(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "rate.peer_secret_file", "set only one of", NULL));
        assert_secret_absent(&errs, cfg, "PeerKey");
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        unlink(path);
        clear_env(NULL);
}

static void test_secret_never_appears_in_errors_or_dump(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char *dump;

        (void)state;
        cfg = load_bad(DATA "secret.conf", CXW_CONFIG_FOR_WORKER, &errs);
        assert_string_equal(cfg->client_secret, "TopSecret-in-file-42");
        assert_secret_absent(&errs, cfg, "TopSecret");
        dump = dump_to_string(cfg);
        assert_non_null(strstr(dump, "cxone.client_secret = (set)\n"));
        free(dump);
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        cfg = load_bad(DATA "bothsecrets.conf", CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "bothsecrets.conf:4: cxone.client_secret_file",
                            "set only one of", NULL));
        assert_secret_absent(&errs, cfg, "TopSecret");
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);

        /* A secret given in the environment, with other env problems. */
        setenv("CXONE_CLIENT_SECRET", "EnvSecret-77", 1);
        setenv("CXONE_BASE_URL", "EnvSecret-77", 1);
        cfg = load_bad(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        dump = dump_to_string(cfg);
        assert_non_null(
            strstr(dump, "cxone.client_secret = (set)  # env CXONE_CLIENT_SECRET\n"));
        free(dump);
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        clear_env(NULL);

        cfg = load_clean(NULL, CXW_CONFIG_FOR_CTL);
        dump = dump_to_string(cfg);
        assert_non_null(strstr(dump, "cxone.client_secret = (unset)\n"));
        assert_non_null(strstr(dump, "http.max_in_flight = 64\n"));
        assert_non_null(strstr(dump, "kafka.topics.dlq = \"cxone.dlq\"\n"));
        assert_non_null(strstr(
            dump, "cxone.contacts.fields = [\"firstName\", \"lastName\", \"email\"]\n"));
        free(dump);
        cxw_config_destroy(cfg);
}

/* Security finding 8: --print-config shows librdkafka properties whose
 * name says password/secret/key as "name=(set)", in all three lists; a
 * malformed item that may hold one is hidden in the error too. */
static void test_dump_hides_kafka_secrets(void **state)
{
        const char *path = "/tmp/cxone-test-config-kafka-secrets.conf";
        static const char *const hidden[] = {"hunter2",   "KeyPass-1", "OauthCS-2",
                                             "PEMDATA-3", "KsPass-4",  "SaslProd-5"};
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char *dump;

        (void)state;
        write_file(path,
                   "kafka = {\n"
                   "  properties = [ \"security.protocol=SASL_SSL\", "
                   "\"sasl.username=alice\", \"sasl.password=hunter2\",\n"
                   "    \"ssl.key.password=KeyPass-1\", "
                   "\"sasl.oauthbearer.client.secret=OauthCS-2\",\n"
                   "    \"ssl.key.pem=PEMDATA-3\", \"client.id=keyring\" ];\n"
                   "  consumer_properties = [ \"SSL.KEYSTORE.PASSWORD=KsPass-4\" ];\n"
                   "  producer_properties = [ \"sasl.password=SaslProd-5\", "
                   "\"sasl.password=\" ];\n"
                   "};\n");
        cfg = load_clean(path, CXW_CONFIG_FOR_CTL);
        assert_string_equal(cfg->kafka_props.v[2], "sasl.password=hunter2");
        dump = dump_to_string(cfg);
        for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
                if (strstr(dump, hidden[i]))
                        fail_msg("--print-config shows %s:\n%s", hidden[i], dump);
        assert_non_null(strstr(
            dump, "kafka.properties = [\"security.protocol=SASL_SSL\", "
                  "\"sasl.username=alice\", \"sasl.password=(set)\", "
                  "\"ssl.key.password=(set)\", "
                  "\"sasl.oauthbearer.client.secret=(set)\", \"ssl.key.pem=(set)\", "
                  "\"client.id=keyring\"]\n"));
        assert_non_null(strstr(
            dump, "kafka.consumer_properties = [\"SSL.KEYSTORE.PASSWORD=(set)\"]\n"));
        assert_non_null(strstr(dump,
                               "kafka.producer_properties = "
                               "[\"sasl.password=(set)\", \"sasl.password=(unset)\"]\n"));
        free(dump);
        cxw_config_destroy(cfg);

        write_file(path, "kafka = { properties = [ \"sasl.password:hunter2\" ]; };\n");
        cfg = load_bad(path, CXW_CONFIG_FOR_CTL, &errs);
        assert_true(has_err(&errs, "kafka.properties", "item 1", "(hidden)", NULL));
        for (size_t i = 0; i < errs.cnt; i++)
                assert_null(strstr(errs.v[i], "hunter2"));
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        unlink(path);
}

/* Security finding 8: a secret file readable by others, or by its group
 * when the worker owns it, is warned about (never its content). */
static void test_secret_file_readable_by_others_is_warned(void **state)
{
        const char *path = "/tmp/cxone-test-config-secret-mode";
        cxw_config_errors_t warns = {0};
        cxw_config_t *cfg;

        (void)state;
        write_file(path, "Mode-Secret-73\n");
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET_FILE", path, 1);

        assert_int_equal(chmod(path, 0644), 0);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
        assert_int_equal(warns.cnt, 1);
        assert_true(has_err(&warns, "cxone.client_secret_file: ", path,
                            "readable by others (mode 0644)", "chmod 0400", NULL));
        assert_null(strstr(warns.v[0], "Mode-Secret"));
        cxw_config_errors_clear(&warns);
        cxw_config_destroy(cfg);

        assert_int_equal(chmod(path, 0640), 0); /* ours, and our group's */
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
        assert_true(has_err(&warns, "readable by its group (mode 0640)", NULL));
        cxw_config_errors_clear(&warns);
        cxw_config_destroy(cfg);

        assert_int_equal(chmod(path, 0400), 0);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
        assert_int_equal(warns.cnt, 0);
        cxw_config_destroy(cfg);

        /* Kubernetes' fsGroup: owned by another user, 0440, group ours. */
        if (geteuid() == 0 && chown(path, 12345, getegid()) == 0) {
                assert_int_equal(chmod(path, 0440), 0);
                cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
                assert_int_equal(cxw_config_warnings(cfg, &warns), 0);
                assert_int_equal(warns.cnt, 0);
                cxw_config_destroy(cfg);
        }
        unlink(path);
        clear_env(NULL);
}

/* --print-config says which values the environment set, and only those;
 * the webhook secret from the environment stays hidden too. */
static void test_dump_marks_values_from_the_environment(void **state)
{
        const char *path = "/tmp/cxone-test-config-env.conf";
        cxw_config_t *cfg;
        char *dump, *env = NULL;
        size_t env_len = 0;
        FILE *f;

        (void)state;
        write_file(path, "kafka = { group_id = \"from-file\"; };\n");
        setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092", 1);
        setenv("CXONE_RATE_LIMIT_RPS", "7", 1);
        setenv("CXONE_WEBHOOK_SECRET", "Hook-Secret-91", 1);
        cfg = load_clean(path, CXW_CONFIG_FOR_CTL);
        dump = dump_to_string(cfg);
        assert_non_null(strstr(
            dump,
            "kafka.bootstrap_servers = \"k1:9092\"  # env KAFKA_BOOTSTRAP_SERVERS\n"));
        assert_non_null(strstr(dump, "rate.rps = 7  # env CXONE_RATE_LIMIT_RPS\n"));
        assert_non_null(
            strstr(dump, "webhooks.secret = (set)  # env CXONE_WEBHOOK_SECRET\n"));
        assert_non_null(strstr(dump, "kafka.group_id = \"from-file\"\n"));
        assert_non_null(strstr(dump, "http.max_in_flight = 64\n"));
        assert_non_null(strstr(dump, "cxone.client_secret = (unset)\n"));
        assert_null(strstr(dump, "Hook-Secret"));
        free(dump);
        cxw_config_destroy(cfg);
        unlink(path);
        clear_env(NULL);

        /* Every variable of the table, with its key, for --help. */
        f = open_memstream(&env, &env_len);
        assert_non_null(f);
        cxw_config_print_env(f, "  ");
        fclose(f);
        for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
                if (!strstr(env, env_vars[i]))
                        fail_msg("%s is not listed:\n%s", env_vars[i], env);
        assert_non_null(strstr(env, "CXONE_WEBHOOK_SECRET"));
        assert_non_null(strstr(env, " webhooks.secret\n"));
        free(env);
}

/* ---- the example config and the documentation -------------------------- */

static void test_example_config_loads_clean_and_sets_every_key(void **state)
{
        cxw_config_t *cfg;
        config_t lc;
        char *dump, *line, *save = NULL;
        size_t keys = 0;

        (void)state;
        cxw_config_destroy(load_clean(EXAMPLE_CONF, CXW_CONFIG_FOR_CTL));
        setenv("CXONE_CLIENT_SECRET", "example-secret", 1);
        cfg = load_clean(EXAMPLE_CONF, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->client_id, "test-client");
        clear_env(NULL);

        /* Every key of the table (the dump lists them all) is in the file,
         * except the secret files, which are commented out. */
        config_init(&lc);
        assert_int_equal(config_read_file(&lc, EXAMPLE_CONF), CONFIG_TRUE);
        dump = dump_to_string(cfg);
        for (line = strtok_r(dump, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *eq = strstr(line, " = ");

                if (line[0] == '#' || !eq)
                        continue;
                *eq = '\0';
                keys++;
                if (!strcmp(line, "cxone.client_secret_file") ||
                    !strcmp(line, "rate.peer_secret_file") ||
                    !strcmp(line, "cxone.access_key_secret_file"))
                        continue;
                if (!config_lookup(&lc, line))
                        fail_msg("%s lacks the key %s", EXAMPLE_CONF, line);
        }
        assert_true(keys > 40);
        free(dump);
        config_destroy(&lc);
        cxw_config_destroy(cfg);
}

/* The seed profile is the default and keeps every key as it was. */
/* The example's header says every key has its default value but
 * kafka.consumer_properties and cxone.client_id: the effective
 * configuration differs from the defaults' in those two lines only. */
static void test_example_config_values_are_the_defaults(void **state)
{
        cxw_config_t *def, *ex;
        char *a, *b, *la, *lb, *sa = NULL, *sb = NULL;
        size_t diffs = 0;

        (void)state;
        def = load_clean(NULL, CXW_CONFIG_FOR_CTL);
        ex = load_clean(EXAMPLE_CONF, CXW_CONFIG_FOR_CTL);
        a = dump_to_string(def);
        b = dump_to_string(ex);
        la = strtok_r(a, "\n", &sa);
        lb = strtok_r(b, "\n", &sb);
        for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
                if (!strcmp(la, lb) || !strncmp(la, "# source: ", 10))
                        continue;
                diffs++;
                if (strncmp(lb, "kafka.consumer_properties = ", 28) != 0 &&
                    strncmp(lb, "cxone.client_id = ", 18) != 0)
                        fail_msg("%s sets '%s', the default is '%s'", EXAMPLE_CONF, lb,
                                 la);
        }
        assert_null(la);
        assert_null(lb);
        assert_int_equal(diffs, 2);
        free(a);
        free(b);
        cxw_config_destroy(def);
        cxw_config_destroy(ex);
}

static void test_profile_seed_is_default_and_unchanged(void **state)
{
        cxw_config_t *cfg;

        (void)state;
        setenv("CXONE_CLIENT_ID", "id", 1);
        setenv("CXONE_CLIENT_SECRET", "s", 1);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->profile, "seed");
        assert_string_equal(cfg->auth_grant, "client_credentials");
        assert_string_equal(cfg->client_auth, "basic");
        assert_string_equal(cfg->contacts_target, "seed");
        assert_string_equal(cfg->admin_prefix, "");
        assert_string_equal(cfg->token_url, "http://127.0.0.1:8080/oauth/token");
        assert_true(cfg->schedules_enabled);
        assert_int_equal(cfg->rate_retry_after_missing_ms, 0);
        assert_string_equal(cfg->sched_job_id_field, "jobId");
        assert_string_equal(cfg->sched_done_value, "COMPLETED");
        cxw_config_destroy(cfg);
}

/* CXONE_PROFILE=cxone presets its keys; the file and the environment
 * still win over each preset. */
static void test_profile_cxone_presets_and_overrides(void **state)
{
        cxw_config_t *cfg;
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        int fd;
        FILE *f;

        (void)state;
        setenv("CXONE_PROFILE", "cxone", 1);
        setenv("CXONE_ISSUER_URL", "https://cxone.example.com", 1);
        setenv("CXONE_CLIENT_ID", "app", 1);
        setenv("CXONE_CLIENT_SECRET", "appsecret", 1);
        setenv("CXONE_ACCESS_KEY_ID", "AKID", 1);
        setenv("CXONE_ACCESS_KEY_SECRET", "aks", 1);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->profile, "cxone");
        assert_string_equal(cfg->auth_grant, "password");
        assert_string_equal(cfg->contacts_target, "dfo-custom-fields");
        assert_string_equal(cfg->admin_prefix, "/inContactAPI/services/v30.0");
        assert_string_equal(cfg->base_url, "");  /* discovered */
        assert_string_equal(cfg->token_url, ""); /* discovered */
        assert_false(cfg->schedules_enabled);
        assert_int_equal(cfg->rate_retry_after_missing_ms, 1000);
        assert_string_equal(cfg->access_key_secret, "aks");
        cxw_config_destroy(cfg);

        /* A file's value beats the preset; the environment beats both. */
        fd = mkstemp(path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        fputs("cxone = { admin_prefix = \"/v2\"; schedules = { enabled = true; };\n"
              "  auth = { client_auth = \"post\"; }; };\n"
              "rate = { retry_after_missing_ms = 250; };\n",
              f);
        fclose(f);
        setenv("CXONE_BASE_URL", "https://api.example.com", 1);
        setenv("CXONE_CONTACTS_TARGET", "seed", 1);
        cfg = load_clean(path, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->admin_prefix, "/v2");
        assert_true(cfg->schedules_enabled);
        assert_string_equal(cfg->client_auth, "post");
        assert_int_equal(cfg->rate_retry_after_missing_ms, 250);
        assert_string_equal(cfg->base_url, "https://api.example.com");
        assert_string_equal(cfg->contacts_target, "seed");
        cxw_config_destroy(cfg);
        unlink(path);
}

/* What discovery cannot give must be set; a bad word is named. */
static void test_profile_cxone_problems_are_named(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;

        (void)state;
        setenv("CXONE_PROFILE", "cxone", 1);
        setenv("CXONE_CLIENT_ID", "app", 1);
        setenv("CXONE_CLIENT_SECRET", "appsecret", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(has_err(&errs, "cxone.base_url", "cxone.issuer_url", NULL));
        assert_true(has_err(&errs, "cxone.dfo_base_url", NULL));
        assert_true(has_err(&errs, "cxone.access_key_id", "password", NULL));
        assert_true(has_err(&errs, "CXONE_ACCESS_KEY_SECRET_FILE", NULL));
        cxw_config_destroy(cfg);
        cxw_config_errors_clear(&errs);

        setenv("CXONE_PROFILE", "prod", 1);
        setenv("CXONE_ISSUER_URL", "http://cxone.example.com", 1);
        setenv("CXONE_TENANT_ID", "a/b", 1);
        setenv("CXONE_CA_FILE", "/nonexistent/ca.pem", 1);
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(
            has_err(&errs, "CXONE_PROFILE", "'prod' is not one of seed, cxone", NULL));
        assert_true(has_err(&errs, "CXONE_ISSUER_URL", "clear", NULL));
        assert_true(has_err(&errs, "CXONE_TENANT_ID", "a/b", NULL));
        assert_true(has_err(&errs, "CXONE_CA_FILE", "not a readable file", NULL));
        cxw_config_destroy(cfg);
        cxw_config_errors_clear(&errs);
}

/* The ident map: field=ident, a field allowed, an ident well-formed. */
static void test_idents_map_is_checked(void **state)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char path[] = "/tmp/cxw-test-conf-XXXXXX";
        int fd = mkstemp(path);
        FILE *f;

        (void)state;
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        fputs("cxone = { client_id = \"c\"; client_secret = \"s\";\n"
              "  contacts = { idents = [ \"firstName=first_name\", \"phone=ph\",\n"
              "    \"email=e mail\", \"firstName=x\", \"nothing\" ]; }; };\n",
              f);
        fclose(f);
        cfg = cxw_config_load(path, CXW_CONFIG_FOR_WORKER, &errs);
        assert_true(
            has_err(&errs, "item 2", "'phone' is not in cxone.contacts.fields", NULL));
        assert_true(has_err(&errs, "item 3", "ident 'e mail'", NULL));
        assert_true(has_err(&errs, "item 4", "mapped twice", NULL));
        assert_true(has_err(&errs, "item 5", "not field=ident", NULL));
        assert_int_equal(errs.cnt, 4);
        cxw_config_destroy(cfg);
        cxw_config_errors_clear(&errs);
        unlink(path);
}

/* The access key secret, from the environment or a file, is never shown. */
static void test_access_key_secret_never_shown(void **state)
{
        char path[] = "/tmp/cxw-test-aks-XXXXXX";
        int fd = mkstemp(path);
        cxw_config_t *cfg;
        char *dump;

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "Fi1e+Secret/=:%\n", 16), 16);
        close(fd);
        setenv("CXONE_PROFILE", "cxone", 1);
        setenv("CXONE_ISSUER_URL", "https://cxone.example.com", 1);
        setenv("CXONE_CLIENT_ID", "app", 1);
        setenv("CXONE_CLIENT_SECRET", "appsecret", 1);
        setenv("CXONE_ACCESS_KEY_ID", "AKID", 1);
        setenv("CXONE_ACCESS_KEY_SECRET_FILE", path, 1);
        cfg = load_clean(NULL, CXW_CONFIG_FOR_WORKER);
        assert_string_equal(cfg->access_key_secret, "Fi1e+Secret/=:%");
        dump = dump_to_string(cfg);
        assert_null(strstr(dump, "Fi1e+Secret"));
        assert_null(strstr(dump, "appsecret"));
        assert_non_null(strstr(dump, "cxone.access_key_secret = (set)"));
        free(dump);
        cxw_config_destroy(cfg);
        unlink(path);
}

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "r");
        char *buf;
        long len;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = calloc(1, (size_t)len + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        return buf;
}

static void test_docs_match_the_table(void **state)
{
        char *doc = read_all(DOC_FILE);
        char *gen = NULL, *begin, *end;
        size_t gen_len = 0;
        FILE *f;

        (void)state;
        f = open_memstream(&gen, &gen_len);
        assert_non_null(f);
        cxw_config_print_reference(f);
        fclose(f);
        assert_true(gen_len > 0);
        if (!doc)
                fail_msg("cannot read %s", DOC_FILE);
        begin = strstr(doc, DOC_BEGIN);
        end = begin ? strstr(begin, DOC_END) : NULL;
        if (!begin || !end)
                fail_msg("%s lacks the markers %s / %s", DOC_FILE,
                         "<!-- BEGIN GENERATED -->", DOC_END);
        begin += strlen(DOC_BEGIN);
        if ((size_t)(end - begin) != gen_len || memcmp(begin, gen, gen_len) != 0) {
                FILE *out = fopen(DOC_EXPECTED, "w");

                if (out) {
                        fwrite(gen, 1, gen_len, out);
                        fclose(out);
                }
                fail_msg(
                    "docs/configuration.md is out of date with the table in "
                    "src/lib/base/config_table.c. Regenerate: the expected text is in "
                    "%s; "
                    "replace the "
                    "lines between '<!-- BEGIN GENERATED -->' and '<!-- END GENERATED "
                    "-->' with it, e.g.\n  sed -i -e '/<!-- BEGIN GENERATED -->/,/<!-- "
                    "END "
                    "GENERATED -->/{//!d}' -e '/<!-- BEGIN GENERATED -->/r %s' "
                    "docs/configuration.md",
                    DOC_EXPECTED, DOC_EXPECTED);
        }
        free(gen);
        free(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup(test_defaults_without_file_match_the_contract,
                                   clear_env),
            cmocka_unit_test_setup(test_defaults_lack_credentials_for_worker_but_suit_ctl,
                                   clear_env),
            cmocka_unit_test_setup(test_good_file_fills_every_field_type, clear_env),
            cmocka_unit_test_setup(test_env_overrides_win_over_the_file, clear_env),
            cmocka_unit_test_setup(test_env_value_that_does_not_parse_names_the_variable,
                                   clear_env),
            cmocka_unit_test_setup(test_secret_file_is_read_and_one_newline_stripped,
                                   clear_env),
            cmocka_unit_test_setup(
                test_secret_file_problems_name_the_path_not_the_content, clear_env),
            cmocka_unit_test_setup(test_syntax_error_names_file_and_line, clear_env),
            cmocka_unit_test_setup(test_syntax_error_is_the_only_problem_reported,
                                   clear_env),
            cmocka_unit_test_setup(test_unknown_keys_name_key_and_line_with_a_hint,
                                   clear_env),
            cmocka_unit_test_setup(test_wrong_types_name_key_and_line, clear_env),
            cmocka_unit_test_setup(test_out_of_range_names_key_line_and_range, clear_env),
            cmocka_unit_test_setup(test_bad_urls_are_rejected_for_the_worker, clear_env),
            cmocka_unit_test_setup(test_url_shapes, clear_env),
            cmocka_unit_test_setup(test_cleartext_http_only_to_loopback, clear_env),
            cmocka_unit_test_setup(test_bad_kafka_properties_name_key_and_line,
                                   clear_env),
            cmocka_unit_test_setup(test_several_problems_in_one_file_are_all_reported,
                                   clear_env),
            cmocka_unit_test_setup(test_worker_checks_on_contacts, clear_env),
            cmocka_unit_test_setup(
                test_schedule_value_lists_default_to_the_seeds_and_are_checked,
                clear_env),
            cmocka_unit_test_setup(test_max_message_bytes_fits_the_producer, clear_env),
            cmocka_unit_test_setup(test_problem_list_is_bounded, clear_env),
            cmocka_unit_test_setup(test_secret_never_appears_in_errors_or_dump,
                                   clear_env),
            cmocka_unit_test_setup(test_peer_secret_from_env_or_file_never_shown,
                                   clear_env),
            cmocka_unit_test_setup(test_example_config_loads_clean_and_sets_every_key,
                                   clear_env),
            cmocka_unit_test_setup(test_example_config_values_are_the_defaults,
                                   clear_env),
            cmocka_unit_test_setup(test_docs_match_the_table, clear_env),
            cmocka_unit_test_setup(test_dump_marks_values_from_the_environment,
                                   clear_env),
            cmocka_unit_test_setup(test_dump_hides_kafka_secrets, clear_env),
            cmocka_unit_test_setup(test_secret_file_readable_by_others_is_warned,
                                   clear_env),
            cmocka_unit_test_setup(test_profile_seed_is_default_and_unchanged, clear_env),
            cmocka_unit_test_setup(test_profile_cxone_presets_and_overrides, clear_env),
            cmocka_unit_test_setup(test_profile_cxone_problems_are_named, clear_env),
            cmocka_unit_test_setup(test_idents_map_is_checked, clear_env),
            cmocka_unit_test_setup(test_access_key_secret_never_shown, clear_env),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
