/*
 * enforce.h
 *	  Enforcement: triggers that keep a positions table's stored prices and
 *	  statuses current as its marks and instruments change.
 *
 * install/30_enforce.sql attaches the triggers (isomargin.enforce) and
 * records each attachment in isomargin.enforcement; doc/enforcement.md is
 * the reference.  The C side is split by job:
 *	 enforce_contract.c	 the attachment contract: columns, types, rule, symbol
 *						 (enforce_contract.h), shared with enforce() and the reports
 *	 enforce_contract_sql.c isomargin._attachment_contract, its SQL face
 *	 enforce_config.c	 the attachment read from the catalog, cached per trigger
 *	 enforce_sql.c		 the SQL each trigger runs, prepared once per trigger
 *	 enforce_compute.c	 a position's prices and status, by the engine
 *	 enforce_spi.c		 running plans as the tables' owner; events and NOTIFY
 *	 enforce_lock.c		 a mark or instrument pass's locks, taken without deadlock
 *	 enforce_drop.c		 the sql_drop event trigger: enforced tables are not dropped
 *	 enforce_recheck.c	 the operator functions: confirm_mark, recheck
 *	 enforce_partition.c a partitioned positions table: partitions, row addresses
 *	 enforce_probe*.c	 a mark's candidates on a partitioned table, without the search
 *	 enforce_*_trigger.c the trigger functions themselves
 *
 * Every trigger locks the instrument's row of the attachment's state table
 * (one row per symbol: the current mark) before it reads or writes
 * positions of that instrument: FOR SHARE for a position change,
 * FOR NO KEY UPDATE for a mark or instrument change.  That row is what
 * serializes a mark update against a position change, so neither misses
 * the other.  A position change holds its row when it asks for the state
 * row; a mark or instrument pass holding a state row therefore never waits
 * for a position (enforce_lock.c).
 */
#ifndef ISOMARGIN_ENFORCE_H
#define ISOMARGIN_ENFORCE_H

#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "enforce_contract.h"
#include "liquidity_curve.h"
#include "rule.h"

/*
 * LISTEN channel: at most one NOTIFY per transaction and attachment, the
 * payload the positions table's qualified name (doc/enforcement.md)
 */
#define ENFORCE_CHANNEL			"isomargin_events"

/* What caused an event: isomargin.event_cause, in its order */
typedef enum EnforceCause
{
	CAUSE_POSITION,				/* the position row's own change (owner side) */
	CAUSE_MARK,
	CAUSE_INSTRUMENT,
	CAUSE_OPERATOR,				/* an explicit status write */
	CAUSE_ENFORCE,				/* a recheck at the current mark (enforce) */
	ENFORCE_NCAUSES
} EnforceCause;

/*
 * Stored prices carry MARGIN_PRICE_MIN_SCALE decimals or more, rounded
 * against the position; a candidate search widens its range by one unit
 * of that scale so no rounded price at the edge of a move is missed.
 */
#define ENFORCE_PRICE_UNIT_SCALE	MARGIN_PRICE_MIN_SCALE

