package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	lake := os.Args[1]
	d := os.Args[2]
	db, _ := sql.Open("duckdb", "")
	conn := db
	exec := func(name, q string) {
		t := time.Now()
		if _, err := conn.Exec(q); err != nil {
			fmt.Println(name, err)
			os.Exit(1)
		}
		fmt.Printf("%-12s %6.2fs\n", name, time.Since(t).Seconds())
	}
	exec("setup", "SET threads=2; SET memory_limit='14GB'; SET TimeZone='UTC'")
	src := lake + "/bronze/cart_events/ingest_dt=" + d + "/part-00000.parquet"
	exec("fk0", "CREATE TEMP TABLE fkkeys0 AS SELECT DISTINCT TRY_CAST(customer_id AS VARCHAR) AS __fk_key FROM read_parquet('"+lake+"/silver/customers/*/run=*/*.parquet', hive_partitioning=false) WHERE customer_id IS NOT NULL")
	exec("fk1", "CREATE TEMP TABLE fkkeys1 AS SELECT DISTINCT TRY_CAST(product_id AS VARCHAR) AS __fk_key FROM read_parquet('"+lake+"/silver/products/*/run=*/*.parquet', hive_partitioning=false) WHERE product_id IS NOT NULL")
	cols := []string{"event_id", "session_id", "customer_id", "product_id", "event_type", "channel", "event_ts"}
	var cleaned, typed []string
	cleaned = append(cleaned, "_source_file", "_source_row")
	typed = append(typed, "_source_file", "_source_row")
	for _, c := range cols {
		cleaned = append(cleaned, fmt.Sprintf("%s AS __raw__%s, NULLIF(trim(%s), '') AS %s", c, c, c, c))
		typed = append(typed, "__raw__"+c)
	}
	for _, c := range cols {
		typed = append(typed, fmt.Sprintf("%s AS __src__%s", c, c))
	}
	for _, c := range cols {
		if c == "event_ts" {
			typed = append(typed, "TRY_CAST((try_strptime(event_ts, '%Y-%m-%dT%H:%M:%SZ')) AS TIMESTAMP) AS event_ts")
		} else {
			typed = append(typed, c)
		}
	}
	reason := `CASE WHEN t.__src__event_id IS NULL THEN 'pk_null'
 WHEN t.__src__event_ts IS NOT NULL AND t.event_ts IS NULL THEN 'cast_failed:event_ts'
 WHEN t.event_id IS NULL THEN 'not_null:event_id' WHEN t.session_id IS NULL THEN 'not_null:session_id' WHEN t.event_ts IS NULL THEN 'not_null:event_ts'
 WHEN t.event_type IS NOT NULL AND t.event_type NOT IN ('page_view','product_view','add_to_cart','remove_from_cart','checkout_started') THEN 'accepted_values:event_type'
 WHEN t.channel IS NOT NULL AND t.channel NOT IN ('direct','organic_search','paid_search','email','social','affiliate') THEN 'accepted_values:channel'
 WHEN t.customer_id IS NOT NULL AND fk0.__fk_key IS NULL THEN 'fk_orphan:customer_id'
 WHEN t.product_id IS NOT NULL AND fk1.__fk_key IS NULL THEN 'fk_orphan:product_id' END`
	scan := fmt.Sprintf("SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, %s FROM read_parquet('%s', file_row_number=true, hive_partitioning=false)", strings.Join(cols, ", "), src)
	q := fmt.Sprintf("CREATE TEMP TABLE classified AS SELECT t.*, %s AS _reason FROM (SELECT %s FROM (SELECT %s FROM (%s))) AS t LEFT JOIN fkkeys0 AS fk0 ON t.customer_id = fk0.__fk_key LEFT JOIN fkkeys1 AS fk1 ON t.product_id = fk1.__fk_key",
		reason, strings.Join(typed, ", "), strings.Join(cleaned, ", "), scan)
	exec("classify", q)
	exec("dupkeys", "CREATE TEMP TABLE dupkeys AS SELECT event_id FROM classified WHERE _reason IS NULL GROUP BY ALL HAVING count(*) > 1")
	exec("losers", `CREATE TEMP TABLE losers AS SELECT _source_file, _source_row FROM (
  SELECT c._source_file, c._source_row, row_number() OVER (PARTITION BY c.event_id ORDER BY c.event_ts ASC NULLS LAST, c._source_file, c._source_row) AS rn
  FROM classified c SEMI JOIN dupkeys d ON c.event_id = d.event_id
  WHERE c._reason IS NULL) WHERE rn > 1`)
	exec("outcome", `CREATE TEMP VIEW outcome AS SELECT c.*, coalesce(c._reason, NULL) AS _final_reason, (l._source_row IS NOT NULL) AS _deduplicated
FROM classified c LEFT JOIN dupkeys d ON c._reason IS NULL AND c.event_id = d.event_id
LEFT JOIN losers l ON c._source_file = l._source_file AND c._source_row = l._source_row`)
	exec("count", "CREATE TEMP TABLE cnt AS SELECT coalesce(_final_reason, CASE WHEN _deduplicated THEN '~dedup' ELSE '~out' END) AS k, count(*) FROM outcome GROUP BY k")
	exec("quarantine", "COPY (SELECT __raw__event_id, _final_reason, _source_file, _source_row FROM outcome WHERE _final_reason IS NOT NULL ORDER BY _source_file, _source_row) TO '/tmp/q.parquet' (FORMAT parquet, COMPRESSION zstd)")
	exec("silver", "COPY (SELECT event_id, session_id, customer_id, product_id, event_type, channel, event_ts FROM outcome WHERE _final_reason IS NULL AND NOT _deduplicated ORDER BY _source_file, _source_row) TO '/tmp/s.parquet' (FORMAT parquet, COMPRESSION zstd)")
	exec("outcome2", `CREATE TEMP VIEW outcome2 AS SELECT c.*, c._reason AS _final_reason, (l._source_row IS NOT NULL) AS _deduplicated
FROM classified c LEFT JOIN losers l ON c._source_file = l._source_file AND c._source_row = l._source_row`)
	exec("count2", "CREATE TEMP TABLE cnt2 AS SELECT coalesce(_final_reason, CASE WHEN _deduplicated THEN '~dedup' ELSE '~out' END) AS k, count(*) FROM outcome2 GROUP BY k")
	exec("outcome3", `CREATE TEMP VIEW outcome3 AS SELECT c.*, c._reason AS _final_reason, false AS _deduplicated FROM classified c LEFT JOIN dupkeys d ON c._reason IS NULL AND c.event_id = d.event_id`)
	exec("count3", "CREATE TEMP TABLE cnt3 AS SELECT coalesce(_final_reason, CASE WHEN _deduplicated THEN '~dedup' ELSE '~out' END) AS k, count(*) FROM outcome3 GROUP BY k")
	exec("outcome4", `CREATE TEMP VIEW outcome4 AS SELECT c.*, c._reason AS _final_reason, (c._reason IS NULL AND d.event_id IS NOT NULL) AS _deduplicated FROM classified c LEFT JOIN dupkeys d ON c.event_id = d.event_id`)
	exec("count4", "CREATE TEMP TABLE cnt4 AS SELECT coalesce(_final_reason, CASE WHEN _deduplicated THEN '~dedup' ELSE '~out' END) AS k, count(*) FROM outcome4 GROUP BY k")
	rows, _ := conn.Query("EXPLAIN SELECT count(*) FROM outcome3")
	for rows.Next() { var a, b string; rows.Scan(&a, &b); fmt.Println(b) }
	os.Exit(0)
	exec("silver-noorder", "COPY (SELECT event_id, session_id, customer_id, product_id, event_type, channel, event_ts FROM outcome WHERE _final_reason IS NULL AND NOT _deduplicated) TO '/tmp/s2.parquet' (FORMAT parquet, COMPRESSION zstd)")
}
