/* test_httpd.c: a cxw_httpd daemon on 127.0.0.1 with its own thread, asked
 * with libcurl: the body is kept up to the cap, an early answer skips serve,
 * answers carry status, type, body and headers, end sees every request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cxone/io/httpd.h"

#define CAP 100

typedef struct {
        atomic_int served, ended;
        char seen[256]; /* what serve saw last: "len too_large header body" */
} state_t;

static enum MHD_Result begin(void *opaque, cxw_httpd_req_t *req, const char *method,
                             const char *url)
{
        (void)opaque;
        (void)method;
        if (strcmp(url, "/early") == 0)
                return cxw_httpd_reply(req, 404, "text/plain", "early\n", 6,
                                       CXW_HTTPD_STATIC, NULL);
        if (strcmp(url, "/close") == 0)
                return MHD_NO;
        req->body_max = CAP;
        return MHD_YES;
}

static enum MHD_Result serve(void *opaque, cxw_httpd_req_t *req)
{
        state_t *st = opaque;
        const char *h = cxw_httpd_header(req, "x-test"); /* any case */
        const char *hdrs[] = {"X-Answer", "42", "X-Skipped", NULL, NULL};
        char *body = strdup(req->too_large ? "too large" : "ok");

        snprintf(st->seen, sizeof(st->seen), "%zu %d %s %s", req->len, req->too_large,
                 h ? h : "-", req->body ? req->body : "-");
        atomic_fetch_add(&st->served, 1);
        return cxw_httpd_reply(req, req->too_large ? 413 : 200, "application/json", body,
                               strlen(body), CXW_HTTPD_TAKE, hdrs);
}

static void end(void *opaque, cxw_httpd_req_t *req)
{
        state_t *st = opaque;

        (void)req;
        atomic_fetch_add(&st->ended, 1);
}

typedef struct {
        char buf[256];
        size_t len;
} sink_t;

static size_t on_data(char *p, size_t size, size_t n, void *opaque)
{
        sink_t *s = opaque;
        size_t k = size * n;

        if (k > sizeof(s->buf) - 1 - s->len)
                k = sizeof(s->buf) - 1 - s->len;
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->buf[s->len] = '\0';
        return size * n;
}

/* Asks the daemon; returns the status (0 on a transport error). */
static long ask(int port, const char *path, const char *body, sink_t *out, sink_t *hdrs)
{
        CURL *c = curl_easy_init();
        struct curl_slist *h = curl_slist_append(NULL, "X-Test: hello");
        char url[128];
        long status = 0;

        memset(out, 0, sizeof(*out));
        memset(hdrs, 0, sizeof(*hdrs));
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, hdrs);
        if (body)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return status;
}

static cxw_httpd_t *start(state_t *st)
{
        cxw_httpd_config_t cfg = {
            .name = "test",
            .listen = "127.0.0.1:0",
            .threads = 1,
            .limits = {.max_connections = 8, .backlog = 8, .timeout_s = 10},
            .begin = begin,
            .serve = serve,
            .end = end,
            .opaque = st,
        };
        char err[256];
        cxw_httpd_t *h = cxw_httpd_start(&cfg, err, sizeof(err));

        if (!h)
                fail_msg("start: %s", err);
        assert_true(cxw_httpd_port(h) > 0);
        assert_int_equal(cxw_httpd_fd(h), -1); /* not external */
        return h;
}

static void body_header_and_answer_round_trip(void **state)
{
        state_t st = {0};
        cxw_httpd_t *h = start(&st);
        sink_t out, hdrs;

        (void)state;
        assert_int_equal(ask(cxw_httpd_port(h), "/x", "{\"a\":1}", &out, &hdrs), 200);
        assert_string_equal(out.buf, "ok");
        assert_string_equal(st.seen, "7 0 hello {\"a\":1}");
        assert_non_null(strstr(hdrs.buf, "X-Answer: 42"));
        assert_null(strstr(hdrs.buf, "X-Skipped"));
        assert_non_null(strstr(hdrs.buf, "Content-Type: application/json"));
        cxw_httpd_stop(h);
        assert_int_equal(atomic_load(&st.served), 1);
        assert_int_equal(atomic_load(&st.ended), 1);
}

static void body_past_the_cap_is_flagged_not_kept(void **state)
{
        state_t st = {0};
        cxw_httpd_t *h = start(&st);
        char big[CAP + 2];
        sink_t out, hdrs;

        (void)state;
        memset(big, 'b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(ask(cxw_httpd_port(h), "/x", big, &out, &hdrs), 413);
        assert_string_equal(st.seen, "0 1 hello -");
        big[CAP] = '\0'; /* exactly the cap: kept */
        assert_int_equal(ask(cxw_httpd_port(h), "/x", big, &out, &hdrs), 200);
        assert_int_equal(atoi(st.seen), CAP);
        cxw_httpd_stop(h);
}

static void early_answer_skips_serve_and_no_means_close(void **state)
{
        state_t st = {0};
        cxw_httpd_t *h = start(&st);
        sink_t out, hdrs;

        (void)state;
        assert_int_equal(ask(cxw_httpd_port(h), "/early", "ignored body", &out, &hdrs),
                         404);
        assert_string_equal(out.buf, "early\n");
        assert_int_equal(ask(cxw_httpd_port(h), "/close", NULL, &out, &hdrs), 0);
        cxw_httpd_stop(h);
        assert_int_equal(atomic_load(&st.served), 0);
        assert_int_equal(atomic_load(&st.ended), 2);
}

static void bad_listen_addresses_are_explained(void **state)
{
        const char *bad[] = {"", "nocolon", "127.0.0.1:99999", "[::1]8080", "1.2.3.4:x"};
        cxw_httpd_config_t cfg = {
            .name = "test", .threads = 1, .begin = begin, .serve = serve};
        char err[256];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                cfg.listen = bad[i];
                assert_null(cxw_httpd_start(&cfg, err, sizeof(err)));
                assert_true(strncmp(err, "test listen", 11) == 0);
        }
        cxw_httpd_stop(NULL);
        assert_int_equal(cxw_httpd_port(NULL), 0);
        assert_int_equal(cxw_httpd_fd(NULL), -1);
        assert_null(cxw_httpd_header(NULL, "x"));
}

