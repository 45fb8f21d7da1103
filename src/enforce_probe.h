/*
 * enforce_probe.h
 *	  What the probe of a mark's candidates (enforce_probe.c) hands to the
 *	  code that locks them (enforce_probe_lock.c).  Private to those two.
 */
#ifndef ISOMARGIN_ENFORCE_PROBE_H
#define ISOMARGIN_ENFORCE_PROBE_H

#include "postgres.h"

#include "access/htup.h"
#include "fmgr.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "enforce.h"

/* The three partial indexes of the candidate search (enforce_sql.c), in this order. */
#define PROBE_NINDEX 3

/*
 * The most candidates the probe collects and locks itself; above it the
 * search runs (a crash crossing many positions a tick pays the search's
 * fixed cost over many crossings).
 */
#define PROBE_MAX_ROWS 256

/* One partition's three indexes, as last found, and its columns. */
typedef struct ProbeTable
{
	Oid			rel;
	Oid			index[PROBE_NINDEX];
	TransactionId index_xmin[PROBE_NINDEX];	/* of its pg_index row, as checked */
	bool		resolved;		/* the fields below are filled */
	AttrNumber	sym;			/* attnums in rel */
	AttrNumber	status;
	AttrNumber	price[PROBE_NINDEX];
	AttrNumber	size;
	AttrNumber	entry;
	AttrNumber	margin;
	AttrNumber *pk;				/* a->npk of them */
	Oid			symfamily;		/* the symbol type's default btree family */
	Oid			numfamily;
	Oid			eqproc;			/* its equality, for the scan key */
} ProbeTable;

/* A row the probe found: its partition and the version the snapshot sees. */
typedef struct ProbeCandidate
{
	Relation	rel;
	ProbeTable *t;
	HeapTuple	tuple;
} ProbeCandidate;

/* The search's condition: symbol, and the stored price of its next threshold in [lo, hi]. */
typedef struct ProbeRange
{
	Datum		sym;
	Datum		lo;
	Datum		hi;
	FmgrInfo	eq;				/* the symbol type's equality */
} ProbeRange;

/* enforce_probe_lock.c */
extern bool enforce_probe_row_matches(EnforceAttachment *a, ProbeTable *t, TupleDesc desc,
									  HeapTuple tuple, ProbeRange *range);
extern bool enforce_probe_lock(EnforceAttachment *a, ProbeCandidate *cand, int n,
							   ProbeRange *range, Snapshot snap, SPITupleTable **rows,
							   uint64 *nrows);

#endif
