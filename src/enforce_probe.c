/*
 * enforce_probe.c
 *	  A mark's candidates on a partitioned positions table, asked of the
 *	  partial indexes directly (doc/enforcement.md, "Partitioned positions
 *	  tables").
 *
 * Under PARTITION BY HASH (id) the candidate search of one instrument runs
 * on the partitioned table: its generic plan starts a scan of each
 * partition's three partial indexes, with their quals, bitmaps, row marks
 * and the sort in primary-key order, and in PostgreSQL 15 that start costs
 * more than the searches themselves.  So each partition's three partial
 * indexes are asked directly for the entries of the symbol between lo and
 * hi whose rows the latest snapshot sees: the rows the search would read,
 * under the snapshot it would read them with (enforce_spi.c).  None: the
 * search would have returned no row, locked none, and written nothing.  Up
 * to PROBE_MAX_ROWS: they are locked in primary-key order and rechecked as
 * the search would (enforce_probe_lock.c), and the search does not run.
 * More, or anything the probe cannot vouch for: the search runs, as before.
 *
 * The probe takes the locks the search would (the partitioned table and
 * its partitions RowShareLock, the indexes AccessShareLock) and answers
 * "search" whenever it cannot vouch for the answer: a partition that is not
 * a plain leaf table, one being detached, one without the three indexes as
 * enforce() made them (found by their definition, not their name: key
 * (symbol, price) with the symbol's default btree family and collation and
 * the numeric one, the status predicate), or rights the owner lacks.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "enforce.h"
#include "enforce_probe.h"

static const EnforceColumnId probe_price[PROBE_NINDEX] = {COL_POS_MCP, COL_POS_LP, COL_POS_BP};

/* rel's attnum n is column name */
static bool
attnum_by_name(Relation rel, AttrNumber n, const char *name)
{
	Form_pg_attribute att;

	if (n <= 0 || n > RelationGetDescr(rel)->natts)
		return false;
	att = TupleDescAttr(RelationGetDescr(rel), n - 1);
	return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0;
}

/* rel's attnum n holds column id */
static bool
attnum_ok(EnforceAttachment *a, Relation rel, AttrNumber n, EnforceColumnId id)
{
	return attnum_by_name(rel, n, a->c.cols[id].name);
}

/* The attnums and families of t, found again when a column moved; false when one is missing. */
static bool
resolve(EnforceAttachment *a, Relation rel, ProbeTable *t)
{
	Oid			rid = RelationGetRelid(rel);
	Oid			symclass,
				numclass,
				eq;
	ListCell   *lc;

	bool		pk_ok = true;

	if (t->resolved)
		for (int i = 0; i < a->npk && pk_ok; i++)
			pk_ok = attnum_by_name(rel, t->pk[i], a->pk_names[i]);
	if (t->resolved && pk_ok && attnum_ok(a, rel, t->sym, COL_POS_SYMBOL) &&
		attnum_ok(a, rel, t->status, COL_POS_STATUS) &&
		attnum_ok(a, rel, t->price[0], probe_price[0]) &&
		attnum_ok(a, rel, t->price[1], probe_price[1]) &&
		attnum_ok(a, rel, t->price[2], probe_price[2]) &&
		attnum_ok(a, rel, t->size, COL_POS_SIZE) &&
		attnum_ok(a, rel, t->entry, COL_POS_ENTRY) &&
		attnum_ok(a, rel, t->margin, COL_POS_MARGIN))
		return true;
	t->resolved = false;
	for (int k = 0; k < PROBE_NINDEX; k++)
		t->index[k] = InvalidOid;
	t->sym = get_attnum(rid, a->c.cols[COL_POS_SYMBOL].name);
	t->status = get_attnum(rid, a->c.cols[COL_POS_STATUS].name);
	for (int k = 0; k < PROBE_NINDEX; k++)
		t->price[k] = get_attnum(rid, a->c.cols[probe_price[k]].name);
	t->size = get_attnum(rid, a->c.cols[COL_POS_SIZE].name);
	t->entry = get_attnum(rid, a->c.cols[COL_POS_ENTRY].name);
	t->margin = get_attnum(rid, a->c.cols[COL_POS_MARGIN].name);
	if (t->pk == NULL)
		t->pk = MemoryContextAllocZero(a->cxt, sizeof(AttrNumber) * Max(a->npk, 1));
	for (int i = 0; i < a->npk; i++)
	{
		t->pk[i] = get_attnum(rid, a->pk_names[i]);
		if (t->pk[i] <= 0)
			return false;
	}
	foreach(lc, a->probe_tables)
	{
		ProbeTable *o = lfirst(lc);

		/* the families are the attachment's: found once */
		if (o != t && o->resolved)
		{
			t->symfamily = o->symfamily;
			t->numfamily = o->numfamily;
			t->eqproc = o->eqproc;
			goto found;
		}
	}
	symclass = GetDefaultOpClass(a->sym_type, BTREE_AM_OID);
	numclass = GetDefaultOpClass(NUMERICOID, BTREE_AM_OID);
	if (!OidIsValid(symclass) || !OidIsValid(numclass))
		return false;
	t->symfamily = get_opclass_family(symclass);
	t->numfamily = get_opclass_family(numclass);
	eq = get_opfamily_member(t->symfamily, get_opclass_input_type(symclass),
							 get_opclass_input_type(symclass), BTEqualStrategyNumber);
	if (!OidIsValid(eq))
		return false;
	t->eqproc = get_opcode(eq);
found:
	t->resolved = t->sym > 0 && t->status > 0 && t->price[0] > 0 && t->price[1] > 0 &&
		t->price[2] > 0 && t->size > 0 && t->entry > 0 && t->margin > 0;
	return t->resolved;
}

