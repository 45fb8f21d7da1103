/*
 * enforce_position_trigger.c
 *	  BEFORE INSERT OR UPDATE ... FOR EACH ROW on an attached positions
 *	  table: recompute the row's stored prices and check it at the current
 *	  mark, at once.
 *
 * The instrument's state row is locked FOR SHARE before the mark is read
 * from it, and stays locked until commit: a mark update on the instrument
 * (which locks it FOR NO KEY UPDATE) either committed first, and its mark
 * is the one read here, or waits for this transaction, and then its
 * candidate search sees this row with the prices written here.  So the
 * lock, the mark and the rule are taken once per instrument and
 * transaction (enforce_xact_cache.c); SPI is connected only for that, and
 * for an event.
 *
 * Status: a new row, a change of symbol, size, entry price or margin, or a
 * status written explicitly takes the check at the mark as it is.  Any
 * other update keeps liquidate and bankrupt (they only escalate).
 * Enforcement's own status writes (mark and instrument triggers) pass
 * through untouched, without SPI.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforce_positions_trigger);

typedef struct PositionRow
{
	Datum		symbol;
	bool		symbol_null;
	Dec			size;
	Dec			entry;
	Dec			margin;
	bool		has_status;
	MarginStatus status;
} PositionRow;

static Datum
attr(HeapTuple t, TupleDesc d, EnforceAttachment *a, EnforceColumnId id, bool *isnull)
{
	return heap_getattr(t, a->c.cols[id].attnum, d, isnull);
}

static void
read_row(EnforceAttachment *a, HeapTuple t, TupleDesc d, PositionRow *r)
{
	bool		isnull;
	Datum		v;

	r->symbol = attr(t, d, a, COL_POS_SYMBOL, &r->symbol_null);
	v = attr(t, d, a, COL_POS_SIZE, &isnull);
	r->size = enforce_read_dec(a, COL_POS_SIZE, v, isnull);
	v = attr(t, d, a, COL_POS_ENTRY, &isnull);
	r->entry = enforce_read_dec(a, COL_POS_ENTRY, v, isnull);
	v = attr(t, d, a, COL_POS_MARGIN, &isnull);
	r->margin = enforce_read_dec(a, COL_POS_MARGIN, v, isnull);
	v = attr(t, d, a, COL_POS_STATUS, &isnull);
	r->has_status = !isnull;
	if (!isnull)
		r->status = enforce_status_of(a, DatumGetObjectId(v));
}

/*
 * Enforcement's own status writes leave symbol, size, entry and margin
 * untouched, byte for byte; anything else (a user's trigger changing them
 * in the same statement) takes the full path.
 */
static bool
same_inputs(EnforceAttachment *a, HeapTuple oldt, HeapTuple newt, TupleDesc desc)
{
	static const EnforceColumnId inputs[] = {COL_POS_SYMBOL, COL_POS_SIZE, COL_POS_ENTRY, COL_POS_MARGIN};

	for (int i = 0; i < (int) lengthof(inputs); i++)
	{
		AttrNumber	att = a->c.cols[inputs[i]].attnum;
		Form_pg_attribute f = TupleDescAttr(desc, att - 1);
		bool		on,
					nn;
		Datum		o = heap_getattr(oldt, att, desc, &on);
		Datum		n = heap_getattr(newt, att, desc, &nn);

		if (on != nn || (!on && !datumIsEqual(o, n, f->attbyval, f->attlen)))
			return false;
	}
	return true;
}

static bool
same_symbol(EnforceAttachment *a, const PositionRow *x, const PositionRow *y)
{
	if (x->symbol_null || y->symbol_null)
		return x->symbol_null == y->symbol_null;
	return DatumGetInt32(FunctionCall2Coll(&a->sym_cmp, a->sym_collation,
										   x->symbol, y->symbol)) == 0;
}

/*
 * The row's own change (a new position, a trade, a close, a top-up, a
 * funding payment) is the owner side's; an explicit write of another
 * status, an operator's; anything else is a recheck at the current mark
 * (enforce's recompute, a write of a maintained column).
 */
static EnforceCause
event_cause(bool is_update, bool inputs_changed, const PositionRow *old, const PositionRow *new)
{
	if (!is_update || inputs_changed)
		return CAUSE_POSITION;
	if (old->has_status && new->has_status && new->status != old->status)
		return CAUSE_OPERATOR;
	return CAUSE_ENFORCE;
}

