/* Unit tests for src/config.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "run_suite.h"

static char path[256];

/* Write text to a fresh temporary file; its name is in path. */
static void write_config(const char *text)
{
	snprintf(path, sizeof(path), "%s/config.XXXXXX", suite_tmpdir());
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Load text, expect failure, and return the error after "path:". */
static const char *load_error(const char *text)
{
	static char err[1024];
	write_config(text);
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg == NULL, "config unexpectedly valid:\n%s", text);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "error lacks file name: %s", err);
	return err + strlen(path);
}

START_TEST(test_minimal_defaults)
{
	char err[256];
	write_config("source = { conninfo = \"dbname=shop\"; };\nsink = { format = \"changes\"; };\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->source.conninfo, "dbname=shop");
	ck_assert_str_eq(cfg->source.slot, "tablecast");
	ck_assert_str_eq(cfg->source.publication, "tablecast");
	ck_assert(!cfg->source.create_slot);
	ck_assert_int_eq(cfg->source.status_interval_ms, 10000);
	ck_assert_int_eq(cfg->source.release_after_ms, 20000); /* well under pg_ctl's 60 s */
	ck_assert_int_eq(cfg->source.guard_interval_ms, 1000);
	ck_assert_int_eq(cfg->source.standby_poll_ms, 2000);
	ck_assert_int_eq(cfg->source.keepalives_idle_s, 10);
	ck_assert_int_eq(cfg->source.keepalives_interval_s, 5);
	ck_assert_int_eq(cfg->source.keepalives_count, 3);
	ck_assert(!cfg->source.all_tables);
	ck_assert(!cfg->source.readd_recreated);
	ck_assert_int_eq(cfg->sink.type, SINK_STDOUT);
	ck_assert(cfg->sink.raw_changes);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_str_eq(cfg->cloudevents.source, "tablecast://tablecast");
	ck_assert(!cfg->cloudevents.structured);
	ck_assert_uint_eq(cfg->nevents, 0);
	cfg_free(cfg);
}
END_TEST

START_TEST(test_full)
{
	char err[256];
	write_config("log_level = \"debug\";\n"
		     "state_dir = \"/tmp/x\";\n"
		     "source = {\n"
		     "  conninfo = \"host=db\";\n"
		     "  slot = \"shop_events\";\n"
		     "  publication = \"shop\";\n"
		     "  create_slot = true;\n"
		     "  create_publication = true;\n"
		     "  tables = [\"public.orders\", \"public.customers\"];\n"
		     "  status_interval = 2;\n"
		     "  max_in_flight = 16;\n"
		     "  release_after = 0;\n"
		     "};\n"
		     "sink = { type = \"file\"; path = \"/tmp/out.jsonl\"; format = \"changes\"; };\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg->state_dir, "/tmp/x");
	ck_assert_str_eq(cfg->source.slot, "shop_events");
	ck_assert(cfg->source.create_slot && cfg->source.create_publication);
	ck_assert_uint_eq(cfg->source.ntables, 2);
	ck_assert_str_eq(cfg->source.tables[1], "public.customers");
	ck_assert_int_eq(cfg->source.status_interval_ms, 2000);
	ck_assert_int_eq(cfg->source.max_in_flight, 16);
	ck_assert_int_eq(cfg->source.release_after_ms, 0); /* never */
	ck_assert_int_eq(cfg->sink.type, SINK_FILE);
	ck_assert_str_eq(cfg->sink.path, "/tmp/out.jsonl");
	cfg_free(cfg);
}
END_TEST

#define SRC "source = { conninfo = \"x\"; };\n"
#define DLQ "sink = { dead_letter_topic = \"dlq\"; };\n"

START_TEST(test_events)
{
	char err[512];
	write_config(SRC DLQ
		     "cloudevents = { source = \"//db/shop\"; dataschema_base = \"https://s\"; mode = \"structured\"; };\n"
		     "events = (\n"
		     "  {\n"
		     "    name = \"shop.orders.OrderShipped\";\n"
		     "    version = 2;\n"
		     "    table = \"orders\";\n"
		     "    on = [\"update\"];\n"
		     "    when = \"old.status <> 'shipped' AND new.status = 'shipped'\";\n"
		     "    topic = \"shop.orders\";\n"
		     "    key = \"new.id\";\n"
		     "    subject = \"'order/' || new.id\";\n"
		     "    on_error = \"dead_letter\";\n"
		     "    fields = (\n"
		     "      { name = \"order_id\"; number = 1; type = \"int64\"; value = \"new.id\"; },\n"
		     "      { name = \"status\"; number = 3; type = \"enum\"; value = \"new.status\";\n"
		     "        enum_values = [\"placed\", \"shipped\"]; },\n"
		     "      { name = \"tags\"; number = 4; type = \"string\"; repeated = true; value = \"new.tags\"; }\n"
		     "    );\n"
		     "  },\n"
		     "  { name = \"shop.orders.OrdersCleared\"; version = 1; table = \"public.orders\";\n"
		     "    on = [\"truncate\"]; topic = \"t\";\n"
		     "    fields = ( { name = \"reason\"; number = 1; type = \"string\"; value = \"'truncate'\"; } ); }\n"
		     ");\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->nevents, 2);
	const struct EventDef *ev = &cfg->events[0];
	ck_assert_str_eq(ev->name, "shop.orders.OrderShipped");
	ck_assert_int_eq(ev->version, 2);
	ck_assert_str_eq(ev->table, "public.orders");
	ck_assert_uint_eq(ev->ops, OP_UPDATE);
	ck_assert_ptr_nonnull(ev->when);
	ck_assert_ptr_nonnull(ev->key);
	ck_assert_ptr_nonnull(ev->subject);
	ck_assert_int_eq(ev->on_error, ON_ERROR_DEAD_LETTER);
	ck_assert_int_eq(ev->line, 5);
	ck_assert_uint_eq(ev->nfields, 3);
	ck_assert_uint_eq(ev->fields[1].number, 3);
	ck_assert_int_eq(ev->fields[1].type, FT_ENUM);
	ck_assert_uint_eq(ev->fields[1].n_enum_values, 2);
	ck_assert_str_eq(ev->fields[1].enum_values[1], "shipped");
	ck_assert(ev->fields[2].repeated);
	ck_assert_int_eq(ev->fields[2].line, 19);
	const struct ExprColumn *cols;
	ck_assert_uint_eq(expr_columns(ev->when, &cols), 2);
	ck_assert(cols[0].old);
	ck_assert_str_eq(cols[0].name, "status");
	ck_assert_uint_eq(cfg->events[1].ops, OP_TRUNCATE);
	ck_assert(cfg->cloudevents.structured);
	ck_assert_str_eq(cfg->cloudevents.dataschema_base, "https://s");
	cfg_free(cfg);
}
END_TEST

/* An event with the given body lines, for malformed cases: the event group opens on line 3. */
#define EVENT(...) SRC DLQ "events = ( {\n" __VA_ARGS__ "} );\n"
#define EV_HEAD "  name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\"]; topic = \"t\";\n"
#define FIELD(x) "  fields = ( { name = \"f\"; number = 1; type = \"int64\"; value = \"" x "\"; } );\n"

/* Each malformed file and the "line: message" it must produce. */
static const struct {
	const char *text;
	const char *expect;
} bad[] = {
	{"source = { conninfo = \"x\"; \n", ":2: syntax error"},
	{"source = { conninfo = ; };\n", ":1: syntax error"},
	{"source = { conninfo = \"x\"; };\nsurce = 1;\n", ":2: unknown setting \"surce\""},
	{"source = {\n  conninfo = \"x\";\n  slott = \"a\";\n};\n",
	 ":3: unknown setting \"slott\" in source"},
	{"log_level = \"loud\";\nsource = { conninfo = \"x\"; };\n", ":1: unknown log_level \"loud\""},
	{"sink = { type = \"stdout\"; };\n", ": source must be a group"},
	{"source = {\n  slot = \"a\";\n};\n", ":1: source.conninfo is required"},
	{"source = {\n  conninfo = 5;\n};\n", ":2: conninfo must be a string"},
	{"source = {\n  conninfo = \"x\";\n  create_slot = \"yes\";\n};\n",
	 ":3: create_slot must be true or false"},
	{"source = {\n  conninfo = \"x\";\n  status_interval = 0;\n};\n",
	 ":3: status_interval must be between 1 and 3600"},
	{"source = {\n  conninfo = \"x\";\n  standby_poll_interval = 0;\n};\n",
	 ":3: standby_poll_interval must be between 1 and 3600"},
	{"source = {\n  conninfo = \"x\";\n  standby_poll_interval = \"2s\";\n};\n",
	 ":3: standby_poll_interval must be an integer"},
	{"source = {\n  conninfo = \"x\";\n  keepalives_idle = 0;\n};\n",
	 ":3: keepalives_idle must be between 1 and 3600"},
	{"source = {\n  conninfo = \"x\";\n  keepalives_interval = 601;\n};\n",
	 ":3: keepalives_interval must be between 1 and 600"},
	{"source = {\n  conninfo = \"x\";\n  keepalives_count = 0;\n};\n",
	 ":3: keepalives_count must be between 1 and 100"},
	{"source = {\n  conninfo = \"x\";\n  slot = \"Bad-Name\";\n};\n", ":3: slot must be"},
	{"source = {\n  conninfo = \"x\";\n  on_table_recreated = \"readd\";\n};\n",
	 ":3: on_table_recreated must be \"halt\" or \"readd_and_backfill\""},
	{"source = {\n  conninfo = \"x\"; create_publication = true;\n  on_table_recreated = \"readd_and_backfill\";\n};\n",
	 ":3: on_table_recreated = \"readd_and_backfill\" needs source.create_publication = true"},
	{"source = {\n  conninfo = \"x\"; tables = [\"public.t\"];\n  all_tables = true;\n};\n",
	 ":3: all_tables = true and tables exclude each other"},
	{"source = {\n  conninfo = \"x\";\n  tables = [1, 2];\n};\n",
	 ":3: tables must be a list of strings"},
	{"source = { conninfo = \"x\"; };\nsink = {\n  type = \"kafka2\";\n};\n",
	 ":3: unknown sink type \"kafka2\""},
	{"source = { conninfo = \"x\"; };\nsink = {\n  type = \"file\";\n};\n",
	 ":2: sink.path is required"},
	{"source = { conninfo = \"x\"; };\nsink = 3;\n", ":2: sink must be a group"},
	{SRC, ": no events declared"},
	{EVENT("  name = \"OrderShipped\"; version = 1;\n"),
	 ":4: event name \"OrderShipped\" must be a full protobuf name"},
	{EVENT("  name = \"a.B\"; table = \"t\"; on = [\"insert\"]; topic = \"t\";\n" FIELD("1")),
	 ":3: event a.B: version is required"},
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"upsert\"]; topic = \"t\";\n" FIELD("1")),
	 ":4: event a.B: unknown operation \"upsert\""},
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\", \"truncate\"]; topic = \"t\";\n" FIELD("1")),
	 ":4: event a.B: truncate has no row"},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; type = \"int64\"; value = \"1\"; } );\n"),
	 ":5: event a.B: field \"f\": number is required"},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 19500; type = \"int64\"; value = \"1\"; } );\n"),
	 ":5: event a.B: field \"f\": number 19500 is not a valid protobuf field number"},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 1; type = \"int64\"; value = \"1\"; },\n"
	       "             { name = \"g\"; number = 1; type = \"int64\"; value = \"2\"; } );\n"),
	 ":6: event a.B: field \"g\" reuses number 1 of field \"f\""},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 1; type = \"int64\"; value = \"1\"; },\n"
	       "             { name = \"f\"; number = 2; type = \"int64\"; value = \"2\"; } );\n"),
	 ":6: event a.B: field \"f\" is declared twice"},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 1;\n type = \"integer\"; value = \"1\"; } );\n"),
	 ":6: event a.B: field \"f\": unknown type \"integer\""},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 1; type = \"enum\"; value = \"1\"; } );\n"),
	 ":5: event a.B: field \"f\": an enum needs enum_values"},
	{EVENT(EV_HEAD "  fields = ( { name = \"f\"; number = 1; type = \"int64\";\n"
	       "    value = \"new.a FROM t\"; } );\n"),
	 ":6: event a.B: field \"f\" value: "},
	{EVENT(EV_HEAD FIELD("nosuchfunc(new.a)")),
	 ":5: event a.B: field \"f\" value: "},
	{EVENT(EV_HEAD FIELD("status + 1")), ":5: event a.B: field \"f\" value: "},
	{EVENT(EV_HEAD FIELD("old.a")), ":5: event a.B: field \"f\" value: old.a: inserts and snapshot rows have no old row"},
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"delete\"]; topic = \"t\";\n" FIELD("new.a")),
	 ":5: event a.B: field \"f\" value: new.a: deletes have no new row"},
	{EVENT(EV_HEAD "  when = \"new.a = = 1\";\n" FIELD("1")), ":5: event a.B: when: "},
	{EVENT(EV_HEAD "  on_error = \"ignore\";\n" FIELD("1")),
	 ":5: event a.B: on_error must be \"halt\" or \"dead_letter\""},
	{SRC "events = ( { name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\"]; topic = \"t\";\n"
	     "  on_error = \"dead_letter\";\n" FIELD("1") "} );\n",
	 ":3: event a.B: on_error = \"dead_letter\" needs sink.dead_letter_topic"},
	{EVENT(EV_HEAD "  colour = \"red\";\n" FIELD("1")), ":5: unknown setting \"colour\""},
	{EVENT(EV_HEAD), ":3: event a.B: fields is required"},
	{SRC DLQ "events = (\n  {\n" EV_HEAD FIELD("1") "  },\n  {\n" EV_HEAD FIELD("2") "  }\n);\n",
	 ":8: event a.B version 1 is declared twice (line 4)"},
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\"];\n" FIELD("1")),
	 ":3: event a.B: topic is required"},
	{SRC "cloudevents = { mode = \"json\"; };\nsink = { format = \"changes\"; };\n",
	 ":2: cloudevents.mode must be"},
	/* What Kafka, the HTTP listener or protoc would refuse later is refused now. */
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\"];\n"
	       "  topic = \"a/b\";\n" FIELD("1")),
	 ":5: topic \"a/b\" is not a Kafka topic name"},
	{EVENT("  name = \"a.B\"; version = 1; table = \"t\"; on = [\"insert\"];\n"
	       "  topic = \"..\";\n" FIELD("1")),
	 ":5: topic \"..\" is not a Kafka topic name"},
	{SRC "sink = {\n  dead_letter_topic = \"dead letters\"; };\n",
	 ":3: sink.dead_letter_topic \"dead letters\" is not a Kafka topic name"},
	{SRC "sink = { format = \"changes\"; };\nmetrics = {\n  listen = \"localhost:80\"; };\n",
	 ":4: metrics.listen \"localhost:80\": expected an IPv4 address and a port"},
	{SRC "sink = { format = \"changes\"; };\nmetrics = {\n  listen = \"127.0.0.1:65536\"; };\n",
	 ":4: metrics.listen \"127.0.0.1:65536\": expected an IPv4 address and a port"},
	{EVENT(EV_HEAD "  fields = ( { name = \"s\"; number = 1; type = \"enum\"; value = \"new.s\";\n"
	       "    enum_values = [\"in-transit\", \"in transit\"]; } );\n"),
	 ":3: event a.B v1: field \"s\": generated name S_IN_TRANSIT is declared twice"},
	/* reserved: numbers and names of removed fields, never used again */
	{EVENT(EV_HEAD "  reserved = (5,\n \"f\");\n" FIELD("1")),
	 ":7: event a.B: field name \"f\" is reserved"},
	{EVENT(EV_HEAD "  reserved = [1];\n" FIELD("1")),
	 ":6: event a.B: field \"f\" uses number 1, which is reserved"},
	{EVENT(EV_HEAD "  reserved = (2,\n 2);\n" FIELD("1")), ":6: event a.B: number 2 is reserved twice"},
	{EVENT(EV_HEAD "  reserved = (\"x\", \"x\");\n" FIELD("1")),
	 ":5: event a.B: name \"x\" is reserved twice"},
	{EVENT(EV_HEAD "  reserved = (19001);\n" FIELD("1")),
	 ":5: event a.B: reserved 19001 is not a valid protobuf field number"},
	{EVENT(EV_HEAD "  reserved = (\"a-b\");\n" FIELD("1")),
	 ":5: event a.B: reserved name \"a-b\" is not an identifier"},
	{EVENT(EV_HEAD "  reserved = (1.5);\n" FIELD("1")),
	 ":5: event a.B: reserved holds field numbers and \"names\" only"},
	{EVENT(EV_HEAD "  reserved = 5;\n" FIELD("1")),
	 ":5: event a.B: reserved must be a list of field numbers and names"},
	{SRC "sink = { format = \"changes\";\n  path = \"a\\x00b\"; };\n",
	 ":3: \\x00 (NUL) is not allowed in a string"},
	{SRC "sink = { format = \"changes\";\n  path = \"caf\\xe9\"; };\n",
	 ":3: path: string is not valid UTF-8"},
	{SRC "sink = { format = \"changes\";\n  path = \"caf\xe9\"; };\n",
	 ":3: the file is not valid UTF-8"},
	{SRC "x = \n{ x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = "
	     "{ x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = { x = "
	     "{ x = { x = { x = { x = { x = 1; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; }; "
	     "}; }; }; "
	     "}; }; }; }; }; }; }; }; };\n",
	 ":3: groups, lists and arrays nested more than 32 deep"},
	{SRC "sink = { type = \"kafka\";\n  kafka = [\"bootstrap.servers=k:9092\",\n"
	     "    \"acks=most\"]; };\n",
	 ":4: sink.kafka \"acks\": Invalid value for configuration property"},
	/* source.shard: a generated filter needs a plain key, a real split and FOR TABLE. */
	{"source = { conninfo = \"x\"; tables = [\"public.t\"];\n"
	 "  shard = { table = \"public.t\"; key = \"id\"; count = 2; index = 2; }; };\n",
	 ":2: shard index 2 must be below count 2"},
	{"source = { conninfo = \"x\"; tables = [\"public.t\"];\n"
	 "  shard = { table = \"public.t\"; key = \"id\"; count = 1; index = 0; }; };\n",
	 ":2: count must be between 2 and 1024"},
	{"source = { conninfo = \"x\"; tables = [\"public.t\"];\n"
	 "  shard = { table = \"public.t\"; key = \"id) = 0 OR (true\"; count = 2; index = 0; }; };\n",
	 ":2: shard key \"id) = 0 OR (true\" must be one column name"},
	{"source = { conninfo = \"x\"; tables = [\"public.t\"];\n"
	 "  shard = { table = \"public.t\"; key = \"id\"; count = 2; }; };\n",
	 ":2: shard: index is required"},
	{"source = { conninfo = \"x\"; tables = [\"public.t\"];\n"
	 "  shard = { table = \"public.u\"; key = \"id\"; count = 2; index = 0; }; };\n",
	 ":2: shard table public.u is not in source.tables"},
	{"source = { conninfo = \"x\"; all_tables = true;\n"
	 "  shard = { table = \"public.t\"; key = \"id\"; count = 2; index = 0; }; };\n",
	 ":2: shard needs a publication FOR TABLE"},
	{"source = { conninfo = \"x\"; tables = [\"t\"]; shard = (\n"
	 "  { table = \"t\"; key = \"id\"; count = 2; index = 0; },\n"
	 "  { table = \"public.t\"; key = \"id\"; count = 3; index = 0; }); };\n",
	 ":3: table public.t is sharded already (line 2)"},
	{SRC "sink = { format = \"changes\"; };\n"
	     "# a control character in a value must not start a line of its own\n"
	     "log_level = \"a\\nb\";\n",
	 ":4: unknown log_level \"a?b\""},
};

