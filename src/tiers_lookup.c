/*
 * tiers_lookup.c
 *	  Questions asked of a schedule: which bracket holds a notional, the
 *	  leverage allowed there, the largest notional a leverage allows.
 *
 * Bracket i holds notionals N with F_i < N <= C_i, and N = 0 is in bracket
 * 1.  A notional above the last cap is in the last bracket (the engine
 * keeps using its rate there), but no leverage is allowed for it.
 *
 * max_leverage and max_notional answer NULL where the schedule has no
 * answer (a notional above the last cap, a leverage above the first
 * bracket's), so that a report over a whole book carries on; called with
 * strict => true (the three-argument form) they raise the error instead.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "args.h"
#include "numeric_codec.h"
#include "tiers.h"

PG_FUNCTION_INFO_V1(bracket);
PG_FUNCTION_INFO_V1(max_leverage);
PG_FUNCTION_INFO_V1(max_notional);

static char *
arg_text(FunctionCallInfo fcinfo, int argno)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(argno)));
}

static Numeric
field_numeric(const TiersBracket *b, TiersField f)
{
	return numeric_codec_make(b->coef[f], b->scale[f]);
}

Datum
bracket(PG_FUNCTION_ARGS)
{
	const Tiers *t = PG_GETARG_TIERS_P(0);
	Dec			n = arg_nonnegative(fcinfo, 1, "notional");

	PG_RETURN_INT32(tiers_bracket_index(t, n) + 1);
}

/* strict => true: raise an error where the schedule has no answer */
static bool
strict_form(FunctionCallInfo fcinfo)
{
	return PG_NARGS() > 2 && PG_GETARG_BOOL(2);
}

int
tiers_leverage_bracket(const Tiers *t, Dec leverage)
{
	for (int i = t->nbrackets - 1; i >= 0; i--)
		if (dec_cmp(tiers_dec(&t->brackets[i], TIERS_LEVERAGE), leverage) >= 0)
			return i;
	return -1;
}

Datum
max_leverage(PG_FUNCTION_ARGS)
{
	const Tiers *t = PG_GETARG_TIERS_P(0);
	Dec			n = arg_nonnegative(fcinfo, 1, "notional");
	const TiersBracket *last = &t->brackets[t->nbrackets - 1];

	if (dec_cmp(n, tiers_dec(last, TIERS_CAP)) > 0)
	{
		if (!strict_form(fcinfo))
			PG_RETURN_NULL();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("notional is above the cap of the last bracket"),
				 errdetail("The notional is %s and the last bracket ends at %s.",
						   arg_text(fcinfo, 1),
						   tiers_value_text(last->coef[TIERS_CAP], last->scale[TIERS_CAP])),
				 errhint("The schedule allows no position this large, at any leverage.")));
	}
	PG_RETURN_NUMERIC(field_numeric(&t->brackets[tiers_bracket_index(t, n)], TIERS_LEVERAGE));
}

/* Maximum leverage never increases from one bracket to the next (tiers_build). */
Datum
max_notional(PG_FUNCTION_ARGS)
{
	const Tiers *t = PG_GETARG_TIERS_P(0);
	Dec			leverage = arg_positive(fcinfo, 1, "leverage");
	int			i = tiers_leverage_bracket(t, leverage);

	if (i >= 0)
		PG_RETURN_NUMERIC(field_numeric(&t->brackets[i], TIERS_CAP));
	if (!strict_form(fcinfo))
		PG_RETURN_NULL();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("leverage is above the maximum leverage of the first bracket"),
			 errdetail("The leverage is %s and the first bracket allows at most %s.",
					   arg_text(fcinfo, 1),
					   tiers_value_text(t->brackets[0].coef[TIERS_LEVERAGE],
										t->brackets[0].scale[TIERS_LEVERAGE])),
			 errhint("No position, however small, may use this leverage.")));
	PG_RETURN_NULL();			/* not reached */
}
