-- orders: dbt jaffle_shop's orders model, as of partition D.
-- Grain: one row per order known on D; as_of_date = D. The amount of each payment
-- method, and the total, in dollars; an order without payments has NULL amounts,
-- as in dbt's model.
WITH orders AS (
    SELECT id AS order_id, user_id AS customer_id, order_date, status
    FROM `proj.silver.orders`
    WHERE ingestion_dt <= DATE '2026-11-20'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ingestion_dt DESC) = 1
),
payments AS (
    SELECT id AS payment_id, order_id, payment_method, amount
    FROM `proj.silver.payments`
    WHERE ingestion_dt <= DATE '2026-11-20'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ingestion_dt DESC) = 1
),
order_payments AS (
    SELECT order_id,
           SUM(CASE WHEN payment_method = 'credit_card' THEN amount ELSE 0 END) AS credit_card_amount,
           SUM(CASE WHEN payment_method = 'coupon' THEN amount ELSE 0 END) AS coupon_amount,
           SUM(CASE WHEN payment_method = 'bank_transfer' THEN amount ELSE 0 END) AS bank_transfer_amount,
           SUM(CASE WHEN payment_method = 'gift_card' THEN amount ELSE 0 END) AS gift_card_amount,
           SUM(amount) AS total_amount
    FROM payments
    GROUP BY order_id
)
SELECT DATE '2026-11-20' AS as_of_date,
       orders.order_id,
       orders.customer_id,
       orders.order_date,
       orders.status,
       order_payments.credit_card_amount,
       order_payments.coupon_amount,
       order_payments.bank_transfer_amount,
       order_payments.gift_card_amount,
       order_payments.total_amount AS amount
FROM orders
LEFT JOIN order_payments ON orders.order_id = order_payments.order_id
