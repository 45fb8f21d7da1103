/*
 * enforce_instrument_trigger.c
 *	  AFTER INSERT OR UPDATE ... FOR EACH ROW on an attached instruments
 *	  table: check the instrument's parameters, and when its kind, contract
 *	  size, maintenance rate or tiers, or fee change, recompute every one of
 *	  its positions at the current mark.
 *
 * The instrument's state row is updated first (FOR NO KEY UPDATE), which
 * waits for position changes and mark updates in flight on it; then its
 * positions are locked in primary-key order, without waiting for any
 * while the state row is held (enforce_lock.c), and rewritten with one
 * UPDATE.
 * liquidate and bankrupt stay (an instrument change is not a change of the
 * position); margin_call and ok follow the check.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforce_instruments_trigger);

static void
read_params(EnforceAttachment *a, HeapTuple t, TupleDesc desc, EnforceInstrumentRow *row)
{
	for (int i = 0; i < ENFORCE_NINS; i++)
	{
		EnforceColumn *c = &a->c.cols[enforce_instrument_cols[i]];

		if (c->name == NULL)
		{
			row->values[i] = (Datum) 0;
			row->nulls[i] = true;
		}
		else
			row->values[i] = heap_getattr(t, c->attnum, desc, &row->nulls[i]);
	}
}

static bool
params_changed(EnforceAttachment *a, HeapTuple oldt, HeapTuple newt, TupleDesc desc)
{
	for (int i = 0; i < ENFORCE_NINS; i++)
	{
		EnforceColumn *c = &a->c.cols[enforce_instrument_cols[i]];
		Form_pg_attribute att;
		bool		on,
					nn;
		Datum		o,
					n;

		if (c->name == NULL)
			continue;
		att = TupleDescAttr(desc, c->attnum - 1);
		o = heap_getattr(oldt, c->attnum, desc, &on);
		n = heap_getattr(newt, c->attnum, desc, &nn);
		if (on != nn)
			return true;
		if (!on && !datumIsEqual(o, n, att->attbyval, att->attlen))
			return true;
	}
	return false;
}

/* Rewrite the positions rows holds (PLAN_POSITIONS_OF) at the mark. */
static void
rewrite_positions(EnforceAttachment *a, Datum symbol, EnforceInstrument *ins, bool has_mark,
				  Dec mark, SPITupleTable *rows, uint64 n)
{
	EnforceRows tid;
	Datum	   *lp,
			   *mcp,
			   *bp,
			   *st,
			   *ch;
	bool	   *lpn,
			   *mcpn,
			   *bpn;
	Datum		symbol_text = CStringGetTextDatum(enforce_symbol_text(a, symbol));
	EnforceEvents ev;
	Datum	   *cols[5];
	bool	   *colnulls[5];
	Oid			types[5] = {NUMERICOID, NUMERICOID, NUMERICOID, InvalidOid, BOOLOID};

	enforce_rows_init(&tid, (int) n);
	lp = palloc(sizeof(Datum) * n);
	mcp = palloc(sizeof(Datum) * n);
	bp = palloc(sizeof(Datum) * n);
	st = palloc(sizeof(Datum) * n);
	ch = palloc(sizeof(Datum) * n);
	lpn = palloc(sizeof(bool) * n);
	mcpn = palloc(sizeof(bool) * n);
	bpn = palloc(sizeof(bool) * n);
	enforce_events_init(&ev, 16, CAUSE_INSTRUMENT);

	for (uint64 r = 0; r < n; r++)
	{
		HeapTuple	t = rows->vals[r];
		TupleDesc	d = rows->tupdesc;
		bool		isnull;
		EnforcePassRow row;
		MarginStatus next;
		EnforceFigures f;

		enforce_read_pass_row(a, t, d, &row);
		enforce_position_figures(a, ins, row.size, row.entry, row.margin, has_mark, mark, &f);
		next = enforce_next_status(row.has_status, row.status, f.check, true);
		enforce_rows_add(&tid, a, t, d);
		lp[r] = enforce_price_datum(f.has_lp, f.lp, &lpn[r]);
		mcp[r] = enforce_price_datum(f.has_mcp, f.mcp, &mcpn[r]);
		bp[r] = enforce_price_datum(f.has_bp, f.bp, &bpn[r]);
		st[r] = ObjectIdGetDatum(a->status_oid[next]);
		ch[r] = BoolGetDatum(!row.has_status || next != row.status);
		if (has_mark && (row.has_status ? next != row.status : next != MARGIN_OK))
			enforce_events_add(&ev, a, SPI_getbinval(t, d, 3, &isnull), symbol_text,
							   row.has_status, row.status, next, mark, &f,
							   row.size, row.entry, row.margin);
	}

	cols[0] = lp;
	cols[1] = mcp;
	cols[2] = bp;
	cols[3] = st;
	cols[4] = ch;
	colnulls[0] = lpn;
	colnulls[1] = mcpn;
	colnulls[2] = bpn;
	colnulls[3] = colnulls[4] = NULL;
	types[3] = a->status_type;
	enforce_rows_write(&tid, a, PLAN_SET_FIGURES, 5, cols, colnulls, types);
	enforce_events_write(a, &ev);
}

