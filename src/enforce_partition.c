/*
 * enforce_partition.c
 *	  A partitioned positions table (doc/enforcement.md, "Partitioned
 *	  positions tables").
 *
 * PostgreSQL clones a partitioned table's row triggers to every partition,
 * present and future, so the positions trigger fires on a partition, with
 * the partition's tuple descriptor: a partition may hold the same columns at
 * other attnums (one created before its parent dropped a column, or
 * attached with another column order).  The trigger's attachment, cached
 * per trigger and so per partition, maps the columns by name.
 *
 * A tid names a row only within one partition, so the passes over positions
 * address a row of a partitioned table by (tableoid, ctid): the statements
 * of enforce_sql.c read p.tableoid as their last column, and the writes
 * back go to each row's partition by its tid (enforce_rows_write,
 * enforce_partition_route.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "enforce.h"

bool
enforce_is_partition_of(Oid rel, Oid ancestor)
{
	List	   *ancestors;
	bool		found;

	if (!get_rel_relispartition(rel))
		return false;
	ancestors = get_partition_ancestors(rel);
	found = list_member_oid(ancestors, ancestor);
	list_free(ancestors);
	return found;
}

/* The role's columns and the primary key, at their attnums in a->relation. */
void
enforce_partition_attnums(EnforceAttachment *a)
{
	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		EnforceColumn *c = &a->c.cols[i];

		if (contract_table(i) != a->role || c->name == NULL || c->attnum == 0)
			continue;
		c->attnum = get_attnum(a->relation, c->name);
		if (c->attnum == InvalidAttrNumber)
			elog(ERROR, "partition %u has no column \"%s\"", a->relation, c->name);
	}
	if (a->role != ENFORCE_POSITIONS)
		return;
	for (int i = 0; i < a->npk; i++)
	{
		a->pk_attnums[i] = get_attnum(a->relation, a->pk_names[i]);
		if (a->pk_attnums[i] == InvalidAttrNumber)
			elog(ERROR, "partition %u has no column \"%s\"", a->relation, a->pk_names[i]);
	}
}

/* The column of a pass row holding its partition (enforce_sql.c, position_columns). */
#define PASS_ROW_RELATION 8

void
enforce_rows_init(EnforceRows *rows, int cap)
{
	rows->n = 0;
	rows->tid = palloc(sizeof(Datum) * Max(cap, 1));
	rows->rel = palloc(sizeof(Datum) * Max(cap, 1));
}

/* Add the row of a pass's result (its tid in column 2). */
void
enforce_rows_add(EnforceRows *rows, EnforceAttachment *a, HeapTuple t, TupleDesc d)
{
	bool		isnull;

	rows->tid[rows->n] = SPI_getbinval(t, d, 2, &isnull);
	rows->rel[rows->n] = a->partitioned ? SPI_getbinval(t, d, PASS_ROW_RELATION, &isnull) : (Datum) 0;
	rows->n++;
}

/*
 * The rows idx[0..n-1] (all of them when idx is NULL): statement id's
 * arguments (the tids, then each column), then run it.
 */
static void
rows_run(EnforceRows *rows, EnforceAttachment *a, EnforcePlanId id, Oid partition,
		 const int *idx, int n, int ncols, Datum **values, bool **nulls, const Oid *types)
{
	Datum		args[8];
	Datum	   *v;
	bool	   *vn;

	Assert(ncols + 1 < (int) lengthof(args));
	if (idx == NULL)
	{
		args[0] = enforce_array(rows->tid, NULL, n, TIDOID);
		for (int j = 0; j < ncols; j++)
			args[j + 1] = enforce_array(values[j], nulls[j], n, types[j]);
		enforce_execute(a, id, args, NULL, true, 0);
		return;
	}
	v = palloc(sizeof(Datum) * n);
	vn = palloc(sizeof(bool) * n);
	for (int k = 0; k < n; k++)
		v[k] = rows->tid[idx[k]];
	args[0] = enforce_array(v, NULL, n, TIDOID);
	for (int j = 0; j < ncols; j++)
	{
		for (int k = 0; k < n; k++)
		{
			v[k] = values[j][idx[k]];
			vn[k] = nulls[j] ? nulls[j][idx[k]] : false;
		}
		args[j + 1] = enforce_array(v, vn, n, types[j]);
	}
	if (a->partitioned && !OidIsValid(partition))
	{
		/* through the partitioned table: each row's partition too */
		for (int k = 0; k < n; k++)
			v[k] = rows->rel[idx[k]];
		args[ncols + 1] = enforce_array(v, NULL, n, OIDOID);
	}
	enforce_execute_on(a, id, partition, args, NULL, true, 0);
}

