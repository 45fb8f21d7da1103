-- A liquidation worker claims up to 3 events and closes those of its claimed positions that
-- are still liquidate or bankrupt, in one statement (doc/enforcement.md, the worker loop).
UPDATE positions SET size = 0, margin = 0
 WHERE id IN (SELECT (e.position_key ->> 'id')::bigint FROM isomargin.claim_events('stress', 3) e)
   AND status >= 'liquidate';