/*
 * Which of the three indexes idx (on rel) is, or -1: btree (symbol, price)
 * with the families and collation the search's operators use, no
 * expressions, valid, and the predicate enforce() gives it.
 */
static int
index_kind(EnforceAttachment *a, Relation rel, ProbeTable *t, Relation idx)
{
	Form_pg_index ix = idx->rd_index;
	List	   *pred;
	OpExpr	   *op;
	Var		   *v;
	Const	   *c;
	Oid			fn;

	if (idx->rd_rel->relkind != RELKIND_INDEX || idx->rd_rel->relam != BTREE_AM_OID ||
		ix->indrelid != RelationGetRelid(rel) || ix->indnatts != 2 || ix->indnkeyatts != 2 ||
		!ix->indisvalid || !ix->indisready || !ix->indislive || ix->indkey.values[0] != t->sym ||
		RelationGetIndexExpressions(idx) != NIL ||
		idx->rd_opfamily[0] != t->symfamily || idx->rd_opfamily[1] != t->numfamily ||
		idx->rd_indcollation[0] != a->sym_collation)
		return -1;
	pred = RelationGetIndexPredicate(idx);
	if (list_length(pred) != 1 || !IsA(linitial(pred), OpExpr))
		return -1;
	op = linitial(pred);
	if (list_length(op->args) != 2 || !IsA(linitial(op->args), Var) ||
		!IsA(lsecond(op->args), Const))
		return -1;
	v = linitial(op->args);
	c = lsecond(op->args);
	fn = get_opcode(op->opno);
	if (v->varattno != t->status || c->constisnull || c->consttype != a->status_type)
		return -1;
	for (int k = 0; k < PROBE_NINDEX; k++)
	{
		/* mcp: status < 'liquidate'; lp: = 'margin_call'; bp: = 'liquidate' */
		Oid			want_fn = k == 0 ? F_ENUM_LT : F_ENUM_EQ;
		Oid			want_label = a->status_oid[k == 1 ? MARGIN_CALL : MARGIN_LIQUIDATE];

		if (ix->indkey.values[1] == t->price[k] && fn == want_fn &&
			DatumGetObjectId(c->constvalue) == want_label)
			return k;
	}
	return -1;
}

