-- The liquidation worker (doc/liquidation.md): claims enforcement's events of
-- liquidated tables, liquidates each flagged position in one transaction by
-- its policy, books the insurance fund and auto-deleverages.

-- ---------------------------------------------------------------- the events table, in one place

-- The worker holds no right on isomargin.events: it claims and acknowledges
-- through claim_events and ack_events, which check its event grants.  These
-- partial indexes serve their filters: a table's unclaimed liquidate/bankrupt
-- events (the claim) and a position's unclaimed events (the settlement).
CREATE INDEX events_unclaimed_liquidation ON @extschema@.events (positions, id)
    WHERE claimed_at IS NULL AND new_status >= 'liquidate';
CREATE INDEX events_unclaimed_position ON @extschema@.events (positions, position_key)
    WHERE claimed_at IS NULL;

-- Claims and acknowledges, as '<worker> (settled)', every unclaimed event of a
-- position the worker has just settled: the events its own update produced (a
-- liquidate -> ok, say) and any earlier ones its settlement superseded.  No
-- worker claims them after that; they stay for the record.  Returns how many.
-- In C (src/liquidation_next.c): one statement of the queue, as claim_events
-- with position_keys and then ack_events would do, after the same grant check.
CREATE FUNCTION @extschema@.liquidation_ack(positions regclass, position_key jsonb, worker text)
RETURNS int
AS 'MODULE_PATHNAME', 'liquidation_ack'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------- an attachment's statements

-- What the worker needs to address an attachment's tables: quoted names and
-- expressions, from the enforcement catalog and the liquidation settings.
CREATE TYPE @extschema@.liquidation_attachment AS (
    positions       regclass,
    key_where       text,   -- p.<pk> = k.<pk> AND ..., k = jsonb_populate_record(NULL::positions, $1)
    key_json        text,   -- jsonb_build_object('<pk>', p.<pk>, ...)
    key_order       text,   -- p.<pk>, ...
    sym             text,
    size            text,
    entry           text,
    margin          text,
    status          text,
    symtype         text,
    read_position   text,   -- $1 key -> symbol::text, size, entry, margin; FOR UPDATE
    read_market     text,   -- $1 symbol -> mark (checked_mark: the state row FOR SHARE), kind, contract_size, fee_rate, mmr, tiers, fund, addon_rate, liquidity_curve, mm_basis, fee_basis, tier_basis, bracket_basis, maintenance_amount
    write_position  text,   -- $1 key, $2 size, $3 margin
    policy          jsonb,
    symbol_policies jsonb
);

CREATE FUNCTION @extschema@.liquidation_attachment(positions regclass)
RETURNS @extschema@.liquidation_attachment
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e   record;
    a   @extschema@.liquidation_attachment;
    c   jsonb;
    ci  jsonb;
    pks text[];
