/*
 * enforce_drop.c
 *	  isomargin.enforcement_sql_drop(): the extension's sql_drop event
 *	  trigger.  A command that drops a table of an attachment (positions,
 *	  marks, instruments or its state table) fails with a hint naming
 *	  isomargin.unenforce(); a dropped table's events are deleted.
 *
 * Refusing, rather than detaching, is deliberate (doc/enforcement.md,
 * "Dropping and renaming tables"): a detach would silently stop enforcing
 * positions when marks or instruments go, and it would drop triggers on
 * tables the dropping role may not own and write the catalog, rights that
 * role need not have.  A refusal needs no rights and says what to run, as
 * PostgreSQL's own refusal to drop an object others depend on, and as
 * DROP EXTENSION does while an attachment exists.
 *
 * Events name their positions table by regclass.  Once the table is gone,
 * that is a bare OID: pg_dump would write it, and a later table could get
 * the same OID and seem to own them.  So the events of a dropped table are
 * deleted with it (a NOTICE says how many), as the owner of
 * isomargin.events: dropping the table took the right to drop it, and no
 * user code runs in that DELETE.
 *
 * The catalog is read, and events deleted, through SPI as the owners of
 * those tables (the dropping role has no rights on them), in the schema of
 * this function, every name qualified.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforcement_sql_drop);

static const char *const table_roles[] = {"positions", "marks", "instruments", "state"};

/* The name a dropped table had (object_identity), or NULL if it is not among them. */
static const char *
dropped_name(Oid relid, Oid *oids, char **names, int n)
{
	for (int i = 0; i < n; i++)
		if (oids[i] == relid)
			return names[i];
	return NULL;
}

/* The qualified name of an attachment's positions table, dropped or not. */
static const char *
positions_name(Oid relid, Oid *oids, char **names, int n)
{
	const char *name = dropped_name(relid, oids, names, n);

	if (name != NULL)
		return name;
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* Fail if one of the dropped tables belongs to an attachment. */
static void
refuse_enforced(const char *qnsp, Oid config, Datum oid_array, Oid *oids, char **names, int n)
{
	EnforceUser save;
	Oid			argtype = OIDARRAYOID;
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	int32		id;
	Oid			tables[4];
	int			role = -1;

	enforce_become(enforce_rel_owner(config), &save);
	if (SPI_execute_with_args(psprintf("SELECT e.id, e.positions::pg_catalog.oid, e.marks::pg_catalog.oid, "
									   "e.instruments::pg_catalog.oid, e.state_table::pg_catalog.oid "
									   "FROM %s.enforcement e WHERE e.positions::pg_catalog.oid "
									   "OPERATOR(pg_catalog.=) ANY ($1) OR e.marks::pg_catalog.oid "
									   "OPERATOR(pg_catalog.=) ANY ($1) OR e.instruments::pg_catalog.oid "
									   "OPERATOR(pg_catalog.=) ANY ($1) OR e.state_table::pg_catalog.oid "
									   "OPERATOR(pg_catalog.=) ANY ($1) ORDER BY e.id LIMIT 1", qnsp),
							  1, &argtype, &oid_array, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin.enforcement failed");
	enforce_restore(&save);
	if (SPI_processed == 0)
		return;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
	for (int i = 0; i < 4; i++)
	{
		Datum		d = SPI_getbinval(row, desc, i + 2, &isnull);

		tables[i] = isnull ? InvalidOid : DatumGetObjectId(d);
		if (role < 0 && !isnull && dropped_name(tables[i], oids, names, n) != NULL)
			role = i;
	}
	Assert(role >= 0);
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot drop table %s because isomargin enforcement %d uses it",
					dropped_name(tables[role], oids, names, n), id),
			 role == 0 ? 0 :
			 errdetail("It is the %s table of the enforcement of %s.", table_roles[role],
					   positions_name(tables[0], oids, names, n)),
			 errhint("Detach enforcement first: SELECT isomargin.unenforce(%s);",
					 quote_literal_cstr(positions_name(tables[0], oids, names, n)))));
}

/* Delete the events of the dropped tables. */
static void
delete_events(const char *qnsp, Oid events, Datum oid_array, Oid *oids, char **names, int n)
{
	EnforceUser save;
	Oid			argtype = OIDARRAYOID;
	SPITupleTable *deleted;
	uint64		processed;

	enforce_become(enforce_rel_owner(events), &save);
	if (SPI_execute_with_args(psprintf("DELETE FROM %s.events e WHERE e.positions::pg_catalog.oid "
									   "OPERATOR(pg_catalog.=) ANY ($1) "
									   "RETURNING e.positions::pg_catalog.oid", qnsp),
							  1, &argtype, &oid_array, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "deleting isomargin events failed");
	enforce_restore(&save);
	deleted = SPI_tuptable;
	processed = SPI_processed;
	/* and the grants of their events (none before 0.2.0) */
	if (OidIsValid(get_relname_relid("event_grants", get_rel_namespace(events))))
	{
		enforce_become(enforce_rel_owner(events), &save);
		if (SPI_execute_with_args(psprintf("DELETE FROM %s.event_grants g WHERE g.positions::pg_catalog.oid "
										   "OPERATOR(pg_catalog.=) ANY ($1)", qnsp),
								  1, &argtype, &oid_array, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "deleting isomargin event grants failed");
		enforce_restore(&save);
	}

	for (int i = 0; i < n; i++)
	{
		uint64		count = 0;

		for (uint64 r = 0; r < processed; r++)
		{
			bool		isnull;

			if (DatumGetObjectId(SPI_getbinval(deleted->vals[r], deleted->tupdesc, 1,
											   &isnull)) == oids[i])
				count++;
		}
		if (count > 0)
			ereport(NOTICE,
					(errmsg_plural("deleted %lu isomargin event of dropped table %s",
								   "deleted %lu isomargin events of dropped table %s",
								   (unsigned long) count, (unsigned long) count, names[i])));
	}
}

Datum
enforcement_sql_drop(PG_FUNCTION_ARGS)
{
	EventTriggerData *trig;
	Oid			nsp;
	Oid			config;
	Oid			events;
	const char *qnsp;
	Oid		   *oids;
	char	  **names;
	Datum	   *elems;
	int			n;
	Datum		oid_array;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforcement_sql_drop must be called as an event trigger")));
	trig = (EventTriggerData *) fcinfo->context;
	if (strcmp(trig->event, "sql_drop") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforcement_sql_drop must be fired on sql_drop")));

	/* the extension's own tables: gone when the extension itself is dropped */
	nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	config = get_relname_relid("enforcement", nsp);
	events = get_relname_relid("events", nsp);
	if (!OidIsValid(config) || !OidIsValid(events))
		PG_RETURN_VOID();
	qnsp = quote_identifier(get_namespace_name(nsp));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT d.objid, d.object_identity FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					"AND d.objsubid OPERATOR(pg_catalog.=) 0 "
					"AND d.object_type OPERATOR(pg_catalog.=) 'table'", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the dropped objects failed");
	n = (int) SPI_processed;
	if (n == 0)
	{
		SPI_finish();
		PG_RETURN_VOID();
	}
	oids = palloc(sizeof(Oid) * n);
	names = palloc(sizeof(char *) * n);
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		oids[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		elems[i] = ObjectIdGetDatum(oids[i]);
	}
	oid_array = enforce_array(elems, NULL, n, OIDOID);

	refuse_enforced(qnsp, config, oid_array, oids, names, n);
	delete_events(qnsp, events, oid_array, oids, names, n);
	SPI_finish();
	PG_RETURN_VOID();
}