START_TEST(test_malformed)
{
	const char *err = load_error(bad[_i].text);
	ck_assert_msg(strncmp(err, bad[_i].expect, strlen(bad[_i].expect)) == 0,
		      "case %d: expected \"%s...\", got \"%s\"", _i, bad[_i].expect, err);
}
END_TEST

START_TEST(test_missing_file)
{
	char err[256];
	ck_assert_ptr_null(cfg_load("/nonexistent/tablecast.cfg", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/tablecast.cfg: cannot read file: No such file or directory");
}
END_TEST

/* An error inside an included file names that file and its line. */
START_TEST(test_include_names_its_file)
{
	char err[1024], inc[256];
	snprintf(inc, sizeof(inc), "%s/include.XXXXXX", suite_tmpdir());
	int fd = mkstemp(inc);
	ck_assert_int_ge(fd, 0);
	const char *text = "log_level = \"info\";\n\nsink = { tpye = \"stdout\"; };\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char main_text[512];
	snprintf(main_text, sizeof(main_text), SRC "@include \"%s\"\n", inc);
	write_config(main_text);
	ck_assert_ptr_null(cfg_load(path, err, sizeof(err)));
	char want[1024];
	snprintf(want, sizeof(want), "%s:3: unknown setting \"tpye\" in sink", inc);
	ck_assert_str_eq(err, want);

	/* A missing include is the including line's error. */
	snprintf(main_text, sizeof(main_text), SRC "@include \"%s.missing\"\n", inc);
	unlink(path);
	write_config(main_text);
	ck_assert_ptr_null(cfg_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: @include \"%s.missing\": No such file or directory", path,
		 inc);
	ck_assert_str_eq(err, want);
	unlink(path);
	unlink(inc);
}
END_TEST

/* More than 1 MiB in all is refused at the line where the limit is crossed, without parsing. */
START_TEST(test_size_limit)
{
	size_t len = 2u << 20;
	char *text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, SRC, strlen(SRC));
	for (size_t i = strlen(SRC); i < len; i++)
		text[i] = i % 64 == 0 ? '\n' : (i % 64 == 1 ? '#' : 'x');
	text[len] = '\0';
	char err[512];
	write_config(text);
	free(text);
	ck_assert_ptr_null(cfg_load(path, err, sizeof(err)));
	unlink(path);
	ck_assert_msg(strstr(err, ": the configuration (with the files it includes) exceeds 1048576 bytes here"),
		      "%s", err);
	ck_assert_msg(strncmp(err + strlen(path), ":16385:", 7) == 0, "%s", err);
}
END_TEST

/* A stop request ends a load; the tick runs while it lasts. */
START_TEST(test_owners)
{
	char err[256];
	const char *base = "source = { conninfo = \"dbname=shop\"; };\nsink = { format = \"changes\"; };\n";
	char text[1024];
	snprintf(text, sizeof(text),
		 "%sowners = ( { table = \"shop.orders\"; role = \"orders_service\"; },\n"
		 "  { table = \"customers\"; role = \"crm\"; } );\n",
		 base);
	write_config(text);
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->nowners, 2);
	ck_assert_str_eq(cfg->owners[0].table, "shop.orders");
	ck_assert_str_eq(cfg->owners[0].role, "orders_service");
	ck_assert_int_eq(cfg->owners[0].line, 3);
	ck_assert_str_eq(cfg->owners[1].table, "public.customers"); /* unqualified: public */
	ck_assert_int_eq(cfg->owners[1].line, 4);
	cfg_free(cfg);

	static const struct {
		const char *owners, *error;
	} bad_owners[] = {
		{"owners = { table = \"a\"; };", ":3: owners must be a list"},
		{"owners = ( \"a\" );", ":3: each owner must be a group"},
		{"owners = ( { table = \"a\"; } );", ":3: owners: role is required"},
		{"owners = ( { role = \"r\"; } );", ":3: owners: table is required"},
		{"owners = ( { table = \"a\"; role = \"r\"; who = 1; } );", ":3: unknown setting \"who\""},
		{"owners = ( { table = \"a.b.c\"; role = \"r\"; } );", ":3: owner table \"a.b.c\" must be schema.table"},
		{"owners = ( { table = \"a\"; role = \"\"; } );", ":3: owner role must not be empty"},
		{"owners = ( { table = \"a\"; role = 1; } );", ":3: role must be a string"},
		{"owners = ( { table = \"a\"; role = \"r\"; },\n { table = \"public.a\"; role = \"s\"; } );",
		 ":4: table public.a has an owner already (line 3)"},
	};
	/* The audit gauges are served on metrics.listen. */
	snprintf(text, sizeof(text), "%smetrics = { audit_interval = 60; };\n", base);
	const char *e1 = load_error(text);
	ck_assert_msg(strstr(e1, ":3: metrics.audit_interval needs metrics.listen"), "%s", e1);
	snprintf(text, sizeof(text), "%smetrics = { listen = \"127.0.0.1:9187\"; audit_interval = 60; };\n", base);
	write_config(text);
	cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->metrics.audit_interval_s, 60);
	cfg_free(cfg);

	for (size_t i = 0; i < sizeof(bad_owners) / sizeof(bad_owners[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", base, bad_owners[i].owners);
		const char *e = load_error(text);
		ck_assert_msg(strncmp(e, bad_owners[i].error, strlen(bad_owners[i].error)) == 0, "%s: got %s", bad_owners[i].owners, e);
	}
}
END_TEST

static int ticks;
/* Outbox events: declared fields without values; handover needs both sources. */
START_TEST(test_outbox)
{
	char err[512];
	write_config(SRC DLQ
		     "events = (\n"
		     "  { name = \"shop.pay.PaymentTaken\"; version = 1; outbox = \"outbox\"; topic = \"p\";\n"
		     "    fields = ( { name = \"id\"; number = 1; type = \"int64\"; required = true; } ); },\n"
		     "  { name = \"shop.orders.OrderPlaced\"; version = 1; table = \"orders\"; on = [\"insert\"];\n"
		     "    topic = \"o\"; key = \"new.id\"; outbox = \"app.outbox\"; handover = \"outbox\";\n"
		     "    fields = ( { name = \"id\"; number = 1; type = \"int64\"; value = \"new.id\"; } ); }\n"
		     ");\n");
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->events[0].outbox, "public.outbox");
	ck_assert_str_eq(cfg->events[0].table, "public.outbox");
	ck_assert(cfg->events[0].outbox_only && !cfg->events[0].handover);
	ck_assert_uint_eq(cfg->events[0].ops, OP_INSERT);
	ck_assert(cfg->events[0].fields[0].required);
	ck_assert_ptr_null(cfg->events[0].fields[0].value);
	ck_assert_str_eq(cfg->events[1].outbox, "app.outbox");
	ck_assert_str_eq(cfg->events[1].table, "public.orders");
	ck_assert(cfg->events[1].handover && !cfg->events[1].outbox_only);
	cfg_free(cfg);

#define OUTBOX_EVENT(extra, field)                                                              \
	SRC DLQ "events = ( { name = \"a.b.C\"; version = 1; topic = \"t\"; " extra                \
		"  fields = ( { name = \"id\"; number = 1; type = \"int64\"; " field " } ); } );\n"
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT("outbox = \"o\";", "value = \"1\";")),
				     "an outbox event has no value expressions"));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT("outbox = \"o\"; key = \"'k'\";", "")),
				     "key belongs to a translator"));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT("outbox = \"o\"; handover = \"outbox\";", "")),
				     "needs both a table"));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT(
					     "table = \"t\"; on = [\"insert\"]; outbox = \"o\";", "value = \"1\";")),
				     "add handover = \"outbox\""));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT(
					     "table = \"t\"; on = [\"insert\"]; outbox = \"o\"; handover = \"translator\";",
					     "value = \"1\";")),
				     "handover must be \"outbox\""));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT(
					     "table = \"o\"; on = [\"insert\"]; outbox = \"o\"; handover = \"outbox\";",
					     "value = \"1\";")),
				     "cannot also be the translator's table"));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT("outbox = \"a.b.c\";", "")),
				     "must be schema.table"));
	ck_assert_ptr_nonnull(strstr(load_error(OUTBOX_EVENT("outbox = \"o\";", "repeated = true; required = true;")),
				     "cannot be required"));
#undef OUTBOX_EVENT
}
END_TEST

static void count_tick(void)
{
	ticks++;
}

START_TEST(test_hooks)
{
	char err[512];
	volatile sig_atomic_t stop = 0;
	struct CfgLoadHooks hooks = {.stop = &stop, .tick = count_tick};
	write_config(EVENT(EV_HEAD FIELD("1")));
	ticks = 0;
	struct Config *cfg = cfg_load_hooked(path, &hooks, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_ge(ticks, 2);
	cfg_free(cfg);
	stop = 1;
	ck_assert_ptr_null(cfg_load_hooked(path, &hooks, err, sizeof(err)));
	unlink(path);
	ck_assert_msg(strstr(err, ": loading stopped by a signal"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, test_minimal_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_events);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_include_names_its_file);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_hooks);
	tcase_add_test(tc, test_owners);
	tcase_add_test(tc, test_outbox);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
