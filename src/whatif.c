/*
 * whatif.c
 *	  The what-if and pre-trade figures (install/26_whatif.sql,
 *	  doc/whatif.md): effective leverage, return on equity, the distance to
 *	  liquidation, the side, the top-ups to safety and to a liquidation
 *	  price, the removable margin, sizing, and a position after a fill.
 *
 * Each is built as functions.c's figures are (figure_call.h): the rule from
 * rule.c, the fast route first (fast.h), the exact route when it declines
 * (margin.h), both compiled from formulas_template.h, each call counted by
 * route and the figure named in an overflow error.  The argument numbers
 * follow the SQL signatures.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"

#include "figure_call.h"
#include "whatif_distance.h"

/* ---- figures of one position at a price ---- */

/*
 * The figures of one position at a price (the mark, or a target price):
 * which one, and where its arguments are.  The size is argument 0 and the
 * entry price argument 1 in every one.
 */
typedef enum WhatIf
{
	WI_EFFECTIVE_LEVERAGE,
	WI_RETURN_ON_EQUITY,
	WI_DISTANCE,
	WI_DISTANCE_RATIO,
	WI_TOP_UP_TO_OK,
	WI_TOP_UP_FOR_PRICE,
	WI_MAX_REMOVABLE
} WhatIf;

typedef struct WhatIfArgs
{
	WhatIf		which;
	const char *figure;			/* named in an overflow error */
	int8		margin;
	int8		price;
	const char *price_name;
	int8		leverage;		/* -1: none */
	RuleArgs	rule;
} WhatIfArgs;

static pg_noinline Datum
whatif_exact(FunctionCallInfo fcinfo, const Rule *r, const WhatIfArgs *w)
{
	MarginPosition p;
	Dec			price,
				leverage = dec_from_int(1),
				v = dec_from_int(0);
	bool		has = true;

	EXACT_BEGIN(w->figure);
	exact_position(fcinfo, r, 0, 1, w->margin, &p);
	price = arg_positive(fcinfo, w->price, w->price_name);
	if (w->leverage >= 0)
		leverage = arg_positive(fcinfo, w->leverage, "leverage");
	switch (w->which)
	{
		case WI_EFFECTIVE_LEVERAGE:
			has = margin_effective_leverage(&p, price, &v);
			break;
		case WI_RETURN_ON_EQUITY:
			has = margin_return_on_equity(&p, price, &v);
			break;
		case WI_DISTANCE:
			has = margin_liquidation_distance(&p, &r->schedule, price, r->tick, &v);
			break;
		case WI_DISTANCE_RATIO:
			has = margin_liquidation_distance_ratio(&p, &r->schedule, price, r->tick, &v);
			break;
		case WI_TOP_UP_TO_OK:
			v = margin_top_up_to_ok(&p, &r->schedule, price, r->call_ratio);
			break;
		case WI_TOP_UP_FOR_PRICE:
			has = margin_top_up_for_liquidation_price(&p, &r->schedule, price, &v);
			break;
		case WI_MAX_REMOVABLE:
			v = margin_max_removable_margin(&p, &r->schedule, price, leverage);
			break;
	}
	if (!has)
		EXACT_RETURN_NULL();
	EXACT_RETURN(v);
}

/*
 * numeric 0 at scale 0, built once a backend in TopMemoryContext: the answer
 * of most rows of a book to max_removable_margin and top_up_to_ok, and two
 * fields of after_fill's row for an increase, returned (or copied into the
 * row) without a palloc or a conversion.  A function's result is read, never
 * written or freed, by its callers (as a Const's value or an argument
 * passed through is).
 */
static Datum
zero_datum(void)
{
	static Numeric zero = NULL;

	if (unlikely(zero == NULL))
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = numeric_codec_make(0, 0);
		MemoryContextSwitchTo(old);
	}
	return NumericGetDatum(zero);
}

/*
 * liquidation_distance and its ratio (size, entry_price, mark_price, margin,
 * ...) under the most common rule, by whatif_distance.h: the four numerics
 * read as int64 coefficients once, one numeric written.  DISTANCE_DECLINED:
 * by the general fast route.
 */
