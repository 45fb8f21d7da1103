/*
 * enforce_checked_mark.c
 *	  isomargin.checked_mark: the mark an instrument's positions were last
 *	  checked against, for a liquidation worker (doc/liquidation.md).
 *
 * The worker fills at that mark, so it must not move between the worker's
 * read and its update of the position: the instrument's state row is
 * locked FOR SHARE until the end of the caller's transaction, after the
 * position (the order of enforcement's own position trigger).  The state
 * table is enforcement's: the read runs as the positions owner, as the
 * triggers' does, for a caller that may claim the table's events.  So a
 * worker needs no right on the state table.
 */
#include "postgres.h"

#include "fmgr.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(checked_mark);

Datum
checked_mark(PG_FUNCTION_ARGS)
{
	Oid			positions = PG_GETARG_OID(0);
	char	   *symbol = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext caller = CurrentMemoryContext;
	Dec			mark = dec_from_int(0);
	bool		has_mark;
	EnforceAttachment *a;
	EnforceUser save;
	Datum		sym;

	enforce_check_claim_grant(fcinfo, positions);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* what is built here outlives SPI_finish */
	MemoryContextSwitchTo(caller);
	a = enforce_attachment_kept(positions, get_func_namespace(fcinfo->flinfo->fn_oid));
	sym = enforce_symbol_input(a, symbol);
	enforce_become(a->owner, &save);
	/* an instrument the book does not have gets no state row */
	enforce_execute(a, PLAN_STATE_SHARE, &sym, NULL, false, 0);
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		has_mark = !isnull;
		if (has_mark)
		{
			MemoryContextSwitchTo(caller);
			mark = enforce_read_mark(a, datumCopy(d, false, -1));
		}
	}
	else
	{
		enforce_execute(a, PLAN_INSTRUMENT, &sym, NULL, false, 0);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("instrument %s is not in \"%s\"", symbol, get_rel_name(a->instruments))));
		has_mark = enforce_lock_state(a, PLAN_STATE_SHARE, sym, &mark, caller);
	}
	enforce_restore(&save);
	SPI_finish();
	if (!has_mark)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(dec_to_numeric(mark));
}
