/*
 * enforce_config.c
 *	  The attachment a trigger serves, read from isomargin.enforcement and
 *	  cached per trigger OID, with the trigger's plans (as ri_triggers.c
 *	  does for foreign keys).
 *
 * A trigger's only argument is its attachment id.  Anyone who may create
 * triggers on a table can attach these functions with any argument, so
 * the argument is checked: it must name an attachment whose table for the
 * trigger's role is the table the trigger fired on.  Column names come
 * from the catalog, never from the trigger, and are checked against the
 * tables each time the cache entry is built.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "enforce.h"
#include "numeric_codec.h"

typedef struct EnforceCacheEntry
{
	Oid			tgoid;			/* hash key */
	EnforceAttachment *att;
} EnforceCacheEntry;

static HTAB *enforce_cache = NULL;
static MemoryContext enforce_cache_cxt = NULL;

/* attachments of operator functions called many times, by positions OID */
static HTAB *enforce_cache_of = NULL;

/*
 * Entries replaced after an invalidation; a trigger further up the stack
 * may still be using one, so they are freed at the end of the transaction.
 */
static List *enforce_retired = NIL;

static void
enforce_cache_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	EnforceCacheEntry *e;
	HTAB	   *caches[2] = {enforce_cache, enforce_cache_of};

	for (int i = 0; i < (int) lengthof(caches); i++)
	{
		if (caches[i] == NULL)
			continue;
		hash_seq_init(&status, caches[i]);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			EnforceAttachment *a = e->att;

			if (a == NULL || !a->valid)
				continue;
			if (relid == InvalidOid || relid == a->positions || relid == a->marks ||
				relid == a->instruments || relid == a->state || relid == a->events ||
				relid == a->relation)
				a->valid = false;
		}
	}
}

/*
 * A renamed schema changes no relcache entry, yet the qualified names in
 * the entries (tables, the symbol's operator and collation) would be
 * stale for plans not prepared yet: start afresh.
 */
static void
enforce_namespace_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	enforce_cache_invalidate(arg, InvalidOid);
}

static void
enforce_attachment_free(EnforceAttachment *a)
{
	for (int i = 0; i < ENFORCE_NPLANS; i++)
		if (a->plans[i])
			SPI_freeplan(a->plans[i]);
	enforce_partition_plans_free(a);
	MemoryContextDelete(a->cxt);
}

static void
enforce_free_retired(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	foreach(lc, enforce_retired)
		enforce_attachment_free((EnforceAttachment *) lfirst(lc));
	list_free(enforce_retired);
	enforce_retired = NIL;
}

static void
enforce_cache_init(void)
{
	HASHCTL		ctl;

	enforce_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											  "isomargin enforcement cache",
											  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(EnforceCacheEntry);
	ctl.hcxt = enforce_cache_cxt;
	enforce_cache = hash_create("isomargin enforcement triggers", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	enforce_cache_of = hash_create("isomargin enforced tables", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(enforce_cache_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, enforce_namespace_invalidate, (Datum) 0);
	RegisterXactCallback(enforce_free_retired, NULL);
}

void
enforce_check_trigger(FunctionCallInfo fcinfo, const char *funcname, EnforceRole role)
{
	TriggerData *td;
	TriggerEvent ev;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as a trigger", funcname)));
	td = (TriggerData *) fcinfo->context;
	ev = td->tg_event;

	if (role == ENFORCE_POSITIONS ? !TRIGGER_FIRED_BEFORE(ev) : !TRIGGER_FIRED_AFTER(ev))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired %s", funcname,
						role == ENFORCE_POSITIONS ? "BEFORE" : "AFTER")));
	if (role == ENFORCE_MARKS ? !TRIGGER_FIRED_FOR_STATEMENT(ev) : !TRIGGER_FIRED_FOR_ROW(ev))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired FOR EACH %s", funcname,
						role == ENFORCE_MARKS ? "STATEMENT" : "ROW")));
	if (!TRIGGER_FIRED_BY_INSERT(ev) && !TRIGGER_FIRED_BY_UPDATE(ev))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired on INSERT or UPDATE", funcname)));
	if (role == ENFORCE_MARKS && td->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be created with REFERENCING NEW TABLE", funcname)));
	if (td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s expects one trigger argument, the attachment id", funcname),
				 errhint("Create enforcement triggers with isomargin.enforce().")));
}

Oid
enforce_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static char *
qualified_rel(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(nsp, rel);
}

static Oid
enum_label(Oid type, const char *label)
{
	Oid			oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
									  ObjectIdGetDatum(type), CStringGetDatum(label));

	if (!OidIsValid(oid))
		elog(ERROR, "enum type %u has no label \"%s\"", type, label);
	return oid;
}

