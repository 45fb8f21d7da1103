/*
 * dynamic.c
 *	  The figures with a dynamic add-on rate (install/29_dynamic_figures.sql,
 *	  doc/dynamic.md): initial and maintenance margin, status, liquidation
 *	  and margin-call prices of a position whose requirement carries an
 *	  add-on rate c (volatility, liquidity, or both summed) on top of its
 *	  rule's, every bracket's r_i + f taking r_i + f + c.
 *
 * The add-on is an argument of the position, not of the rule: it may differ
 * from row to row (a liquidity add-on depends on the size) without missing
 * the call site's rule cache.  Both routes as in functions.c.
 */
#include "postgres.h"

#include "figure_call.h"
#include "liquidity_curve.h"

/*
 * The add-on must leave every bracket's r_i + f + c below 1 (a requirement
 * that reaches the whole notional) and, where a margin-call ratio is used,
 * below it (the margin-call price would not exist).
 */
static Dec
exact_addon(FunctionCallInfo fcinfo, const Rule *r, int argno, bool with_call_ratio)
{
	Dec			c = arg_nonnegative(fcinfo, argno, "addon_rate");
	Dec			top;

	if (!r->has_schedule)
		return c;
	top = dec_add(r->schedule.brackets[r->schedule.nbrackets - 1].rate_fee, c);
	if (dec_cmp(top, dec_from_int(1)) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mmr + fee_rate + addon_rate must be less than 1"),
				 errdetail("addon_rate is %s and the highest bracket's mmr + fee_rate is %s.",
						   dec_text(c),
						   dec_text(r->schedule.brackets[r->schedule.nbrackets - 1].rate_fee))));
	if (with_call_ratio && dec_cmp(top, r->call_ratio) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("margin_call_ratio must be greater than mmr + fee_rate + addon_rate"),
				 errdetail("margin_call_ratio is %s and the highest bracket's mmr + fee_rate + addon_rate is %s.",
						   dec_text(r->call_ratio), dec_text(top))));
	return c;
}

/* The add-on by the fast route; false to decline (and let the exact route say why). */
static pg_attribute_always_inline bool
fast_addon(FunctionCallInfo fcinfo, const Rule *r, int argno, bool with_call_ratio,
		   FastPosition *p, bool *ok)
{
	Fix			c;

	/*
	 * r + f + c below 1 (and the call ratio) is c below the rule's room; a
	 * call ratio is at most 1 (rule.c), so below it is below 1 as well
	 */
	if (!fast_arg(fcinfo, argno, &c) || c.v < 0 ||
		(r->has_schedule && fix_le(r->f_addon_room[with_call_ratio], c, ok)))
		return false;
	fast_position_addon(p, c, ok);
	return *ok;
}

/* dynamic_initial_margin(size, price, leverage, addon_rate, contract_size, kind) */
static pg_noinline Datum
dynamic_initial_margin_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			price,
				leverage;

	EXACT_BEGIN("initial_margin");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	price = arg_positive(fcinfo, 1, "price");
	leverage = arg_positive(fcinfo, 2, "leverage");
	margin_position_addon(&p, exact_addon(fcinfo, r, 3, false));
	EXACT_RETURN(margin_initial(&p, price, leverage));
}

PG_FUNCTION_INFO_V1(dynamic_initial_margin);
Datum
dynamic_initial_margin(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(4, 5, -1, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			price,
				leverage,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &price) &&
		fast_price(fcinfo, 2, &leverage) && fast_addon(fcinfo, r, 3, false, &p, &ok))
	{
		v = fast_initial(&p, price, leverage, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return dynamic_initial_margin_exact(fcinfo, r);
}

/* dynamic_maintenance_margin(size, mark_price, addon_rate, mmr|tiers, contract_size, kind, fee_rate) */
static pg_noinline Datum
dynamic_maintenance_margin_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;

	EXACT_BEGIN("maintenance_margin");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	mark = arg_positive(fcinfo, 1, "mark_price");
	margin_position_addon(&p, exact_addon(fcinfo, r, 2, false));
	EXACT_RETURN(margin_maintenance(&p, &r->schedule, mark));
}

