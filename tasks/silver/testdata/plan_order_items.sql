-- classify
CREATE TEMP TABLE classified AS SELECT t._source_ord, t."order_id", t."line_no", CASE WHEN t."__src__order_id" IS NULL OR t."__src__line_no" IS NULL THEN 'pk_null' WHEN t."__src__line_no" IS NOT NULL AND t."line_no" IS NULL THEN 'cast_failed:line_no' WHEN t."__src__quantity" IS NOT NULL AND t."quantity" IS NULL THEN 'cast_failed:quantity' WHEN t."__src__unit_price" IS NOT NULL AND t."unit_price" IS NULL THEN 'cast_failed:unit_price' WHEN t."__src__discount_amount" IS NOT NULL AND t."discount_amount" IS NULL THEN 'cast_failed:discount_amount' WHEN t."order_id" IS NULL THEN 'not_null:order_id' WHEN t."line_no" IS NULL THEN 'not_null:line_no' WHEN t."product_id" IS NULL THEN 'not_null:product_id' WHEN t."quantity" IS NULL THEN 'not_null:quantity' WHEN t."unit_price" IS NULL THEN 'not_null:unit_price' WHEN NOT coalesce((quantity > 0), true) THEN 'check:quantity' WHEN NOT coalesce((unit_price >= 0), true) THEN 'check:unit_price' WHEN NOT coalesce((discount_amount >= 0), true) THEN 'check:discount_amount' WHEN t."order_id" IS NOT NULL AND fk0.__fk_key IS NULL THEN 'fk_orphan:order_id' WHEN t."product_id" IS NOT NULL AND fk1.__fk_key IS NULL THEN 'fk_orphan:product_id' END AS _reason, CASE WHEN t."order_id" IS NOT NULL AND fk0.__fk_key IS NULL THEN concat_ws('|', CAST(t."order_id" AS VARCHAR)) END AS _orphan0, CASE WHEN t."product_id" IS NOT NULL AND fk1.__fk_key IS NULL THEN concat_ws('|', CAST(t."product_id" AS VARCHAR)) END AS _orphan1
FROM (SELECT _source_ord, "line_no" AS "__src__line_no", "quantity" AS "__src__quantity", "unit_price" AS "__src__unit_price", "discount_amount" AS "__src__discount_amount", "order_id" AS "__src__order_id", "order_id" AS "order_id", TRY_CAST("line_no" AS INTEGER) AS "line_no", "product_id" AS "product_id", TRY_CAST("quantity" AS INTEGER) AS "quantity", TRY_CAST("unit_price" AS DECIMAL(10,2)) AS "unit_price", TRY_CAST("discount_amount" AS DECIMAL(10,2)) AS "discount_amount"
  FROM (SELECT _source_ord, NULLIF(trim("order_id"), '') AS "order_id", NULLIF(trim("line_no"), '') AS "line_no", NULLIF(trim("product_id"), '') AS "product_id", NULLIF(trim("quantity"), '') AS "quantity", NULLIF(trim("unit_price"), '') AS "unit_price", NULLIF(trim("discount_amount"), '') AS "discount_amount"
    FROM (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false)
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false)))) AS t
LEFT JOIN fkkeys0 AS fk0 ON t."order_id" = fk0.__fk_key
LEFT JOIN fkkeys1 AS fk1 ON t."product_id" = fk1.__fk_key;

-- dedup
CREATE TEMP TABLE dupkeys AS SELECT "order_id", "line_no" FROM classified WHERE _reason IS NULL GROUP BY ALL HAVING count(*) > 1;
CREATE TEMP TABLE losers AS SELECT NULL::BIGINT AS _source_ord WHERE false;

-- fate
CREATE TEMP TABLE fate AS SELECT _source_ord, _reason AS _final_reason FROM classified WHERE _reason IS NOT NULL
UNION ALL SELECT c._source_ord, 'pk_duplicate' FROM classified c SEMI JOIN dupkeys d ON c."order_id" = d."order_id" AND c."line_no" = d."line_no" WHERE c._reason IS NULL;

-- fate bits of file 0
SET VARIABLE "silver_fate_0" = (SELECT bitstring_agg(_source_ord & 1099511627775, 0::BIGINT, 999::BIGINT) FROM fate WHERE _source_ord >> 40 = 0);

-- silver rows of partition 2026-11-20
SELECT "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount", DATE '2026-11-20' AS "ingestion_dt" FROM (SELECT _source_ord, "order_id" AS "order_id", TRY_CAST("line_no" AS INTEGER) AS "line_no", "product_id" AS "product_id", TRY_CAST("quantity" AS INTEGER) AS "quantity", TRY_CAST("unit_price" AS DECIMAL(10,2)) AS "unit_price", TRY_CAST("discount_amount" AS DECIMAL(10,2)) AS "discount_amount"
  FROM (SELECT _source_ord, NULLIF(trim("order_id"), '') AS "order_id", NULLIF(trim("line_no"), '') AS "line_no", NULLIF(trim("product_id"), '') AS "product_id", NULLIF(trim("quantity"), '') AS "quantity", NULLIF(trim("unit_price"), '') AS "unit_price", NULLIF(trim("discount_amount"), '') AS "discount_amount"
    FROM (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false) WHERE get_bit(getvariable('silver_fate_0'), file_row_number::INTEGER) = 0
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false))));

-- quarantine rows
SELECT b."order_id", b."line_no", b."product_id", b."quantity", b."unit_price", b."discount_amount", o._final_reason AS _reject_reason, 'run-1' AS _run_id, b._source_file, b._source_row FROM fate o
JOIN (SELECT 'part-00000.parquet' AS _source_file, file_row_number AS _source_row, (0::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00000.parquet', file_row_number = true, hive_partitioning = false)
    UNION ALL SELECT 'part-00001.parquet' AS _source_file, file_row_number AS _source_row, (1::BIGINT << 40) + file_row_number AS _source_ord, "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount" FROM read_parquet('/scratch/bronze/part-00001.parquet', file_row_number = true, hive_partitioning = false)) b ON o._source_ord = b._source_ord ORDER BY o._source_ord;

