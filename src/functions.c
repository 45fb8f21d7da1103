/*
 * functions.c
 *	  The SQL-callable figures of one position (install/10_core.sql,
 *	  install/25_tiers_figures.sql).
 *
 * Each function takes its rule from rule.c (read and checked once per
 * distinct set of rule arguments at its call site), then its position:
 * first by the fast route, the position's numerics read straight into
 * int64 coefficients and the figure computed by fast.h; and when that
 * declines (a number of more than 18 digits or decimals, an intermediate
 * that would overflow, an invalid value that needs its error message) by
 * the exact route, the arguments read and checked as Dec and the figure
 * computed by margin.h.  Both are compiled from formulas_template.h, so
 * they give the same digits.  The argument numbers follow the SQL
 * signatures.  What whatif.c's figures share with these (the call site,
 * both routes' readers, the route counts) is in figure_call.h and defined
 * here.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "figure_call.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * isomargin.fast_route: off sends every call to the exact route, so that a
 * test can compare both routes' answers in one session (they must agree).
 */
bool		figure_fast_route = true;

void
_PG_init(void)
{
	DefineCustomBoolVariable("isomargin.fast_route",
							 "Computes figures by the fast route where it can.",
							 "Off: every figure by the exact route, for comparing the routes' answers.",
							 &figure_fast_route, true, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("isomargin");
}

uint64		figure_route_calls[2];

Oid
figure_label_oid(FunctionCallInfo fcinfo, const char *typname, const char *const *labels,
				 int nlabels, int label)
{
	CallSite   *site = call_site(fcinfo);

	Assert(nlabels <= (int) lengthof(site->label_oids));
	if (unlikely(!OidIsValid(site->label_oids[label])))
	{
		Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
		Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum(typname),
											ObjectIdGetDatum(nsp));

		for (int i = 0; i < nlabels; i++)
			site->label_oids[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
												  ObjectIdGetDatum(typid),
												  CStringGetDatum(labels[i]));
		if (!OidIsValid(site->label_oids[label]))
			elog(ERROR, "isomargin.%s is missing label \"%s\"", typname, labels[label]);
	}
	return site->label_oids[label];
}

TupleDesc
figure_result_desc(FunctionCallInfo fcinfo)
{
	CallSite   *site = call_site(fcinfo);

	if (unlikely(site->result_desc == NULL))
	{
		TupleDesc	desc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "%s must return a composite type", get_func_name(fcinfo->flinfo->fn_oid));
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		site->result_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
	}
	return site->result_desc;
}

static const char *const status_labels[] = {"ok", "margin_call", "liquidate", "bankrupt"};

/* The OID of a margin_status label, for the function's own schema. */
static pg_attribute_always_inline Oid
status_oid(FunctionCallInfo fcinfo, MarginStatus status)
{
	return figure_label(fcinfo, "margin_status", status_labels, lengthof(status_labels), status);
}

void
exact_position(FunctionCallInfo fcinfo, const Rule *r, int size_arg, int entry_arg,
			   int margin_arg, MarginPosition *p)
{
	Dec			size = arg_finite(fcinfo, size_arg, "size");
	Dec			entry = entry_arg >= 0 ? arg_positive(fcinfo, entry_arg, "entry_price") :
		dec_from_int(1);
	Dec			margin = margin_arg >= 0 ? arg_nonnegative(fcinfo, margin_arg, "margin") :
		dec_from_int(0);

	margin_position_init(p, size, entry, margin, r->contract_size, r->inverse);
}

/* ---- the figures ---- */

static pg_noinline Datum
notional_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			price;

	EXACT_BEGIN("notional");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	price = arg_positive(fcinfo, 1, "price");
	EXACT_RETURN(margin_notional(&p, price));
}

