/*
 * decimal.c
 *	  Exact decimal arithmetic: int128 while it fits, numeric when it does not.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/fmgrprotos.h"

#include "decimal.h"
#include "numeric_codec.h"

#define MAX_POW10 38

static inline Dec
dec_big(Numeric n)
{
	Dec			r;

	r.coef = 0;
	r.scale = 0;
	r.big = n;
	return r;
}

void
dec_figure_callback(void *arg)
{
	/* a marker: the figure's name is read by figure_name, no CONTEXT line */
}

/* the innermost figure being computed, or "result" */
static const char *
figure_name(void)
{
	for (ErrorContextCallback *e = error_context_stack; e != NULL; e = e->previous)
		if (e->callback == dec_figure_callback)
			return (const char *) e->arg;
	return "result";
}

/* A value beyond numeric's range, reported with the figure being computed. */
pg_attribute_noreturn()
static void
out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range for type numeric", figure_name()),
			 errdetail("A value computed from the arguments exceeds the limits of type numeric."),
			 errhint("Check the magnitudes of size, the prices, margin and contract_size.")));
}

/* numeric's own overflow */
static Numeric
checked(Numeric r, const bool *overflow)
{
	if (*overflow)
		out_of_range();
	return r;
}

/*
 * A value that numeric could only round: refused before it is computed.
 * The same message as for a value beyond numeric's range, for the same
 * reason (it exceeds a limit of type numeric); the detail says which.
 */
pg_attribute_noreturn()
static void
too_many_decimals(int scale)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range for type numeric", figure_name()),
			 errdetail("A value computed from the arguments would have %d decimals, and type numeric holds at most %d.",
					   scale, DEC_MAX_SCALE),
			 errhint("Give the arguments fewer decimals: with at most %d each, every figure is exact.",
					 DEC_ARG_SCALE_EXACT)));
}

static Numeric
as_numeric(Dec a)
{
	return a.big ? a.big : numeric_codec_make(a.coef, a.scale);
}

/* the display scale numeric gives the value */
static int
dscale_of(const Dec *a)
{
	int			dscale,
				weight;

	if (!a->big)
		return a->scale;
	numeric_codec_shape(a->big, &dscale, &weight);
	return dscale;
}

/* the weight of a numeric's first digit group (0 for zero) */
static int
weight_of(Numeric n)
{
	int			dscale,
				weight;

	numeric_codec_shape(n, &dscale, &weight);
	return weight;
}

/* 10^k as a numeric (display scale -k for k < 0, else 0) */
static Numeric
pow10_numeric(int k)
{
	if (k < 0 && k >= -(MAX_POW10 - 1))
		return numeric_codec_make(1, -k);
	if (k >= 0 && k <= MAX_POW10 - 1)
		return numeric_codec_make(isomargin_pow10[k], 0);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(psprintf("1e%d", k)),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

Dec
dec_from_numeric(Numeric n, int dscale)
{
	Dec			r = dec_big(n);

	r.scale = dscale;
	return r;
}

Numeric
dec_to_numeric(Dec a)
{
	return as_numeric(a);
}

Dec
dec_add_slow(const Dec *a, const Dec *b)
{
	bool		err = false;
	Numeric		r = numeric_add_opt_error(as_numeric(*a), as_numeric(*b), &err);

	return dec_big(checked(r, &err));
}

Dec
dec_neg_slow(const Dec *a)
{
	return dec_big(DatumGetNumeric(DirectFunctionCall1(numeric_uminus,
													   NumericGetDatum(as_numeric(*a)))));
}

/*
 * numeric's product has the sum of its factors' display scales, rounded to
 * DEC_MAX_SCALE beyond it (numeric_mul_opt_error): refused there instead.
 */
Dec
dec_mul_slow(const Dec *a, const Dec *b)
{
	bool		err = false;
	int			scale = dscale_of(a) + dscale_of(b);
	Numeric		r;

	if (scale > DEC_MAX_SCALE)
		too_many_decimals(scale);
	r = numeric_mul_opt_error(as_numeric(*a), as_numeric(*b), &err);
	return dec_big(checked(r, &err));
}

int
dec_sign_slow(const Dec *a)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(as_numeric(*a)),
											 NumericGetDatum(numeric_codec_make(0, 0))));
}

