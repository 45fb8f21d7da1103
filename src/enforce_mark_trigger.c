/*
 * enforce_mark_trigger.c
 *	  AFTER INSERT / AFTER UPDATE ... FOR EACH STATEMENT, REFERENCING NEW
 *	  TABLE, on an attached marks table: flag the positions a statement's
 *	  new marks cross, in one set-based pass.
 *
 * 1. The statement's rows, last one per symbol, sorted by symbol.
 * 2. Their state rows locked FOR NO KEY UPDATE in that order (created if
 *	  missing): this waits for position changes in flight on the same
 *	  instruments, and gives each instrument's previous mark P0.  Steps 2
 *	  and 3 lock as enforce_lock.c says: the pass waits for nothing while
 *	  it holds a state row, and starts again when a lock is not free.
 * 3. One candidate search for all instruments: for each, the positions
 *	  whose stored margin-call, liquidation or bankruptcy price (whichever
 *	  is the next threshold for its status) lies between P0 and the new
 *	  mark P1, widened by one unit of the stored prices' rounding.  Each
 *	  status has a partial index, and every position not yet flagged at
 *	  P0 has its threshold on the safe side of P0 (it was checked there),
 *	  so the scans touch what crosses between P0 and P1 and nothing that
 *	  earlier marks flagged.  A first mark (no P0) searches the whole
 *	  range once.  Candidates are locked instrument by instrument, in
 *	  primary-key order.
 * 4. The exact maintenance check at P1 decides each candidate's status;
 *	  changes are written with one UPDATE, one INSERT of events, one
 *	  NOTIFY per event, and the new marks go into the state rows.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforce_marks_trigger);

typedef struct MarkRow
{
	Datum		symbol;
	Dec			mark;
	Datum		mark_numeric;
	int			seq;
	/* filled by the pass */
	bool		has_prev;
	Dec			prev;
	EnforceInstrument ins;
	Datum		symbol_text;
} MarkRow;

typedef struct SortArg
{
	EnforceAttachment *att;
} SortArg;

static int
mark_cmp(const void *x, const void *y, void *arg)
{
	EnforceAttachment *a = ((SortArg *) arg)->att;
	const MarkRow *p = x;
	const MarkRow *q = y;
	int			c = DatumGetInt32(FunctionCall2Coll(&a->sym_cmp, a->sym_collation,
													p->symbol, q->symbol));

	if (c != 0)
		return c;
	return (p->seq > q->seq) - (p->seq < q->seq);
}

/* The statement's new rows; the last one per symbol wins. */
static MarkRow *
read_new_marks(EnforceAttachment *a, TriggerData *td, int *count)
{
	Tuplestorestate *ts = td->tg_newtable;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			ptr = tuplestore_alloc_read_pointer(ts, 0);
	int			cap = 16,
				n = 0,
				kept = 0;
	MarkRow    *rows = palloc(sizeof(MarkRow) * cap);
	SortArg		arg = {a};

	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		sym_null,
					mark_null;
		Datum		sym = slot_getattr(slot, a->c.cols[COL_MARK_SYMBOL].attnum, &sym_null);
		Datum		mark = slot_getattr(slot, a->c.cols[COL_MARK_PRICE].attnum, &mark_null);

		if (sym_null || mark_null)
			continue;
		if (n == cap)
		{
			cap *= 2;
			rows = repalloc(rows, sizeof(MarkRow) * cap);
		}
		rows[n].symbol = datumCopy(sym, a->sym_byval, a->sym_len);
		rows[n].mark = enforce_read_mark(a, mark);
		rows[n].mark_numeric = NumericGetDatum(dec_to_numeric(rows[n].mark));
		rows[n].seq = n;
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);

	qsort_arg(rows, n, sizeof(MarkRow), mark_cmp, &arg);
	for (int i = 0; i < n; i++)
	{
		if (i + 1 < n &&
			DatumGetInt32(FunctionCall2Coll(&a->sym_cmp, a->sym_collation,
											rows[i].symbol, rows[i + 1].symbol)) == 0)
			continue;
		rows[kept++] = rows[i];
	}
	*count = kept;
	return rows;
}

