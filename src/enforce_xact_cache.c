/*
 * enforce_xact_cache.c
 *	  What the positions trigger learns of an instrument once per
 *	  transaction: that it holds the instrument's state row FOR SHARE, the
 *	  mark it read under that lock, and the instrument's rule.
 *
 * The positions trigger locks the state row before it reads the mark and
 * the instrument.  A row lock is held until the transaction ends, so every
 * later row of the same instrument in the transaction would take a lock it
 * already holds and read what it already read: no other transaction can
 * move that mark or change that instrument's rule meanwhile, since a mark
 * pass and an instrument pass both need the state row FOR NO KEY UPDATE
 * and wait for this transaction.  (An instrument change writes the
 * instrument row first, but its trigger, which takes the state row, runs
 * before it commits.)  Two things end what was learned:
 *	 - the transaction ending, or a subtransaction aborting: a lock taken
 *	   in a rolled-back subtransaction is released;
 *	 - this transaction moving a mark or changing an instrument itself.
 *	   Mark and instrument passes run in subtransactions (enforce_lock.c,
 *	   enforce_attempt), so any subtransaction starting or ending forgets
 *	   everything too; savepoints and PL/pgSQL exception blocks do the
 *	   same, and are merely as slow as before.
 * Entries are keyed by the attachment (the trigger's cache entry: rebuilt
 * when a table changes) and the symbol, hashed with its type's hash
 * function under the positions column's collation; a symbol type without a
 * hash function is looked up every time, as before.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "access/xact.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "enforce.h"

typedef struct SymbolKey
{
	EnforceAttachment *att;
	Datum		symbol;
	uint32		hash;
} SymbolKey;

typedef struct SymbolEntry
{
	SymbolKey	key;
	bool		has_mark;
	Dec			mark;
	EnforceInstrument *ins;
} SymbolEntry;

static MemoryContext xact_cxt = NULL;
static HTAB *xact_symbols = NULL;

static void
forget(void)
{
	if (xact_symbols == NULL)
		return;
	xact_symbols = NULL;
	MemoryContextReset(xact_cxt);
}

static void
on_xact(XactEvent event, void *arg)
{
	forget();
}

/*
 * Every subtransaction event: a start (a pass may follow), an abort (its
 * locks are gone), and a commit too, since what a mark pass's attempt read
 * before it moved the mark (a position row rewritten in the pass) is stale
 * once it commits.
 */
static void
on_subxact(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	forget();
}

static uint32
key_hash(const void *key, Size keysize)
{
	return ((const SymbolKey *) key)->hash;
}

static int
key_match(const void *x, const void *y, Size keysize)
{
	const SymbolKey *a = x;
	const SymbolKey *b = y;

	if (a->att != b->att || a->hash != b->hash)
		return 1;
	return DatumGetInt32(FunctionCall2Coll(&a->att->sym_cmp, a->att->sym_collation,
										   a->symbol, b->symbol)) != 0;
}

static HTAB *
symbols(void)
{
	HASHCTL		ctl;

	if (xact_cxt == NULL)
	{
		xact_cxt = AllocSetContextCreate(TopMemoryContext, "isomargin instruments of the transaction",
										 ALLOCSET_DEFAULT_SIZES);
		RegisterXactCallback(on_xact, NULL);
		RegisterSubXactCallback(on_subxact, NULL);
	}
	if (xact_symbols == NULL)
	{
		ctl.keysize = sizeof(SymbolKey);
		ctl.entrysize = sizeof(SymbolEntry);
		ctl.hash = key_hash;
		ctl.match = key_match;
		ctl.hcxt = xact_cxt;
		xact_symbols = hash_create("isomargin instruments of the transaction", 64, &ctl,
								   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	return xact_symbols;
}

/* The symbol's hash; false when its type has no hash function. */
static bool
symbol_hash(EnforceAttachment *a, Datum symbol, uint32 *hash)
{
	TypeCacheEntry *tc = lookup_type_cache(getBaseType(a->sym_type), TYPECACHE_HASH_PROC_FINFO);

	if (!OidIsValid(tc->hash_proc_finfo.fn_oid))
		return false;
	*hash = DatumGetUInt32(FunctionCall1Coll(&tc->hash_proc_finfo, a->sym_collation, symbol));
	return true;
}

/* Lock the state row FOR SHARE, read the mark and the instrument, into cxt. */
static EnforceInstrument *
lock_and_read(EnforceAttachment *a, Datum symbol, bool *has_mark, Dec *mark, MemoryContext cxt)
{
	Datum		arg = symbol;
	EnforceInstrumentRow values;
	HeapTuple	row;
	EnforceInstrument *ins;
	MemoryContext old;

	*has_mark = enforce_lock_state(a, PLAN_STATE_SHARE, symbol, mark, cxt);
	enforce_execute(a, PLAN_INSTRUMENT, &arg, NULL, false, 0);
	if (SPI_processed == 0)
		enforce_missing_instrument(a, symbol);
	old = MemoryContextSwitchTo(cxt);
	row = heap_copytuple(SPI_tuptable->vals[0]);
	enforce_instrument_read(row, SPI_tuptable->tupdesc, 1, &values);
	ins = palloc(sizeof(EnforceInstrument));
	enforce_instrument_from_row(a, ins, datumCopy(symbol, a->sym_byval, a->sym_len), &values);
	MemoryContextSwitchTo(old);
	return ins;
}

/*
 * The instrument of symbol, with its state row locked FOR SHARE and its
 * mark (*has_mark false: none yet), as the positions trigger needs them.
 * *spi: whether SPI is connected; connected here when a lookup is needed
 * (the caller finishes it).  Runs as the positions owner.
 */
const EnforceInstrument *
enforce_instrument_locked(EnforceAttachment *a, Datum symbol, bool *has_mark, Dec *mark,
						  bool *spi)
{
	MemoryContext caller = CurrentMemoryContext;
	SymbolKey	key;
	SymbolEntry *e;
	bool		found;
	const EnforceInstrument *ins;

	key.att = a;
	key.symbol = symbol;
	if (symbol_hash(a, symbol, &key.hash))
	{
		e = hash_search(symbols(), &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			*has_mark = e->has_mark;
			*mark = e->mark;
			return e->ins;
		}
	}
	else
		e = NULL, key.att = NULL;

	if (!*spi)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		MemoryContextSwitchTo(caller);
		*spi = true;
	}
	if (key.att == NULL)
		ins = lock_and_read(a, symbol, has_mark, mark, caller);
	else
	{
		(void) symbols();
		ins = lock_and_read(a, symbol, has_mark, mark, xact_cxt);
		key.symbol = ins->symbol;
		e = hash_search(symbols(), &key, HASH_ENTER, &found);
		e->has_mark = *has_mark;
		e->mark = *mark;
		e->ins = (EnforceInstrument *) ins;
	}
	MemoryContextSwitchTo(caller);
	return ins;
}
