-- A trader opens a position at the current mark (pgbench -D seed=S: test/lib/book.sql's).
INSERT INTO positions (id, symbol, size, entry_price, margin)
SELECT b.* FROM book_position(nextval('position_ids'), :seed) b;
