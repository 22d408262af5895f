/* target.c: the request template of each contact target (seed, DFO custom
 * fields, address book): method, base, path, body. */
#include "cxone/requests/target.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The body builder of a target: rewrites upd->body, or says why not. */
typedef int(body_fn)(const cxw_contact_target_t *t, cxw_contact_update_t *upd,
                     char *errstr, size_t errstr_size);

struct cxw_contact_target_s {
        char *name;
        char *method;
        cxw_target_base_t base;
        char *path; /* with "{contactId}" */
        body_fn *body;
        int batched;   /* many updates per request (address-book) */
        char **fields; /* the ident map: fields[i] → idents[i] */
        char **idents;
        size_t nmap;
};

static int body_as_is(const cxw_contact_target_t *t, cxw_contact_update_t *upd,
                      char *errstr, size_t errstr_size)
{
        (void)t;
        (void)upd;
        (void)errstr;
        (void)errstr_size;
        return 0;
}

/* UTF-8 characters of s: the bytes that do not continue a sequence. */
static size_t utf8_chars(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

static const char *ident_of(const cxw_contact_target_t *t, const char *field)
{
        if (t->nmap == 0)
                return field;
        for (size_t i = 0; i < t->nmap; i++)
                if (!strcmp(t->fields[i], field))
                        return t->idents[i];
        return NULL;
}

/* [{"ident","value"}, ...] in the order of the update's fields. */
static int body_dfo(const cxw_contact_target_t *t, cxw_contact_update_t *upd,
                    char *errstr, size_t errstr_size)
{
        json_t *obj = json_loadb(upd->body, upd->body_len, 0, NULL);
        json_t *arr = json_array();
        const char *field;
        json_t *v;
        char *out = NULL;
        int rc = -1;

        if (!json_is_object(obj) || !arr) {
                cxw_set_err(errstr, errstr_size, "cannot read the update's fields");
                goto done;
        }
        json_object_foreach(obj, field, v)
        {
                const char *ident = ident_of(t, field);
                size_t chars;
                json_t *item;

                if (!ident) {
                        cxw_set_err(errstr, errstr_size,
                                    "field %s has no custom field ident in "
                                    "cxone.contacts.idents",
                                    field);
                        goto done;
                }
                if (!json_is_string(v)) {
                        cxw_set_err(errstr, errstr_size, "field %s is not a string",
                                    field);
                        goto done;
                }
                chars = utf8_chars(json_string_value(v));
                if (chars > CXW_DFO_VALUE_MAX) {
                        cxw_set_err(errstr, errstr_size,
                                    "field %s is %zu characters, over the %d of a custom "
                                    "field",
                                    field, chars, CXW_DFO_VALUE_MAX);
                        goto done;
                }
                item = json_pack("{s:s,s:O}", "ident", ident, "value", v);
                if (!item || json_array_append_new(arr, item) != 0) {
                        cxw_set_err(errstr, errstr_size, "out of memory");
                        goto done;
                }
        }
        out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!out) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                goto done;
        }
        free(upd->body);
        upd->body = out;
        upd->body_len = strlen(out);
        upd->body_cap = upd->body_len + 1;
        rc = 0;
done:
        json_decref(obj);
        json_decref(arr);
        return rc;
}

void cxw_contact_target_destroy(cxw_contact_target_t *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->nmap; i++) {
                free(t->fields[i]);
                free(t->idents[i]);
        }
        free(t->fields);
        free(t->idents);
        free(t->name);
        free(t->method);
        free(t->path);
        free(t);
}

cxw_contact_target_t *cxw_contact_target_new(const char *name, const char *seed_method,
                                             const char *seed_path,
                                             const char *const *idents, size_t nidents,
                                             char *errstr, size_t errstr_size)
{
        cxw_contact_target_t *t = calloc(1, sizeof(*t));

        if (!t)
                goto oom;
        t->name = strdup(name ? name : "");
        if (!t->name)
                goto oom;
        if (name && !strcmp(name, "seed")) {
                t->method = strdup(seed_method);
                t->path = strdup(seed_path);
                t->base = CXW_TARGET_BASE_API;
                t->body = body_as_is;
        } else if (name && !strcmp(name, "dfo-custom-fields")) {
                t->method = strdup("PUT");
                t->path = strdup("/dfo/3.0/customers/{contactId}/custom-fields");
                t->base = CXW_TARGET_BASE_DFO;
                t->body = body_dfo;
        } else if (name && !strcmp(name, "address-book")) {
                /* the path names the book, not the contact: the worker makes
                 * it with cxw_ab_path(); the body stays the update's object,
                 * from which the batch's entries are built */
                t->method = strdup("PUT");
                t->path = strdup("/address-books/{addressBookId}/dynamic-entries"
                                 "?fullLoad=false");
                t->base = CXW_TARGET_BASE_API;
                t->body = body_as_is;
                t->batched = 1;
        } else {
                cxw_set_err(errstr, errstr_size, "unknown contacts target '%.64s'",
                            name ? name : "");
                goto fail;
        }
        if (!t->method || !t->path)
                goto oom;
        if (nidents) {
                t->fields = calloc(nidents, sizeof(*t->fields));
                t->idents = calloc(nidents, sizeof(*t->idents));
                if (!t->fields || !t->idents)
                        goto oom;
        }
        for (size_t i = 0; i < nidents; i++) {
                const char *eq = strchr(idents[i], '=');

                if (!eq || eq == idents[i] || !eq[1]) {
                        cxw_set_err(errstr, errstr_size,
                                    "ident map item '%.128s' is not field=ident",
                                    idents[i]);
                        goto fail;
                }
                t->fields[i] = strndup(idents[i], (size_t)(eq - idents[i]));
                t->idents[i] = strdup(eq + 1);
                t->nmap = i + 1;
                if (!t->fields[i] || !t->idents[i])
                        goto oom;
        }
        return t;
oom:
        cxw_set_err(errstr, errstr_size, "out of memory");
fail:
        cxw_contact_target_destroy(t);
        return NULL;
}

const char *cxw_contact_target_name(const cxw_contact_target_t *t)
{
        return t->name;
}

const char *cxw_contact_target_method(const cxw_contact_target_t *t)
{
        return t->method;
}

cxw_target_base_t cxw_contact_target_base(const cxw_contact_target_t *t)
{
        return t->base;
}

int cxw_contact_target_batched(const cxw_contact_target_t *t)
{
        return t->batched;
}

char *cxw_contact_target_path(const cxw_contact_target_t *t, const char *id)
{
        return cxw_contact_path(t->path, id);
}

int cxw_contact_target_body(const cxw_contact_target_t *t, cxw_contact_update_t *upd,
                            char *errstr, size_t errstr_size)
{
        return t->body(t, upd, errstr, errstr_size);
}
