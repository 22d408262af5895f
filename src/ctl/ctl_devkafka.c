/* ctl_devkafka.c: `cxonectl dev-kafka`: librdkafka's mock cluster (a real
 * Kafka wire-protocol broker set on loopback) hosted in this process, with the
 * configured topics created, until SIGINT/SIGTERM. With --control, lines on
 * stdin take brokers down and up and inject errors, for fault tests. */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxone/base/log.h"
#include "cxone/base/util.h"

#define MAX_TOPICS       64
#define MAX_TOPIC_NAME   249
#define MAX_CONTROL_LINE 256
#define MAX_ERRORS       1000 /* request errors one control line may push */

static bool topic_name_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > MAX_TOPIC_NAME || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (; *s; s++) {
                char c = *s;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* Adds name to the list unless it is there already. */
static int add_topic(const char **topics, int *cnt, const char *name)
{
        for (int i = 0; i < *cnt; i++) {
                if (!strcmp(topics[i], name))
                        return 0;
        }
        if (!topic_name_ok(name)) {
                fprintf(stderr,
                        "cxonectl: dev-kafka: '%.64s' is not a topic name "
                        "(1-249 of A-Z a-z 0-9 . _ -)\n",
                        name);
                return -1;
        }
        if (*cnt >= MAX_TOPICS) {
                fprintf(stderr, "cxonectl: dev-kafka: more than %d topics\n", MAX_TOPICS);
                return -1;
        }
        topics[(*cnt)++] = name;
        return 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: cxonectl dev-kafka [--brokers N] [--partitions N] "
                "[--topics a,b,c] [--control]\n"
                "  --control   read fault commands from stdin, one a line, each "
                "answered\n"
                "              on stdout with 'ok: ...' (or 'error: ...' on stderr):\n"
                "                broker down ID|all   broker up ID|all\n"
                "                broker rtt ID|all MS\n"
                "                request-errors APIKEY ERRCODE COUNT\n"
                "              (APIKEY and ERRCODE as Kafka numbers them, e.g. 0 = "
                "Produce,\n"
                "              8 = OffsetCommit; 7 = REQUEST_TIMED_OUT)\n");
}

/* A whole number in [min, max] from the next word of *line. */
static int word_long(char **line, long min, long max, long *out)
{
        char *end;

        while (isspace((unsigned char)**line))
                (*line)++;
        errno = 0;
        *out = strtol(*line, &end, 10);
        if (end == *line || errno || *out < min || *out > max ||
            (*end && !isspace((unsigned char)*end)))
                return -1;
        *line = end;
        return 0;
}

/* The next word of *line, NUL-terminated in place; "" at the end. */
static char *word(char **line)
{
        char *w;

        while (isspace((unsigned char)**line))
                (*line)++;
        w = *line;
        while (**line && !isspace((unsigned char)**line))
                (*line)++;
        if (**line)
                *(*line)++ = '\0';
        return w;
}

/* Brokers first..last of "ID|all" from the next word. */
static int word_brokers(char **line, long brokers, long *first, long *last)
{
        char *save = *line;

        if (!strcmp(word(line), "all")) {
                *first = 1;
                *last = brokers;
                return 0;
        }
        *line = save;
        if (word_long(line, 1, brokers, first) == -1)
                return -1;
        *last = *first;
        return 0;
}

/* Carries out one control line; answers on stdout, complains on stderr. */
static void control(rd_kafka_mock_cluster_t *mc, long brokers, char *buf)
{
        char line[MAX_CONTROL_LINE];
        char *p = buf;
        const char *cmd;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        long first, last, ms, apikey, code, cnt;

        cxw_strlcpy(line, buf, sizeof(line)); /* words are cut out of buf */
        cmd = word(&p);

        if (!strcmp(cmd, "broker")) {
                const char *what = word(&p);
                int down = !strcmp(what, "down"), up = !strcmp(what, "up");
                int rtt = !strcmp(what, "rtt");

                if ((!down && !up && !rtt) || word_brokers(&p, brokers, &first, &last) ||
                    (rtt && word_long(&p, 0, 600000, &ms)))
                        goto bad;
                for (long id = first; id <= last && !err; id++)
                        err =
                            down ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                            : up ? rd_kafka_mock_broker_set_up(mc, (int32_t)id)
                                 : rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
        } else if (!strcmp(cmd, "request-errors")) {
                rd_kafka_resp_err_t errs[MAX_ERRORS];

                if (word_long(&p, 0, 1000, &apikey) || word_long(&p, -1, 1000, &code) ||
                    word_long(&p, 1, MAX_ERRORS, &cnt))
                        goto bad;
                for (long i = 0; i < cnt; i++)
                        errs[i] = (rd_kafka_resp_err_t)code;
                rd_kafka_mock_push_request_errors_array(mc, (int16_t)apikey, (size_t)cnt,
                                                        errs);
        } else {
                goto bad;
        }
        if (*word(&p))
                goto bad;
        if (err) {
                fprintf(stderr, "error: %s: %s\n", line, rd_kafka_err2str(err));
                return;
        }
        CXW_INFO("dev-kafka", "control: %s done", line);
        printf("ok: %s\n", line);
        fflush(stdout);
        return;
bad:
        fprintf(stderr, "error: '%.64s' is not a control command (see --help)\n", line);
}

