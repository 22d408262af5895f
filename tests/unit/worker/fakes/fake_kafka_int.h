/* fake_kafka_int.h: what the files of the Kafka fake share (fake_kafka.c,
 * fake_kafka_txn.c, fake_kafka_reader.c): its types and its one state. */
#ifndef FAKE_KAFKA_INT_H
#define FAKE_KAFKA_INT_H

#include "fakes.h"

/* A topic object: rd_kafka_topic_t is opaque, this is ours. */
typedef struct fk_topic_s {
        struct fk_topic_s *next;
        char *name;
} fk_topic_t;

/* A message: the public struct last, so that a read of librdkafka's private
 * fields beyond it is an overflow AddressSanitizer reports. */
typedef struct fk_msg_s {
        struct fk_msg_s *next; /* the consume queue */
        uint32_t magic;
        rd_kafka_headers_t *headers;
        rd_kafka_message_t m;
} fk_msg_t;

#define FK_MAGIC 0x6b61666bu

typedef struct fk_part_s {
        struct fk_part_s *next;
        char *topic;
        int32_t partition;
        int64_t next_offset; /* of fk_inject */
        int64_t stored;      /* -1: none */
        int64_t txn_offset;  /* committed by a transaction, -1: none */
        int assigned;
} fk_part_t;

struct cxw_kafka_s {
        cxw_kafka_hooks_t hooks;
        void *opaque;
        int wakeup_fd;
};

struct cxw_kafka_reader_s {
        int started;
};

typedef struct fk_state_s {
        cxw_kafka_t *k;
        fk_topic_t *topics;
        fk_part_t *parts;
        fk_msg_t *qhead, *qtail; /* injected, not consumed */
        fk_rec_t *rhead, *rtail; /* produced */
        int manual_ack;
        int fail_produce;
        int paused, pauses, resumes, commits;
        size_t stores;
        int total_partitions;
        int live_msgs; /* handed out, not destroyed */
        int transactional, txn_open, txn_no, txn_commits, txn_aborts, rewinds;
        cxw_kafka_txn_step_t txn_next_commit;
        int fenced;
} fk_state_t;

/** The fake's state, reset by fk_reset(). */
extern fk_state_t fk_state;

/** The topic/partition's state, made on first use. */
fk_part_t *fk_part_get(const char *topic, int32_t partition);
/** Frees a message of the fake. */
void fk_msg_free(fk_msg_t *fm);

#endif
