/* contacts.c: decode and validate contact-update requests, build the call. */
#include "cxone/requests/contacts.h"
#include "cxone/base/jsonw.h"
#include "cxone/base/memcost.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cxw_contact_id_valid(const char *id, size_t len)
{
        size_t dots = 0;

        if (!id || len < 1 || len > CXW_CONTACT_ID_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = id[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
                dots += c == '.';
        }
        /* ".", "..": dot segments would take the URL path elsewhere */
        return dots < len;
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
        char ebuf[CXW_ECHO_SIZE];
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
                                    cxw_echo(json_string_value(k), json_string_length(k),
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

/* The allowed[] entry equal to name (n bytes), or NULL. */
static const char *allowed_name(const char *name, size_t n, const char *const *allowed,
                                size_t nallowed)
{
        for (size_t i = 0; i < nallowed; i++)
                if (allowed[i] && strncmp(allowed[i], name, n) == 0 &&
                    allowed[i][n] == '\0')
                        return allowed[i];
        return NULL;
}

/* One member of the message object, whichever parser read it. */
typedef enum { M_STRING = 0, M_NULL, M_OTHER } mtype_t;
typedef struct member_s {
        const char *name;
        size_t nlen;
        const char *val; /* M_STRING: the decoded value, vlen bytes */
        size_t vlen;
        mtype_t type;
} member_t;

#define FAST_MEMBERS 16 /* the fast path's most members */

static int is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A string without escapes, control characters or non-ASCII bytes at *pp
 * (after its opening quote); moves *pp past the closing quote. */
static int fast_string(const char **pp, const char *end, const char **s, size_t *n)
{
        const char *p = *pp, *start = p;

        while (p < end && *p != '"') {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c >= 0x7f || c == '\\')
                        return -1;
                p++;
        }
        if (p == end)
                return -1;
        *s = start;
        *n = (size_t)(p - start);
        *pp = p + 1;
        return 0;
}

/* The common message, read without building a tree: one flat object of at
 * most FAST_MEMBERS distinct keys whose values are plain strings (as
 * fast_string) or null. @returns the member count, or -1 for anything else:
 * jansson then reads it, and its errors are the ones reported. */
static int fast_members(const char *v, size_t len, member_t *m)
{
        const char *p = v, *end = v + len;
        int n = 0;

        while (p < end && is_ws(*p))
                p++;
        if (p == end || *p++ != '{')
                return -1;
        while (p < end && is_ws(*p))
                p++;
        if (p < end && *p == '}') {
                p++;
                goto tail;
        }
        for (;;) {
                if (n == FAST_MEMBERS || p == end || *p++ != '"' ||
                    fast_string(&p, end, &m[n].name, &m[n].nlen))
                        return -1;
                for (int i = 0; i < n; i++) /* duplicates: jansson names them */
                        if (m[i].nlen == m[n].nlen &&
                            memcmp(m[i].name, m[n].name, m[n].nlen) == 0)
                                return -1;
                while (p < end && is_ws(*p))
                        p++;
                if (p == end || *p++ != ':')
                        return -1;
                while (p < end && is_ws(*p))
                        p++;
                if (p < end && *p == '"') {
                        p++;
                        if (fast_string(&p, end, &m[n].val, &m[n].vlen))
                                return -1;
                        m[n].type = M_STRING;
                } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
                        p += 4;
                        m[n].type = M_NULL;
                        m[n].val = NULL;
                        m[n].vlen = 0;
                } else {
                        return -1;
                }
                n++;
                while (p < end && is_ws(*p))
                        p++;
                if (p == end)
                        return -1;
                if (*p == '}') {
                        p++;
                        break;
                }
                if (*p++ != ',')
                        return -1;
                while (p < end && is_ws(*p))
                        p++;
        }
tail:
        while (p < end && is_ws(*p))
                p++;
        return p == end ? n : -1;
}

/* Names every member that is neither contactId nor an allowed field, at
 * once: a CSV export with extra columns should be fixed in one go, not one
 * rejection per column. @returns 1 (errstr set) if there is any. */
static int unknown_fields(const member_t *m, size_t n, const member_t *cid,
                          const char *const *allowed, size_t nallowed, char *errstr,
                          size_t errstr_size)
{
        char ebuf[CXW_ECHO_SIZE], names[600], list[256];
        size_t off = 0, count = 0, shown = 0;

        names[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                const member_t *f = &m[i];
                int k;

                if (f == cid || allowed_name(f->name, f->nlen, allowed, nallowed))
                        continue;
                count++;
                /* room for this name and a closing " and N more" */
                if (off + CXW_ECHO_MAX + 8 + 32 > sizeof(names))
                        continue;
                k = snprintf(names + off, sizeof(names) - off, "%s'%s'",
                             shown ? ", " : "", cxw_echo(f->name, f->nlen, ebuf));
                if (k > 0)
                        off += (size_t)k;
                shown++;
        }
        if (count == 0)
                return 0;
        if (count > shown)
                snprintf(names + off, sizeof(names) - off, " and %zu more",
                         count - shown);
        allowed_list(allowed, nallowed, list, sizeof(list));
        cxw_set_err(errstr, errstr_size, "unknown field%s %s (allowed: %s)",
                    count > 1 ? "s" : "", names, list);
        return 1;
}

/* Checks the members and builds the update (docs/messages.md): contactId, the
 * key, then each field in the message's order. */
static int check_members(const member_t *m, size_t n, const void *key, size_t keylen,
                         const char *const *allowed, size_t nallowed, size_t len,
                         cxw_contact_update_t *out, char *errstr, size_t errstr_size)
{
        char ebuf[CXW_ECHO_SIZE], ebuf2[CXW_ECHO_SIZE];
        const member_t *cid = NULL;
        cxw_jsonw_t body = {0};

        for (size_t i = 0; i < n && !cid; i++)
                if (m[i].nlen == 9 && memcmp(m[i].name, "contactId", 9) == 0)
                        cid = &m[i];
        /* The id the outcome names, whatever else is wrong: the contactId
         * when it is valid (else the key, set by the caller). */
        if (cid && cid->type == M_STRING && cxw_contact_id_valid(cid->val, cid->vlen)) {
                memcpy(out->contact_id, cid->val, cid->vlen);
                out->contact_id[cid->vlen] = '\0';
        }
        if (!cid) {
                cxw_set_err(errstr, errstr_size, "contactId is missing");
                goto fail;
        }
        if (cid->type != M_STRING) {
                cxw_set_err(errstr, errstr_size, "contactId must be a string");
                goto fail;
        }
        if (!cxw_contact_id_valid(cid->val, cid->vlen)) {
                cxw_set_err(errstr, errstr_size,
                            "contactId must be 1-128 characters of A-Z a-z 0-9 . _ -, "
                            "not only dots");
                goto fail;
        }
        if (key && keylen > 0 &&
            (keylen != cid->vlen || memcmp(key, cid->val, cid->vlen) != 0)) {
                cxw_set_err(errstr, errstr_size, "key '%s' does not match contactId '%s'",
                            cxw_echo(key, keylen, ebuf),
                            cxw_echo(cid->val, cid->vlen, ebuf2));
                goto fail;
        }

        if (unknown_fields(m, n, cid, allowed, nallowed, errstr, errstr_size))
                goto fail;

        /* The body is written as the fields are checked, in the message's
         * order; the field names point into allowed[], which outlives the
         * update. Each field is a distinct allowed name: nallowed entries
         * suffice. */
        out->fields_cap = nallowed ? nallowed : 1;
        out->fields = malloc(out->fields_cap * sizeof(*out->fields));
        if (!out->fields) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        cxw_jsonw_init(&body, len);
        cxw_jsonw_obj_begin(&body);
        for (size_t i = 0; i < n; i++) {
                const member_t *f = &m[i];
                const char *known;

                if (f == cid)
                        continue;
                known = allowed_name(f->name, f->nlen, allowed, nallowed);
                if (!known)
                        continue; /* not reached: unknown_fields() said so */
                if (f->type == M_NULL)
                        continue;
                if (f->type != M_STRING) {
                        cxw_set_err(errstr, errstr_size,
                                    "field '%s' must be a string or null",
                                    cxw_echo(f->name, f->nlen, ebuf));
                        goto fail;
                }
                if (f->vlen > CXW_CONTACT_VALUE_MAX) {
                        cxw_set_err(errstr, errstr_size,
                                    "field '%s' is %zu bytes, over the limit of %d",
                                    cxw_echo(f->name, f->nlen, ebuf), f->vlen,
                                    CXW_CONTACT_VALUE_MAX);
                        goto fail;
                }
                if (f->vlen == 0)
                        continue;
                if (strcmp(known, "email") == 0) {
                        /* an address is at most 254 bytes, without NUL */
                        char addr[256];
                        if (f->vlen > 254 || memchr(f->val, '\0', f->vlen)) {
                                addr[0] = '\0';
                        } else {
                                memcpy(addr, f->val, f->vlen);
                                addr[f->vlen] = '\0';
                        }
                        if (!cxw_email_valid(addr)) {
                                cxw_set_err(
                                    errstr, errstr_size,
                                    "field 'email' is not a valid e-mail address");
                                goto fail;
                        }
                }
                cxw_jsonw_key(&body, known);
                cxw_jsonw_strn(&body, f->val, f->vlen);
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
        return 0;
fail:
        cxw_jsonw_free(&body);
        return -1;
}

int cxw_contact_decode(const void *value, size_t len, const void *key, size_t keylen,
                       const char *const *allowed, size_t nallowed, size_t max_bytes,
                       cxw_contact_update_t *out, char *errstr, size_t errstr_size)
{
        char ebuf[CXW_ECHO_SIZE], id[CXW_CONTACT_ID_MAX + 1];
        member_t fast[FAST_MEMBERS], *m = fast;
        json_error_t jerr;
        json_t *root = NULL;
        int n;

        if (!out)
                return -1;
        memset(out, 0, sizeof(*out));
        if (errstr && errstr_size)
                errstr[0] = '\0';
        /* A valid key names the request until a valid contactId does. */
        if (key && cxw_contact_id_valid(key, keylen)) {
                memcpy(out->contact_id, key, keylen);
                out->contact_id[keylen] = '\0';
        }

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
        n = fast_members(value, len, fast);
        if (n >= 0)
                goto check;

        root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                if (json_error_code(&jerr) == json_error_duplicate_key) {
                        name_duplicate(value, len, &jerr, errstr, errstr_size);
                } else if (json_error_code(&jerr) == json_error_invalid_utf8) {
                        cxw_set_err(
                            errstr, errstr_size,
                            "invalid JSON at line %d column %d: invalid UTF-8 (%s)",
                            jerr.line, jerr.column,
                            cxw_echo(jerr.text, strlen(jerr.text), ebuf));
                } else {
                        /* jerr.text may quote the input ("near '...'"): echo it
                         * only through the printable filter. */
                        cxw_set_err(errstr, errstr_size,
                                    "invalid JSON at line %d column %d: %s", jerr.line,
                                    jerr.column,
                                    cxw_echo(jerr.text, strlen(jerr.text), ebuf));
                }
                goto fail;
        }
        if (!json_is_object(root)) {
                cxw_set_err(errstr, errstr_size, "message is not a JSON object");
                goto fail;
        }
        /* jansson 2.8+ iterates objects in insertion order: the message's */
        n = 0;
        if (json_object_size(root) > FAST_MEMBERS) {
                m = malloc(json_object_size(root) * sizeof(*m));
                if (!m) {
                        cxw_set_err(errstr, errstr_size, "out of memory");
                        goto fail;
                }
        }
        {
                const char *name;
                json_t *v;
                json_object_foreach(root, name, v)
                {
                        m[n].name = name;
                        m[n].nlen = strlen(name);
                        m[n].type = json_is_string(v) ? M_STRING
                                    : json_is_null(v) ? M_NULL
                                                      : M_OTHER;
                        m[n].val = json_string_value(v);
                        m[n].vlen = json_string_length(v);
                        n++;
                }
        }
check:
        if (check_members(m, (size_t)n, key, keylen, allowed, nallowed, len, out, errstr,
                          errstr_size) == -1)
                goto fail;
        if (m != fast)
                free(m);
        json_decref(root);
        return 0;

fail:
        /* The id, if it could be read, stays for the outcome. */
        memcpy(id, out->contact_id, sizeof(id));
        cxw_contact_update_clear(out);
        memcpy(out->contact_id, id, sizeof(id));
        if (m != fast)
                free(m);
        json_decref(root);
        return -1;
}