/* Reads what stdin holds of control lines; 0 at its end (no more control). */
static int read_control(rd_kafka_mock_cluster_t *mc, long brokers, char *buf, size_t *len)
{
        ssize_t n = read(0, buf + *len, MAX_CONTROL_LINE - *len);
        char *nl;

        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                return 0;
        if (n > 0)
                *len += (size_t)n;
        while ((nl = memchr(buf, '\n', *len))) {
                size_t line = (size_t)(nl - buf) + 1;
                *nl = '\0';
                if (nl > buf && nl[-1] == '\r')
                        nl[-1] = '\0';
                control(mc, brokers, buf);
                memmove(buf, buf + line, *len - line);
                *len -= line;
        }
        if (*len == MAX_CONTROL_LINE) {
                fprintf(stderr, "error: a control line longer than %d bytes; dropped\n",
                        MAX_CONTROL_LINE - 1);
                *len = 0;
        }
        return 1;
}

int ctl_devkafka_main(const cxw_config_t *cfg, int argc, char **argv)
{
        long brokers = 1, partitions = 6;
        int controlled = 0;
        char ctlbuf[MAX_CONTROL_LINE];
        size_t ctllen = 0;
        const char *topics[MAX_TOPICS];
        int ntopics = 0, rc = CTL_EXIT_ERROR;
        char *extra = NULL;
        rd_kafka_conf_t *conf = NULL;
        rd_kafka_t *rk = NULL;
        rd_kafka_mock_cluster_t *mc = NULL;
        char errstr[512], num[16];
        const char *bootstraps;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--brokers")) {
                        if (ctl_parse_int(a, v, 1, 16, &brokers) != 0)
                                goto out;
                        i++;
                } else if (!strcmp(a, "--partitions")) {
                        if (ctl_parse_int(a, v, 1, 1000, &partitions) != 0)
                                goto out;
                        i++;
                } else if (!strcmp(a, "--topics")) {
                        if (!v) {
                                fprintf(stderr, "cxonectl: --topics needs a value\n");
                                goto out;
                        }
                        free(extra);
                        extra = strdup(v);
                        if (!extra)
                                goto out;
                        i++;
                } else if (!strcmp(a, "--control")) {
                        controlled = 1;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage();
                        rc = CTL_EXIT_OK;
                        goto out;
                } else {
                        fprintf(stderr, "cxonectl: dev-kafka: unknown argument '%s'\n",
                                a);
                        usage();
                        goto out;
                }
        }

        if (add_topic(topics, &ntopics, cfg->topic_contacts) ||
            add_topic(topics, &ntopics, cfg->topic_schedules) ||
            add_topic(topics, &ntopics, cfg->topic_results) ||
            add_topic(topics, &ntopics, cfg->topic_audit) ||
            add_topic(topics, &ntopics, cfg->topic_dlq) ||
            (*cfg->topic_budget && add_topic(topics, &ntopics, cfg->topic_budget)))
                goto out;
        if (extra) {
                char *save = NULL;
                for (char *t = strtok_r(extra, ",", &save); t;
                     t = strtok_r(NULL, ",", &save)) {
                        if (add_topic(topics, &ntopics, t) != 0)
                                goto out;
                }
        }

        /* A producer configured with test.mock.num.brokers creates and owns
         * the mock cluster, and is its bookkeeping client; it never produces.
         * (This also points its bootstrap.servers at the cluster.) */
        snprintf(num, sizeof(num), "%ld", brokers);
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, ctl_kafka_log_cb);
        if (ctl_conf_set(conf, "client.id", "cxonectl-dev-kafka", errstr,
                         sizeof(errstr)) ||
            ctl_conf_set(conf, "test.mock.num.brokers", num, errstr, sizeof(errstr))) {
                fprintf(stderr, "cxonectl: dev-kafka: %s\n", errstr);
                goto out;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "cxonectl: dev-kafka: %s\n", errstr);
                goto out;
        }
        conf = NULL; /* now owned, and freed, by rk */
        mc = rd_kafka_handle_mock_cluster(rk);
        if (!mc) {
                fprintf(stderr, "cxonectl: dev-kafka: cannot create the mock cluster\n");
                goto out;
        }
        for (int i = 0; i < ntopics; i++) {
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                    mc, topics[i], (int)partitions, brokers < 3 ? (int)brokers : 3);
                if (err) {
                        fprintf(stderr, "cxonectl: dev-kafka: topic %s: %s\n", topics[i],
                                rd_kafka_err2str(err));
                        goto out;
                }
                CXW_INFO("dev-kafka", "created topic %s (%ld partitions)", topics[i],
                         partitions);
        }

        bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
        printf("%s\n", bootstraps);
        fflush(stdout);
        CXW_INFO("dev-kafka",
                 "mock cluster of %ld broker(s) serving at %s; stop with SIGINT/SIGTERM",
                 brokers, bootstraps);

        while (!ctl_stop) {
                struct pollfd pfd = {.fd = 0, .events = POLLIN};

                if (controlled && poll(&pfd, 1, 200) > 0)
                        controlled = read_control(mc, brokers, ctlbuf, &ctllen);
                rd_kafka_poll(rk, controlled ? 0 : 200);
        }

        CXW_INFO("dev-kafka", "stopping");
        rc = CTL_EXIT_OK;
out:
        /* mc belongs to rk and goes with it. */
        if (rk)
                rd_kafka_destroy(rk);
        if (conf)
                rd_kafka_conf_destroy(conf);
        free(extra);
        return rc;
}
