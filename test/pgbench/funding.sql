-- A funding payment: longs pay and shorts receive 0.01% of their notional at the mark, on
-- one instrument's positions whose id is k modulo 20 (about 40 of a 3,000-position book).
\set n random(0, 3)
\set k random(0, 19)
UPDATE positions p
   SET margin = greatest(p.margin - sign(p.size) * round(isomargin.notional(abs(p.size), m.mark_price,
                                                                            i.contract_size, i.kind)
                                                         * 0.0001, 8), 0)
  FROM marks m, instruments i
 WHERE m.symbol = p.symbol AND i.symbol = p.symbol
   AND p.symbol = (SELECT symbol FROM instruments ORDER BY symbol OFFSET :n LIMIT 1)
   AND p.id % 20 = :k;
