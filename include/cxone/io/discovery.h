/**
 * @file discovery.h
 * @brief The two discovery documents of a real CXone tenant: the OpenID
 *        configuration of the issuer (its token endpoint) and the CXone
 *        configuration of the tenant (its API hosts).
 *
 * Pure: the caller fetches `cxw_discovery_openid_url()` and
 * `cxw_discovery_cxone_url()` itself (the worker on its loop, cxonectl
 * doctor with a blocking call) and hands the answers here. Every URL taken
 * from a document is checked before it is used: https (http only as the
 * caller's mode allows), a host, no user info, no query or fragment, no dot
 * segments; the token endpoint must be on the issuer's own origin, so a
 * document can never send the credentials to another host.
 *
 * @locality any thread; no globals.
 */
#ifndef CXONE_DISCOVERY_H
#define CXONE_DISCOVERY_H

#include <stddef.h>

#define CXW_DISCOVERY_MAX_BODY (64 * 1024) /**< larger documents are refused */
#define CXW_DISCOVERY_URL_MAX  1024        /**< longest URL accepted, with its NUL */

/** Which schemes a discovered URL may have. */
typedef enum {
        CXW_DISC_HTTPS_ONLY = 0, /**< the rule */
        CXW_DISC_HTTP_LOOPBACK,  /**< http:// too, to a loopback host only */
        CXW_DISC_HTTP_ANY,       /**< http:// anywhere (cxone.allow_insecure_http) */
} cxw_disc_http_t;

/** What the tenant's CXone configuration says. */
typedef struct cxw_cxone_hosts_s {
        char api_endpoint[CXW_DISCOVERY_URL_MAX]; /**< checked, no trailing '/' */
        char area[64];                            /**< e.g. "na1" */
        char domain[256];                         /**< e.g. "niceincontact.com" */
        char cluster[64];                         /**< "" if absent */
        char dfo_base[CXW_DISCOVERY_URL_MAX];     /**< https://api-de-{area}.{domain},
                                                       or dfo_endpoint */
} cxw_cxone_hosts_t;

/**
 * @brief Checks a URL as discovery does (see the file comment).
 * @returns 0, or -1 with errstr naming the problem (the URL, cut at 200 bytes).
 */
int cxw_discovery_url_ok(const char *url, cxw_disc_http_t http, char *errstr,
                         size_t errstr_size);

/** @brief `{issuer}/.well-known/openid-configuration` (issuer without its
 *         trailing '/'). @returns a malloc'd string, or NULL (out of memory). */
char *cxw_discovery_openid_url(const char *issuer);

/** @brief `{issuer}/.well-known/cxone-configuration?tenantId={tenant}`; the
 *         tenant must be valid (cxw_tenant_id_ok()). @returns a malloc'd
 *         string, or NULL. */
char *cxw_discovery_cxone_url(const char *issuer, const char *tenant_id);

/**
 * @brief Reads the OpenID configuration: its `issuer` must be the one asked
 *        (trailing '/' ignored) and its `token_endpoint` a checked URL on
 *        the issuer's origin (scheme, host and port).
 * @param token_endpoint receives it, size bytes (at least CXW_DISCOVERY_URL_MAX).
 * @returns 0, or -1 with errstr.
 */
int cxw_discovery_parse_openid(const char *body, size_t len, const char *issuer,
                               cxw_disc_http_t http, char *token_endpoint, size_t size,
                               char *errstr, size_t errstr_size);

/**
 * @brief Reads the tenant's CXone configuration: `api_endpoint` (a checked
 *        URL), `area` (a DNS label) and `domain` (a host name, an optional
 *        :port); `cluster` if present. dfo_base is `dfo_endpoint` when the
 *        document has one (a checked URL; cxone-sim's, not the platform's),
 *        else built from area and domain.
 * @returns 0, or -1 with errstr naming the field.
 */
int cxw_discovery_parse_cxone(const char *body, size_t len, cxw_disc_http_t http,
                              cxw_cxone_hosts_t *out, char *errstr, size_t errstr_size);

#endif
