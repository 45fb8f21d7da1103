/*
 * liquidation_position.c
 *	  isomargin.liquidate_position: one flagged position liquidated by its
 *	  policy, in the caller's transaction (doc/liquidation.md, "The worker").
 *
 * The steps are the SQL building blocks of install/50_liquidation.sql and
 * install/55_liquidation_worker.sql (liquidation_attachment's statements,
 * checked_mark, assess_rule, liquidation_size_rule, liquidation_settlement,
 * liquidation_book, liquidation_ack), run from here as plans prepared once
 * per session and kept, as ri_triggers.c does: a worker liquidates
 * thousands of positions, and rebuilding the attachment and planning its
 * statements for each cost more than the liquidation.  The function is
 * declared with SET search_path = pg_catalog, pg_temp, under which the
 * attachment's statements are parsed (and parsed again by the plan cache).
 *
 * An attachment's statements are kept per positions table until a
 * relcache invalidation of its positions or instruments table (a column
 * renamed, enforcement attached again), or a new fund_column; the policy
 * is read from isomargin.liquidation_settings on every call, and checked
 * again only when it changes.
 *
 * The requirement is enforcement's: read_market gives the instrument's
 * addon_rate and liquidity_curve (when the attachment maps them), and every
 * check and sizing takes the position's add-on, addon_rate plus the curve's
 * rate of its size (doc/liquidation.md, "With dynamic add-ons"), at the
 * attachment's margin_call_ratio, read with the settings on every call.
 * read_market gives the instrument's venue conventions too (doc/venues.md,
 * as enforcement reads them; the defaults when the attachment maps none),
 * and every check and sizing takes them (doc/liquidation.md, "Under venue
 * conventions").
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "liquidation.h"

PG_FUNCTION_INFO_V1(liquidate_position);

/* the sizing's arguments, and read_market's columns (liquidation_attachment) */
#define LIQ_RULE_ARGS 18
#define LIQ_MARKET_COLS 14

typedef enum LiqPlanId
{
	LP_SETTINGS,				/* the table's policy, symbol policies, fund column */
	LP_POLICY_CHECK,			/* liquidation_policy_check */
	LP_ASSESS,					/* is it flagged, is it bankrupt */
	LP_LAST_STEP,				/* a cooldown: the position's last liquidation */
	LP_FOLLOWUP,				/* a cooldown: the follow-up row */
	LP_SIZE,					/* liquidation_size_rule */
	LP_SETTLE,					/* liquidation_settlement */
	LP_SIZE_SETTLE,				/* both in one statement, for a policy without a cooldown */
	LP_FUND,					/* the fund's row locked: does it cover the step? */
	LP_BOOK_COVERED,			/* a step the fund covers: its ledger row and balance */
	LP_BOOK,					/* liquidation_book: the others */
	LP_NPLANS
} LiqPlanId;

/* The statements every attachment shares, for one extension schema. */
typedef struct LiqShared
{
	Oid			ident;			/* liquidation_attachment's type: a new one means a new extension */
	SPIPlanPtr	plans[LP_NPLANS];
} LiqShared;

/* One attachment's statements (cache key: the positions table's OID). */
typedef struct LiqAttachment
{
	Oid			positions;		/* hash key */
	bool		valid;
	Oid			ident;
	Oid			instruments;
	char	   *fund_column;	/* NULL: a fund per symbol */
	Datum		att;			/* the liquidation_attachment row, for liquidation_book */
	SPIPlanPtr	read_position;
	SPIPlanPtr	read_market;
	SPIPlanPtr	write_position;
	Datum		policy_in;		/* the last policy checked, and what the check gave */
	Datum		policy;
	bool		cooldown;		/* its cooldown is > 0 */
} LiqAttachment;

static LiqShared liq_shared;
static HTAB *liq_cache = NULL;
static MemoryContext liq_cxt = NULL;