static Oid
table_of(EnforceAttachment *a, EnforceRole r)
{
	return r == ENFORCE_POSITIONS ? a->positions : r == ENFORCE_MARKS ? a->marks : a->instruments;
}

/* What the triggers need of the symbol type (checked by contract_resolve). */
static void
resolve_symbol(EnforceAttachment *a)
{
	TypeCacheEntry *tc;
	HeapTuple	tup;
	Oid			outfn;
	bool		varlena;

	a->sym_type = a->c.sym_type;
	a->sym_collation = a->c.sym_collation;
	a->sym_array = get_array_type(a->sym_type);
	get_typlenbyval(a->sym_type, &a->sym_len, &a->sym_byval);

	tc = lookup_type_cache(getBaseType(a->sym_type), TYPECACHE_EQ_OPR | TYPECACHE_CMP_PROC_FINFO);
	fmgr_info_cxt(tc->cmp_proc_finfo.fn_oid, &a->sym_cmp, a->cxt);

	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	a->sym_eq = psprintf("OPERATOR(%s.=)",
						 quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)));
	ReleaseSysCache(tup);

	a->sym_collate = "";
	if (OidIsValid(a->sym_collation))
	{
		tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(a->sym_collation));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for collation %u", a->sym_collation);
		a->sym_collate = psprintf(" COLLATE %s",
								  quote_qualified_identifier(get_namespace_name(((Form_pg_collation) GETSTRUCT(tup))->collnamespace),
															 NameStr(((Form_pg_collation) GETSTRUCT(tup))->collname)));
		ReleaseSysCache(tup);
	}

	getTypeOutputInfo(a->sym_type, &outfn, &varlena);
	fmgr_info_cxt(outfn, &a->sym_out, a->cxt);
}

static void
resolve_primary_key(EnforceAttachment *a)
{
	Relation	rel = table_open(a->positions, AccessShareLock);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	tup;
	Form_pg_index index;
	StringInfoData order,
				key;

	if (!OidIsValid(pk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no primary key", RelationGetRelationName(rel)),
				 errhint("Enforcement locks and names positions by their primary key.")));
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", pk);
	index = (Form_pg_index) GETSTRUCT(tup);
	a->npk = index->indnkeyatts;
	a->pk_attnums = palloc(sizeof(AttrNumber) * a->npk);
	a->pk_names = palloc(sizeof(char *) * a->npk);
	a->pk_types = palloc(sizeof(Oid) * a->npk);
	initStringInfo(&order);
	initStringInfo(&key);
	appendStringInfoString(&key, "pg_catalog.jsonb_build_object(");
	for (int i = 0; i < a->npk; i++)
	{
		AttrNumber att = index->indkey.values[i];
		const char *name = NameStr(TupleDescAttr(RelationGetDescr(rel), att - 1)->attname);

		a->pk_attnums[i] = att;
		a->pk_names[i] = pstrdup(name);
		a->pk_types[i] = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
		appendStringInfo(&order, "%sp.%s", i ? ", " : "", quote_identifier(name));
		appendStringInfo(&key, "%s%s, p.%s", i ? ", " : "", quote_literal_cstr(name),
						 quote_identifier(name));
	}
	appendStringInfoChar(&key, ')');
	ReleaseSysCache(tup);
	table_close(rel, AccessShareLock);
	a->pk_order = order.data;
	a->pk_key = key.data;
}

static int32
attachment_id(TriggerData *td, const char *funcname)
{
	const char *arg = td->tg_trigger->tgargs[0];
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v <= 0 || v > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid isomargin enforcement id \"%s\" in trigger \"%s\"",
						arg, td->tg_trigger->tgname)));
	return (int32) v;
}

