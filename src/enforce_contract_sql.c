/*
 * enforce_contract_sql.c
 *	  isomargin._attachment_contract(positions, marks, instruments, columns,
 *	  purpose): the contract (enforce_contract.c) resolved for enforce() or a
 *	  report, as jsonb, with the SQL that reads it.
 *
 * What it returns:
 *	 columns		 {"positions": {key: column}, "marks": {...}, "instruments":
 *					 {..., "rate": column, "rate_kind": "mmr" | "tiers"}}: what
 *					 enforce() stores in isomargin.enforcement.columns
 *	 add			 enforce(): [{"column", "type"}] of maintained columns to add
 *	 notes			 enforce(): what the caller should know (every instrument linear)
 *	 position_key	 SQL of a position's key as jsonb, over alias p
 *	 read			 reports: SQL of each value as the figure functions take it,
 *					 over aliases p (positions) and i (instruments); rate_arg;
 *					 addon (the instrument's add-on rate plus the position's
 *					 liquidity add-on from the instrument's curve, null when
 *					 both are absent)
 *	 current_marks	 SQL of the current mark of each symbol (columns symbol,
 *					 mark_price, and mark_time when mapped): the one definition
 *					 of the current mark (doc/enforcement.md, Marks)
 *
 * The current mark: without mark_time the one row of each symbol (a marks
 * table with several rows for a symbol is refused here); with mark_time the
 * row with the latest mark_time.  A report over a positions table enforced
 * with the same marks table reads the marks enforcement checked the
 * positions against, from the attachment's state table: a tick held back
 * by a price band, or older than the current mark, moves neither.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "enforce_contract.h"

PG_FUNCTION_INFO_V1(attachment_contract);

static const char *
q(const Contract *c, EnforceColumnId id)
{
	return quote_identifier(c->cols[id].name);
}

static char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static void
json_str(StringInfo s, const char *v)
{
	if (v == NULL)
		appendStringInfoString(s, "null");
	else
		escape_json(s, v);
}

static void
columns_json(StringInfo s, const Contract *c)
{
	appendStringInfoChar(s, '{');
	for (int r = 0; r < 3; r++)
	{
		bool		first = true;

		appendStringInfo(s, "%s\"%s\": {", r ? ", " : "", enforce_role_names[r]);
		for (int i = 0; i < ENFORCE_NCOLS; i++)
		{
			if (contract_table((EnforceColumnId) i) != (EnforceRole) r)
				continue;
			appendStringInfo(s, "%s\"%s\": ", first ? "" : ", ", contract_catalog_key(i));
			json_str(s, c->cols[i].name);
			first = false;
		}
		if (r == ENFORCE_INSTRUMENTS)
			appendStringInfo(s, ", \"rate_kind\": \"%s\"", c->rate_is_tiers ? "tiers" : "mmr");
		appendStringInfoChar(s, '}');
	}
	appendStringInfoChar(s, '}');
}

/* alias.column cast to numeric, or the default for an absent optional column */
static char *
number_expr(const Contract *c, const char *alias, EnforceColumnId id, const char *dflt)
{
	if (c->cols[id].name == NULL)
		return psprintf("CAST(%s AS pg_catalog.numeric)", dflt);
	return psprintf("CAST(%s.%s AS pg_catalog.numeric)", alias, q(c, id));
}

static char *
kind_expr(const Contract *c, const char *qnsp)
{
	if (c->cols[COL_INS_KIND].name == NULL)
		return psprintf("CAST('linear' AS %s.contract_kind)", qnsp);
	if (c->kind_is_text)
		return psprintf("CAST(CAST(i.%s AS pg_catalog.text) AS %s.contract_kind)",
						q(c, COL_INS_KIND), qnsp);
	return psprintf("i.%s", q(c, COL_INS_KIND));
}

/* alias.column of a convention, or its default */
static char *
convention_expr(const Contract *c, EnforceColumnId id, const char *dflt, const char *qnsp)
{
	if (c->cols[id].name == NULL)
		return psprintf("CAST('%s' AS %s.%s)", dflt, qnsp, c->cols[id].key);
	return psprintf("COALESCE(i.%s, CAST('%s' AS %s.%s))", q(c, id), dflt, qnsp,
					c->cols[id].key);
}