static void
liq_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	LiqAttachment *e;

	if (liq_cache == NULL)
		return;
	hash_seq_init(&status, liq_cache);
	while ((e = hash_seq_search(&status)) != NULL)
		if (relid == InvalidOid || relid == e->positions || relid == e->instruments)
			e->valid = false;
}

static void
liq_free(LiqAttachment *e)
{
	SPIPlanPtr *plans[] = {&e->read_position, &e->read_market, &e->write_position};

	for (int i = 0; i < (int) lengthof(plans); i++)
		if (*plans[i] != NULL)
		{
			SPI_freeplan(*plans[i]);
			*plans[i] = NULL;
		}
	if (e->fund_column)
		pfree(e->fund_column);
	if (DatumGetPointer(e->att))
		pfree(DatumGetPointer(e->att));
	if (DatumGetPointer(e->policy_in))
		pfree(DatumGetPointer(e->policy_in));
	if (DatumGetPointer(e->policy))
		pfree(DatumGetPointer(e->policy));
	e->fund_column = NULL;
	e->att = e->policy_in = e->policy = (Datum) 0;
}

/* A statement prepared and kept for the session (liquidation.h). */
SPIPlanPtr
liquidation_prepare(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "preparing a liquidation statement failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * Every statement sees what the ones before it wrote (a new snapshot and
 * command id each, as in a VOLATILE PL/pgSQL function): the cooldown reads
 * the ledger row of the step before.
 */
static void
liq_run(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "a liquidation statement failed: %s", SPI_result_code_string(rc));
}

/* Column n (from 1) of the first row of the last result; NULL when there is none. */
static Datum
liq_col(int n, bool *isnull)
{
	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, isnull);
}

static Oid
liq_type(const char *name, Oid nsp)
{
	Oid			t = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
									ObjectIdGetDatum(nsp));

	if (!OidIsValid(t))
		elog(ERROR, "type isomargin.%s is missing", name);
	return t;
}

