/* schedules.c: decode schedule-import requests: the limits, the message as
 * a whole, the capacity against the one required, the problems joined into
 * one error, and the call's body and idempotency key. The checks of the
 * message's members are in schedules_validate.c, the date-times and the
 * available time in schedules_time.c, the async job's id and answer in
 * schedules_job.c. */
#include "schedules_int.h"
#include "cxone/base/util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The default allowed values (see schedules.h); the configuration may
 * replace them. The override types are fixed (schedules_validate.c). */
static const char *const modes[] = {"STRICT", "LENIENT"};
static const char *const resolutions[] = {"AUTO_RESOLVE", "OVERWRITE", "SKIP", "FAIL"};

void cxw_schedule_limits_default(cxw_schedule_limits_t *l)
{
        if (!l)
                return;
        l->max_bytes = 1024 * 1024;
        l->max_entries = 5000;
        l->max_breaks = 16;
        l->max_overrides = 16;
        l->max_reason_len = 256;
        l->max_shift_minutes = 16 * 60;
        l->validation_modes = modes;
        l->nvalidation_modes = NELEM(modes);
        l->conflict_resolutions = resolutions;
        l->nconflict_resolutions = NELEM(resolutions);
}

void cxw_schedule_import_clear(cxw_schedule_import_t *imp)
{
        if (!imp)
                return;
        free(imp->body);
        memset(imp, 0, sizeof(*imp));
}

/* Joins the problems into one message of at most size - 1 bytes. */
static void join(const cxw_schedule_problems_t *p, char *errstr, size_t size)
{
        static const size_t reserve = 48; /* "; ... and N more" */
        size_t off, shown = 0;
        int k;

        if (!errstr || size == 0)
                return;
        errstr[0] = '\0';
        if (p->total == 1 && p->n == 1) {
                snprintf(errstr, size, "%s", p->items[0].text);
                return;
        }
        k = snprintf(errstr, size, "%zu problems: ", p->total);
        if (k < 0 || (size_t)k >= size)
                return;
        off = (size_t)k;
        for (size_t i = 0; i < p->n; i++) {
                size_t need = (shown ? 2 : 0) + strlen(p->items[i].text);
                size_t keep = i + 1 < p->total ? reserve : 0;
                if (off + need + keep >= size)
                        break;
                k = snprintf(errstr + off, size - off, "%s%s", shown ? "; " : "",
                             p->items[i].text);
                off += (size_t)k;
                shown++;
        }
        if (shown < p->total)
                snprintf(errstr + off, size - off, "%s... and %zu more",
                         shown ? "; " : "", p->total - shown);
}

