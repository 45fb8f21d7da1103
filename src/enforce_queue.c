/*
 * enforce_queue.c
 *	  The event queue's functions: claim_events, ack_events, purge_events,
 *	  grant_events and revoke_events (doc/enforcement.md, "The queue").
 *
 * Workers hold no privilege on isomargin.events: the owner of a positions
 * table grants its events to a role (isomargin.event_grants), and these
 * functions check the caller's grants, then write as the owner of
 * isomargin.events, inside a security-restricted operation, statements of
 * their own over built-in types only, with every value bound as a
 * parameter.  So no code of the caller's runs with that owner's rights,
 * and a worker can claim, acknowledge and read only what was granted to
 * it, never rewrite an event or unclaim one.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(claim_events);
PG_FUNCTION_INFO_V1(ack_events);
PG_FUNCTION_INFO_V1(purge_events);
PG_FUNCTION_INFO_V1(grant_events);
PG_FUNCTION_INFO_V1(revoke_events);

/* The extension's schema, as the function being called sees it. */
typedef struct Queue
{
	Oid			nsp;
	const char *qnsp;
	Oid			events_owner;
	Oid			caller;
} Queue;

static void
queue_open_in(Oid nsp, Queue *q)
{
	Oid			events;

	q->nsp = nsp;
	q->qnsp = quote_identifier(get_namespace_name(q->nsp));
	events = get_relname_relid("events", q->nsp);
	if (!OidIsValid(events))
		elog(ERROR, "isomargin's events table is missing");
	q->events_owner = enforce_rel_owner(events);
	q->caller = GetUserId();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
queue_open(FunctionCallInfo fcinfo, Queue *q)
{
	queue_open_in(get_func_namespace(fcinfo->flinfo->fn_oid), q);
}

/*
 * The queue's statements, prepared once per session and kept (a worker
 * claims and acknowledges thousands of times: planning each call cost more
 * than running it).  Keyed by the text, which names the schema and the
 * filters given, and the argument types (an extension created again has
 * new ones); the plan cache replans them when a table they read changes.
 */
typedef struct QueuePlan
{
	char		key[NAMEDATALEN * 16];	/* hash key: the types, then the text */
	SPIPlanPtr	plan;
} QueuePlan;

static HTAB *queue_plans = NULL;

#define QUEUE_MAX_PLANS 64

static SPIPlanPtr
queue_plan(const char *sql, int nargs, Oid *types)
{
	QueuePlan  *e;
	bool		found;
	SPIPlanPtr	plan;
	StringInfoData key;

	initStringInfo(&key);
	for (int i = 0; i < nargs; i++)
		appendStringInfo(&key, "%u,", types[i]);
	appendStringInfo(&key, "\n%s", sql);
	if (key.len >= (int) sizeof(e->key))
		return NULL;
	if (queue_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(e->key);
		ctl.entrysize = sizeof(QueuePlan);
		queue_plans = hash_create("isomargin queue statements", 32, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	e = hash_search(queue_plans, key.data, HASH_FIND, NULL);
	if (e != NULL)
		return e->plan;
	/* a caller varying its filters without end gets one-shot plans */
	if (hash_get_num_entries(queue_plans) >= QUEUE_MAX_PLANS)
		return NULL;
	plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "isomargin queue statement failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	e = hash_search(queue_plans, key.data, HASH_ENTER, &found);
	e->plan = plan;
	return plan;
}

/*
 * Run sql as the owner of isomargin.events; the statement names no user
 * object.  Every call of one text passes the same argument types.
 */
static int
queue_run(Queue *q, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		  bool read_only)
{
	EnforceUser save;
	SPIPlanPtr	plan;
	int			rc;

	enforce_become(q->events_owner, &save);
	plan = queue_plan(sql, nargs, types);
	if (plan != NULL)
		rc = SPI_execute_plan(plan, values, nulls, read_only, 0);
	else
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
	enforce_restore(&save);
	if (rc < 0)
		elog(ERROR, "isomargin queue statement failed: %s", SPI_result_code_string(rc));
	return rc;
}

static void
bad_argument(const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 hint ? errhint("%s", hint) : 0));
}

/* A filter array: NULL means every value; else non-empty, one-dimensional, no NULLs. */
static Datum
filter_array(FunctionCallInfo fcinfo, int argno, const char *name, char *null)
{
	ArrayType  *arr;

	*null = 'n';
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return (Datum) 0;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) != 1 || array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a non-empty list without nulls", name),
				 strcmp(name, "ids") != 0 ? errhint("Pass NULL (the default) for no filter.") : 0));
	*null = ' ';
	return PointerGetDatum(arr);
}