static Datum
symbol_array(EnforceAttachment *a, MarkRow *rows, int *idx, int n)
{
	Datum	   *e = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		e[i] = rows[idx[i]].symbol;
	return enforce_array(e, NULL, n, a->sym_type);
}

/*
 * Run plan (PLAN_STATE_LOCK_MANY, _SKIP or _PEEK) over the state rows of
 * rows[idx[0..n-1]], in that order; found[i] is set for each row i it
 * returned, whose previous mark it reads.
 */
static void
lock_states(EnforceAttachment *a, EnforcePlanId plan, MarkRow *rows, int *idx, int n, bool *found)
{
	Datum		arg = symbol_array(a, rows, idx, n);

	enforce_execute(a, plan, &arg, NULL, true, 0);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		bool		isnull;
		int			ord = (int) DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		Datum		prev = SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull);
		MarkRow    *m = &rows[idx[ord - 1]];

		found[idx[ord - 1]] = true;
		m->has_prev = !isnull;
		if (!isnull)
			m->prev = enforce_read_mark(a, datumCopy(prev, false, -1));
	}
}

static Datum
price_bound(Dec v, bool infinite, bool upper)
{
	if (infinite)
		return DirectFunctionCall3(numeric_in, CStringGetDatum(upper ? "Infinity" : "-Infinity"),
								   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	return NumericGetDatum(dec_to_numeric(v));
}

static void
load_instruments(EnforceAttachment *a, MarkRow *rows, int *moved, int nmoved)
{
	Datum		arg = symbol_array(a, rows, moved, nmoved);

	enforce_execute(a, PLAN_INSTRUMENTS_MANY, &arg, NULL, false, 0);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		bool		isnull;
		int			ord = (int) DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		MarkRow    *m = &rows[moved[ord - 1]];
		EnforceInstrumentRow row;

		enforce_instrument_read(t, SPI_tuptable->tupdesc, 2, &row);
		enforce_instrument_from_row(a, &m->ins, m->symbol, &row);
	}
}

/*
 * Columns of a candidate row (PLAN_CANDIDATES, PLAN_POSITIONS_OF):
 * ord, ctid, key, size, entry, margin, status.
 */
static void
check_candidates(EnforceAttachment *a, MarkRow *rows, int *moved, int nmoved,
				 SPITupleTable *cand, uint64 ncand)
{
	Datum	   *tids = palloc(sizeof(Datum) * Max(ncand, 1));
	Datum	   *statuses = palloc(sizeof(Datum) * Max(ncand, 1));
	int			nchanged = 0;
	bool		loaded = false;
	EnforceEvents ev;

	enforce_events_init(&ev, (int) Min(ncand, 1024));
	for (uint64 r = 0; r < ncand; r++)
	{
		HeapTuple	t = cand->vals[r];
		TupleDesc	d = cand->tupdesc;
		bool		isnull;
		MarkRow    *m = &rows[moved[DatumGetInt64(SPI_getbinval(t, d, 1, &isnull)) - 1]];
		EnforcePassRow row;
		MarginStatus old,
					next;
		EnforceFigures f;

		if (!loaded)
		{
			load_instruments(a, rows, moved, nmoved);
			loaded = true;
		}
		if (!m->ins.found)
			enforce_missing_instrument(a, m->symbol);
		enforce_read_pass_row(a, t, d, &row);
		old = row.status;

		enforce_position_figures(a, &m->ins, row.size, row.entry, row.margin, true, m->mark, &f);
		next = enforce_next_status(true, old, f.check, true);
		if (next == old)
			continue;
		tids[nchanged] = SPI_getbinval(t, d, 2, &isnull);
		statuses[nchanged] = ObjectIdGetDatum(a->status_oid[next]);
		nchanged++;
		if (!m->symbol_text)
			m->symbol_text = CStringGetTextDatum(enforce_symbol_text(a, m->symbol));
		enforce_events_add(&ev, a, SPI_getbinval(t, d, 3, &isnull), m->symbol_text,
						   true, old, next, m->mark, &f);
	}
	if (nchanged > 0)
	{
		Datum		args[2];

		args[0] = enforce_array(tids, NULL, nchanged, TIDOID);
		args[1] = enforce_array(statuses, NULL, nchanged, a->status_type);
		enforce_execute(a, PLAN_SET_STATUS, args, NULL, true, 0);
		enforce_events_write(a, &ev);
	}
}

