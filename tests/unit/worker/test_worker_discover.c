/* test_worker_discover.c: the cxone profile's start on the fakes: the
 * token endpoint from the issuer's OpenID configuration, the password
 * grant, the hosts by the id_token's tenant, then the DFO call; until all
 * is known no call starts and no message fails; a failed discovery is
 * retried after a backoff, never at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#define TC     "t.contacts"
#define ISSUER "https://login.cxone.test"
/* {"alg":"none"} . {"tenantId":"T-42","iss":"https://login.cxone.test"} . sig */
#define ID_TOKEN                                                                         \
        "eyJhbGciOiJub25lIn0.eyJ0ZW5hbnRJZCI6IlQtNDIiLCJpc3MiOiJodHRwczovL2xvZ2luLmN4b2" \
        "5lLnRlc3QifQ.c2ln"

static const char conf[] =
    "kafka = { bootstrap_servers = \"127.0.0.1:1\"; group_id = \"g-test\";\n"
    "  topics = { contact_updates = \"t.contacts\"; schedule_imports = \"t.schedules\";\n"
    "    results = \"t.results\"; audit = \"t.audit\"; dlq = \"t.dlq\"; budget = \"\"; "
    "}; };\n"
    "cxone = { profile = \"cxone\"; issuer_url = \"" ISSUER "\";\n"
    "  client_id = \"app\"; client_secret = \"app+sec\";\n"
    "  access_key_id = \"AK1\"; access_key_secret = \"ak/s=c\";\n"
    "  contacts = { idents = [ \"firstName=first_name\" ]; }; };\n"
    "worker = { id = \"w-test\"; shutdown_deadline_ms = 2000; };\n"
    "retry = { base_delay_ms = 5; max_delay_ms = 40; max_elapsed_ms = 5000; "
    "max_attempts = 3; };\n"
    "rate = { rps = 0; };\n";

static fx_t *start(void)
{
        char path[] = "/tmp/cxw-test-discover-XXXXXX";
        int fd = mkstemp(path);
        cxw_config_errors_t errs = {0};
        fx_t *f = calloc(1, sizeof(*f));
        char err[512];
        sigset_t mask;
        const char *level = getenv("CXW_TEST_LOG");

        assert_true(fd >= 0);
        assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
        close(fd);
        f->cfg = cxw_config_load(path, CXW_CONFIG_FOR_WORKER, &errs);
        unlink(path);
        for (size_t i = 0; i < errs.cnt; i++)
                print_message("config problem: %s\n", errs.v[i]);
        assert_int_equal(errs.cnt, 0);
        cxw_log_set_level(level ? level : "error");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        f->w = cxw_worker_new(f->cfg, err, sizeof(err));
        if (!f->w)
                print_message("cxw_worker_new: %s\n", err);
        assert_non_null(f->w);
        worker_ensure_token(f->w); /* as cxw_worker_run() begins */
        fk_assign(TC, 0);
        return f;
}

static int openid_open(fx_t *f)
{
        (void)f;
        return fh_open("GET", "/.well-known/openid-configuration") != NULL;
}

static void answer_openid(void)
{
        fh_req_t *r = fh_open("GET", "/.well-known/openid-configuration");

        assert_non_null(r);
        assert_string_equal(r->url, ISSUER "/.well-known/openid-configuration");
        assert_null(r->authorization);
        fh_answer(r, 200,
                  "{\"issuer\":\"" ISSUER "\",\"token_endpoint\":\"" ISSUER
                  "/auth/token\"}",
                  NULL);
}

static void test_discovery_login_hosts_then_dfo_call(void **state)
{
        fx_t *f = start();
        char buf[256];
        fh_req_t *r;

        (void)state;
        assert_int_equal(fh_started("POST", NULL), 0); /* no token endpoint yet */
        answer_openid();
        fx_round(f, 0);
        /* a message consumed now waits: no call, no outcome */
        assert_int_equal(
            fk_inject(TC, 0, "c-1", fx_update(buf, sizeof(buf), "c-1", "Ann"), NULL), 0);
        fx_round(f, 0);
        r = fh_open("POST", ISSUER "/auth/token");
        assert_non_null(r);
        assert_string_equal(r->body,
                            "grant_type=password&username=AK1&password=ak%2Fs%3Dc");
        /* base64("app:app%2Bsec") */
        assert_string_equal(r->authorization,
                            "Authorization: Basic YXBwOmFwcCUyQnNlYw==");
        fh_answer(
            r, 200,
            "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
            "\"id_token\":\"" ID_TOKEN "\"}",
            NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        r = fh_open("GET", "/.well-known/cxone-configuration");
        assert_non_null(r);
        assert_string_equal(r->url,
                            ISSUER "/.well-known/cxone-configuration?tenantId=T-42");
        assert_false(worker_endpoints_known(f->w));
        assert_int_equal(fh_started("PUT", NULL), 0);
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        fh_answer(r, 200,
                  "{\"api_endpoint\":\"https://api-c1.cxone.test\",\"area\":\"na1\","
                  "\"domain\":\"cxone.test\"}",
                  NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_true(worker_endpoints_known(f->w));
        assert_string_equal(f->w->api_base,
                            "https://api-c1.cxone.test/inContactAPI/services/v30.0");
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_string_equal(
            r->url, "https://api-de-na1.cxone.test/dfo/3.0/customers/c-1/custom-fields");
        assert_string_equal(r->body, "[{\"ident\":\"first_name\",\"value\":\"Ann\"}]");
        assert_string_equal(r->authorization, "Authorization: Bearer tok-1");
        fh_answer(r, 204, "", NULL);
        fx_round(f, 0);
        assert_int_equal(f->w->stats.succeeded, 1);
        fx_free(f);
}

static void test_failed_discovery_waits_then_retries(void **state)
{
        fx_t *f = start();
        char buf[256];
        fh_req_t *r = fh_open("GET", "/.well-known/openid-configuration");
        int64_t t0;

        (void)state;
        assert_non_null(r);
        assert_int_equal(
            fk_inject(TC, 0, "c-2", fx_update(buf, sizeof(buf), "c-2", "Bo"), NULL), 0);
        fh_answer(r, 503, "{}", NULL);
        t0 = cxw_now_ms();
        fx_round(f, 0);
        assert_non_null(strstr(f->w->disc_error, "HTTP 503"));
        /* not again at once */
        fx_spin(f, 100);
        assert_int_equal(fh_started("GET", "openid-configuration"), 1);
        assert_true(fx_until(f, openid_open, 3000));
        assert_true(cxw_now_ms() - t0 >= 250); /* the backoff's floor */
        assert_int_equal(fh_started("GET", "openid-configuration"), 2);
        /* the message waited, unfailed */
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        assert_int_equal(f->w->njobs, 1);
        fx_free(f);
}

/* A document that would send the credentials elsewhere is refused. */
static void test_token_endpoint_elsewhere_refused(void **state)
{
        fx_t *f = start();
        fh_req_t *r = fh_open("GET", "/.well-known/openid-configuration");

        (void)state;
        fh_answer(r, 200,
                  "{\"issuer\":\"" ISSUER
                  "\",\"token_endpoint\":\"https://evil.test/t\"}",
                  NULL);
        fx_round(f, 0);
        fx_spin(f, 20);
        assert_non_null(strstr(f->w->disc_error, "not on the issuer's origin"));
        assert_int_equal(fh_started("POST", NULL), 0);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_discovery_login_hosts_then_dfo_call,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_failed_discovery_waits_then_retries,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_token_endpoint_elsewhere_refused, fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