/* An instrument pass, tried in attempts (enforce_lock.c). */
typedef struct InstrumentPass
{
	EnforceAttachment *a;
	Datum		symbol;
	EnforceInstrument *ins;
} InstrumentPass;

/*
 * One attempt: wait for the state row, then lock every position of the
 * instrument in primary-key order without waiting, and rewrite them in the
 * same subtransaction (a row locked by one subtransaction and updated by
 * another would need a MultiXact).
 */
static bool
instrument_attempt(void *arg)
{
	InstrumentPass *l = arg;
	Dec			mark = dec_from_int(0);
	bool		has_mark = enforce_lock_state(l->a, PLAN_STATE_TOUCH, l->symbol, &mark,
											  CurrentMemoryContext);

	enforce_execute_nowait(l->a, PLAN_POSITIONS_OF, &l->symbol, true);
	if (SPI_processed > 0)
		rewrite_positions(l->a, l->symbol, l->ins, has_mark, mark, SPI_tuptable, SPI_processed);
	return true;
}

/* not inlined: it runs inside PG_TRY */
static pg_noinline void
recompute(EnforceAttachment *a, Datum symbol, EnforceInstrument *ins)
{
	InstrumentPass l = {a, symbol, ins};

	while (enforce_attempt(instrument_attempt, &l) != ENFORCE_ATTEMPT_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		enforce_wait_busy(a, PLAN_POSITIONS_OF_PEEK, PLAN_POSITIONS_OF_SKIP, &symbol, true);
	}
}

static pg_noinline void
recompute_internal(EnforceAttachment *a, Datum symbol, EnforceInstrument *ins)
{
	enforce_internal_writes++;
	PG_TRY();
	{
		recompute(a, symbol, ins);
	}
	PG_FINALLY();
	{
		enforce_internal_writes--;
	}
	PG_END_TRY();
}

Datum
enforce_instruments_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	EnforceAttachment *a;
	TupleDesc	desc;
	HeapTuple	newt;
	bool		is_update;
	Datum		symbol;
	bool		isnull;
	EnforceInstrumentRow row;
	EnforceInstrument ins;
	EnforceUser save;

	enforce_check_trigger(fcinfo, "enforce_instruments_trigger", ENFORCE_INSTRUMENTS);
	td = (TriggerData *) fcinfo->context;
	is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	newt = is_update ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	a = enforce_attachment(fcinfo, ENFORCE_INSTRUMENTS);
	enforce_become(a->owner, &save);

	symbol = heap_getattr(newt, a->c.cols[COL_INS_SYMBOL].attnum, desc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("column \"%s\" of table \"%s\" must not be null",
						a->c.cols[COL_INS_SYMBOL].name, RelationGetRelationName(td->tg_relation))));
	read_params(a, newt, desc, &row);
	enforce_instrument_from_row(a, &ins, symbol, &row);

	if (is_update)
	{
		bool		oldnull;
		Datum		oldsym = heap_getattr(td->tg_trigtuple, a->c.cols[COL_INS_SYMBOL].attnum,
										  desc, &oldnull);

		if (oldnull ||
			DatumGetInt32(FunctionCall2Coll(&a->sym_cmp, a->sym_collation, oldsym, symbol)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the symbol of enforced instrument %s",
							enforce_symbol_text(a, oldsym)),
					 errhint("Insert a new instrument and move its positions instead.")));
		if (!params_changed(a, td->tg_trigtuple, newt, desc))
		{
			enforce_restore(&save);
			SPI_finish();
			return PointerGetDatum(NULL);
		}
	}

	recompute_internal(a, symbol, &ins);
	enforce_restore(&save);
	SPI_finish();
	return PointerGetDatum(NULL);
}