/* The three indexes of rel from its index list; false when one is missing. */
static bool
find_indexes(EnforceAttachment *a, Relation rel, ProbeTable *t)
{
	List	   *list = RelationGetIndexList(rel);
	ListCell   *lc;
	int			found = 0;

	for (int k = 0; k < PROBE_NINDEX; k++)
		t->index[k] = InvalidOid;
	foreach(lc, list)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		int			k = index_kind(a, rel, t, idx);

		if (k >= 0 && !OidIsValid(t->index[k]))
		{
			t->index[k] = lfirst_oid(lc);
			t->index_xmin[k] = HeapTupleHeaderGetRawXmin(idx->rd_indextuple->t_data);
			found++;
		}
		index_close(idx, NoLock);
	}
	list_free(list);
	return found == PROBE_NINDEX;
}

/* The cached entry of rel, made when missing. */
static ProbeTable *
probe_table(EnforceAttachment *a, Oid rel)
{
	ListCell   *lc;
	ProbeTable *t;
	MemoryContext old;

	foreach(lc, a->probe_tables)
	{
		t = lfirst(lc);
		if (t->rel == rel)
			return t;
	}
	old = MemoryContextSwitchTo(a->cxt);
	t = palloc0(sizeof(ProbeTable));
	t->rel = rel;
	a->probe_tables = lappend(a->probe_tables, t);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * Open index k of t, checking that it still is what was found: the same
 * version of its pg_index row (an index may be dropped and its OID used
 * again, or be marked invalid), else the whole definition; NULL when it is
 * not.
 */
static Relation
open_index(EnforceAttachment *a, Relation rel, ProbeTable *t, int k)
{
	Relation	idx;

	if (!OidIsValid(t->index[k]))
		return NULL;
	idx = try_relation_open(t->index[k], AccessShareLock);
	if (idx == NULL)
		return NULL;
	if (idx->rd_rel->relkind == RELKIND_INDEX && idx->rd_index->indrelid == t->rel &&
		HeapTupleHeaderGetRawXmin(idx->rd_indextuple->t_data) == t->index_xmin[k])
		return idx;
	if (index_kind(a, rel, t, idx) != k)
	{
		relation_close(idx, NoLock);
		return NULL;
	}
	t->index_xmin[k] = HeapTupleHeaderGetRawXmin(idx->rd_indextuple->t_data);
	return idx;
}

/*
 * Add the rows of index k of table rel in keys that snap sees (and the
 * search's condition holds for) to cand, each once; -1 when rel lacks one of
 * the three indexes or a row would be one more than PROBE_MAX_ROWS.
 */
static int
probe_index(EnforceAttachment *a, Relation rel, ProbeTable *t, int k, ScanKey keys,
			Snapshot snap, TupleTableSlot *slot, ProbeRange *range, ProbeCandidate *cand,
			int *ncand)
{
	Relation	idx = open_index(a, rel, t, k);
	IndexScanDesc scan;
	int			result = 0;

	if (idx == NULL)
	{
		if (!find_indexes(a, rel, t) || (idx = open_index(a, rel, t, k)) == NULL)
			return -1;
	}
	scan = index_beginscan(rel, idx, snap, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		seen = false;
		bool		shouldfree;
		HeapTuple	tuple;

		/* a margin call's row is in two of the indexes */
		for (int i = *ncand - 1; i >= 0 && cand[i].rel == rel && !seen; i--)
			seen = ItemPointerEquals(&cand[i].tuple->t_self, &slot->tts_tid);
		if (seen)
			continue;
		tuple = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		if (!enforce_probe_row_matches(a, t, RelationGetDescr(rel), tuple, range))
			continue;
		if (*ncand == PROBE_MAX_ROWS)
		{
			result = -1;
			break;
		}
		cand[*ncand].rel = rel;
		cand[*ncand].t = t;
		cand[*ncand].tuple = shouldfree ? tuple : ExecCopySlotHeapTuple(slot);
		(*ncand)++;
	}
	index_endscan(scan);
	index_close(idx, NoLock);
	return result;
}

/*
 * The candidates of rel (a leaf partition, opened), added to cand; false
 * when the probe cannot vouch for them.
 */
static bool
table_candidates(EnforceAttachment *a, Relation rel, ScanKey keys, Snapshot snap,
				 ProbeRange *range, ProbeCandidate *cand, int *ncand)
{
	ProbeTable *t = probe_table(a, RelationGetRelid(rel));
	TupleTableSlot *slot;
	bool		ok = true;

	if (rel->rd_rel->relkind != RELKIND_RELATION || !resolve(a, rel, t))
		return false;
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   a->sym_collation, t->eqproc, keys[0].sk_argument);
	if (range->eq.fn_oid != t->eqproc)
		fmgr_info(t->eqproc, &range->eq);
	slot = table_slot_create(rel, NULL);
	for (int k = 0; k < PROBE_NINDEX && ok; k++)
		ok = probe_index(a, rel, t, k, keys, snap, slot, range, cand, ncand) >= 0;
	ExecDropSingleTupleTableSlot(slot);
	return ok;
}

