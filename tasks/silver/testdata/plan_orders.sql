-- classify
CREATE TEMP TABLE classified AS SELECT t._source_ord, t."order_id", t."updated_at", CASE WHEN t."__src__order_id" IS NULL THEN 'pk_null' WHEN t."__src__order_ts" IS NOT NULL AND t."order_ts" IS NULL THEN 'cast_failed:order_ts' WHEN t."__src__total_amount" IS NOT NULL AND t."total_amount" IS NULL THEN 'cast_failed:total_amount' WHEN t."__src__updated_at" IS NOT NULL AND t."updated_at" IS NULL THEN 'cast_failed:updated_at' WHEN t."order_id" IS NULL THEN 'not_null:order_id' WHEN t."customer_id" IS NULL THEN 'not_null:customer_id' WHEN t."order_ts" IS NULL THEN 'not_null:order_ts' WHEN t."total_amount" IS NULL THEN 'not_null:total_amount' WHEN t."status" IS NOT NULL AND t."status" NOT IN (TRY_CAST('placed' AS VARCHAR), TRY_CAST('paid' AS VARCHAR), TRY_CAST('shipped' AS VARCHAR), TRY_CAST('delivered' AS VARCHAR), TRY_CAST('cancelled' AS VARCHAR)) THEN 'accepted_values:status' WHEN t."currency" IS NOT NULL AND t."currency" NOT IN (TRY_CAST('USD' AS VARCHAR), TRY_CAST('EUR' AS VARCHAR), TRY_CAST('GBP' AS VARCHAR)) THEN 'accepted_values:currency' WHEN NOT coalesce((total_amount >= 0), true) THEN 'check:total_amount' WHEN t."customer_id" IS NOT NULL AND fk0.__fk_key IS NULL THEN 'fk_orphan:customer_id' END AS _reason, CASE WHEN t."customer_id" IS NOT NULL AND fk0.__fk_key IS NULL THEN concat_ws('|', CAST(t."customer_id" AS VARCHAR)) END AS _orphan0
FROM (SELECT _source_ord, "order_ts" AS "__src__order_ts", "total_amount" AS "__src__total_amount", "updated_at" AS "__src__updated_at", "order_id" AS "__src__order_id", "order_id" AS "order_id", "customer_id" AS "customer_id", TRY_CAST((try_strptime(order_ts, '%Y-%m-%dT%H:%M:%SZ')) AS TIMESTAMP) AS "order_ts", "status" AS "status", TRY_CAST("total_amount" AS DECIMAL(12,2)) AS "total_amount", "currency" AS "currency", TRY_CAST((try_strptime(updated_at, '%Y-%m-%dT%H:%M:%SZ')) AS TIMESTAMP) AS "updated_at"
  FROM (SELECT _source_ord, NULLIF(trim("order_id"), '') AS "order_id", NULLIF(trim("customer_id"), '') AS "customer_id", NULLIF(trim("order_ts"), '') AS "order_ts", NULLIF(trim("status"), '') AS "status", NULLIF(trim("total_amount"), '') AS "total_amount", NULLIF(trim("currency"), '') AS "currency", NULLIF(trim("updated_at"), '') AS "updated_at"
    FROM (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false)
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false)))) AS t
LEFT JOIN fkkeys0 AS fk0 ON t."customer_id" = fk0.__fk_key;

-- dedup
CREATE TEMP TABLE dupkeys AS SELECT "order_id" FROM classified WHERE _reason IS NULL GROUP BY ALL HAVING count(*) > 1;
CREATE TEMP TABLE losers AS SELECT _source_ord FROM (
  SELECT c._source_ord, row_number() OVER (PARTITION BY c."order_id" ORDER BY c."updated_at" DESC NULLS LAST, c._source_ord) AS rn
  FROM classified c SEMI JOIN dupkeys d ON c."order_id" = d."order_id"
  WHERE c._reason IS NULL) WHERE rn > 1;

-- fate
CREATE TEMP TABLE fate AS SELECT _source_ord, _reason AS _final_reason FROM classified WHERE _reason IS NOT NULL
UNION ALL SELECT _source_ord, 'deduplicated' FROM losers;

-- fate bits of file 0
SET VARIABLE "silver_fate_0" = (SELECT bitstring_agg(_source_ord & 1099511627775, 0::BIGINT, 999::BIGINT) FROM fate WHERE _source_ord >> 40 = 0);

-- silver rows of partition 2026-11-20
SELECT "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at", DATE '2026-11-20' AS "ingestion_dt" FROM (SELECT _source_ord, "order_id" AS "order_id", "customer_id" AS "customer_id", TRY_CAST((try_strptime(order_ts, '%Y-%m-%dT%H:%M:%SZ')) AS TIMESTAMP) AS "order_ts", "status" AS "status", TRY_CAST("total_amount" AS DECIMAL(12,2)) AS "total_amount", "currency" AS "currency", TRY_CAST((try_strptime(updated_at, '%Y-%m-%dT%H:%M:%SZ')) AS TIMESTAMP) AS "updated_at"
  FROM (SELECT _source_ord, NULLIF(trim("order_id"), '') AS "order_id", NULLIF(trim("customer_id"), '') AS "customer_id", NULLIF(trim("order_ts"), '') AS "order_ts", NULLIF(trim("status"), '') AS "status", NULLIF(trim("total_amount"), '') AS "total_amount", NULLIF(trim("currency"), '') AS "currency", NULLIF(trim("updated_at"), '') AS "updated_at"
    FROM (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false) WHERE get_bit(getvariable('silver_fate_0'), file_row_number::INTEGER) = 0
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false))));

-- quarantine rows
SELECT b."order_id", b."customer_id", b."order_ts", b."status", b."total_amount", b."currency", b."updated_at", o._final_reason AS _reject_reason, 'run-1' AS _run_id, b._source_file, b._source_row FROM fate o
JOIN (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false)
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false)) b ON o._source_ord = b._source_ord ORDER BY o._source_ord;

