/**
 * @file sim_req.h
 * @brief cxone-sim's HTTP front end, inside: one request as the handlers see
 *        it, the dispatch table's rows, how a handler answers, and the
 *        endpoint handlers each file defines. Only src/sim/ uses it.
 *
 * Who does what:
 *   sim_http.c     the dispatch table, routing, the fault layer (drop, rate
 *                  limit, errors, latency) and the cxw_httpd callbacks;
 *                  answers are built with the helpers declared here.
 *   sim_oauth.c    client credentials (HTTP Basic) and POST /oauth/token;
 *                  Bearer checks for the API handlers.
 *   sim_api.c      the seed profile's /api/ endpoints: contact PATCHes,
 *                  schedule imports, async-job polls.
 *   sim_control.c  the /_sim/ endpoints: stats, tokens, contacts, jobs,
 *                  runtime configuration, reset.
 *   sim_cxone_auth.c    the cxone profile's discovery documents and
 *                       POST /auth/token (password grant, id_token).
 *   sim_cxone_fields.c  the cxone profile's DFO custom fields.
 *   sim_cxone_addressbook.c  the cxone profile's address books (under
 *                       --admin-prefix).
 */
#ifndef CXONE_SIM_REQ_H
#define CXONE_SIM_REQ_H

#include "sim.h"

typedef struct cxw_sim_req cxw_sim_req_t;

/** An endpoint handler: reads the request, sets the answer. */
typedef void (*cxw_sim_handler_fn)(cxw_sim_t *sim, cxw_sim_req_t *r);

/** One row of the dispatch table. */
typedef struct cxw_sim_route {
        const char *method;
        const char *path; /**< exact, or the prefix before {param} */
        bool param;       /**< the rest of the path is one parameter */
        size_t body_max;  /**< 0 = any body is read and ignored */
        cxw_sim_handler_fn fn;
        /** NULL, or what follows {param} (one path segment then): the path
         *  is PREFIX{param}SUFFIX */
        const char *suffix;
} cxw_sim_route_t;

/** One request, from its headers to its answer. */
struct cxw_sim_req {
        cxw_httpd_req_t *http;        /**< the connection and the body kept */
        const cxw_sim_route_t *route; /**< NULL: no route for method and path */
        bool path_known;              /**< some route has this path (405, not 404) */
        bool is_api;                  /**< /api/...: faults, latency, concurrency */
        bool is_oauth;                /**< /oauth/...: counted by status */
        bool delayed;                 /**< answer built, waiting out the latency */
        int64_t extra_delay_ms;       /**< the handler's latency on top (per entry) */
        char param[CXW_SIM_ID_MAX + 2];
        bool param_too_long;

        /* The answer. */
        unsigned status;
        bool empty; /**< no body, no Content-Type (a 204) */
        char *resp;
        size_t resp_len;
        const char *hdr_name; /**< one extra header: Retry-After, Allow, ... */
        char hdr_value[96];
};

/* ---- answering (sim_http.c) ---- */

/** @brief Sets the answer to body (stolen; NULL = out of memory), compact JSON. */
void cxw_sim_answer_json(cxw_sim_req_t *r, unsigned status, json_t *body);

/** @brief Answers {"error": message, extra_key: extra_value} (extra_key may be NULL). */
void cxw_sim_answer_error2(cxw_sim_req_t *r, unsigned status, const char *message,
                           const char *extra_key, const char *extra_value);

/** @brief Answers {"error": message}. */
void cxw_sim_answer_error(cxw_sim_req_t *r, unsigned status, const char *message);

/** @brief Answers status without a body (a 204). */
void cxw_sim_answer_empty(cxw_sim_req_t *r, unsigned status);

/** @brief Sets the one extra header of the answer (name is static, value copied). */
void cxw_sim_set_header(cxw_sim_req_t *r, const char *name, const char *value);

/** @brief A request header by name, or NULL. */
const char *cxw_sim_header(cxw_sim_req_t *r, const char *name);
/**
 * @brief Whether the request carries a live Bearer token; if not, answers
 *        401 invalid_token with WWW-Authenticate: Bearer.
 */
bool cxw_sim_bearer_or_401(cxw_sim_t *sim, cxw_sim_req_t *r);
/**
 * @brief The request's key: its Idempotency-Key header, else X-Request-Id,
 *        else NULL in *key. Over CXW_SIM_REQKEY_MAX characters: answers 400
 *        and returns false.
 */
