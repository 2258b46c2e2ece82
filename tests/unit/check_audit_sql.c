/* Unit tests for src/audit_sql.c. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sql.h"
#include "run_suite.h"

/*
 * The relations sql names, as "r:schema.name w:name ..." in order of
 * appearance (r read, w write, rw both; no schema when unqualified).
 */
static void expect(const char *sql, const char *want)
{
	struct AuditRefs refs = {0};
	char err[512], got[2048];
	size_t len = 0;
	int rc = asql_tables(sql, &refs, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", sql, err);
	got[0] = '\0';
	for (size_t i = 0; i < refs.n; i++) {
		const struct AuditRef *r = &refs.refs[i];
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s%s:%s%s%s", i ? " " : "",
					r->access & ASQL_READ ? "r" : "",
					r->access & ASQL_WRITE ? "w" : "", r->schema ? r->schema : "",
					r->schema ? "." : "", r->name);
	}
	ck_assert_msg(strcmp(got, want) == 0, "%s\n  got:  %s\n  want: %s", sql, got, want);
	asql_refs_free(&refs);
}

START_TEST(test_reads)
{
	expect("SELECT * FROM orders", "r:orders");
	expect("SELECT o.id FROM public.orders o JOIN shop.customers c ON c.id = o.customer_id "
	       "LEFT JOIN order_lines l USING (id) WHERE o.id = $1",
	       "r:public.orders r:shop.customers r:order_lines");
	/* Subqueries anywhere: WHERE, select list, FROM, EXISTS, LATERAL. */
	expect("SELECT (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) FROM orders o "
	       "WHERE o.customer_id IN (SELECT id FROM customers WHERE country = $1) "
	       "AND EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)",
	       "r:order_lines r:orders r:customers r:refunds");
	expect("SELECT * FROM (SELECT * FROM a) s, LATERAL (SELECT * FROM b WHERE b.x = s.x) t",
	       "r:a r:b");
	expect("SELECT 1 FROM a UNION ALL SELECT 2 FROM b EXCEPT SELECT 3 FROM c", "r:a r:b r:c");
	/* Names are as PostgreSQL folds them: unquoted lower case, quoted kept. */
	expect("SELECT * FROM Public.\"Orders\", CUSTOMERS", "r:public.Orders r:customers");
	/* The same table twice is one reference. */
	expect("SELECT * FROM orders a JOIN orders b ON a.id = b.id", "r:orders");
	/* SELECT ... FOR UPDATE locks rows but writes none. */
	expect("SELECT id FROM orders WHERE status = $1 FOR UPDATE SKIP LOCKED", "r:orders");
	/* No table at all; functions hide what they read. */
	expect("SELECT $1::int + 1, now(), my_func($2)", "");
	expect("SELECT * FROM generate_series($1, $2) g", "");
}
END_TEST

START_TEST(test_ctes)
{
	/* A CTE's name is not a table... */
	expect("WITH recent AS (SELECT * FROM orders WHERE placed_at > $1) "
	       "SELECT * FROM recent JOIN customers ON true",
	       "r:orders r:customers");
	/* ...but a qualified name is, even if a CTE has that name. */
	expect("WITH orders AS (SELECT 1) SELECT * FROM public.orders, orders", "r:public.orders");
	/* A non-recursive CTE's body sees the table of its own name. */
	expect("WITH orders AS (SELECT * FROM orders) SELECT * FROM orders", "r:orders");
	/* A later CTE sees an earlier one. */
	expect("WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM a JOIN t2 ON true) SELECT * FROM b",
	       "r:t1 r:t2");
	/* WITH RECURSIVE: the CTE refers to itself. */
	expect("WITH RECURSIVE tree AS (SELECT id FROM nodes WHERE parent IS NULL UNION ALL "
	       "SELECT n.id FROM nodes n JOIN tree t ON n.parent = t.id) SELECT * FROM tree",
	       "r:nodes");
	/* A CTE is visible only in its statement: a subquery elsewhere names the table. */
	expect("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x", "r:x");
	/* Data-modifying CTEs write. */
	expect("WITH o AS (INSERT INTO orders (customer_id) SELECT id FROM customers WHERE email = $1 "
	       "RETURNING id) INSERT INTO order_lines (order_id) SELECT o.id FROM o",
	       "w:orders r:customers w:order_lines");
}
END_TEST

