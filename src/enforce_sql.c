/*
 * enforce_sql.c
 *	  The statements enforcement runs, one per plan id, prepared once per
 *	  trigger (enforce_plan) and run with bound parameters.
 *
 * Every table is schema-qualified and every identifier quoted; every
 * operator is written OPERATOR(schema.op) (the symbol type's own equality
 * operator, looked up by its type's btree opclass) and every function
 * schema-qualified, so nothing here depends on the search path.  Symbols
 * compare under the positions column's collation.  Many-row statements
 * take arrays and unnest them in one pass.
 *
 * The candidate search is one index range scan per price column over a
 * partial index that enforce() creates to match these predicates exactly:
 *	 margin_call_price	WHERE status < 'liquidate'	 (ok, margin_call)
 *	 liquidation_price	WHERE status = 'margin_call'
 *	 bankruptcy_price	WHERE status = 'liquidate'
 * Those predicates must stay in step with install/30_enforce.sql.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"

static const char *
col(EnforceAttachment *a, EnforceColumnId id)
{
	return quote_identifier(a->c.cols[id].name);
}

/* alias.column, or a typed NULL for an optional column that is absent */
static char *
col_or_null(EnforceAttachment *a, const char *alias, EnforceColumnId id)
{
	if (a->c.cols[id].name == NULL)
		return "NULL";
	return psprintf("%s.%s", alias, col(a, id));
}

static char *
status_literal(EnforceAttachment *a, const char *label)
{
	return psprintf("'%s'::%s.margin_status", label, a->qnsp);
}

/* The instrument columns (enforce_instrument_cols), in order. */
static void
instrument_columns(StringInfo s, EnforceAttachment *a)
{
	for (int i = 0; i < ENFORCE_NINS; i++)
		appendStringInfo(s, "%s%s", i ? ", " : "",
						 col_or_null(a, "i", enforce_instrument_cols[i]));
}

/*
 * ctid, key, size, entry, margin, status: what a pass over positions reads;
 * and tableoid, for a partitioned table (enforce_partition.c)
 */
static void
position_columns(StringInfo s, EnforceAttachment *a)
{
	appendStringInfo(s, "p.ctid, %s, p.%s, p.%s, p.%s, p.%s%s",
					 a->pk_key, col(a, COL_POS_SIZE), col(a, COL_POS_ENTRY),
					 col(a, COL_POS_MARGIN), col(a, COL_POS_STATUS),
					 a->partitioned ? ", p.tableoid" : "");
}

/* A row's address: ctid, and tableoid for a partitioned table. */
static const char *
row_address(EnforceAttachment *a, const char *alias)
{
	return a->partitioned ? psprintf("%s.ctid, %s.tableoid", alias, alias) : psprintf("%s.ctid", alias);
}

/* The row of positions p at u.t (and u.r, its partition). */
static const char *
row_match(EnforceAttachment *a)
{
	return a->partitioned ?
		"p.ctid OPERATOR(pg_catalog.=) u.t AND p.tableoid OPERATOR(pg_catalog.=) u.r" :
		"p.ctid OPERATOR(pg_catalog.=) u.t";
}

static void
range(StringInfo s, EnforceAttachment *a, EnforceColumnId price, const char *lo, const char *hi)
{
	appendStringInfo(s,
					 "p.%s OPERATOR(pg_catalog.>=) %s AND p.%s OPERATOR(pg_catalog.<=) %s",
					 col(a, price), lo, col(a, price), hi);
}