static int64_t elapsed_us(const struct timespec *t0)
{
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
               (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int cxw_schedule_decode(const void *value, size_t len,
                        const cxw_schedule_limits_t *limits, cxw_schedule_import_t *out,
                        cxw_schedule_problems_t *problems, char *errstr,
                        size_t errstr_size)
{
        char ebuf[CXW_ECHO_SIZE];
        cxw_schedule_limits_t defaults;
        cxw_schedule_problems_t *p = problems;
        struct timespec t0;
        json_error_t jerr;
        json_t *root = NULL, *list;
        struct entry *ents = NULL;
        size_t nentries = 0, nagents = 0;
        int64_t avail_ms = 0, required = -1;
        int mode = -1, resolution = -1, all_countable = 1, rc = -1;
        const char *const *vmodes = modes, *const *cres = resolutions;
        size_t nvmodes = NELEM(modes), ncres = NELEM(resolutions);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (errstr && errstr_size)
                errstr[0] = '\0';
        if (!out) {
                cxw_set_err(errstr, errstr_size, "no output");
                return -1;
        }
        memset(out, 0, sizeof(*out));
        if (!limits) {
                cxw_schedule_limits_default(&defaults);
                limits = &defaults;
        }
        /* Limits filled by hand without the lists get the default lists. */
        if (limits->validation_modes) {
                vmodes = limits->validation_modes;
                nvmodes = limits->nvalidation_modes;
        }
        if (limits->conflict_resolutions) {
                cres = limits->conflict_resolutions;
                ncres = limits->nconflict_resolutions;
        }
        if (!p) {
                p = malloc(sizeof(*p));
                if (!p) {
                        cxw_set_err(errstr, errstr_size, "out of memory");
                        return -2;
                }
        }
        p->n = 0;
        p->total = 0;

        if (limits->max_bytes && len > limits->max_bytes) {
                sched_problem(p, -1, -1, "message is %zu bytes, over the limit of %zu",
                              len, limits->max_bytes);
                goto done;
        }
        if (!value || len == 0) {
                sched_problem(p, -1, -1, "message is empty");
                goto done;
        }
        root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                /* jerr.text may quote the input: echo it only through the
                 * printable filter. */
                sched_problem(p, -1, -1, "invalid JSON at line %d column %d: %s",
                              jerr.line, jerr.column,
                              cxw_echo(jerr.text, strlen(jerr.text), ebuf));
                goto done;
        }
        if (!json_is_object(root)) {
                sched_problem(p, -1, -1, "message is not a JSON object");
                goto done;
        }

        sched_check_top(p, root, vmodes, nvmodes, cres, ncres, &mode, &resolution,
                        &required);

        list = json_object_get(root, "scheduleEntries");
        if (!list) {
                sched_problem(p, -1, -1, "scheduleEntries is missing");
                goto done;
        }
        if (!json_is_array(list)) {
                sched_problem(p, -1, -1, "scheduleEntries must be an array");
                goto done;
        }
        nentries = json_array_size(list);
        if (nentries == 0) {
                sched_problem(p, -1, -1, "scheduleEntries is empty");
                goto done;
        }
        if (nentries > limits->max_entries) {
                sched_problem(p, -1, -1,
                              "scheduleEntries has %zu entries, over the limit of %zu",
                              nentries, limits->max_entries);
                goto done;
        }
        ents = calloc(nentries, sizeof(*ents));
        if (!ents)
                goto oom;
        for (size_t i = 0; i < nentries; i++) {
                if (sched_check_entry(p, limits, (long)i, json_array_get(list, i),
                                      &ents[i]))
                        goto oom;
                if (ents[i].countable)
                        avail_ms += ents[i].avail_ms;
                else
                        all_countable = 0;
        }
        if (sched_check_overlaps(p, ents, nentries, &nagents))
                goto oom;
        if (all_countable && required >= 0 && avail_ms / MS_PER_MIN < required)
                sched_problem(p, -1, -1,
                              "capacity %" PRId64
                              " minutes is below requiredCapacityMinutes %" PRId64,
                              avail_ms / MS_PER_MIN, required);

done:
        if (p->total > 0) {
                join(p, errstr, errstr_size);
                goto out;
        }
        out->body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!out->body)
                goto oom;
        out->body_len = strlen(out->body);
        snprintf(out->calendar_id, sizeof(out->calendar_id), "%s",
                 json_string_value(json_object_get(root, "targetCalendarId")));
        snprintf(out->validation_mode, sizeof(out->validation_mode), "%s", vmodes[mode]);
        snprintf(out->conflict_resolution, sizeof(out->conflict_resolution), "%s",
                 cres[resolution]);
        out->nentries = nentries;
        out->nagents = nagents;
        out->capacity_minutes = avail_ms / MS_PER_MIN;
        out->required_capacity_minutes = required;
        out->validate_us = elapsed_us(&t0);
        rc = 0;
        goto out;

oom:
        cxw_schedule_import_clear(out);
        cxw_set_err(errstr, errstr_size, "out of memory");
        rc = -2;
out:
        if (rc != 0)
                cxw_schedule_import_clear(out);
        free(ents);
        json_decref(root);
        if (p != problems)
                free(p);
        return rc;
}

int cxw_schedule_idempotency_key(const void *hdr, size_t hdrlen, const char *topic,
                                 int32_t partition, int64_t offset, char *out,
                                 size_t outsize, char *errstr, size_t errstr_size)
{
        const unsigned char *h = hdr;
        int n;

        if (errstr && errstr_size)
                errstr[0] = '\0';
        if (!out || outsize == 0) {
                cxw_set_err(errstr, errstr_size, "no output buffer");
                return -1;
        }
        out[0] = '\0';
        if (h && hdrlen > 0) {
                if (hdrlen > CXW_SCHED_IDEMKEY_MAX) {
                        cxw_set_err(
                            errstr, errstr_size,
                            "idempotency-key header is %zu bytes, over the limit of %d",
                            hdrlen, CXW_SCHED_IDEMKEY_MAX);
                        return -1;
                }
                for (size_t i = 0; i < hdrlen; i++) {
                        if (h[i] < 0x21 || h[i] > 0x7e) {
                                cxw_set_err(errstr, errstr_size,
                                            "idempotency-key header has a byte outside "
                                            "printable ASCII at position %zu",
                                            i);
                                return -1;
                        }
                }
                if (hdrlen >= outsize) {
                        cxw_set_err(errstr, errstr_size,
                                    "idempotency key buffer too small");
                        return -1;
                }
                memcpy(out, h, hdrlen);
                out[hdrlen] = '\0';
                return 0;
        }
        n = snprintf(out, outsize, "%s/%" PRId32 "/%" PRId64, topic ? topic : "",
                     partition, offset);
        if (n < 0 || (size_t)n >= outsize) {
                out[0] = '\0';
                cxw_set_err(errstr, errstr_size, "idempotency key buffer too small");
                return -1;
        }
        return 0;
}
