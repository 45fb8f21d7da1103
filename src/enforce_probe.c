/*
 * enforce_probe.c
 *	  Whether a mark's candidate search could find anything, asked of the
 *	  partial indexes directly (doc/enforcement.md, "Partitioned positions
 *	  tables").
 *
 * Under PARTITION BY HASH (id) the candidate search of one instrument runs
 * on the partitioned table: its generic plan starts a scan of each
 * partition's three partial indexes, with their quals, bitmaps, row marks
 * and the sort in primary-key order, and in PostgreSQL 15 that start costs
 * more than the searches themselves.  A mark update that crosses nothing
 * paid it for every partition.  So before the search, each partition's
 * three partial indexes are asked for one entry of the symbol between lo
 * and hi whose row the latest snapshot sees: the rows the search would
 * read, under the snapshot it would read them with (enforce_spi.c).  Only
 * when one exists does the search run, as before, locking the candidates
 * in primary-key order; when none does, the search would have returned no
 * row, locked none, and written nothing.
 *
 * The probe takes the locks the search would (the partitioned table and
 * its partitions RowShareLock, the indexes AccessShareLock), takes no row
 * lock, and answers "maybe" (run the search) whenever it cannot vouch for
 * the answer: a partition that is not a plain leaf table, one being
 * detached, one without the three indexes as enforce() made them (found by
 * their definition, not their name: key (symbol, price) with the symbol's
 * default btree family and collation and the numeric one, the status
 * predicate), or rights the owner lacks.
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

/* The three partial indexes of the candidate search (enforce_sql.c), in this order. */
#define PROBE_NINDEX 3

static const EnforceColumnId probe_price[PROBE_NINDEX] = {COL_POS_MCP, COL_POS_LP, COL_POS_BP};

/* One table's three indexes, as last found, and what they must be. */
typedef struct ProbeTable
{
	Oid			rel;
	Oid			index[PROBE_NINDEX];
	TransactionId index_xmin[PROBE_NINDEX];	/* of its pg_index row, as checked */
	bool		resolved;		/* the fields below are filled */
	AttrNumber	sym;			/* attnums in rel */
	AttrNumber	status;
	AttrNumber	price[PROBE_NINDEX];
	Oid			symfamily;		/* the symbol type's default btree family */
	Oid			numfamily;
	Oid			eqproc;			/* its equality, for the scan key */
} ProbeTable;

/* rel's attnum n holds column id (by name) */
static bool
attnum_ok(EnforceAttachment *a, Relation rel, AttrNumber n, EnforceColumnId id)
{
	Form_pg_attribute att;

	if (n <= 0 || n > RelationGetDescr(rel)->natts)
		return false;
	att = TupleDescAttr(RelationGetDescr(rel), n - 1);
	return !att->attisdropped && strcmp(NameStr(att->attname), a->c.cols[id].name) == 0;
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

	if (t->resolved && attnum_ok(a, rel, t->sym, COL_POS_SYMBOL) &&
		attnum_ok(a, rel, t->status, COL_POS_STATUS) &&
		attnum_ok(a, rel, t->price[0], probe_price[0]) &&
		attnum_ok(a, rel, t->price[1], probe_price[1]) &&
		attnum_ok(a, rel, t->price[2], probe_price[2]))
		return true;
	t->resolved = false;
	for (int k = 0; k < PROBE_NINDEX; k++)
		t->index[k] = InvalidOid;
	t->sym = get_attnum(rid, a->c.cols[COL_POS_SYMBOL].name);
	t->status = get_attnum(rid, a->c.cols[COL_POS_STATUS].name);
	for (int k = 0; k < PROBE_NINDEX; k++)
		t->price[k] = get_attnum(rid, a->c.cols[probe_price[k]].name);
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
		t->price[2] > 0;
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
 * Whether index k of table rel holds an entry in keys whose row snap sees;
 * -1 when rel lacks one of the three indexes.
 */
static int
probe_index(EnforceAttachment *a, Relation rel, ProbeTable *t, int k, ScanKey keys,
			Snapshot snap, TupleTableSlot *slot)
{
	Relation	idx = open_index(a, rel, t, k);
	IndexScanDesc scan;
	bool		found;

	if (idx == NULL)
	{
		if (!find_indexes(a, rel, t) || (idx = open_index(a, rel, t, k)) == NULL)
			return -1;
	}
	scan = index_beginscan(rel, idx, snap, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	index_close(idx, NoLock);
	return found ? 1 : 0;
}

/* Whether table relid (a leaf partition) may hold a candidate: true unless its indexes say none. */
static bool
table_may_hold(EnforceAttachment *a, Oid relid, ScanKey keys, Snapshot snap)
{
	Relation	rel = table_open(relid, RowShareLock);
	ProbeTable *t = probe_table(a, relid);
	TupleTableSlot *slot;
	bool		maybe = false;

	if (rel->rd_rel->relkind != RELKIND_RELATION || !resolve(a, rel, t))
	{
		table_close(rel, NoLock);
		return true;
	}
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   a->sym_collation, t->eqproc, keys[0].sk_argument);
	slot = table_slot_create(rel, NULL);
	for (int k = 0; k < PROBE_NINDEX && !maybe; k++)
		maybe = probe_index(a, rel, t, k, keys, snap, slot) != 0;
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return maybe;
}

/*
 * Whether the candidate search of symbol sym between lo and hi
 * (PLAN_CANDIDATES_ONE on the partitioned table) may return a row: false
 * only when no partition's partial indexes hold an entry of the symbol in
 * range whose row the search would see.  The caller holds the instrument's
 * state row.  Not asked (true) after a search that found rows, until one
 * finds none (enforce_candidates_found): while a mark keeps crossing
 * positions, as in a crash, the probe would find entries every time and only
 * add its cost to the search's.
 */
bool
enforce_candidates_may_exist(EnforceAttachment *a, Datum sym, Datum lo, Datum hi)
{
	ScanKeyData keys[3];
	Relation	parent;
	PartitionDesc desc;
	Snapshot	snap;
	Oid		   *parts;
	int			nparts;
	bool		maybe = false;

	if (!a->partitioned || a->probe_rests ||
		pg_class_aclcheck(a->positions, GetUserId(), ACL_SELECT | ACL_UPDATE) != ACLCHECK_OK)
		return true;
	parent = relation_open(a->positions, RowShareLock);
	desc = RelationGetPartitionDesc(parent, false);
	nparts = desc->nparts;
	for (int i = 0; i < nparts; i++)
		if (!desc->is_leaf[i])
			maybe = true;
	if (maybe || desc->detached_exist)
	{
		relation_close(parent, NoLock);
		return true;
	}
	parts = palloc(sizeof(Oid) * Max(nparts, 1));
	memcpy(parts, desc->oids, sizeof(Oid) * nparts);
	/* the key on the symbol is completed per partition (its equality function) */
	memset(keys, 0, sizeof(keys));
	keys[0].sk_argument = sym;
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_NUMERIC_GE, lo);
	ScanKeyEntryInitialize(&keys[2], 0, 2, BTLessEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_NUMERIC_LE, hi);
	/* the rows the search would see (enforce_spi.c, run_plan) */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	for (int i = 0; i < nparts && !maybe; i++)
		maybe = table_may_hold(a, parts[i], keys, snap);
	UnregisterSnapshot(snap);
	relation_close(parent, NoLock);
	return maybe;
}

/* What the candidate search found: whether the next one is probed first. */
void
enforce_candidates_found(EnforceAttachment *a, bool found)
{
	a->probe_rests = found;
}
