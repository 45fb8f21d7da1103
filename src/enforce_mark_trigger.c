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
 *	  NOTIFY for the attachment, and the new marks go into the state rows.
 *
 * Which new mark moves enforcement (doc/enforcement.md, Marks): with
 * mark_time mapped, the statement's row with the latest mark_time per
 * symbol, and only if it is not older than the state row's; with a
 * price_band on the instrument, a move of more than band * P0 is held back
 * in the state row (an isomargin.mark_events row) until an operator
 * confirms it (isomargin.confirm_mark) or a mark within the band
 * supersedes it.  A NULL mark (or mark_time) is refused.
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

/* What a statement's mark does to its instrument's current mark. */
typedef enum MarkOutcome
{
	MARK_MOVE,					/* becomes the current mark: positions are checked */
	MARK_SAME,					/* equals the current mark (its time may be newer) */
	MARK_STALE,					/* older than the current mark: recorded, ignored */
	MARK_HELD					/* beyond the instrument's price band: held back */
} MarkOutcome;

typedef struct MarkRow
{
	Datum		symbol;
	Dec			mark;
	Datum		mark_numeric;
	Datum		time;			/* mark_time, when mapped */
	int			seq;
	bool		confirm;		/* confirm_mark: the held mark becomes the mark */
	/* filled by the pass */
	bool		has_prev;
	Dec			prev;
	Datum		prev_numeric;
	bool		has_prev_time;
	Datum		prev_time;
	bool		has_held;		/* the state row holds a mark back */
	Dec			held;
	Datum		held_numeric;
	Datum		held_time;
	MarkOutcome outcome;
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
	if (a->has_time)
	{
		c = DatumGetInt32(FunctionCall2Coll(&a->time_cmp, a->time_collation, p->time, q->time));
		if (c != 0)
			return c;
	}
	return (p->seq > q->seq) - (p->seq < q->seq);
}

/*
 * The statement's new rows; per symbol the one with the latest mark_time
 * (when mapped) wins, the last written among equals.  A NULL mark or
 * mark_time is refused (23502); a row without a symbol is no one's mark.
 */
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
		Datum		time = (Datum) 0;

		if (sym_null)
			continue;
		if (mark_null)
			enforce_read_dec(a, COL_MARK_PRICE, (Datum) 0, true);
		if (a->has_time)
		{
			bool		time_null;

			time = slot_getattr(slot, a->c.cols[COL_MARK_TIME].attnum, &time_null);
			if (time_null)
				enforce_read_dec(a, COL_MARK_TIME, (Datum) 0, true);
			time = datumCopy(time, a->time_byval, a->time_len);
		}
		if (n == cap)
		{
			cap *= 2;
			rows = repalloc(rows, sizeof(MarkRow) * cap);
		}
		rows[n].symbol = datumCopy(sym, a->sym_byval, a->sym_len);
		rows[n].mark = enforce_read_mark(a, mark);
		rows[n].mark_numeric = NumericGetDatum(dec_to_numeric(rows[n].mark));
		rows[n].time = time;
		rows[n].confirm = false;
		rows[n].seq = n;
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);

	qsort_arg(rows, n, sizeof(MarkRow), mark_cmp, &arg);
	/* sorted by symbol, then time, then order written: the last of each symbol */
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
 * returned, whose previous mark (and time, and held mark) it reads.
 */
static void
lock_states(EnforceAttachment *a, EnforcePlanId plan, MarkRow *rows, int *idx, int n, bool *found)
{
	/* PLAN_STATE_LOCK_ONE: one symbol, as a scalar */
	Datum		arg = plan == PLAN_STATE_LOCK_ONE ? rows[idx[0]].symbol :
		symbol_array(a, rows, idx, n);

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
		{
			m->prev_numeric = datumCopy(prev, false, -1);
			m->prev = enforce_read_mark(a, m->prev_numeric);
		}
		prev = SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull);
		m->has_held = !isnull;
		if (!isnull)
		{
			m->held_numeric = datumCopy(prev, false, -1);
			m->held = enforce_read_mark(a, m->held_numeric);
		}
		if (a->has_time)
		{
			prev = SPI_getbinval(t, SPI_tuptable->tupdesc, 4, &isnull);
			m->has_prev_time = !isnull;
			if (!isnull)
				m->prev_time = datumCopy(prev, a->time_byval, a->time_len);
			prev = SPI_getbinval(t, SPI_tuptable->tupdesc, 5, &isnull);
			m->held_time = isnull ? (Datum) 0 : datumCopy(prev, a->time_byval, a->time_len);
		}
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
 * ord, ctid, key, size, entry, margin, status (, tableoid).
 */
