/*
 * quick.c
 *	  The quick route of liquidation_price and bankruptcy_price (quick.h).
 *
 * The same fractions as margin.c's solve_price and where_in_bracket, for
 * c = 1, and the same rounding as round_price, in plain int128 arithmetic:
 * inputs are at most 18 digits with at most 18 decimals, and every product,
 * sum and rescaling that could overflow is checked; any overflow makes the
 * route decline (ok = false) rather than approximate.
 */
#include "postgres.h"

#include "numeric_codec.h"
#include "quick.h"

/* v * 10^-s */
typedef struct Q
{
	int128		v;
	int			s;
} Q;

#define Q_MAX_SCALE 18

static pg_attribute_always_inline Q
q_make(int128 v, int s)
{
	Q			r;

	r.v = v;
	r.s = s;
	return r;
}

static pg_attribute_always_inline bool
q_from_dec(Dec d, Q *out)
{
	if (d.big || !dec_fits64(d.coef) || d.scale > Q_MAX_SCALE)
		return false;
	*out = q_make(d.coef, d.scale);
	return true;
}

static pg_attribute_always_inline bool
q_arg(FunctionCallInfo fcinfo, int argno, Q *out)
{
	int64		coef;
	int			scale;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(argno), &coef, &scale))
		return false;
	*out = q_make(coef, scale);
	return true;
}

static pg_attribute_always_inline Q
q_rescale(Q a, int s, bool *ok)
{
	int128		r;

	if (s == a.s)
		return a;
	if (!dec_scale_up(a.v, s - a.s, &r))
	{
		*ok = false;
		r = 0;
	}
	return q_make(r, s);
}

