/* ctl_schedules.c: `cxonectl schedules import FILE.json`: one schedule-import
 * request per element of a JSON array (or one for a single object) to the
 * schedule-imports topic, key = targetCalendarId. Producing, delivery
 * tracking and --wait are ctl_batch.c's; here reading the file and the light
 * checks. The full validation is the worker's (src/lib/requests/schedules.c). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES    ((size_t)64 << 20) /* the whole file */
#define MAX_ELEMENT_BYTES ((size_t)4 << 20)  /* one import, re-serialized */
#define READ_CHUNK        ((size_t)1 << 20)

static const ctl_batch_kind_t schedules_kind = {
    .cmd = "schedules import",
    .file_arg = "FILE.json",
    .noun = "calendar",
    .outcome_type = "schedule-import",
    .pos_kind = CTL_POS_INDEX,
    /* "<batch>:<index>": a redelivered request does not import twice where
     * CXone honours the key. */
    .idempotency_key = true,
};

/* Reads the whole file, at most MAX_FILE_BYTES. Returns a buffer the caller
 * frees, or NULL after reporting why. */
static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f) {
                fprintf(stderr, "cxonectl: %s: %s\n", path, strerror(errno));
                return NULL;
        }
        for (;;) {
                size_t got;

                if (cap - n < READ_CHUNK) {
                        /* One byte over the limit tells "too large" apart. */
                        size_t ncap = cap + READ_CHUNK;
                        char *v;

                        if (ncap > MAX_FILE_BYTES + 1)
                                ncap = MAX_FILE_BYTES + 1;
                        if (ncap <= n) {
                                fprintf(
                                    stderr,
                                    "cxonectl: %s: larger than the limit of %zu MiB\n",
                                    path, MAX_FILE_BYTES >> 20);
                                goto fail;
                        }
                        v = realloc(buf, ncap);
                        if (!v) {
                                fprintf(stderr, "cxonectl: %s: out of memory\n", path);
                                goto fail;
                        }
                        buf = v;
                        cap = ncap;
                }
                got = fread(buf + n, 1, cap - n, f);
                n += got;
                if (got == 0) {
                        if (ferror(f)) {
                                fprintf(stderr, "cxonectl: %s: %s\n", path,
                                        strerror(errno));
                                goto fail;
                        }
                        break;
                }
        }
        if (n > MAX_FILE_BYTES) {
                fprintf(stderr, "cxonectl: %s: larger than the limit of %zu MiB\n", path,
                        MAX_FILE_BYTES >> 20);
                goto fail;
        }
        fclose(f);
        *len = n;
        return buf;
fail:
        fclose(f);
        free(buf);
        return NULL;
}

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
        default:
                return "null";
        }
}

/* The request value of one element, or NULL after reporting why on stderr
 * (the element is skipped then). */
static char *element_value(const ctl_batch_t *b, size_t idx, json_t *el, size_t *len)
{
        json_t *entries;
        char where[512];
        char *out;

        ctl_batch_where(b, idx, where, sizeof(where));
        if (!json_is_object(el)) {
                fprintf(stderr, "%s: %s, not an import object; skipped\n", where,
                        type_name(el));
                return NULL;
        }
        entries = json_object_get(el, "scheduleEntries");
        if (!entries) {
                fprintf(stderr, "%s: no scheduleEntries; skipped\n", where);
                return NULL;
        }
        if (!json_is_array(entries)) {
                fprintf(stderr, "%s: scheduleEntries is %s, not an array; skipped\n",
                        where, type_name(entries));
                return NULL;
        }
        /* Compact, members in the file's order. */
        out = json_dumps(el, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!out) {
                fprintf(stderr, "%s: out of memory; skipped\n", where);
                return NULL;
        }
        *len = strlen(out);
        if (*len > MAX_ELEMENT_BYTES) {
                fprintf(stderr,
                        "%s: %zu bytes, over the limit of %zu MiB per import; "
                        "skipped\n",
                        where, *len, MAX_ELEMENT_BYTES >> 20);
                free(out);
                return NULL;
        }
        return out;
}

/* Produces the good elements. Returns 0, or -1 on a fatal problem (Kafka
 * refusing messages, interrupted). */
static int produce_elements(ctl_batch_t *b, json_t *root)
{
        size_t n = json_is_array(root) ? json_array_size(root) : 1;

        for (size_t i = 0; i < n && !ctl_stop; i++) {
                json_t *el = json_is_array(root) ? json_array_get(root, i) : root;
                json_t *cal = json_object_get(el, "targetCalendarId");
                const char *key = json_is_string(cal) ? json_string_value(cal) : NULL;
                size_t len = 0;
                char *value = element_value(b, i, el, &len);
                int rc;

                if (!value) {
                        b->skipped++;
                        continue;
                }
                /* Without a usable targetCalendarId the message has no key;
                 * the worker rejects it, and says why in its outcome. */
                rc = ctl_batch_produce(b, i, key, key ? json_string_length(cal) : 0,
                                       value, len);
                free(value);
                if (rc < 0)
                        return -1;
        }
        return ctl_stop ? -1 : 0;
}

int ctl_schedules_import_main(const cxw_config_t *cfg, int argc, char **argv)
{
        ctl_batch_t b;
        json_error_t jerr;
        json_t *root = NULL;
        char *text = NULL;
        size_t len = 0;
        int rc = CTL_EXIT_ERROR, prc;

        memset(&b, 0, sizeof(b));
        prc = ctl_batch_init(&b, cfg, &schedules_kind, cfg->topic_schedules, argc, argv);
        if (prc != 0)
                return prc > 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;

        text = read_file(b.path, &len);
        if (!text)
                goto out;
        /* A repeated member would silently lose one of its values when the
         * element is re-serialized: the file is refused instead. */
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        free(text);
        text = NULL;
        if (!root) {
                fprintf(stderr, "%s:%d:%d: not valid JSON: %s\n", b.path, jerr.line,
                        jerr.column, jerr.text);
                goto out;
        }
        if (ctl_batch_start(&b) != 0)
                goto out;
        prc = produce_elements(&b, root);
        rc = ctl_batch_finish(&b, prc);
out:
        fflush(stdout);
        json_decref(root);
        free(text);
        ctl_batch_clear(&b);
        return rc;
}
