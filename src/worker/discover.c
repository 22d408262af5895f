/* discover.c: where CXone is. With cxone.issuer_url (the cxone profile) the
 * token endpoint comes from the issuer's OpenID configuration and the API
 * hosts from the tenant's CXone configuration, fetched on the loop; until
 * both are known no call starts (messages wait, as when the token endpoint
 * is down) and /readyz says why. A failed discovery is retried with
 * backoff; a token endpoint that stops answering is discovered again.
 * Without an issuer everything comes from the config at once (the seed).
 * Also the login request and the contact target, made once at start. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/io/discovery.h"
#include "cxone/io/http.h"
#include "cxone/io/token.h"
#include "cxone/requests/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISC_BACKOFF_BASE_MS 500
#define DISC_BACKOFF_CAP_MS  30000

/* base without trailing slashes, then prefix; malloc'd. */
static char *join_base(const char *base, const char *prefix)
{
        size_t n = strlen(base);
        char *s = NULL;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (asprintf(&s, "%.*s%s", (int)n, base, prefix ? prefix : "") < 0)
                return NULL;
        return s;
}

int worker_discover_init(cxw_worker_t *w, char *errstr, size_t errstr_size)
{
        const cxw_config_t *cfg = w->cfg;
        cxw_token_login_t login = {0};
        const char *issuer = cfg->issuer_url;

        if (cxw_token_grant_parse(cfg->auth_grant, &login.grant) != 0 ||
            cxw_token_client_auth_parse(cfg->client_auth, &login.client_auth) != 0) {
                snprintf(errstr, errstr_size, "bad cxone.auth.grant or client_auth");
                return -1;
        }
        login.client_id = cfg->client_id;
        login.client_secret = cfg->client_secret;
        login.username = cfg->access_key_id;
        login.password = cfg->access_key_secret;
        login.scope = cfg->scope;
        if (cxw_token_login_request(&login, &w->token_body, &w->token_auth, errstr,
                                    errstr_size) != 0)
                return -1;
        w->target = cxw_contact_target_new(cfg->contacts_target, cfg->contacts_method,
                                           cfg->contacts_path,
                                           (const char *const *)cfg->contact_idents.v,
                                           cfg->contact_idents.cnt, errstr, errstr_size);
        if (!w->target)
                return -1;
        w->dfo_needed = cxw_contact_target_base(w->target) == CXW_TARGET_BASE_DFO;
        if (*issuer) {
                w->issuer = join_base(issuer, "");
                if (!w->issuer)
                        goto oom;
                /* A discovered URL may be http:// only where the config
                 * would allow it: anywhere with allow_insecure_http, else
                 * to loopback only when the issuer itself is http://. */
                w->disc_http = cfg->allow_insecure_http         ? CXW_DISC_HTTP_ANY
                               : strncmp(issuer, "https://", 8) ? CXW_DISC_HTTP_LOOPBACK
                                                                : CXW_DISC_HTTPS_ONLY;
        }
        if (*cfg->token_url) {
                w->token_url = strdup(cfg->token_url);
                if (!w->token_url)
                        goto oom;
        } else {
                w->disc_token = 1;
        }
        if (*cfg->base_url) {
                w->api_base = join_base(cfg->base_url, cfg->admin_prefix);
                if (!w->api_base)
                        goto oom;
        }
        if (*cfg->dfo_base_url) {
                w->dfo_base = join_base(cfg->dfo_base_url, "");
                if (!w->dfo_base)
                        goto oom;
        }
        w->disc_hosts = !w->api_base || (w->dfo_needed && !w->dfo_base);
        /* The hosts are asked by tenant: from the config, else the login's
         * id_token, which must then name it. */
        if (w->disc_hosts && !*cfg->tenant_id)
                cxw_token_require_tenant(w->token, 1);
        if ((w->disc_token || w->disc_hosts) && !w->issuer) {
                snprintf(errstr, errstr_size,
                         "the CXone endpoints are not configured and there is no "
                         "cxone.issuer_url to discover them");
                return -1;
        }
        if (w->disc_token || w->disc_hosts)
                CXW_INFO("discovery",
                         "CXone endpoints come from the issuer %s: %s%s%s; not ready "
                         "until they are known",
                         w->issuer, w->disc_token ? "the token endpoint" : "",
                         w->disc_token && w->disc_hosts ? " and " : "",
                         w->disc_hosts ? "the API hosts" : "");
        return 0;
oom:
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
}

void worker_discover_free(cxw_worker_t *w)
{
        if (w->loop)
                cxw_timer_stop(w->loop, &w->disc_timer);
        cxw_contact_target_destroy(w->target);
        w->target = NULL;
        free(w->issuer);
        free(w->dfo_base);
        w->issuer = NULL;
        w->dfo_base = NULL;
}

static void disc_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_discover_step(opaque);
}

static void disc_failed(cxw_worker_t *w, const char *what, const char *why)
{
        int64_t ceiling = DISC_BACKOFF_BASE_MS, delay;

        for (int i = 0; i < w->disc_attempt && ceiling < DISC_BACKOFF_CAP_MS; i++)
                ceiling *= 2;
        if (ceiling > DISC_BACKOFF_CAP_MS)
                ceiling = DISC_BACKOFF_CAP_MS;
        delay =
            ceiling / 2 + (int64_t)(cxw_rand64(&w->rng) % (uint64_t)(ceiling / 2 + 1));
        if (w->disc_attempt < 64)
                w->disc_attempt++;
        snprintf(w->disc_error, sizeof(w->disc_error), "%s: %s", what, why);
        CXW_WARN("discovery", "%s failed: %s; not ready, messages wait; again in %lld ms",
                 what, why, (long long)delay);
        w->disc_retry_at = cxw_now_ms() + delay;
        cxw_timer_start(w->loop, &w->disc_timer, w->disc_retry_at, disc_timer_cb, w);
}

