-- carrier_delays: how late each carrier arrives, over every flight known on D.
-- Grain: one row per carrier; as_of_date = D. A flight without an arrival delay
-- (cancelled or diverted) counts in flights, not in the mean, as R's
-- mean(arr_delay, na.rm = TRUE) does.
WITH flights AS (
    SELECT *
    FROM silver.flights
    WHERE ingestion_dt <= {{ partition }}
    QUALIFY ROW_NUMBER() OVER (PARTITION BY time_hour, carrier, flight ORDER BY ingestion_dt DESC) = 1
)
SELECT {{ partition }} AS as_of_date,
       flights.carrier,
       airlines.name AS carrier_name,
       COUNT(*) AS flights,
       COUNT(flights.dep_time) AS departed,
       COUNT(flights.arr_delay) AS arrived,
       AVG(flights.arr_delay) AS mean_arr_delay,
       AVG(flights.dep_delay) AS mean_dep_delay
FROM flights
LEFT JOIN (
    SELECT carrier, name
    FROM silver.airlines
    WHERE ingestion_dt <= {{ partition }}
    QUALIFY ROW_NUMBER() OVER (PARTITION BY carrier ORDER BY ingestion_dt DESC) = 1
) AS airlines ON flights.carrier = airlines.carrier
GROUP BY flights.carrier, airlines.name
