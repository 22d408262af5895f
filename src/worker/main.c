/* cxone-worker: the daemon. Parses the command line, loads the config and
 * runs one replica until SIGINT/SIGTERM. */
#include "cxone/base/config.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "worker.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
        fprintf(
            out,
            "Usage: cxone-worker [-c FILE] [--check-config | --print-config]\n"
            "\n"
            "Consumes contact-update and schedule-import requests from Kafka, applies\n"
            "them to NICE CXone (contact updates; schedule imports validated, submitted\n"
            "and followed to the end of their job) and publishes an outcome for each\n"
            "to the results topic.\n"
            "\n"
            "  -c, --config FILE          libconfig file (default: built-in defaults)\n"
            "      --check-config         validate the config and the environment, "
            "print\n"
            "                             every problem as file:line, exit 0 or 1\n"
            "      --print-config         print the effective config (secrets hidden;\n"
            "                             values set by the environment marked # env)\n"
            "      --print-config-reference  print the configuration reference "
            "(Markdown)\n"
            "  -V, --version              print the version\n"
            "  -h, --help                 this text\n"
            "\n"
            "Environment overrides (set and not empty, they win over the file):\n");
        cxw_config_print_env(out, "  ");
        fprintf(out, "See docs/configuration.md.\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'},
            {"check-config", no_argument, NULL, 'k'},
            {"print-config", no_argument, NULL, 'p'},
            {"print-config-reference", no_argument, NULL, 'r'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *path = NULL;
        int check = 0, print = 0;
        cxw_config_errors_t errs = {0}, warns = {0};
        cxw_config_t *cfg = NULL;
        cxw_worker_t *w = NULL;
        char errstr[1024];
        sigset_t mask;
        int c, rc = 1;

        while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 'k':
                        check = 1;
                        break;
                case 'p':
                        print = 1;
                        break;
                case 'r':
                        cxw_config_print_reference(stdout);
                        return 0;
                case 'V':
                        printf("cxone-worker %s\n", CXW_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "cxone-worker: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }

        cfg = cxw_config_load(path, CXW_CONFIG_FOR_WORKER, &errs);
        if (!cfg) {
                fprintf(stderr, "cxone-worker: out of memory\n");
                return 1;
        }
        if (errs.cnt > 0) {
                for (size_t i = 0; i < errs.cnt; i++)
                        fprintf(stderr, "%s\n", errs.v[i]);
                fprintf(stderr, "cxone-worker: %zu problem%s in the configuration\n",
                        errs.cnt, errs.cnt == 1 ? "" : "s");
                goto out;
        }
        /* A core would hold the client secret and the access tokens. */
        if (!cfg->allow_core_dumps && cxw_disable_core_dumps(errstr, sizeof(errstr)) != 0)
                fprintf(stderr, "cxone-worker: cannot turn core dumps off: %s\n", errstr);
        if (cxw_config_warnings(cfg, &warns) != 0) {
                fprintf(stderr, "cxone-worker: out of memory\n");
                goto out;
        }
        if (check) {
                for (size_t i = 0; i < warns.cnt; i++)
                        fprintf(stderr, "warning: %s\n", warns.v[i]);
                printf("%s: configuration OK\n",
                       path ? path : "(defaults and environment)");
                rc = 0;
                goto out;
        }
        if (print) {
                cxw_config_dump(cfg, stdout);
                rc = 0;
                goto out;
        }
        cxw_log_set_level(cfg->log_level);
        for (size_t i = 0; i < warns.cnt; i++)
                CXW_WARN("config", "%s", warns.v[i]);

        /* Block the stop signals before any thread exists (librdkafka's
         * inherit the mask); the loop reads them from a signalfd. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                CXW_ERROR("worker", "curl_global_init failed");
                goto out;
        }
        w = cxw_worker_new(cfg, errstr, sizeof(errstr));
        if (!w) {
                CXW_ERROR("worker", "cannot start: %s", errstr);
                fprintf(stderr, "cxone-worker: %s\n", errstr);
                curl_global_cleanup();
                goto out;
        }
        rc = cxw_worker_run(w);
        cxw_worker_destroy(w);
        curl_global_cleanup();
        CXW_INFO("worker", "exit %d", rc);
out:
        cxw_config_errors_clear(&errs);
        cxw_config_errors_clear(&warns);
        cxw_config_destroy(cfg);
        return rc;
}
