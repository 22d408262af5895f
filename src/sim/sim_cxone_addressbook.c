/* sim_cxone_addressbook.c: the cxone profile's address books, under the
 * admin prefix (--admin-prefix, default /inContactAPI/services/v30.0):
 *
 *   PUT {prefix}/address-books/{id}/dynamic-entries?fullLoad=false
 *       upserts many person-shaped entries in one call. Every entry is
 *       checked before any is stored: one bad entry rejects the whole
 *       request (400 naming it), which is what makes a client split a
 *       batch to find the bad ones. The entries are kept in the contact
 *       store (sim_state.c) under their externalId, like the DFO custom
 *       fields, so GET /_sim/contacts/{externalId} shows them.
 *   GET {prefix}/address-books and GET {prefix}/address-books/{id}
 *       the books of --address-books, so a client can check that its
 *       book exists.
 */
#include "sim_req.h"

#include "cxone/requests/contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry fields stored besides externalId. */
static const char *const entry_fields[] = {"firstName", "lastName", "email", "phone",
                                           "mobile"};

/* Whether s is 1..CXW_SIM_BOOK_ID_MAX characters of [A-Za-z0-9_-] (what
 * the worker accepts as an addressBookId). */
static bool book_id_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > CXW_SIM_BOOK_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

static bool book_known(const cxw_sim_t *sim, const char *id)
{
        for (size_t i = 0; i < sim->opts->n_books; i++) {
                if (strcmp(sim->opts->books[i], id) == 0)
                        return true;
        }
        return false;
}

int cxw_sim_ab_opts_check(const cxw_sim_opts_t *o, char *errstr, size_t errstr_size)
{
        const char *p = o->admin_prefix;
        size_t n = strlen(p);

        /* "/" then segments of [A-Za-z0-9._~-]: no "//", no trailing "/",
         * no "." or ".." segment. */
        if (p[0] != '/' || n < 2 || p[n - 1] == '/' || strstr(p, "//") ||
            strstr(p, "/./") || strstr(p, "/../") ||
            (n >= 2 && strcmp(p + n - 2, "/.") == 0) ||
            (n >= 3 && strcmp(p + n - 3, "/..") == 0)) {
                snprintf(errstr, errstr_size,
                         "--admin-prefix: want /SEGMENT[/SEGMENT...] without a "
                         "trailing /, an empty, . or .. segment");
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                char c = p[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
                      c == '-' || c == '/')) {
                        snprintf(errstr, errstr_size,
                                 "--admin-prefix: only A-Z a-z 0-9 . _ ~ - and /");
                        return -1;
                }
        }
        for (size_t i = 0; i < o->n_books; i++) {
                if (!book_id_valid(o->books[i])) {
                        snprintf(errstr, errstr_size,
                                 "--address-books: '%.80s' is not 1-%d characters of "
                                 "A-Z a-z 0-9 _ -",
                                 o->books[i], CXW_SIM_BOOK_ID_MAX);
                        return -1;
                }
                for (size_t k = 0; k < i; k++) {
                        if (strcmp(o->books[k], o->books[i]) == 0) {
                                snprintf(errstr, errstr_size,
                                         "--address-books: '%s' given twice",
                                         o->books[i]);
                                return -1;
                        }
                }
        }
        return 0;
}

/* A book id as JSON: a number when it is all digits (as the platform's
 * are), else a string. */
static json_t *book_id_json(const char *id)
{
        size_t n = strlen(id);

        if (strspn(id, "0123456789") == n && n <= 15)
                return json_integer((json_int_t)strtoll(id, NULL, 10));
        return json_string(id);
}

/* {"addressBookId":1001,"addressBookName":"...","addressBookType":"Dynamic"} */
static json_t *book_json(const char *id)
{
        char name[CXW_SIM_BOOK_ID_MAX + 32];

        snprintf(name, sizeof(name), "cxone-sim book %.64s", id);
        return json_pack("{s:o, s:s, s:s}", "addressBookId", book_id_json(id),
                         "addressBookName", name, "addressBookType", "Dynamic");
}