/* Read the attachment's catalog row; the caller runs as the catalog's owner. */
static void
read_catalog(EnforceAttachment *a)
{
	StringInfoData sql;
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(a->id);
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	int			rc;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT e.positions::pg_catalog.oid, e.marks::pg_catalog.oid, "
					 "e.instruments::pg_catalog.oid, e.state_table::pg_catalog.oid, "
					 "e.margin_call_ratio");
	for (int i = 0; i < ENFORCE_NCOLS; i++)
		appendStringInfo(&sql, ", e.columns OPERATOR(pg_catalog.#>>) '{%s,%s}'",
						 enforce_role_names[contract_table(i)], contract_catalog_key(i));
	appendStringInfoString(&sql, ", e.columns OPERATOR(pg_catalog.#>>) '{instruments,rate_kind}', "
						   "pg_catalog.to_jsonb(e) OPERATOR(pg_catalog.->>) 'tick_size'");
	appendStringInfo(&sql, " FROM %s.enforcement e WHERE e.id OPERATOR(pg_catalog.=) $1",
					 a->qnsp);
	rc = SPI_execute_with_args(sql.data, 1, &argtype, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin.enforcement failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("isomargin enforcement %d does not exist", a->id),
				 errhint("Create enforcement triggers with isomargin.enforce().")));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	a->positions = DatumGetObjectId(SPI_getbinval(row, desc, 1, &isnull));
	a->marks = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
	a->instruments = DatumGetObjectId(SPI_getbinval(row, desc, 3, &isnull));
	a->state = DatumGetObjectId(SPI_getbinval(row, desc, 4, &isnull));
	{
		Datum		d = SPI_getbinval(row, desc, 5, &isnull);
		int128		coef;
		int			scale;
		bool		fits;

		if (isnull || numeric_codec_read(d, &coef, &scale, &fits) != NUMKIND_FINITE || !fits)
			elog(ERROR, "isomargin enforcement %d has an invalid margin_call_ratio", a->id);
		a->call_ratio = dec_make(coef, scale);
	}
	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		char	   *v = SPI_getvalue(row, desc, 6 + i);

		a->c.cols[i].name = v ? MemoryContextStrdup(a->cxt, v) : NULL;
	}
	a->c.rate_is_tiers =
		strcmp(SPI_getvalue(row, desc, 6 + ENFORCE_NCOLS) ?: "", "tiers") == 0;
	/* to_jsonb: an attachment made before 0.2.0 is read before the update adds it */
	{
		char	   *v = SPI_getvalue(row, desc, 7 + ENFORCE_NCOLS);
		Datum		d;
		int128		coef;
		int			scale;
		bool		fits;

		a->tick = dec_from_int(0);
		if (v != NULL)
		{
			d = DirectFunctionCall3(numeric_in, CStringGetDatum(v), ObjectIdGetDatum(InvalidOid),
									Int32GetDatum(-1));
			if (numeric_codec_read(d, &coef, &scale, &fits) != NUMKIND_FINITE || !fits)
				elog(ERROR, "isomargin enforcement %d has an invalid tick_size", a->id);
			a->tick = dec_make(coef, scale);
		}
	}
}

/*
 * Every table of the attachment must still exist.  The sql_drop event
 * trigger refuses to drop one, but it can be disabled, and does not fire
 * in single-user mode.
 */
static void
check_tables_exist(EnforceAttachment *a)
{
	static const char *const roles[] = {"positions", "marks", "instruments", "state"};
	Oid			tables[] = {a->positions, a->marks, a->instruments, a->state};

	for (int i = 0; i < (int) lengthof(tables); i++)
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(tables[i])))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("the %s table of isomargin enforcement %d no longer exists",
							roles[i], a->id),
					 errdetail("It was dropped while enforcement was attached."),
					 errhint("Detach enforcement: SELECT isomargin.unenforce(e.positions) FROM isomargin.enforcement e WHERE e.id = %d;",
							 a->id)));
}

static void
missing_grant(EnforceAttachment *a, const char *what, const char *object, const char *grant)
{
	char	   *role = GetUserNameFromId(a->owner, false);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role %s, the owner of table %s, has no %s on %s", role,
					a->qpositions, what, object),
			 errdetail("isomargin enforcement runs as the positions table's owner."),
			 errhint("GRANT %s ON %s TO %s;", grant, object, quote_identifier(role))));
}

/*
 * What the positions owner needs for the triggers to run as it, checked
 * here so that a missing grant is named, not reported from inside an
 * internal statement; its rights on the state table are handed over.
 */
static void
check_owner_rights(EnforceAttachment *a)
{
	Oid			schemas[] = {a->nsp, get_rel_namespace(a->positions),
		get_rel_namespace(a->instruments)};

	for (int i = 0; i < (int) lengthof(schemas); i++)
		if (pg_namespace_aclcheck(schemas[i], a->owner, ACL_USAGE) != ACLCHECK_OK)
			missing_grant(a, "USAGE",
						  psprintf("SCHEMA %s", quote_identifier(get_namespace_name(schemas[i]))),
						  "USAGE");
	if (pg_class_aclcheck(a->instruments, a->owner, ACL_SELECT) != ACLCHECK_OK)
		missing_grant(a, "SELECT", a->qinstruments, "SELECT");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enforce_state_grant(a);
	SPI_finish();
	MemoryContextSwitchTo(a->cxt);
}