BEGIN
    SELECT en.columns, en.instruments, s.policy, s.symbol_policies, s.fund_column
      INTO e
      FROM @extschema@.enforcement AS en
      JOIN @extschema@.liquidation_settings AS s ON s.positions = en.positions
     WHERE en.positions = liquidation_attachment.positions;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    c := e.columns -> 'positions';
    ci := e.columns -> 'instruments';
    SELECT array_agg(att.attname::text ORDER BY k.ord) INTO pks
      FROM pg_index AS i
      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute AS att ON att.attrelid = i.indrelid AND att.attnum = k.attnum
     WHERE i.indrelid = liquidation_attachment.positions AND i.indisprimary;
    a.positions := positions;
    a.key_where := (SELECT string_agg(format('p.%I = k.%I', x, x), ' AND ') FROM unnest(pks) AS x);
    a.key_json := (SELECT format('jsonb_build_object(%s)', string_agg(format('%L, p.%I', x, x), ', '))
                     FROM unnest(pks) AS x);
    a.key_order := (SELECT string_agg(format('p.%I', x), ', ') FROM unnest(pks) AS x);
    a.sym := quote_ident(c->>'symbol');
    a.size := quote_ident(c->>'size');
    a.entry := quote_ident(c->>'entry_price');
    a.margin := quote_ident(c->>'margin');
    a.status := quote_ident(c->>'status');
    SELECT format_type(att.atttypid, att.atttypmod) INTO a.symtype
      FROM pg_attribute AS att
     WHERE att.attrelid = positions AND att.attname = c->>'symbol';
    a.read_position := format(
        'SELECT p.%s::pg_catalog.text, p.%s::pg_catalog.numeric, p.%s::pg_catalog.numeric, p.%s::pg_catalog.numeric'
        ' FROM %s AS p, pg_catalog.jsonb_populate_record(NULL::%s, $1) AS k WHERE %s FOR UPDATE OF p',
        a.sym, a.size, a.entry, a.margin, positions, positions, a.key_where);
    a.read_market := format(
        'SELECT @extschema@.checked_mark(%s::pg_catalog.oid::pg_catalog.regclass, $1::pg_catalog.text),'
        ' %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM %s AS i WHERE i.%I = $1::%s',
        positions::pg_catalog.oid,
        CASE WHEN ci->>'kind' IS NULL THEN '''linear''::@extschema@.contract_kind'
             ELSE format('i.%I', ci->>'kind') END,
        CASE WHEN ci->>'contract_size' IS NULL THEN '1::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'contract_size') END,
        CASE WHEN ci->>'fee_rate' IS NULL THEN '0::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'fee_rate') END,
        CASE WHEN ci->>'rate_kind' = 'mmr' THEN format('i.%I::pg_catalog.numeric', ci->>'rate')
             ELSE 'NULL::pg_catalog.numeric' END,
        CASE WHEN ci->>'rate_kind' = 'tiers' THEN format('i.%I', ci->>'rate')
             ELSE 'NULL::@extschema@.tiers' END,
        CASE WHEN e.fund_column IS NULL THEN '$1::pg_catalog.text'
             ELSE format('i.%I::pg_catalog.text', e.fund_column) END,
        -- the dynamic add-ons enforcement charges (doc/dynamic.md): none when unmapped
        CASE WHEN ci->>'addon_rate' IS NULL THEN '0::pg_catalog.numeric'
             ELSE format('i.%I::pg_catalog.numeric', ci->>'addon_rate') END,
        CASE WHEN ci->>'liquidity_curve' IS NULL THEN 'NULL::pg_catalog.jsonb'
             ELSE format('i.%I::pg_catalog.jsonb', ci->>'liquidity_curve') END,
        -- the venue conventions enforcement reads (doc/venues.md): a column
        -- left out or a NULL takes the default; maintenance_amount with mmr,
        -- tier_basis and bracket_basis with tiers
        CASE WHEN ci->>'mm_basis' IS NULL THEN '''mark''::@extschema@.mm_basis'
             ELSE format('COALESCE(i.%I, ''mark''::@extschema@.mm_basis)', ci->>'mm_basis') END,
        CASE WHEN ci->>'fee_basis' IS NULL THEN '''mark''::@extschema@.fee_basis'
             ELSE format('COALESCE(i.%I, ''mark''::@extschema@.fee_basis)', ci->>'fee_basis') END,
        CASE WHEN ci->>'tier_basis' IS NULL OR ci->>'rate_kind' <> 'tiers'
             THEN '''notional''::@extschema@.tier_basis'
             ELSE format('COALESCE(i.%I, ''notional''::@extschema@.tier_basis)', ci->>'tier_basis') END,
        CASE WHEN ci->>'bracket_basis' IS NULL OR ci->>'rate_kind' <> 'tiers'
             THEN '''price''::@extschema@.bracket_basis'
             ELSE format('COALESCE(i.%I, ''price''::@extschema@.bracket_basis)', ci->>'bracket_basis') END,
        CASE WHEN ci->>'maintenance_amount' IS NULL OR ci->>'rate_kind' <> 'mmr' THEN '0::pg_catalog.numeric'
             ELSE format('COALESCE(i.%I::pg_catalog.numeric, 0)', ci->>'maintenance_amount') END,
        e.instruments, ci->>'symbol', a.symtype);
    a.write_position := format(
        'UPDATE %s AS p SET %s = $2, %s = $3 FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) AS k WHERE %s',
        positions, a.size, a.margin, positions, a.key_where);
    a.policy := e.policy;
    a.symbol_policies := e.symbol_policies;
    RETURN a;
END
$fn$;

-- ---------------------------------------------------------------- auto-deleveraging

-- Assigns what is left of a queued shortfall to the opposite side's
-- positions of the instrument, highest adl_rank (or adl_profit_rank) at the
-- current mark first (primary key breaks ties), skipping positions that are
-- flagged or locked (SKIP LOCKED: a worker is liquidating them): each is
-- reduced at the queued bankruptcy price by close_part's rule (no fee), its
-- cash to its owner's wallet, recorded in adl_fills.  Returns the size
-- assigned by this call; what no position could take stays unassigned.
CREATE FUNCTION @extschema@.adl_assign(queue_id int8, rank_by text DEFAULT 'leverage')
RETURNS numeric
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    qr   @extschema@.adl_queue;
    att  @extschema@.liquidation_attachment;
    mark numeric;
    kd   @extschema@.contract_kind;
    cs   numeric;
    fee  numeric;
    mmr  numeric;
    tr   @extschema@.tiers;
    fund text;
    addon numeric;
    curve jsonb;
    mb   @extschema@.mm_basis;
    fb   @extschema@.fee_basis;
    tb   @extschema@.tier_basis;
    bb   @extschema@.bracket_basis;
    ma   numeric;
    left_size numeric;
    take numeric;
    c    record;
    f    @extschema@.fill_result;
BEGIN
    IF rank_by NOT IN ('leverage', 'profit') THEN
        RAISE EXCEPTION 'rank_by must be leverage or profit' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO qr FROM @extschema@.adl_queue AS q WHERE q.id = queue_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ADL queue entry % does not exist', queue_id USING ERRCODE = '22023';
    END IF;
    att := @extschema@.liquidation_attachment(qr.positions);
    IF att IS NULL THEN
        RAISE EXCEPTION 'table "%" has no liquidation settings', qr.positions USING ERRCODE = '22023';
    END IF;
    EXECUTE att.read_market INTO mark, kd, cs, fee, mmr, tr, fund, addon, curve, mb, fb, tb, bb, ma
        USING qr.symbol;
    left_size := qr.size - qr.assigned_size;
    FOR c IN EXECUTE format(
        'SELECT %s AS key, p.%s::pg_catalog.numeric AS size, p.%s::pg_catalog.numeric AS entry,'
        ' p.%s::pg_catalog.numeric AS margin, @extschema@.%I(p.%s, p.%s, $2, p.%s, $3, $4) AS rank'
        ' FROM %s AS p WHERE p.%s = $1::%s AND p.%s %s 0 AND p.%s < ''liquidate'''
        ' ORDER BY 5 DESC NULLS LAST, %s FOR UPDATE OF p SKIP LOCKED',
        att.key_json, att.size, att.entry, att.margin,
        CASE rank_by WHEN 'profit' THEN 'adl_profit_rank' ELSE 'adl_rank' END,
        att.size, att.entry, att.margin,
        att.positions, att.sym, att.symtype, att.size, CASE qr.side WHEN 'long' THEN '>' ELSE '<' END,
        att.status, att.key_order)
        USING qr.symbol, mark, cs, kd
    LOOP
        EXIT WHEN left_size <= 0;
        take := least(left_size, abs(c.size));
        f := @extschema@.after_fill(c.size, c.entry, c.margin, -sign(c.size) * take, qr.price, cs, kd, 0);
        EXECUTE att.write_position USING c.key, f.size, f.margin;
        INSERT INTO @extschema@.adl_fills (queue_id, position_key, rank, closed_size, price,
                                           released_margin, realized_pnl, cash, size_after, margin_after)
        VALUES (qr.id, c.key, c.rank, take, qr.price, f.released_margin, f.realized_pnl, f.cash,
                f.size, f.margin);
        PERFORM @extschema@.liquidation_ack(att.positions, c.key, 'adl');
        left_size := left_size - take;
    END LOOP;
    UPDATE @extschema@.adl_queue AS q
       SET assigned_size = q.size - left_size, assigned_at = now()
     WHERE q.id = qr.id;
    RETURN qr.size - qr.assigned_size - left_size;
