/*
 * enforce_spi.c
 *	  Running enforcement's plans: as which role, under which snapshot, and
 *	  the event rows and NOTIFYs they leave behind.
 *
 * As ri_triggers.c does, everything a trigger does on the user's tables
 * runs as the owner of the positions table, so a role that may only update
 * marks needs no rights on positions.  Unlike ri_triggers.c it runs as a
 * security-restricted operation, and so does every call of the symbol
 * type's functions: code the positions owner wrote (triggers, casts,
 * operators, constraints, the types of the key and the symbol) never runs
 * with more rights than that owner's, whoever fired the trigger.  Event
 * rows are written as the owner of isomargin.events from values of
 * built-in types only (the key is built as jsonb beforehand, as the
 * positions owner), so no user code runs under that role.  Under REPEATABLE READ or
 * SERIALIZABLE a pass over positions reads the latest committed rows and
 * updates them with the transaction snapshot as crosscheck, so a position
 * committed after the transaction began is either seen or makes the
 * update fail with a serialization error; it is never silently missed.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "enforce.h"

/* > 0 while enforcement itself writes positions (enforce_positions_trigger) */
int			enforce_internal_writes = 0;

void
enforce_become(Oid role, EnforceUser *save)
{
	GetUserIdAndSecContext(&save->saved_user, &save->saved_context);
	SetUserIdAndSecContext(role, save->saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION | SECURITY_NOFORCE_RLS);
}

void
enforce_restore(const EnforceUser *save)
{
	SetUserIdAndSecContext(save->saved_user, save->saved_context);
}

static int
run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool latest, long tcount)
{
	if (latest && IsolationUsesXactSnapshot())
	{
		CommandCounterIncrement();
		return SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
									GetTransactionSnapshot(), false, true, tcount);
	}
	return SPI_execute_plan(plan, values, nulls, false, tcount);
}

/* A write of the state table, let through its guard (enforce_guard.c). */
static pg_noinline int
run_state_write(SPIPlanPtr plan, Datum *values, const char *nulls, bool latest, long tcount)
{
	int			rc;

	enforce_state_writes++;
	PG_TRY();
	{
		rc = run_plan(plan, values, nulls, latest, tcount);
	}
	PG_FINALLY();
	{
		enforce_state_writes--;
	}
	PG_END_TRY();
	return rc;
}

int
enforce_execute(EnforceAttachment *att, EnforcePlanId id, Datum *values,
				const char *nulls, bool latest, long tcount)
{
	return enforce_execute_on(att, id, InvalidOid, values, nulls, latest, tcount);
}

/* Statement id on one partition of positions, or on the table itself (InvalidOid). */
int
enforce_execute_on(EnforceAttachment *att, EnforcePlanId id, Oid partition, Datum *values,
				   const char *nulls, bool latest, long tcount)
{
	SPIPlanPtr	plan = OidIsValid(partition) ? enforce_partition_plan(att, id, partition) :
		enforce_plan(att, id);
	int			rc;
	int			nest = -1;
	bool		writes_state = id == PLAN_STATE_ENSURE || id == PLAN_STATE_ENSURE_MANY ||
		id == PLAN_STATE_SET_MARKS || id == PLAN_STATE_TOUCH || id == PLAN_STATE_SET_HELD ||
		id == PLAN_STATE_SET_MARK_ONE;

	/* planned (on any execution, after an invalidation) by the state table's index */
	if (enforce_plan_by_index(id))
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (writes_state)
		rc = run_state_write(plan, values, nulls, latest, tcount);
	else
		rc = run_plan(plan, values, nulls, latest, tcount);
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	if (rc < 0)
		elog(ERROR, "isomargin enforcement statement %d failed: %s", (int) id,
			 SPI_result_code_string(rc));
	return rc;
}

/*
 * Lock one instrument's state row with plan (PLAN_STATE_SHARE or
 * PLAN_STATE_TOUCH), creating the row first if it is missing, and read its
 * mark into *mark (allocated in keep); false when there is no mark yet.
 */
