/* test_http.c: the HTTP client driven by the loop against a small
 * keep-alive HTTP/1.1 server on 127.0.0.1 in a thread of the test: many
 * calls at once through few connections, the waiting queue, response
 * fields, a request timeout, timers and wakeups firing while calls run, and
 * destroy with calls in flight. Every wait is bounded; no timing is
 * asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cxone/io/http.h"
#include "cxone/io/loop.h"
#include "cxone/base/util.h"

#define SERVER_DEADLINE_MS 60000
#define MAX_CLIENTS        64
#define ROUNDS_MAX         200000

/* ---- server (its own thread) ---- */

typedef struct client_s {
        int fd;
        char buf[8192];
        size_t len;
} client_t;

typedef struct server_s {
        int lfd;
        int port;
        pthread_t thread;
        atomic_int stop;
        atomic_int requests;
        atomic_int max_clients; /* most connections open at once */
        client_t c[MAX_CLIENTS];
} server_t;

/* Answers each complete request: 200, the body = method + " " + path + " "
 * + the request body; "/ratelimited" answers 429 with Retry-After; "/hang"
 * is never answered. */
static void serve_requests(server_t *s, client_t *c)
{
        for (;;) {
                char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
                char method[16], path[256], body[512], resp[1024];
                size_t head, clen = 0, total;
                const char *cl;
                int n;

                if (!end)
                        return;
                head = (size_t)(end - c->buf) + 4;
                c->buf[head - 1] = '\0';
                cl = strcasestr(c->buf, "\r\ncontent-length:");
                if (cl)
                        clen = strtoul(cl + 17, NULL, 10);
                if (head + clen > c->len) {
                        c->buf[head - 1] = '\n';
                        return;
                }
                total = head + clen;
                if (sscanf(c->buf, "%15s %255s", method, path) != 2)
                        return;
                atomic_fetch_add(&s->requests, 1);
                if (clen >= sizeof(body))
                        clen = sizeof(body) - 1;
                memcpy(body, c->buf + head, clen);
                body[clen] = '\0';
                if (strcmp(path, "/hang") == 0) {
                        n = 0;
                } else if (strcmp(path, "/ratelimited") == 0) {
                        n = snprintf(resp, sizeof(resp),
                                     "HTTP/1.1 429 Too Many Requests\r\nRetry-After:  "
                                     "7 \r\nContent-Length: 0\r\n\r\n");
                } else {
                        char out[800];
                        int m =
                            snprintf(out, sizeof(out), "%s %s %s", method, path, body);
                        n = snprintf(resp, sizeof(resp),
                                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     "Content-Length: %d\r\n\r\n%s",
                                     m, out);
                }
                if (n > 0 && write(c->fd, resp, (size_t)n) != n)
                        return;
                memmove(c->buf, c->buf + total, c->len - total);
                c->len -= total;
        }
}

static void *server_main(void *arg)
{
        server_t *s = arg;
        int64_t deadline = cxw_now_ms() + SERVER_DEADLINE_MS;

        while (!atomic_load(&s->stop) && cxw_now_ms() < deadline) {
                struct pollfd p[MAX_CLIENTS + 1];
                int idx[MAX_CLIENTS + 1];
                int n = 0, open = 0;

                p[n].fd = s->lfd;
                p[n].events = POLLIN;
                idx[n++] = -1;
                for (int i = 0; i < MAX_CLIENTS; i++) {
                        if (s->c[i].fd < 0)
                                continue;
                        open++;
                        p[n].fd = s->c[i].fd;
                        p[n].events = POLLIN;
                        idx[n++] = i;
                }
                if (open > atomic_load(&s->max_clients))
                        atomic_store(&s->max_clients, open);
                if (poll(p, (nfds_t)n, 50) <= 0)
                        continue;
                for (int k = 0; k < n; k++) {
                        if (!p[k].revents)
                                continue;
                        if (idx[k] < 0) {
                                int fd = accept(s->lfd, NULL, NULL);
                                int placed = 0;
                                for (int i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
                                        if (s->c[i].fd < 0) {
                                                s->c[i].fd = fd;
                                                s->c[i].len = 0;
                                                placed = 1;
                                                break;
                                        }
                                if (fd >= 0 && !placed)
                                        close(fd);
                                continue;
                        }
                        client_t *c = &s->c[idx[k]];
                        ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
                        if (r <= 0) {
                                close(c->fd);
                                c->fd = -1;
                                continue;
                        }
                        c->len += (size_t)r;
                        serve_requests(s, c);
                }
        }
        return NULL;
}

static server_t *server_start(void)
{
        server_t *s = calloc(1, sizeof(*s));
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);

        assert_non_null(s);
        for (int i = 0; i < MAX_CLIENTS; i++)
                s->c[i].fd = -1;
        s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->lfd >= 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->lfd, 128), 0);
        assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
        return s;
}

