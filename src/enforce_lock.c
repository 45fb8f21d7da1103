/*
 * enforce_lock.c
 *	  Taking the locks of a mark or instrument pass without ever waiting
 *	  while holding one that a position change may be waiting for.
 *
 * A position change locks its row first (the executor does, before any
 * BEFORE trigger), then enforcement's trigger locks the instrument's state
 * row FOR SHARE.  A mark or instrument change locks the state row first,
 * then the positions it rewrites.  If it waited for a position while
 * holding the state row, the two could deadlock, and either could be the
 * one PostgreSQL cancels.
 *
 * So a pass takes its locks in an attempt: a subtransaction in which it
 * waits for its first lock only, while it holds nothing else; every later
 * lock of the attempt is taken without waiting (SKIP LOCKED on state rows,
 * NOWAIT on positions).  When one of them is held by another transaction,
 * the attempt is rolled back, which releases everything it locked; the pass
 * waits for what was in its way, still holding nothing, and tries again.
 * A position change waiting for the state row goes on as soon as the
 * attempt is rolled back.  An attempt that gets every lock goes on to
 * write in the same subtransaction (a row locked by one subtransaction and
 * updated by another of the same transaction would need a MultiXact), and
 * is committed: its locks stay until the transaction ends.  They are the
 * locks one statement would hold, taken in the same order: what each side
 * sees, and the events, are those of the old single-statement pass.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "storage/itemptr.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "enforce.h"

/* true while a NOWAIT statement of an attempt runs */
static volatile bool enforce_in_nowait = false;

/* Roll back the current subtransaction and return to the caller's context. */
static void
roll_back(MemoryContext cxt, ResourceOwner owner)
{
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

/*
 * Run fn(arg) in a subtransaction.  DONE: it returned true, and what it
 * locked and wrote is kept.  RETRY: it returned false.  BUSY: a statement it ran
 * with enforce_execute_nowait found a row locked.  After RETRY and BUSY the
 * subtransaction has been rolled back: nothing it locked is held.  Any other
 * error is raised again once the subtransaction is rolled back.
 */
EnforceAttemptResult
enforce_attempt(EnforceAttemptFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile EnforceAttemptResult result = ENFORCE_ATTEMPT_DONE;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (fn(arg))
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		else
		{
			result = ENFORCE_ATTEMPT_RETRY;
			roll_back(cxt, owner);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		busy = enforce_in_nowait;

		enforce_in_nowait = false;
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		roll_back(cxt, owner);
		if (!busy || edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
		result = ENFORCE_ATTEMPT_BUSY;
	}
	PG_END_TRY();
	return result;
}

/*
 * enforce_execute for a statement of an attempt that locks rows with
 * NOWAIT: a row it cannot lock at once makes the attempt BUSY.
 */
int
enforce_execute_nowait(EnforceAttachment *att, EnforcePlanId id, Datum *values, bool latest)
{
	return enforce_execute_nowait_on(att, id, InvalidOid, values, latest);
}

int
enforce_execute_nowait_on(EnforceAttachment *att, EnforcePlanId id, Oid partition,
						  Datum *values, bool latest)
{
	int			rc;

	enforce_in_nowait = true;
	rc = enforce_execute_on(att, id, partition, values, NULL, latest, 0);
	enforce_in_nowait = false;
	return rc;
}

/* A row of positions: its tid, and its partition (enforce_partition.c) or 0. */
typedef struct RowAddress
{
	Oid			rel;
	ItemPointerData tid;
} RowAddress;

static int
address_cmp(const void *x, const void *y)
{
	const RowAddress *a = x;
	const RowAddress *b = y;

	if (a->rel != b->rel)
		return a->rel < b->rel ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &a->tid, (ItemPointer) &b->tid);
}

/* The rows of the last result (tid in column 1, partition in column 2), sorted. */
static RowAddress *
result_rows(EnforceAttachment *att, int *n)
{
	RowAddress *rows = palloc(sizeof(RowAddress) * Max(SPI_processed, 1));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		ItemPointerCopy((ItemPointer) DatumGetPointer(d), &rows[i].tid);
		rows[i].rel = att->partitioned ?
			DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)) :
			InvalidOid;
	}
	*n = (int) SPI_processed;
	qsort(rows, *n, sizeof(RowAddress), address_cmp);
	return rows;
}

/*
 * Run a locking statement in a subtransaction that is then rolled back: the
 * locks it took are released at once.  Returns the rows it locked when
 * ntids is not NULL.  A serialization failure (REPEATABLE READ: the row's
 * holder changed it and committed) only means the wait is over.
 */
static RowAddress *
lock_and_release(EnforceAttachment *att, EnforcePlanId id, Datum *values, bool latest, int *ntids)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	RowAddress *volatile tids = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		enforce_execute(att, id, values, NULL, latest, 0);
		if (ntids)
			tids = result_rows(att, ntids);
		roll_back(cxt, owner);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		roll_back(cxt, owner);
		if (ntids != NULL || edata->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return tids;
}

/*
 * After a BUSY attempt: wait for the rows of positions that were in its
 * way, one at a time, holding nothing.  peek lists the rows the attempt's
 * locking statement covers, without locking them; skip locks those it can
 * lock at once (SKIP LOCKED), in a subtransaction rolled back at once.  The
 * others belong to transactions still running: lock each in turn, again
 * released at once, which waits for its holder to end.  Both statements
 * return ctid as their first column (and, for a partitioned table,
 * tableoid as their second) and take the same values.
 */
void
enforce_wait_busy(EnforceAttachment *att, EnforcePlanId peek, EnforcePlanId skip,
				  Datum *values, bool latest)
{
	RowAddress *all,
			   *lockable;
	int			nall,
				nlockable,
				j = 0;

	enforce_execute(att, peek, values, NULL, latest, 0);
	all = result_rows(att, &nall);
	if (nall == 0)
		return;
	lockable = lock_and_release(att, skip, values, latest, &nlockable);
	for (int i = 0; i < nall; i++)
	{
		Datum		row[2];

		while (j < nlockable && address_cmp(&lockable[j], &all[i]) < 0)
			j++;
		if (j < nlockable && address_cmp(&lockable[j], &all[i]) == 0)
			continue;
		row[0] = PointerGetDatum(&all[i].tid);
		row[1] = ObjectIdGetDatum(all[i].rel);
		lock_and_release(att, PLAN_WAIT_ROW, row, latest, NULL);
	}
}