static void
liq_prepare_shared(Oid nsp, Oid ident)
{
	const char *s = quote_identifier(get_namespace_name(nsp));
	Oid			kind = liq_type("contract_kind", nsp);
	Oid			tiers = liq_type("tiers", nsp);
	Oid			settle = liq_type("liquidation_settlement", nsp);
	Oid			att = liq_type("liquidation_attachment", nsp);
	/*
	 * size, entry, mark, margin, mmr, tiers, contract size, kind, fee rate,
	 * policy, addon rate, liquidity curve, margin-call ratio, and the venue
	 * conventions: mm_basis, fee_basis, tier_basis, bracket_basis,
	 * maintenance_amount
	 */
	Oid			rule[LIQ_RULE_ARGS] = {NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, tiers,
		NUMERICOID, kind, NUMERICOID, JSONBOID, NUMERICOID, JSONBOID, NUMERICOID,
		liq_type("mm_basis", nsp), liq_type("fee_basis", nsp), liq_type("tier_basis", nsp),
	liq_type("bracket_basis", nsp), NUMERICOID};
	Oid			book[12] = {att, TEXTOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, JSONBOID,
		NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, settle};
	Oid			one[1] = {REGCLASSOID};
	Oid			pol[1] = {JSONBOID};
	Oid			followup[3] = {REGCLASSOID, JSONBOID, JSONBOID};
	SPIPlanPtr	plans[LP_NPLANS];

	plans[LP_SETTINGS] = liquidation_prepare(psprintf(
		"SELECT s.policy, s.symbol_policies, s.fund_column, en.instruments::pg_catalog.oid, "
		"en.margin_call_ratio "
		"FROM %1$s.liquidation_settings AS s JOIN %1$s.enforcement AS en "
		"ON en.positions OPERATOR(pg_catalog.=) s.positions "
		"WHERE s.positions OPERATOR(pg_catalog.=) $1", s), 1, one);
	plans[LP_POLICY_CHECK] = liquidation_prepare(psprintf(
		"SELECT p, (p OPERATOR(pg_catalog.->>) 'cooldown')::pg_catalog.numeric OPERATOR(pg_catalog.>) 0 "
		"FROM %s.liquidation_policy_check($1) AS p", s), 1, pol);
	/*
	 * the position's add-on: addon rate plus, with a curve, the curve's rate
	 * of its size; the attachment's margin-call ratio ($13)
	 */
	plans[LP_ASSESS] = liquidation_prepare(psprintf(
		"SELECT a.status OPERATOR(pg_catalog.>=) 'liquidate', a.status OPERATOR(pg_catalog.=) 'bankrupt' "
		"FROM %1$s.assess_rule($1, $2, $3, $4, $5, $6, $7, $8, $9, $11 OPERATOR(pg_catalog.+) "
		"CASE WHEN $12 IS NULL THEN 0 ELSE %1$s.liquidity_curve_addon($12, $1) END, $13, "
		"$14, $15, $16, $17, $18) AS a", s), LIQ_RULE_ARGS, rule);
	/* a cooldown ($3 the policy): when the position's next step is due, and whether that is later */
	plans[LP_LAST_STEP] = liquidation_prepare(psprintf(
		"SELECT x.due, x.due OPERATOR(pg_catalog.>) pg_catalog.now() FROM ("
		"SELECT pg_catalog.max(l.created_at) OPERATOR(pg_catalog.+) "
		"(($3 OPERATOR(pg_catalog.->>) 'cooldown')::pg_catalog.numeric::pg_catalog.float8 "
		"OPERATOR(pg_catalog.*) '1 second'::pg_catalog.interval) AS due "
		"FROM %s.insurance_ledger AS l "
		"WHERE l.positions OPERATOR(pg_catalog.=) $1 AND l.position_key OPERATOR(pg_catalog.=) $2 "
		"AND l.entry OPERATOR(pg_catalog.=) 'liquidation') AS x", s), 3, followup);
	plans[LP_FOLLOWUP] = liquidation_prepare(psprintf(
		"INSERT INTO %s.liquidation_followups AS f (positions, position_key, due_at) "
		"VALUES ($1, $2, $3) ON CONFLICT (positions, position_key) DO UPDATE SET due_at = EXCLUDED.due_at",
		s), 3, (Oid[]) {REGCLASSOID, JSONBOID, TIMESTAMPTZOID});
	plans[LP_SIZE] = liquidation_prepare(psprintf(
		"SELECT %s.liquidation_size_rule($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		"$14, $15, $16, $17, $18)", s), LIQ_RULE_ARGS, rule);
	/* the settlement at the fill ($3), the liquidation fee rate from the policy */
	plans[LP_SETTLE] = liquidation_prepare(psprintf(
		"SELECT st, st.size, st.margin FROM %s.liquidation_settlement($1, $2, $4, $5, $3, $6, $7, "
		"($8 OPERATOR(pg_catalog.->>) 'liquidation_fee_rate')::pg_catalog.numeric) AS st", s),
		8, (Oid[]) {NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, kind, JSONBOID});
	/* the rule's arguments; no close (0) when the exact check says ok or margin_call */
	plans[LP_SIZE_SETTLE] = liquidation_prepare(psprintf(
		"SELECT k, st, st.size, st.margin FROM %1$s.liquidation_size_rule($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		"$14, $15, $16, $17, $18) AS k, "
		"%1$s.liquidation_settlement($1, $2, $4, k, $3, $7, $8, "
		"($10 OPERATOR(pg_catalog.->>) 'liquidation_fee_rate')::pg_catalog.numeric) AS st", s), LIQ_RULE_ARGS, rule);
	/* liquidation_book's test, its fund row locked as it locks it */
	plans[LP_FUND] = liquidation_prepare(psprintf(
		"SELECT ($3).to_fund OPERATOR(pg_catalog.>=) 0 "
		"OR f.balance OPERATOR(pg_catalog.+) ($3).to_fund OPERATOR(pg_catalog.>=) 0 "
		"FROM %s.insurance_funds AS f WHERE f.positions OPERATOR(pg_catalog.=) $1 "
		"AND f.fund OPERATOR(pg_catalog.=) $2 FOR UPDATE", s), 3,
		(Oid[]) {REGCLASSOID, TEXTOID, settle});
	/* liquidation_book's row when the fund covers the step, and insurance_append's balance */
	plans[LP_BOOK_COVERED] = liquidation_prepare(psprintf(
		"WITH l AS (INSERT INTO %1$s.insurance_ledger (positions, fund, entry, amount, symbol, "
		"position_key, event_id, worker, method, mark_price, size_before, entry_price, margin_before, "
		"closed_size, bankruptcy_price, released_margin, realized_pnl, settlement, liquidation_fee, "
		"adl_size, shortfall, size_after, margin_after) "
		"VALUES ($1, $2, 'liquidation', ($12).to_fund, $3, $4, $5, $6, $7 OPERATOR(pg_catalog.->>) 'method', "
		"$8, $9, $10, $11, ($12).closed_size, ($12).bankruptcy_price, ($12).released_margin, "
		"($12).realized_pnl, ($12).to_fund OPERATOR(pg_catalog.-) ($12).liquidation_fee, "
		"($12).liquidation_fee, 0, 0, ($12).size, ($12).margin) RETURNING 1) "
		"UPDATE %1$s.insurance_funds AS f SET balance = f.balance OPERATOR(pg_catalog.+) ($12).to_fund "
		"WHERE f.positions OPERATOR(pg_catalog.=) $1 AND f.fund OPERATOR(pg_catalog.=) $2", s), 12,
		(Oid[]) {REGCLASSOID, TEXTOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, JSONBOID,
		NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, settle});
	plans[LP_BOOK] = liquidation_prepare(psprintf(
		"SELECT %s.liquidation_book($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", s), 12, book);

	for (int i = 0; i < LP_NPLANS; i++)
	{
		if (liq_shared.plans[i] != NULL)
			SPI_freeplan(liq_shared.plans[i]);
		liq_shared.plans[i] = plans[i];
	}
	liq_shared.ident = ident;
}