static pg_attribute_always_inline int
distance_call(FunctionCallInfo fcinfo, const Rule *r, bool ratio, Fix *v)
{
	int64		q,
				e,
				m,
				p;
	int64		d;
	int			q_s,
				e_s,
				m_s,
				p_s,
				d_s,
				has;
	bool		ok = true;

	if (!figure_fast_route || !r->fast || !distance_rule_is_simple(r) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(0), &q, &q_s) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(1), &e, &e_s) || e <= 0 ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(2), &p, &p_s) || p <= 0 ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(3), &m, &m_s) || m < 0)
		return DISTANCE_DECLINED;
	has = distance_simple(q, q_s, e, e_s, m, m_s, p, p_s, r->f_contract_size,
						  r->f_schedule.brackets[0].rate_fee, &d, &d_s);
	if (has != 1)
		return has;
	if (!ratio)
		*v = fix_make(d, d_s);
	else
	{
		*v = distance_ratio(d, d_s, p, p_s, &ok);
		if (!ok)
			return DISTANCE_DECLINED;
	}
	return 1;
}

/* Inlined where `w` is a constant: the switch folds to the one figure. */
static pg_attribute_always_inline Datum
whatif_fast(FunctionCallInfo fcinfo, const Rule *r, const WhatIfArgs *w)
{
	const FastSchedule s = fast_mark_schedule(r);	/* no convention arguments */
	FastPosition p;
	Fix			price,
				leverage = fix_make(1, 0),
				v = fix_make(0, 0);
	bool		ok = true,
				has = true;

	if (fast_position(fcinfo, r, 0, 1, w->margin, &p, &ok) && fast_price(fcinfo, w->price, &price) &&
		(w->leverage < 0 || fast_price(fcinfo, w->leverage, &leverage)))
	{
		switch (w->which)
		{
			case WI_EFFECTIVE_LEVERAGE:
				has = fast_effective_leverage(&p, price, &v, &ok);
				break;
			case WI_RETURN_ON_EQUITY:
				has = fast_return_on_equity(&p, price, &v, &ok);
				break;
			case WI_DISTANCE:
				/* the mark copy, conv 0 to the compiler: no conventions walk inlined */
				has = fast_liquidation_distance(&p, &s, price, r->f_tick, &v, &ok);
				break;
			case WI_DISTANCE_RATIO:
				has = fast_liquidation_distance_ratio(&p, &s, price, r->f_tick, &v, &ok);
				break;
			case WI_TOP_UP_TO_OK:
				v = fast_top_up_to_ok(&p, &s, price, r->f_call_ratio, &ok);
				break;
			case WI_TOP_UP_FOR_PRICE:
				has = fast_top_up_for_liquidation_price(&p, &s, price, &v, &ok);
				break;
			case WI_MAX_REMOVABLE:
				v = fast_max_removable_margin(&p, &s, price, leverage, &ok);
				break;
		}
		if (ok)
		{
			/*
			 * not tested for a distance or its ratio: a zero of scale 0 only
			 * with a whole tick (numeric_codec_make writes the same numeric)
			 */
			if (w->which != WI_DISTANCE && w->which != WI_DISTANCE_RATIO &&
				has && v.v == 0 && v.s == 0)
			{
				figure_route_calls[ROUTE_FAST]++;
				return zero_datum();
			}
			RETURN_FAST_PRICE(has, v);
		}
	}
	return whatif_exact(fcinfo, r, w);
}

/* One SQL function: its WhatIfArgs, then whatif_fast. */
#define WHATIF_FUNCTION(name, which_, margin_, price_, price_name_, leverage_, rule_) \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		static const WhatIfArgs w = {.which = which_, .figure = #name, .margin = margin_, \
			.price = price_, .price_name = price_name_, .leverage = leverage_, .rule = rule_}; \
		return whatif_fast(fcinfo, rule_of(fcinfo, &w.rule), &w); \
	}

/*
 * liquidation_distance and its ratio: distance_call first, whatif_fast out
 * of line for what it declines (its registers are then saved only there).
 * (size, entry_price, mark_price, margin, mmr | tiers, contract_size, kind,
 * fee_rate, tick_size)
 */
