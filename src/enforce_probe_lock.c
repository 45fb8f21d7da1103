/*
 * enforce_probe_lock.c
 *	  The candidates the probe found (enforce_probe.c), locked and returned
 *	  as the candidate search would lock and return them
 *	  (doc/enforcement.md, "Partitioned positions tables").
 *
 * The search (PLAN_CANDIDATES_ONE: SELECT ... ORDER BY the primary key FOR
 * NO KEY UPDATE NOWAIT) reads its rows under the latest snapshot, sorts
 * them by the primary key, then locks each in that order, as ExecLockRows
 * does: under READ COMMITTED a row updated since the snapshot is followed
 * to its latest version, which is returned if it still meets the search's
 * condition (EvalPlanQual) and skipped if not, a deleted row is skipped;
 * under REPEATABLE READ and SERIALIZABLE either is a serialization failure.
 * Here the same rows, found by the probe under the same snapshot, are
 * sorted by the same comparison (the default btree order of each key
 * column's type, under its collation), locked with the same mode and
 * flags, and rechecked by the same condition; the rows come back with the
 * search's columns, so the pass goes on as after the search.  Whatever
 * would not be settled the same way here (a row locked by another
 * transaction, which the search's NOWAIT turns into a retry of the
 * attempt, enforce_lock.c; a serialization failure) gives way to the
 * search itself, in the same attempt: it locks again, in the same order,
 * the rows already locked here, and the attempt goes on or starts again
 * as it always did.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "enforce.h"
#include "enforce_probe.h"

/* The columns of a candidate row (enforce_sql.c, PLAN_CANDIDATES_ONE). */
#define CAND_NCOLS 8

static bool
in_range(HeapTuple tuple, TupleDesc desc, AttrNumber att, ProbeRange *range)
{
	bool		isnull;
	Datum		v = heap_getattr(tuple, att, desc, &isnull);

	return !isnull &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, v, range->lo)) >= 0 &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, v, range->hi)) <= 0;
}

/*
 * The search's condition on a row of partition t: its symbol, and by its
 * status the stored price of its next threshold in [lo, hi].
 */
bool
enforce_probe_row_matches(EnforceAttachment *a, ProbeTable *t, TupleDesc desc,
						  HeapTuple tuple, ProbeRange *range)
{
	bool		isnull;
	Datum		v = heap_getattr(tuple, t->sym, desc, &isnull);
	MarginStatus s;

	if (isnull || !DatumGetBool(FunctionCall2Coll(&range->eq, a->sym_collation, v, range->sym)))
		return false;
	v = heap_getattr(tuple, t->status, desc, &isnull);
	if (isnull)
		return false;
	s = enforce_status_of(a, DatumGetObjectId(v));
	/* the partial indexes' predicates (enforce_sql.c) */
	return (s < MARGIN_LIQUIDATE && in_range(tuple, desc, t->price[0], range)) ||
		(s == MARGIN_CALL && in_range(tuple, desc, t->price[1], range)) ||
		(s == MARGIN_LIQUIDATE && in_range(tuple, desc, t->price[2], range));
}

/* What the sort of the candidates by primary key needs. */
typedef struct KeyOrder
{
	int			npk;
	FmgrInfo  **cmp;			/* each key column type's default btree comparison */
	Oid		   *collation;
	Datum	   *values;			/* values[i * npk + j]: key column j of candidate i */
} KeyOrder;

static int
key_cmp(const void *x, const void *y, void *arg)
{
	KeyOrder   *o = arg;
	const Datum *vx = &o->values[*(const int *) x * o->npk];
	const Datum *vy = &o->values[*(const int *) y * o->npk];

	for (int j = 0; j < o->npk; j++)
	{
		int32		c = DatumGetInt32(FunctionCall2Coll(o->cmp[j], o->collation[j], vx[j], vy[j]));

		if (c != 0)
			return c;
	}
	return 0;
}