/* The attachment's statements, from liquidation_attachment, prepared and kept. */
static void
liq_build(LiqAttachment *e, Oid nsp, Oid ident)
{
	Oid			one[1] = {REGCLASSOID};
	Datum		arg[1] = {ObjectIdGetDatum(e->positions)};
	char	   *sql[3];
	bool		isnull;
	MemoryContext old;
	Datum		att;

	if (SPI_execute_with_args(psprintf("SELECT a, a.read_position, a.read_market, a.write_position "
									   "FROM %s.liquidation_attachment($1) AS a",
									   quote_identifier(get_namespace_name(nsp))),
							  1, one, arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the liquidation attachment failed");
	att = liq_col(1, &isnull);
	for (int i = 0; i < 3; i++)
	{
		bool		null;
		Datum		d = liq_col(i + 2, &null);

		sql[i] = null ? NULL : TextDatumGetCString(d);
	}
	if (isnull || sql[0] == NULL || sql[1] == NULL || sql[2] == NULL)
		elog(ERROR, "liquidation_attachment gave no statements for table %u", e->positions);
	e->read_position = liquidation_prepare(sql[0], 1, (Oid[]) {JSONBOID});
	e->read_market = liquidation_prepare(sql[1], 1, (Oid[]) {TEXTOID});
	e->write_position = liquidation_prepare(sql[2], 3, (Oid[]) {JSONBOID, NUMERICOID, NUMERICOID});
	old = MemoryContextSwitchTo(liq_cxt);
	e->att = datumCopy(att, false, -1);
	MemoryContextSwitchTo(old);
	e->ident = ident;
}

static bool
numeric_is_zero(Datum n)
{
	return DatumGetBool(DirectFunctionCall2(numeric_eq, n, NumericGetDatum(int64_to_numeric(0))));
}

static bool
jsonb_same(Datum a, Datum b)
{
	return DatumGetPointer(a) != NULL && DatumGetPointer(b) != NULL && datumIsEqual(a, b, false, -1);
}

/*
 * The attachment of positions, its statements prepared (SPI connected);
 * its settings read now: the policies and the margin-call ratio (which
 * enforce_settings may have changed since the statements were built).
 */
static LiqAttachment *
liq_attachment(Oid positions, Oid nsp, Datum *policy, Datum *symbol_policies, Datum *call_ratio)
{
	Oid			ident = liq_type("liquidation_attachment", nsp);
	Datum		arg[1] = {ObjectIdGetDatum(positions)};
	LiqAttachment *e;
	bool		found;
	bool		isnull;
	bool		fund_null;
	Datum		fund;
	char	   *fc;
	Oid			instruments;

	if (liq_cache == NULL)
	{
		HASHCTL		ctl;

		liq_cxt = AllocSetContextCreate(CacheMemoryContext, "isomargin liquidation",
										ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(LiqAttachment);
		ctl.hcxt = liq_cxt;
		liq_cache = hash_create("isomargin liquidation attachments", 16, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(liq_invalidate, (Datum) 0);
	}
	if (liq_shared.ident != ident)
		liq_prepare_shared(nsp, ident);

	/* the settings, read on every call: the policy may have changed */
	liq_run(liq_shared.plans[LP_SETTINGS], arg, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no liquidation settings",
						DatumGetCString(DirectFunctionCall1(regclassout, arg[0]))),
				 errhint("Attach the engine with isomargin.liquidation_setup.")));
	*policy = liq_col(1, &isnull);
	*symbol_policies = liq_col(2, &isnull);
	fund = liq_col(3, &fund_null);
	fc = fund_null ? NULL : TextDatumGetCString(fund);
	instruments = DatumGetObjectId(liq_col(4, &isnull));
	*call_ratio = liq_col(5, &isnull);

	e = hash_search(liq_cache, &positions, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) e) + sizeof(Oid), 0, sizeof(LiqAttachment) - sizeof(Oid));
		e->positions = positions;
	}
	if (e->valid && e->ident == ident && e->instruments == instruments &&
		(fc == NULL) == (e->fund_column == NULL) &&
		(fc == NULL || strcmp(fc, e->fund_column) == 0))
		return e;

	liq_free(e);
	e->valid = false;
	liq_build(e, nsp, ident);
	e->instruments = instruments;
	if (fc != NULL)
		e->fund_column = MemoryContextStrdup(liq_cxt, fc);
	e->valid = true;
	return e;
}