static Oid
table_owner_checked(Oid relid)
{
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return enforce_rel_owner(relid);
}

/*
 * The positions tables whose events the caller may claim (claim true) or
 * read: those whose owner's privileges it has, and those granted to a role
 * whose privileges it has.  NULL for a superuser: every table.
 */
static Datum
granted_tables(Queue *q, bool claim, char *null)
{
	Oid			types[2] = {OIDOID, BOOLOID};
	Datum		values[2] = {ObjectIdGetDatum(q->caller), BoolGetDatum(claim)};
	bool		isnull;
	Datum		d;

	*null = 'n';
	if (superuser_arg(q->caller))
		return (Datum) 0;
	queue_run(q, psprintf("SELECT pg_catalog.array_agg(DISTINCT x.p) FROM ("
						  "SELECT e.positions::pg_catalog.oid AS p FROM %1$s.enforcement e "
						  "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) e.positions::pg_catalog.oid "
						  "WHERE pg_catalog.pg_has_role($1, c.relowner, 'USAGE') "
						  "UNION ALL SELECT g.positions::pg_catalog.oid FROM %1$s.event_grants g "
						  "WHERE (g.can_claim OR NOT $2) "
						  "AND pg_catalog.pg_has_role($1, g.grantee::pg_catalog.oid, 'USAGE')) x",
						  q->qnsp),
			  2, types, values, NULL, true);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*null = ' ';
	if (isnull)
		return PointerGetDatum(construct_empty_array(OIDOID));
	return d;
}

/*
 * The answers of may_claim, kept for the rest of the transaction: a
 * liquidation worker asks for one table up to four times a transaction (its
 * claim, checked_mark, the settled events).  Forgotten at the end of the
 * transaction, and at once when grant_events or revoke_events runs, a
 * role's membership or attributes change, or a relation's cache entry is
 * invalidated (a table's new owner): the processing of these invalidations
 * at each command boundary covers the session's own changes too.  So a
 * grant revoked by another session holds back a worker from its next
 * transaction on, as a revoked table privilege holds back statements.
 */
typedef struct ClaimGrant
{
	Oid			caller;
	Oid			positions;
	bool		claim;			/* the claim grant's answer, else the read grant's */
	bool		ok;
} ClaimGrant;

#define CLAIM_GRANTS_KEPT 16

static ClaimGrant claim_grants[CLAIM_GRANTS_KEPT];
static int	claim_grants_n = 0;
static LocalTransactionId claim_grants_lxid = InvalidLocalTransactionId;
static bool claim_grants_callbacks = false;

static void
claim_grants_forget(void)
{
	claim_grants_n = 0;
	claim_grants_lxid = InvalidLocalTransactionId;
}

static void
claim_grants_syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	claim_grants_forget();
}

static void
claim_grants_relcache_changed(Datum arg, Oid relid)
{
	claim_grants_forget();
}

static ClaimGrant *
claim_grant_kept(Oid caller, Oid positions, bool claim)
{
	if (!claim_grants_callbacks)
	{
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, claim_grants_syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, claim_grants_syscache_changed, (Datum) 0);
		CacheRegisterRelcacheCallback(claim_grants_relcache_changed, (Datum) 0);
		claim_grants_callbacks = true;
	}
	if (claim_grants_lxid != MyProc->lxid)
	{
		claim_grants_n = 0;
		claim_grants_lxid = MyProc->lxid;
	}
	for (int i = 0; i < claim_grants_n; i++)
		if (claim_grants[i].caller == caller && claim_grants[i].positions == positions &&
			claim_grants[i].claim == claim)
			return &claim_grants[i];
	return NULL;
}

static bool
claim_grant_keep(Oid caller, Oid positions, bool claim, bool ok)
{
	if (claim_grants_lxid == MyProc->lxid && claim_grants_n < CLAIM_GRANTS_KEPT)
	{
		claim_grants[claim_grants_n].caller = caller;
		claim_grants[claim_grants_n].positions = positions;
		claim_grants[claim_grants_n].claim = claim;
		claim_grants[claim_grants_n].ok = ok;
		claim_grants_n++;
	}
	return ok;
}