static int
rows_cmp(const void *x, const void *y, void *arg)
{
	const Datum *rel = arg;
	Oid			rx = DatumGetObjectId(rel[*(const int *) x]);
	Oid			ry = DatumGetObjectId(rel[*(const int *) y]);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return *(const int *) x - *(const int *) y;
}

/*
 * Write the rows with statement id (PLAN_SET_STATUS, PLAN_SET_FIGURES):
 * values[j][i] (nulls[j][i], or none when nulls[j] is NULL) is column j of
 * row i, of type types[j].  On a partitioned table the rows go to each
 * partition they were read from, one statement per partition in OID order
 * (enforce_partition_route.c): every row is already locked by the pass that
 * read it, so the order decides no wait.  Unless a partition has another
 * owner than the partitioned table (the triggers run as the latter, with
 * its rights, which a statement on the partitioned table checks on it
 * alone): then one statement on the partitioned table writes them all.
 */
void
enforce_rows_write(EnforceRows *rows, EnforceAttachment *a, EnforcePlanId id,
				   int ncols, Datum **values, bool **nulls, const Oid *types)
{
	int		   *idx;
	int			start = 0;
	bool		direct = true;

	if (!a->partitioned)
	{
		rows_run(rows, a, id, InvalidOid, NULL, rows->n, ncols, values, nulls, types);
		return;
	}
	idx = palloc(sizeof(int) * Max(rows->n, 1));
	for (int i = 0; i < rows->n; i++)
		idx[i] = i;
	qsort_arg(idx, rows->n, sizeof(int), rows_cmp, rows->rel);
	for (int i = 0; i < rows->n && direct; i++)
		if (i == 0 || rows->rel[idx[i]] != rows->rel[idx[i - 1]])
			direct = enforce_partition_direct(a, DatumGetObjectId(rows->rel[idx[i]]));
	if (!direct)
	{
		rows_run(rows, a, id, InvalidOid, idx, rows->n, ncols, values, nulls, types);
		return;
	}
	for (int i = 1; i <= rows->n; i++)
	{
		if (i < rows->n && rows->rel[idx[i]] == rows->rel[idx[start]])
			continue;
		rows_run(rows, a, id, DatumGetObjectId(rows->rel[idx[start]]), idx + start, i - start,
				 ncols, values, nulls, types);
		start = i;
	}
}

/*
 * A table attached as a partition (ALTER TABLE ... ATTACH PARTITION, the
 * ddl_command_end event trigger): when the partitioned table it joins is
 * enforced, or a partition of one, its rows came in without the triggers
 * (an attach fires none).  They are computed at once as enforce() computes
 * a table, by an UPDATE of each size to itself that fires the cloned
 * positions trigger, run as the partition's owner in a security-restricted
 * operation (the caller owns it: ATTACH requires that).  A table that is
 * enforced itself, or holds an enforced partition, cannot join an enforced
 * table: its rows would have two attachments.
 */
static void
partition_attached(Oid part, const char *qnsp, Oid config, bool compute)
{
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(part);
	char	   *sql;
	char	   *parent = NULL;
	char	   *inner = NULL;
	char	   *size = NULL;
	EnforceUser save;

	sql = psprintf("SELECT (SELECT e.positions::pg_catalog.text FROM %1$s.enforcement e "
				   "         WHERE e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
				   "               SELECT a.relid::pg_catalog.oid FROM pg_catalog.pg_partition_ancestors($1::pg_catalog.regclass) a"
				   "                WHERE a.relid::pg_catalog.oid OPERATOR(pg_catalog.<>) $1))), "
				   "       (SELECT e.columns OPERATOR(pg_catalog.#>>) '{positions,size}' FROM %1$s.enforcement e "
				   "         WHERE e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
				   "               SELECT a.relid::pg_catalog.oid FROM pg_catalog.pg_partition_ancestors($1::pg_catalog.regclass) a"
				   "                WHERE a.relid::pg_catalog.oid OPERATOR(pg_catalog.<>) $1))), "
				   "       (SELECT e.positions::pg_catalog.text FROM %1$s.enforcement e "
				   "         WHERE e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
				   "               SELECT t.relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass) t)) "
				   "         ORDER BY 1 LIMIT 1)",
				   qnsp);
	enforce_become(enforce_rel_owner(config), &save);
	if (SPI_execute_with_args(sql, 1, &argtype, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin.enforcement failed");
	enforce_restore(&save);
	parent = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	size = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	inner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (parent == NULL)
		return;
	if (inner != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot attach a partition to enforced table %s: table %s is enforced",
						parent, inner),
				 errdetail("Enforcement of a partitioned table covers its partitions; a table enforced on its own cannot be one of them."),
				 errhint("Detach enforcement from it first: SELECT isomargin.unenforce(%s);",
						 quote_literal_cstr(inner))));
	if (!compute)
		return;
	sql = psprintf("UPDATE %s SET %s = %s",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
											  get_rel_name(part)),
				   quote_identifier(size), quote_identifier(size));
	enforce_become(enforce_rel_owner(part), &save);
	if (SPI_execute(sql, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "computing the positions of partition %u failed", part);
	enforce_restore(&save);
}

