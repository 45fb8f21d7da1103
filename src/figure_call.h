/*
 * figure_call.h
 *	  What the SQL wrappers of the figures share (functions.c, whatif.c):
 *	  the call site's state, its rule, the position read by either route,
 *	  the count of calls each route answered and the figure named in
 *	  overflow errors.
 *
 * A figure's SQL function takes its rule from rule.c, then tries the fast
 * route: the position's numerics read straight into int64 coefficients
 * (fast_arg, fast_position) and the figure computed by fast.h; when that
 * declines (a number of more than 18 digits or decimals, an intermediate
 * that would overflow, an invalid value that needs its error message) it
 * calls a noinline function that reads and checks the arguments as Dec
 * (exact_position, args.h) and computes the figure by margin.h between
 * EXACT_BEGIN and EXACT_RETURN.
 */
#ifndef ISOMARGIN_FIGURE_CALL_H
#define ISOMARGIN_FIGURE_CALL_H

#include "fmgr.h"
#include "access/tupdesc.h"

#include "args.h"
#include "figure_row.h"
#include "numeric_codec.h"
#include "rule.h"

/*
 * Hidden: read by every call of a figure, so reached directly rather than
 * through the library's global offset table (a load per use).
 */
#define FIGURE_HIDDEN __attribute__((visibility("hidden")))

/* isomargin.fast_route: off sends every call to the exact route */
extern FIGURE_HIDDEN bool figure_fast_route;

/* Calls answered by each route in this backend, for isomargin.routes(). */
extern FIGURE_HIDDEN uint64 figure_route_calls[2];

#define ROUTE_FAST 0
#define ROUTE_EXACT 1

/* Per-call-site state kept in fn_extra. */
typedef struct CallSite
{
	RuleCache  *rules;
	Oid			label_oids[4];	/* an enum result's labels, by index (figure_label_oid) */
	TupleDesc	result_desc;	/* a composite result: the blessed row type */
	FigureRow	row;			/* ... and how its rows are formed (figure_row.h) */
} CallSite;

static pg_attribute_always_inline CallSite *
call_site(FunctionCallInfo fcinfo)
{
	if (unlikely(fcinfo->flinfo->fn_extra == NULL))
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(CallSite));
	return (CallSite *) fcinfo->flinfo->fn_extra;
}

/* Where each function's rule arguments are: -1 for those it does not take. */
#define RULE_ARGS(cs_, kind_, rate_, fee_, tick_, call_) \
	RULE_ARGS_CONV(cs_, kind_, rate_, fee_, tick_, call_, -1)
/* ... and the first of its convention arguments (rule.h, RULE_CONV_NARGS) */
#define RULE_ARGS_CONV(cs_, kind_, rate_, fee_, tick_, call_, conv_) \
	RULE_ARGS_SOME_CONV(cs_, kind_, rate_, fee_, tick_, call_, conv_, 0)
#define RULE_ARGS_SOME_CONV(cs_, kind_, rate_, fee_, tick_, call_, conv_, absent_) \
	{.cs = cs_, .kind = kind_, .rate = rate_, .fee = fee_, .tick = tick_, .call_ratio = call_, \
	 .conv = conv_, .conv_absent = absent_}

static pg_attribute_always_inline const Rule *
rule_of(FunctionCallInfo fcinfo, const RuleArgs *args)
{
	return rule_of_call(fcinfo, &call_site(fcinfo)->rules, args);
}

/*
 * The OID of labels[label] of the enum type `typname` (at most 4 labels) in
 * the function's own schema, looked up once per call site.
 */
extern Oid	figure_label_oid(FunctionCallInfo fcinfo, const char *typname,
							 const char *const *labels, int nlabels, int label);

/* figure_label_oid with the call site's cached OID inline */
static pg_attribute_always_inline Oid
figure_label(FunctionCallInfo fcinfo, const char *typname, const char *const *labels,
			 int nlabels, int label)
{
	Oid			oid = call_site(fcinfo)->label_oids[label];

	if (likely(OidIsValid(oid)))
		return oid;
	return figure_label_oid(fcinfo, typname, labels, nlabels, label);
}

/* The function's composite result type, blessed once per call site. */
extern TupleDesc figure_result_desc(FunctionCallInfo fcinfo);

/* ---- the fast route ---- */

static pg_attribute_always_inline bool
fast_arg(FunctionCallInfo fcinfo, int argno, Fix *out)
{
	int64		coef;
	int			scale;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(argno), &coef, &scale))
		return false;
	*out = fix_make(coef, scale);
	return true;
}