Datum
enforce_positions_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	EnforceAttachment *a;
	TupleDesc	desc;
	HeapTuple	newtup,
				oldtup = NULL;
	bool		is_update;
	bool		moved = false;	/* the insert half of a move between partitions */
	PositionRow new,
				old;
	bool		inputs_changed = true;
	bool		keep_severe = false;
	MemoryContext caller = CurrentMemoryContext;
	const EnforceInstrument *ins;
	bool		spi = false;
	EnforceFigures f;
	Dec			mark = dec_from_int(0);
	bool		has_mark;
	MarginStatus status;
	bool		status_changed;
	int			cols[5];
	Datum		vals[5];
	bool		nulls[5];
	EnforceUser save;

	enforce_check_trigger(fcinfo, "enforce_positions_trigger", ENFORCE_POSITIONS);
	td = (TriggerData *) fcinfo->context;
	is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	newtup = is_update ? td->tg_newtuple : td->tg_trigtuple;
	if (is_update)
		oldtup = td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);

	a = enforce_attachment(fcinfo, ENFORCE_POSITIONS);
	enforce_check_trigger_order(td);
	if (is_update && enforce_internal_writes > 0 && same_inputs(a, oldtup, newtup, desc))
		return PointerGetDatum(newtup);
	if (!is_update && a->partitioned && enforce_move_arrived(a, newtup, desc))
	{
		/* the row as its update half priced it: an update that changed nothing */
		moved = true;
		is_update = true;
		oldtup = newtup;
	}
	enforce_become(a->owner, &save);

	read_row(a, newtup, desc, &new);
	if (new.symbol_null)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("column \"%s\" of table \"%s\" must not be null",
						a->c.cols[COL_POS_SYMBOL].name, a->positions_name)));
	if (is_update)
	{
		read_row(a, oldtup, desc, &old);
		inputs_changed = !same_symbol(a, &new, &old) ||
			dec_cmp(new.size, old.size) != 0 ||
			dec_cmp(new.entry, old.entry) != 0 ||
			dec_cmp(new.margin, old.margin) != 0;
		/* an explicit status write is an operator's reset: no stickiness */
		keep_severe = !inputs_changed && old.has_status && new.has_status &&
			new.status == old.status;
	}
	enforce_check_position(a, new.size, new.entry, new.margin);

	/* the state row locked FOR SHARE, the mark, the rule: once per transaction */
	ins = enforce_instrument_locked(a, new.symbol, &has_mark, &mark, &spi);
	enforce_position_figures(a, ins, new.size, new.entry, new.margin, has_mark, mark, &f);
	status = enforce_next_status(is_update && old.has_status, is_update ? old.status : MARGIN_OK,
								 f.check, keep_severe);
	status_changed = !is_update || !old.has_status || status != old.status;

	cols[0] = a->c.cols[COL_POS_LP].attnum;
	vals[0] = enforce_price_datum(f.has_lp, f.lp, &nulls[0]);
	cols[1] = a->c.cols[COL_POS_MCP].attnum;
	vals[1] = enforce_price_datum(f.has_mcp, f.mcp, &nulls[1]);
	cols[2] = a->c.cols[COL_POS_BP].attnum;
	vals[2] = enforce_price_datum(f.has_bp, f.bp, &nulls[2]);
	cols[3] = a->c.cols[COL_POS_STATUS].attnum;
	vals[3] = ObjectIdGetDatum(a->status_oid[status]);
	nulls[3] = false;
	cols[4] = a->c.cols[COL_POS_CHANGED_AT].attnum;
	if (status_changed)
	{
		vals[4] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		nulls[4] = false;
	}
	else
		vals[4] = heap_getattr(oldtup, cols[4], desc, &nulls[4]);
	newtup = heap_modify_tuple_by_cols(newtup, desc, 5, cols, vals, nulls);
	if (a->partitioned && is_update && !moved)
		enforce_move_note(a, oldtup, newtup, desc);

	/* an event for every change, and for a new row that is not ok */
	if (has_mark && status_changed &&
		(is_update && old.has_status ? status != old.status : status != MARGIN_OK))
	{
		EnforceEvents ev;

		if (!spi && SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		MemoryContextSwitchTo(caller);
		spi = true;
		enforce_events_init(&ev, 1, event_cause(is_update, inputs_changed, &old, &new));
		enforce_events_add(&ev, a, enforce_event_key(a, newtup, desc),
						   CStringGetTextDatum(enforce_symbol_text(a, new.symbol)),
						   is_update && old.has_status, is_update ? old.status : MARGIN_OK,
						   status, mark, &f, new.size, new.entry, new.margin);
		enforce_events_write(a, &ev);
	}

	enforce_restore(&save);
	if (spi)
		SPI_finish();
	return PointerGetDatum(newtup);
}