START_TEST(test_writes)
{
	expect("INSERT INTO orders (customer_id) VALUES ($1)", "w:orders");
	expect("INSERT INTO archive SELECT * FROM orders WHERE id = $1", "w:archive r:orders");
	expect("INSERT INTO t (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET n = t.n + $2", "w:t");
	expect("UPDATE orders SET status = $1 WHERE id = $2", "w:orders");
	/* UPDATE ... FROM reads the other tables; a subquery in WHERE too. */
	expect("UPDATE orders o SET total = s.sum FROM (SELECT order_id, sum(quantity) AS sum "
	       "FROM order_lines GROUP BY order_id) s WHERE o.id = s.order_id",
	       "w:orders r:order_lines");
	expect("UPDATE orders SET status = $1 WHERE id = (SELECT min(id) FROM orders WHERE status = $2)",
	       "rw:orders");
	expect("DELETE FROM shop.sessions USING customers c WHERE c.id = customer_id", "w:shop.sessions r:customers");
	expect("MERGE INTO stock s USING incoming i ON s.sku = i.sku "
	       "WHEN MATCHED THEN UPDATE SET qty = s.qty + i.qty "
	       "WHEN NOT MATCHED THEN INSERT VALUES (i.sku, i.qty)",
	       "w:stock r:incoming");
	expect("TRUNCATE a, public.b", "w:a w:public.b");
	expect("COPY orders FROM STDIN", "w:orders");
	expect("COPY orders (id, status) TO STDOUT", "r:orders");
	expect("COPY (SELECT * FROM orders JOIN customers ON true) TO STDOUT", "r:orders r:customers");
	expect("SELECT * INTO archive FROM orders", "w:archive r:orders");
	expect("CREATE TABLE snap AS SELECT * FROM orders", "r:orders w:snap");
	expect("DECLARE c CURSOR FOR SELECT * FROM orders", "r:orders");
}
END_TEST

START_TEST(test_not_row_access)
{
	/* DDL names relations but reads and writes no rows. */
	expect("CREATE INDEX ON orders (status)", "");
	expect("ALTER TABLE orders ADD COLUMN note text", "");
	expect("BEGIN", "");
	expect("SET search_path = $1", "");
	/* Several statements in one text (a simple-protocol string) are all counted. */
	expect("SELECT * FROM a; UPDATE b SET x = $1", "r:a w:b");
}
END_TEST

START_TEST(test_refusals)
{
	struct AuditRefs refs = {0};
	char err[512];
	ck_assert_int_eq(asql_tables("SELEC * FROM orders", &refs, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "syntax error"), "%s", err);
	ck_assert_int_eq((int)refs.n, 0);

	/* A chain deep enough to exhaust the stack is refused before it is parsed. */
	size_t n = 30000;
	char *deep = malloc(16 + n * 2);
	memcpy(deep, "SELECT 1", 8);
	for (size_t i = 0; i < n; i++)
		memcpy(deep + 8 + i * 2, "+1", 2);
	deep[8 + n * 2] = '\0';
	ck_assert_int_eq(asql_tables(deep, &refs, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nested too deeply"), "%s", err);
	/* Just under the bound: parsed. */
	deep[8 + 990 * 2] = '\0';
	ck_assert_msg(asql_tables(deep, &refs, err, sizeof(err)) == 0, "%s", err);
	/* Brackets count too. */
	for (size_t i = 0; i < 1200; i++)
		deep[7 + i] = '(';
	deep[7 + 1200] = '\0';
	ck_assert_int_eq(asql_tables(deep, &refs, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nested too deeply"), "%s", err);
	free(deep);

	/* A long VALUES list is flat: it passes. */
	size_t rows = 5000, len = 0, cap = 64 + rows * 24;
	char *values = malloc(cap);
	len = (size_t)snprintf(values, cap, "INSERT INTO t VALUES ($1, $2)");
	for (size_t i = 1; i < rows; i++)
		len += (size_t)snprintf(values + len, cap - len, ", ($%zu, $%zu)", 2 * i + 1, 2 * i + 2);
	ck_assert_msg(asql_tables(values, &refs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq((int)refs.n, 1);
	asql_refs_free(&refs);
	free(values);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit_sql");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reads);
	tcase_add_test(tc, test_ctes);
	tcase_add_test(tc, test_writes);
	tcase_add_test(tc, test_not_row_access);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
