/* docs_example.c: runs one example of the docs through the library's own
 * code, so that a doc cannot show a message the worker treats otherwise
 * (tests/integration/test_docs_examples.sh drives it).
 *
 *   docs_example contact [KEY] < value    the worker's contact decoder
 *   docs_example schedule < value         the schedule import decoder+validator
 *   docs_example budget < value           the budget report decoder
 *   docs_example outcome < record         re-encoded by the outcome writer
 *   docs_example audit < record           re-encoded by the audit writer
 *
 * contact and schedule use the configuration's defaults (as a worker with
 * no file would: allowed fields, limits.max_message_bytes, schedules.*),
 * and print "accepted" or "rejected: <the outcome's error text>".
 * budget prints "accepted" or "rejected: <why>".
 * outcome and audit read the record's values, build the record again with
 * cxw_outcome_json() / cxw_audit_json() and print "same", or "differs:"
 * and what the writer gives for those values (member names, order, types
 * and which members appear are all compared).
 *
 * Exit: 0 accepted/same, 1 rejected/differs, 2 usage, unreadable input or
 * configuration. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/config.h"
#include "cxone/requests/contacts.h"
#include "cxone/requests/outcome.h"
#include "cxone/flow/peers.h"
#include "cxone/requests/schedules.h"

#define INPUT_MAX (8 * 1024 * 1024)

static char *read_all(FILE *f, size_t *len)
{
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap + 1);

        while (buf) {
                size_t got = fread(buf + n, 1, cap - n, f);

                n += got;
                if (n < cap)
                        break;
                if (cap >= INPUT_MAX) {
                        free(buf);
                        return NULL;
                }
                cap *= 2;
                char *bigger = realloc(buf, cap + 1);
                if (!bigger) {
                        free(buf);
                        return NULL;
                }
                buf = bigger;
        }
        if (!buf || ferror(f)) {
                free(buf);
                return NULL;
        }
        /* The example's trailing newline is the Markdown's, not the message's. */
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        buf[n] = '\0';
        *len = n;
        return buf;
}

static int verdict(int ok, const char *err)
{
        if (ok) {
                printf("accepted\n");
                return 0;
        }
        printf("rejected: %s\n", err);
        return 1;
}

static int run_contact(const cxw_config_t *cfg, const char *value, size_t len,
                       const char *key)
{
        cxw_contact_update_t u = {0};
        char err[1024] = "";
        int rc = cxw_contact_decode(value, len, key, key ? strlen(key) : 0,
                                    (const char *const *)cfg->contact_fields.v,
                                    cfg->contact_fields.cnt,
                                    (size_t)cfg->max_message_bytes, &u, err, sizeof(err));

        if (rc == 0)
                printf("body: %s\n", u.body);
        cxw_contact_update_clear(&u);
        return verdict(rc == 0, err);
}

static int run_schedule(const cxw_config_t *cfg, const char *value, size_t len)
{
        cxw_schedule_limits_t lim;
        cxw_schedule_import_t imp;
        char err[CXW_SCHED_ERRSTR_SIZE] = "";
        int rc;

        /* As the worker sets them (worker_schedules.c). */
        cxw_schedule_limits_default(&lim);
        lim.max_bytes = (size_t)cfg->max_message_bytes;
        lim.max_entries = (size_t)cfg->schedules_max_entries;
        lim.max_shift_minutes = cfg->schedules_max_shift_minutes;
        rc = cxw_schedule_decode(value, len, &lim, &imp, NULL, err, sizeof(err));
        if (rc == 0)
                printf("capacity: %lld minutes, entries %zu, agents %zu\n",
                       (long long)imp.capacity_minutes, imp.nentries, imp.nagents);
        cxw_schedule_import_clear(&imp);
        return verdict(rc == 0, err);
}

static int run_budget(const char *value, size_t len)
{
        cxw_peer_report_t r;
        char err[256] = "";

        return verdict(cxw_peers_decode(value, len, &r, err, sizeof(err)) == 0, err);
}

/* ---- outcome and audit: rebuild with the writer, compare ---------------- */

static const char *str_or_null(const json_t *o, const char *name)
{
        return json_string_value(json_object_get(o, name));
}

static long long int_of(const json_t *o, const char *name)
{
        return json_integer_value(json_object_get(o, name));
}