static void server_stop(server_t *s)
{
        atomic_store(&s->stop, 1);
        pthread_join(s->thread, NULL);
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (s->c[i].fd >= 0)
                        close(s->c[i].fd);
        close(s->lfd);
        free(s);
}

/* ---- client side (the test's thread) ---- */

typedef struct call_s {
        int done;
        long status;
        int transport_error;
        char body[256];
        char retry_after[32];
        int64_t sent_ms;
        int64_t elapsed_ms;
        const char *body_at; /* where the client kept the body */
        size_t body_len;
} call_t;

static void call_cb(const cxw_http_response_t *r, void *opaque)
{
        call_t *c = opaque;

        c->done++;
        c->status = r->status;
        c->transport_error = r->transport_error;
        snprintf(c->body, sizeof(c->body), "%s", r->body);
        snprintf(c->retry_after, sizeof(c->retry_after), "%s",
                 r->retry_after ? r->retry_after : "");
        c->sent_ms = r->sent_ms;
        c->elapsed_ms = r->elapsed_ms;
        c->body_at = r->body;
        c->body_len = r->body_len;
}

typedef struct env_s {
        server_t *srv;
        cxw_http_t *http;
        cxw_loop_t *loop;
} env_t;

static void env_init(env_t *e, int max_connections)
{
        cxw_http_conf_t conf = {5000, 10000, 200, max_connections, NULL};
        char err[256];

        e->srv = server_start();
        e->http = cxw_http_new(&conf, err, sizeof(err));
        assert_non_null(e->http);
        e->loop = cxw_loop_new(cxw_http_multi(e->http), err, sizeof(err));
        assert_non_null(e->loop);
}

/* the worker's order: the HTTP client (and its multi) before the loop */
static void env_free(env_t *e)
{
        cxw_http_destroy(e->http);
        cxw_loop_destroy(e->loop);
        server_stop(e->srv);
}

static void start_req(env_t *e, const char *method, const char *path, const char *body,
                      int timeout_ms, int sensitive, call_t *c)
{
        char url[128];
        cxw_http_request_t req;

        memset(&req, 0, sizeof(req));
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", e->srv->port, path);
        req.method = method;
        req.url = url;
        req.authorization = "Authorization: Bearer t0ken";
        req.content_type = body ? "application/json" : NULL;
        req.body = body;
        req.body_len = body ? strlen(body) : 0;
        req.timeout_ms = timeout_ms;
        req.sensitive = sensitive;
        assert_int_equal(cxw_http_start(e->http, &req, call_cb, c), 0);
}

static void start(env_t *e, const char *method, const char *path, const char *body,
                  int timeout_ms, call_t *c)
{
        start_req(e, method, path, body, timeout_ms, 0, c);
}

static void run_until_idle(env_t *e)
{
        for (int r = 0; r < ROUNDS_MAX && cxw_http_in_flight(e->http) > 0; r++) {
                assert_int_equal(cxw_loop_run_once(e->loop, 100), 0);
                cxw_http_perform(e->http);
        }
        assert_int_equal(cxw_http_in_flight(e->http), 0);
}

