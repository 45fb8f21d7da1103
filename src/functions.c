/*
 * functions.c
 *	  The SQL-callable figures of one position (install/10_core.sql).
 *
 * Each wrapper reads and checks its arguments (args.c), fills in a
 * MarginPosition and, where needed, a MarginSchedule, and calls the engine.
 * The argument numbers follow the SQL signatures.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "args.h"
#include "margin.h"
#include "numeric_codec.h"
#include "quick.h"
#include "tiers.h"

PG_MODULE_MAGIC;

static Dec
read_contract_size(FunctionCallInfo fcinfo, int cs_arg)
{
	return arg_memoized(fcinfo, cs_arg, "contract_size", arg_positive,
						&call_cache(fcinfo)->contract_size);
}

/* Position without an entry price or margin (notional, initial margin). */
static void
read_size_only(FunctionCallInfo fcinfo, int size_arg, int cs_arg, int kind_arg,
			   MarginPosition *p)
{
	Dec			size = arg_finite(fcinfo, size_arg, "size");
	Dec			cs = read_contract_size(fcinfo, cs_arg);

	margin_position_init(p, size, dec_from_int(1), dec_from_int(0), cs,
						 arg_kind_is_inverse(fcinfo, kind_arg));
}

static void
read_position(FunctionCallInfo fcinfo, int size_arg, int entry_arg, int margin_arg,
			  int cs_arg, int kind_arg, MarginPosition *p)
{
	Dec			size = arg_finite(fcinfo, size_arg, "size");
	Dec			entry = arg_positive(fcinfo, entry_arg, "entry_price");
	Dec			margin = margin_arg >= 0 ? arg_nonnegative(fcinfo, margin_arg, "margin")
		: dec_from_int(0);
	Dec			cs = read_contract_size(fcinfo, cs_arg);

	margin_position_init(p, size, entry, margin, cs, arg_kind_is_inverse(fcinfo, kind_arg));
}

/*
 * Is the maintenance-rule argument a tiers schedule (the overloads declared
 * in install/25_tiers_figures.sql) rather than a flat mmr?  Decided once per
 * call site from the function's declared argument types.
 */
static bool
rate_arg_is_tiers(FunctionCallInfo fcinfo, CallCache *cache, int rate_arg)
{
	if (unlikely(cache->rate_arg_kind == 0))
	{
		HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
		Form_pg_proc proc;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
		proc = (Form_pg_proc) GETSTRUCT(tup);
		cache->rate_arg_kind = rate_arg < proc->pronargs &&
			proc->proargtypes.values[rate_arg] != NUMERICOID ? 2 : 1;
		ReleaseSysCache(tup);
	}
	return cache->rate_arg_kind == 2;
}

/*
 * The maintenance rule: a flat mmr plus the closing fee, built and checked
 * once per distinct (mmr, fee) at this call site; or a tiers schedule,
 * decoded once per distinct value (tiers_cached_schedule).
 */
static const MarginSchedule *
read_schedule(FunctionCallInfo fcinfo, int rate_arg, int fee_arg,
			  MarginSchedule *local, MarginBracket *local_bracket)
{
	CallCache  *cache = call_cache(fcinfo);
	Dec			fee,
				mmr;
	int			k;

	if (rate_arg_is_tiers(fcinfo, cache, rate_arg))
		return tiers_cached_schedule(fcinfo, rate_arg,
									 arg_memoized(fcinfo, fee_arg, "fee_rate", arg_nonnegative,
												  &cache->fee));
	k = arg_memo_find(fcinfo, &cache->flat, rate_arg, fee_arg);
	if (k >= 0)
		return &cache->flat_schedule[k];

	fee = arg_nonnegative(fcinfo, fee_arg, "fee_rate");
	mmr = arg_rate(fcinfo, rate_arg, "mmr");
	check_rate_with_fee(mmr, fee, "mmr");
	/* a numeric-route value lives in short-lived memory: not kept */
	k = mmr.big || fee.big ? -1 : arg_memo_keep(fcinfo, &cache->flat, rate_arg, fee_arg);
	if (k < 0)
	{
		margin_schedule_flat(local, local_bracket, mmr, fee);
		return local;
	}
	margin_schedule_flat(&cache->flat_schedule[k], &cache->flat_bracket[k], mmr, fee);
	return &cache->flat_schedule[k];
}