static void
check_candidates(EnforceAttachment *a, MarkRow *rows, int *moved, int nmoved,
				 SPITupleTable *cand, uint64 ncand, bool loaded)
{
	EnforceRows tids;
	Datum	   *statuses = palloc(sizeof(Datum) * Max(ncand, 1));
	int			nchanged = 0;
	EnforceEvents ev;

	enforce_rows_init(&tids, (int) ncand);
	enforce_events_init(&ev, (int) Min(ncand, 1024), CAUSE_MARK);
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
		enforce_rows_add(&tids, a, t, d);
		statuses[nchanged] = ObjectIdGetDatum(a->status_oid[next]);
		nchanged++;
		if (!m->symbol_text)
			m->symbol_text = CStringGetTextDatum(enforce_symbol_text(a, m->symbol));
		enforce_events_add(&ev, a, SPI_getbinval(t, d, 3, &isnull), m->symbol_text,
						   true, old, next, m->mark, &f, row.size, row.entry, row.margin);
	}
	if (nchanged > 0)
	{
		bool	   *nonulls = NULL;

		enforce_rows_write(&tids, a, PLAN_SET_STATUS, 1, &statuses, &nonulls, &a->status_type);
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
	bool		loaded;			/* the instruments of every row are read (price bands) */
	Oid			user;			/* who wrote the marks (or confirms one) */
	const char *reason;			/* confirm_mark's */
} MarkPass;

/* ---- attachment contract and marks block: which mark moves enforcement ---- */

/* Is the move from the current mark beyond the instrument's price band? */
static bool
beyond_band(const MarkRow *m)
{
	Dec			move;

	if (!m->has_prev || !m->ins.found || !m->ins.has_band)
		return false;
	move = dec_sub(m->mark, m->prev);
	if (dec_sign(move) < 0)
		move = dec_sub(dec_from_int(0), move);
	return dec_cmp(move, dec_mul(m->ins.band, m->prev)) > 0;
}

/* Each row's outcome, from the state rows just locked. */
static void
decide(MarkPass *l)
{
	EnforceAttachment *a = l->a;

	if (a->c.cols[COL_INS_BAND].name != NULL && !l->loaded)
	{
		load_instruments(a, l->rows, l->all, l->n);
		l->loaded = true;
	}
	for (int i = 0; i < l->n; i++)
	{
		MarkRow    *m = &l->rows[i];

		if (m->confirm)
		{
			if (!m->has_held)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("instrument %s of \"%s\" has no mark held back",
								enforce_symbol_text(a, m->symbol), a->positions_name)));
			m->mark = m->held;
			m->mark_numeric = m->held_numeric;
			m->time = m->held_time;
			m->outcome = m->has_prev && dec_cmp(m->prev, m->mark) == 0 ? MARK_SAME : MARK_MOVE;
		}
		else if (a->has_time && m->has_prev_time &&
				 DatumGetInt32(FunctionCall2Coll(&a->time_cmp, a->time_collation,
												 m->time, m->prev_time)) < 0)
			m->outcome = MARK_STALE;
		else if (m->has_prev && dec_cmp(m->prev, m->mark) == 0)
			m->outcome = MARK_SAME;
		else if (a->state_has_held && beyond_band(m))
			m->outcome = MARK_HELD;
		else
			m->outcome = MARK_MOVE;
	}
}

/*
 * The state rows' new marks, held marks and times, and the mark events:
 * held (a move beyond the band), superseded (a mark within it replaced the
 * held one), confirmed (by an operator).
 */
