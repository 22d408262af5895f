/* contacts.c: decode and validate contact-update requests, build the call. */
#include "cxone/contacts.h"
#include "cxone/jsonw.h"
#include "cxone/memcost.h"
#include "cxone/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_MAX 64 /* longest piece of a message echoed into an error */

/* A printable, bounded copy of untrusted bytes for an error message; out
 * must hold ECHO_MAX + 4 bytes. */
static const char *echo(const char *s, size_t len, char *out)
{
        return cxw_printable(s, len, ECHO_MAX, out);
}

static const char *echo_str(const char *s, char *out)
{
        return echo(s, strlen(s), out);
}

int cxw_contact_id_valid(const char *id, size_t len)
{
        if (!id || len < 1 || len > CXW_CONTACT_ID_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = id[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/* RFC 5322 atext, plus bytes of UTF-8 sequences (RFC 6531 allows them). */
static int is_atext(unsigned char c)
{
        if (c >= 0x80)
                return 1;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return 1;
        return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int is_label_char(unsigned char c)
{
        return c >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '-';
}

int cxw_email_valid(const char *s)
{
        const char *at, *p;
        size_t len, local_len;

        if (!s)
                return 0;
        len = strnlen(s, 255);
        if (len == 0 || len > 254)
                return 0;
        at = strchr(s, '@');
        if (!at || strchr(at + 1, '@'))
                return 0;

        /* local part: dot-atom, 1..64 */
        local_len = (size_t)(at - s);
        if (local_len < 1 || local_len > 64 || s[0] == '.' || at[-1] == '.')
                return 0;
        for (p = s; p < at; p++) {
                if (*p == '.') {
                        if (p[1] == '.')
                                return 0;
                } else if (!is_atext((unsigned char)*p)) {
                        return 0;
                }
        }

        /* domain: two or more labels of 1..63, no leading/trailing hyphen; the
         * last (the TLD) at least 2 characters and not all digits */
        const char *label = at + 1;
        int nlabels = 0;
        for (;;) {
                const char *e = label;
                int digits_only = 1;
                while (*e && *e != '.') {
                        if (!is_label_char((unsigned char)*e))
                                return 0;
                        if (!(*e >= '0' && *e <= '9'))
                                digits_only = 0;
                        e++;
                }
                size_t llen = (size_t)(e - label);
                if (llen < 1 || llen > 63 || label[0] == '-' || e[-1] == '-')
                        return 0;
                nlabels++;
                if (*e == '\0') {
                        if (nlabels < 2 || llen < 2 || digits_only)
                                return 0;
                        break;
                }
                label = e + 1;
        }
        return 1;
}

char *cxw_contact_path(const char *tmpl, const char *id)
{
        static const char ph[] = "{contactId}";
        const char *at;
        size_t pre, idlen, post;
        char *out;

        if (!tmpl || !id)
                return NULL;
        at = strstr(tmpl, ph);
        if (!at)
                return NULL;
        pre = (size_t)(at - tmpl);
        idlen = strlen(id);
        post = strlen(at + sizeof(ph) - 1);
        out = malloc(pre + idlen + post + 1);
        if (!out)
                return NULL;
        memcpy(out, tmpl, pre);
        memcpy(out + pre, id, idlen);
        memcpy(out + pre + idlen, at + sizeof(ph) - 1, post + 1);
        return out;
}

void cxw_contact_update_clear(cxw_contact_update_t *u)
{
        if (!u)
                return;
        free(u->body);
        free(u->fields);
        memset(u, 0, sizeof(*u));
}

size_t cxw_contact_update_bytes(const cxw_contact_update_t *u)
{
        size_t c = 0;

        if (u && u->body)
                c += cxw_memcost_chunk(u->body_cap);
        if (u && u->fields)
                c += cxw_memcost_chunk(u->fields_cap * sizeof(*u->fields));
        return c;
}

/* jansson's duplicate-key error gives the position just after the key's
 * string token: find that token and decode it, to name the key. */
static void name_duplicate(const char *v, size_t len, const json_error_t *jerr,
                           char *errstr, size_t errstr_size)
{
        char ebuf[ECHO_MAX + 4];
        size_t end = jerr->position > 0 ? (size_t)jerr->position : 0;
        size_t start;

        if (end >= 2 && end <= len && v[end - 1] == '"') {
                for (start = end - 1; start > 0; start--) {
                        if (v[start - 1] != '"')
                                continue;
                        /* a quote preceded by an even number of backslashes
                         * opens the string */
                        size_t bs = 0;
                        while (start - 1 >= bs + 1 && v[start - 2 - bs] == '\\')
                                bs++;
                        if (bs % 2 == 0)
                                break;
                }
                if (start > 0) {
                        json_t *k = json_loadb(v + start - 1, end - start + 1,
                                               JSON_DECODE_ANY, NULL);
                        if (json_is_string(k)) {
                                cxw_set_err(
                                    errstr, errstr_size,
                                    "invalid JSON at line %d column %d: duplicate "
                                    "key '%s'",
                                    jerr->line, jerr->column,
                                    echo(json_string_value(k), json_string_length(k),
                                         ebuf));
                                json_decref(k);
                                return;
                        }
                        json_decref(k);
                }
        }
        cxw_set_err(errstr, errstr_size,
                    "invalid JSON at line %d column %d: duplicate key", jerr->line,
                    jerr->column);
}

static void allowed_list(const char *const *allowed, size_t nallowed, char *buf,
                         size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < nallowed && off < size; i++) {
                int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
                                 allowed[i] ? allowed[i] : "");
                if (n < 0)
                        break;
                off += (size_t)n;
        }
}

/* The allowed[] entry equal to name, or NULL. */
static const char *allowed_name(const char *name, const char *const *allowed,
                                size_t nallowed)
{
        for (size_t i = 0; i < nallowed; i++)
                if (allowed[i] && strcmp(allowed[i], name) == 0)
                        return allowed[i];
        return NULL;
}

int cxw_contact_decode(const void *value, size_t len, const void *key, size_t keylen,
                       const char *const *allowed, size_t nallowed, size_t max_bytes,
                       cxw_contact_update_t *out, char *errstr, size_t errstr_size)
{
        char ebuf[ECHO_MAX + 4], ebuf2[ECHO_MAX + 4], list[256];
        json_error_t jerr;
        json_t *root = NULL, *cid;
        cxw_jsonw_t body = {0};
        const char *name, *id;
        json_t *v;
        size_t idlen;

        if (!out)
                return -1;
        memset(out, 0, sizeof(*out));
        if (errstr && errstr_size)
                errstr[0] = '\0';

        if (max_bytes && len > max_bytes) {
                cxw_set_err(errstr, errstr_size,
                            "message is %zu bytes, over the limit of %zu", len,
                            max_bytes);
                goto fail;
        }
        if (!value || len == 0) {
                cxw_set_err(errstr, errstr_size, "message is empty");
                goto fail;
        }
        root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                if (json_error_code(&jerr) == json_error_duplicate_key) {
                        name_duplicate(value, len, &jerr, errstr, errstr_size);
                } else if (json_error_code(&jerr) == json_error_invalid_utf8) {
                        cxw_set_err(
                            errstr, errstr_size,
                            "invalid JSON at line %d column %d: invalid UTF-8 (%s)",
                            jerr.line, jerr.column, echo_str(jerr.text, ebuf));
                } else {
                        /* jerr.text may quote the input ("near '...'"): echo it
                         * only through the printable filter. */
                        cxw_set_err(errstr, errstr_size,
                                    "invalid JSON at line %d column %d: %s", jerr.line,
                                    jerr.column, echo_str(jerr.text, ebuf));
                }
                goto fail;
        }
        if (!json_is_object(root)) {
                cxw_set_err(errstr, errstr_size, "message is not a JSON object");
                goto fail;
        }

        cid = json_object_get(root, "contactId");
        if (!cid) {
                cxw_set_err(errstr, errstr_size, "contactId is missing");
                goto fail;
        }
        if (!json_is_string(cid)) {
                cxw_set_err(errstr, errstr_size, "contactId must be a string");
                goto fail;
        }
        id = json_string_value(cid);
        idlen = json_string_length(cid);
        if (!cxw_contact_id_valid(id, idlen)) {
                cxw_set_err(errstr, errstr_size,
                            "contactId must be 1-128 characters of A-Z a-z 0-9 . _ -");
                goto fail;
        }
        if (key && keylen > 0 && (keylen != idlen || memcmp(key, id, idlen) != 0)) {
                cxw_set_err(errstr, errstr_size, "key '%s' does not match contactId '%s'",
                            echo(key, keylen, ebuf), echo(id, idlen, ebuf2));
                goto fail;
        }

        /* The body is written as the fields are checked, in the message's
         * order (jansson 2.8+ iterates objects in insertion order); the
         * field names point into allowed[], which outlives the update. */
        /* each field is a distinct allowed name: nallowed entries suffice */
        out->fields_cap = nallowed ? nallowed : 1;
        out->fields = malloc(out->fields_cap * sizeof(*out->fields));
        if (!out->fields) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        cxw_jsonw_init(&body, len);
        cxw_jsonw_obj_begin(&body);
        json_object_foreach(root, name, v)
        {
                const char *known;

                if (strcmp(name, "contactId") == 0)
                        continue;
                known = allowed_name(name, allowed, nallowed);
                if (!known) {
                        allowed_list(allowed, nallowed, list, sizeof(list));
                        cxw_set_err(errstr, errstr_size,
                                    "unknown field '%s' (allowed: %s)",
                                    echo_str(name, ebuf), list);
                        goto fail;
                }
                if (json_is_null(v))
                        continue;
                if (!json_is_string(v)) {
                        cxw_set_err(errstr, errstr_size,
                                    "field '%s' must be a string or null",
                                    echo_str(name, ebuf));
                        goto fail;
                }
                size_t vlen = json_string_length(v);
                if (vlen > CXW_CONTACT_VALUE_MAX) {
                        cxw_set_err(errstr, errstr_size,
                                    "field '%s' is %zu bytes, over the limit of %d",
                                    echo_str(name, ebuf), vlen, CXW_CONTACT_VALUE_MAX);
                        goto fail;
                }
                if (vlen == 0)
                        continue;
                if (strcmp(name, "email") == 0 &&
                    (strlen(json_string_value(v)) != vlen ||
                     !cxw_email_valid(json_string_value(v)))) {
                        cxw_set_err(errstr, errstr_size,
                                    "field 'email' is not a valid e-mail address");
                        goto fail;
                }
                cxw_jsonw_key(&body, known);
                cxw_jsonw_strn(&body, json_string_value(v), vlen);
                out->fields[out->nfields++] = known;
        }
        cxw_jsonw_obj_end(&body);
        if (out->nfields == 0) {
                cxw_set_err(errstr, errstr_size, "no fields to update");
                goto fail;
        }
        out->body_cap = body.cap;
        out->body = cxw_jsonw_finish(&body, &out->body_len);
        if (!out->body) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        memcpy(out->contact_id, id, idlen);
        out->contact_id[idlen] = '\0';
        json_decref(root);
        return 0;

fail:
        cxw_contact_update_clear(out);
        cxw_jsonw_free(&body);
        json_decref(root);
        return -1;
}