bool cxw_sim_request_key(cxw_sim_req_t *r, const char **key);

/* ---- credentials (sim_oauth.c) ---- */

/** @brief Whether the request carries "Authorization: Bearer T" with a live token. */
bool cxw_sim_bearer_ok(cxw_sim_t *sim, cxw_sim_req_t *r);

/** @brief POST /oauth/token (client credentials, HTTP Basic). */
void cxw_sim_on_token(cxw_sim_t *sim, cxw_sim_req_t *r);

/* ---- the seed profile's /api/ (sim_api.c) ---- */

/** @brief PATCH /api/v2/contacts/{contactId} */
void cxw_sim_on_patch_contact(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief POST /api/v2/wfm/schedules/import */
void cxw_sim_on_schedule_import(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /api/v2/wfm/async-jobs/{jobId} */
void cxw_sim_on_async_job(cxw_sim_t *sim, cxw_sim_req_t *r);

/* ---- credentials shared by both profiles (sim_oauth.c) ---- */

/** What a request's HTTP Basic client authentication says. */
typedef enum {
        CXW_SIM_BASIC_ABSENT = 0, /**< no "Authorization: Basic" header */
        CXW_SIM_BASIC_OK,         /**< the sim's client id and secret */
        CXW_SIM_BASIC_WRONG,      /**< present, malformed or wrong */
} cxw_sim_basic_t;

/**
 * @brief Checks HTTP Basic client authentication against --client-id and
 *        --client-secret: id and secret form-urlencoded before base64 (RFC
 *        6749 2.3.1), and with raw_too also as they are.
 */
cxw_sim_basic_t cxw_sim_client_basic(cxw_sim_t *sim, cxw_sim_req_t *r, bool raw_too);

/**
 * @brief The form-decoded value of key in a form body, into out (size bytes).
 * @returns true if the key is present; *malformed when its value cannot be
 *          decoded or does not fit (out is "" then).
 */
bool cxw_sim_form_get(const char *body, size_t len, const char *key, char *out,
                      size_t size, bool *malformed);

/** @brief a[0..alen) == b, in time independent of where they differ. */
bool cxw_sim_same_secret(const char *a, size_t alen, const char *b);

/* ---- the cxone profile (sim_cxone_auth.c, sim_cxone_fields.c) ---- */

/** @brief GET /.well-known/openid-configuration */
void cxw_sim_on_openid_config(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /.well-known/cxone-configuration?tenantId=ID */
void cxw_sim_on_cxone_config(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief POST /auth/token (password grant with access keys) */
void cxw_sim_on_auth_token(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /dfo/3.0/customers/custom-field-definitions */
void cxw_sim_on_field_definitions(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief PUT /dfo/3.0/customers/{customerId}/custom-fields */
void cxw_sim_on_custom_fields(cxw_sim_t *sim, cxw_sim_req_t *r);

/* ---- the cxone profile's address books, under --admin-prefix
 *      (sim_cxone_addressbook.c) ---- */

/** @brief PUT {prefix}/address-books/{addressBookId}/dynamic-entries?fullLoad=false */
void cxw_sim_on_ab_entries(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET {prefix}/address-books/{addressBookId} */
void cxw_sim_on_ab_get(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET {prefix}/address-books */
void cxw_sim_on_ab_list(cxw_sim_t *sim, cxw_sim_req_t *r);

/* ---- /_sim/ (sim_control.c) ---- */

/** @brief GET /_sim/stats */
void cxw_sim_on_stats(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /_sim/tokens */
void cxw_sim_on_tokens(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /_sim/contacts/{id} */
void cxw_sim_on_sim_contact(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /_sim/jobs/{jobId} */
void cxw_sim_on_sim_job(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief GET /_sim/config */
void cxw_sim_on_config_get(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief POST /_sim/config */
void cxw_sim_on_config_set(cxw_sim_t *sim, cxw_sim_req_t *r);
/** @brief POST /_sim/reset */
void cxw_sim_on_reset(cxw_sim_t *sim, cxw_sim_req_t *r);

/**
 * @brief The job named by the path parameter as JSON, or NULL after
 *        answering 404 (shared by the poll and /_sim/jobs/).
 */
json_t *cxw_sim_job_of(cxw_sim_t *sim, cxw_sim_req_t *r, bool internal);

#endif