static pg_attribute_always_inline Q
q_mul(Q a, Q b, bool *ok)
{
	int128		r;

	if (likely(dec_fits64(a.v) && dec_fits64(b.v)))
		return q_make((int128) (int64) a.v * (int64) b.v, a.s + b.s);
	if (__builtin_mul_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return q_make(r, a.s + b.s);
}

static pg_attribute_always_inline Q
q_add(Q a, Q b, bool *ok)
{
	int			s = Max(a.s, b.s);
	int128		r;

	a = q_rescale(a, s, ok);
	b = q_rescale(b, s, ok);
	if (__builtin_add_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return q_make(r, s);
}

static pg_attribute_always_inline Q
q_sub(Q a, Q b, bool *ok)
{
	int			s = Max(a.s, b.s);
	int128		r;

	a = q_rescale(a, s, ok);
	b = q_rescale(b, s, ok);
	if (__builtin_sub_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return q_make(r, s);
}

static pg_attribute_always_inline int
q_sign(Q a)
{
	return (a.v > 0) - (a.v < 0);
}

static pg_attribute_always_inline int
q_cmp(Q a, Q b, bool *ok)
{
	int			s = Max(a.s, b.s);

	a = q_rescale(a, s, ok);
	b = q_rescale(b, s, ok);
	return (a.v > b.v) - (a.v < b.v);
}

/* The position, as solve_price sees it. */
typedef struct QPos
{
	Q			e;				/* entry price */
	Q			m;				/* margin */
	Q			s;				/* q * cs */
	Q			a;				/* |q| * cs */
	int			side;
	bool		inverse;
} QPos;

/*
 * c = 1 in margin.c's solve_price:
 *	 linear:  num = s*E - M - A,   den = a*(side - r')
 *	 inverse: num = E*a*(side + r'), den = M*E + s + A*E
 */
static pg_attribute_always_inline bool
q_solve(const QPos *p, Q rate_fee, Q amount, Q *num, Q *den, bool *ok)
{
	Q			side = q_make(p->side, 0);

	if (p->inverse)
	{
		*num = q_mul(q_mul(p->e, p->a, ok), q_add(side, rate_fee, ok), ok);
		*den = q_add(q_mul(p->m, p->e, ok), p->s, ok);
		if (amount.v != 0)
			*den = q_add(*den, q_mul(amount, p->e, ok), ok);
	}
	else
	{
		*num = q_sub(q_mul(p->s, p->e, ok), p->m, ok);
		if (amount.v != 0)
			*num = q_sub(*num, amount, ok);
		*den = q_mul(p->a, q_sub(side, rate_fee, ok), ok);
	}
	return den->v != 0 && q_sign(*num) * q_sign(*den) > 0;
}

/* margin.c's where_in_bracket */
static int
q_where(const QPos *p, const MarginSchedule *s, int i, Q num, Q den, bool *ok)
{
	Q			lhs = q_mul(p->a, p->inverse ? den : num, ok);
	Q			by = p->inverse ? num : den;
	int			bysign = q_sign(by);
	Q			f;

	if (i > 0)
	{
		if (!q_from_dec(s->brackets[i].floor, &f))
			*ok = false;
		else if (q_cmp(lhs, q_mul(f, by, ok), ok) * bysign <= 0)
			return -1;
	}
	if (i < s->nbrackets - 1)
	{
		if (!q_from_dec(s->brackets[i + 1].floor, &f))
			*ok = false;
		else if (q_cmp(lhs, q_mul(f, by, ok), ok) * bysign > 0)
			return 1;
	}
	return 0;
}

/*
 * margin.c's bracket_at_price at the entry price, searched upward from the
 * first bracket (most positions sit in the lowest ones); floors increase, so
 * this is the same bracket.
 */
static int
q_bracket_at_entry(const QPos *p, const MarginSchedule *s, bool *ok)
{
	Q			lhs = p->inverse ? p->a : q_mul(p->a, p->e, ok);
	int			i = 0;

	while (i < s->nbrackets - 1)
	{
		Q			f;

		if (!q_from_dec(s->brackets[i + 1].floor, &f))
		{
			*ok = false;
			return 0;
		}
		if (q_cmp(lhs, p->inverse ? q_mul(f, p->e, ok) : f, ok) <= 0)
			break;
		i++;
	}
	return i;
}

/* num/den rounded to `scale` decimals, up or down (dec_div_round) */
static Q
q_div_round(Q num, Q den, int scale, bool up, bool *ok)
{
	int			e = scale + den.s - num.s;
	int128		x = num.v,
				y = den.v;

	if (e >= 0)
		x = q_rescale(num, num.s + e, ok).v;
	else
		y = q_rescale(den, den.s - e, ok).v;
	if (!*ok || y == 0)
	{
		*ok = false;
		return q_make(0, scale);
	}
	return q_make(quick_div_round(x, y, up), scale);
}

bool
quick_threshold_price(FunctionCallInfo fcinfo, const QuickRule *rule,
					  int size_arg, int entry_arg, int margin_arg,
					  Datum *result, bool *isnull)
{
	const MarginSchedule *s = rule->schedule;
	bool		ok = true;
	QPos		p;
	Q			size,
				cs,
				tick,
				num,
				den,
				price;
	int			i;

	if (!q_arg(fcinfo, size_arg, &size) || !q_arg(fcinfo, entry_arg, &p.e) ||
		!q_arg(fcinfo, margin_arg, &p.m) || p.e.v <= 0 || p.m.v < 0 ||
		!q_from_dec(rule->contract_size, &cs) || !q_from_dec(rule->tick, &tick))
		return false;			/* the general route reads (and rejects) it */

	p.side = q_sign(size);
	p.inverse = rule->inverse;
	if (p.side == 0)
	{
		*isnull = true;
		return true;
	}
	p.s = (cs.v == 1 && cs.s == 0) ? size : q_mul(size, cs, &ok);
	p.a = p.side < 0 ? q_make(-p.s.v, p.s.s) : p.s;

	if (s == NULL)
	{
		/* bankruptcy: no rate, no amount */
		if (!q_solve(&p, q_make(0, 0), q_make(0, 0), &num, &den, &ok))
		{
			*isnull = ok;
			return ok;
		}
	}
	else
	{
		i = s->nbrackets == 1 ? 0 : q_bracket_at_entry(&p, s, &ok);
		/* the walk is monotonic for a valid schedule: one visit per bracket at most */
		for (int visits = 1;; visits++)
		{
			Q			rate_fee,
						amount;
			int			where;

			if (visits > s->nbrackets)
				return false;
			if (!q_from_dec(s->brackets[i].rate_fee, &rate_fee) ||
				!q_from_dec(s->brackets[i].amount, &amount))
				return false;
			if (!q_solve(&p, rate_fee, amount, &num, &den, &ok))
				where = -1;
			else if (s->nbrackets == 1)
				break;
			else
				where = q_where(&p, s, i, num, den, &ok);
			if (!ok)
				return false;
			if (where == 0)
				break;
			if (where < 0 ? i == 0 : i == s->nbrackets - 1)
			{
				*isnull = true;
				return true;
			}
			i += where;
		}
	}

	/* round_price: up for a long, down for a short; to the tick if any */
	if (tick.v > 0)
		price = q_mul(q_div_round(num, q_mul(den, tick, &ok), 0, p.side > 0, &ok), tick, &ok);
	else
		price = q_div_round(num, den, Max(MARGIN_PRICE_MIN_SCALE, p.e.s), p.side > 0, &ok);
	if (!ok)
		return false;
	*isnull = false;
	*result = NumericGetDatum(numeric_codec_make(price.v, price.s));
	return true;
}
