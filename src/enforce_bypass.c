/*
 * enforce_bypass.c
 *	  What would let a position's stored prices and status go stale behind
 *	  the positions trigger's back: a user BEFORE ROW trigger that fires after
 *	  it (and may change the inputs it just priced), or enforcement's own
 *	  triggers disabled.
 *
 * Triggers of one kind fire in name order (strcmp, as the relcache sorts
 * them), so a BEFORE ROW trigger named after isomargin_<id>_positions sees
 * the row after isomargin computed it.  Two guards:
 *	 - enforce_check_trigger_order, called by the positions trigger on every
 *	   row: such a trigger, enabled for this session's replication role,
 *	   fails the statement.  It needs no catalog access (the relcache's
 *	   trigger list is in hand) and cannot be switched off.
 *	 - enforcement_ddl_check, the ddl_command_end event trigger on CREATE
 *	   TRIGGER, ALTER TRIGGER and ALTER TABLE: refuses the command that would
 *	   make such a trigger fire (creating, renaming or enabling it, or
 *	   enforce() attaching to a table that has one), and warns when a command
 *	   leaves one of an attachment's triggers disabled, or firing only under
 *	   session_replication_role = replica: the hint names isomargin.verify.
 * Writes made while enforcement did not fire are found by isomargin.verify
 * (install/35_verify.sql); doc/enforcement.md, "Bypasses and verify".
 */
#include "postgres.h"

#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforcement_ddl_check);

/* Whether trigger t fires in this session (commands/trigger.c, TriggerEnabled). */
static bool
fires_now(const Trigger *t)
{
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return t->tgenabled == TRIGGER_FIRES_ON_REPLICA || t->tgenabled == TRIGGER_FIRES_ALWAYS;
	return t->tgenabled == TRIGGER_FIRES_ON_ORIGIN || t->tgenabled == TRIGGER_FIRES_ALWAYS;
}

static void
order_error(const char *later, const char *table, const char *ours)
{
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" on table \"%s\" fires after isomargin's trigger \"%s\"",
					later, table, ours),
			 errdetail("A BEFORE ROW trigger that fires after isomargin's could change a position after its prices and status were computed."),
			 errhint("Triggers fire in name order: rename it to sort before \"%s\", or make it an AFTER trigger.",
					 ours)));
}

/*
 * The positions trigger's guard: no enabled BEFORE ROW trigger for this
 * event fires after it.
 */
void
enforce_check_trigger_order(TriggerData *td)
{
	TriggerDesc *desc = td->tg_relation->trigdesc;
	int			event = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? TRIGGER_TYPE_UPDATE : TRIGGER_TYPE_INSERT;
	bool		after = false;

	for (int i = 0; i < desc->numtriggers; i++)
	{
		const Trigger *t = &desc->triggers[i];

		if (t->tgoid == td->tg_trigger->tgoid)
			after = true;
		else if (after &&
				 TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_BEFORE, event) &&
				 fires_now(t))
			order_error(t->tgname, RelationGetRelationName(td->tg_relation),
						td->tg_trigger->tgname);
	}
}

/*
 * The tables the current command touched: tables, and the tables of
 * triggers.  Not read-only: a fresh snapshot sees the command's own
 * catalog rows (a trigger just created).
 */