PG_FUNCTION_INFO_V1(notional);
Datum
notional(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(2, 3, -1, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			price,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &price))
	{
		v = fast_notional(&p, price, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return notional_exact(fcinfo, r);
}

static pg_noinline Datum
unrealized_pnl_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;

	EXACT_BEGIN("unrealized_pnl");
	exact_position(fcinfo, r, 0, 1, -1, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	EXACT_RETURN(margin_unrealized_pnl(&p, mark));
}

PG_FUNCTION_INFO_V1(unrealized_pnl);
Datum
unrealized_pnl(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(3, 4, -1, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, 1, -1, &p, &ok) && fast_price(fcinfo, 2, &mark))
	{
		v = fast_unrealized_pnl(&p, mark, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return unrealized_pnl_exact(fcinfo, r);
}

static pg_noinline Datum
equity_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;

	EXACT_BEGIN("equity");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	EXACT_RETURN(margin_equity(&p, mark));
}

PG_FUNCTION_INFO_V1(equity);
Datum
equity(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(4, 5, -1, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, 1, 3, &p, &ok) && fast_price(fcinfo, 2, &mark))
	{
		v = fast_equity(&p, mark, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return equity_exact(fcinfo, r);
}

static pg_noinline Datum
initial_margin_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			price,
				leverage;

	EXACT_BEGIN("initial_margin");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	price = arg_positive(fcinfo, 1, "price");
	leverage = arg_positive(fcinfo, 2, "leverage");
	EXACT_RETURN(margin_initial(&p, price, leverage));
}

PG_FUNCTION_INFO_V1(initial_margin);
Datum
initial_margin(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(3, 4, -1, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			price,
				leverage,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &price) &&
		fast_price(fcinfo, 2, &leverage))
	{
		v = fast_initial(&p, price, leverage, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return initial_margin_exact(fcinfo, r);
}

static pg_noinline Datum
maintenance_margin_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;

	EXACT_BEGIN("maintenance_margin");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	mark = arg_positive(fcinfo, 1, "mark_price");
	EXACT_RETURN(margin_maintenance(&p, &r->schedule, mark));
}

static pg_attribute_always_inline Datum
maintenance_margin_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &mark))
	{
		v = fast_maintenance(&p, s, mark, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return maintenance_margin_exact(fcinfo, r);
}

FIGURE_CONV_FUNCTION(maintenance_margin, RULE_ARGS_SOME_CONV(3, 4, 2, 5, -1, -1, 6, 0x0b))

static pg_noinline Datum
margin_ratio_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark,
				ratio;

	EXACT_BEGIN("margin_ratio");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	if (!margin_ratio_at(&p, &r->schedule, mark, &ratio))
		EXACT_RETURN_NULL();
	EXACT_RETURN(ratio);
}

static pg_attribute_always_inline Datum
margin_ratio_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 3, &p, &ok) && fast_price(fcinfo, 2, &mark))
	{
		has = fast_ratio_at(&p, s, mark, &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return margin_ratio_exact(fcinfo, r);
}

FIGURE_CONV_FUNCTION(margin_ratio, RULE_ARGS_CONV(5, 6, 4, 7, -1, -1, 8))

/*
 * okx_margin_ratio: the margin ratio the other way up, equity over the
 * maintenance margin with the fee to close (liquidation at <= 1).
 */
static pg_noinline Datum
okx_margin_ratio_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark,
				ratio;

	EXACT_BEGIN("okx_margin_ratio");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	if (!margin_equity_over_maintenance(&p, &r->schedule, mark, &ratio))
		EXACT_RETURN_NULL();
	EXACT_RETURN(ratio);
}

static pg_attribute_always_inline Datum
okx_margin_ratio_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	FastPosition p;
	Fix			mark,
				v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 3, &p, &ok) && fast_price(fcinfo, 2, &mark))
	{
		has = fast_equity_over_maintenance(&p, s, mark, &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return okx_margin_ratio_exact(fcinfo, r);
}

FIGURE_CONV_FUNCTION(okx_margin_ratio, RULE_ARGS_CONV(5, 6, 4, 7, -1, -1, 8))

static pg_noinline Datum
margin_status_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			mark;
	MarginStatus status;

	EXACT_BEGIN("margin_status");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	status = margin_check(&p, &r->schedule, mark, r->call_ratio);
	dec_figure_pop(&figure_cb);
	PG_RETURN_OID(status_oid(fcinfo, status));
}

static pg_attribute_always_inline Datum
margin_status_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	FastPosition p;
	Fix			mark;
	bool		ok = true;
	MarginStatus status;

	if (fast_position(fcinfo, r, 0, 1, 3, &p, &ok) && fast_price(fcinfo, 2, &mark))
	{
		status = fast_check(&p, s, mark, r->f_call_ratio, &ok);
		if (ok)
		{
			figure_route_calls[ROUTE_FAST]++;
			PG_RETURN_OID(status_oid(fcinfo, status));
		}
	}
	return margin_status_exact(fcinfo, r);
}