/* A mark pass, tried in attempts (enforce_lock.c). */
typedef struct MarkPass
{
	EnforceAttachment *a;
	MarkRow    *rows;
	int			n;
	int		   *all;			/* 0 .. n-1 */
	int			first;			/* the state row the attempt waits for */
	bool	   *found;			/* state rows the attempt locked */
	/* the symbols whose mark moved, and their candidate ranges */
	int		   *moved;
	int			nmoved;
	Datum	   *lo;
	Datum	   *hi;
	Datum		args[3];		/* PLAN_CANDIDATES: symbols, lo, hi */
} MarkPass;

/* From the previous marks the state rows hold: which symbols moved, and where to search. */
static void
candidate_ranges(MarkPass *l)
{
	Dec			unit = dec_make(1, ENFORCE_PRICE_UNIT_SCALE);

	l->nmoved = 0;
	for (int i = 0; i < l->n; i++)
	{
		MarkRow    *m = &l->rows[i];
		int			k = l->nmoved;

		if (m->has_prev && dec_cmp(m->prev, m->mark) == 0)
			continue;
		if (m->has_prev)
		{
			bool		up = dec_cmp(m->prev, m->mark) < 0;

			l->lo[k] = price_bound(dec_sub(up ? m->prev : m->mark, unit), false, false);
			l->hi[k] = price_bound(dec_add(up ? m->mark : m->prev, unit), false, true);
		}
		else
		{
			l->lo[k] = price_bound(unit, true, false);
			l->hi[k] = price_bound(unit, true, true);
		}
		l->moved[l->nmoved++] = i;
	}
	if (l->nmoved == 0)
		return;
	l->args[0] = symbol_array(l->a, l->rows, l->moved, l->nmoved);
	l->args[1] = enforce_array(l->lo, NULL, l->nmoved, NUMERICOID);
	l->args[2] = enforce_array(l->hi, NULL, l->nmoved, NUMERICOID);
}

/*
 * One attempt: wait for the first state row only, then take the other
 * state rows in symbol order and the candidates in primary-key order
 * without waiting; false when a state row is missing or busy.  Once it
 * holds them all, the pass writes in the same subtransaction: a row locked
 * by one subtransaction and updated by another of the same transaction
 * would need a MultiXact.
 */
static bool
mark_attempt(void *arg)
{
	MarkPass   *l = arg;
	Datum	   *marks;

	memset(l->found, 0, sizeof(bool) * l->n);
	lock_states(l->a, PLAN_STATE_LOCK_MANY, l->rows, &l->first, 1, l->found);
	if (!l->found[l->first])
		return false;
	if (l->n > 1)
	{
		lock_states(l->a, PLAN_STATE_LOCK_MANY_SKIP, l->rows, l->all, l->n, l->found);
		for (int i = 0; i < l->n; i++)
			if (!l->found[i])
				return false;
	}
	candidate_ranges(l);
	if (l->nmoved == 0)
		return true;
	enforce_execute_nowait(l->a, PLAN_CANDIDATES, l->args, true);
	if (SPI_processed > 0)
		check_candidates(l->a, l->rows, l->moved, l->nmoved, SPI_tuptable, SPI_processed);

	marks = palloc(sizeof(Datum) * l->nmoved);
	for (int i = 0; i < l->nmoved; i++)
		marks[i] = l->rows[l->moved[i]].mark_numeric;
	l->args[1] = enforce_array(marks, NULL, l->nmoved, NUMERICOID);
	enforce_execute(l->a, PLAN_STATE_SET_MARKS, l->args, NULL, false, 0);
	return true;
}

