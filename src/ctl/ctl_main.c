/* ctl_main.c: cxonectl's entry point: global options, configuration, and
 * the hand-over to one subcommand. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/log.h"
#include "cxone/base/util.h"

volatile sig_atomic_t ctl_stop;

static const char usage_text[] =
    "usage: cxonectl [-c FILE] [--log-level LEVEL] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  dev-kafka [--brokers N] [--partitions N] [--topics a,b,c]\n"
    "        run an in-process Kafka mock cluster on loopback; prints its\n"
    "        bootstrap servers as the first line and serves until SIGINT/SIGTERM\n"
    "  contacts import FILE.csv [--batch-id ID] [--wait] [--timeout SECONDS] "
    "[--quiet] [--verbose]\n"
    "                  [--delimiter C] [--map 'COLUMN=field,...'] [--strict]\n"
    "        publish one contact update per CSV row; --wait follows the outcomes;\n"
    "        columns that are no updatable field are ignored (named once),\n"
    "        --map renames columns, --strict refuses unknown ones\n"
    "  schedules import FILE.json [--batch-id ID] [--wait] [--timeout SECONDS] "
    "[--quiet] [--verbose]\n"
    "        publish one schedule import per element of a JSON array (or the one\n"
    "        object); --wait follows the outcomes\n"
    "  results [--batch-id ID] [--follow] [--json]\n"
    "        print the outcomes on the results topic\n"
    "  dlq list [--reason TEXT] [--status rejected|failed|all] [--since RFC3339] "
    "[--all] [--json]\n"
    "        the records on the dead-letter topic, grouped by what went wrong,\n"
    "        with counts; --all: one line per record\n"
    "  dlq replay [--reason TEXT] [--status rejected|failed|all] [--since RFC3339]\n"
    "             [--max-replays N] [--dry-run]\n"
    "        re-publish DLQ records to their source topic (default: the failed\n"
    "        ones; at most N replays of a request, default 3)\n"
    "  topic dump TOPIC\n"
    "        debugging aid: print key, headers and value of every message\n"
    "  doctor\n"
    "        with the worker's configuration: discover the tenant's endpoints, log\n"
    "        in, check the custom fields; ends with \"doctor: OK\" or \"doctor: "
    "FAILED\"\n"
    "\n"
    "options:\n"
    "  -c, --config FILE    configuration file (default: defaults + environment)\n"
    "  --log-level LEVEL    error, warn, info or debug (default warn; dev-kafka info)\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "\n"
    "exit codes: 0 ok; 1 error; 2 --wait timed out; 3 --wait: some requests\n"
    "rejected or failed. See docs/cxonectl.md.\n";

static void on_signal(int sig)
{
        (void)sig;
        ctl_stop = 1;
}

void ctl_install_signals(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int ctl_parse_int(const char *opt, const char *s, long min, long max, long *out)
{
        char *end;
        long v;

        if (!s) {
                fprintf(stderr, "cxonectl: %s needs a value\n", opt);
                return -1;
        }
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end != '\0' || v < min || v > max) {
                fprintf(stderr, "cxonectl: %s: '%.32s' is not a number in %ld..%ld\n",
                        opt, s, min, max);
                return -1;
        }
        *out = v;
        return 0;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
        size_t n = strlen(name);

        if (strcmp(argv[*i], name) == 0) {
                if (*i + 1 >= argc) {
                        fprintf(stderr, "cxonectl: %s needs a value\n", name);
                        return -1;
                }
                *val = argv[++*i];
                return 1;
        }
        if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=' && name[1] == '-') {
                *val = argv[*i] + n + 1;
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *config_path = NULL;
        const char *log_level = NULL;
        cxw_config_errors_t errs = {0};
        cxw_config_t *cfg = NULL;
        const char *cmd;
        int i, rc = CTL_EXIT_ERROR;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *v = NULL;
                int r;

                if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        fputs(usage_text, stdout);
                        return CTL_EXIT_OK;
                }
                if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
                        printf("cxonectl %s\n", CXW_VERSION);
                        return CTL_EXIT_OK;
                }
                if ((r = opt_value(argc, argv, &i, "-c", &v)) != 0 ||
                    (r = opt_value(argc, argv, &i, "--config", &v)) != 0) {
                        if (r < 0)
                                return CTL_EXIT_ERROR;
                        config_path = v;
                        continue;
                }
                if ((r = opt_value(argc, argv, &i, "--log-level", &v)) != 0) {
                        if (r < 0)
                                return CTL_EXIT_ERROR;
                        log_level = v;
                        continue;
                }
                fprintf(stderr, "cxonectl: unknown option '%s' (see --help)\n", argv[i]);
                return CTL_EXIT_ERROR;
        }
        if (i >= argc) {
                fputs(usage_text, stderr);
                return CTL_EXIT_ERROR;
        }
        cmd = argv[i];

        if (cxw_log_set_level(log_level                       ? log_level
                              : strcmp(cmd, "dev-kafka") == 0 ? "info"
                                                              : "warn") != 0) {
                fprintf(stderr,
                        "cxonectl: --log-level: '%s' is not error, warn, info, debug\n",
                        log_level);
                return CTL_EXIT_ERROR;
        }

        /* The doctor's help needs no configuration (its own needs the
         * worker's, which a bare environment lacks). */
        if (!strcmp(cmd, "doctor") && i + 1 < argc &&
            (!strcmp(argv[i + 1], "-h") || !strcmp(argv[i + 1], "--help")))
                return ctl_doctor_main(NULL, argc - i, argv + i);

        /* the doctor checks what the worker would use */
        cfg = cxw_config_load(
            config_path,
            strcmp(cmd, "doctor") ? CXW_CONFIG_FOR_CTL : CXW_CONFIG_FOR_WORKER, &errs);
        if (!cfg) {
                fprintf(stderr, "cxonectl: out of memory loading the configuration\n");
                goto out;
        }
        if (errs.cnt > 0) {
                for (size_t k = 0; k < errs.cnt; k++)
                        fprintf(stderr, "cxonectl: config: %s\n", errs.v[k]);
                if (!strcmp(cmd, "doctor"))
                        ctl_doctor_config_failed(&errs);
                goto out;
        }
        if (!cfg->allow_core_dumps) { /* a core would hold what Kafka's SASL needs */
                char err[256];

                if (cxw_disable_core_dumps(err, sizeof(err)) != 0)
                        fprintf(stderr, "cxonectl: cannot turn core dumps off: %s\n",
                                err);
        }
        ctl_install_signals();

        if (!strcmp(cmd, "dev-kafka")) {
                rc = ctl_devkafka_main(cfg, argc - i, argv + i);
        } else if (!strcmp(cmd, "contacts") && i + 1 < argc &&
                   !strcmp(argv[i + 1], "import")) {
                rc = ctl_import_main(cfg, argc - i - 1, argv + i + 1);
        } else if (!strcmp(cmd, "schedules") && i + 1 < argc &&
                   !strcmp(argv[i + 1], "import")) {
                rc = ctl_schedules_import_main(cfg, argc - i - 1, argv + i + 1);
        } else if (!strcmp(cmd, "results")) {
                rc = ctl_results_main(cfg, argc - i, argv + i);
        } else if (!strcmp(cmd, "dlq")) {
                rc = ctl_dlq_main(cfg, argc - i, argv + i);
        } else if (!strcmp(cmd, "topic") && i + 1 < argc &&
                   !strcmp(argv[i + 1], "dump")) {
                rc = ctl_topic_dump_main(cfg, argc - i - 1, argv + i + 1);
        } else if (!strcmp(cmd, "doctor")) {
                rc = ctl_doctor_main(cfg, argc - i, argv + i);
        } else {
                fprintf(stderr, "cxonectl: unknown command '%s' (see --help)\n", cmd);
        }
out:
        cxw_config_errors_clear(&errs);
        cxw_config_destroy(cfg);
        return rc;
}