#define DISTANCE_FUNCTION(name, which_) \
	static const WhatIfArgs name##_args = {.which = which_, .figure = #name, .margin = 3, \
		.price = 2, .price_name = "mark_price", .leverage = -1, \
		.rule = RULE_ARGS(5, 6, 4, 7, 8, -1)}; \
	static pg_noinline Datum \
	name##_general(FunctionCallInfo fcinfo, const Rule *r) \
	{ \
		return whatif_fast(fcinfo, r, &name##_args); \
	} \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		const Rule *r = rule_of(fcinfo, &name##_args.rule); \
		Fix			v; \
		int			simple; \
		\
		/* a rule distance_call declines, before its registers are saved */ \
		if (!distance_rule_is_simple(r)) \
			return name##_general(fcinfo, r); \
		simple = distance_call(fcinfo, r, which_ == WI_DISTANCE_RATIO, &v); \
		if (likely(simple != DISTANCE_DECLINED)) \
			RETURN_FAST_PRICE(simple == 1, v); \
		return name##_general(fcinfo, r); \
	}

/* (size, entry_price, mark_price, margin, contract_size, kind) */
WHATIF_FUNCTION(effective_leverage, WI_EFFECTIVE_LEVERAGE, 3, 2, "mark_price", -1,
				RULE_ARGS(4, 5, -1, -1, -1, -1))
WHATIF_FUNCTION(return_on_equity, WI_RETURN_ON_EQUITY, 3, 2, "mark_price", -1,
				RULE_ARGS(4, 5, -1, -1, -1, -1))
DISTANCE_FUNCTION(liquidation_distance, WI_DISTANCE)
DISTANCE_FUNCTION(liquidation_distance_ratio, WI_DISTANCE_RATIO)
/*
 * (size, entry_price, mark_price, margin, mmr | tiers, contract_size, kind, fee_rate,
 * margin_call_ratio)
 */
WHATIF_FUNCTION(top_up_to_ok, WI_TOP_UP_TO_OK, 3, 2, "mark_price", -1,
				RULE_ARGS(5, 6, 4, 7, -1, 8))
/* (size, entry_price, margin, target_price, mmr | tiers, contract_size, kind, fee_rate) */
WHATIF_FUNCTION(top_up_for_liquidation_price, WI_TOP_UP_FOR_PRICE, 2, 3, "target_price", -1,
				RULE_ARGS(5, 6, 4, 7, -1, -1))
/* (size, entry_price, mark_price, margin, leverage, mmr | tiers, contract_size, kind, fee_rate) */
WHATIF_FUNCTION(max_removable_margin, WI_MAX_REMOVABLE, 3, 2, "mark_price", 4,
				RULE_ARGS(6, 7, 5, 8, -1, -1))

static const char *const side_labels[] = {"long", "short"};

static Datum
side_datum(FunctionCallInfo fcinfo, int sign)
{
	return ObjectIdGetDatum(figure_label_oid(fcinfo, "position_side", side_labels,
											 lengthof(side_labels), sign > 0 ? 0 : 1));
}

static pg_noinline Datum
position_side_exact(FunctionCallInfo fcinfo)
{
	int			sign;

	figure_route_calls[ROUTE_EXACT]++;
	sign = dec_sign(arg_finite(fcinfo, 0, "size"));
	if (sign == 0)
		PG_RETURN_NULL();
	return side_datum(fcinfo, sign);
}

PG_FUNCTION_INFO_V1(position_side);
Datum
position_side(PG_FUNCTION_ARGS)
{
	Fix			size;

	if (!figure_fast_route || !fast_arg(fcinfo, 0, &size))
		return position_side_exact(fcinfo);
	figure_route_calls[ROUTE_FAST]++;
	if (size.v == 0)
		PG_RETURN_NULL();
	return side_datum(fcinfo, size.v > 0 ? 1 : -1);
}

/* ---- sizing ---- */

/*
 * The largest notional a leverage is allowed at under a schedule: the cap
 * of the last bracket whose max_leverage is at least it (false: none).
 */
static bool
leverage_cap(const Tiers *t, Dec leverage, Dec *cap)
{
	int			i = tiers_leverage_bracket(t, leverage);

	if (i < 0)
		return false;
	*cap = tiers_dec(&t->brackets[i], TIERS_CAP);
	return true;
}

/*
 * leverage_cap by the fast route, over the brackets' stored coefficients:
 * a leverage read by fast_price and a bracket's each have at most 18 digits
 * and 18 decimals, so one int64 comparison when the scales agree (a whole
 * leverage against whole maximum leverages, the usual schedule) and else
 * one of two 64x64-bit products, which cannot overflow.
 */
static pg_attribute_always_inline bool
fast_leverage_cap(const Tiers *t, Fix leverage, Fix *cap)
{
	int64		lv = (int64) leverage.v;

	for (int i = t->nbrackets - 1; i >= 0; i--)
	{
		const TiersBracket *b = &t->brackets[i];
		int64		bv = b->coef[TIERS_LEVERAGE];
		int			bs = b->scale[TIERS_LEVERAGE];

		if (likely(bs == leverage.s) ? bv >= lv :
			(int128) bv * isomargin_pow10_64[leverage.s] >= (int128) lv * isomargin_pow10_64[bs])
		{
			*cap = fix_make(b->coef[TIERS_CAP], b->scale[TIERS_CAP]);
			return true;
		}
	}
	return false;
}

/* A tiers argument: its pointer as it is when it needs no detoasting. */
static pg_attribute_always_inline const Tiers *
tiers_of_arg(FunctionCallInfo fcinfo, int argno)
{
	Datum		d = PG_GETARG_DATUM(argno);

	if (likely(!VARATT_IS_EXTENDED(DatumGetPointer(d))))
		return (const Tiers *) DatumGetPointer(d);
	return PG_GETARG_TIERS_P(argno);
}

/*
 * fast_arg for an argument that is most often a defaulted 0 (lot_size): a
 * numeric 0 has no digit group, which the inline reader leaves to the
 * out-of-line one (a call, after the inline attempt); a Const's 0 is taken
 * here at once.
 */
static pg_attribute_always_inline bool
fast_arg_mostly_zero(FunctionCallInfo fcinfo, int argno, Fix *out)
{
	const char *v = DatumGetPointer(PG_GETARG_DATUM(argno));

	if (VARATT_IS_4B_U(v) && VARSIZE(v) == VARHDRSZ + sizeof(uint16))
	{
		uint16		hdr = numeric_codec_u16(VARDATA(v));
		int			dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;

		if ((hdr & NC_SIGN_MASK) == NC_SHORT && dscale <= 18)
		{
			*out = fix_make(0, dscale);
			return true;
		}
	}
	return fast_arg(fcinfo, argno, out);
}

/*
 * max_size(collateral, price, leverage, contract_size, kind, fee_rate,
 * lot_size) and its tiers overload, which takes the schedule at tiers_arg
 * and the rest one place later.
 */
static pg_noinline Datum
max_size_exact(FunctionCallInfo fcinfo, const Rule *r, int tiers_arg)
{
	int			lot_arg = tiers_arg >= 0 ? 7 : 6;
	Dec			collateral,
				price,
				leverage,
				lot,
				cap = dec_from_int(0);
	bool		has_cap = tiers_arg >= 0;

	EXACT_BEGIN("max_size");
	collateral = arg_nonnegative(fcinfo, 0, "collateral");
	price = arg_positive(fcinfo, 1, "price");
	leverage = arg_positive(fcinfo, 2, "leverage");
	lot = arg_nonnegative(fcinfo, lot_arg, "lot_size");
	if (has_cap && !leverage_cap(PG_GETARG_TIERS_P(tiers_arg), leverage, &cap))
		EXACT_RETURN_NULL();
	EXACT_RETURN(margin_max_size(collateral, price, leverage, r->schedule.fee,
								 r->contract_size, r->inverse, has_cap, cap, lot));
}

static pg_attribute_always_inline Datum
max_size_call(FunctionCallInfo fcinfo, const Rule *r, int tiers_arg)
{
	int			lot_arg = tiers_arg >= 0 ? 7 : 6;
	Fix			collateral,
				price,
				leverage,
				lot,
				v,
				cap = fix_make(0, 0);
	bool		ok = true,
				has_cap = tiers_arg >= 0;

	if (figure_fast_route && r->fast && fast_arg(fcinfo, 0, &collateral) && collateral.v >= 0 &&
		fast_price(fcinfo, 1, &price) && fast_price(fcinfo, 2, &leverage) &&
		fast_arg_mostly_zero(fcinfo, lot_arg, &lot) && lot.v >= 0)
	{
		if (has_cap && !fast_leverage_cap(tiers_of_arg(fcinfo, tiers_arg), leverage, &cap))
		{
			figure_route_calls[ROUTE_FAST]++;
			PG_RETURN_NULL();
		}
		v = fast_max_size(collateral, price, leverage, r->f_schedule.fee, r->f_contract_size,
						  r->inverse, has_cap, cap, lot, &ok);
		if (ok)
			RETURN_FAST(v);
	}
	return max_size_exact(fcinfo, r, tiers_arg);
}

PG_FUNCTION_INFO_V1(max_size);
Datum
max_size(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(3, 4, -1, 5, -1, -1);

	return max_size_call(fcinfo, rule_of(fcinfo, &args), -1);
}

PG_FUNCTION_INFO_V1(max_size_tiers);
Datum
max_size_tiers(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(4, 5, 3, 6, -1, -1);

	return max_size_call(fcinfo, rule_of(fcinfo, &args), 3);
}

/*
 * max_leverage_for_size(size, price, tiers, contract_size, kind): the
 * max_leverage of the bracket of N(price); NULL above the last cap.
 */
static Datum
leverage_of_bracket(const Tiers *t, int i)
{
	const TiersBracket *b = &t->brackets[i];

	PG_RETURN_NUMERIC(numeric_codec_make(b->coef[TIERS_LEVERAGE], b->scale[TIERS_LEVERAGE]));
}

static pg_noinline Datum
max_leverage_for_size_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	const Tiers *t = PG_GETARG_TIERS_P(2);
	MarginPosition p;
	Dec			price;
	Datum		result;

	EXACT_BEGIN("max_leverage_for_size");
	exact_position(fcinfo, r, 0, -1, -1, &p);
	price = arg_positive(fcinfo, 1, "price");
	if (margin_notional_cmp(&p, price, tiers_dec(&t->brackets[t->nbrackets - 1], TIERS_CAP)) > 0)
		EXACT_RETURN_NULL();
	result = leverage_of_bracket(t, margin_bracket_at_price(&p, &r->schedule, price));
	dec_figure_pop(&figure_cb);
	return result;
}