/* The order of cand[0..n-1] by primary key (ORDER BY the key columns); NULL when it has none. */
static int *
key_order(EnforceAttachment *a, ProbeCandidate *cand, int n)
{
	KeyOrder	o;
	int		   *order = palloc(sizeof(int) * n);
	TupleDesc	desc = RelationGetDescr(cand[0].rel);

	for (int i = 0; i < n; i++)
		order[i] = i;
	if (n == 1)
		return order;
	o.npk = a->npk;
	o.cmp = palloc(sizeof(FmgrInfo *) * a->npk);
	o.collation = palloc(sizeof(Oid) * a->npk);
	o.values = palloc(sizeof(Datum) * a->npk * n);
	for (int j = 0; j < a->npk; j++)
	{
		TypeCacheEntry *tc = lookup_type_cache(a->pk_types[j], TYPECACHE_CMP_PROC_FINFO);

		if (!OidIsValid(tc->cmp_proc_finfo.fn_oid))
			return NULL;
		o.cmp[j] = &tc->cmp_proc_finfo;
		o.collation[j] = TupleDescAttr(desc, cand[0].t->pk[j] - 1)->attcollation;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < a->npk; j++)
		{
			bool		isnull;

			o.values[i * a->npk + j] = heap_getattr(cand[i].tuple, cand[i].t->pk[j],
													RelationGetDescr(cand[i].rel), &isnull);
			if (isnull)
				return NULL;
		}
	qsort_arg(order, n, sizeof(int), key_cmp, &o);
	return order;
}

/*
 * The event key of the rows: jsonb_build_object('a', a, ...) of the
 * primary key, the search's expression (enforce_config.c,
 * resolve_primary_key), called with the argument types it is given there.
 */
typedef struct EventKey
{
	FmgrInfo	flinfo;
	FunctionCallInfo fcinfo;
} EventKey;

