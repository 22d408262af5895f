/* addressbook.c: the address-book target's path, batch body and field map.
 * The body is written with jsonw (one buffer, escaping done there); its
 * size is checked after every value, so an oversized batch stops growing
 * within one value of max_bytes instead of being built whole first. */
#include "cxone/requests/addressbook.h"

#include "cxone/base/jsonw.h"
#include "cxone/base/util.h"
#include "cxone/requests/contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ID_FROM[] = "contactId";
static const char ID_TO[] = "externalId";

static void pair_set(cxw_ab_pair_t *p, const char *from, const char *to)
{
        cxw_strlcpy(p->from, from, sizeof(p->from));
        cxw_strlcpy(p->to, to, sizeof(p->to));
}

void cxw_ab_map_default(cxw_ab_map_t *m)
{
        static const char *const same[] = {"firstName", "lastName", "email", "phone",
                                           "mobile"};

        memset(m, 0, sizeof(*m));
        pair_set(&m->pairs[m->n++], ID_FROM, ID_TO);
        for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
                pair_set(&m->pairs[m->n++], same[i], same[i]);
}

static int name_valid(const char *s, size_t len)
{
        if (len < 1 || len > CXW_AB_NAME_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '_'))
                        return 0;
        }
        return 1;
}

int cxw_ab_map_parse(const char *const *items, size_t nitems, cxw_ab_map_t *m,
                     char *errstr, size_t errstr_size)
{
        char echo[CXW_ECHO_SIZE];
        int has_id = 0;

        memset(m, 0, sizeof(*m));
        if (nitems > CXW_AB_FIELDS_MAX) {
                cxw_set_err(errstr, errstr_size,
                            "address-book map has %zu items, more than %d", nitems,
                            CXW_AB_FIELDS_MAX);
                goto fail;
        }
        for (size_t i = 0; i < nitems; i++) {
                const char *item = items[i] ? items[i] : "";
                size_t len = strnlen(item, 2 * CXW_AB_NAME_MAX + 2);
                const char *eq = memchr(item, '=', len);
                size_t flen = eq ? (size_t)(eq - item) : len;
                const char *to = eq ? eq + 1 : item;
                size_t tlen = eq ? len - flen - 1 : len;
                cxw_ab_pair_t *p = &m->pairs[m->n];

                if (!name_valid(item, flen) || !name_valid(to, tlen)) {
                        cxw_set_err(errstr, errstr_size,
                                    "address-book map item \"%s\": expected from=to or "
                                    "name, names of 1-%d characters of A-Z a-z 0-9 _",
                                    cxw_echo(item, len, echo), CXW_AB_NAME_MAX);
                        goto fail;
                }
                memcpy(p->from, item, flen);
                p->from[flen] = '\0';
                memcpy(p->to, to, tlen);
                p->to[tlen] = '\0';
                for (size_t k = 0; k < m->n; k++) {
                        if (strcmp(m->pairs[k].from, p->from) == 0 ||
                            strcmp(m->pairs[k].to, p->to) == 0) {
                                cxw_set_err(
                                    errstr, errstr_size,
                                    "address-book map item \"%s\": %s given twice",
                                    cxw_echo(item, len, echo),
                                    strcmp(m->pairs[k].from, p->from) == 0
                                        ? "message field"
                                        : "entry field");
                                goto fail;
                        }
                }
                if ((strcmp(p->from, ID_FROM) == 0) != (strcmp(p->to, ID_TO) == 0)) {
                        cxw_set_err(errstr, errstr_size,
                                    "address-book map item \"%s\": contactId goes to "
                                    "externalId and nothing else does",
                                    cxw_echo(item, len, echo));
                        goto fail;
                }
                has_id |= strcmp(p->from, ID_FROM) == 0;
                m->n++;
        }
        if (!has_id) {
                cxw_set_err(errstr, errstr_size,
                            "address-book map lacks contactId=externalId (an entry is "
                            "identified by the message key)");
                goto fail;
        }
        return 0;
fail:
        memset(m, 0, sizeof(*m));
        return -1;
}