PG_FUNCTION_INFO_V1(max_leverage_for_size);
Datum
max_leverage_for_size(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(3, 4, 2, -1, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	const Tiers *t;
	const TiersBracket *last;
	FastPosition p;
	Fix			price;
	bool		ok = true;
	int			above,
				i;

	if (fast_position(fcinfo, r, 0, -1, -1, &p, &ok) && fast_price(fcinfo, 1, &price))
	{
		t = PG_GETARG_TIERS_P(2);
		last = &t->brackets[t->nbrackets - 1];
		above = fast_notional_cmp(&p, price, fix_make(last->coef[TIERS_CAP], last->scale[TIERS_CAP]),
								  &ok);
		i = fast_bracket_at_price(&p, &r->f_schedule, price, &ok);
		if (ok)
		{
			figure_route_calls[ROUTE_FAST]++;
			if (above > 0)
				PG_RETURN_NULL();
			return leverage_of_bracket(t, i);
		}
	}
	return max_leverage_for_size_exact(fcinfo, r);
}

/* ---- a position after a fill ---- */

enum
{
	F_SIZE, F_ENTRY, F_MARGIN, F_PNL, F_FEE, F_RELEASED, F_CASH, F_NATTS
};

/* every field of the row: none is NULL */
#define F_ALL ((((uint32) 1) << F_NATTS) - 1)

static Datum
fill_row(FunctionCallInfo fcinfo, Datum *values)
{
	bool		nulls[F_NATTS] = {0};

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(figure_result_desc(fcinfo), values, nulls)));
}