/*
 * After an attempt that gave up: state rows it did not get are either
 * held by another transaction (the next attempt waits for the first such
 * one before anything else) or missing (created now, holding nothing).
 */
static void
state_rows_not_locked(MarkPass *l)
{
	int		   *idx = palloc(sizeof(int) * l->n);
	bool	   *exists = palloc0(sizeof(bool) * l->n);
	int			k = 0,
				nmissing = 0;
	bool		busy = false;

	for (int i = 0; i < l->n; i++)
		if (!l->found[i])
			idx[k++] = i;
	lock_states(l->a, PLAN_STATE_PEEK_MANY, l->rows, idx, k, exists);
	for (int j = 0; j < k; j++)
	{
		if (!exists[idx[j]])
			idx[nmissing++] = idx[j];
		else if (!busy)
		{
			l->first = idx[j];
			busy = true;
		}
	}
	if (nmissing > 0)
	{
		Datum		arg = symbol_array(l->a, l->rows, idx, nmissing);

		enforce_execute(l->a, PLAN_STATE_ENSURE_MANY, &arg, NULL, false, 0);
	}
}

/* not inlined: it runs inside PG_TRY */
static pg_noinline void
mark_pass(EnforceAttachment *a, MarkRow *rows, int n)
{
	MarkPass	l;
	bool		done = false;

	l.a = a;
	l.rows = rows;
	l.n = n;
	l.all = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		l.all[i] = i;
	l.first = 0;
	l.found = palloc(sizeof(bool) * n);
	l.moved = palloc(sizeof(int) * n);
	l.lo = palloc(sizeof(Datum) * n);
	l.hi = palloc(sizeof(Datum) * n);
	while (!done)
	{
		CHECK_FOR_INTERRUPTS();
		switch (enforce_attempt(mark_attempt, &l))
		{
			case ENFORCE_ATTEMPT_DONE:
				done = true;
				break;
			case ENFORCE_ATTEMPT_RETRY:
				state_rows_not_locked(&l);
				break;
			case ENFORCE_ATTEMPT_BUSY:
				enforce_wait_busy(a, PLAN_CANDIDATES_PEEK, PLAN_CANDIDATES_SKIP, l.args, true);
				break;
		}
	}
}

/* mark_pass with enforcement's own position writes let through */
static pg_noinline void
mark_pass_internal(EnforceAttachment *a, MarkRow *rows, int n)
{
	enforce_internal_writes++;
	PG_TRY();
	{
		mark_pass(a, rows, n);
	}
	PG_FINALLY();
	{
		enforce_internal_writes--;
	}
	PG_END_TRY();
}

Datum
enforce_marks_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	EnforceAttachment *a;
	MarkRow    *rows;
	int			n;
	EnforceUser save;

	enforce_check_trigger(fcinfo, "enforce_marks_trigger", ENFORCE_MARKS);
	td = (TriggerData *) fcinfo->context;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	a = enforce_attachment(fcinfo, ENFORCE_MARKS);
	enforce_become(a->owner, &save);
	rows = read_new_marks(a, td, &n);
	if (n > 0)
	{
		for (int i = 0; i < n; i++)
		{
			rows[i].ins.found = false;
			rows[i].symbol_text = (Datum) 0;
			rows[i].has_prev = false;
		}
		mark_pass_internal(a, rows, n);
	}
	enforce_restore(&save);
	SPI_finish();
	return PointerGetDatum(NULL);
}
