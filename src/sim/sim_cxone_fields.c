/* sim_cxone_fields.c: the cxone profile's DFO custom fields. A customer's
 * values are kept in the contact store (sim_state.c) under the customer id,
 * one field per ident, so GET /_sim/contacts/{id} shows the last value of
 * each and the counters are the contacts' (contactsApplied). The idents
 * known are --custom-fields. */
#include "sim_req.h"

#include <stdio.h>
#include <string.h>

static bool ident_known(const cxw_sim_t *sim, const char *ident)
{
        for (size_t i = 0; i < sim->opts->n_idents; i++) {
                if (strcmp(sim->opts->idents[i], ident) == 0)
                        return true;
        }
        return false;
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

/* GET /dfo/3.0/customers/custom-field-definitions */
void cxw_sim_on_field_definitions(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        json_t *list, *out;

        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        list = json_array();
        for (size_t i = 0; list && i < sim->opts->n_idents; i++) {
                const char *id = sim->opts->idents[i];
                if (json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "ident", id,
                                                          "label", id, "type", "text")) !=
                    0) {
                        json_decref(list);
                        list = NULL;
                }
        }
        out = list ? json_pack("{s:o}", "definitions", list) : NULL;
        cxw_sim_answer_json(r, 200, out);
}

/* Checks element i of the body and adds it to fields.
 * @returns true if taken; false with the answer set. */
static bool take_field(cxw_sim_req_t *r, cxw_sim_t *sim, json_t *el, size_t i,
                       json_t *fields)
{
        json_t *ident = json_object_get(el, "ident");
        json_t *value = json_object_get(el, "value");
        const char *id = json_string_value(ident);
        char msg[200], idx[24];
        size_t len;

        snprintf(idx, sizeof(idx), "%zu", i);
        if (!json_is_object(el)) {
                snprintf(msg, sizeof(msg),
                         "[%zu]: must be an object {\"ident\",\"value\"}", i);
                cxw_sim_answer_error2(r, 400, msg, "index", idx);
                return false;
        }
        if (!id || strlen(id) != json_string_length(ident) || !*id) {
                snprintf(msg, sizeof(msg), "[%zu]: ident must be a non-empty string", i);
                cxw_sim_answer_error2(r, 400, msg, "index", idx);
                return false;
        }
        if (!ident_known(sim, id)) {
                snprintf(msg, sizeof(msg), "unknown custom field ident: %.100s", id);
                cxw_sim_answer_error2(r, 400, msg, "ident", id);
                return false;
        }
        if (!json_is_string(value)) {
                snprintf(msg, sizeof(msg), "value must be a string: %.100s", id);
                cxw_sim_answer_error2(r, 400, msg, "ident", id);
                return false;
        }
        len = json_string_length(value);
        if (strlen(json_string_value(value)) != len) {
                snprintf(msg, sizeof(msg), "value holds a NUL character: %.100s", id);
                cxw_sim_answer_error2(r, 400, msg, "ident", id);
                return false;
        }
        if (utf8_chars(json_string_value(value), len) > CXW_SIM_FIELD_VALUE_MAX) {
                snprintf(msg, sizeof(msg), "value longer than %d characters: %.100s",
                         CXW_SIM_FIELD_VALUE_MAX, id);
                cxw_sim_answer_error2(r, 400, msg, "ident", id);
                return false;
        }
        if (json_object_set(fields, id, value) != 0) {
                cxw_sim_answer_error(r, 500, "out of memory");
                return false;
        }
        return true;
}

/* PUT /dfo/3.0/customers/{customerId}/custom-fields
 * [{"ident":"firstName","value":"Ann"}, ...]: all checked, then all stored. */
void cxw_sim_on_custom_fields(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        const char *reqkey;
        json_t *body, *fields = NULL, *stored;
        json_error_t jerr;

        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        if (r->param_too_long || !cxw_sim_id_valid(r->param)) {
                cxw_sim_answer_error(r, 400,
                                     "invalid customerId: must be 1-128 characters of "
                                     "[A-Za-z0-9._-]");
                return;
        }
        if (r->http->too_large) {
                cxw_sim_answer_error(r, 413, "body larger than 512 KiB");
                return;
        }
        if (!cxw_sim_request_key(r, &reqkey))
                return;
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_array(body)) {
                cxw_sim_answer_error(
                    r, 400, "body must be a JSON array of {\"ident\",\"value\"}");
                goto out;
        }
        if (json_array_size(body) == 0) {
                cxw_sim_answer_error(r, 400, "body must name at least one custom field");
                goto out;
        }
        if (!(fields = json_object())) {
                cxw_sim_answer_error(r, 500, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < json_array_size(body); i++) {
                if (!take_field(r, sim, json_array_get(body, i), i, fields))
                        goto out;
        }
        if (!cxw_sim_contact_exists(sim, r->param)) {
                cxw_sim_answer_error2(r, 404, "customer not found", "customerId",
                                      r->param);
                goto out;
        }
        stored = cxw_sim_contact_apply(sim, r->param, fields, reqkey);
        if (!stored) {
                cxw_sim_answer_error(r, 500, "out of memory");
                goto out;
        }
        json_decref(stored);
        cxw_sim_answer_empty(r, 204);
out:
        json_decref(fields);
        json_decref(body);
}