/* The checked policy of a symbol: coalesce(symbol_policies -> symbol, policy). */
static Datum
liq_policy(LiqAttachment *e, Datum policy, Datum symbol_policies, Datum symbol)
{
	Datum		p = policy;
	Datum		sp;
	bool		isnull;
	MemoryContext old;

	{
		Jsonb	   *sps = DatumGetJsonbP(symbol_policies);
		text	   *sym = DatumGetTextPP(symbol);
		JsonbValue	k;
		JsonbValue *v;

		k.type = jbvString;
		k.val.string.val = VARDATA_ANY(sym);
		k.val.string.len = VARSIZE_ANY_EXHDR(sym);
		v = JB_ROOT_IS_OBJECT(sps) ? findJsonbValueFromContainer(&sps->root, JB_FOBJECT, &k) : NULL;
		if (v != NULL)
		{
			sp = JsonbPGetDatum(JsonbValueToJsonb(v));
			p = sp;
		}
	}
	if (jsonb_same(p, e->policy_in))
		return e->policy;
	liq_run(liq_shared.plans[LP_POLICY_CHECK], &p, NULL);
	old = MemoryContextSwitchTo(liq_cxt);
	if (DatumGetPointer(e->policy_in))
		pfree(DatumGetPointer(e->policy_in));
	if (DatumGetPointer(e->policy))
		pfree(DatumGetPointer(e->policy));
	e->policy_in = e->policy = (Datum) 0;
	e->policy = datumCopy(liq_col(1, &isnull), false, -1);
	e->cooldown = DatumGetBool(liq_col(2, &isnull)) && !isnull;
	e->policy_in = datumCopy(p, false, -1);
	MemoryContextSwitchTo(old);
	return e->policy;
}

