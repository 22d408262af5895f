/* entries.c: the address-book target's entries (requests/addressbook): a
 * decoded update as an entry, the body of a run of them, and the
 * Idempotency-Key of a request carrying them. */
#include "worker_int.h"
#include "cxone/base/util.h"
#include "cxone/requests/addressbook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AB_BODY_MAX (4u << 20) /* bytes of one request body */
#define AB_FIELDS   64         /* fields of one entry, at most */

/* The entry of job: its contactId and string fields, pointing into *obj
 * (the parsed body; the caller json_decref()s it). */
static int entry_of(const job_t *job, cxw_ab_entry_t *e, cxw_ab_field_t *fields,
                    json_t **obj, char *errstr, size_t errstr_size)
{
        const char *name;
        json_t *v;
        size_t n = 0;

        *obj = json_loadb(job->upd.body, job->upd.body_len, 0, NULL);
        if (!json_is_object(*obj)) {
                cxw_set_err(errstr, errstr_size, "cannot read the update's fields");
                return -1;
        }
        json_object_foreach(*obj, name, v)
        {
                if (n == AB_FIELDS) {
                        cxw_set_err(errstr, errstr_size, "more than %d fields",
                                    AB_FIELDS);
                        return -1;
                }
                fields[n].name = name;
                fields[n].value = json_string_value(v); /* decode: strings only */
                n++;
        }
        e->contact_id = job->upd.contact_id;
        e->fields = fields;
        e->nfields = n;
        return 0;
}

int worker_entry_check(cxw_worker_t *w, const job_t *job, char *errstr,
                       size_t errstr_size)
{
        cxw_ab_field_t fields[AB_FIELDS];
        cxw_ab_entry_t e;
        json_t *obj = NULL;
        char *body = NULL;

        if (entry_of(job, &e, fields, &obj, errstr, errstr_size) == 0)
                body = cxw_ab_body(&w->ab_map, &e, 1, AB_BODY_MAX, NULL, NULL, errstr,
                                   errstr_size);
        json_decref(obj);
        free(body);
        return body ? 0 : -1;
}

char *worker_entries_body(cxw_worker_t *w, job_t *const *jobs, size_t n, size_t *len,
                          size_t *bad, char *errstr, size_t errstr_size)
{
        cxw_ab_entry_t *es = calloc(n, sizeof(*es));
        cxw_ab_field_t *fs = calloc(n * AB_FIELDS, sizeof(*fs));
        json_t **objs = calloc(n, sizeof(*objs));
        char *body = NULL;

        *bad = (size_t)-1;
        if (!es || !fs || !objs) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                goto done;
        }
        for (size_t i = 0; i < n; i++)
                if (entry_of(jobs[i], &es[i], fs + i * AB_FIELDS, &objs[i], errstr,
                             errstr_size) == -1) {
                        *bad = i;
                        goto done;
                }
        body = cxw_ab_body(&w->ab_map, es, n, AB_BODY_MAX, len, bad, errstr, errstr_size);
done:
        if (objs)
                for (size_t i = 0; i < n; i++)
                        json_decref(objs[i]);
        free(objs);
        free(fs);
        free(es);
        return body;
}

void worker_entries_idem(job_t *const *jobs, size_t n, uint64_t seq, size_t first,
                         char *out, size_t size)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (size_t i = 0; i < n; i++) {
                const job_t *job = jobs[i];
                char src[300];
                int len = snprintf(src, sizeof(src), "%s:%d:%lld;", job->part->topic,
                                   (int)job->part->partition, (long long)job->offset);

                for (int k = 0; k < len && k < (int)sizeof(src); k++) {
                        h ^= (unsigned char)src[k];
                        h *= 1099511628211ULL;
                }
        }
        snprintf(out, size, "Idempotency-Key: ab-%016llx-%llu-%zu-%zu",
                 (unsigned long long)h, (unsigned long long)seq, first, first + n);
}