#define NCALLS 300

static void test_many_calls_few_connections(void **state)
{
        env_t e;
        call_t *c = calloc(NCALLS, sizeof(*c));
        char path[64], body[64], want[160];

        (void)state;
        assert_non_null(c);
        env_init(&e, 8);
        for (int i = 0; i < NCALLS; i++) {
                snprintf(path, sizeof(path), "/api/v2/contacts/c-%d", i);
                snprintf(body, sizeof(body), "{\"n\":%d}", i);
                start(&e, i % 3 ? "PATCH" : "GET", path, i % 3 ? body : NULL, 0, &c[i]);
        }
        assert_int_equal(cxw_http_in_flight(e.http), NCALLS);
        assert_int_equal(cxw_http_waiting(e.http), NCALLS - 8);
        for (int i = 0; i < NCALLS; i++)
                assert_int_equal(c[i].done, 0); /* never from inside start */
        run_until_idle(&e);
        for (int i = 0; i < NCALLS; i++) {
                assert_int_equal(c[i].done, 1);
                assert_int_equal(c[i].transport_error, 0);
                assert_int_equal(c[i].status, 200);
                if (i % 3)
                        snprintf(want, sizeof(want),
                                 "PATCH /api/v2/contacts/c-%d {\"n\":%d}", i, i);
                else
                        snprintf(want, sizeof(want), "GET /api/v2/contacts/c-%d ", i);
                assert_string_equal(c[i].body, want);
                assert_true(c[i].elapsed_ms >= 0);
                assert_true(c[i].sent_ms > 0);
        }
        assert_int_equal(atomic_load(&e.srv->requests), NCALLS);
        /* keep-alive: never more connections than max_connections */
        assert_true(atomic_load(&e.srv->max_clients) <= 8);
        env_free(&e);
        free(c);
}

static void test_retry_after_and_timeout(void **state)
{
        env_t e;
        call_t limited, hang, ok;

        (void)state;
        memset(&limited, 0, sizeof(limited));
        memset(&hang, 0, sizeof(hang));
        memset(&ok, 0, sizeof(ok));
        env_init(&e, 4);
        start(&e, "POST", "/ratelimited", "{}", 0, &limited);
        start(&e, "GET", "/hang", NULL, 200, &hang);
        start(&e, "GET", "/after", NULL, 0, &ok);
        run_until_idle(&e);
        assert_int_equal(limited.status, 429);
        assert_string_equal(limited.retry_after, "7");
        assert_int_equal(hang.done, 1);
        assert_int_equal(hang.status, 0);
        assert_int_equal(hang.transport_error, 28); /* CURLE_OPERATION_TIMEDOUT */
        assert_int_equal(ok.status, 200);
        assert_string_equal(ok.retry_after, "");
        env_free(&e);
}

typedef struct ticker_s {
        cxw_timer_t t;
        int fired;
        int wakeups;
} ticker_t;

static void tick(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        ticker_t *k = opaque;

        k->fired++;
        cxw_timer_start(loop, t, cxw_now_ms() + 1, tick, k);
}

static void on_wakeup(cxw_loop_t *loop, int fd, void *opaque)
{
        ticker_t *k = opaque;

        (void)loop;
        (void)fd;
        k->wakeups++;
}

