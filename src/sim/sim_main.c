/* sim_main.c: cxone-sim's start-up and shutdown (the command line is
 * sim_options.c). */
#include "sim.h"

#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/io/pem.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define EXIT_USAGE 2

/* 1,024 keep-alive clients need more descriptors than the usual soft limit. */
static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
                return;
        if (rl.rlim_cur < 16384 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        char errstr[512];
        cxw_sim_opts_t opts;
        cxw_sim_t *sim = NULL;
        cxw_httpd_t *d = NULL;
        sigset_t set;
        uint16_t port = 0;
        const char *scheme;
        int rc, sig = 0, exit_code = 1;
        bool curl_ready = false;

        rc = cxw_sim_opts_parse(&opts, argc, argv, errstr, sizeof(errstr));
        if (rc != 0) {
                if (rc < 0)
                        fprintf(stderr, "cxone-sim: %s\nTry 'cxone-sim --help'.\n",
                                errstr);
                exit_code = rc < 0 ? EXIT_USAGE : 0;
                goto out;
        }

        /* Threads inherit this mask, so only sigwait() below sees the signals. */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();
        json_object_seed(0); /* before any thread makes a JSON object */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(errstr, sizeof(errstr), "libcurl initialisation failed");
                goto fail;
        }
        curl_ready = true;

        if (opts.tls_cert) {
                /* Checked here, so that a bad file is a bad value (exit 2)
                 * with its reason, not a failure to listen. */
                char *cert = NULL, *key = NULL;
                if (cxw_pem_load_pair("--tls-cert/--tls-key:", opts.tls_cert,
                                      opts.tls_key, &cert, &key, errstr,
                                      sizeof(errstr)) != 0) {
                        exit_code = EXIT_USAGE;
                        goto fail;
                }
                free(cert);
                OPENSSL_cleanse(key, strlen(key));
                free(key);
        }
        sim = cxw_sim_new(&opts, errstr, sizeof(errstr));
        if (!sim) {
                /* Out of memory, or a bad --contacts-file: a bad value. */
                exit_code = EXIT_USAGE;
                goto fail;
        }
        if (RAND_bytes(sim->jwt_key, (int)sizeof(sim->jwt_key)) != 1) {
                snprintf(errstr, sizeof(errstr), "no randomness for the id_token key");
                goto fail;
        }
        sim->delay = cxw_sim_delay_start(errstr, sizeof(errstr));
        if (!sim->delay)
                goto fail;
        if (opts.webhook_url[0]) {
                sim->webhook = cxw_sim_webhook_start(sim, errstr, sizeof(errstr));
                if (!sim->webhook)
                        goto fail;
        }
        sim->jobs = cxw_sim_jobs_start(sim, errstr, sizeof(errstr));
        if (!sim->jobs)
                goto fail;
        d = cxw_sim_http_start(sim, &port, errstr, sizeof(errstr));
        if (!d)
                goto fail;

        scheme = opts.tls_cert ? "https" : "http";
        snprintf(sim->base_url, sizeof(sim->base_url), "%s://%s:%u", scheme, opts.host,
                 (unsigned)port);
        atomic_store(&sim->base_ready, true);
        printf("listening on %s://%s:%u\n", scheme, opts.host, (unsigned)port);
        fflush(stdout);
        CXW_INFO("sim",
                 "listening on %s://%s:%u (profile %s, threads %d, rate limit %g/s, "
                 "latency %lld ms)",
                 scheme, opts.host, (unsigned)port,
                 opts.profile == CXW_SIM_PROFILE_CXONE ? "cxone" : "seed", opts.threads,
                 opts.rate_limit, (long long)opts.latency_ms);

        while (sig != SIGINT && sig != SIGTERM) {
                if (sigwait(&set, &sig) != 0)
                        break;
        }
        CXW_INFO("sim", "signal %d: stopping", sig);

        /* MHD must not be stopped with suspended connections: resume the
         * delayed ones, give them a moment to be answered, then stop. */
        cxw_sim_delay_stop(sim->delay);
        for (int i = 0; i < 50 && atomic_load(&sim->in_flight) > 0; i++) {
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
        }
        atomic_store(&sim->httpd, NULL);
        cxw_httpd_stop(d);
        /* No request left: stop finishing jobs, then stop sending webhooks. */
        cxw_sim_jobs_stop(sim->jobs);
        cxw_sim_webhook_stop(sim->webhook);
        exit_code = 0;
        goto out;
fail:
        fprintf(stderr, "cxone-sim: %s\n", errstr);
out:
        if (sim) {
                cxw_sim_delay_destroy(sim->delay);
                cxw_sim_jobs_destroy(sim->jobs);
                cxw_sim_webhook_destroy(sim->webhook);
                cxw_sim_destroy(sim);
        }
        if (curl_ready)
                curl_global_cleanup();
        cxw_sim_opts_free(&opts);
        return exit_code;
}