typedef enum EnforcePlanId
{
	PLAN_STATE_SHARE,			/* position: lock the symbol's state, read the mark */
	PLAN_STATE_ENSURE,			/* create the symbol's state row if missing */
	PLAN_INSTRUMENT,			/* one instrument's parameters */
	PLAN_EVENT_KEY,				/* an event's key: jsonb of a position's primary key */
	PLAN_STATE_LOCK_MANY,		/* marks: lock many symbols' state, in order */
	PLAN_STATE_ENSURE_MANY,
	PLAN_CANDIDATES,			/* marks: index range scans over stored prices */
	PLAN_INSTRUMENTS_MANY,
	PLAN_SET_STATUS,			/* marks: new statuses by tid */
	PLAN_STATE_SET_MARKS,
	PLAN_EVENTS_MANY,
	PLAN_STATE_TOUCH,			/* instruments: lock one state row, read the mark */
	PLAN_POSITIONS_OF,			/* instruments: every position of a symbol */
	PLAN_SET_FIGURES,			/* instruments: prices and statuses by tid */
	/* enforce_lock.c: the same statements locking otherwise, or not at all */
	PLAN_STATE_LOCK_MANY_SKIP,	/* marks: the state rows free at once */
	PLAN_STATE_PEEK_MANY,		/* marks: which state rows exist */
	PLAN_CANDIDATES_SKIP,		/* ctid of the candidates free at once */
	PLAN_CANDIDATES_PEEK,		/* ctid of every candidate, unlocked */
	PLAN_POSITIONS_OF_SKIP,
	PLAN_POSITIONS_OF_PEEK,
	PLAN_WAIT_ROW,				/* lock one position by ctid, waiting */
	/* marks held back, confirmed, rechecked (enforce_mark_trigger.c, enforce_recheck.c) */
	PLAN_MARK_EVENTS,			/* isomargin.mark_events rows */
	PLAN_STATE_SET_HELD,		/* marks: new marks and held marks, with their times */
	PLAN_EVENTS_AUDITED,		/* events naming who and why */
	PLAN_FLAGGED_OF,			/* recheck: the liquidate and bankrupt positions of a symbol */
	PLAN_FLAGGED_OF_SKIP,
	PLAN_FLAGGED_OF_PEEK,
	/* marks: the statements above for one instrument, cheaper to start and run */
	PLAN_STATE_LOCK_ONE,
	PLAN_CANDIDATES_ONE,
	PLAN_STATE_SET_MARK_ONE,
	ENFORCE_NPLANS
} EnforcePlanId;

/* One attachment as seen by one trigger (cache key: the trigger's OID). */
typedef struct EnforceAttachment
{
	Oid			tgoid;
	bool		valid;
	MemoryContext cxt;			/* everything below lives here */
	int32		id;
	EnforceRole role;
	Oid			positions;
	/*
	 * The table the trigger fires on: its role's table, or a partition of it
	 * (a row trigger of a partitioned table is cloned to each partition),
	 * whose columns may lie at other attnums; InvalidOid for an operator
	 * function's attachment.
	 */
	Oid			relation;
	bool		partitioned;	/* positions is partitioned: rows are (tableoid, ctid) */
	Oid			marks;
	Oid			instruments;
	Oid			state;
	Oid			events;
	Oid			nsp;			/* the extension's schema */
	Oid			owner;			/* positions' owner: the triggers run as this role */
	Oid			events_owner;	/* writes isomargin.events */
	char	   *qnsp;
	char	   *qpositions;
	char	   *qmarks;
	char	   *qinstruments;
	char	   *qstate;
	char	   *positions_name; /* for messages */
	Contract	c;				/* the columns, resolved (enforce_contract.c) */
	Dec			call_ratio;
	Dec			tick;			/* of the stored prices; 0: none */
	/*
	 * mark_time, when mapped: ticks older than the current mark do not move
	 * it.  A state table made before 0.2.0 has neither mark_time nor
	 * held_price until ALTER EXTENSION UPDATE adds them: until then marks
	 * are taken as they were (the last written) and none is held.
	 */
	bool		state_has_held;
	bool		has_time;
	Oid			time_type;
	Oid			time_array;
	Oid			time_collation;
	int16		time_len;
	bool		time_byval;
	FmgrInfo	time_cmp;
	/* the symbol type, shared by the three tables */
	Oid			sym_type;
	Oid			sym_array;
	Oid			sym_collation;
	int16		sym_len;
	bool		sym_byval;
	char	   *sym_eq;			/* "OPERATOR(schema.=)" */
	char	   *sym_collate;	/* " COLLATE schema.name" or "" */
	FmgrInfo	sym_cmp;
	FmgrInfo	sym_out;
	/* positions' primary key */
	int			npk;
	AttrNumber *pk_attnums;		/* in the trigger's relation */
	char	  **pk_names;
	Oid		   *pk_types;
	char	   *pk_order;		/* p."a", p."b" */
	char	   *pk_key;			/* jsonb_build_object('a', p."a", ...) */
	/* enum labels */
	Oid			status_type;
	Oid			status_oid[4];
	Oid			kind_type;
	Oid			kind_inverse;
	Oid			tiers_type;		/* InvalidOid until isomargin.tiers exists */
	Oid			cause_type;
	Oid			cause_oid[ENFORCE_NCAUSES];
	SPIPlanPtr	plans[ENFORCE_NPLANS];
	/* partitioned: plans addressed to one partition (enforce_partition_route.c) */
	List	   *part_plans;
	int			route_by_symbol;	/* 0 not known yet, 1 LIST (symbol), -1 not */
	List	   *probe_tables;	/* the partial indexes of each partition (enforce_probe.c) */
	bool		probe_rests;	/* the last candidate search found too many rows: no probe */
} EnforceAttachment;