/* May the caller claim the events of this positions table? */
static bool
may_claim(Queue *q, Oid positions)
{
	Oid			types[3] = {OIDOID, OIDOID, OIDOID};
	Datum		values[3];
	ClaimGrant *kept = claim_grant_kept(q->caller, positions, true);

	if (kept != NULL)
		return kept->ok;
	if (has_privs_of_role(q->caller, table_owner_checked(positions)))
		return claim_grant_keep(q->caller, positions, true, true);
	values[0] = ObjectIdGetDatum(q->caller);
	values[1] = ObjectIdGetDatum(positions);
	queue_run(q, psprintf("SELECT 1 FROM %s.event_grants g WHERE g.can_claim "
						  "AND g.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $2 "
						  "AND pg_catalog.pg_has_role($1, g.grantee::pg_catalog.oid, 'USAGE')",
						  q->qnsp),
			  2, types, values, NULL, true);
	return claim_grant_keep(q->caller, positions, true, SPI_processed > 0);
}

static void
no_grant(Oid positions, Oid caller)
{
	char	   *name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(positions)),
												  get_rel_name(positions));

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to claim the events of table %s", name),
			 errdetail("Role %s has no isomargin event grant to claim them.", GetUserNameFromId(caller, false)),
			 errhint("The table's owner grants them: SELECT isomargin.grant_events(%s, %s);",
					 quote_literal_cstr(name), quote_literal_cstr(GetUserNameFromId(caller, false)))));
}

/*
 * The caller may claim the events of positions (enforce.h), or the call
 * fails naming the grant it lacks.  For the worker's other reads of an
 * attachment (checked_mark).
 */
void
enforce_check_claim_grant(FunctionCallInfo fcinfo, Oid positions)
{
	Queue		q;
	bool		ok;
	ClaimGrant *kept = claim_grant_kept(GetUserId(), positions, true);

	if (kept != NULL && kept->ok)
		return;
	queue_open(fcinfo, &q);
	ok = may_claim(&q, positions);
	SPI_finish();
	if (!ok)
		no_grant(positions, q.caller);
}

/* May the caller claim the events of positions (enforce.h)?  Kept for the transaction. */
bool
enforce_may_claim(Oid nsp, Oid positions)
{
	Queue		q;
	bool		ok;
	ClaimGrant *kept = claim_grant_kept(GetUserId(), positions, true);

	if (kept != NULL)
		return kept->ok;
	queue_open_in(nsp, &q);
	ok = may_claim(&q, positions);
	SPI_finish();
	return ok;
}

/*
 * May the caller read the events of positions (enforce.h): events_granted's
 * rule, the claim grant's or a read grant.  Kept for the transaction, as the
 * claim grant's answer.
 */
bool
enforce_may_read(Oid nsp, Oid positions)
{
	Queue		q;
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	bool		ok;
	ClaimGrant *kept = claim_grant_kept(GetUserId(), positions, false);

	if (kept != NULL)
		return kept->ok;
	if (enforce_may_claim(nsp, positions))
		return claim_grant_keep(GetUserId(), positions, false, true);
	queue_open_in(nsp, &q);
	values[0] = ObjectIdGetDatum(q.caller);
	values[1] = ObjectIdGetDatum(positions);
	queue_run(&q, psprintf("SELECT 1 FROM %s.event_grants g "
						   "WHERE g.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $2 "
						   "AND pg_catalog.pg_has_role($1, g.grantee::pg_catalog.oid, 'USAGE')",
						   q.qnsp),
			  2, types, values, NULL, true);
	ok = SPI_processed > 0;
	SPI_finish();
	return claim_grant_keep(q.caller, positions, false, ok);
}

static void
check_worker(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		bad_argument("worker must not be null", "Name the worker: it is recorded in claimed_by.");
}

/*
 * claim_events(worker, max_events, positions, symbols, statuses, causes,
 * position_keys): up to max_events unclaimed events, oldest first, of the
 * tables the caller may claim, filtered.  Concurrent callers never get the same
 * event (FOR UPDATE SKIP LOCKED); a claim rolled back is claimable again.
 */