static void test_timers_and_wakeups_during_calls(void **state)
{
        env_t e;
        call_t hang, ok[20];
        ticker_t k;
        int r;

        (void)state;
        memset(&k, 0, sizeof(k));
        memset(&hang, 0, sizeof(hang));
        memset(ok, 0, sizeof(ok));
        env_init(&e, 4);
        cxw_loop_on_wakeup(e.loop, on_wakeup, &k);
        cxw_timer_start(e.loop, &k.t, cxw_now_ms() + 1, tick, &k);
        start(&e, "GET", "/hang", NULL, 0, &hang); /* holds a connection */
        for (int i = 0; i < 20; i++)
                start(&e, "GET", "/x", NULL, 0, &ok[i]);
        for (r = 0; r < ROUNDS_MAX && (cxw_http_in_flight(e.http) > 1 || k.fired < 3);
             r++) {
                if (r % 50 == 0)
                        cxw_loop_wakeup(e.loop);
                assert_int_equal(cxw_loop_run_once(e.loop, 100), 0);
                cxw_http_perform(e.http);
        }
        for (int i = 0; i < 20; i++)
                assert_int_equal(ok[i].status, 200);
        assert_true(k.fired >= 3);
        assert_true(k.wakeups >= 1);
        /* destroy with a call in flight: no callback, nothing leaked */
        assert_int_equal(cxw_http_in_flight(e.http), 1);
        assert_int_equal(hang.done, 0);
        cxw_timer_stop(e.loop, &k.t);
        env_free(&e);
        assert_int_equal(hang.done, 0);
}

/* Security finding 2: libcurl must send the path the worker built, dot
 * segments included, never a normalised one (".." would reach another URL:
 * "/api/v2/contacts/.." became "/api/v2/"). */
static void test_path_sent_as_is(void **state)
{
        static const char *const paths[] = {
            "/a/../b",
            "/api/v2/contacts/..",
            "/api/v2/contacts/.",
            "/api/v2/wfm/async-jobs/../../x",
        };
        enum { N = sizeof(paths) / sizeof(paths[0]) };
        call_t c[N];
        char want[300];
        env_t e;

        (void)state;
        memset(c, 0, sizeof(c));
        env_init(&e, 2);
        for (int i = 0; i < N; i++)
                start(&e, i % 2 ? "PATCH" : "GET", paths[i], i % 2 ? "{}" : NULL, 0,
                      &c[i]);
        run_until_idle(&e);
        for (int i = 0; i < N; i++) {
                assert_int_equal(c[i].status, 200);
                snprintf(want, sizeof(want), "%s %s %s", i % 2 ? "PATCH" : "GET",
                         paths[i], i % 2 ? "{}" : "");
                assert_string_equal(c[i].body, want);
        }
        env_free(&e);
}

/* Security finding 8: the body of a sensitive call (the token endpoint's
 * answer) is wiped once its callback has returned; the buffer stays
 * allocated for reuse, so it can be looked at here. An ordinary call's
 * body is left alone. */
static void test_sensitive_body_wiped_after_callback(void **state)
{
        call_t sec, plain;
        env_t e;

        (void)state;
        memset(&sec, 0, sizeof(sec));
        memset(&plain, 0, sizeof(plain));
        env_init(&e, 1);
        start_req(&e, "POST", "/oauth/token", "ACCESS-TOKEN-SECRET", 0, 1, &sec);
        run_until_idle(&e);
        assert_int_equal(sec.status, 200);
        assert_string_equal(sec.body, "POST /oauth/token ACCESS-TOKEN-SECRET");
        assert_non_null(sec.body_at);
        assert_true(sec.body_len > 0);
        for (size_t i = 0; i < sec.body_len; i++)
                assert_int_equal(sec.body_at[i], 0);
        /* the same (reused) call, not sensitive: the body is kept as it was */
        start_req(&e, "POST", "/plain", "NOT-SECRET", 0, 0, &plain);
        run_until_idle(&e);
        assert_ptr_equal(plain.body_at, sec.body_at);
        assert_memory_equal(plain.body_at, "POST /plain NOT-SECRET", plain.body_len);
        env_free(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_many_calls_few_connections),
            cmocka_unit_test(test_retry_after_and_timeout),
            cmocka_unit_test(test_timers_and_wakeups_during_calls),
            cmocka_unit_test(test_path_sent_as_is),
            cmocka_unit_test(test_sensitive_body_wiped_after_callback),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return rc;
}