FIGURE_CONV_FUNCTION(margin_status, RULE_ARGS_CONV(5, 6, 4, 7, -1, 8, 9))

/* The liquidation price (c = 1) and the margin-call price (c = the rule's). */
static pg_noinline Datum
threshold_price_exact(FunctionCallInfo fcinfo, const Rule *r, bool liquidation)
{
	MarginPosition p;
	Dec			price;

	EXACT_BEGIN(liquidation ? "liquidation_price" : "margin_call_price");
	exact_position(fcinfo, r, 0, 1, 2, &p);
	if (!margin_threshold_price(&p, &r->schedule, liquidation ? dec_from_int(1) : r->call_ratio,
								r->tick, &price))
		EXACT_RETURN_NULL();
	EXACT_RETURN(price);
}

/* the liquidation price (c = 1) or the margin-call price (c = the rule's) */
static pg_attribute_always_inline Datum
threshold_price_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s, bool liquidation)
{
	FastPosition p;
	Fix			v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 2, &p, &ok))
	{
		/* the margin-call price: the walk without side_rate (formulas_template.h) */
		if (liquidation)
			has = fast_threshold_price(&p, s, fix_make(1, 0), r->f_tick, &v, &ok);
		else
			has = fast_threshold_price_plain_with(&p, s, r->f_call_ratio, r->f_tick,
												  fast_solve_base(&p, &ok), &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return threshold_price_exact(fcinfo, r, liquidation);
}

static pg_attribute_always_inline Datum
liquidation_price_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	return threshold_price_by(fcinfo, r, s, true);
}

FIGURE_CONV_FUNCTION(liquidation_price, RULE_ARGS_CONV(4, 5, 3, 6, 7, -1, 8))

static pg_attribute_always_inline Datum
margin_call_price_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s)
{
	return threshold_price_by(fcinfo, r, s, false);
}

FIGURE_CONV_FUNCTION(margin_call_price, RULE_ARGS_CONV(4, 5, 3, 6, 8, 7, 9))

static pg_noinline Datum
bankruptcy_price_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	Dec			price;

	EXACT_BEGIN("bankruptcy_price");
	exact_position(fcinfo, r, 0, 1, 2, &p);
	if (!margin_bankruptcy_price(&p, r->tick, &price))
		EXACT_RETURN_NULL();
	EXACT_RETURN(price);
}