static Dec
read_tick(FunctionCallInfo fcinfo, int tick_arg)
{
	return arg_memoized(fcinfo, tick_arg, "tick_size", arg_nonnegative, &call_cache(fcinfo)->tick);
}

/*
 * margin_call_ratio, which must exceed mmr + fee_rate (with tiers: the
 * highest bracket's): at or below it the margin ratio would stand above the
 * threshold at every price, a margin call that never ends.
 */
static Dec
read_call_ratio(FunctionCallInfo fcinfo, int argno, const MarginSchedule *s)
{
	Dec			c = arg_memoized(fcinfo, argno, "margin_call_ratio", arg_call_ratio,
								 &call_cache(fcinfo)->call_ratio);
	Dec			top = s->brackets[s->nbrackets - 1].rate_fee;

	if (dec_cmp(c, top) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("margin_call_ratio must be greater than mmr + fee_rate"),
				 errdetail("margin_call_ratio is %s and %s is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(dec_to_numeric(c)))),
						   s->nbrackets > 1 ? "the highest bracket's mmr + fee_rate" : "mmr + fee_rate",
						   DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(dec_to_numeric(top))))),
				 errhint("At or below it the margin ratio would stand above the threshold at every price.")));
	return c;
}

#define RETURN_DEC(d) PG_RETURN_NUMERIC(dec_to_numeric(d))

PG_FUNCTION_INFO_V1(notional);
Datum
notional(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	Dec			price;

	dec_figure = "notional";
	read_size_only(fcinfo, 0, 2, 3, &p);
	price = arg_positive(fcinfo, 1, "price");
	RETURN_DEC(margin_notional(&p, price));
}