/*
 * The partitions an ALTER TABLE attached: each is checked, and with compute
 * computed (partition_attached).
 */
void
enforce_partitions_attached(Node *parsetree, const char *qnsp, Oid config, bool compute)
{
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return;
	foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		Oid			part;

		if (cmd->subtype != AT_AttachPartition)
			continue;
		part = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
		if (OidIsValid(part))
			partition_attached(part, qnsp, config, compute);
	}
}

/*
 * An UPDATE that moves a row to another partition (a change of the
 * partition key: a symbol under LIST (symbol)) fires the BEFORE UPDATE
 * trigger on the old partition, then deletes the row there and inserts it
 * into the new one, firing BEFORE INSERT there.  The update half prices the
 * row and records its status change, as on an ordinary table; the insert
 * half must then see the row it got as an unchanged one, not as a new
 * position (which would record a second event, old status NULL).  The
 * update half notes the key of the row it returns when the key changed
 * (the partition key is part of the primary key); an insert of that key in
 * the same command is its other half.  A primary key holds one row, so no
 * other insert of the same command can carry that key.
 */
static MemoryContext moving_cxt = NULL;
static int32 moving_id = 0;
static LocalTransactionId moving_lxid = InvalidLocalTransactionId;
static CommandId moving_cid = InvalidCommandId;
static Datum *moving_key = NULL;
static bool *moving_null = NULL;

static bool
key_equal(EnforceAttachment *a, HeapTuple x, TupleDesc dx, const Datum *yv, const bool *yn,
		  HeapTuple y, TupleDesc dy)
{
	for (int i = 0; i < a->npk; i++)
	{
		Form_pg_attribute f = TupleDescAttr(dx, a->pk_attnums[i] - 1);
		bool		xn,
					n;
		Datum		xv = heap_getattr(x, a->pk_attnums[i], dx, &xn);
		Datum		v = y ? heap_getattr(y, a->pk_attnums[i], dy, &n) : yv[i];

		if (y == NULL)
			n = yn[i];
		if (xn != n || (!xn && !datumIsEqual(xv, v, f->attbyval, f->attlen)))
			return false;
	}
	return true;
}

void
enforce_move_note(EnforceAttachment *a, HeapTuple oldt, HeapTuple newt, TupleDesc d)
{
	if (key_equal(a, newt, d, NULL, NULL, oldt, d))
		return;
	if (moving_cxt == NULL)
		moving_cxt = AllocSetContextCreate(TopMemoryContext, "isomargin partition move",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(moving_cxt);
	moving_key = MemoryContextAlloc(moving_cxt, sizeof(Datum) * a->npk);
	moving_null = MemoryContextAlloc(moving_cxt, sizeof(bool) * a->npk);
	for (int i = 0; i < a->npk; i++)
	{
		Form_pg_attribute f = TupleDescAttr(d, a->pk_attnums[i] - 1);
		Datum		v = heap_getattr(newt, a->pk_attnums[i], d, &moving_null[i]);
		MemoryContext old = MemoryContextSwitchTo(moving_cxt);

		moving_key[i] = moving_null[i] ? (Datum) 0 : datumCopy(v, f->attbyval, f->attlen);
		MemoryContextSwitchTo(old);
	}
	moving_id = a->id;
	moving_lxid = MyProc->lxid;
	moving_cid = GetCurrentCommandId(false);
}

bool
enforce_move_arrived(EnforceAttachment *a, HeapTuple newt, TupleDesc d)
{
	bool		arrived;

	if (moving_key == NULL || moving_id != a->id || moving_lxid != MyProc->lxid ||
		moving_cid != GetCurrentCommandId(false))
		return false;
	arrived = key_equal(a, newt, d, moving_key, moving_null, NULL, NULL);
	if (arrived)
	{
		MemoryContextReset(moving_cxt);
		moving_key = NULL;
	}
	return arrived;
}
