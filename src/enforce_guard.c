/*
 * enforce_guard.c
 *	  An attachment's state table is written only by enforcement, and the
 *	  positions owner holds exactly the rights enforcement needs on it.
 *
 * The state table belongs to the owner of isomargin.events.  The triggers
 * read, lock and write it as the positions owner (so no code of that
 * owner's, e.g. the functions of its symbol type, runs with more rights
 * than its own), which therefore holds SELECT, INSERT and UPDATE on it.
 * The guard trigger, which that owner cannot drop or disable, refuses any
 * write but enforcement's own statements (enforce_state_writes > 0), so
 * the owner cannot move a mark behind the triggers' back.
 *
 * After ALTER TABLE ... OWNER TO on the positions table the new owner has
 * no rights on the state table: the first trigger that reads the
 * attachment again hands them over (enforce_state_grant).
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"

PG_FUNCTION_INFO_V1(enforce_state_guard);

/* > 0 while enforcement runs its own statements on a state table */
int			enforce_state_writes = 0;

Datum
enforce_state_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforce_state_guard must be called as a trigger")));
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("enforce_state_guard must be fired BEFORE, FOR EACH ROW")));
	if (enforce_state_writes <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("table %s is written only by isomargin enforcement",
						RelationGetRelationName(td->tg_relation)),
				 errdetail("It holds the marks the positions were last checked against."),
				 errhint("Move marks through the marks table.")));
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple
						   : td->tg_trigtuple);
}

/*
 * Give the positions owner SELECT, INSERT, UPDATE on the state table if it
 * lacks them (a new owner), taking every right from the other roles but
 * the table's owner, as the table's owner.  The caller is SPI-connected.
 */
void
enforce_state_grant(EnforceAttachment *a)
{
	EnforceUser save;
	Oid			state_owner;
	char	   *owner_name;
	SPITupleTable *grantees;

	AclMode		needed = ACL_SELECT | ACL_INSERT | ACL_UPDATE;

	if (pg_class_aclmask(a->state, a->owner, needed, ACLMASK_ALL) == needed)
		return;
	state_owner = enforce_rel_owner(a->state);
	owner_name = GetUserNameFromId(a->owner, false);
	enforce_become(state_owner, &save);
	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.quote_ident(r.rolname) FROM pg_catalog.pg_class c, "
									   "LATERAL pg_catalog.aclexplode(c.relacl) x "
									   "JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) x.grantee "
									   "WHERE c.oid OPERATOR(pg_catalog.=) %u "
									   "AND x.grantee OPERATOR(pg_catalog.<>) c.relowner "
									   "GROUP BY r.rolname", a->state),
							  0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the privileges of the state table failed");
	grantees = SPI_tuptable;
	for (uint64 i = 0, n = SPI_processed; i < n; i++)
	{
		char	   *grantee = SPI_getvalue(grantees->vals[i], grantees->tupdesc, 1);

		if (SPI_execute(psprintf("REVOKE ALL ON %s FROM %s", a->qstate, grantee), false, 0) < 0)
			elog(ERROR, "revoking the privileges on the state table failed");
	}
	if (SPI_execute(psprintf("GRANT SELECT, INSERT, UPDATE ON %s TO %s", a->qstate,
							 quote_identifier(owner_name)), false, 0) < 0)
		elog(ERROR, "granting the state table to the positions owner failed");
	enforce_restore(&save);
	CommandCounterIncrement();
}