/* GET {prefix}/address-books */
void cxw_sim_on_ab_list(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        json_t *list;

        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        list = json_array();
        for (size_t i = 0; list && i < sim->opts->n_books; i++) {
                if (json_array_append_new(list, book_json(sim->opts->books[i])) != 0) {
                        json_decref(list);
                        list = NULL;
                }
        }
        cxw_sim_answer_json(r, 200,
                            list ? json_pack("{s:o}", "addressBooks", list) : NULL);
}

static void answer_unknown_book(cxw_sim_req_t *r)
{
        cxw_sim_answer_error2(r, 404, "address book not found", "addressBookId",
                              r->param_too_long ? "" : r->param);
}

/* GET {prefix}/address-books/{addressBookId} */
void cxw_sim_on_ab_get(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        if (r->param_too_long || !book_known(sim, r->param)) {
                answer_unknown_book(r);
                return;
        }
        cxw_sim_answer_json(r, 200,
                            json_pack("{s:o}", "addressBook", book_json(r->param)));
}

/* fullLoad: present exactly once and "false". */
typedef struct full_load {
        unsigned seen;
        bool all_false;
} full_load_t;

static enum MHD_Result full_load_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        full_load_t *f = cls;

        (void)kind;
        if (key && strcmp(key, "fullLoad") == 0) {
                f->seen++;
                if (!value || strcmp(value, "false") != 0)
                        f->all_false = false;
        }
        return MHD_YES;
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

/* Answers 400 for entry i: {"error":"entry I (externalId X): WHY","index":I,
 * "externalId":X?,"field":F?}. */
static void entry_error(cxw_sim_req_t *r, size_t i, const char *ext, const char *field,
                        const char *why)
{
        char msg[400];
        json_t *o;

        if (ext)
                snprintf(msg, sizeof(msg), "entry %zu (externalId %s): %s%s%s", i, ext,
                         field ? field : "", field ? ": " : "", why);
        else
                snprintf(msg, sizeof(msg), "entry %zu: %s%s%s", i, field ? field : "",
                         field ? ": " : "", why);
        o = json_pack("{s:s, s:I}", "error", msg, "index", (json_int_t)i);
        if (o && ext)
                json_object_set_new(o, "externalId", json_string(ext));
        if (o && field)
                json_object_set_new(o, "field", json_string(field));
        cxw_sim_answer_json(r, 400, o);
}

static bool field_known(const char *name)
{
        for (size_t i = 0; i < sizeof(entry_fields) / sizeof(entry_fields[0]); i++) {
                if (strcmp(entry_fields[i], name) == 0)
                        return true;
        }
        return false;
}

/* Checks entry i. @returns true if good; false with the answer set. */
static bool entry_ok(cxw_sim_t *sim, cxw_sim_req_t *r, json_t *el, size_t i)
{
        json_t *jext = json_object_get(el, "externalId"), *v;
        const char *ext = json_string_value(jext), *k;
        char field[72];

        if (!json_is_object(el)) {
                entry_error(r, i, NULL, NULL, "must be an object");
                return false;
        }
        if (!jext) {
                entry_error(r, i, NULL, NULL, "externalId missing");
                return false;
        }
        if (!ext || strlen(ext) != json_string_length(jext) || !cxw_sim_id_valid(ext)) {
                entry_error(r, i, NULL, "externalId",
                            "must be a string of 1-128 characters of [A-Za-z0-9._-]");
                return false;
        }
        json_object_foreach(el, k, v)
        {
                const char *s = json_string_value(v);
                size_t len = json_string_length(v);

                if (strcmp(k, "externalId") == 0)
                        continue;
                /* A field name from the client, echoed: bounded, printable. */
                snprintf(field, sizeof(field), "%.64s", k);
                for (char *p = field; *p; p++) {
                        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
                                *p = '?';
                }
                if (!field_known(k)) {
                        entry_error(r, i, ext, field,
                                    "unknown field (firstName, lastName, email, phone, "
                                    "mobile)");
                        return false;
                }
                if (!s) {
                        entry_error(r, i, ext, field, "must be a string");
                        return false;
                }
                if (strlen(s) != len) {
                        entry_error(r, i, ext, field, "holds a NUL character");
                        return false;
                }
                if (utf8_chars(s, len) > CXW_SIM_FIELD_VALUE_MAX) {
                        entry_error(r, i, ext, field, "longer than 1024 characters");
                        return false;
                }
                if (strcmp(k, "email") == 0 && len > 0 && sim->opts->email_validation &&
                    !cxw_email_valid(s)) {
                        entry_error(r, i, ext, field, "not a valid e-mail address");
                        return false;
                }
        }
        return true;
}