static void
write_states(MarkPass *l)
{
	EnforceAttachment *a = l->a;
	int			n = 0;
	int			nheld = 0,
				nsup = 0;
	Datum	   *sym = palloc(sizeof(Datum) * l->n);
	Datum	   *p = palloc(sizeof(Datum) * l->n);
	bool	   *pn = palloc(sizeof(bool) * l->n);
	Datum	   *h = palloc(sizeof(Datum) * l->n);
	bool	   *hn = palloc(sizeof(bool) * l->n);
	Datum	   *t = palloc(sizeof(Datum) * l->n);
	Datum	   *ht = palloc(sizeof(Datum) * l->n);
	Datum	   *ev_sym = palloc(sizeof(Datum) * l->n);
	Datum	   *ev_mark = palloc(sizeof(Datum) * l->n);
	Datum	   *ev_cur = palloc(sizeof(Datum) * l->n);
	Datum	   *sup_sym = palloc(sizeof(Datum) * l->n);
	Datum	   *sup_mark = palloc(sizeof(Datum) * l->n);
	Datum	   *sup_cur = palloc(sizeof(Datum) * l->n);
	Datum		args[5];
	char	   *actor = NULL;
	bool		any_held = false;

	for (int i = 0; i < l->n; i++)
	{
		MarkRow    *m = &l->rows[i];
		bool		held = m->outcome == MARK_HELD;

		if (m->outcome == MARK_STALE ||
			(m->outcome == MARK_SAME && !a->has_time && !m->has_held))
			continue;
		sym[n] = m->symbol;
		p[n] = held ? (Datum) 0 : m->mark_numeric;
		pn[n] = held;
		h[n] = held ? m->mark_numeric : (Datum) 0;
		hn[n] = !held;
		t[n] = held ? (Datum) 0 : m->time;
		ht[n] = held ? m->time : (Datum) 0;
		n++;
		any_held |= held || m->has_held;
		if (!m->symbol_text)
			m->symbol_text = CStringGetTextDatum(enforce_symbol_text(a, m->symbol));
		if (held)
		{
			ev_sym[nheld] = m->symbol_text;
			ev_mark[nheld] = m->mark_numeric;
			ev_cur[nheld++] = m->prev_numeric;
		}
		else if (m->has_held)
		{
			sup_sym[nsup] = m->symbol_text;
			sup_mark[nsup] = m->held_numeric;
			sup_cur[nsup++] = m->confirm ? m->prev_numeric : m->mark_numeric;
		}
	}
	if (n == 0)
		return;
	args[0] = enforce_array(sym, NULL, n, a->sym_type);
	args[1] = enforce_array(p, pn, n, NUMERICOID);
	if (!any_held && n == 1 && !a->has_time)
	{
		/* one instrument's new mark: the scalar statement, cheaper to start and run */
		Datum		one[2] = {sym[0], p[0]};

		enforce_execute(a, PLAN_STATE_SET_MARK_ONE, one, NULL, false, 0);
		return;
	}
	if (!any_held)
	{
		/* the common case: new marks only, as before price bands */
		if (a->has_time)
			args[2] = enforce_array(t, NULL, n, getBaseType(a->time_type));
		enforce_execute(a, PLAN_STATE_SET_MARKS, args, NULL, false, 0);
		return;
	}
	args[2] = enforce_array(h, hn, n, NUMERICOID);
	if (a->has_time)
	{
		args[3] = enforce_array(t, pn, n, getBaseType(a->time_type));
		args[4] = enforce_array(ht, hn, n, getBaseType(a->time_type));
	}
	enforce_execute(a, PLAN_STATE_SET_HELD, args, NULL, false, 0);
	if (nheld + nsup > 0)
		actor = enforce_actor(l->user);
	enforce_mark_events_write(a, nheld, ev_sym, "held", ev_mark, ev_cur, actor, NULL);
	enforce_mark_events_write(a, nsup, sup_sym, l->reason ? "confirmed" : "superseded",
							  sup_mark, sup_cur, actor, l->reason);
}

/* ---- end of the attachment contract and marks block ---- */