/*
 * The venue conventions (doc/venues.md): "conventions", SQL of each over
 * alias i, and "convention_args", the named arguments that pass them from
 * the book's columns of the same names (alias b) to the figures.
 */
static void
conventions_json(StringInfo s, const Contract *c, const char *qnsp)
{
	StringInfoData sql,
				args;

	initStringInfo(&sql);
	initStringInfo(&args);
	appendStringInfo(&sql, "%s AS mm_basis, %s AS fee_basis",
					 convention_expr(c, COL_INS_MM_BASIS, "mark", qnsp),
					 convention_expr(c, COL_INS_FEE_BASIS, "mark", qnsp));
	appendStringInfoString(&args, ", mm_basis => b.mm_basis, fee_basis => b.fee_basis");
	if (c->rate_is_tiers)
	{
		appendStringInfo(&sql, ", %s AS tier_basis, %s AS bracket_basis",
						 convention_expr(c, COL_INS_TIER_BASIS, "notional", qnsp),
						 convention_expr(c, COL_INS_BRACKET_BASIS, "price", qnsp));
		appendStringInfoString(&args, ", tier_basis => b.tier_basis, bracket_basis => b.bracket_basis");
	}
	else
	{
		appendStringInfo(&sql, ", COALESCE(%s, 0) AS maintenance_amount",
						 number_expr(c, "i", COL_INS_MAINT_AMOUNT, "0"));
		appendStringInfoString(&args, ", maintenance_amount => b.maintenance_amount");
	}
	appendStringInfoString(s, ", \"conventions\": ");
	json_str(s, sql.data);
	appendStringInfoString(s, ", \"convention_args\": ");
	json_str(s, args.data);
}

static void
read_json(StringInfo s, const Contract *c, const char *qnsp)
{
	appendStringInfoString(s, "{\"size\": ");
	json_str(s, number_expr(c, "p", COL_POS_SIZE, NULL));
	appendStringInfoString(s, ", \"entry_price\": ");
	json_str(s, number_expr(c, "p", COL_POS_ENTRY, NULL));
	appendStringInfoString(s, ", \"margin\": ");
	json_str(s, number_expr(c, "p", COL_POS_MARGIN, NULL));
	appendStringInfoString(s, ", \"status\": ");
	json_str(s, c->cols[COL_POS_STATUS].name ? psprintf("p.%s", q(c, COL_POS_STATUS)) : NULL);
	appendStringInfoString(s, ", \"kind\": ");
	json_str(s, kind_expr(c, qnsp));
	appendStringInfoString(s, ", \"contract_size\": ");
	json_str(s, number_expr(c, "i", COL_INS_CS, "1"));
	appendStringInfoString(s, ", \"fee_rate\": ");
	json_str(s, number_expr(c, "i", COL_INS_FEE, "0"));
	appendStringInfoString(s, ", \"rate\": ");
	json_str(s, c->rate_is_tiers ? psprintf("i.%s", q(c, COL_INS_RATE)) :
			 number_expr(c, "i", COL_INS_RATE, NULL));
	appendStringInfo(s, ", \"rate_arg\": \"%s\"", c->rate_is_tiers ? "tiers => " : "mmr => ");
	/*
	 * the dynamic add-on rate (doc/dynamic.md): the instrument's, plus the
	 * position's liquidity add-on from the instrument's curve (none when it is
	 * NULL); null when both columns are absent
	 */
	appendStringInfoString(s, ", \"addon\": ");
	if (c->cols[COL_INS_LIQUIDITY].name == NULL)
		json_str(s, c->cols[COL_INS_ADDON].name ? number_expr(c, "i", COL_INS_ADDON, NULL) : NULL);
	else
		json_str(s, psprintf("(%s OPERATOR(pg_catalog.+) COALESCE(%s.liquidity_curve_addon(i.%s, %s), 0))",
							 number_expr(c, "i", COL_INS_ADDON, "0"), qnsp,
							 q(c, COL_INS_LIQUIDITY), number_expr(c, "p", COL_POS_SIZE, NULL)));
	conventions_json(s, c, qnsp);
	appendStringInfoChar(s, '}');
}