/* Stores every entry (all checked): the fields other than externalId are
 * merged into the contact externalId; the last value of each wins.
 * @returns the entries stored; *oom set when memory ran out part-way. */
static size_t store_entries(cxw_sim_t *sim, json_t *entries, const char *reqkey,
                            bool *oom)
{
        size_t n = 0;

        for (size_t i = 0; i < json_array_size(entries); i++) {
                json_t *el = json_array_get(entries, i), *stored;
                char id[CXW_SIM_ID_MAX + 1];

                snprintf(id, sizeof(id), "%s",
                         json_string_value(json_object_get(el, "externalId")));
                json_object_del(el, "externalId");
                stored = cxw_sim_contact_apply(sim, id, el, reqkey);
                if (!stored) {
                        *oom = true;
                        break;
                }
                json_decref(stored);
                n++;
        }
        return n;
}

static void put_entries(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        full_load_t fl = {0, true};
        const char *reqkey;
        json_t *body = NULL, *entries;
        json_error_t jerr;
        size_t n, stored;
        bool oom = false;

        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        if (r->param_too_long || !book_known(sim, r->param)) {
                answer_unknown_book(r);
                return;
        }
        MHD_get_connection_values(r->http->conn, MHD_GET_ARGUMENT_KIND, full_load_arg,
                                  &fl);
        if (fl.seen != 1 || !fl.all_false) {
                cxw_sim_answer_error(r, 400,
                                     "fullLoad=false is required (once; fullLoad=true "
                                     "is never accepted)");
                return;
        }
        if (r->http->too_large) {
                cxw_sim_answer_error(r, 413, "body larger than 4 MiB");
                return;
        }
        if (!cxw_sim_request_key(r, &reqkey))
                return;
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        entries = json_object_get(body, "addressBookEntries");
        if (!json_is_object(body) || !json_is_array(entries)) {
                cxw_sim_answer_error(r, 400,
                                     "body must be a JSON object "
                                     "{\"addressBookEntries\":[...]}");
                goto out;
        }
        n = json_array_size(entries);
        if (n == 0) {
                cxw_sim_answer_error(r, 400, "addressBookEntries is empty");
                goto out;
        }
        if (n > CXW_SIM_AB_ENTRIES_MAX) {
                char msg[96];
                snprintf(msg, sizeof(msg), "more than %d entries in one request (%zu)",
                         CXW_SIM_AB_ENTRIES_MAX, n);
                cxw_sim_answer_error(r, 413, msg);
                goto out;
        }
        r->extra_delay_ms = (int64_t)n * sim->opts->latency_per_entry_ms;
        for (size_t i = 0; i < n; i++) {
                if (!entry_ok(sim, r, json_array_get(entries, i), i))
                        goto out;
        }
        stored = store_entries(sim, entries, reqkey, &oom);
        atomic_fetch_add(&sim->ab_entries, (uint_fast64_t)stored);
        if (oom) {
                cxw_sim_answer_error(r, 500, "out of memory");
                goto out;
        }
        cxw_sim_answer_json(r, 200,
                            json_pack("{s:o, s:I}", "addressBookId",
                                      book_id_json(r->param), "entriesUpserted",
                                      (json_int_t)stored));
out:
        json_decref(body);
}

/* PUT {prefix}/address-books/{addressBookId}/dynamic-entries?fullLoad=false */
void cxw_sim_on_ab_entries(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        atomic_fetch_add(&sim->ab_requests, 1);
        put_entries(sim, r);
        if (r->status >= 400 && r->status < 500)
                atomic_fetch_add(&sim->ab_rejected, 1);
}