bool
enforce_lock_state(EnforceAttachment *att, EnforcePlanId plan, Datum symbol, Dec *mark,
				   MemoryContext keep)
{
	Datum		arg = symbol;
	bool		isnull;
	Datum		d;
	MemoryContext old;

	enforce_execute(att, plan, &arg, NULL, false, 0);
	if (SPI_processed == 0)
	{
		enforce_execute(att, PLAN_STATE_ENSURE, &arg, NULL, false, 0);
		enforce_execute(att, plan, &arg, NULL, false, 0);
		if (SPI_processed == 0)
			elog(ERROR, "isomargin: state row for the instrument vanished");
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return false;
	old = MemoryContextSwitchTo(keep);
	*mark = enforce_read_mark(att, datumCopy(d, false, -1));
	MemoryContextSwitchTo(old);
	return true;
}

/* A symbol given as text, read by its type's input function as the positions owner. */
Datum
enforce_symbol_input(EnforceAttachment *att, const char *s)
{
	Oid			input,
				ioparam;
	EnforceUser save;
	Datum		d;

	getTypeInputInfo(att->sym_type, &input, &ioparam);
	enforce_become(att->owner, &save);
	d = OidInputFunctionCall(input, (char *) s, ioparam, -1);
	enforce_restore(&save);
	return d;
}

char *
enforce_symbol_text(EnforceAttachment *att, Datum symbol)
{
	return OutputFunctionCall(&att->sym_out, symbol);
}

Datum
enforce_array(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, elemtype,
											  len, byval, align));
}

void
enforce_events_init(EnforceEvents *ev, int cap, EnforceCause cause)
{
	cap = Max(cap, 4);
	ev->n = 0;
	ev->cap = cap;
	ev->cause = cause;
	ev->key = palloc(sizeof(Datum) * cap);
	ev->symbol = palloc(sizeof(Datum) * cap);
	ev->old_status = palloc(sizeof(Datum) * cap);
	ev->old_null = palloc(sizeof(bool) * cap);
	ev->new_status = palloc(sizeof(Datum) * cap);
	ev->mark = palloc(sizeof(Datum) * cap);
	ev->equity = palloc(sizeof(Datum) * cap);
	ev->maintenance = palloc(sizeof(Datum) * cap);
	for (int j = 0; j < (int) lengthof(ev->snap); j++)
	{
		ev->snap[j] = palloc(sizeof(Datum) * cap);
		ev->snap_null[j] = palloc(sizeof(bool) * cap);
	}
}

static void
events_grow(EnforceEvents *ev)
{
	ev->cap *= 2;
	ev->key = repalloc(ev->key, sizeof(Datum) * ev->cap);
	ev->symbol = repalloc(ev->symbol, sizeof(Datum) * ev->cap);
	ev->old_status = repalloc(ev->old_status, sizeof(Datum) * ev->cap);
	ev->old_null = repalloc(ev->old_null, sizeof(bool) * ev->cap);
	ev->new_status = repalloc(ev->new_status, sizeof(Datum) * ev->cap);
	ev->mark = repalloc(ev->mark, sizeof(Datum) * ev->cap);
	ev->equity = repalloc(ev->equity, sizeof(Datum) * ev->cap);
	ev->maintenance = repalloc(ev->maintenance, sizeof(Datum) * ev->cap);
	for (int j = 0; j < (int) lengthof(ev->snap); j++)
	{
		ev->snap[j] = repalloc(ev->snap[j], sizeof(Datum) * ev->cap);
		ev->snap_null[j] = repalloc(ev->snap_null[j], sizeof(bool) * ev->cap);
	}
}

void
enforce_events_add(EnforceEvents *ev, EnforceAttachment *att, Datum key, Datum symbol_text,
				   bool has_old, MarginStatus old, MarginStatus new, Dec mark,
				   const EnforceFigures *f, Dec size, Dec entry, Dec margin)
{
	int			i = ev->n++;

	if (i >= ev->cap)
		events_grow(ev);
	ev->key[i] = key;
	ev->symbol[i] = symbol_text;
	ev->old_null[i] = !has_old;
	ev->old_status[i] = has_old ? ObjectIdGetDatum(att->status_oid[old]) : (Datum) 0;
	ev->new_status[i] = ObjectIdGetDatum(att->status_oid[new]);
	ev->mark[i] = NumericGetDatum(dec_to_numeric(mark));
	ev->equity[i] = NumericGetDatum(dec_to_numeric(f->equity));
	ev->maintenance[i] = NumericGetDatum(dec_to_numeric(f->maintenance));
	ev->snap[0][i] = enforce_price_datum(true, size, &ev->snap_null[0][i]);
	ev->snap[1][i] = enforce_price_datum(true, entry, &ev->snap_null[1][i]);
	ev->snap[2][i] = enforce_price_datum(true, margin, &ev->snap_null[2][i]);
	ev->snap[3][i] = enforce_price_datum(f->has_lp, f->lp, &ev->snap_null[3][i]);
	ev->snap[4][i] = enforce_price_datum(f->has_mcp, f->mcp, &ev->snap_null[4][i]);
	ev->snap[5][i] = enforce_price_datum(f->has_bp, f->bp, &ev->snap_null[5][i]);
}

