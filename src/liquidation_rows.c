/*
 * liquidation_rows.c
 *	  isomargin.liquidation_rows_granted: the rule of the row security
 *	  policies of the liquidation engine's tables
 *	  (install/57_liquidation_rls.sql, doc/liquidation.md, "Rights").
 *
 * A row of positions table p is the caller's to read when it may read p's
 * events (events_granted's rule) and to write when it may claim them, the
 * answers kept for the transaction with the claim grant's
 * (enforce_queue.c): a policy is evaluated for each row a statement
 * touches, and the worker's statements touch one or two rows of its own
 * book a step.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(liquidation_rows_granted);

/*
 * liquidation_rows_granted(positions regclass, claim bool) → bool: false
 * for a table that no longer exists (a dropped book's rows stay for the
 * record, for the tables' owner and superusers).
 */
Datum
liquidation_rows_granted(PG_FUNCTION_ARGS)
{
	Oid			positions = PG_GETARG_OID(0);
	Oid			nsp;

	/* a policy calls this once a row: the function's schema looked up once a query */
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		Oid		   *kept = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));

		*kept = get_func_namespace(fcinfo->flinfo->fn_oid);
		fcinfo->flinfo->fn_extra = kept;
	}
	nsp = *(Oid *) fcinfo->flinfo->fn_extra;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(positions)))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(PG_GETARG_BOOL(1) ? enforce_may_claim(nsp, positions)
				   : enforce_may_read(nsp, positions));
}