static Datum
touched_tables(int *n)
{
	Datum	   *oids;

	if (SPI_execute("SELECT DISTINCT CASE WHEN d.classid OPERATOR(pg_catalog.=) "
					"'pg_catalog.pg_trigger'::pg_catalog.regclass THEN t.tgrelid ELSE d.objid END "
					"FROM pg_catalog.pg_event_trigger_ddl_commands() d "
					"LEFT JOIN pg_catalog.pg_trigger t ON d.classid OPERATOR(pg_catalog.=) "
					"'pg_catalog.pg_trigger'::pg_catalog.regclass AND t.oid OPERATOR(pg_catalog.=) d.objid "
					"WHERE d.classid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.pg_class'::pg_catalog.regclass, "
					"'pg_catalog.pg_trigger'::pg_catalog.regclass])", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the DDL commands failed");
	*n = 0;
	oids = palloc(sizeof(Datum) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			oids[(*n)++] = d;
	}
	return enforce_array(oids, NULL, *n, OIDOID);
}

/*
 * Rows (kind, trigger, table, other, function): kind 'order' for a BEFORE ROW
 * trigger on an attached positions table that sorts after isomargin's,
 * 'D' or 'R' for one of an attachment's own triggers that is disabled or
 * fires only on a replica (other: the positions table, function: the
 * trigger's function).  Read as the catalog's owner; only catalogs and
 * built-in operators, every name qualified.
 */
static void
find_bypasses(const char *qnsp, Oid config, Datum tables)
{
	EnforceUser save;
	Oid			argtype = OIDARRAYOID;
	char	   *sql;

	sql = psprintf("WITH e AS (SELECT e.id, e.positions, e.marks, e.instruments FROM %1$s.enforcement e "
				   " WHERE e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) "
				   "    OR e.marks::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) "
				   "    OR e.instruments::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) "
				   "    OR e.positions::pg_catalog.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
				   "       SELECT a.relid::pg_catalog.oid FROM pg_catalog.unnest($1) AS x(r), "
				   "       LATERAL pg_catalog.pg_partition_ancestors(x.r::pg_catalog.regclass) a)) "
				   "    OR e.instruments::pg_catalog.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
				   "       SELECT a.relid::pg_catalog.oid FROM pg_catalog.unnest($1) AS x(r), "
				   "       LATERAL pg_catalog.pg_partition_ancestors(x.r::pg_catalog.regclass) a))), "
				   /* the positions and instruments tables and their partitions */
				   "pt AS (SELECT e.id, e.positions::pg_catalog.oid AS rel FROM e "
				   " UNION SELECT e.id, t.relid::pg_catalog.oid FROM e, "
				   "       LATERAL pg_catalog.pg_partition_tree(e.positions) t "
				   " UNION SELECT e.id, e.instruments::pg_catalog.oid FROM e "
				   " UNION SELECT e.id, e.marks::pg_catalog.oid FROM e "
				   " UNION SELECT e.id, t.relid::pg_catalog.oid FROM e, "
				   "       LATERAL pg_catalog.pg_partition_tree(e.instruments) t), "
				   "f AS (SELECT p.oid FROM pg_catalog.pg_proc p "
				   " WHERE p.pronamespace OPERATOR(pg_catalog.=) '%1$s'::pg_catalog.regnamespace "
				   "   AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['enforce_positions_trigger', "
				   "       'enforce_marks_trigger', 'enforce_instruments_trigger']::pg_catalog.name[])) "
				   "SELECT 'order', t.tgname::pg_catalog.text, o.tgrelid::pg_catalog.regclass::pg_catalog.text, "
				   "       o.tgname::pg_catalog.text, NULL::pg_catalog.text "
				   "  FROM e JOIN pt ON pt.id OPERATOR(pg_catalog.=) e.id "
				   "  JOIN pg_catalog.pg_trigger o ON o.tgrelid OPERATOR(pg_catalog.=) pt.rel "
				   "   AND o.tgfoid OPERATOR(pg_catalog.=) '%1$s.enforce_positions_trigger()'::pg_catalog.regprocedure "
				   "  JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) o.tgrelid "
				   "   AND t.oid OPERATOR(pg_catalog.<>) o.oid "
				   " WHERE NOT t.tgisinternal AND t.tgenabled OPERATOR(pg_catalog.<>) 'D' "
				   "   AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) %2$d) OPERATOR(pg_catalog.=) %2$d "
				   "   AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) %3$d) OPERATOR(pg_catalog.<>) 0 "
				   "   AND t.tgname OPERATOR(pg_catalog.>) o.tgname "
				   "UNION ALL "
				   "SELECT t.tgenabled::pg_catalog.text, t.tgname::pg_catalog.text, "
				   "       t.tgrelid::pg_catalog.regclass::pg_catalog.text, e.positions::pg_catalog.text, "
				   "       t.tgfoid::pg_catalog.regproc::pg_catalog.text "
				   "  FROM e JOIN pt ON pt.id OPERATOR(pg_catalog.=) e.id "
				   "  JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) pt.rel "
				   "   AND t.tgfoid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT f.oid FROM f)) "
				   "   AND pg_catalog.encode(t.tgargs, 'escape') OPERATOR(pg_catalog.=) "
				   "       (e.id::pg_catalog.text OPERATOR(pg_catalog.||) E'\\\\000') "
				   " WHERE t.tgenabled OPERATOR(pg_catalog.=) ANY (ARRAY['D', 'R']::pg_catalog.\"char\"[]) "
				   "ORDER BY 1 DESC, 3, 2",
				   qnsp, TRIGGER_TYPE_ROW | TRIGGER_TYPE_BEFORE,
				   TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE);
	enforce_become(enforce_rel_owner(config), &save);
	if (SPI_execute_with_args(sql, 1, &argtype, &tables, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin enforcement's triggers failed");
	enforce_restore(&save);
}

Datum
enforcement_ddl_check(PG_FUNCTION_ARGS)
{
	EventTriggerData *trig;
	Oid			nsp;
	Oid			config;
	int			n;
	Datum		tables;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforcement_ddl_check must be called as an event trigger")));
	trig = (EventTriggerData *) fcinfo->context;
	if (strcmp(trig->event, "ddl_command_end") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforcement_ddl_check must be fired on ddl_command_end")));

	nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	config = get_relname_relid("enforcement", nsp);
	if (!OidIsValid(config))
		PG_RETURN_VOID();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a table enforced on its own cannot become a partition of an enforced one */
	enforce_partitions_attached(trig->parsetree, quote_identifier(get_namespace_name(nsp)), config,
								false);
	tables = touched_tables(&n);
	if (n > 0)
		find_bypasses(quote_identifier(get_namespace_name(nsp)), config, tables);
	for (uint64 i = 0; n > 0 && i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(row, desc, 1);
		char	   *name = SPI_getvalue(row, desc, 2);
		char	   *table = SPI_getvalue(row, desc, 3);
		/* isomargin's trigger for "order", else the positions table */
		char	   *other = SPI_getvalue(row, desc, 4);

		if (strcmp(kind, "order") == 0)
			order_error(name, table, other);
		ereport(WARNING,
				(errmsg("trigger \"%s\" of isomargin enforcement on table %s %s",
						name, table,
						kind[0] == 'D' ? "is disabled" :
						"fires only under session_replication_role = replica"),
				 errdetail("Until it fires again, the positions of %s are not kept current.",
						   other),
				 strstr(SPI_getvalue(row, desc, 5), "enforce_marks_trigger") != NULL ?
				 errhint("Enable it (ALTER TABLE %s ENABLE TRIGGER %s), write each instrument's current mark again (an UPDATE of its row to itself), then run SELECT * FROM isomargin.verify(%s, repair => true);",
						 table, quote_identifier(name), quote_literal_cstr(other)) :
				 errhint("Enable it (ALTER TABLE %s ENABLE TRIGGER %s), then run SELECT * FROM isomargin.verify(%s, repair => true);",
						 table, quote_identifier(name), quote_literal_cstr(other))));
	}
	/* the rows of an attached partition, computed once it passed the checks above */
	enforce_partitions_attached(trig->parsetree, quote_identifier(get_namespace_name(nsp)), config,
								true);
	SPI_finish();
	PG_RETURN_VOID();
}