/*
 * One INSERT for the batch, as the owner of isomargin.events, then one
 * NOTIFY whose payload is the positions table's qualified name: PostgreSQL
 * folds identical notifications of a transaction into one, so a listener
 * hears once per transaction and attachment, however many events it wrote.
 */
static void
events_write(EnforceAttachment *att, EnforceEvents *ev, EnforcePlanId plan,
			 const char *actor, const char *reason)
{
	Oid			status_type = att->status_type;
	Datum		values[17];
	char		nulls[17];
	EnforceUser save;

	if (ev->n == 0)
		return;
	memset(nulls, ' ', sizeof(nulls));
	values[0] = ObjectIdGetDatum(att->positions);
	values[1] = enforce_array(ev->key, NULL, ev->n, JSONBOID);
	values[2] = enforce_array(ev->symbol, NULL, ev->n, TEXTOID);
	values[3] = enforce_array(ev->old_status, ev->old_null, ev->n, status_type);
	values[4] = enforce_array(ev->new_status, NULL, ev->n, status_type);
	values[5] = enforce_array(ev->mark, NULL, ev->n, NUMERICOID);
	values[6] = enforce_array(ev->equity, NULL, ev->n, NUMERICOID);
	values[7] = enforce_array(ev->maintenance, NULL, ev->n, NUMERICOID);
	values[8] = ObjectIdGetDatum(att->cause_oid[ev->cause]);
	for (int j = 0; j < (int) lengthof(ev->snap); j++)
		values[9 + j] = enforce_array(ev->snap[j], ev->snap_null[j], ev->n, NUMERICOID);
	values[15] = actor ? CStringGetTextDatum(actor) : (Datum) 0;
	nulls[15] = actor ? ' ' : 'n';
	values[16] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[16] = reason ? ' ' : 'n';

	enforce_become(att->events_owner, &save);
	enforce_execute(att, plan, values, nulls, false, 0);
	enforce_restore(&save);
	Async_Notify(ENFORCE_CHANNEL, att->qpositions);
}

void
enforce_events_write(EnforceAttachment *att, EnforceEvents *ev)
{
	events_write(att, ev, PLAN_EVENTS_MANY, NULL, NULL);
}

/* ---- attachment contract and marks block: audited events and mark events ---- */

/* events naming who changed the statuses and why (an operator's recheck) */
void
enforce_events_write_audited(EnforceAttachment *att, EnforceEvents *ev, const char *actor,
							 const char *reason)
{
	events_write(att, ev, PLAN_EVENTS_AUDITED, actor, reason);
}

char *
enforce_actor(Oid user_id)
{
	char	   *user = GetUserNameFromId(user_id, false);
	char	   *session = GetUserNameFromId(GetSessionUserId(), false);

	if (strcmp(user, session) == 0)
		return user;
	return psprintf("%s (session %s)", user, session);
}

/* n rows of isomargin.mark_events for the symbols' marks held, confirmed or dropped */
void
enforce_mark_events_write(EnforceAttachment *att, int n, Datum *symbol, const char *event,
						  Datum *mark, Datum *current, const char *actor, const char *reason)
{
	Datum		values[7];
	char		nulls[7];
	EnforceUser save;

	if (n == 0)
		return;
	memset(nulls, ' ', sizeof(nulls));
	values[0] = ObjectIdGetDatum(att->positions);
	values[1] = enforce_array(symbol, NULL, n, TEXTOID);
	values[2] = CStringGetTextDatum(event);
	values[3] = enforce_array(mark, NULL, n, NUMERICOID);
	values[4] = enforce_array(current, NULL, n, NUMERICOID);
	values[5] = actor ? CStringGetTextDatum(actor) : (Datum) 0;
	nulls[5] = actor ? ' ' : 'n';
	values[6] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[6] = reason ? ' ' : 'n';
	enforce_become(att->events_owner, &save);
	enforce_execute(att, PLAN_MARK_EVENTS, values, nulls, false, 0);
	enforce_restore(&save);
}

/* ---- end of the attachment contract and marks block ---- */

/* The event key of a position row: jsonb of its primary key, built as the positions owner. */
Datum
enforce_event_key(EnforceAttachment *att, HeapTuple tuple, TupleDesc desc)
{
	Datum	   *values = palloc(sizeof(Datum) * att->npk);
	char	   *nulls = palloc(att->npk);
	bool		isnull;
	Datum		key;

	Assert(GetUserId() == att->owner);
	for (int i = 0; i < att->npk; i++)
	{
		values[i] = heap_getattr(tuple, att->pk_attnums[i], desc, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	enforce_execute(att, PLAN_EVENT_KEY, values, nulls, false, 0);
	key = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return datumCopy(key, false, -1);
}