/*
 * The instrument columns enforcement reads, in the order the instrument
 * plans select them and EnforceInstrumentRow holds them (enforce_compute.c).
 */
#define ENFORCE_NINS 12
extern const EnforceColumnId enforce_instrument_cols[ENFORCE_NINS];

/* One instrument's row as read: values[i] of enforce_instrument_cols[i]. */
typedef struct EnforceInstrumentRow
{
	Datum		values[ENFORCE_NINS];
	bool		nulls[ENFORCE_NINS];
} EnforceInstrumentRow;

/* One instrument's rule (rule.h), with the attachment's margin-call ratio. */
typedef struct EnforceInstrument
{
	bool		found;
	Rule		rule;			/* points into itself: filled in place, never copied */
	Datum		symbol;			/* for messages */
	EnforceAttachment *attachment;
	bool		has_band;		/* price_band: the largest relative move of a mark */
	Dec			band;
	Dec			addon;			/* addon_rate: the dynamic add-on rate, 0 when absent (doc/dynamic.md) */
	bool		has_curve;		/* liquidity_curve: each position's liquidity add-on by its size */
	LiquidityCurve curve;
} EnforceInstrument;

/* A position's inputs and what enforcement stores for it. */
typedef struct EnforceFigures
{
	bool		has_lp;
	bool		has_mcp;
	bool		has_bp;
	Dec			lp;
	Dec			mcp;
	Dec			bp;
	MarginStatus check;			/* exact check at the mark; OK without a mark */
	bool		has_mark;
	Dec			equity;
	Dec			maintenance;
} EnforceFigures;

/* A position as a pass over positions reads it (PLAN_CANDIDATES, PLAN_POSITIONS_OF). */
typedef struct EnforcePassRow
{
	Dec			size;
	Dec			entry;
	Dec			margin;
	bool		has_status;
	MarginStatus status;
} EnforcePassRow;

/* enforce_config.c */
extern EnforceAttachment *enforce_attachment(FunctionCallInfo fcinfo, EnforceRole role);
extern SPIPlanPtr enforce_plan(EnforceAttachment *att, EnforcePlanId id);
extern SPIPlanPtr enforce_plan_prepare(EnforceAttachment *att, EnforcePlanId id);
extern void enforce_check_trigger(FunctionCallInfo fcinfo, const char *funcname,
								  EnforceRole role);
extern EnforceAttachment *enforce_attachment_of(Oid positions, Oid nsp, EnforceRole role);
extern void enforce_attachment_release(EnforceAttachment *att);
extern EnforceAttachment *enforce_attachment_kept(Oid positions, Oid nsp);
extern Oid	enforce_rel_owner(Oid relid);

/* enforce_sql.c */
extern char *enforce_plan_sql(EnforceAttachment *att, EnforcePlanId id,
							  int *nargs, Oid *argtypes);
extern int	enforce_plan_options(EnforcePlanId id);
extern bool enforce_plan_by_index(EnforcePlanId id);

/* enforce_compute.c */
extern Dec	enforce_read_dec(EnforceAttachment *att, EnforceColumnId col, Datum d,
							 bool isnull);
extern void enforce_check_position(EnforceAttachment *att, Dec size, Dec entry, Dec margin);
extern void enforce_read_pass_row(EnforceAttachment *att, HeapTuple t, TupleDesc d,
								  EnforcePassRow *row);