/* The outcome's values, read back; NULL members stay NULL. */
static void outcome_of(const json_t *j, cxw_outcome_t *o, const char *at_name)
{
        const json_t *src = json_object_get(j, "source");
        const char *status = str_or_null(j, "status");

        memset(o, 0, sizeof(*o));
        o->type = str_or_null(j, "type");
        o->status = !status                        ? (cxw_outcome_status_t)99
                    : !strcmp(status, "succeeded") ? CXW_OUTCOME_SUCCEEDED
                    : !strcmp(status, "rejected")  ? CXW_OUTCOME_REJECTED
                    : !strcmp(status, "failed")    ? CXW_OUTCOME_FAILED
                                                   : (cxw_outcome_status_t)99;
        o->contact_id = str_or_null(j, "contactId");
        o->job_id = str_or_null(j, "jobId");
        o->http_status = (long)int_of(j, "httpStatus");
        o->attempts = (int)int_of(j, "attempts");
        o->error = str_or_null(j, "error");
        o->batch_id = str_or_null(j, "batchId");
        o->correlation_id = str_or_null(j, "correlationId");
        o->topic = str_or_null(src, "topic");
        o->partition = (int32_t)int_of(src, "partition");
        o->offset = int_of(src, "offset");
        o->latency_ms = int_of(j, "latencyMs");
        o->job_status = str_or_null(j, "jobStatus");
        o->has_timings = json_object_get(j, "validationMs") != NULL;
        o->validation_ms = int_of(j, "validationMs");
        o->request_ms = int_of(j, "requestMs");
        o->polling_ms = int_of(j, "pollingMs");
        o->finished_at = str_or_null(j, at_name);
}

/* Same members in the same order, same values (json_equal ignores order). */
static int same_record(const json_t *a, const char *b_text)
{
        json_t *b = json_loads(b_text, 0, NULL);
        int same = b && json_equal(a, b);
        const char *ka, *kb;
        void *ia = json_object_iter((json_t *)a), *ib = b ? json_object_iter(b) : NULL;

        /* Member order: the writer's order is part of what a reader sees. */
        while (same && ia && ib) {
                ka = json_object_iter_key(ia);
                kb = json_object_iter_key(ib);
                if (strcmp(ka, kb) != 0)
                        same = 0;
                ia = json_object_iter_next((json_t *)a, ia);
                ib = json_object_iter_next(b, ib);
        }
        json_decref(b);
        if (same) {
                printf("same\n");
                return 0;
        }
        printf("differs: the writer gives for these values\n%s\n", b_text);
        return 1;
}

static int run_record(const char *value, size_t len, int audit)
{
        json_error_t jerr;
        json_t *j =
            json_loadb(value, len, JSON_PRESERVE_ORDER | JSON_REJECT_DUPLICATES, &jerr);
        cxw_outcome_t o;
        char *text;
        int rc;

        if (!j || !json_is_object(j)) {
                printf("rejected: not a JSON object: %s (line %d column %d)\n",
                       j ? "another type" : jerr.text, jerr.line, jerr.column);
                json_decref(j);
                return 1;
        }
        outcome_of(j, &o, audit ? "at" : "finishedAt");
        if (audit) {
                const json_t *fl = json_object_get(j, "fields");
                const char *fields[64];
                size_t nf = 0;
                const json_t *entries = json_object_get(j, "entries");

                for (size_t i = 0; i < json_array_size(fl) && nf < 64; i++)
                        fields[nf++] = json_string_value(json_array_get(fl, i));
                text = cxw_audit_json(str_or_null(j, "action"), str_or_null(j, "worker"),
                                      &o, fields, nf,
                                      entries ? (int)json_integer_value(entries) : -1);
        } else {
                text = cxw_outcome_json(&o);
        }
        rc = text ? same_record(j, text) : 2;
        free(text);
        json_decref(j);
        return rc;
}

int main(int argc, char **argv)
{
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg;
        char *value;
        size_t len = 0;
        int rc;

        if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[1], "contact") != 0)) {
                fprintf(stderr, "usage: docs_example contact [KEY] | schedule | budget | "
                                "outcome | audit  < example\n");
                return 2;
        }
        value = read_all(stdin, &len);
        if (!value) {
                fprintf(stderr, "docs_example: cannot read stdin\n");
                return 2;
        }
        /* The defaults alone: what a worker without a file would use. */
        cfg = cxw_config_load(NULL, CXW_CONFIG_FOR_CTL, &errs);
        if (!cfg || errs.cnt) {
                fprintf(stderr, "docs_example: default configuration: %s\n",
                        errs.cnt ? errs.v[0] : "out of memory");
                cxw_config_errors_clear(&errs);
                cxw_config_destroy(cfg);
                free(value);
                return 2;
        }
        if (!strcmp(argv[1], "contact"))
                rc = run_contact(cfg, value, len, argc == 3 ? argv[2] : NULL);
        else if (!strcmp(argv[1], "schedule"))
                rc = run_schedule(cfg, value, len);
        else if (!strcmp(argv[1], "budget"))
                rc = run_budget(value, len);
        else if (!strcmp(argv[1], "outcome"))
                rc = run_record(value, len, 0);
        else if (!strcmp(argv[1], "audit"))
                rc = run_record(value, len, 1);
        else {
                fprintf(stderr, "docs_example: unknown kind '%s'\n", argv[1]);
                rc = 2;
        }
        cxw_config_destroy(cfg);
        free(value);
        return rc;
}