PG_FUNCTION_INFO_V1(bankruptcy_price);
Datum
bankruptcy_price(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(3, 4, -1, -1, 5, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	Fix			v;
	bool		ok = true,
				has;

	if (fast_position(fcinfo, r, 0, 1, 2, &p, &ok))
	{
		has = fast_bankruptcy_price(&p, r->f_tick, &v, &ok);
		if (ok)
			RETURN_FAST_PRICE(has, v);
	}
	return bankruptcy_price_exact(fcinfo, r);
}

/*
 * assess(size, entry_price, mark_price, margin, mmr, contract_size, kind,
 *		  fee_rate, margin_call_ratio, tick_size, leverage): not STRICT, for
 * the optional leverage; a NULL anywhere else gives NULL.  Every figure of
 * the row by the fast route, or every one by the exact route.
 */
enum
{
	A_NOTIONAL, A_PNL, A_EQUITY, A_IM, A_MM, A_RATIO, A_STATUS, A_LP, A_MCP, A_BP, A_NATTS
};

/* The fast route's figures of the row. */
typedef struct AssessFast
{
	Fix			v[A_NATTS];
	uint32		has;			/* bit i: figure i is not NULL */
	MarginStatus status;
} AssessFast;

static pg_attribute_always_inline bool
assess_fast_by(FunctionCallInfo fcinfo, const Rule *r, const FastSchedule *s, AssessFast *a)
{
	FastPosition p;
	FastAtMark	m;
	Fix			mark,
				leverage,
				base;
	bool		ok = true,
				has_im = !PG_ARGISNULL(10),
				has_ratio,
				has_lp,
				has_mcp,
				has_bp;

	if (!fast_position(fcinfo, r, 0, 1, 3, &p, &ok) || !fast_price(fcinfo, 2, &mark) ||
		(has_im && !fast_price(fcinfo, 10, &leverage)))
		return false;
	/* the numerators the figures share, each once */
	fast_at_mark(&p, s, mark, &m, &ok);
	base = fast_solve_base(&p, &ok);
	a->v[A_NOTIONAL] = m.notional;
	a->v[A_PNL] = fast_unrealized_pnl_of(&p, mark, m.u, &ok);
	a->v[A_EQUITY] = fast_equity_of(&p, mark, m.q, &ok);
	if (has_im)
		a->v[A_IM] = fast_initial(&p, p.entry, leverage, &ok);
	a->v[A_MM] = fast_maintenance_of(&p, mark, m.mm, &ok);
	has_ratio = fast_over_equity_of(&p, m.mm, m.q, &a->v[A_RATIO], &ok);
	a->status = fast_check_of(&p, m.q, m.mm, r->f_call_ratio, &ok);
	has_lp = fast_threshold_price_plain_with(&p, s, fix_make(1, 0), r->f_tick, base, &a->v[A_LP],
											 &ok);
	has_mcp = fast_threshold_price_plain_with(&p, s, r->f_call_ratio, r->f_tick, base,
											  &a->v[A_MCP], &ok);
	has_bp = fast_bankruptcy_price_with(&p, r->f_tick, base, &a->v[A_BP], &ok);
	if (!ok)
		return false;
	a->has = 1 << A_NOTIONAL | 1 << A_PNL | 1 << A_EQUITY | (uint32) has_im << A_IM | 1 << A_MM |
		(uint32) has_ratio << A_RATIO | 1 << A_STATUS | (uint32) has_lp << A_LP |
		(uint32) has_mcp << A_MCP | (uint32) has_bp << A_BP;
	figure_route_calls[ROUTE_FAST]++;
	return true;
}

static pg_noinline bool
assess_fast_conv(FunctionCallInfo fcinfo, const Rule *r, AssessFast *a)
{
	return assess_fast_by(fcinfo, r, &r->f_schedule, a);
}

/* Every figure by the fast route; false to decline (FIGURE_CONV_FUNCTION's way). */
static pg_attribute_always_inline bool
assess_fast(FunctionCallInfo fcinfo, const Rule *r, AssessFast *a)
{
	FastSchedule mark;

	if (unlikely(r->f_schedule.conv != 0))
		return assess_fast_conv(fcinfo, r, a);
	mark = fast_mark_schedule(r);
	return assess_fast_by(fcinfo, r, &mark, a);
}

/*
 * The fast route's row by heap_form_tuple, its numerics packed into one
 * buffer (`room`, NUMERIC_CODEC_PACKED_ROOM bytes each) as heap_form_tuple
 * stores them, so that they take no allocation of their own.
 */
static pg_noinline HeapTuple
assess_fast_tuple(FunctionCallInfo fcinfo, const AssessFast *a, Oid status)
{
	Datum		values[A_NATTS];
	bool		nulls[A_NATTS];
	char		room[A_NATTS * NUMERIC_CODEC_PACKED_ROOM];
	int			used = 0;

	for (int i = 0; i < A_NATTS; i++)
	{
		int			n;

		nulls[i] = (a->has & 1 << i) == 0;
		if (i == A_STATUS)
			values[i] = ObjectIdGetDatum(status);
		else if (!nulls[i])
		{
			n = numeric_codec_write_packed(a->v[i].v, a->v[i].s, room + used);
			values[i] = n > 0 ? PointerGetDatum(room + used) :
				NumericGetDatum(numeric_codec_make(a->v[i].v, a->v[i].s));
			used += n;
		}
	}
	return heap_form_tuple(figure_result_desc(fcinfo), values, nulls);
}

/* The fast route's row: formed in place once the call site has checked that way. */
static pg_attribute_always_inline Datum
assess_fast_row(FunctionCallInfo fcinfo, const AssessFast *a)
{
	FigureRow  *fr = &call_site(fcinfo)->row;
	Oid			status = status_oid(fcinfo, a->status);
	HeapTuple	tuple;
	Datum		d;

	if (likely(fr->state > 0) &&
		(d = figure_row_form(fr, A_NATTS, a->v, a->has, A_STATUS, status)) != (Datum) 0)
		return d;
	tuple = assess_fast_tuple(fcinfo, a, status);
	if (fr->state == 0)
		figure_row_learn(fr, tuple->t_data, A_NATTS, a->v, a->has, A_STATUS, status, false);
	return HeapTupleGetDatum(tuple);
}

static pg_attribute_always_inline void
exact_value(Datum *values, bool *nulls, int att, bool has, Dec v)
{
	nulls[att] = !has;
	if (has)
		values[att] = NumericGetDatum(dec_to_numeric(v));
}

static pg_noinline void
assess_exact(FunctionCallInfo fcinfo, const Rule *r, Datum *values, bool *nulls)
{
	MarginPosition p;
	Dec			mark,
				v;
	bool		has_leverage = !PG_ARGISNULL(10);

	EXACT_BEGIN("assess");
	exact_position(fcinfo, r, 0, 1, 3, &p);
	mark = arg_positive(fcinfo, 2, "mark_price");
	exact_value(values, nulls, A_NOTIONAL, true, margin_notional(&p, mark));
	exact_value(values, nulls, A_PNL, true, margin_unrealized_pnl(&p, mark));
	exact_value(values, nulls, A_EQUITY, true, margin_equity(&p, mark));
	exact_value(values, nulls, A_IM, has_leverage,
				has_leverage ? margin_initial(&p, p.entry, arg_positive(fcinfo, 10, "leverage"))
				: dec_from_int(0));
	exact_value(values, nulls, A_MM, true, margin_maintenance(&p, &r->schedule, mark));
	exact_value(values, nulls, A_RATIO, margin_ratio_at(&p, &r->schedule, mark, &v), v);
	values[A_STATUS] = ObjectIdGetDatum(status_oid(fcinfo, margin_check(&p, &r->schedule, mark,
																		 r->call_ratio)));
	nulls[A_STATUS] = false;
	exact_value(values, nulls, A_LP,
				margin_threshold_price(&p, &r->schedule, dec_from_int(1), r->tick, &v), v);
	exact_value(values, nulls, A_MCP,
				margin_threshold_price(&p, &r->schedule, r->call_ratio, r->tick, &v), v);
	exact_value(values, nulls, A_BP, margin_bankruptcy_price(&p, r->tick, &v), v);
	dec_figure_pop(&figure_cb);
}

/*
 * A NULL argument other than the leverage (10): the first ten tested at
 * once, without a branch each (a call has at least eleven arguments; the
 * planner drops only trailing conventions at their defaults).
 */
static pg_attribute_always_inline bool
assess_null_argument(FunctionCallInfo fcinfo)
{
	bool		anynull;

	if (unlikely(PG_NARGS() < 11))
	{
		for (int i = 0; i < PG_NARGS(); i++)
			if (i != 10 && PG_ARGISNULL(i))
				return true;
		return false;
	}
	anynull = PG_ARGISNULL(0) | PG_ARGISNULL(1) | PG_ARGISNULL(2) | PG_ARGISNULL(3) |
		PG_ARGISNULL(4) | PG_ARGISNULL(5) | PG_ARGISNULL(6) | PG_ARGISNULL(7) |
		PG_ARGISNULL(8) | PG_ARGISNULL(9);
	for (int i = 11; i < PG_NARGS(); i++)
		anynull |= PG_ARGISNULL(i);
	return anynull;
}

PG_FUNCTION_INFO_V1(assess);
Datum
assess(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS_CONV(5, 6, 4, 7, 9, 8, 11);
	const Rule *r;
	AssessFast	a;
	Datum		values[A_NATTS];
	bool		nulls[A_NATTS] = {0};

	if (assess_null_argument(fcinfo))
		PG_RETURN_NULL();
	r = rule_of(fcinfo, &args);
	if (assess_fast(fcinfo, r, &a))
		PG_RETURN_DATUM(assess_fast_row(fcinfo, &a));
	assess_exact(fcinfo, r, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(figure_result_desc(fcinfo), values, nulls)));
}

/*
 * isomargin.routes(): how many calls of the figures each route answered in
 * this backend, so that a test can tell that the fast route still answers
 * the common case.
 */
PG_FUNCTION_INFO_V1(routes);
Datum
routes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const names[] = {"fast", "exact"};

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < (int) lengthof(names); i++)
	{
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(names[i]);
		values[1] = Int64GetDatum((int64) figure_route_calls[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