/* Starts a daemon on listen with stderr (the log) in a temp file, whose
 * text goes to log. */
static cxw_httpd_t *start_logged(const char *listen, state_t *st, char *log,
                                 size_t log_size)
{
        cxw_httpd_config_t cfg = {
            .name = "test",
            .listen = listen,
            .threads = 1,
            .limits = {.max_connections = 8, .backlog = 8, .timeout_s = 10},
            .begin = begin,
            .serve = serve,
            .opaque = st};
        char path[] = "/tmp/test_httpd_log.XXXXXX", err[256];
        int fd = mkstemp(path), saved = dup(2);
        cxw_httpd_t *h;
        ssize_t n;

        assert_true(fd >= 0 && saved >= 0);
        fflush(stderr);
        dup2(fd, 2);
        h = cxw_httpd_start(&cfg, err, sizeof(err));
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        n = pread(fd, log, log_size - 1, 0);
        log[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
        if (!h)
                fail_msg("start %s: %s", listen, err);
        return h;
}

/* Asks http://host:port/x; returns the status (0 on a transport error). */
static long ask_host(const char *host, int port)
{
        CURL *c = curl_easy_init();
        char url[128];
        long status = 0;
        sink_t out = {0};

        snprintf(url, sizeof(url), "http://%s:%d/x", host, port);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        return status;
}

/* ":PORT" binds every IPv4 interface, never silently: the log says so and
 * names the two explicit forms (security finding 4). "127.0.0.1:PORT" binds
 * loopback's one address without a word: 127.0.0.2 (also loopback on Linux)
 * reaches only the first. */
static void a_port_alone_binds_every_interface_with_a_warning(void **state)
{
        char log[2048];
        state_t st = {0};
        cxw_httpd_t *h;
        int port;

        (void)state;
        h = start_logged(":0", &st, log, sizeof(log));
        port = cxw_httpd_port(h);
        assert_true(port > 0);
        if (!strstr(log, "binds every IPv4 interface"))
                fail_msg("no warning for \":0\" in the log: '%s'", log);
        assert_non_null(strstr(log, "\"level\":\"warn"));
        assert_non_null(strstr(log, "write 0.0.0.0:0"));
        assert_non_null(strstr(log, "127.0.0.1:0"));
        assert_int_equal(ask_host("127.0.0.1", port), 200);
        assert_int_equal(ask_host("127.0.0.2", port), 200);
        cxw_httpd_stop(h);

        h = start_logged("127.0.0.1:0", &st, log, sizeof(log));
        port = cxw_httpd_port(h);
        assert_null(strstr(log, "binds every"));
        assert_int_equal(ask_host("127.0.0.1", port), 200);
        assert_int_equal(ask_host("127.0.0.2", port), 0);
        cxw_httpd_stop(h);
}

/* Bad TLS files stop the start with a message naming the file; the counts
 * of a plain daemon stay at what it saw. */
static void bad_tls_files_are_named(void **state)
{
        cxw_httpd_config_t cfg = {.name = "test",
                                  .listen = "127.0.0.1:0",
                                  .threads = 1,
                                  .begin = begin,
                                  .serve = serve};
        char err[256], junk[] = "/tmp/test_httpd_junk.XXXXXX";
        int fd = mkstemp(junk);
        state_t st = {0};
        cxw_httpd_t *h;
        sink_t out, hdrs;

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "junk\n", 5), 5);
        close(fd);
        cfg.tls_cert_file = junk;
        assert_null(cxw_httpd_start(&cfg, err, sizeof(err)));
        assert_non_null(strstr(err, "go together"));
        cfg.tls_key_file = junk;
        assert_null(cxw_httpd_start(&cfg, err, sizeof(err)));
        assert_non_null(strstr(err, junk));
        assert_non_null(strstr(err, "no PEM certificate"));
        cfg.tls_cert_file = "/nonexistent/cert.pem";
        assert_null(cxw_httpd_start(&cfg, err, sizeof(err)));
        assert_non_null(strstr(err, "/nonexistent/cert.pem"));
        unlink(junk);

        h = start(&st);
        assert_false(cxw_httpd_is_tls(h));
        assert_int_equal(ask(cxw_httpd_port(h), "/x", NULL, &out, &hdrs), 200);
        assert_int_equal(ask(cxw_httpd_port(h), "/x", NULL, &out, &hdrs), 200);
        assert_int_equal(cxw_httpd_connections(h), 2); /* one easy handle each */
        assert_int_equal(cxw_httpd_tls_handshakes(h), 0);
        cxw_httpd_stop(h);
        assert_int_equal(cxw_httpd_connections(NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(body_header_and_answer_round_trip),
            cmocka_unit_test(body_past_the_cap_is_flagged_not_kept),
            cmocka_unit_test(early_answer_skips_serve_and_no_means_close),
            cmocka_unit_test(bad_listen_addresses_are_explained),
            cmocka_unit_test(a_port_alone_binds_every_interface_with_a_warning),
            cmocka_unit_test(bad_tls_files_are_named),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return rc;
}