PG_FUNCTION_INFO_V1(dynamic_maintenance_margin);
Datum
dynamic_maintenance_margin(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(4, 5, 3, 6, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	const FastSchedule s = fast_mark_schedule(r);
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &mark) &&
		fast_addon(fcinfo, r, 2, false, &p, &ok))
	{
		v = fast_maintenance(&p, &s, mark, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return dynamic_maintenance_margin_exact(fcinfo, r);
}

static const char *const status_labels[] = {"ok", "margin_call", "liquidate", "bankrupt"};

/*
 * dynamic_margin_status(size, entry_price, mark_price, margin, addon_rate,
 * mmr|tiers, contract_size, kind, fee_rate, margin_call_ratio)
 */
static pg_noinline Datum
dynamic_margin_status_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;
	MarginStatus status;

	EXACT_BEGIN("margin_status");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	margin_position_addon(&p, exact_addon(fcinfo, r, 4, true));
	status = margin_check(&p, &r->schedule, mark, r->call_ratio);
	dec_figure_pop(&figure_cb);
	PG_RETURN_OID(figure_label(fcinfo, "margin_status", status_labels,
							   lengthof(status_labels), status));
}

PG_FUNCTION_INFO_V1(dynamic_margin_status);
Datum
dynamic_margin_status(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(6, 7, 5, 8, -1, 9);
	const Rule *r = rule_of(fcinfo, &args);
	const FastSchedule s = fast_mark_schedule(r);
	FastPosition p;
	Fix			mark;
	bool		ok = true;
	MarginStatus status;

	if (fast_position(fcinfo, r, 0, 1, 3, &p, &ok) && fast_price(fcinfo, 2, &mark) &&
		fast_addon(fcinfo, r, 4, true, &p, &ok))
	{
		status = fast_check(&p, &s, mark, r->f_call_ratio, &ok);
		if (ok)
		{
			figure_route_calls[ROUTE_FAST]++;
			PG_RETURN_OID(figure_label(fcinfo, "margin_status", status_labels,
									   lengthof(status_labels), status));
		}
	}
	return dynamic_margin_status_exact(fcinfo, r);
}

/*
 * dynamic_liquidation_price(size, entry_price, margin, addon_rate, mmr|tiers,
 * contract_size, kind, fee_rate, tick_size) and dynamic_margin_call_price(...,
 * fee_rate, margin_call_ratio, tick_size)
 */
static pg_noinline Datum
dynamic_threshold_exact(FunctionCallInfo fcinfo, const Rule *r, bool liquidation)
{
	MarginPosition p;
	Dec			price;

	EXACT_BEGIN(liquidation ? "liquidation_price" : "margin_call_price");
	exact_position(fcinfo, r, 0, 1, 2, &p);
	margin_position_addon(&p, exact_addon(fcinfo, r, 3, !liquidation));
	if (!margin_threshold_price(&p, &r->schedule, liquidation ? dec_from_int(1) : r->call_ratio,
								r->tick, &price))
		EXACT_RETURN_NULL();
	EXACT_RETURN(price);
}

PG_FUNCTION_INFO_V1(dynamic_liquidation_price);
Datum
dynamic_liquidation_price(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(5, 6, 4, 7, 8, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 2, &p, &ok) && fast_addon(fcinfo, r, 3, false, &p, &ok))
	{
		/* the rule's own schedule: measured cheaper here than the mark copy */
		has = fast_threshold_price_plain_with(&p, &r->f_schedule, fix_make(1, 0), r->f_tick,
											 fast_solve_base(&p, &ok), &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return dynamic_threshold_exact(fcinfo, r, true);
}

PG_FUNCTION_INFO_V1(dynamic_margin_call_price);
Datum
dynamic_margin_call_price(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(5, 6, 4, 7, 9, 8);
	const Rule *r = rule_of(fcinfo, &args);
	const FastSchedule s = fast_mark_schedule(r);
	FastPosition p;
	Fix			v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 2, &p, &ok) && fast_addon(fcinfo, r, 3, true, &p, &ok))
	{
		has = fast_threshold_price_plain_with(&p, &s, r->f_call_ratio, r->f_tick,
											 fast_solve_base(&p, &ok), &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return dynamic_threshold_exact(fcinfo, r, false);
}

/*
 * liquidity_curve_addon(curve jsonb, size numeric): the liquidity add-on of
 * a position of `size` contracts from its instrument's liquidity curve
 * (src/liquidity_curve.c), the digits of liquidity_addon at the curve's mark.
 */
PG_FUNCTION_INFO_V1(liquidity_curve_addon);
Datum
liquidity_curve_addon(PG_FUNCTION_ARGS)
{
	LiquidityCurve curve;
	Dec			size = arg_finite(fcinfo, 1, "size");

	liquidity_curve_read(PG_GETARG_JSONB_P(0), "curve", "", &curve);
	PG_RETURN_NUMERIC(dec_to_numeric(liquidity_curve_rate(&curve, size)));
}
