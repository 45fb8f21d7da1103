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

/* ctid, key, size, entry, margin, status: what a pass over positions reads */
static void
position_columns(StringInfo s, EnforceAttachment *a)
{
	appendStringInfo(s, "p.ctid, %s, p.%s, p.%s, p.%s, p.%s",
					 a->pk_key, col(a, COL_POS_SIZE), col(a, COL_POS_ENTRY),
					 col(a, COL_POS_MARGIN), col(a, COL_POS_STATUS));
}

static void
range(StringInfo s, EnforceAttachment *a, EnforceColumnId price)
{
	appendStringInfo(s,
					 "p.%s OPERATOR(pg_catalog.>=) m.lo AND p.%s OPERATOR(pg_catalog.<=) m.hi",
					 col(a, price), col(a, price));
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
			return psprintf(" FOR NO KEY UPDATE OF %s NOWAIT", alias);
		case PLAN_STATE_LOCK_MANY_SKIP:
		case PLAN_CANDIDATES_SKIP:
		case PLAN_POSITIONS_OF_SKIP:
			return psprintf(" FOR NO KEY UPDATE OF %s SKIP LOCKED", alias);
		default:
			return "";
	}
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
								 quote_identifier(get_attname(a->positions, a->pk_attnums[i], false)));
			}
			appendStringInfoString(&s, ") p");
			break;

		case PLAN_EVENTS_MANY:
			*nargs = 8;
			argtypes[0] = REGCLASSOID;
			argtypes[1] = JSONBARRAYOID;
			argtypes[2] = TEXTARRAYOID;
			argtypes[3] = get_array_type(a->status_type);
			argtypes[4] = get_array_type(a->status_type);
			argtypes[5] = NUMERICARRAYOID;
			argtypes[6] = NUMERICARRAYOID;
			argtypes[7] = NUMERICARRAYOID;
			appendStringInfo(&s,
							 "INSERT INTO %s.events (positions, position_key, symbol, old_status, "
							 "new_status, mark_price, equity, maintenance_margin) "
							 "SELECT $1, u.k, u.s, u.o, u.n, u.m, u.e, u.mm FROM ROWS FROM "
							 "(pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
							 "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
							 "pg_catalog.unnest($8)) AS u(k, s, o, n, m, e, mm) RETURNING id",
							 a->qnsp);
			break;

		case PLAN_STATE_LOCK_MANY:
		case PLAN_STATE_LOCK_MANY_SKIP:
		case PLAN_STATE_PEEK_MANY:
			*nargs = 1;
			argtypes[0] = a->sym_array;
			appendStringInfo(&s,
							 "SELECT m.ord, s.mark_price FROM ROWS FROM (pg_catalog.unnest($1)) "
							 "WITH ORDINALITY AS m(sym, ord) JOIN %s s ON s.symbol %s (m.sym%s) "
							 "ORDER BY m.ord%s",
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
			appendStringInfoString(&s, id == PLAN_CANDIDATES ? "SELECT m.ord, c.*" : "SELECT c.ctid");
			appendStringInfoString(&s,
								   " FROM ROWS FROM (pg_catalog.unnest($1), "
								   "pg_catalog.unnest($2), pg_catalog.unnest($3)) WITH ORDINALITY "
								   "AS m(sym, lo, hi, ord), LATERAL (SELECT ");
			if (id == PLAN_CANDIDATES)
				position_columns(&s, a);
			else
				appendStringInfoString(&s, "p.ctid");
			appendStringInfo(&s, " FROM %s p WHERE p.%s %s (m.sym%s) AND ((p.%s OPERATOR(pg_catalog.<) %s AND ",
							 a->qpositions, col(a, COL_POS_SYMBOL), eq, coll,
							 col(a, COL_POS_STATUS), status_literal(a, "liquidate"));
			range(&s, a, COL_POS_MCP);
			appendStringInfo(&s, ") OR (p.%s OPERATOR(pg_catalog.=) %s AND ",
							 col(a, COL_POS_STATUS), status_literal(a, "margin_call"));
			range(&s, a, COL_POS_LP);
			appendStringInfo(&s, ") OR (p.%s OPERATOR(pg_catalog.=) %s AND ",
							 col(a, COL_POS_STATUS), status_literal(a, "liquidate"));
			range(&s, a, COL_POS_BP);
			appendStringInfo(&s, ")) ORDER BY %s%s) c", a->pk_order, lock_clause(id, "p"));
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
			*nargs = 2;
			argtypes[0] = TIDARRAYOID;
			argtypes[1] = get_array_type(a->status_type);
			appendStringInfo(&s,
							 "UPDATE %s p SET %s = u.st, %s = pg_catalog.now() FROM ROWS FROM "
							 "(pg_catalog.unnest($1), pg_catalog.unnest($2)) AS u(t, st) "
							 "WHERE p.ctid OPERATOR(pg_catalog.=) u.t",
							 a->qpositions, col(a, COL_POS_STATUS), col(a, COL_POS_CHANGED_AT));
			break;

		case PLAN_STATE_SET_MARKS:
			*nargs = 2;
			argtypes[0] = a->sym_array;
			argtypes[1] = NUMERICARRAYOID;
			appendStringInfo(&s,
							 "UPDATE %s s SET mark_price = u.p, updated_at = pg_catalog.now() "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS u(sym, p) "
							 "WHERE s.symbol %s (u.sym%s)",
							 a->qstate, eq, coll);
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
			*nargs = 1;
			argtypes[0] = a->sym_type;
			if (id == PLAN_POSITIONS_OF)
			{
				appendStringInfoString(&s, "SELECT 0, ");
				position_columns(&s, a);
			}
			else
				appendStringInfoString(&s, "SELECT p.ctid");
			appendStringInfo(&s, " FROM %s p WHERE p.%s %s ($1%s) ORDER BY %s%s",
							 a->qpositions, col(a, COL_POS_SYMBOL), eq, coll, a->pk_order,
							 lock_clause(id, "p"));
			break;

		case PLAN_WAIT_ROW:
			*nargs = 1;
			argtypes[0] = TIDOID;
			appendStringInfo(&s,
							 "SELECT 1 FROM %s p WHERE p.ctid OPERATOR(pg_catalog.=) $1 "
							 "FOR NO KEY UPDATE OF p",
							 a->qpositions);
			break;

		case PLAN_SET_FIGURES:
			*nargs = 6;
			argtypes[0] = TIDARRAYOID;
			argtypes[1] = NUMERICARRAYOID;
			argtypes[2] = NUMERICARRAYOID;
			argtypes[3] = NUMERICARRAYOID;
			argtypes[4] = get_array_type(a->status_type);
			argtypes[5] = BOOLARRAYOID;
			appendStringInfo(&s,
							 "UPDATE %s p SET %s = u.lp, %s = u.mcp, %s = u.bp, %s = u.st, "
							 "%s = CASE WHEN u.ch THEN pg_catalog.now() ELSE p.%s END "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
							 "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
							 "pg_catalog.unnest($6)) AS u(t, lp, mcp, bp, st, ch) "
							 "WHERE p.ctid OPERATOR(pg_catalog.=) u.t",
							 a->qpositions, col(a, COL_POS_LP), col(a, COL_POS_MCP),
							 col(a, COL_POS_BP), col(a, COL_POS_STATUS),
							 col(a, COL_POS_CHANGED_AT), col(a, COL_POS_CHANGED_AT));
			break;

		default:
			elog(ERROR, "unknown enforcement plan %d", (int) id);
	}
	return s.data;
}