/* mark_time, when mapped: its type and ordering (checked by contract_resolve) */
static void
resolve_time(EnforceAttachment *a)
{
	EnforceColumn *t = &a->c.cols[COL_MARK_TIME];
	Oid			type;
	int32		typmod;

	a->state_has_held = get_attnum(a->state, "held_price") > 0;
	a->has_time = t->name != NULL && get_attnum(a->state, "mark_time") > 0;
	if (!a->has_time)
		return;
	get_atttypetypmodcoll(a->marks, t->attnum, &type, &typmod, &a->time_collation);
	a->time_type = type;
	a->time_array = get_array_type(getBaseType(type));
	get_typlenbyval(type, &a->time_len, &a->time_byval);
	fmgr_info_cxt(lookup_type_cache(getBaseType(type), TYPECACHE_CMP_PROC)->cmp_proc,
				  &a->time_cmp, a->cxt);
}

/*
 * Fill the attachment `a->id` for `role`, checking the trigger's table when
 * td is given (nsp: the extension's schema).
 */
static void
fill_attachment(EnforceAttachment *a, Oid nsp, TriggerData *td)
{
	EnforceRole role = a->role;
	Oid			config;
	EnforceUser save;

	a->nsp = nsp;
	a->qnsp = pstrdup(quote_identifier(get_namespace_name(a->nsp)));
	config = get_relname_relid("enforcement", a->nsp);
	a->events = get_relname_relid("events", a->nsp);
	if (!OidIsValid(config) || !OidIsValid(a->events))
		elog(ERROR, "isomargin's catalog tables are missing");
	a->events_owner = enforce_rel_owner(a->events);
	contract_init(&a->c, CONTRACT_TRIGGER, a->nsp, InvalidOid, InvalidOid, InvalidOid);
	a->c.attachment = a->id;
	a->status_type = a->c.status_type;
	a->kind_type = a->c.kind_type;
	a->tiers_type = a->c.tiers_type;
	a->status_oid[MARGIN_OK] = enum_label(a->status_type, "ok");
	a->status_oid[MARGIN_CALL] = enum_label(a->status_type, "margin_call");
	a->status_oid[MARGIN_LIQUIDATE] = enum_label(a->status_type, "liquidate");
	a->status_oid[MARGIN_BANKRUPT] = enum_label(a->status_type, "bankrupt");
	a->kind_inverse = enum_label(a->kind_type, "inverse");
	a->cause_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									 CStringGetDatum("event_cause"), ObjectIdGetDatum(a->nsp));
	{
		static const char *const causes[ENFORCE_NCAUSES] = {
			[CAUSE_POSITION] = "position", [CAUSE_MARK] = "mark",
			[CAUSE_INSTRUMENT] = "instrument", [CAUSE_OPERATOR] = "operator",
			[CAUSE_ENFORCE] = "enforce"};

		/* none in a 0.1.0 catalog, until ALTER EXTENSION UPDATE */
		for (int i = 0; i < ENFORCE_NCAUSES && OidIsValid(a->cause_type); i++)
			a->cause_oid[i] = enum_label(a->cause_type, causes[i]);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enforce_become(enforce_rel_owner(config), &save);
	read_catalog(a);
	enforce_restore(&save);
	/* SPI leaves its own context current */
	MemoryContextSwitchTo(a->cxt);
	SPI_finish();
	MemoryContextSwitchTo(a->cxt);

	check_tables_exist(a);
	if (td != NULL)
	{
		a->relation = RelationGetRelid(td->tg_relation);
		if (a->relation != table_of(a, role) &&
			!enforce_is_partition_of(a->relation, table_of(a, role)))
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("trigger \"%s\" fired on table \"%s\", which is not the %s table of isomargin enforcement %d",
							td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation),
							enforce_role_names[role], a->id)));
	}
	a->partitioned = get_rel_relkind(a->positions) == RELKIND_PARTITIONED_TABLE;

	a->owner = enforce_rel_owner(a->positions);
	a->positions_name = get_rel_name(a->positions);
	a->qpositions = qualified_rel(a->positions);
	a->qmarks = qualified_rel(a->marks);
	a->qinstruments = qualified_rel(a->instruments);
	a->qstate = qualified_rel(a->state);
	a->c.tables[ENFORCE_POSITIONS] = a->positions;
	a->c.tables[ENFORCE_MARKS] = a->marks;
	a->c.tables[ENFORCE_INSTRUMENTS] = a->instruments;
	contract_resolve(&a->c);
	resolve_symbol(a);
	resolve_time(a);
	resolve_primary_key(a);
	if (OidIsValid(a->relation) && a->relation != table_of(a, role))
		enforce_partition_attnums(a);
	check_owner_rights(a);
}