Datum
claim_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Queue		q;
	Oid			types[7];
	Datum		values[7];
	char		nulls[7] = "       ";
	int32		max_events;
	StringInfoData sql;

	check_worker(fcinfo);
	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_events must be at least 1"),
				 PG_ARGISNULL(1) ? 0 : errdetail("The value is %d.", PG_GETARG_INT32(1))));
	max_events = PG_GETARG_INT32(1);
	InitMaterializedSRF(fcinfo, 0);
	queue_open(fcinfo, &q);

	types[0] = TEXTOID;
	values[0] = PG_GETARG_DATUM(0);
	types[1] = INT4OID;
	values[1] = Int32GetDatum(max_events);
	types[2] = OIDARRAYOID;
	if (!PG_ARGISNULL(2))
	{
		Oid			positions = PG_GETARG_OID(2);

		if (!may_claim(&q, positions))
			no_grant(positions, q.caller);
		types[2] = OIDOID;
		values[2] = ObjectIdGetDatum(positions);
	}
	else
		values[2] = granted_tables(&q, true, &nulls[2]);
	types[3] = TEXTARRAYOID;
	values[3] = filter_array(fcinfo, 3, "symbols", &nulls[3]);
	types[4] = get_array_type(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											  CStringGetDatum("margin_status"),
											  ObjectIdGetDatum(q.nsp)));
	values[4] = filter_array(fcinfo, 4, "statuses", &nulls[4]);
	types[5] = get_array_type(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											  CStringGetDatum("event_cause"),
											  ObjectIdGetDatum(q.nsp)));
	values[5] = filter_array(fcinfo, 5, "causes", &nulls[5]);
	types[6] = JSONBARRAYOID;
	values[6] = filter_array(fcinfo, 6, "position_keys", &nulls[6]);

	/*
	 * Only the filters given are written into the statement, and one table
	 * as an equality: with it the planner knows the table is fixed, so an
	 * index on (positions, id) returns the oldest events in order and the
	 * claim reads one entry, not every event of the table.
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %1$s.events AS e SET claimed_by = $1, "
					 "claimed_at = pg_catalog.clock_timestamp() "
					 "WHERE e.id OPERATOR(pg_catalog.=) ANY (ARRAY("
					 "SELECT u.id FROM %1$s.events AS u WHERE u.claimed_at IS NULL", q.qnsp);
	if (nulls[2] != 'n')
		appendStringInfoString(&sql, types[2] == OIDOID ?
							   " AND u.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $3" :
							   " AND u.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($3)");
	for (int i = 3; i < 7; i++)
	{
		static const char *const column[7] = {[3] = "symbol", [4] = "new_status",
		[5] = "cause", [6] = "position_key"};

		if (nulls[i] == 'n')
			continue;
		/*
		 * The statuses are written as a constant (enum labels, from a
		 * checked array): a kept plan can then use a partial index on the
		 * flagged events, such as events_unclaimed_liquidation.
		 */
		if (i == 4)
			appendStringInfo(&sql, " AND u.new_status OPERATOR(pg_catalog.=) ANY (%s::%s.margin_status[])",
							 quote_literal_cstr(OidOutputFunctionCall(F_ARRAY_OUT, values[4])), q.qnsp);
		else
			appendStringInfo(&sql, " AND u.%s OPERATOR(pg_catalog.=) ANY ($%d)", column[i], i + 1);
	}
	/*
	 * The limit as a constant too: a kept plan does not know $2, and would
	 * plan for a tenth of the table.
	 */
	appendStringInfo(&sql, " ORDER BY u.id LIMIT %d FOR UPDATE SKIP LOCKED)) RETURNING e.*",
					 max_events);
	queue_run(&q, sql.data, 7, types, values, nulls, false);
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ack_events(worker, ids): the worker is done with these events, which it
 * claimed; returns how many it acknowledged now (an event acknowledged
 * before counts once).  An id that is not an event this worker claimed, in
 * a table the caller may claim, fails the call and acknowledges nothing.
 */