size_t cxw_ab_map_fields(const cxw_ab_map_t *m, const char **names, size_t cap)
{
        size_t k = 0;

        for (size_t i = 0; i < m->n; i++) {
                if (strcmp(m->pairs[i].from, ID_FROM) == 0)
                        continue;
                if (names && k < cap)
                        names[k] = m->pairs[i].from;
                k++;
        }
        return k;
}

static int prefix_valid(const char *p, size_t len)
{
        if (len == 0)
                return 1;
        if (len > CXW_AB_PREFIX_MAX || p[0] != '/' || p[len - 1] == '/')
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = p[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
                      c == '-' || c == '/'))
                        return 0;
        }
        /* segments: none empty ("//"), none "." or ".." */
        for (size_t i = 0; i < len;) {
                size_t j = i + 1;
                while (j < len && p[j] != '/')
                        j++;
                if (j - i == 1 || (j - i == 2 && p[i + 1] == '.') ||
                    (j - i == 3 && p[i + 1] == '.' && p[i + 2] == '.'))
                        return 0;
                i = j;
        }
        return 1;
}

static int book_id_valid(const char *s, size_t len)
{
        if (len < 1 || len > CXW_AB_BOOK_ID_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

char *cxw_ab_path(const char *prefix, const char *book_id, char *errstr,
                  size_t errstr_size)
{
        char echo[CXW_ECHO_SIZE];
        size_t plen, blen;
        char *out = NULL;

        if (!prefix)
                prefix = CXW_AB_PREFIX_DEFAULT;
        plen = strnlen(prefix, CXW_AB_PREFIX_MAX + 1);
        if (!prefix_valid(prefix, plen)) {
                cxw_set_err(
                    errstr, errstr_size,
                    "address-book API prefix \"%s\" must be empty or /segments of "
                    "A-Z a-z 0-9 . _ ~ - (at most %d characters, no empty, . or .. "
                    "segment, no trailing /)",
                    cxw_echo(prefix, plen, echo), CXW_AB_PREFIX_MAX);
                return NULL;
        }
        blen = book_id ? strnlen(book_id, CXW_AB_BOOK_ID_MAX + 1) : 0;
        if (!book_id_valid(book_id, blen)) {
                cxw_set_err(
                    errstr, errstr_size,
                    "addressBookId \"%s\" must be 1-%d characters of A-Z a-z 0-9 _ -",
                    book_id ? cxw_echo(book_id, blen, echo) : "", CXW_AB_BOOK_ID_MAX);
                return NULL;
        }
        if (asprintf(&out, "%s/address-books/%s/dynamic-entries?fullLoad=false", prefix,
                     book_id) == -1) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        return out;
}

static const cxw_ab_pair_t *pair_from(const cxw_ab_map_t *m, const char *from)
{
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->pairs[i].from, from) == 0)
                        return &m->pairs[i];
        return NULL;
}

/* Checks one entry against the map: its id, each field known and once,
 * each value within bounds. */
static int entry_check(const cxw_ab_map_t *m, const cxw_ab_entry_t *e, size_t idx,
                       char *errstr, size_t errstr_size)
{
        char echo[CXW_ECHO_SIZE];
        size_t idlen = e->contact_id ? strnlen(e->contact_id, CXW_CONTACT_ID_MAX + 1) : 0;

        if (!cxw_contact_id_valid(e->contact_id, idlen)) {
                cxw_set_err(errstr, errstr_size,
                            "entry %zu: contactId \"%s\" is not valid", idx,
                            e->contact_id ? cxw_echo(e->contact_id, idlen, echo) : "");
                return -1;
        }
        if (e->nfields > 0 && !e->fields) {
                cxw_set_err(errstr, errstr_size, "entry %zu (%s): no fields array", idx,
                            e->contact_id);
                return -1;
        }
        for (size_t f = 0; f < e->nfields; f++) {
                const char *name = e->fields[f].name ? e->fields[f].name : "";
                const cxw_ab_pair_t *p = pair_from(m, name);
                size_t nlen = strnlen(name, CXW_AB_NAME_MAX + 1);

                if (!p || strcmp(name, ID_FROM) == 0) {
                        cxw_set_err(errstr, errstr_size,
                                    "entry %zu (%s): field \"%s\" is not in the "
                                    "address-book map",
                                    idx, e->contact_id, cxw_echo(name, nlen, echo));
                        return -1;
                }
                for (size_t g = 0; g < f; g++) {
                        if (e->fields[g].name && strcmp(e->fields[g].name, name) == 0) {
                                cxw_set_err(errstr, errstr_size,
                                            "entry %zu (%s): field \"%s\" given twice",
                                            idx, e->contact_id, name);
                                return -1;
                        }
                }
                if (e->fields[f].value &&
                    strnlen(e->fields[f].value, CXW_CONTACT_VALUE_MAX + 1) >
                        CXW_CONTACT_VALUE_MAX) {
                        cxw_set_err(
                            errstr, errstr_size,
                            "entry %zu (%s): field \"%s\" is longer than %d bytes", idx,
                            e->contact_id, name, CXW_CONTACT_VALUE_MAX);
                        return -1;
                }
        }
        return 0;
}