extern void enforce_missing_instrument(EnforceAttachment *att, Datum symbol) pg_attribute_noreturn();
extern Dec	enforce_read_mark(EnforceAttachment *att, Datum d);
extern void enforce_instrument_from_row(EnforceAttachment *att, EnforceInstrument *ins,
										Datum symbol, const EnforceInstrumentRow *row);
extern void enforce_instrument_read(HeapTuple t, TupleDesc d, int first,
									EnforceInstrumentRow *row);
extern void enforce_position_figures(EnforceAttachment *att, const EnforceInstrument *ins,
									 Dec size, Dec entry, Dec margin,
									 bool has_mark, Dec mark, EnforceFigures *out);
extern MarginStatus enforce_status_of(EnforceAttachment *att, Oid label);
extern MarginStatus enforce_next_status(bool has_old, MarginStatus old, MarginStatus check,
										bool keep_severe);
extern Datum enforce_price_datum(bool has, Dec v, bool *isnull);

/* enforce_spi.c */
typedef struct EnforceUser
{
	Oid			saved_user;
	int			saved_context;
} EnforceUser;

extern int	enforce_internal_writes;

extern void enforce_become(Oid role, EnforceUser *save);
extern void enforce_restore(const EnforceUser *save);
extern int	enforce_execute(EnforceAttachment *att, EnforcePlanId id, Datum *values,
							const char *nulls, bool latest, long tcount);
extern int	enforce_execute_on(EnforceAttachment *att, EnforcePlanId id, Oid partition,
							   Datum *values, const char *nulls, bool latest, long tcount);
extern bool enforce_lock_state(EnforceAttachment *att, EnforcePlanId plan, Datum symbol,
							   Dec *mark, MemoryContext keep);
extern Datum enforce_symbol_input(EnforceAttachment *att, const char *s);
extern char *enforce_symbol_text(EnforceAttachment *att, Datum symbol);
extern Datum enforce_array(Datum *elems, bool *nulls, int n, Oid elemtype);

/* enforce_queue.c */
extern void enforce_check_claim_grant(FunctionCallInfo fcinfo, Oid positions);
extern bool enforce_may_claim(Oid nsp, Oid positions);
extern bool enforce_may_read(Oid nsp, Oid positions);
extern bool enforce_claim_next(Oid nsp, Oid positions, Datum worker, const char *min_status,
							   int64 *id, Datum *position_key);
extern uint64 enforce_settle_events(Oid nsp, Oid positions, Datum position_key, Datum worker);

/* enforce_guard.c */
extern int	enforce_state_writes;
extern void enforce_state_grant(EnforceAttachment *att);

/* enforce_lock.c */
typedef bool (*EnforceAttemptFn) (void *arg);

typedef enum EnforceAttemptResult
{
	ENFORCE_ATTEMPT_DONE,		/* done: its locks and writes are kept */
	ENFORCE_ATTEMPT_RETRY,		/* the attempt gave up; nothing held */
	ENFORCE_ATTEMPT_BUSY		/* a NOWAIT lock failed; nothing held */
} EnforceAttemptResult;

extern EnforceAttemptResult enforce_attempt(EnforceAttemptFn fn, void *arg);
extern int	enforce_execute_nowait(EnforceAttachment *att, EnforcePlanId id, Datum *values,
								   bool latest);
extern int	enforce_execute_nowait_on(EnforceAttachment *att, EnforcePlanId id, Oid partition,
									  Datum *values, bool latest);
extern void enforce_wait_busy(EnforceAttachment *att, EnforcePlanId peek, EnforcePlanId skip,
							  Datum *values, bool latest);

