/*
 * enforce_partition_route.c
 *	  Statements addressed to one partition of a partitioned positions table
 *	  (doc/enforcement.md, "Partitioned positions tables").
 *
 * In PostgreSQL 15 a statement on the partitioned table pays for every
 * partition: its generic plan locks them all when it starts, a FOR UPDATE
 * clause opens each, and a row addressed by (tableoid, ctid) is looked up
 * in each, since the planner does not prune by tableoid.  So where a pass
 * knows the partition that holds its rows it addresses that partition:
 * the write-back of statuses and figures goes to the partition each row
 * was read from (enforce_rows_write), and under PARTITION BY LIST (symbol)
 * the candidate search of one instrument reads the partition that holds
 * the symbol.  Only a partition of the partitioned table's owner
 * (enforce_partition_direct).  The statement is the parent's (enforce_sql.c) with the
 * partition's name, prepared once per partition and kept in the attachment.
 *
 * The plan names the partition, and a plan the plan cache finds stale is
 * analyzed again from its text: after a rename that would be another
 * table, or none.  So the partition is locked first, as running the plan
 * would lock it, which takes in any rename committed meanwhile; a plan that
 * is then no longer valid is prepared again under the current name.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"

#include "enforce.h"

typedef struct PartitionPlan
{
	Oid			partition;
	EnforcePlanId id;
	SPIPlanPtr	plan;
} PartitionPlan;

/* Statement id on partition, prepared under its current name. */
static SPIPlanPtr
partition_prepare(EnforceAttachment *a, EnforcePlanId id, Oid partition)
{
	EnforceAttachment target = *a;
	char	   *name = get_rel_name(partition);
	Oid			nsp = get_rel_namespace(partition);

	if (name == NULL || !OidIsValid(nsp))
		elog(ERROR, "partition %u of %s vanished", partition, a->positions_name);
	target.qpositions = quote_qualified_identifier(get_namespace_name(nsp), name);
	/* the candidates still read p.tableoid; the writes match by ctid alone */
	target.partitioned = id == PLAN_CANDIDATES_ONE;
	return enforce_plan_prepare(&target, id);
}

SPIPlanPtr
enforce_partition_plan(EnforceAttachment *a, EnforcePlanId id, Oid partition)
{
	ListCell   *lc;
	PartitionPlan *pp = NULL;
	LOCKMODE	mode = id == PLAN_CANDIDATES_ONE ? RowShareLock : RowExclusiveLock;

	Assert(a->partitioned);
	/* the parent too, as a statement on the parent locks it */
	LockRelationOid(a->positions, mode);
	LockRelationOid(partition, mode);
	foreach(lc, a->part_plans)
	{
		PartitionPlan *p = lfirst(lc);

		if (p->partition == partition && p->id == id)
		{
			pp = p;
			break;
		}
	}
	if (pp != NULL && pp->plan != NULL && SPI_plan_is_valid(pp->plan))
		return pp->plan;
	if (pp == NULL)
	{
		MemoryContext old;

		pp = MemoryContextAllocZero(a->cxt, sizeof(PartitionPlan));
		pp->partition = partition;
		pp->id = id;
		pp->plan = partition_prepare(a, id, partition);
		old = MemoryContextSwitchTo(a->cxt);
		a->part_plans = lappend(a->part_plans, pp);
		MemoryContextSwitchTo(old);
		return pp->plan;
	}
	if (pp->plan != NULL)
		SPI_freeplan(pp->plan);
	pp->plan = NULL;
	pp->plan = partition_prepare(a, id, partition);
	return pp->plan;
}

void
enforce_partition_plans_free(EnforceAttachment *a)
{
	ListCell   *lc;

	foreach(lc, a->part_plans)
	{
		PartitionPlan *p = lfirst(lc);

		if (p->plan != NULL)
			SPI_freeplan(p->plan);
	}
	a->part_plans = NIL;
}

/*
 * Whether statements may address partition directly: it has the owner of
 * the partitioned table, as whom the triggers run.  A statement on the
 * partitioned table checks that owner's rights and row security on the
 * partitioned table alone; on a partition of another owner they would be
 * checked there.
 */
bool
enforce_partition_direct(EnforceAttachment *a, Oid partition)
{
	return enforce_rel_owner(partition) == a->owner;
}

/*
 * Whether rel is partitioned by LIST on the symbol column alone, comparing
 * symbols as the statements do (the symbol type's btree comparison, the
 * positions column's collation): then every position of a symbol lies in
 * the one partition the symbol routes to.
 */
static bool
routes_by_symbol(EnforceAttachment *a, Relation rel)
{
	PartitionKey key = RelationGetPartitionKey(rel);

	return key->strategy == PARTITION_STRATEGY_LIST && key->partnatts == 1 &&
		key->partattrs[0] != 0 &&
		key->partattrs[0] == get_attnum(a->positions, a->c.cols[COL_POS_SYMBOL].name) &&
		key->parttypid[0] == a->sym_type &&
		key->partcollation[0] == a->sym_collation &&
		key->partsupfunc[0].fn_oid == a->sym_cmp.fn_oid;
}

/*
 * The leaf partition that holds the positions of symbol, or InvalidOid when
 * the statement must go to the partitioned table: not LIST (symbol), a
 * partition being detached, a sub-partitioned partition, one of another
 * owner, or no partition for the symbol.
 */
Oid
enforce_symbol_partition(EnforceAttachment *a, Datum symbol)
{
	Relation	rel;
	PartitionDesc desc;
	PartitionBoundInfo bounds;
	Oid			partition = InvalidOid;

	if (!a->partitioned || a->route_by_symbol < 0)
		return InvalidOid;
	rel = relation_open(a->positions, RowShareLock);
	if (a->route_by_symbol == 0)
		a->route_by_symbol = routes_by_symbol(a, rel) ? 1 : -1;
	desc = RelationGetPartitionDesc(rel, false);
	bounds = desc->boundinfo;
	if (a->route_by_symbol > 0 && !desc->detached_exist && bounds != NULL)
	{
		PartitionKey key = RelationGetPartitionKey(rel);
		bool		equal = false;
		int			offset = partition_list_bsearch(key->partsupfunc, key->partcollation,
													bounds, symbol, &equal);
		int			index = offset >= 0 && equal ? bounds->indexes[offset] : bounds->default_index;

		if (index >= 0 && desc->is_leaf[index] && enforce_partition_direct(a, desc->oids[index]))
			partition = desc->oids[index];
	}
	relation_close(rel, NoLock);
	return partition;
}