/*
 * A new numeric of the fast route's row, packed into `room`
 * (NUMERIC_CODEC_PACKED_ROOM bytes from *used on) as heap_form_tuple stores
 * it, which copies it as it is: no allocation of its own (as assess's).
 */
static pg_attribute_always_inline Datum
fill_value(Fix v, char *room, int *used)
{
	int			n;
	Datum		d;

	if (v.v == 0 && v.s == 0)
		return zero_datum();	/* the PnL and released margin of an increase */
	n = numeric_codec_write_packed(v.v, v.s, room + *used);
	if (n == 0)
		return NumericGetDatum(numeric_codec_make(v.v, v.s));
	d = PointerGetDatum(room + *used);
	*used += n;
	return d;
}

static pg_noinline Datum
after_fill_exact(FunctionCallInfo fcinfo, const Rule *r)
{
	MarginPosition p;
	MarginFill	f;
	Dec			fill_size,
				fill_price,
				added,
				margin;
	Datum		v[F_NATTS];

	EXACT_BEGIN("after_fill");
	exact_position(fcinfo, r, 0, 1, 2, &p);
	fill_size = arg_finite(fcinfo, 3, "fill_size");
	fill_price = arg_positive(fcinfo, 4, "fill_price");
	added = arg_finite(fcinfo, 8, "margin_added");
	margin_after_fill(&p, fill_size, fill_price, r->schedule.fee, &f);
	margin = dec_add(f.margin, added);
	if (dec_sign(margin) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("margin_added must not take the margin below zero"),
				 errdetail("The margin after the fill is %s and margin_added is %s.",
						   dec_text(f.margin), dec_text(added))));
	v[F_SIZE] = NumericGetDatum(dec_to_numeric(f.size));
	v[F_ENTRY] = NumericGetDatum(dec_to_numeric(f.entry));
	v[F_MARGIN] = NumericGetDatum(dec_to_numeric(margin));
	v[F_PNL] = NumericGetDatum(dec_to_numeric(f.realized_pnl));
	v[F_FEE] = NumericGetDatum(dec_to_numeric(f.fee));
	v[F_RELEASED] = NumericGetDatum(dec_to_numeric(f.released));
	v[F_CASH] = NumericGetDatum(dec_to_numeric(f.cash));
	dec_figure_pop(&figure_cb);
	return fill_row(fcinfo, v);
}