static const char *field_value(const cxw_ab_entry_t *e, const char *from)
{
        for (size_t f = 0; f < e->nfields; f++)
                if (e->fields[f].name && strcmp(e->fields[f].name, from) == 0)
                        return e->fields[f].value;
        return NULL;
}

char *cxw_ab_body(const cxw_ab_map_t *m, const cxw_ab_entry_t *entries, size_t n,
                  size_t max_bytes, size_t *len, size_t *bad, char *errstr,
                  size_t errstr_size)
{
        cxw_jsonw_t w;
        char *body;

        if (bad)
                *bad = (size_t)-1;
        if (!m || !entries || n < 1 || n > CXW_AB_ENTRIES_MAX) {
                cxw_set_err(errstr, errstr_size,
                            "an address-book batch holds 1-%d entries, not %zu",
                            CXW_AB_ENTRIES_MAX, entries ? n : 0);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                if (entry_check(m, &entries[i], i, errstr, errstr_size) == -1) {
                        if (bad)
                                *bad = i;
                        return NULL;
                }
        }
        cxw_jsonw_init(&w, 64 + n * 128);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_key(&w, "addressBookEntries");
        cxw_jsonw_arr_begin(&w);
        for (size_t i = 0; i < n && w.len <= max_bytes; i++) {
                const cxw_ab_entry_t *e = &entries[i];
                cxw_jsonw_obj_begin(&w);
                cxw_jsonw_kstr(&w, ID_TO, e->contact_id);
                for (size_t k = 0; k < m->n && w.len <= max_bytes; k++) {
                        const cxw_ab_pair_t *p = &m->pairs[k];
                        const char *v;
                        if (strcmp(p->from, ID_FROM) == 0)
                                continue;
                        v = field_value(e, p->from);
                        if (v && v[0])
                                cxw_jsonw_kstr(&w, p->to, v);
                }
                cxw_jsonw_obj_end(&w);
        }
        cxw_jsonw_arr_end(&w);
        cxw_jsonw_obj_end(&w);
        if (w.failed) {
                cxw_jsonw_free(&w);
                cxw_set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (w.len > max_bytes) {
                cxw_jsonw_free(&w);
                cxw_set_err(errstr, errstr_size,
                            "an address-book body of %zu entries is over %zu bytes", n,
                            max_bytes);
                return NULL;
        }
        body = cxw_jsonw_finish(&w, len);
        if (!body)
                cxw_set_err(errstr, errstr_size, "out of memory");
        return body;
}

int cxw_ab_outcome(const cxw_batch_result_t *r, cxw_outcome_t *o)
{
        if (!r || !o || !cxw_batch_verdict_final(r->verdict))
                return -1;
        switch (r->verdict) {
        case CXW_BATCH_CALL_OK:
                o->status = CXW_OUTCOME_SUCCEEDED;
                break;
        case CXW_BATCH_CALL_REJECTED:
                o->status = CXW_OUTCOME_REJECTED;
                break;
        default:
                o->status = CXW_OUTCOME_FAILED;
                break;
        }
        o->http_status = r->http_status;
        o->attempts = r->attempts;
        o->latency_ms = r->latency_ms;
        if (r->verdict == CXW_BATCH_CALL_OK)
                o->error = NULL;
        else if (r->error)
                o->error = r->error;
        else /* its text could not be kept (out of memory) */
                o->error = r->verdict == CXW_BATCH_CALL_REJECTED
                               ? "CXone refused the entry"
                               : "retries ran out";
        return 0;
}
