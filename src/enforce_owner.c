/*
 * enforce_owner.c
 *	  isomargin.run_as_owner(table, statement): run one statement of
 *	  enforce() as the owner of an attached table.
 *
 * enforce() is run by a superuser in practice, and the statements that
 * read or write an attached table's rows (checking and copying its marks,
 * recomputing its positions) would otherwise call whatever the table's
 * owner attached to them (triggers, constraints, casts, operators, the
 * functions of a key's type) with the superuser's rights.  Run here, they
 * execute as the table's owner inside a security-restricted operation, as
 * PostgreSQL runs index expressions during CREATE INDEX and VACUUM.
 *
 * The caller must own the table (or be a member of its owner, or a
 * superuser), so the statement never runs with more rights than the
 * caller's own: the switch can only drop rights, never add them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(run_as_owner);

static Oid
table_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

Datum
run_as_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			owner = table_owner(relid);
	MemoryContext caller = CurrentMemoryContext;
	EnforceUser save;
	char	   *result = NULL;
	int			rc;

	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enforce_become(owner, &save);
	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		elog(ERROR, "isomargin.run_as_owner: statement failed: %s", SPI_result_code_string(rc));
	if (SPI_tuptable != NULL && SPI_processed > 0)
		result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	enforce_restore(&save);
	if (result != NULL)
		result = MemoryContextStrdup(caller, result);
	SPI_finish();

	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
