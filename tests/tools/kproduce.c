/* kproduce: a test tool. Produces one Kafka message per stdin line,
 * "KEY<TAB>VALUE" (an empty KEY means no key; a line without a tab is a
 * value without key), with the headers given as -H name=value, and waits for
 * every delivery. Used by the integration tests to publish raw, possibly
 * malformed requests that cxonectl would refuse to build, or requests to
 * one chosen partition (-p; default: the partitioner picks by key), or
 * messages larger than the producer's default message.max.bytes allows
 * (-X message.max.bytes=N: any librdkafka producer property).
 *
 *   kproduce -b BROKERS -t TOPIC [-p PARTITION] [-H name=value]...
 *            [-X property=value]... < lines
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        (void)opaque;
        if (m->err) {
                fprintf(stderr, "kproduce: delivery failed: %s\n",
                        rd_kafka_err2str(m->err));
                failed = 1;
        }
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = NULL;
        const char *hdrs[32];
        int nhdrs = 0, c, n = 0;
        int32_t partition = RD_KAFKA_PARTITION_UA;
        char *end;
        char err[512];
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        while ((c = getopt(argc, argv, "b:t:p:H:X:")) != -1) {
                if (c == 'p') {
                        long v = strtol(optarg, &end, 10);
                        if (*optarg == '\0' || *end || v < 0 || v > 100000) {
                                fprintf(stderr,
                                        "kproduce: -p takes a partition number\n");
                                return 2;
                        }
                        partition = (int32_t)v;
                } else if (c == 'b')
                        brokers = optarg;
                else if (c == 't')
                        topic = optarg;
                else if (c == 'H' && nhdrs < 32)
                        hdrs[nhdrs++] = optarg;
                else if (c == 'X') {
                        char *eq = strchr(optarg, '=');
                        if (!eq) {
                                fprintf(stderr, "kproduce: -X takes property=value\n");
                                return 2;
                        }
                        *eq = '\0';
                        if (rd_kafka_conf_set(conf, optarg, eq + 1, err, sizeof(err))) {
                                fprintf(stderr, "kproduce: %s\n", err);
                                return 2;
                        }
                } else
                        return 2;
        }
        if (!brokers || !topic) {
                fprintf(stderr, "usage: kproduce -b BROKERS -t TOPIC [-p PARTITION] [-H "
                                "name=value]... [-X property=value]...\n");
                return 2;
        }
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err))) {
                fprintf(stderr, "kproduce: %s\n", err);
                return 1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "kproduce: %s\n", err);
                return 1;
        }
        while ((len = getline(&line, &cap, stdin)) != -1) {
                char *key = NULL, *value = line, *tab;
                rd_kafka_headers_t *h = rd_kafka_headers_new(nhdrs + 1);
                rd_kafka_resp_err_t e;

                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                tab = memchr(line, '\t', (size_t)len);
                if (tab) {
                        *tab = '\0';
                        key = line[0] ? line : NULL;
                        value = tab + 1;
                }
                for (int i = 0; i < nhdrs; i++) {
                        const char *eq = strchr(hdrs[i], '=');
                        if (eq)
                                rd_kafka_header_add(h, hdrs[i], eq - hdrs[i], eq + 1, -1);
                }
                e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                    RD_KAFKA_V_VALUE(value, (size_t)(line + len - value)),
                    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
                if (e) {
                        rd_kafka_headers_destroy(h);
                        fprintf(stderr, "kproduce: %s\n", rd_kafka_err2str(e));
                        failed = 1;
                        break;
                }
                n++;
                rd_kafka_poll(rk, 0);
        }
        free(line);
        if (rd_kafka_flush(rk, 30000)) {
                fprintf(stderr, "kproduce: flush timed out\n");
                failed = 1;
        }
        rd_kafka_destroy(rk);
        fprintf(stderr, "kproduce: %d messages to %s\n", n, topic);
        return failed;
}
