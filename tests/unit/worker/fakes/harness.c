/* harness.c: builds one replica on the fakes and drives its loop from the
 * test (fakes.h). fx_round() is one round of cxw_worker_run()'s loop
 * (worker_round()). */
#include "fakes.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The worker's required keys; delays short enough for unit tests; no rate
 * limit (rate.rps = 0: the budget starts a class at one token, so calls
 * would leave 10 ms apart at the default 100/s), unless extra sets one. */
static const char base_conf[] =
    "kafka = { bootstrap_servers = \"127.0.0.1:1\"; group_id = \"g-test\";\n"
    "  topics = { contact_updates = \"t.contacts\"; schedule_imports = \"t.schedules\";\n"
    "    results = \"t.results\"; audit = \"t.audit\"; dlq = \"t.dlq\"; budget = \"\"; "
    "}; };\n"
    "cxone = { base_url = \"https://cxone.test/\"; client_id = \"id-test\";\n"
    "  client_secret = \"secret-test\"; };\n"
    "worker = { id = \"w-test\"; shutdown_deadline_ms = 2000; };\n"
    "retry = { base_delay_ms = 5; max_delay_ms = 40; max_elapsed_ms = 5000; "
    "max_attempts = 3; };\n"
    "schedules = { poll_interval_ms = 10; poll_max_interval_ms = 20; max_wait_ms = 5000; "
    "};\n";

cxw_config_t *fx_config(const char *extra)
{
        char path[] = "/tmp/cxw-test-worker-XXXXXX";
        int fd = mkstemp(path);
        FILE *f;
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        const char *level = getenv("CXW_TEST_LOG");

        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        fputs(base_conf, f);
        if (!extra || !strstr(extra, "rate = {"))
                fputs("rate = { rps = 0; };\n", f);
        if (extra)
                fputs(extra, f);
        fclose(f);
        cfg = cxw_config_load(path, CXW_CONFIG_FOR_WORKER, &errs);
        unlink(path);
        assert_non_null(cfg);
        for (size_t i = 0; i < errs.cnt; i++)
                print_message("config problem: %s\n", errs.v[i]);
        assert_int_equal(errs.cnt, 0);
        cxw_config_errors_clear(&errs);
        cxw_log_set_level(level ? level : "error");
        return cfg;
}

static fx_t *current; /* freed by fx_teardown() if the test failed */

fx_t *fx_start(cxw_config_t *cfg)
{
        fx_t *f = calloc(1, sizeof(*f));
        char err[512];
        sigset_t mask;

        assert_non_null(f);
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL); /* read by the worker's signalfd */
        f->cfg = cfg;
        current = f;
        f->w = cxw_worker_new(cfg, err, sizeof(err));
        if (!f->w)
                print_message("cxw_worker_new: %s\n", err);
        assert_non_null(f->w);
        /* cxw_worker_run() begins so: the token first */
        worker_ensure_token(f->w);
        fx_token(f);
        fx_round(f, 0);
        assert_non_null(cxw_token_get(f->w->token, cxw_now_ms(), &(uint64_t){0}));
        fk_assign(cfg->topic_contacts, 0);
        fk_assign(cfg->topic_schedules, 0);
        return f;
}

fx_t *fx_new(const char *extra)
{
        return fx_start(fx_config(extra));
}

void fx_free(fx_t *f)
{
        if (!f)
                return;
        current = NULL;
        fh_set_responder(NULL, NULL);
        cxw_worker_destroy(f->w);
        cxw_config_destroy(f->cfg);
        fk_reset();
        fh_reset();
        free(f);
}

int fx_teardown(void **state)
{
        (void)state;
        fx_free(current);
        fk_reset();
        fh_reset();
        return 0;
}

void fx_token(fx_t *f)
{
        fh_req_t *r = fh_open("POST", f->cfg->token_url);

        assert_non_null(r);
        fh_answer(r, 200,
                  "{\"access_token\":\"tok-1\",\"token_type\":\"bearer\","
                  "\"expires_in\":3600}",
                  NULL);
}

void fx_round(fx_t *f, int wait_ms)
{
        cxw_worker_t *w = f->w;

        worker_round(w, wait_ms);
        assert_false(w->fatal);
}

int fx_until(fx_t *f, int (*pred)(fx_t *f), int ms)
{
        int64_t end = cxw_now_ms() + ms;

        while (!pred(f) && cxw_now_ms() < end)
                fx_round(f, 5);
        return pred(f);
}

void fx_spin(fx_t *f, int ms)
{
        int64_t end = cxw_now_ms() + ms;

        while (cxw_now_ms() < end)
                fx_round(f, 1);
}

const char *fx_update(char *buf, size_t size, const char *id, const char *name)
{
        snprintf(buf, size, "{\"contactId\":\"%s\",\"firstName\":\"%s\"}", id, name);
        return buf;
}

/* The i-th record of topic as JSON (the caller json_decref()s). */
json_t *fx_rec_json(const char *topic, size_t i)
{
        fk_rec_t *rec = fk_produced(topic, i);
        json_t *j;

        assert_non_null(rec);
        j = json_loads(rec->value, 0, NULL);
        assert_non_null(j);
        return j;
}

const char *fx_jstr(json_t *j, const char *name)
{
        const char *s = json_string_value(json_object_get(j, name));

        assert_non_null(s);
        return s;
}