/* From the previous marks the state rows hold: which symbols moved, and where to search. */
static void
candidate_ranges(MarkPass *l)
{
	Dec			unit = dec_make(1, ENFORCE_PRICE_UNIT_SCALE);

	/* prices stored to a whole tick are rounded by up to a tick */
	if (dec_cmp(l->a->tick, unit) > 0)
		unit = l->a->tick;
	l->nmoved = 0;
	for (int i = 0; i < l->n; i++)
	{
		MarkRow    *m = &l->rows[i];
		int			k = l->nmoved;

		if (m->outcome != MARK_MOVE)
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

	memset(l->found, 0, sizeof(bool) * l->n);
	l->loaded = false;			/* what an earlier attempt read went with its subtransaction */
	for (int i = 0; i < l->n; i++)
		l->rows[i].ins.found = false;
	lock_states(l->a, PLAN_STATE_LOCK_ONE, l->rows, &l->first, 1, l->found);
	if (!l->found[l->first])
		return false;
	if (l->n > 1)
	{
		lock_states(l->a, PLAN_STATE_LOCK_MANY_SKIP, l->rows, l->all, l->n, l->found);
		for (int i = 0; i < l->n; i++)
			if (!l->found[i])
				return false;
	}
	decide(l);
	candidate_ranges(l);
	if (l->nmoved == 1)
	{
		/*
		 * one instrument moved: the scalar statement, cheaper to start and
		 * run, on the partition that holds the symbol if one does
		 */
		Datum		one[3] = {l->rows[l->moved[0]].symbol, l->lo[0], l->hi[0]};
		Oid			part = enforce_symbol_partition(l->a, one[0]);
		SPITupleTable *cand = NULL;
		uint64		ncand = 0;

		/* on every partition: the probe finds and locks them, or says search (enforce_probe.c) */
		if (OidIsValid(part) ||
			enforce_candidates_probe(l->a, one[0], one[1], one[2], &cand, &ncand) == PROBE_SEARCH)
		{
			enforce_execute_nowait_on(l->a, PLAN_CANDIDATES_ONE, part, one, true);
			cand = SPI_tuptable;
			ncand = SPI_processed;
			enforce_candidates_searched(l->a, ncand);
		}
		if (ncand > 0)
			check_candidates(l->a, l->rows, l->moved, l->nmoved, cand, ncand, l->loaded);
	}
	else if (l->nmoved > 1)
	{
		enforce_execute_nowait(l->a, PLAN_CANDIDATES, l->args, true);
		if (SPI_processed > 0)
			check_candidates(l->a, l->rows, l->moved, l->nmoved, SPI_tuptable, SPI_processed,
							 l->loaded);
	}
	write_states(l);
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
mark_pass(EnforceAttachment *a, MarkRow *rows, int n, Oid user, const char *reason)
{
	MarkPass	l;
	bool		done = false;

	l.a = a;
	l.user = user;
	l.reason = reason;
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
mark_pass_internal(EnforceAttachment *a, MarkRow *rows, int n, Oid user, const char *reason)
{
	enforce_internal_writes++;
	PG_TRY();
	{
		mark_pass(a, rows, n, user, reason);
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
	Oid			user;
	EnforceUser save;

	enforce_check_trigger(fcinfo, "enforce_marks_trigger", ENFORCE_MARKS);
	td = (TriggerData *) fcinfo->context;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	a = enforce_attachment(fcinfo, ENFORCE_MARKS);
	user = GetUserId();
	enforce_become(a->owner, &save);
	rows = read_new_marks(a, td, &n);
	if (n > 0)
	{
		for (int i = 0; i < n; i++)
		{
			rows[i].ins.found = false;
			rows[i].symbol_text = (Datum) 0;
			rows[i].has_prev = false;
			rows[i].has_held = false;
			rows[i].has_prev_time = false;
		}
		mark_pass_internal(a, rows, n, user, NULL);
	}
	enforce_restore(&save);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ---- attachment contract and marks block: confirm_mark ---- */

/*
 * An operator confirms the mark the instrument's price band held back: it
 * becomes the current mark and the positions it crosses are flagged, as if
 * it had just been written (the caller runs as the positions owner).
 */
Dec
enforce_confirm_mark(EnforceAttachment *a, Datum symbol, const char *reason)
{
	MarkRow    *row = palloc0(sizeof(MarkRow));
	EnforceUser save;
	Oid			user = GetUserId();

	row->symbol = symbol;
	row->confirm = true;
	row->mark = dec_from_int(0);
	enforce_become(a->owner, &save);
	mark_pass_internal(a, row, 1, user, reason);
	enforce_restore(&save);
	return row->mark;
}