END
$fn$;

-- ---------------------------------------------------------------- the worker

-- Books one liquidation step: locks the fund's row; the closed part's
-- equity at the fill (to_fund) is the fund's, as liquidation fee and
-- settlement; if it is a loss the fund's balance covers, the fund pays it;
-- otherwise the closed contracts go to ADL at the bankruptcy price
-- (settlement 0, the shortfall queued and assigned at once).
CREATE FUNCTION @extschema@.liquidation_book(
    att @extschema@.liquidation_attachment, fund text, symbol text, position_key jsonb,
    event_id int8, worker text, policy jsonb, mark numeric, size numeric, entry_price numeric,
    margin numeric, st @extschema@.liquidation_settlement)
RETURNS int8
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    bal numeric;
    lr  @extschema@.insurance_ledger;
    lid int8;
    qid int8;
BEGIN
    INSERT INTO @extschema@.insurance_funds AS f (positions, fund)
    VALUES (att.positions, liquidation_book.fund) ON CONFLICT (positions, fund) DO NOTHING;
    SELECT f.balance INTO bal FROM @extschema@.insurance_funds AS f
     WHERE f.positions = att.positions AND f.fund = liquidation_book.fund FOR UPDATE;
    lr.positions := att.positions;
    lr.fund := fund;
    lr.entry := 'liquidation';
    lr.symbol := symbol;
    lr.position_key := position_key;
    lr.event_id := event_id;
    lr.worker := worker;
    lr.method := policy->>'method';
    lr.mark_price := mark;
    lr.size_before := size;
    lr.entry_price := entry_price;
    lr.margin_before := margin;
    lr.closed_size := st.closed_size;
    lr.bankruptcy_price := st.bankruptcy_price;
    lr.released_margin := st.released_margin;
    lr.realized_pnl := st.realized_pnl;
    lr.liquidation_fee := st.liquidation_fee;
    lr.size_after := st.size;
    lr.margin_after := st.margin;
    IF st.to_fund >= 0 OR bal + st.to_fund >= 0 THEN
        lr.settlement := st.to_fund - st.liquidation_fee;
        lr.adl_size := 0;
        lr.shortfall := 0;
    ELSE
        lr.settlement := 0;
        lr.adl_size := st.closed_size;
        lr.shortfall := -st.to_fund;
    END IF;
    lr.amount := lr.settlement + st.liquidation_fee;
    lid := @extschema@.insurance_append(lr);
    IF lr.adl_size > 0 THEN
        INSERT INTO @extschema@.adl_queue (ledger_id, positions, symbol, side, size, price, shortfall)
        VALUES (lid, att.positions, symbol, CASE WHEN size > 0 THEN 'short' ELSE 'long' END::@extschema@.position_side,
                lr.adl_size, coalesce(st.bankruptcy_price, mark), lr.shortfall)
        RETURNING id INTO qid;
        PERFORM @extschema@.adl_assign(qid, policy->>'adl_rank');
    END IF;
    RETURN lid;