/*
 * One position liquidated (doc/liquidation.md, "The worker"), SPI connected:
 * the steps taken.  The event, when there is one, is recorded in the ledger.
 */
int32
liquidation_run(Oid nsp, Oid positions, Datum key, Datum worker, bool has_event, Datum event_id)
{
	LiqAttachment *e;
	Datum		policy,
				symbol_policies,
				call_ratio;
	bool		isnull;
	int32		steps = 0;
	Datum		pos[4];			/* symbol, size, entry price, margin */
	bool		pos_nulls[4];
	Datum		mkt[LIQ_MARKET_COLS];	/* mark, kind, contract size, fee rate, mmr,
										 * tiers, fund, addon rate, liquidity curve,
										 * mm_basis, fee_basis, tier_basis,
										 * bracket_basis, maintenance_amount */
	char		mkt_nulls[LIQ_MARKET_COLS];
	Datum		pol = (Datum) 0;

	e = liq_attachment(positions, nsp, &policy, &symbol_policies, &call_ratio);

	/* read_position: the position, locked FOR UPDATE */
	liq_run(e->read_position, &key, NULL);
	for (int i = 0; i < 4; i++)
		pos[i] = liq_col(i + 1, &pos_nulls[i]);
	if (!pos_nulls[0])
	{
		/* read_market: checked_mark (the state row FOR SHARE) and the instrument */
		liq_run(e->read_market, &pos[0], NULL);
		for (int i = 0; i < LIQ_MARKET_COLS; i++)
		{
			bool		null;

			mkt[i] = liq_col(i + 1, &null);
			mkt_nulls[i] = null ? 'n' : ' ';
		}
		pol = liq_policy(e, policy, symbol_policies, pos[0]);
	}
	while (!pos_nulls[0] && mkt_nulls[0] != 'n' && !pos_nulls[1] && !numeric_is_zero(pos[1]))
	{
		/*
		 * size, entry, mark, margin, mmr, tiers, contract size, kind, fee
		 * rate, policy, addon rate, liquidity curve, margin-call ratio, the
		 * conventions
		 */
		Datum		rule[LIQ_RULE_ARGS] = {pos[1], pos[2], mkt[0], pos[3], mkt[4], mkt[5], mkt[2], mkt[1],
			mkt[3], pol, mkt[7], mkt[8], call_ratio,
		mkt[9], mkt[10], mkt[11], mkt[12], mkt[13]};
		char		rule_nulls[LIQ_RULE_ARGS] = {' ', pos_nulls[2] ? 'n' : ' ', ' ', pos_nulls[3] ? 'n' : ' ',
			mkt_nulls[4], mkt_nulls[5], mkt_nulls[2], mkt_nulls[1], mkt_nulls[3], ' ',
			mkt_nulls[7], mkt_nulls[8], ' ',
		mkt_nulls[9], mkt_nulls[10], mkt_nulls[11], mkt_nulls[12], mkt_nulls[13]};
		Datum		k;
		Datum		st,
					st_size,
					st_margin;
		bool		st_null;
		bool		size_null;
		bool		margin_null;

		if (!e->cooldown)
		{
			/* the size is 0 exactly when the check at the mark does not say liquidate or bankrupt */
			liq_run(liq_shared.plans[LP_SIZE_SETTLE], rule, rule_nulls);
			k = liq_col(1, &isnull);
			if (SPI_processed == 0 || (!isnull && numeric_is_zero(k)))
				break;
			st = liq_col(2, &st_null);
			st_size = liq_col(3, &size_null);
			st_margin = liq_col(4, &margin_null);
		}
		else
		{
			bool		bankrupt;

			liq_run(liq_shared.plans[LP_ASSESS], rule, rule_nulls);
			if (!DatumGetBool(liq_col(1, &isnull)) || isnull)
				break;
			bankrupt = DatumGetBool(liq_col(2, &isnull)) && !isnull;
			if (!bankrupt)
			{
				Datum		a[3] = {ObjectIdGetDatum(e->positions), key, pol};
				Datum		due;
				bool		later;

				EnforceUser save;

				/*
				 * As the ledger's owner, past its row security: under a
				 * policy the key's jsonb equality, not leakproof, is no
				 * index condition, and the read would visit every row of
				 * the book.  The caller holds the position FOR UPDATE; the
				 * follow-up or ledger row it writes next meets the policy.
				 */
				enforce_become(enforce_rel_owner(get_relname_relid("insurance_ledger", nsp)), &save);
				liq_run(liq_shared.plans[LP_LAST_STEP], a, NULL);
				enforce_restore(&save);
				due = liq_col(1, &isnull);
				later = !isnull && DatumGetBool(liq_col(2, &isnull)) && !isnull;
				if (later)
				{
					a[2] = due;
					liq_run(liq_shared.plans[LP_FOLLOWUP], a, NULL);
					break;
				}
			}
			liq_run(liq_shared.plans[LP_SIZE], rule, rule_nulls);
			k = liq_col(1, &isnull);
			if (!isnull && numeric_is_zero(k))
				break;
			{
				/* size, entry, mark, margin, close, contract size, kind, policy */
				Datum		a[8] = {pos[1], pos[2], mkt[0], pos[3], k, mkt[2], mkt[1], pol};
				char		n[8] = {' ', rule_nulls[1], ' ', rule_nulls[3], isnull ? 'n' : ' ',
					mkt_nulls[2], mkt_nulls[1], ' '};

				liq_run(liq_shared.plans[LP_SETTLE], a, n);
				st = liq_col(1, &st_null);
				st_size = liq_col(2, &size_null);
				st_margin = liq_col(3, &margin_null);
			}
		}
		{
			Datum		w[3] = {key, st_size, st_margin};
			char		n[3] = {' ', size_null ? 'n' : ' ', margin_null ? 'n' : ' '};

			liq_run(e->write_position, w, n);
		}
		{
			/* att, fund, symbol, key, event, worker, policy, mark, size, entry, margin, settlement */
			Datum		b[12] = {e->att, mkt[6], pos[0], key, has_event ? event_id : (Datum) 0,
				worker, pol, mkt[0], pos[1], pos[2], pos[3], st};
			char		n[12] = {' ', mkt_nulls[6], ' ', ' ', has_event ? ' ' : 'n', ' ', ' ',
				' ', ' ', rule_nulls[1], rule_nulls[3], st_null ? 'n' : ' '};

			Datum		f[3] = {ObjectIdGetDatum(e->positions), mkt[6], st};
			bool		covered = false;

			/* the usual step: the fund exists and covers it (else liquidation_book decides) */
			if (mkt_nulls[6] != 'n' && !st_null)
			{
				liq_run(liq_shared.plans[LP_FUND], f, NULL);
				covered = DatumGetBool(liq_col(1, &isnull)) && !isnull;
			}
			if (covered)
			{
				b[0] = ObjectIdGetDatum(e->positions);
				liq_run(liq_shared.plans[LP_BOOK_COVERED], b, n);
			}
			else
				liq_run(liq_shared.plans[LP_BOOK], b, n);
		}
		pos[1] = st_size;
		pos_nulls[1] = size_null;
		pos[3] = st_margin;
		pos_nulls[3] = margin_null;
		steps++;
	}
	liquidation_settle_events(nsp, e->positions, key, worker);
	return steps;
}

/*
 * liquidate_position(positions regclass, position_key jsonb, worker text,
 * event_id int8 DEFAULT NULL) → int: the steps taken (doc/liquidation.md).
 */
Datum
liquidate_position(PG_FUNCTION_ARGS)
{
	int32		steps;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("positions, position_key and worker must not be null")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	steps = liquidation_run(get_func_namespace(fcinfo->flinfo->fn_oid), PG_GETARG_OID(0),
							PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), !PG_ARGISNULL(3),
							PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3));
	SPI_finish();
	PG_RETURN_INT32(steps);
}