static void hosts_found(cxw_worker_t *w, const cxw_cxone_hosts_t *h)
{
        const cxw_config_t *cfg = w->cfg;

        if (!w->api_base)
                w->api_base = join_base(h->api_endpoint, cfg->admin_prefix);
        if (w->dfo_needed && !w->dfo_base)
                w->dfo_base = join_base(h->dfo_base, "");
        if (!w->api_base || (w->dfo_needed && !w->dfo_base)) {
                disc_failed(w, "the CXone configuration", "out of memory");
                return;
        }
        CXW_INFO("discovery", "CXone hosts of tenant %s: API %s%s%s (area %s, domain %s)",
                 w->tenant_id, w->api_base, w->dfo_needed ? ", DFO " : "",
                 w->dfo_needed ? w->dfo_base : "", h->area, h->domain);
}

static void disc_done(const cxw_http_response_t *r, void *opaque)
{
        cxw_worker_t *w = opaque;
        const char *what = w->disc_kind == DISC_OPENID ? "the OpenID configuration"
                                                       : "the CXone configuration";
        char err[512], te[CXW_DISCOVERY_URL_MAX];
        cxw_cxone_hosts_t hosts;

        w->disc_in_flight = 0;
        /* counted with the token fetches: the login's calls */
        worker_metrics_call(w, "token", r->status, r->elapsed_ms);
        if (r->transport_error) {
                disc_failed(w, what, r->error ? r->error : "no answer");
                return;
        }
        if (r->status != 200 || r->body_truncated) {
                snprintf(err, sizeof(err), "HTTP %ld%s", r->status,
                         r->body_truncated ? ", answer too large" : "");
                disc_failed(w, what, err);
                return;
        }
        if (w->disc_kind == DISC_OPENID) {
                if (cxw_discovery_parse_openid(r->body, r->body_len, w->issuer,
                                               w->disc_http, te, sizeof(te), err,
                                               sizeof(err)) != 0) {
                        disc_failed(w, what, err);
                        return;
                }
                free(w->token_url);
                w->token_url = strdup(te);
                if (!w->token_url) {
                        disc_failed(w, what, "out of memory");
                        return;
                }
                CXW_INFO("discovery", "token endpoint %s", w->token_url);
        } else {
                if (cxw_discovery_parse_cxone(r->body, r->body_len, w->disc_http, &hosts,
                                              err, sizeof(err)) != 0) {
                        disc_failed(w, what, err);
                        return;
                }
                hosts_found(w, &hosts);
                if (!worker_endpoints_known(w))
                        return;
        }
        w->disc_attempt = 0;
        w->disc_error[0] = '\0';
        /* the loop round's pump logs in or starts the waiting calls */
}

static int start_get(cxw_worker_t *w, disc_kind_t kind, char *url)
{
        cxw_http_request_t req = {0};

        req.method = "GET";
        req.url = url;
        req.timeout_ms = w->cfg->token_timeout_ms;
        req.urgent = 1; /* every call waits for it */
        w->disc_kind = kind;
        if (cxw_http_start(w->http, &req, disc_done, w) == -1) {
                free(url);
                disc_failed(w, "discovery", "cannot start the request (out of memory)");
                return -1;
        }
        free(url);
        w->disc_in_flight = 1;
        return 0;
}

void worker_discover_step(cxw_worker_t *w)
{
        const char *tenant;
        int64_t now = cxw_now_ms();
        char *url;

        if (w->disc_in_flight || w->stopping || !w->issuer)
                return;
        if (now < w->disc_retry_at) {
                if (!cxw_timer_armed(&w->disc_timer))
                        cxw_timer_start(w->loop, &w->disc_timer, w->disc_retry_at,
                                        disc_timer_cb, w);
                return;
        }
        if (!w->token_url) {
                url = cxw_discovery_openid_url(w->issuer);
                if (!url)
                        disc_failed(w, "discovery", "out of memory");
                else
                        start_get(w, DISC_OPENID, url);
                return;
        }
        if (worker_endpoints_known(w))
                return;
        /* The hosts are asked by tenant: known once logged in. */
        tenant = *w->cfg->tenant_id ? w->cfg->tenant_id : cxw_token_tenant_id(w->token);
        if (!*tenant)
                return;
        cxw_strlcpy(w->tenant_id, tenant, sizeof(w->tenant_id));
        url = cxw_discovery_cxone_url(w->issuer, w->tenant_id);
        if (!url)
                disc_failed(w, "discovery", "out of memory or a bad tenant id");
        else
                start_get(w, DISC_HOSTS, url);
}

void worker_discover_token_lost(cxw_worker_t *w, const char *why)
{
        if (!w->disc_token || !w->token_url)
                return;
        CXW_WARN("discovery", "token endpoint %s: %s; discovering it again", w->token_url,
                 why);
        free(w->token_url);
        w->token_url = NULL;
}
