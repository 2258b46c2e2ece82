/* A Kafka-protocol broker for tests and the demo: librdkafka's mock cluster on loopback. */
#include "autoconf.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * usage: kafka-broker [--brokers N] [--topic NAME[:PARTITIONS]]...
 *
 * Prints the bootstrap address ("127.0.0.1:port,...") on one line, then
 * serves until SIGTERM or SIGINT. For outage tests, SIGUSR1 takes every
 * broker down and SIGUSR2 brings them back; SIGHUP makes the next Produce
 * requests fail with retriable errors.
 */

static volatile sig_atomic_t stop, down, up, produce_errors;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		down = 1;
	else if (sig == SIGUSR2)
		up = 1;
	else if (sig == SIGHUP)
		produce_errors = 1;
	else
		stop = 1;
}

static void set_brokers(rd_kafka_mock_cluster_t *mc, int count, int is_up)
{
	for (int id = 1; id <= count; id++) {
		rd_kafka_resp_err_t err = is_up ? rd_kafka_mock_broker_set_up(mc, id)
						: rd_kafka_mock_broker_set_down(mc, id);
		if (err)
			fprintf(stderr, "kafka-broker: broker %d: %s\n", id, rd_kafka_err2str(err));
	}
	fprintf(stderr, "kafka-broker: brokers %s\n", is_up ? "up" : "down");
}

int main(int argc, char **argv)
{
	char errstr[512];
	int brokers = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
			brokers = atoi(argv[++i]);
			if (brokers < 1 || brokers > 16) {
				fprintf(stderr, "kafka-broker: --brokers must be 1-16\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
			i++; /* created below, once the cluster exists */
		} else {
			fprintf(stderr, "usage: kafka-broker [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
			return 2;
		}
	}

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka-broker: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "kafka-broker: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--topic") != 0)
			continue;
		char *name = argv[++i];
		char *colon = strchr(name, ':');
		int partitions = 1;
		if (colon) {
			*colon = '\0';
			partitions = atoi(colon + 1);
		}
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
			mc, name, partitions > 0 ? partitions : 1, brokers < 3 ? brokers : 3);
		if (err) {
			fprintf(stderr, "kafka-broker: topic %s: %s\n", name, rd_kafka_err2str(err));
			return 1;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!stop) {
		pause();
		if (down) {
			down = 0;
			set_brokers(mc, brokers, 0);
		}
		if (up) {
			up = 0;
			set_brokers(mc, brokers, 1);
		}
		if (produce_errors) {
			/*
			 * ApiKey 0 = Produce; errors an idempotent producer must retry
			 * in order. Only errors that mean "not written": the mock
			 * writes nothing when it injects one, so an error claiming the
			 * write happened (NOT_ENOUGH_REPLICAS_AFTER_APPEND,
			 * REQUEST_TIMED_OUT) would be a lie a real broker never tells,
			 * and the producer rightly takes the retry's duplicate answer
			 * as delivered.
			 */
			produce_errors = 0;
			rd_kafka_mock_push_request_errors(
				mc, 0, 6, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
				RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
				RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
				RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
			fprintf(stderr, "kafka-broker: next 6 Produce requests fail\n");
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