PG_FUNCTION_INFO_V1(unrealized_pnl);
Datum
unrealized_pnl(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	Dec			mark;

	dec_figure = "unrealized_pnl";
	read_position(fcinfo, 0, 1, -1, 3, 4, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	RETURN_DEC(margin_unrealized_pnl(&p, mark));
}

PG_FUNCTION_INFO_V1(equity);
Datum
equity(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	Dec			mark;

	dec_figure = "equity";
	read_position(fcinfo, 0, 1, 3, 4, 5, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	RETURN_DEC(margin_equity(&p, mark));
}

PG_FUNCTION_INFO_V1(initial_margin);
Datum
initial_margin(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	Dec			price,
				leverage;

	dec_figure = "initial_margin";
	read_size_only(fcinfo, 0, 3, 4, &p);
	price = arg_positive(fcinfo, 1, "price");
	leverage = arg_positive(fcinfo, 2, "leverage");
	RETURN_DEC(margin_initial(&p, price, leverage));
}

PG_FUNCTION_INFO_V1(maintenance_margin);
Datum
maintenance_margin(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	const MarginSchedule *s;
	Dec			mark;

	dec_figure = "maintenance_margin";
	read_size_only(fcinfo, 0, 3, 4, &p);
	mark = arg_positive(fcinfo, 1, "mark_price");
	s = read_schedule(fcinfo, 2, 5, &local, &flat);
	RETURN_DEC(margin_maintenance(&p, s, mark));
}

PG_FUNCTION_INFO_V1(margin_ratio);
Datum
margin_ratio(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	const MarginSchedule *s;
	Dec			mark,
				ratio;

	dec_figure = "margin_ratio";
	read_position(fcinfo, 0, 1, 3, 5, 6, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	s = read_schedule(fcinfo, 4, 7, &local, &flat);
	if (!margin_ratio_at(&p, s, mark, &ratio))
		PG_RETURN_NULL();
	RETURN_DEC(ratio);
}

PG_FUNCTION_INFO_V1(margin_status);
Datum
margin_status(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	const MarginSchedule *s;
	Dec			mark,
				c;

	dec_figure = "margin_status";
	read_position(fcinfo, 0, 1, 3, 5, 6, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	s = read_schedule(fcinfo, 4, 7, &local, &flat);
	c = read_call_ratio(fcinfo, 8, s);
	PG_RETURN_OID(status_enum_oid(fcinfo, margin_check(&p, s, mark, c)));
}

/*
 * A rule argument read straight from its datum: finite, at most 18 digits
 * and 18 decimals (what the quick route takes), and not negative.
 */
static pg_attribute_always_inline bool
direct_nonnegative(FunctionCallInfo fcinfo, int argno, Dec *out)
{
	int64		coef;
	int			scale;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(argno), &coef, &scale) || coef < 0)
		return false;
	*out = dec_make(coef, scale);
	return true;
}

/* 0 <= v < 1, for a value of direct_nonnegative */
static pg_attribute_always_inline bool
direct_below_one(Dec v)
{
	return v.coef < isomargin_pow10_64[v.scale];
}

/*
 * The rule of a price function read on every call straight from the
 * datums, each value checked with a few integer comparisons: cheaper than
 * finding the bytes in a memo when the rule changes from row to row (a
 * book that interleaves instruments).  Declines (false) for anything out of
 * the common case: a kind label not seen yet at this call site, a value the
 * quick route would not take, a value that breaks a rule; the memoized
 * reading then takes it and raises the error, if there is one, so the
 * result and the error are the same either way.
 */
static bool
read_price_rule_direct(FunctionCallInfo fcinfo, CallCache *cache, int cs_arg, int kind_arg,
					   int rate_arg, int fee_arg, int tick_arg, QuickRule *rule,
					   MarginSchedule *local, MarginBracket *flat)
{
	Oid			kind = PG_GETARG_OID(kind_arg);
	Dec			mmr,
				fee;

	if (kind == cache->linear_oid)
		rule->inverse = false;
	else if (kind == cache->inverse_oid)
		rule->inverse = true;
	else
		return false;
	if (!direct_nonnegative(fcinfo, cs_arg, &rule->contract_size) || rule->contract_size.coef == 0)
		return false;
	/* the tick is nearly always the constant default: its memo answers at once */
	rule->tick = read_tick(fcinfo, tick_arg);
	if (rate_arg < 0)
	{
		rule->schedule = NULL;
		return true;
	}
	if (!direct_nonnegative(fcinfo, fee_arg, &fee))
		return false;
	if (cache->rate_arg_kind == 2)
	{
		rule->schedule = tiers_cached_schedule(fcinfo, rate_arg, fee);
		return true;
	}
	if (!direct_nonnegative(fcinfo, rate_arg, &mmr) || !direct_below_one(mmr))
		return false;
	/* both below 10^18 at scale <= 18: the sum fits */
	flat->rate_fee = dec_add(mmr, fee);
	if (!direct_below_one(flat->rate_fee))
		return false;
	flat->floor = dec_from_int(0);
	flat->rate = mmr;
	flat->amount = dec_from_int(0);
	local->nbrackets = 1;
	local->fee = fee;
	local->brackets = flat;
	rule->schedule = local;
	return true;
}

/*
 * After the first call of liquidation_price: does its call site take the
 * lane (quick_lane.c), with the tick a constant zero and either a flat mmr
 * or a tiers value?
 */
static void
choose_lane(FunctionCallInfo fcinfo, CallCache *cache, int rate_arg, int tick_arg,
			const QuickRule *rule)
{
	bool		tiers = cache->rate_arg_kind == 2;

	if (rate_arg < 0 || !arg_is_const(fcinfo, tick_arg) || rule->tick.big ||
		rule->tick.coef != 0)
		return;
	cache->lane = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(QuickLaneCache));
	cache->lane->tiers = tiers;
	cache->lane->tiers_const = tiers && arg_is_const(fcinfo, rate_arg);
}

/*
 * The rule of a price function: contract size, kind, maintenance rule (none
 * for the bankruptcy price: rate_arg < 0) and tick.  When all of them are
 * constants the whole rule is kept after the first call; otherwise it is
 * read directly (read_price_rule_direct) or, when that declines, each
 * argument is parsed and checked once per distinct value at this call site.
 */
static void
read_price_rule(FunctionCallInfo fcinfo, int cs_arg, int kind_arg, int rate_arg, int fee_arg,
				int tick_arg, QuickRule *rule, MarginSchedule *local, MarginBracket *flat)
{
	CallCache  *cache = call_cache(fcinfo);

	if (cache->rule_kept > 0)
	{
		*rule = cache->rule;
		return;
	}
	/* rule_kept < 0: this is not the first call, rate_arg_kind is known */
	if (cache->rule_kept < 0 &&
		read_price_rule_direct(fcinfo, cache, cs_arg, kind_arg, rate_arg, fee_arg, tick_arg,
							   rule, local, flat))
		return;
	rule->contract_size = read_contract_size(fcinfo, cs_arg);
	rule->inverse = arg_kind_is_inverse(fcinfo, kind_arg);
	rule->schedule = rate_arg < 0 ? NULL : read_schedule(fcinfo, rate_arg, fee_arg, local, flat);
	rule->tick = read_tick(fcinfo, tick_arg);
	if (cache->rule_kept == 0)
	{
		int			args[] = {cs_arg, kind_arg, tick_arg, rate_arg, fee_arg};
		bool		all_const = true;

		for (int i = 0; i < (rate_arg < 0 ? 3 : 5); i++)
			all_const = all_const && arg_is_const(fcinfo, args[i]);
		/* a flat schedule in local storage, or a numeric-route value, is not kept */
		if (all_const && !(rule->schedule != NULL && rule->schedule == local) &&
			!rule->contract_size.big && !rule->tick.big)
		{
			cache->rule = *rule;
			cache->rule_kept = 1;
		}
		else
			cache->rule_kept = -1;
		choose_lane(fcinfo, cache, rate_arg, tick_arg, rule);
	}
}

/*
 * The rule is read first, then the position by the quick route (quick.h)
 * or, when it declines, by the general route.
 */
static pg_noinline Datum
liquidation_price_routes(FunctionCallInfo fcinfo)
{
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	QuickRule	rule;
	Dec			price;
	Datum		result;
	bool		isnull;

	dec_figure = "liquidation_price";
	read_price_rule(fcinfo, 4, 5, 3, 6, 7, &rule, &local, &flat);
	if (quick_threshold_price(fcinfo, &rule, 0, 1, 2, &result, &isnull))
	{
		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(result);
	}
	read_position(fcinfo, 0, 1, 2, 4, 5, &p);
	if (!margin_threshold_price(&p, rule.schedule, dec_from_int(1), rule.tick, &price))
		PG_RETURN_NULL();
	RETURN_DEC(price);
}

/*
 * The lane (quick_lane.c) first, when this call site takes it: kept apart
 * from the other routes so that the common call sets up no more than it needs.
 */
PG_FUNCTION_INFO_V1(liquidation_price);
Datum
liquidation_price(PG_FUNCTION_ARGS)
{
	CallCache  *cache = (CallCache *) fcinfo->flinfo->fn_extra;
	Datum		result;
	bool		isnull;

	if (likely(cache != NULL && cache->lane != NULL) &&
		quick_lane_liquidation_price(fcinfo, cache->lane, cache->linear_oid, cache->inverse_oid,
									 &result, &isnull))
	{
		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(result);
	}
	return liquidation_price_routes(fcinfo);
}

PG_FUNCTION_INFO_V1(margin_call_price);
Datum
margin_call_price(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	const MarginSchedule *s;
	Dec			c,
				price;

	dec_figure = "margin_call_price";
	read_position(fcinfo, 0, 1, 2, 4, 5, &p);
	s = read_schedule(fcinfo, 3, 6, &local, &flat);
	c = read_call_ratio(fcinfo, 7, s);
	if (!margin_threshold_price(&p, s, c, read_tick(fcinfo, 8), &price))
		PG_RETURN_NULL();
	RETURN_DEC(price);
}

PG_FUNCTION_INFO_V1(bankruptcy_price);
Datum
bankruptcy_price(PG_FUNCTION_ARGS)
{
	MarginPosition p;
	QuickRule	rule;
	Dec			price;
	Datum		result;
	bool		isnull;

	dec_figure = "bankruptcy_price";
	read_price_rule(fcinfo, 3, 4, -1, -1, 5, &rule, NULL, NULL);
	if (quick_threshold_price(fcinfo, &rule, 0, 1, 2, &result, &isnull))
	{
		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(result);
	}
	read_position(fcinfo, 0, 1, 2, 3, 4, &p);
	if (!margin_bankruptcy_price(&p, rule.tick, &price))
		PG_RETURN_NULL();
	RETURN_DEC(price);
}

/*
 * assess(size, entry_price, mark_price, margin, mmr, contract_size, kind,
 *		  fee_rate, margin_call_ratio, tick_size, leverage): not STRICT, for
 * the optional leverage; a NULL anywhere else gives NULL.
 */
enum
{
	A_NOTIONAL, A_PNL, A_EQUITY, A_IM, A_MM, A_RATIO, A_STATUS, A_LP, A_MCP, A_BP, A_NATTS
};

PG_FUNCTION_INFO_V1(assess);
Datum
assess(PG_FUNCTION_ARGS)
{
	CallCache  *cache = call_cache(fcinfo);
	MarginPosition p;
	MarginSchedule local;
	MarginBracket flat;
	const MarginSchedule *s;
	Dec			mark,
				c,
				tick,
				v;
	Datum		values[A_NATTS];
	bool		nulls[A_NATTS] = {0};

	dec_figure = "assess";
	for (int i = 0; i < 10; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	if (cache->result_desc == NULL)
	{
		TupleDesc	desc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "assess must return a composite type");
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cache->result_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
	}

	read_position(fcinfo, 0, 1, 3, 5, 6, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	s = read_schedule(fcinfo, 4, 7, &local, &flat);
	c = read_call_ratio(fcinfo, 8, s);
	tick = read_tick(fcinfo, 9);

	values[A_NOTIONAL] = NumericGetDatum(dec_to_numeric(margin_notional(&p, mark)));
	values[A_PNL] = NumericGetDatum(dec_to_numeric(margin_unrealized_pnl(&p, mark)));
	values[A_EQUITY] = NumericGetDatum(dec_to_numeric(margin_equity(&p, mark)));
	if (PG_ARGISNULL(10))
		nulls[A_IM] = true;
	else
		values[A_IM] = NumericGetDatum(dec_to_numeric(
													  margin_initial(&p, p.entry, arg_positive(fcinfo, 10, "leverage"))));
	values[A_MM] = NumericGetDatum(dec_to_numeric(margin_maintenance(&p, s, mark)));
	if (margin_ratio_at(&p, s, mark, &v))
		values[A_RATIO] = NumericGetDatum(dec_to_numeric(v));
	else
		nulls[A_RATIO] = true;
	values[A_STATUS] = ObjectIdGetDatum(status_enum_oid(fcinfo, margin_check(&p, s, mark, c)));
	if (margin_threshold_price(&p, s, dec_from_int(1), tick, &v))
		values[A_LP] = NumericGetDatum(dec_to_numeric(v));
	else
		nulls[A_LP] = true;
	if (margin_threshold_price(&p, s, c, tick, &v))
		values[A_MCP] = NumericGetDatum(dec_to_numeric(v));
	else
		nulls[A_MCP] = true;
	if (margin_bankruptcy_price(&p, tick, &v))
		values[A_BP] = NumericGetDatum(dec_to_numeric(v));
	else
		nulls[A_BP] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->result_desc, values, nulls)));
}
