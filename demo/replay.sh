#!/usr/bin/env bash
# demo/replay.sh STEPS MAIN HAVE_ENFORCE RISK [HAVE_ENGINE]: replays demo.mark_path, one statement per step
# that updates every instrument's mark (enforcement flags what crosses, in that
# statement), in one psql session.  Per step it prints the main instrument's mark and
# move, how many positions stand at margin_call / liquidate / bankrupt, the events
# enforcement recorded in the step, the events a stand-in liquidation worker claimed
# after it (isomargin.claim_events, at most WORKER_BATCH per step; it only claims them:
# flagged positions stay in the book), the queue left unclaimed, and the update's
# latency: the statement and its commit, timed by the server's clock from just before
# the statement to just after it returns.  Each step is also kept in demo.step_log.
# With HAVE_ENGINE true the liquidation engine's worker runs after each step instead of
# the stand-in (CALL isomargin.liquidation_worker, one transaction per position), and
# the step's liquidations and the insurance funds' balances go into demo.engine_log.
set -u -o pipefail
STEPS=$1
MAIN=$2
HAVE_ENFORCE=$3
RISK=$4
HAVE_ENGINE=${5:-false}
WORKER_BATCH=${WORKER_BATCH:-5000}

{
	cat <<-SQL
	\set ON_ERROR_STOP on
	\pset format unaligned
	\pset tuples_only on
	CREATE TABLE demo.step_log (
	    step integer PRIMARY KEY, mark_price numeric, margin_call bigint, liquidate bigint,
	    bankrupt bigint, events bigint, claimed bigint, queue bigint, latency_ms numeric);
	SQL
	if [ "$HAVE_ENFORCE" = true ]; then
		cat <<-SQL
		CREATE FUNCTION demo.status_counts(OUT margin_call bigint, OUT liquidate bigint, OUT bankrupt bigint)
		LANGUAGE sql STABLE
		RETURN (SELECT ROW(count(*) FILTER (WHERE status = 'margin_call'),
		                   count(*) FILTER (WHERE status = 'liquidate'),
		                   count(*) FILTER (WHERE status = 'bankrupt'))
		          FROM exchange.positions);
		CREATE FUNCTION demo.event_counts(OUT recorded bigint, OUT claimed bigint, OUT queued bigint)
		LANGUAGE sql STABLE
		RETURN (SELECT ROW(count(*), count(*) FILTER (WHERE claimed_at IS NOT NULL),
		                   count(*) FILTER (WHERE claimed_at IS NULL))
		          FROM isomargin.events WHERE positions = 'exchange.positions'::regclass);
		CREATE FUNCTION demo.work() RETURNS bigint LANGUAGE sql
		RETURN (SELECT count(*) FROM isomargin.claim_events('demo-liquidator', $WORKER_BATCH));
		SQL
	else
		# No enforcement: the exact check at the current mark, by a scan of the book.
		cat <<-SQL
		CREATE FUNCTION demo.status_counts(OUT margin_call bigint, OUT liquidate bigint, OUT bankrupt bigint)
		LANGUAGE sql STABLE
		RETURN (SELECT ROW(count(*) FILTER (WHERE s = 'margin_call'),
		                   count(*) FILTER (WHERE s = 'liquidate'),
		                   count(*) FILTER (WHERE s = 'bankrupt'))
		          FROM (SELECT isomargin.margin_status(size => p.size, entry_price => p.entry_price,
		                           mark_price => m.mark_price, margin => p.margin, $RISK,
		                           contract_size => i.contract_size, kind => i.kind, fee_rate => i.fee_rate) AS s
		                  FROM exchange.positions p JOIN exchange.instruments i USING (symbol)
		                  JOIN exchange.marks m USING (symbol)) c);
		CREATE FUNCTION demo.event_counts(OUT recorded bigint, OUT claimed bigint, OUT queued bigint)
		LANGUAGE sql STABLE RETURN ROW(NULL::bigint, NULL::bigint, NULL::bigint);
		CREATE FUNCTION demo.work() RETURNS bigint LANGUAGE sql RETURN 0;
		SQL
	fi
	cat <<-SQL
	INSERT INTO demo.step_log
	SELECT 0, (SELECT mark_price FROM exchange.marks WHERE symbol = '$MAIN'), s.*, e.recorded, e.claimed, e.queued, NULL
	  FROM demo.status_counts() s, demo.event_counts() e;
	CREATE VIEW demo.step_line AS
	SELECT l.step, format('%5s %11s %7s %12s %10s %9s %7s %8s %7s %10s', l.step, l.mark_price,
	           CASE WHEN l.mark_price >= f.mark_price THEN '+' ELSE '' END
	           || round(100 * (l.mark_price / f.mark_price - 1), 1) || '%',
	           l.margin_call, l.liquidate, l.bankrupt,
	           coalesce((l.events - p.events)::text, '-'), coalesce((l.claimed - p.claimed)::text, '-'),
	           coalesce(l.queue::text, '-'),
	           coalesce(to_char(l.latency_ms, 'FM9990.0') || ' ms', '-')) AS line
	  FROM demo.step_log l
	  JOIN demo.step_log f ON f.step = 0
	  LEFT JOIN demo.step_log p ON p.step = l.step - 1;
	\echo ' step $(printf '%11s' "$MAIN")    move  margin_call  liquidate  bankrupt  events  claimed   queue    latency'
	SELECT line FROM demo.step_line WHERE step = 0;
	SQL
	for ((k = 1; k <= STEPS; k++)); do
		cat <<-SQL
		SELECT clock_timestamp() AS t0 \gset
		UPDATE exchange.marks m SET mark_price = p.mark_price, updated_at = now()
		  FROM demo.mark_path p WHERE p.step = $k AND p.symbol = m.symbol;
		SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1) AS ms \gset
		SQL
		if [ "$HAVE_ENGINE" = true ]; then
			cat <<-SQL
			CALL isomargin.liquidation_worker('demo-worker');
			INSERT INTO demo.engine_log
			SELECT $k, f.fund, f.balance,
			       (SELECT count(*) FROM isomargin.insurance_ledger l
			         WHERE l.entry = 'liquidation' AND l.fund = f.fund
			           AND l.id > coalesce((SELECT max(last_ledger_id) FROM demo.engine_log), 0)),
			       (SELECT max(id) FROM isomargin.insurance_ledger)
			  FROM isomargin.insurance_funds f WHERE f.positions = 'exchange.positions'::regclass;
			SQL
		else
			echo "SELECT demo.work() AS claimed_now \gset"
		fi
		cat <<-SQL
		INSERT INTO demo.step_log
		SELECT $k, (SELECT mark_price FROM exchange.marks WHERE symbol = '$MAIN'), s.*, e.recorded, e.claimed, e.queued, :ms
		  FROM demo.status_counts() s, demo.event_counts() e;
		SELECT line FROM demo.step_line WHERE step = $k;
		SQL
	done
} | psql -X -q -P pager=off