Datum
ack_events(PG_FUNCTION_ARGS)
{
	Queue		q;
	Oid			types[3] = {TEXTOID, INT8ARRAYOID, OIDARRAYOID};
	Datum		values[3];
	char		nulls[3] = "   ";
	uint64		n;

	check_worker(fcinfo);
	values[1] = filter_array(fcinfo, 1, "ids", &nulls[1]);
	if (nulls[1] == 'n')
		bad_argument("ids must not be null", NULL);
	values[0] = PG_GETARG_DATUM(0);
	queue_open(fcinfo, &q);
	values[2] = granted_tables(&q, true, &nulls[2]);

	queue_run(&q, psprintf("SELECT x.id FROM pg_catalog.unnest($2) AS x(id) "
						   "LEFT JOIN %s.events e ON e.id OPERATOR(pg_catalog.=) x.id "
						   "AND ($3 IS NULL OR e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($3)) "
						   "WHERE e.claimed_by IS NULL OR e.claimed_by OPERATOR(pg_catalog.<>) $1 "
						   "ORDER BY x.id LIMIT 1", q.qnsp),
			  3, types, values, nulls, true);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event %s is not claimed by worker \"%s\"",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						TextDatumGetCString(values[0])),
				 errdetail("A worker acknowledges only events it claimed, of tables granted to it.")));
	queue_run(&q, psprintf("UPDATE %s.events e SET acked_at = pg_catalog.clock_timestamp() "
						   "WHERE e.id OPERATOR(pg_catalog.=) ANY ($2) AND e.acked_at IS NULL", q.qnsp),
			  3, types, values, nulls, false);
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

/*
 * purge_events(older_than, positions, unclaimed): delete the events
 * claimed longer ago than older_than (with unclaimed, also the unclaimed
 * ones created longer ago), of one positions table or of all the caller
 * owns (all, for the owner of isomargin.events); returns how many.
 */
Datum
purge_events(PG_FUNCTION_ARGS)
{
	Queue		q;
	Interval   *age;
	Interval	zero = {0};
	Oid			types[4] = {INTERVALOID, OIDOID, OIDOID, BOOLOID};
	Datum		values[4];
	char		nulls[4] = "    ";
	uint64		n;

	if (PG_ARGISNULL(0))
		bad_argument("older_than must not be null", "Purge the events claimed longer ago than this age.");
	if (PG_NARGS() > 2 && PG_ARGISNULL(2))
		bad_argument("unclaimed must not be null", NULL);
	values[3] = BoolGetDatum(PG_NARGS() > 2 && PG_GETARG_BOOL(2));
	age = PG_GETARG_INTERVAL_P(0);
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(age),
										  IntervalPGetDatum(&zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative"),
				 errdetail("The value is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(age))))));
	queue_open(fcinfo, &q);
	values[0] = IntervalPGetDatum(age);
	values[1] = (Datum) 0;
	nulls[1] = 'n';
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
	{
		Oid			positions = PG_GETARG_OID(1);

		if (!has_privs_of_role(q.caller, table_owner_checked(positions)) &&
			!has_privs_of_role(q.caller, q.events_owner))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(positions));
		values[1] = ObjectIdGetDatum(positions);
		nulls[1] = ' ';
	}
	/* the caller's own tables, unless it has the events owner's privileges */
	values[2] = ObjectIdGetDatum(q.caller);
	if (has_privs_of_role(q.caller, q.events_owner))
		nulls[2] = 'n';
	queue_run(&q, psprintf("DELETE FROM %s.events e WHERE (e.claimed_at OPERATOR(pg_catalog.<) "
						   "(pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $1) "
						   "OR ($4 AND e.claimed_at IS NULL AND e.created_at OPERATOR(pg_catalog.<) "
						   "(pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $1))) "
						   "AND ($2 IS NULL OR e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $2) "
						   "AND ($3 IS NULL OR pg_catalog.pg_has_role($3, (SELECT c.relowner "
						   "FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) "
						   "e.positions::pg_catalog.oid), 'USAGE'))", q.qnsp),
			  4, types, values, nulls, false);
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}

/* The caller must have the privileges of the owner of an enforced positions table. */
static void
check_grantor(Queue *q, Oid positions)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(positions)};

	if (!has_privs_of_role(q->caller, table_owner_checked(positions)))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(positions));
	queue_run(q, psprintf("SELECT 1 FROM %s.enforcement e "
						  "WHERE e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $1", q->qnsp),
			  1, types, values, NULL, true);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not enforced", get_rel_name(positions))));
}

/*
 * grant_events(positions, grantee, claim): the grantee (and the roles that
 * have its privileges) reads the table's events and, with claim, claims
 * and acknowledges them.  Granting again changes claim.
 */
