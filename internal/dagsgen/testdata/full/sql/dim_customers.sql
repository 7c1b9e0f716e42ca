SELECT h.*, f.n
FROM dims.customers_history h
JOIN (SELECT count(*) AS n FROM gold.fct_orders) f ON true