/* A candidate's symbol and the stored price of its next threshold in [lo, hi]. */
static void
candidate_where(StringInfo s, EnforceAttachment *a, const char *sym, const char *lo, const char *hi)
{
	appendStringInfo(s, " FROM %s p WHERE p.%s %s (%s%s) AND ((p.%s OPERATOR(pg_catalog.<) %s AND ",
					 a->qpositions, col(a, COL_POS_SYMBOL), a->sym_eq, sym, a->sym_collate,
					 col(a, COL_POS_STATUS), status_literal(a, "liquidate"));
	range(s, a, COL_POS_MCP, lo, hi);
	appendStringInfo(s, ") OR (p.%s OPERATOR(pg_catalog.=) %s AND ",
					 col(a, COL_POS_STATUS), status_literal(a, "margin_call"));
	range(s, a, COL_POS_LP, lo, hi);
	appendStringInfo(s, ") OR (p.%s OPERATOR(pg_catalog.=) %s AND ",
					 col(a, COL_POS_STATUS), status_literal(a, "liquidate"));
	range(s, a, COL_POS_BP, lo, hi);
	appendStringInfo(s, ")) ORDER BY %s", a->pk_order);
}

/*
 * How a statement locks the rows of alias it reads.  A state row's first
 * lock waits; every other lock a mark or instrument pass takes while it
 * holds a state row must not (enforce_lock.c): NOWAIT where a busy row
 * means starting again, SKIP LOCKED where the pass wants to know which.
 */
static const char *
lock_clause(EnforcePlanId id, const char *alias)
{
	switch (id)
	{
		case PLAN_STATE_LOCK_MANY:
			return psprintf(" FOR NO KEY UPDATE OF %s", alias);
		case PLAN_CANDIDATES:
		case PLAN_POSITIONS_OF:
		case PLAN_FLAGGED_OF:
			return psprintf(" FOR NO KEY UPDATE OF %s NOWAIT", alias);
		case PLAN_STATE_LOCK_MANY_SKIP:
		case PLAN_CANDIDATES_SKIP:
		case PLAN_POSITIONS_OF_SKIP:
		case PLAN_FLAGGED_OF_SKIP:
			return psprintf(" FOR NO KEY UPDATE OF %s SKIP LOCKED", alias);
		default:
			return "";
	}
}

/* The event INSERT of a 0.1.0 catalog (no cause, no snapshot), before ALTER EXTENSION UPDATE. */
static void
events_insert_0_1(StringInfo s, EnforceAttachment *a, int *nargs, Oid *argtypes)
{
	*nargs = 8;
	argtypes[0] = REGCLASSOID;
	argtypes[1] = JSONBARRAYOID;
	argtypes[2] = TEXTARRAYOID;
	argtypes[3] = get_array_type(a->status_type);
	argtypes[4] = get_array_type(a->status_type);
	argtypes[5] = NUMERICARRAYOID;
	argtypes[6] = NUMERICARRAYOID;
	argtypes[7] = NUMERICARRAYOID;
	appendStringInfo(s,
					 "INSERT INTO %s.events (positions, position_key, symbol, old_status, "
					 "new_status, mark_price, equity, maintenance_margin) "
					 "SELECT $1, u.k, u.s, u.o, u.n, u.m, u.e, u.mm FROM ROWS FROM "
					 "(pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
					 "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
					 "pg_catalog.unnest($8)) AS u(k, s, o, n, m, e, mm)",
					 a->qnsp);
}

