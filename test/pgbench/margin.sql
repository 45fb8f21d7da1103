-- A trader adds or withdraws up to 30% of one position's margin: half the time a position
-- at random (pgbench -D positions=N: the ids loaded by test/lib/book.sql), half the time
-- the one the mark would cross next on a random instrument (the long with the highest
-- margin-call price at or below the mark), which a concurrent tick may be flagging.
\set id random(1, :positions)
\set pct random(-30, 30)
\set n random(0, 3)
\set hot random(0, 1)
UPDATE positions SET margin = round(margin * (100 + :pct) * 0.01, 8)
 WHERE id = CASE WHEN :hot = 0 THEN :id
                 ELSE (SELECT p.id FROM positions p JOIN marks m ON m.symbol = p.symbol
                        WHERE p.symbol = (SELECT symbol FROM instruments ORDER BY symbol OFFSET :n LIMIT 1)
                          AND p.status < 'liquidate' AND p.margin_call_price <= m.mark_price
                        ORDER BY p.margin_call_price DESC LIMIT 1) END;