/*
 * The candidates of the search of symbol sym between lo and hi
 * (PLAN_CANDIDATES_ONE on the partitioned table): PROBE_NONE when no
 * partition's partial indexes hold an entry of the symbol in range whose row
 * the search would see; PROBE_ROWS when the probe found them and locked them
 * as the search would, *rows holding them as the search returns them
 * (enforce_probe_lock.c); PROBE_SEARCH when the search must run.  The
 * caller holds the instrument's state row.  Not asked (PROBE_SEARCH) after a
 * search that found more than PROBE_MAX_ROWS, until one finds fewer
 * (enforce_candidates_searched): while a crash crosses that many on every
 * tick the probe would only add its cost to the search's.
 */
EnforceProbeResult
enforce_candidates_probe(EnforceAttachment *a, Datum sym, Datum lo, Datum hi,
						 SPITupleTable **rows, uint64 *nrows)
{
	ScanKeyData keys[3];
	Relation	parent;
	PartitionDesc desc;
	Snapshot	snap;
	Oid		   *parts;
	Relation   *rels;
	ProbeCandidate *cand;
	ProbeRange	range;
	int			nparts;
	int			nopen = 0;
	int			ncand = 0;
	bool		ok = true;
	EnforceProbeResult result = PROBE_NONE;

	*rows = NULL;
	*nrows = 0;
	if (!a->partitioned || a->probe_rests ||
		pg_class_aclcheck(a->positions, GetUserId(), ACL_SELECT | ACL_UPDATE) != ACLCHECK_OK)
		return PROBE_SEARCH;
	parent = relation_open(a->positions, RowShareLock);
	desc = RelationGetPartitionDesc(parent, false);
	nparts = desc->nparts;
	for (int i = 0; i < nparts; i++)
		if (!desc->is_leaf[i])
			ok = false;
	if (!ok || desc->detached_exist)
	{
		relation_close(parent, NoLock);
		return PROBE_SEARCH;
	}
	parts = palloc(sizeof(Oid) * Max(nparts, 1));
	memcpy(parts, desc->oids, sizeof(Oid) * nparts);
	rels = palloc(sizeof(Relation) * Max(nparts, 1));
	cand = palloc(sizeof(ProbeCandidate) * PROBE_MAX_ROWS);
	/* the key on the symbol is completed per partition (its equality function) */
	memset(keys, 0, sizeof(keys));
	keys[0].sk_argument = sym;
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_NUMERIC_GE, lo);
	ScanKeyEntryInitialize(&keys[2], 0, 2, BTLessEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_NUMERIC_LE, hi);
	range.sym = sym;
	range.lo = lo;
	range.hi = hi;
	range.eq.fn_oid = InvalidOid;
	/* the rows the search would see (enforce_spi.c, run_plan) */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	for (int i = 0; i < nparts && ok; i++)
	{
		rels[nopen++] = table_open(parts[i], RowShareLock);
		ok = table_candidates(a, rels[i], keys, snap, &range, cand, &ncand);
	}
	if (!ok)
		result = PROBE_SEARCH;
	else if (ncand > 0)
		result = enforce_probe_lock(a, cand, ncand, &range, snap, rows, nrows) ?
			PROBE_ROWS : PROBE_SEARCH;
	for (int i = 0; i < nopen; i++)
		table_close(rels[i], NoLock);
	UnregisterSnapshot(snap);
	relation_close(parent, NoLock);
	return result;
}

/* How many rows the candidate search found: whether the next one is probed first. */
void
enforce_candidates_searched(EnforceAttachment *a, uint64 found)
{
	a->probe_rests = found > PROBE_MAX_ROWS;
}