/* an argument of at least `min` (0 or 1), its sign tested on the int64 read */
static pg_attribute_always_inline bool
fast_arg_min(FunctionCallInfo fcinfo, int argno, int64 min, Fix *out)
{
	int64		coef;
	int			scale;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(argno), &coef, &scale) || coef < min)
		return false;
	*out = fix_make(coef, scale);
	return true;
}

static pg_attribute_always_inline bool
fast_price(FunctionCallInfo fcinfo, int argno, Fix *out)
{
	return fast_arg_min(fcinfo, argno, 1, out);
}

/*
 * The position in size_arg, entry_arg (> 0; -1: none, 1) and margin_arg
 * (>= 0; -1: none, 0); false to decline.
 */
static pg_attribute_always_inline bool
fast_position(FunctionCallInfo fcinfo, const Rule *r, int size_arg, int entry_arg,
			  int margin_arg, FastPosition *p, bool *ok)
{
	Fix			size,
				entry = fix_make(1, 0),
				margin = fix_make(0, 0);

	/* both bools, one test: 13 to 27 instructions a row fewer than two (bench/README.md) */
	if (!(figure_fast_route & r->fast) || !fast_arg(fcinfo, size_arg, &size) ||
		(entry_arg >= 0 && !fast_price(fcinfo, entry_arg, &entry)) ||
		(margin_arg >= 0 && !fast_arg_min(fcinfo, margin_arg, 0, &margin)))
		return false;
	fast_position_init(p, size, entry, margin, r->f_contract_size, r->inverse, ok);
	return *ok;
}

/*
 * The rule's fast schedule on the mark basis: a local copy whose conv the
 * compiler sees as 0, so that the conventions' branches of the formulas
 * fold away where it is passed.  A figure that takes convention arguments
 * sends a rule with conventions to an out-of-line copy of its fast route
 * first (FIGURE_CONV_FUNCTION); one that takes none has conv 0 always.
 */
static pg_attribute_always_inline FastSchedule
fast_mark_schedule(const Rule *r)
{
	/* the fee is read under conventions only */
	FastSchedule s = {.nbrackets = r->f_schedule.nbrackets, .brackets = r->f_schedule.brackets};

	return s;
}

/*
 * A figure's SQL function whose fast route is written once as an
 * always-inline `name_by(fcinfo, r, s)` of the schedule: the mark basis
 * inline, with fast_mark_schedule, and a rule with conventions in an
 * out-of-line copy (name_conv), so that the default path pays for them no
 * more than one test.
 */
#define FIGURE_CONV_FUNCTION(name, rule_args) \
	static pg_noinline Datum \
	name##_conv(FunctionCallInfo fcinfo, const Rule *r) \
	{ \
		return name##_by(fcinfo, r, &r->f_schedule); \
	} \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		static const RuleArgs args = rule_args; \
		const Rule *r = rule_of(fcinfo, &args); \
		FastSchedule mark; \
		\
		if (unlikely(r->f_schedule.conv != 0)) \
			return name##_conv(fcinfo, r); \
		mark = fast_mark_schedule(r); \
		return name##_by(fcinfo, r, &mark); \
	}

#define RETURN_FAST(v) \
	do { \
		figure_route_calls[ROUTE_FAST]++; \
		PG_RETURN_NUMERIC(numeric_codec_make((v).v, (v).s)); \
	} while (0)

#define RETURN_FAST_PRICE(has, v) \
	do { \
		figure_route_calls[ROUTE_FAST]++; \
		if (!(has)) \
			PG_RETURN_NULL(); \
		PG_RETURN_NUMERIC(numeric_codec_make((v).v, (v).s)); \
	} while (0)

/* ---- the exact route ---- */

/* The position as Dec, each argument checked (22023 naming it). */
extern void exact_position(FunctionCallInfo fcinfo, const Rule *r, int size_arg, int entry_arg,
						   int margin_arg, MarginPosition *p);

/* Enters the exact route of a figure: counted, and named for overflow errors. */
#define EXACT_BEGIN(figure) \
	ErrorContextCallback figure_cb; \
	figure_route_calls[ROUTE_EXACT]++; \
	dec_figure_push(&figure_cb, figure)

#define EXACT_RETURN(d) \
	do { \
		Numeric		result_ = dec_to_numeric(d); \
		dec_figure_pop(&figure_cb); \
		PG_RETURN_NUMERIC(result_); \
	} while (0)

#define EXACT_RETURN_NULL() \
	do { \
		dec_figure_pop(&figure_cb); \
		PG_RETURN_NULL(); \
	} while (0)

#endif
