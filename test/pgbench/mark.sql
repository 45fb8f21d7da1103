-- A price feed's tick on the book of test/lib/book.sql: one instrument's mark moves by up
-- to 0.5%, on its tick, staying within 10% of its ref_price.
\set n random(0, 3)
\set step random(-500, 500)
UPDATE marks m
   SET mark_price = round(least(greatest(m.mark_price * (1 + :step * 0.00001), i.ref_price * 0.9),
                                i.ref_price * 1.1) / i.tick) * i.tick,
       ticks = m.ticks + 1
  FROM instruments i
 WHERE i.symbol = m.symbol
   AND m.symbol = (SELECT symbol FROM instruments ORDER BY symbol OFFSET :n LIMIT 1);