char *
enforce_plan_sql(EnforceAttachment *a, EnforcePlanId id, int *nargs, Oid *argtypes)
{
	StringInfoData s;
	const char *eq = a->sym_eq;
	const char *coll = a->sym_collate;

	initStringInfo(&s);
	switch (id)
	{
		case PLAN_STATE_SHARE:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			appendStringInfo(&s,
							 "SELECT s.mark_price FROM %s s WHERE s.symbol %s ($1%s) FOR SHARE OF s",
							 a->qstate, eq, coll);
			break;

		case PLAN_STATE_ENSURE:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			appendStringInfo(&s, "INSERT INTO %s AS s (symbol) VALUES ($1) ON CONFLICT DO NOTHING",
							 a->qstate);
			break;

		case PLAN_INSTRUMENT:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			appendStringInfoString(&s, "SELECT ");
			instrument_columns(&s, a);
			appendStringInfo(&s, " FROM %s i WHERE i.%s %s ($1%s)",
							 a->qinstruments, col(a, COL_INS_SYMBOL), eq, coll);
			break;

		case PLAN_EVENT_KEY:
			*nargs = a->npk;
			appendStringInfo(&s, "SELECT %s FROM (SELECT ", a->pk_key);
			for (int i = 0; i < a->npk; i++)
			{
				argtypes[i] = a->pk_types[i];
				appendStringInfo(&s, "%s$%d AS %s", i ? ", " : "", i + 1,
								 quote_identifier(a->pk_names[i]));
			}
			appendStringInfoString(&s, ") p");
			break;

		case PLAN_EVENTS_AUDITED:
		case PLAN_EVENTS_MANY:
			if (!OidIsValid(a->cause_type))
			{
				events_insert_0_1(&s, a, nargs, argtypes);
				break;
			}
			*nargs = id == PLAN_EVENTS_AUDITED ? 17 : 15;
			argtypes[0] = REGCLASSOID;
			argtypes[1] = JSONBARRAYOID;
			argtypes[2] = TEXTARRAYOID;
			argtypes[3] = get_array_type(a->status_type);
			argtypes[4] = get_array_type(a->status_type);
			argtypes[5] = NUMERICARRAYOID;
			argtypes[6] = NUMERICARRAYOID;
			argtypes[7] = NUMERICARRAYOID;
			argtypes[8] = a->cause_type;
			for (int j = 9; j < 15; j++)
				argtypes[j] = NUMERICARRAYOID;
			argtypes[15] = TEXTOID;
			argtypes[16] = TEXTOID;
			appendStringInfo(&s,
							 "INSERT INTO %s.events (positions, position_key, symbol, old_status, "
							 "new_status, mark_price, equity, maintenance_margin, cause, size, "
							 "entry_price, margin, liquidation_price, margin_call_price, "
							 "bankruptcy_price%s) "
							 "SELECT $1, u.k, u.s, u.o, u.n, u.m, u.e, u.mm, $9, u.sz, u.en, u.mg, "
							 "u.lp, u.mcp, u.bp%s FROM ROWS FROM "
							 "(pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
							 "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
							 "pg_catalog.unnest($8), pg_catalog.unnest($10), pg_catalog.unnest($11), "
							 "pg_catalog.unnest($12), pg_catalog.unnest($13), pg_catalog.unnest($14), "
							 "pg_catalog.unnest($15)) "
							 "AS u(k, s, o, n, m, e, mm, sz, en, mg, lp, mcp, bp)",
							 a->qnsp,
							 id == PLAN_EVENTS_AUDITED ? ", actor, reason" : "",
							 id == PLAN_EVENTS_AUDITED ? ", $16, $17" : "");
			break;

		case PLAN_STATE_LOCK_MANY:
		case PLAN_STATE_LOCK_MANY_SKIP:
		case PLAN_STATE_PEEK_MANY:
			*nargs = 1;
			argtypes[0] = a->sym_array;
			appendStringInfo(&s,
							 "SELECT m.ord, s.mark_price, %s%s FROM ROWS FROM (pg_catalog.unnest($1)) "
							 "WITH ORDINALITY AS m(sym, ord) JOIN %s s ON s.symbol %s (m.sym%s) "
							 "ORDER BY m.ord%s",
							 a->state_has_held ? "s.held_price" : "NULL::pg_catalog.numeric",
							 a->has_time ? ", s.mark_time, s.held_time" : "",
							 a->qstate, eq, coll, lock_clause(id, "s"));
			break;

		case PLAN_STATE_ENSURE_MANY:
			*nargs = 1;
			argtypes[0] = a->sym_array;
			appendStringInfo(&s,
							 "INSERT INTO %s AS s (symbol) SELECT m.sym FROM pg_catalog.unnest($1) "
							 "AS m(sym) ON CONFLICT DO NOTHING", a->qstate);
			break;

		case PLAN_CANDIDATES:
		case PLAN_CANDIDATES_SKIP:
		case PLAN_CANDIDATES_PEEK:
			*nargs = 3;
			argtypes[0] = a->sym_array;
			argtypes[1] = NUMERICARRAYOID;
			argtypes[2] = NUMERICARRAYOID;
			appendStringInfoString(&s, id == PLAN_CANDIDATES ? "SELECT m.ord, c.*" : "SELECT ");
			if (id != PLAN_CANDIDATES)
				appendStringInfoString(&s, row_address(a, "c"));
			appendStringInfoString(&s,
								   " FROM ROWS FROM (pg_catalog.unnest($1), "
								   "pg_catalog.unnest($2), pg_catalog.unnest($3)) WITH ORDINALITY "
								   "AS m(sym, lo, hi, ord), LATERAL (SELECT ");
			if (id == PLAN_CANDIDATES)
				position_columns(&s, a);
			else
				appendStringInfoString(&s, row_address(a, "p"));
			candidate_where(&s, a, "m.sym", "m.lo", "m.hi");
			appendStringInfo(&s, "%s) c", lock_clause(id, "p"));
			break;

		case PLAN_CANDIDATES_ONE:
			*nargs = 3;
			argtypes[0] = a->sym_type;
			argtypes[1] = NUMERICOID;
			argtypes[2] = NUMERICOID;
			appendStringInfoString(&s, "SELECT CAST(1 AS pg_catalog.int8), ");
			position_columns(&s, a);
			candidate_where(&s, a, "$1", "$2", "$3");
			appendStringInfoString(&s, lock_clause(PLAN_CANDIDATES, "p"));
			break;

		case PLAN_STATE_LOCK_ONE:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			appendStringInfo(&s,
							 "SELECT CAST(1 AS pg_catalog.int8), s.mark_price, %s%s FROM %s s "
							 "WHERE s.symbol %s ($1%s) FOR NO KEY UPDATE OF s",
							 a->state_has_held ? "s.held_price" : "NULL::pg_catalog.numeric",
							 a->has_time ? ", s.mark_time, s.held_time" : "",
							 a->qstate, eq, coll);
			break;

		case PLAN_STATE_SET_MARK_ONE:
			*nargs = 2;
			argtypes[0] = a->sym_type;
			argtypes[1] = NUMERICOID;
			appendStringInfo(&s,
							 "UPDATE %s s SET mark_price = $2, updated_at = pg_catalog.now() "
							 "WHERE s.symbol %s ($1%s)",
							 a->qstate, eq, coll);
			break;

		case PLAN_INSTRUMENTS_MANY:
			*nargs = 1;
			argtypes[0] = a->sym_array;
			appendStringInfoString(&s, "SELECT m.ord, ");
			instrument_columns(&s, a);
			appendStringInfo(&s,
							 " FROM ROWS FROM (pg_catalog.unnest($1)) WITH ORDINALITY AS m(sym, ord) "
							 "JOIN %s i ON i.%s %s (m.sym%s)",
							 a->qinstruments, col(a, COL_INS_SYMBOL), eq, coll);
			break;

		case PLAN_SET_STATUS:
			*nargs = a->partitioned ? 3 : 2;
			argtypes[0] = TIDARRAYOID;
			argtypes[1] = get_array_type(a->status_type);
			argtypes[2] = OIDARRAYOID;
			appendStringInfo(&s,
							 "UPDATE %s p SET %s = u.st, %s = pg_catalog.now() FROM ROWS FROM "
							 "(pg_catalog.unnest($1), pg_catalog.unnest($2)%s) AS u(t, st%s) "
							 "WHERE %s",
							 a->qpositions, col(a, COL_POS_STATUS), col(a, COL_POS_CHANGED_AT),
							 a->partitioned ? ", pg_catalog.unnest($3)" : "",
							 a->partitioned ? ", r" : "", row_match(a));
			break;

		case PLAN_STATE_SET_MARKS:
			/* per symbol: the new mark (and its time) */
			*nargs = a->has_time ? 3 : 2;
			argtypes[0] = a->sym_array;
			argtypes[1] = NUMERICARRAYOID;
			argtypes[2] = a->time_array;
			appendStringInfo(&s,
							 "UPDATE %s s SET mark_price = u.p, updated_at = pg_catalog.now()%s "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)%s) AS u(sym, p%s) "
							 "WHERE s.symbol %s (u.sym%s)",
							 a->qstate,
							 a->has_time ? ", mark_time = u.t" : "",
							 a->has_time ? ", pg_catalog.unnest($3)" : "",
							 a->has_time ? ", t" : "",
							 eq, coll);
			break;

		case PLAN_STATE_SET_HELD:
			/* per symbol: the new mark (NULL: kept), the held one (NULL: none), their times */
			*nargs = a->has_time ? 5 : 3;
			argtypes[0] = a->sym_array;
			argtypes[1] = NUMERICARRAYOID;
			argtypes[2] = NUMERICARRAYOID;
			argtypes[3] = a->time_array;
			argtypes[4] = a->time_array;
			appendStringInfo(&s,
							 "UPDATE %s s SET mark_price = COALESCE(u.p, s.mark_price), "
							 "held_price = u.h, held_at = CASE WHEN u.h IS NULL THEN NULL "
							 "ELSE pg_catalog.now() END, updated_at = pg_catalog.now()%s "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
							 "pg_catalog.unnest($3)%s) AS u(sym, p, h%s) "
							 "WHERE s.symbol %s (u.sym%s)",
							 a->qstate,
							 a->has_time ? ", mark_time = CASE WHEN u.p IS NULL THEN s.mark_time "
							 "ELSE u.t END, held_time = u.ht" : "",
							 a->has_time ? ", pg_catalog.unnest($4), pg_catalog.unnest($5)" : "",
							 a->has_time ? ", t, ht" : "",
							 eq, coll);
			break;

		case PLAN_MARK_EVENTS:
			*nargs = 7;
			argtypes[0] = REGCLASSOID;
			argtypes[1] = TEXTARRAYOID;
			argtypes[2] = TEXTOID;
			argtypes[3] = NUMERICARRAYOID;
			argtypes[4] = NUMERICARRAYOID;
			argtypes[5] = TEXTOID;
			argtypes[6] = TEXTOID;
			appendStringInfo(&s,
							 "INSERT INTO %s.mark_events (positions, symbol, event, mark_price, "
							 "current_mark, actor, reason) SELECT $1, u.s, $3, u.m, u.c, $6, $7 "
							 "FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($4), "
							 "pg_catalog.unnest($5)) AS u(s, m, c)",
							 a->qnsp);
			break;

		case PLAN_STATE_TOUCH:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			appendStringInfo(&s,
							 "UPDATE %s s SET updated_at = pg_catalog.now() WHERE s.symbol %s ($1%s) "
							 "RETURNING s.mark_price",
							 a->qstate, eq, coll);
			break;

		case PLAN_POSITIONS_OF:
		case PLAN_POSITIONS_OF_SKIP:
		case PLAN_POSITIONS_OF_PEEK:
		case PLAN_FLAGGED_OF:
		case PLAN_FLAGGED_OF_SKIP:
		case PLAN_FLAGGED_OF_PEEK:
			*nargs = 1;
			argtypes[0] = a->sym_type;
			if (id == PLAN_POSITIONS_OF || id == PLAN_FLAGGED_OF)
			{
				appendStringInfoString(&s, "SELECT 0, ");
				position_columns(&s, a);
			}
			else
				appendStringInfo(&s, "SELECT %s", row_address(a, "p"));
			appendStringInfo(&s, " FROM %s p WHERE p.%s %s ($1%s)",
							 a->qpositions, col(a, COL_POS_SYMBOL), eq, coll);
			if (id == PLAN_FLAGGED_OF || id == PLAN_FLAGGED_OF_SKIP || id == PLAN_FLAGGED_OF_PEEK)
				appendStringInfo(&s, " AND p.%s OPERATOR(pg_catalog.>=) %s",
								 col(a, COL_POS_STATUS), status_literal(a, "liquidate"));
			appendStringInfo(&s, " ORDER BY %s%s", a->pk_order, lock_clause(id, "p"));
			break;

		case PLAN_WAIT_ROW:
			*nargs = a->partitioned ? 2 : 1;
			argtypes[0] = TIDOID;
			argtypes[1] = OIDOID;
			appendStringInfo(&s,
							 "SELECT 1 FROM %s p WHERE p.ctid OPERATOR(pg_catalog.=) $1%s "
							 "FOR NO KEY UPDATE OF p",
							 a->qpositions,
							 a->partitioned ? " AND p.tableoid OPERATOR(pg_catalog.=) $2" : "");
			break;

		case PLAN_SET_FIGURES:
			*nargs = a->partitioned ? 7 : 6;
			argtypes[0] = TIDARRAYOID;
			argtypes[1] = NUMERICARRAYOID;
			argtypes[2] = NUMERICARRAYOID;
			argtypes[3] = NUMERICARRAYOID;
			argtypes[4] = get_array_type(a->status_type);
			argtypes[5] = BOOLARRAYOID;
			argtypes[6] = OIDARRAYOID;
			appendStringInfo(&s,
							 "UPDATE %s p SET %s = u.lp, %s = u.mcp, %s = u.bp, %s = u.st, "
							 "%s = CASE WHEN u.ch THEN pg_catalog.now() ELSE p.%s END "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
							 "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
							 "pg_catalog.unnest($6)%s) AS u(t, lp, mcp, bp, st, ch%s) "
							 "WHERE %s",
							 a->qpositions, col(a, COL_POS_LP), col(a, COL_POS_MCP),
							 col(a, COL_POS_BP), col(a, COL_POS_STATUS),
							 col(a, COL_POS_CHANGED_AT), col(a, COL_POS_CHANGED_AT),
							 a->partitioned ? ", pg_catalog.unnest($7)" : "",
							 a->partitioned ? ", r" : "", row_match(a));
			break;

		default:
			elog(ERROR, "unknown enforcement plan %d", (int) id);
	}
	return s.data;
}