static EnforceAttachment *
build_attachment(EnforceRole role, Oid tgoid, int32 id, Oid nsp, TriggerData *td)
{
	MemoryContext cxt = AllocSetContextCreate(enforce_cache_cxt, "isomargin attachment",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	EnforceAttachment *a = palloc0(sizeof(EnforceAttachment));

	a->cxt = cxt;
	a->tgoid = tgoid;
	a->role = role;
	a->id = id;
	PG_TRY();
	{
		fill_attachment(a, nsp, td);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	a->valid = true;
	return a;
}

/*
 * The attachment of a positions table, for an operator function (not
 * cached: release it with enforce_attachment_release).  22023 when the
 * table is not enforced.
 */
EnforceAttachment *
enforce_attachment_of(Oid positions, Oid nsp, EnforceRole role)
{
	Oid			config = get_relname_relid("enforcement", nsp);
	Oid			argtype = REGCLASSOID;
	Datum		arg = ObjectIdGetDatum(positions);
	char	   *sql;
	int32		id = 0;
	EnforceUser save;

	if (enforce_cache == NULL)
		enforce_cache_init();
	if (!OidIsValid(config))
		elog(ERROR, "isomargin's catalog tables are missing");
	sql = psprintf("SELECT e.id FROM %s.enforcement e WHERE e.positions OPERATOR(pg_catalog.=) $1",
				   quote_identifier(get_namespace_name(nsp)));
	enforce_become(enforce_rel_owner(config), &save);
	if (SPI_execute_with_args(sql, 1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin.enforcement failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	enforce_restore(&save);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not enforced", contract_rel_name(positions))));
	return build_attachment(role, InvalidOid, id, nsp, NULL);
}

void
enforce_attachment_release(EnforceAttachment *att)
{
	enforce_attachment_free(att);
}

/*
 * The attachment of a positions table, for an operator function a worker
 * calls for every position (checked_mark): built once and kept, with its
 * plans, until a table of it changes (not to be released).  22023 when
 * the table is not enforced.
 */
EnforceAttachment *
enforce_attachment_kept(Oid positions, Oid nsp)
{
	EnforceCacheEntry *e;
	bool		found;

	if (enforce_cache == NULL)
		enforce_cache_init();
	e = hash_search(enforce_cache_of, &positions, HASH_ENTER, &found);
	if (!found)
		e->att = NULL;
	if (e->att != NULL && e->att->valid && e->att->nsp == nsp)
		return e->att;
	if (e->att != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(enforce_cache_cxt);

		enforce_retired = lappend(enforce_retired, e->att);
		MemoryContextSwitchTo(old);
		e->att = NULL;
	}
	e->att = enforce_attachment_of(positions, nsp, ENFORCE_POSITIONS);
	return e->att;
}

EnforceAttachment *
enforce_attachment(FunctionCallInfo fcinfo, EnforceRole role)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			tgoid = td->tg_trigger->tgoid;
	EnforceCacheEntry *e;
	bool		found;

	if (enforce_cache == NULL)
		enforce_cache_init();
	e = hash_search(enforce_cache, &tgoid, HASH_ENTER, &found);
	if (!found)
		e->att = NULL;
	if (e->att != NULL && e->att->valid)
		return e->att;
	if (e->att != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(enforce_cache_cxt);

		enforce_retired = lappend(enforce_retired, e->att);
		MemoryContextSwitchTo(old);
		e->att = NULL;
	}
	e->att = build_attachment(role, tgoid, attachment_id(td, get_func_name(fcinfo->flinfo->fn_oid)),
							  get_func_namespace(fcinfo->flinfo->fn_oid), td);
	return e->att;
}

/* Statement id of att prepared and kept (the caller stores it). */
SPIPlanPtr
enforce_plan_prepare(EnforceAttachment *att, EnforcePlanId id)
{
	Oid			argtypes[16];
	int			nargs = 0;
	char	   *sql = enforce_plan_sql(att, id, &nargs, argtypes);
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, enforce_plan_options(id));

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

SPIPlanPtr
enforce_plan(EnforceAttachment *att, EnforcePlanId id)
{
	if (att->plans[id] == NULL)
		att->plans[id] = enforce_plan_prepare(att, id);
	return att->plans[id];
}

/* ---- attachment contract and marks block: settings changed ---- */

PG_FUNCTION_INFO_V1(attachment_changed);

/* isomargin._attachment_changed(positions): the triggers read the attachment again. */
Datum
attachment_changed(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheByRelid(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