/* Events to record after a set-based pass, then written at once. */
typedef struct EnforceEvents
{
	int			n;
	int			cap;
	EnforceCause cause;			/* one cause per batch */
	Datum	   *key;			/* jsonb */
	Datum	   *symbol;			/* text */
	Datum	   *old_status;
	bool	   *old_null;
	Datum	   *new_status;
	Datum	   *mark;
	Datum	   *equity;
	Datum	   *maintenance;
	/* the snapshot: the position's inputs and stored prices at the change */
	Datum	   *snap[6];		/* size, entry, margin, lp, mcp, bp */
	bool	   *snap_null[6];
} EnforceEvents;

extern void enforce_events_init(EnforceEvents *ev, int cap, EnforceCause cause);
extern void enforce_events_add(EnforceEvents *ev, EnforceAttachment *att, Datum key,
							   Datum symbol_text, bool has_old, MarginStatus old,
							   MarginStatus new, Dec mark, const EnforceFigures *f,
							   Dec size, Dec entry, Dec margin);
extern void enforce_events_write(EnforceAttachment *att, EnforceEvents *ev);
extern Datum enforce_event_key(EnforceAttachment *att, HeapTuple tuple, TupleDesc desc);

/* enforce_mark_trigger.c: an operator confirms the mark a price band held back */
extern Dec	enforce_confirm_mark(EnforceAttachment *att, Datum symbol, const char *reason);

/* Who runs an operator function, for events: current_user, and session_user when it differs. */
extern char *enforce_actor(Oid user);
extern void enforce_mark_events_write(EnforceAttachment *att, int n, Datum *symbol,
									  const char *event, Datum *mark, Datum *current,
									  const char *actor, const char *reason);
extern void enforce_events_write_audited(EnforceAttachment *att, EnforceEvents *ev,
										 const char *actor, const char *reason);

/* enforce_xact_cache.c: an instrument's state lock, mark and rule, once per transaction */
extern const EnforceInstrument *enforce_instrument_locked(EnforceAttachment *a, Datum symbol,
														  bool *has_mark, Dec *mark, bool *spi);

/* enforce_partition.c: a partitioned positions table */
typedef struct EnforceRows
{
	int			n;
	Datum	   *tid;
	Datum	   *rel;			/* partitioned: each row's partition */
} EnforceRows;

extern bool enforce_is_partition_of(Oid rel, Oid ancestor);
extern void enforce_partition_attnums(EnforceAttachment *a);
extern void enforce_rows_init(EnforceRows *rows, int cap);
extern void enforce_rows_add(EnforceRows *rows, EnforceAttachment *a, HeapTuple t, TupleDesc d);
extern void enforce_rows_write(EnforceRows *rows, EnforceAttachment *a, EnforcePlanId id,
							   int ncols, Datum **values, bool **nulls, const Oid *types);
extern void enforce_move_note(EnforceAttachment *a, HeapTuple oldt, HeapTuple newt, TupleDesc d);
extern bool enforce_move_arrived(EnforceAttachment *a, HeapTuple newt, TupleDesc d);
/* enforce_partition_route.c: statements addressed to one partition */
extern SPIPlanPtr enforce_partition_plan(EnforceAttachment *a, EnforcePlanId id, Oid partition);
extern void enforce_partition_plans_free(EnforceAttachment *a);
extern bool enforce_partition_direct(EnforceAttachment *a, Oid partition);
extern Oid	enforce_symbol_partition(EnforceAttachment *a, Datum symbol);

/* enforce_probe.c: a mark's candidates found and locked without the search, or not */
typedef enum EnforceProbeResult
{
	PROBE_NONE,					/* no candidate: the search would find nothing */
	PROBE_ROWS,					/* the candidates, locked as the search would */
	PROBE_SEARCH				/* run the search */
} EnforceProbeResult;
extern EnforceProbeResult enforce_candidates_probe(EnforceAttachment *a, Datum sym, Datum lo,
												   Datum hi, SPITupleTable **rows,
												   uint64 *nrows);
extern void enforce_candidates_searched(EnforceAttachment *a, uint64 found);
extern void enforce_partitions_attached(Node *parsetree, const char *qnsp, Oid config,
										bool compute);

/* enforce_bypass.c: no BEFORE ROW trigger fires after the positions trigger */
extern void enforce_check_trigger_order(TriggerData *td);

#endif
