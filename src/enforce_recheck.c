/*
 * enforce_recheck.c
 *	  The operator functions for a bad tick: isomargin.confirm_mark, which
 *	  lets through a mark a price band held back, and isomargin.recheck,
 *	  which steps liquidate and bankrupt flags that no longer hold at the
 *	  current mark back down.
 *
 * liquidate and bankrupt never step down on a mark move (they only
 * escalate); recheck is the one other way down besides a change of the
 * position row itself, and each step leaves an event naming who ran it
 * and why.  Both are for the positions table's owner (as run_as_owner):
 * the work runs as that owner, as the triggers' does.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(confirm_mark);
PG_FUNCTION_INFO_V1(recheck);

/* The caller must own the positions table; the reason must say something. */
static void
check_operator(Oid positions, text *reason)
{
	char	   *r = text_to_cstring(reason);

	if (!pg_class_ownercheck(positions, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(positions));
	while (*r == ' ')
		r++;
	if (*r == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty"),
				 errhint("Say why, for the audit: the reason goes into every event.")));
}

Datum
confirm_mark(PG_FUNCTION_ARGS)
{
	Oid			positions = PG_GETARG_OID(0);
	char	   *symbol = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *reason = text_to_cstring(PG_GETARG_TEXT_PP(2));
	EnforceAttachment *volatile a = NULL;
	Dec			mark = dec_from_int(0);
	MemoryContext caller = CurrentMemoryContext;

	check_operator(positions, PG_GETARG_TEXT_PP(2));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* what is built here outlives SPI_finish */
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		a = enforce_attachment_of(positions, get_func_namespace(fcinfo->flinfo->fn_oid),
								  ENFORCE_MARKS);
		mark = enforce_confirm_mark(a, enforce_symbol_input(a, symbol), reason);
	}
	PG_FINALLY();
	{
		if (a != NULL)
			enforce_attachment_release(a);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_NUMERIC(dec_to_numeric(mark));
}

typedef struct RecheckPass
{
	EnforceAttachment *a;
	Datum		symbol;
	const char *actor;
	const char *reason;
	int			stepped;
} RecheckPass;

/*
 * One attempt (enforce_lock.c): lock the instrument's state row, read the
 * mark and the instrument, then lock its liquidate and bankrupt positions
 * without waiting, and step down those the exact check at the mark no
 * longer puts there.
 */
static bool
recheck_attempt(void *arg)
{
	RecheckPass *l = arg;
	EnforceAttachment *a = l->a;
	Dec			mark = dec_from_int(0);
	bool		has_mark;
	EnforceInstrument ins;
	EnforceInstrumentRow irow;
	SPITupleTable *rows;
	uint64		n;
	EnforceRows tids;
	Datum	   *statuses;
	Datum		symbol_text = CStringGetTextDatum(enforce_symbol_text(a, l->symbol));
	EnforceEvents ev;
	int			k = 0;

	l->stepped = 0;
	/* not an instrument: refused before a state row is made for it */
	enforce_execute(a, PLAN_INSTRUMENT, &l->symbol, NULL, false, 0);
	if (SPI_processed == 0)
		enforce_missing_instrument(a, l->symbol);
	has_mark = enforce_lock_state(a, PLAN_STATE_TOUCH, l->symbol, &mark, CurrentMemoryContext);
	if (!has_mark)
		return true;			/* no mark: nothing was flagged by one */
	enforce_execute(a, PLAN_INSTRUMENT, &l->symbol, NULL, false, 0);
	if (SPI_processed == 0)
		enforce_missing_instrument(a, l->symbol);
	enforce_instrument_read(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &irow);
	enforce_instrument_from_row(a, &ins, l->symbol, &irow);

	enforce_execute_nowait(a, PLAN_FLAGGED_OF, &l->symbol, true);
	rows = SPI_tuptable;
	n = SPI_processed;
	if (n == 0)
		return true;
	enforce_rows_init(&tids, (int) n);
	statuses = palloc(sizeof(Datum) * n);
	enforce_events_init(&ev, (int) Min(n, 1024), CAUSE_OPERATOR);
	for (uint64 r = 0; r < n; r++)
	{
		HeapTuple	t = rows->vals[r];
		bool		isnull;
		EnforcePassRow row;
		EnforceFigures f;

		enforce_read_pass_row(a, t, rows->tupdesc, &row);
		enforce_position_figures(a, &ins, row.size, row.entry, row.margin, true, mark, &f);
		if (!row.has_status || f.check >= row.status)
			continue;
		enforce_rows_add(&tids, a, t, rows->tupdesc);
		statuses[k] = ObjectIdGetDatum(a->status_oid[f.check]);
		k++;
		enforce_events_add(&ev, a, SPI_getbinval(t, rows->tupdesc, 3, &isnull), symbol_text,
						   true, row.status, f.check, mark, &f, row.size, row.entry, row.margin);
	}
	if (k > 0)
	{
		bool	   *nonulls = NULL;

		enforce_rows_write(&tids, a, PLAN_SET_STATUS, 1, &statuses, &nonulls, &a->status_type);
		enforce_events_write_audited(a, &ev, l->actor, l->reason);
	}
	l->stepped = k;
	return true;
}

