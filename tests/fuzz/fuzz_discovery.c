/* fuzz_discovery.c: the cxone profile's untrusted inputs before any call:
 * the issuer's OpenID configuration, the tenant's CXone configuration and
 * the id_token's payload. Input: a first byte 'o' (OpenID document for the
 * issuer https://login.cxone.test), 'c' (CXone configuration) or 'j' (an
 * id_token, its tenantId read); anything else: the rest as a URL checked.
 *
 * Beyond not crashing: a token endpoint accepted is https on the issuer's
 * origin and passes the URL check; accepted hosts pass it too and the DFO
 * base is https; a claim read fits its buffer; a URL accepted has no user
 * info, query, fragment or spaces. */
#include "fuzz_common.h"

#include <strings.h>

#include "cxone/io/discovery.h"
#include "cxone/io/token.h"

#define ISSUER "https://login.cxone.test"

static void url_accepted(const char *u)
{
        char err[300];

        FUZZ_CHECK(cxw_discovery_url_ok(u, CXW_DISC_HTTPS_ONLY, err, sizeof(err)) == 0);
        FUZZ_CHECK(!strncmp(u, "https://", 8) || !strncmp(u, "HTTPS://", 8) ||
                   !strncasecmp(u, "https://", 8));
        FUZZ_CHECK(!strpbrk(u, "@?# \t\r\n\\"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512], te[CXW_DISCOVERY_URL_MAX], claim[CXW_TENANT_ID_SIZE];
        cxw_cxone_hosts_t h;
        char *s;

        if (size == 0)
                return 0;
        s = fuzz_strndup(data + 1, size - 1);
        switch (data[0]) {
        case 'o':
                if (cxw_discovery_parse_openid(s, size - 1, ISSUER, CXW_DISC_HTTPS_ONLY,
                                               te, sizeof(te), err, sizeof(err)) == 0) {
                        url_accepted(te);
                        FUZZ_CHECK(!strncasecmp(te, ISSUER "/", sizeof(ISSUER)) ||
                                   !strcasecmp(te, ISSUER));
                } else {
                        FUZZ_CHECK(te[0] == '\0' && err[0]);
                }
                break;
        case 'c':
                if (cxw_discovery_parse_cxone(s, size - 1, CXW_DISC_HTTPS_ONLY, &h, err,
                                              sizeof(err)) == 0) {
                        url_accepted(h.api_endpoint);
                        url_accepted(h.dfo_base);
                        FUZZ_CHECK(h.area[0] && h.domain[0]);
                } else {
                        FUZZ_CHECK(h.dfo_base[0] == '\0' && err[0]);
                }
                break;
        case 'j':
                if (cxw_jwt_claim_str(s, size - 1, "tenantId", claim, sizeof(claim), err,
                                      sizeof(err)) == 0)
                        FUZZ_CHECK(claim[0] && strlen(claim) < sizeof(claim));
                else
                        FUZZ_CHECK(claim[0] == '\0' && err[0]);
                break;
        default:
                if (strlen(s) == size - 1 &&
                    cxw_discovery_url_ok(s, CXW_DISC_HTTPS_ONLY, err, sizeof(err)) == 0)
                        url_accepted(s);
                break;
        }
        free(s);
        return 0;
}