END
$fn$;

-- Liquidates one position of an attachment, in the caller's transaction:
-- locks it (waiting for a worker that holds it, then seeing what that
-- worker left), reads the mark the positions were last checked against and
-- the instrument, and repeats the policy's steps while the exact check at
-- that mark says liquidate or bankrupt: size the close, settle it at the
-- bankruptcy price, update the position (enforcement re-prices it), book
-- the fund.  A policy with a cooldown takes one step, then leaves a
-- follow-up due when the cooldown ends.  Then acknowledges the position's
-- unclaimed events.  Returns the number of steps taken.  In C
-- (src/liquidation_position.c): the same building blocks, run as plans
-- kept per session (the attachment's statements per positions table).
CREATE FUNCTION @extschema@.liquidate_position(
    positions regclass, position_key jsonb, worker text, event_id int8 DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'liquidate_position'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

-- One piece of work in the caller's transaction: claims the oldest unclaimed
-- liquidate or bankrupt event of a table with liquidation settings whose
-- events the caller may claim (the tables in random order, so that none
-- starves another), or else the earliest due follow-up (taken out of its
-- table), and liquidates its position (liquidate_position).  The event is
-- claimed and acknowledged in one statement, before the liquidation, in the
-- same transaction (so the same outcome): the fund's row, locked by the
-- booking, is then held for less until the commit.  false when there was
-- none.  Call it once per transaction (liquidation_worker does).  In C
-- (src/liquidation_next.c).
CREATE FUNCTION @extschema@.liquidate_next(worker text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'liquidate_next'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

-- Raises the calling backend's nice value to nice (0 to 19) unless it is
-- already there or above, and its session autogroup's alike (each backend
-- leads a session of its own), and returns the value now in effect: the
-- backend gives way on the CPU to the others (a price feed's) for the rest
-- of its life; no unprivileged process can take it back
-- (src/backend_priority.c).
-- Not granted to PUBLIC: grant it to the worker roles that pass
-- liquidation_worker a nice (doc/liquidation.md, Priority and Rights).
CREATE FUNCTION @extschema@.lower_backend_priority(nice int)
RETURNS int
AS 'MODULE_PATHNAME', 'lower_backend_priority'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION @extschema@.lower_backend_priority(int) FROM PUBLIC;

-- The worker: liquidate_next and COMMIT, one transaction per position, until
-- no work is left (or max_positions were handled).  Safe in several sessions
-- at once.  CALL it outside a transaction block.  Given a nice, it first
-- lowers its backend's priority to it, for the rest of the session (on the
-- 2-core bench machine, workers at nice 10 or 19 kept a price feed's wait
-- for a core at its level alone: bench/README.md); by default (NULL) it
-- leaves the priority alone, a one-way change the caller opts into and
-- needs a grant for (doc/liquidation.md, Priority).  (No SET search_path: a procedure
-- with one cannot COMMIT; its two operators are qualified.)
CREATE PROCEDURE @extschema@.liquidation_worker(worker text, max_positions int DEFAULT NULL,
                                                nice int DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    n int := 0;
BEGIN
    IF nice IS NOT NULL THEN
        PERFORM @extschema@.lower_backend_priority(nice);
    END IF;
    LOOP
        EXIT WHEN max_positions IS NOT NULL AND n OPERATOR(pg_catalog.>=) max_positions;
        EXIT WHEN NOT @extschema@.liquidate_next(worker);
        COMMIT;
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    COMMIT;
END
$fn$;