static pg_noinline int
recheck_symbol(EnforceAttachment *a, Datum symbol, const char *actor, const char *reason)
{
	RecheckPass l = {a, symbol, actor, reason, 0};

	enforce_internal_writes++;
	PG_TRY();
	{
		while (enforce_attempt(recheck_attempt, &l) != ENFORCE_ATTEMPT_DONE)
		{
			CHECK_FOR_INTERRUPTS();
			enforce_wait_busy(a, PLAN_FLAGGED_OF_PEEK, PLAN_FLAGGED_OF_SKIP, &symbol, true);
		}
	}
	PG_FINALLY();
	{
		enforce_internal_writes--;
	}
	PG_END_TRY();
	return l.stepped;
}

static int
symbol_cmp(const void *x, const void *y, void *arg)
{
	EnforceAttachment *a = arg;

	return DatumGetInt32(FunctionCall2Coll(&a->sym_cmp, a->sym_collation,
										   *(const Datum *) x, *(const Datum *) y));
}

Datum
recheck(PG_FUNCTION_ARGS)
{
	Oid			positions = PG_GETARG_OID(0);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	char	   *reason = text_to_cstring(PG_GETARG_TEXT_PP(2));
	EnforceAttachment *volatile a = NULL;
	char	   *actor = enforce_actor(GetUserId());
	MemoryContext caller = CurrentMemoryContext;
	Datum	   *texts;
	bool	   *nulls;
	int			n;
	volatile int stepped = 0;

	check_operator(positions, PG_GETARG_TEXT_PP(2));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &texts, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("symbols must not contain NULL")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* what is built here outlives SPI_finish */
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		Datum	   *symbols = palloc(sizeof(Datum) * Max(n, 1));
		EnforceUser save;

		a = enforce_attachment_of(positions, get_func_namespace(fcinfo->flinfo->fn_oid),
								  ENFORCE_INSTRUMENTS);
		for (int i = 0; i < n; i++)
			symbols[i] = enforce_symbol_input(a, TextDatumGetCString(texts[i]));
		/* in symbol order, as mark passes take state rows */
		enforce_become(a->owner, &save);
		qsort_arg(symbols, n, sizeof(Datum), symbol_cmp, a);
		for (int i = 0; i < n; i++)
			if (i == 0 || symbol_cmp(&symbols[i - 1], &symbols[i], a) != 0)
				stepped += recheck_symbol(a, symbols[i], actor, reason);
		enforce_restore(&save);
	}
	PG_FINALLY();
	{
		if (a != NULL)
			enforce_attachment_release(a);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(stepped);
}