/*
 * How each statement is planned.  The statements over arrays (one element
 * per instrument, position or event of a pass) get the generic plan at
 * once: their custom plans, costed for the array at hand, always looked
 * cheaper than the generic one, estimated for an array of unknown length,
 * so the plan cache planned them again on every call (a mark update spent
 * most of its time there).  The generic plans are the index scans by tid,
 * symbol and stored price the statements are written for
 * (bench/enforce_latency.sh prints the candidate search's).
 */
int
enforce_plan_options(EnforcePlanId id)
{
	switch (id)
	{
		case PLAN_STATE_LOCK_MANY:
		case PLAN_STATE_LOCK_MANY_SKIP:
		case PLAN_STATE_PEEK_MANY:
		case PLAN_STATE_ENSURE_MANY:
		case PLAN_CANDIDATES:
		case PLAN_CANDIDATES_SKIP:
		case PLAN_CANDIDATES_PEEK:
		case PLAN_INSTRUMENTS_MANY:
		case PLAN_SET_STATUS:
		case PLAN_STATE_SET_MARKS:
		case PLAN_EVENTS_MANY:
		case PLAN_SET_FIGURES:
		case PLAN_STATE_LOCK_ONE:
		case PLAN_CANDIDATES_ONE:
		case PLAN_STATE_SET_MARK_ONE:
			return CURSOR_OPT_GENERIC_PLAN;
		default:
			return 0;
	}
}

/*
 * The statements that read one state row by its symbol.  The state table
 * holds one row per instrument, a page or two, so the planner prefers a
 * sequential scan of it; but every mark update leaves a dead version of a
 * row there, and a scan reads them all where the primary key's index goes
 * to the one row.  enforce_execute plans these with enable_seqscan off.
 */
bool
enforce_plan_by_index(EnforcePlanId id)
{
	return id == PLAN_STATE_LOCK_ONE || id == PLAN_STATE_SET_MARK_ONE ||
		id == PLAN_STATE_SHARE || id == PLAN_STATE_TOUCH;
}