static void
event_key_init(EnforceAttachment *a, EventKey *k)
{
	List	   *args = NIL;

	fmgr_info(F_JSONB_BUILD_OBJECT_ANY, &k->flinfo);
	for (int j = 0; j < a->npk; j++)
	{
		args = lappend(args, makeNullConst(TEXTOID, -1, InvalidOid));
		args = lappend(args, makeNullConst(a->pk_types[j], -1, InvalidOid));
	}
	k->flinfo.fn_expr = (Node *) makeFuncExpr(F_JSONB_BUILD_OBJECT_ANY, JSONBOID, args,
											  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	k->fcinfo = palloc0(SizeForFunctionCallInfo(2 * a->npk));
	InitFunctionCallInfoData(*k->fcinfo, &k->flinfo, 2 * a->npk, InvalidOid, NULL, NULL);
	for (int j = 0; j < a->npk; j++)
	{
		k->fcinfo->args[2 * j].value = CStringGetTextDatum(a->pk_names[j]);
		k->fcinfo->args[2 * j].isnull = false;
	}
}

static Datum
event_key(EnforceAttachment *a, EventKey *k, ProbeTable *t, HeapTuple tuple, TupleDesc desc)
{
	Datum		key;

	for (int j = 0; j < a->npk; j++)
		k->fcinfo->args[2 * j + 1].value = heap_getattr(tuple, t->pk[j], desc,
														&k->fcinfo->args[2 * j + 1].isnull);
	k->fcinfo->isnull = false;
	key = FunctionCallInvoke(k->fcinfo);
	if (k->fcinfo->isnull)
		elog(ERROR, "isomargin: a position's event key is null");
	return key;
}

/* The search's row descriptor: ord, ctid, key, size, entry, margin, status, tableoid. */
static TupleDesc
candidate_desc(ProbeTable *t, TupleDesc rel)
{
	TupleDesc	d = CreateTemplateTupleDesc(CAND_NCOLS);

	TupleDescInitBuiltinEntry(d, 1, "ord", INT8OID, -1, 0);
	TupleDescInitEntry(d, 2, "ctid", TIDOID, -1, 0);
	TupleDescInitEntry(d, 3, "key", JSONBOID, -1, 0);
	TupleDescCopyEntry(d, 4, rel, t->size);
	TupleDescCopyEntry(d, 5, rel, t->entry);
	TupleDescCopyEntry(d, 6, rel, t->margin);
	TupleDescCopyEntry(d, 7, rel, t->status);
	TupleDescInitEntry(d, 8, "tableoid", OIDOID, -1, 0);
	return d;
}

/*
 * Lock cand[0..n-1] (found under snap) as the search would and return, in
 * *rows, those it would return; false when the search must run instead.
 */
bool
enforce_probe_lock(EnforceAttachment *a, ProbeCandidate *cand, int n, ProbeRange *range,
				   Snapshot snap, SPITupleTable **rows, uint64 *nrows)
{
	int		   *order = key_order(a, cand, n);
	CommandId	cid;
	uint8		flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS;
	SPITupleTable *out;
	EventKey	key;

	if (order == NULL)
		return false;
	if (!IsolationUsesXactSnapshot())
		flags |= TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
	cid = GetCurrentCommandId(true);
	out = palloc0(sizeof(SPITupleTable));
	out->tupdesc = candidate_desc(cand[0].t, RelationGetDescr(cand[0].rel));
	out->vals = palloc(sizeof(HeapTuple) * n);
	event_key_init(a, &key);
	for (int i = 0; i < n; i++)
	{
		ProbeCandidate *c = &cand[order[i]];
		TupleDesc	desc = RelationGetDescr(c->rel);
		TupleTableSlot *slot = table_slot_create(c->rel, NULL);
		ItemPointerData tid = c->tuple->t_self;
		TM_FailureData tmfd;
		TM_Result	res;
		HeapTuple	tuple;
		bool		shouldfree;
		Datum		values[CAND_NCOLS];
		bool		nulls[CAND_NCOLS];

		res = table_tuple_lock(c->rel, &tid, snap, slot, cid, LockTupleNoKeyExclusive,
							   LockWaitSkip, flags, &tmfd);
		switch (res)
		{
			case TM_Ok:
				break;
			case TM_SelfModified:
				/* changed by this command or a later one: skipped, as by the search */
				ExecDropSingleTupleTableSlot(slot);
				continue;
			case TM_Deleted:
			case TM_Updated:
			case TM_WouldBlock:
				ExecDropSingleTupleTableSlot(slot);
				/* deleted since the snapshot: skipped under READ COMMITTED */
				if (res == TM_Deleted && !IsolationUsesXactSnapshot())
					continue;
				/* locked by another transaction, or a serialization failure: the search's */
				return false;
			case TM_Invisible:
				elog(ERROR, "attempted to lock invisible tuple");
				break;
			default:
				elog(ERROR, "unexpected table_tuple_lock status: %u", res);
				break;
		}
		tuple = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		/* a later version: kept only if it still meets the condition (EvalPlanQual) */
		if (tmfd.traversed && !enforce_probe_row_matches(a, c->t, desc, tuple, range))
		{
			ExecDropSingleTupleTableSlot(slot);
			continue;
		}
		values[0] = Int64GetDatum(1);
		values[1] = PointerGetDatum(&tuple->t_self);
		values[2] = event_key(a, &key, c->t, tuple, desc);
		values[3] = heap_getattr(tuple, c->t->size, desc, &nulls[3]);
		values[4] = heap_getattr(tuple, c->t->entry, desc, &nulls[4]);
		values[5] = heap_getattr(tuple, c->t->margin, desc, &nulls[5]);
		values[6] = heap_getattr(tuple, c->t->status, desc, &nulls[6]);
		values[7] = ObjectIdGetDatum(RelationGetRelid(c->rel));
		nulls[0] = nulls[1] = nulls[2] = nulls[7] = false;
		out->vals[out->numvals++] = heap_form_tuple(out->tupdesc, values, nulls);
		ExecDropSingleTupleTableSlot(slot);
	}
	out->alloced = n;
	*rows = out;
	*nrows = out->numvals;
	return true;
}