int
dec_cmp_slow(const Dec *a, const Dec *b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(as_numeric(*a)),
											 NumericGetDatum(as_numeric(*b))));
}

/* Adjust a truncated quotient q of n/d (remainder non-zero) toward mode. */
static inline bool
round_away_from_trunc(bool negative_quotient, DecRound mode)
{
	return negative_quotient ? mode == DEC_FLOOR : mode == DEC_CEIL;
}

Dec
dec_div_round(Dec num, Dec den, int scale, DecRound mode)
{
	Numeric		n,
				d,
				q,
				r;
	int			rsign;
	bool		err = false;

	Assert(!dec_is_zero(den));
	if (!num.big && !den.big)
	{
		/* num/den * 10^scale = num.coef * 10^(scale + den.scale - num.scale) / den.coef */
		int			e = scale + den.scale - num.scale;
		int128		x = num.coef,
					y = den.coef;

		if ((e >= 0 ? scaled_up(x, e, &x) : scaled_up(y, -e, &y)))
		{
			int128		qi;
			bool		inexact;

			if (scaled_fits64(x) && scaled_fits64(y) && (int64) x != PG_INT64_MIN)
			{
				qi = (int64) x / (int64) y;
				inexact = (int64) x % (int64) y != 0;
			}
			else
			{
				qi = x / y;
				inexact = x % y != 0;
			}
			if (inexact && round_away_from_trunc((x < 0) != (y < 0), mode))
				qi += ((x < 0) != (y < 0)) ? -1 : 1;
			return dec_make(qi, scale);
		}
	}

	/*
	 * numeric route: q = trunc(num * 10^scale / den), then the same
	 * adjustment.  10^scale has display scale 0, so n keeps num's, and the
	 * truncated quotient is an integer: nothing here is rounded.  numeric's
	 * division would fail with its own message when the quotient exceeds
	 * numeric's range: n < 10000^(wn + 1) and |d| >= 10000^wd, so q has
	 * weight wn - wd at most, refused here when that may not fit.
	 */
	Assert(scale >= 0 && scale <= DEC_MAX_SCALE);
	n = checked(numeric_mul_opt_error(as_numeric(num), pow10_numeric(scale), &err), &err);
	d = as_numeric(den);
	if (dec_sign(dec_big(n)) != 0 && weight_of(n) - weight_of(d) > NC_WEIGHT_MAX)
		out_of_range();
	q = DatumGetNumeric(DirectFunctionCall2(numeric_div_trunc, NumericGetDatum(n), NumericGetDatum(d)));
	r = checked(numeric_sub_opt_error(n, checked(numeric_mul_opt_error(q, d, &err), &err), &err), &err);
	rsign = dec_sign(dec_big(r));
	if (rsign != 0)
	{
		bool		negative = (dec_sign(num) < 0) != (dec_sign(den) < 0);

		if (round_away_from_trunc(negative, mode))
			q = checked(numeric_add_opt_error(q, numeric_codec_make(negative ? -1 : 1, 0), &err), &err);
	}
	/* q is an integer; scale it back with display scale `scale` */
	q = DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(q), Int32GetDatum(0)));
	return dec_big(checked(numeric_mul_opt_error(q, pow10_numeric(-scale), &err), &err));
}

/*
 * With tick = T * 10^-ts (T its coefficient, ts its display scale), the
 * number of ticks K = num / (den * tick) rounded is num * 10^ts / (den * T)
 * rounded, which dec_div_round gives as K * 10^-ts; times T, that is
 * K * tick with the tick's scale.  den is multiplied by the integer T, so
 * the tick's decimals never add to den's (a tick of 1e-16383 is taken).
 */
Dec
dec_div_round_tick(Dec num, Dec den, Dec tick, DecRound mode)
{
	int			ts = dscale_of(&tick);
	Dec			coef;

	if (!tick.big)
		coef = dec_make(tick.coef, 0);
	else
	{
		bool		err = false;
		Numeric		t = checked(numeric_mul_opt_error(tick.big, pow10_numeric(ts), &err), &err);

		/* an integer, given display scale 0 */
		coef = dec_big(DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(t),
														   Int32GetDatum(0))));
	}
	return dec_mul(dec_div_round(num, dec_mul(den, coef), ts, mode), coef);
}