PG_FUNCTION_INFO_V1(after_fill);
Datum
after_fill(PG_FUNCTION_ARGS)
{
	static const RuleArgs args = RULE_ARGS(5, 6, -1, 7, -1, -1);
	const Rule *r = rule_of(fcinfo, &args);
	FastPosition p;
	FastFill	f;
	Fix			fill_size,
				fill_price,
				added,
				margin;
	bool		ok = true;

	if (fast_position(fcinfo, r, 0, 1, 2, &p, &ok) && fast_arg(fcinfo, 3, &fill_size) &&
		fast_price(fcinfo, 4, &fill_price) && fast_arg(fcinfo, 8, &added))
	{
		fast_after_fill(&p, fill_size, fill_price, r->f_schedule.fee, &f, &ok);
		margin = fix_add(f.margin, added, &ok);
		if (ok && fix_sign(margin) >= 0)
		{
			FigureRow  *fr = &call_site(fcinfo)->row;
			const Fix	fv[F_NATTS] = {
				[F_SIZE] = f.size,[F_ENTRY] = f.entry,[F_MARGIN] = margin,
				[F_PNL] = f.realized_pnl,[F_FEE] = f.fee,[F_RELEASED] = f.released,
				[F_CASH] = f.cash
			};
			Datum		v[F_NATTS];
			char		room[F_NATTS * NUMERIC_CODEC_PACKED_ROOM];
			int			used = 0;
			Datum		row;

			figure_route_calls[ROUTE_FAST]++;
			if (likely(fr->state > 0) &&
				(row = figure_row_form_any(fr, F_NATTS, fv, F_ALL, -1, InvalidOid)) != (Datum) 0)
				return row;
			/* the call site's first row, or one of a call site that forms none in place */
			for (int i = 0; i < F_NATTS; i++)
				v[i] = fill_value(fv[i], room, &used);
			row = fill_row(fcinfo, v);
			if (fr->state == 0)
				figure_row_learn(fr, (HeapTupleHeader) DatumGetPointer(row), F_NATTS, fv, F_ALL,
								 -1, InvalidOid, true);
			return row;
		}
	}
	return after_fill_exact(fcinfo, r);
}