Datum
grant_events(PG_FUNCTION_ARGS)
{
	Queue		q;
	Oid			types[3] = {OIDOID, OIDOID, BOOLOID};
	Datum		values[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		bad_argument("positions, grantee and claim must not be null", NULL);
	queue_open(fcinfo, &q);
	check_grantor(&q, PG_GETARG_OID(0));
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = PG_GETARG_DATUM(2);
	queue_run(&q, psprintf("INSERT INTO %s.event_grants AS g (positions, grantee, can_claim) "
						   "VALUES ($1, $2, $3) ON CONFLICT (positions, grantee) DO UPDATE "
						   "SET can_claim = EXCLUDED.can_claim, granted_at = pg_catalog.now()",
						   q.qnsp),
			  3, types, values, NULL, false);
	SPI_finish();
	claim_grants_forget();
	PG_RETURN_VOID();
}

/* revoke_events(positions, grantee): true if there was a grant to remove. */
Datum
revoke_events(PG_FUNCTION_ARGS)
{
	Queue		q;
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	uint64		n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		bad_argument("positions and grantee must not be null", NULL);
	queue_open(fcinfo, &q);
	if (!has_privs_of_role(q.caller, table_owner_checked(PG_GETARG_OID(0))))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(PG_GETARG_OID(0)));
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_GETARG_DATUM(1);
	queue_run(&q, psprintf("DELETE FROM %s.event_grants g "
						   "WHERE g.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
						   "AND g.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) $2", q.qnsp),
			  2, types, values, NULL, false);
	n = SPI_processed;
	SPI_finish();
	claim_grants_forget();
	PG_RETURN_BOOL(n > 0);
}

/*
 * Claims and acknowledges, as $1, the unclaimed events of table $2 that
 * filter selects ($3 its parameter, if type is valid), oldest first, up to limit (0: every
 * one), FOR UPDATE SKIP LOCKED, in one statement: what claim_events and
 * then ack_events did in one transaction.  The caller must be allowed to
 * claim the table's events (42501 otherwise).  SPI left connected.
 */
static void
claim_and_ack(Queue *q, Oid positions, Datum worker, const char *filter, Oid type, Datum value,
			  int limit)
{
	Oid			types[3] = {TEXTOID, OIDOID, type};
	Datum		values[3] = {worker, ObjectIdGetDatum(positions), value};

	if (!may_claim(q, positions))
		no_grant(positions, q->caller);
	queue_run(q, psprintf("UPDATE %1$s.events AS e SET claimed_by = $1, "
						  "claimed_at = pg_catalog.clock_timestamp(), acked_at = pg_catalog.clock_timestamp() "
						  "WHERE e.id OPERATOR(pg_catalog.=) ANY (ARRAY("
						  "SELECT u.id FROM %1$s.events AS u WHERE u.claimed_at IS NULL "
						  "AND u.positions::pg_catalog.oid OPERATOR(pg_catalog.=) $2 AND %2$s "
						  "ORDER BY u.id %3$s FOR UPDATE SKIP LOCKED)) "
						  "RETURNING e.id, e.position_key",
						  q->qnsp, filter, limit > 0 ? psprintf("LIMIT %d", limit) : ""),
			  OidIsValid(type) ? 3 : 2, types, values, NULL, false);
}

/*
 * For the liquidation worker (enforce.h): the oldest unclaimed event of
 * positions with new_status >= min_status, claimed and acknowledged by
 * worker.  false when there is none; else *id
 * and *position_key (in the caller's memory context).
 */
bool
enforce_claim_next(Oid nsp, Oid positions, Datum worker, const char *min_status,
				   int64 *id, Datum *position_key)
{
	Queue		q;
	bool		found = false;

	queue_open_in(nsp, &q);
	/* the filter of events_unclaimed_liquidation, written as its predicate */
	claim_and_ack(&q, positions, worker,
				  psprintf("u.new_status OPERATOR(pg_catalog.>=) %s::%s.margin_status",
						   quote_literal_cstr(min_status), q.qnsp),
				  InvalidOid, (Datum) 0, 1);
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		k;

		*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		k = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		*position_key = SPI_datumTransfer(k, false, -1);
		found = true;
	}
	SPI_finish();
	return found;
}

/*
 * For the liquidation worker (enforce.h): claims and acknowledges, as
 * worker, every unclaimed event of one position.  Returns how many.
 */
uint64
enforce_settle_events(Oid nsp, Oid positions, Datum position_key, Datum worker)
{
	Queue		q;
	uint64		n;

	queue_open_in(nsp, &q);
	claim_and_ack(&q, positions, worker, "u.position_key OPERATOR(pg_catalog.=) $3", JSONBOID,
				  position_key, 0);
	n = SPI_processed;
	SPI_finish();
	return n;
}
