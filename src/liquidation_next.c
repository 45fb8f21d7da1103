/*
 * liquidation_next.c
 *	  isomargin.liquidate_next: the worker's next piece of work, claimed and
 *	  liquidated in the caller's transaction; isomargin.liquidation_ack: a
 *	  settled position's events acknowledged (doc/liquidation.md, "The
 *	  worker").
 *
 * The claim takes the event and acknowledges it in one statement of the
 * queue (enforce_claim_next: what claim_events and ack_events did in the
 * same transaction), after the caller's claim grant (kept for the
 * transaction).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "liquidation.h"

PG_FUNCTION_INFO_V1(liquidate_next);
PG_FUNCTION_INFO_V1(liquidation_ack);

/* The statements, for one extension schema (a new extension: new ones). */
static Oid	next_nsp = InvalidOid;
static SPIPlanPtr next_tables = NULL;
static SPIPlanPtr next_followup = NULL;

static void
next_prepare_all(Oid nsp)
{
	const char *s = quote_identifier(get_namespace_name(nsp));

	if (next_tables != NULL)
		SPI_freeplan(next_tables);
	if (next_followup != NULL)
		SPI_freeplan(next_followup);
	next_tables = next_followup = NULL;
	/* the tables in random order, so that no book starves another */
	next_tables = liquidation_prepare(psprintf(
		"SELECT s.positions::pg_catalog.oid FROM %s.liquidation_settings AS s "
		"ORDER BY pg_catalog.random()", s), 0, NULL);
	/*
	 * the earliest due follow-up, taken out of its table; found again by its
	 * ctid (locked, so it stays put), whose equality, leakproof, is a TID
	 * scan under the table's row security where the key's jsonb is not
	 */
	next_followup = liquidation_prepare(psprintf(
		"DELETE FROM %1$s.liquidation_followups AS f "
		"USING (SELECT u.ctid FROM %1$s.liquidation_followups AS u "
		"WHERE u.due_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() "
		"ORDER BY u.due_at LIMIT 1 FOR UPDATE SKIP LOCKED) AS c "
		"WHERE f.ctid OPERATOR(pg_catalog.=) c.ctid "
		"RETURNING f.positions::pg_catalog.oid, f.position_key", s), 0, NULL);
	next_nsp = nsp;
}

/*
 * liquidate_next(worker text) → boolean: claims the oldest unclaimed
 * liquidate or bankrupt event of a table with liquidation settings whose
 * events the caller may claim (acknowledged at once, in the same
 * transaction), or else the earliest due follow-up, and liquidates its
 * position.  false when there was no work.
 */
Datum
liquidate_next(PG_FUNCTION_ARGS)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Datum		worker = PG_GETARG_DATUM(0);
	int			ntables;
	Oid		   *tables;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (next_nsp != nsp)
		next_prepare_all(nsp);
	if (SPI_execute_plan(next_tables, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the liquidation settings failed");
	ntables = (int) SPI_processed;
	tables = palloc(sizeof(Oid) * (ntables + 1));
	for (int i = 0; i < ntables; i++)
		tables[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1,
												   &isnull));
	for (int i = 0; i < ntables; i++)
	{
		int64		id;
		Datum		key;

		if (!enforce_may_claim(nsp, tables[i]))
			continue;
		if (enforce_claim_next(nsp, tables[i], worker, "liquidate", &id, &key))
		{
			liquidation_run(nsp, tables[i], key, worker, true, Int64GetDatum(id));
			SPI_finish();
			PG_RETURN_BOOL(true);
		}
	}
	if (SPI_execute_plan(next_followup, NULL, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "taking a liquidation follow-up failed");
	if (SPI_processed > 0)
	{
		Oid			positions = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															   SPI_tuptable->tupdesc, 1, &isnull));
		Datum		key = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		liquidation_run(nsp, positions, key, worker, false, (Datum) 0);
		SPI_finish();
		PG_RETURN_BOOL(true);
	}
	SPI_finish();
	PG_RETURN_BOOL(false);
}

uint64
liquidation_settle_events(Oid nsp, Oid positions, Datum key, Datum worker)
{
	char	   *settled = psprintf("%s (settled)", TextDatumGetCString(worker));

	return enforce_settle_events(nsp, positions, key, CStringGetTextDatum(settled));
}

/*
 * liquidation_ack(positions regclass, position_key jsonb, worker text) →
 * int: claims and acknowledges, as '<worker> (settled)', every unclaimed
 * event of a position the worker has just settled; how many.
 */
Datum
liquidation_ack(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) liquidation_settle_events(get_func_namespace(fcinfo->flinfo->fn_oid),
													  PG_GETARG_OID(0), PG_GETARG_DATUM(1),
													  PG_GETARG_DATUM(2)));
}