static char *
position_key_sql(Contract *c)
{
	List	   *names = contract_position_key(c);
	ListCell   *lc;
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoString(&s, "pg_catalog.jsonb_build_object(");
	foreach(lc, names)
		appendStringInfo(&s, "%s%s, p.%s", foreach_current_index(lc) ? ", " : "",
						 quote_literal_cstr(lfirst(lc)), quote_identifier(lfirst(lc)));
	appendStringInfoChar(&s, ')');
	return s.data;
}

/* The state table of an attachment of positions over marks, or InvalidOid. */
static Oid
enforced_state(Oid nsp, Oid positions, Oid marks)
{
	Oid			config = get_relname_relid("enforcement", nsp);
	Oid			argtypes[2] = {REGCLASSOID, REGCLASSOID};
	Datum		args[2] = {ObjectIdGetDatum(positions), ObjectIdGetDatum(marks)};
	Oid			state = InvalidOid;
	EnforceUser save;
	char	   *sql;
	bool		isnull;

	if (!OidIsValid(config))
		return InvalidOid;
	sql = psprintf("SELECT e.state_table::pg_catalog.oid FROM %s.enforcement e "
				   "WHERE e.positions OPERATOR(pg_catalog.=) $1 AND e.marks OPERATOR(pg_catalog.=) $2",
				   quote_identifier(get_namespace_name(nsp)));
	enforce_become(enforce_rel_owner(config), &save);
	if (SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading isomargin.enforcement failed");
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			state = DatumGetObjectId(d);
	}
	enforce_restore(&save);
	return state;
}

/*
 * Without mark_time a symbol has one mark row; refuse a table with more
 * (the check reads the table as `as_role`).
 */
static void
check_one_mark_per_symbol(const Contract *c, Oid as_role)
{
	Oid			marks = c->tables[ENFORCE_MARKS];
	char	   *sql = psprintf("SELECT CAST(m.%1$s AS pg_catalog.text) FROM %2$s m "
							   "WHERE m.%1$s IS NOT NULL AND m.%3$s IS NOT NULL GROUP BY m.%1$s "
							   "HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1 LIMIT 1",
							   q(c, COL_MARK_SYMBOL), qualified(marks),
							   q(c, COL_MARK_PRICE));
	EnforceUser save;
	char	   *dup = NULL;

	if (OidIsValid(as_role))
		enforce_become(as_role, &save);
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the marks table failed");
	if (SPI_processed > 0)
		dup = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (OidIsValid(as_role))
		enforce_restore(&save);
	if (dup != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" holds several marks for instrument %s",
						contract_rel_name(marks), dup),
				 errhint("Map mark_time to the column that orders a symbol's marks: the latest is the current mark.")));
}

static char *
current_marks_sql(const Contract *c)
{
	const char *sym = q(c, COL_MARK_SYMBOL);
	const char *px = q(c, COL_MARK_PRICE);
	char	   *marks = qualified(c->tables[ENFORCE_MARKS]);

	if (c->cols[COL_MARK_TIME].name == NULL)
		return psprintf("SELECT m.%1$s AS symbol, CAST(m.%2$s AS pg_catalog.numeric) AS mark_price "
						"FROM %3$s m WHERE m.%1$s IS NOT NULL AND m.%2$s IS NOT NULL",
						sym, px, marks);
	return psprintf("SELECT DISTINCT ON (m.%1$s) m.%1$s AS symbol, "
					"CAST(m.%2$s AS pg_catalog.numeric) AS mark_price, m.%4$s AS mark_time "
					"FROM %3$s m WHERE m.%1$s IS NOT NULL AND m.%2$s IS NOT NULL "
					"ORDER BY m.%1$s, m.%4$s DESC NULLS LAST",
					sym, px, marks, q(c, COL_MARK_TIME));
}

