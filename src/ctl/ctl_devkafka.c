/* ctl_devkafka.c: `cxonectl dev-kafka`: librdkafka's mock cluster (a real
 * Kafka wire-protocol broker set on loopback) hosted in this process, with the
 * configured topics created, until SIGINT/SIGTERM. */
#include "ctl.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/log.h"

#define MAX_TOPICS     64
#define MAX_TOPIC_NAME 249

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
        fprintf(stderr, "usage: cxonectl dev-kafka [--brokers N] [--partitions N] "
                        "[--topics a,b,c]\n");
}

int ctl_devkafka_main(const cxw_config_t *cfg, int argc, char **argv)
{
        long brokers = 1, partitions = 6;
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

        while (!ctl_stop)
                rd_kafka_poll(rk, 200);

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