Datum
attachment_contract(PG_FUNCTION_ARGS)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *qnsp = pstrdup(quote_identifier(get_namespace_name(nsp)));
	char	   *purpose_s = text_to_cstring(PG_GETARG_TEXT_PP(4));
	MemoryContext caller = CurrentMemoryContext;
	ContractPurpose purpose;
	Contract	c;
	StringInfoData s;
	Oid			state = InvalidOid;
	char	   *marks_sql;
	char	   *key_sql;
	bool		first;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("positions, marks and instruments must not be null")));
	if (strcmp(purpose_s, "enforce") == 0)
		purpose = CONTRACT_ENFORCE;
	else if (strcmp(purpose_s, "report") == 0)
		purpose = CONTRACT_REPORT;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purpose must be 'enforce' or 'report'")));

	contract_init(&c, purpose, nsp, PG_GETARG_OID(0), PG_GETARG_OID(1), PG_GETARG_OID(2));
	contract_check_tables(&c);
	contract_names_from_map(&c, PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3));
	contract_resolve(&c);
	key_sql = position_key_sql(&c);
	if (purpose == CONTRACT_ENFORCE)
		contract_check_instrument_key(&c);

	/* the result outlives SPI_finish: its buffer in the caller's memory */
	initStringInfo(&s);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* what is built here outlives SPI_finish */
	MemoryContextSwitchTo(caller);
	if (purpose == CONTRACT_REPORT)
		state = enforced_state(nsp, c.tables[ENFORCE_POSITIONS], c.tables[ENFORCE_MARKS]);
	if (OidIsValid(state))
		marks_sql = psprintf("SELECT s.symbol, s.mark_price FROM %s s "
							 "WHERE s.mark_price IS NOT NULL", qualified(state));
	else
	{
		Oid			as_role = InvalidOid;

		if (purpose == CONTRACT_ENFORCE)
		{
			/* read as the positions owner, who must be the caller (as run_as_owner) */
			if (!pg_class_ownercheck(c.tables[ENFORCE_POSITIONS], GetUserId()))
				aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE,
							   get_rel_name(c.tables[ENFORCE_POSITIONS]));
			as_role = enforce_rel_owner(c.tables[ENFORCE_POSITIONS]);
		}
		if (c.cols[COL_MARK_TIME].name == NULL)
			check_one_mark_per_symbol(&c, as_role);
		marks_sql = current_marks_sql(&c);
	}

	appendStringInfoString(&s, "{\"columns\": ");
	columns_json(&s, &c);
	appendStringInfoString(&s, ", \"add\": [");
	first = true;
	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		EnforceColumn *col = &c.cols[i];

		if (purpose != CONTRACT_ENFORCE || col->name == NULL || col->attnum != 0)
			continue;
		appendStringInfo(&s, "%s{\"column\": ", first ? "" : ", ");
		json_str(&s, col->name);
		appendStringInfoString(&s, ", \"type\": ");
		json_str(&s, i == COL_POS_STATUS ? psprintf("%s.margin_status", qnsp) :
				 i == COL_POS_CHANGED_AT ? "pg_catalog.timestamptz" : "pg_catalog.numeric");
		appendStringInfoChar(&s, '}');
		first = false;
	}
	appendStringInfoString(&s, "], \"notes\": [");
	if (purpose == CONTRACT_ENFORCE && c.cols[COL_INS_KIND].name == NULL)
		json_str(&s, psprintf("%s has no kind column: every instrument is treated as linear",
							  contract_rel_name(c.tables[ENFORCE_INSTRUMENTS])));
	appendStringInfoString(&s, "], \"position_key\": ");
	json_str(&s, key_sql);
	appendStringInfoString(&s, ", \"read\": ");
	read_json(&s, &c, qnsp);
	appendStringInfoString(&s, ", \"current_marks\": ");
	json_str(&s, marks_sql);
	appendStringInfoChar(&s, '}');
	SPI_finish();

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
