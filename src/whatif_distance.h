/*
 * whatif_distance.h
 *	  The distance to liquidation (whatif.c) of the most common rule by a
 *	  shorter route: a linear contract, one bracket without an amount, the
 *	  mark basis, no tick.
 *
 * The liquidation price is then formulas_template.h's solve_price with
 * c = 1 and round_price:
 *	 LP = (s*E - M) / (a*(side - r')), up for a long, down for a short, to
 *	 k = max(MARGIN_PRICE_MIN_SCALE, scale of E) decimals,
 * and the distance P - LP (long) or LP - P (short) at the larger of k and
 * the mark's scale, the same number, digit for digit and scale for scale,
 * as fast_liquidation_distance gives.  The general fast route carries every
 * intermediate in an int128 (Fix) with its checks; here the numerator and
 * the denominator are int64 products of the int64 coefficients the readers
 * give, each checked, and the one division is fix_div_int128's.  Anything
 * that does not fit (or a rule of another shape) declines to the general
 * fast route, which declines to the exact one: the answer does not depend
 * on the route (sql/whatif_routes.sql, sql/whatif_distance_routes.sql).
 */
#ifndef ISOMARGIN_WHATIF_DISTANCE_H
#define ISOMARGIN_WHATIF_DISTANCE_H

#include "fast.h"
#include "rule.h"

#define DISTANCE_DECLINED (-1)

/* the rule this route takes: a linear contract, one bracket, A = 0, mark basis, no tick */
static pg_attribute_always_inline bool
distance_rule_is_simple(const Rule *r)
{
	return !r->inverse && r->f_schedule.nbrackets == 1 && r->f_schedule.conv == 0 &&
		r->f_schedule.brackets[0].amount.v == 0 && r->f_tick.v == 0;
}

/* x * 10^k (0 <= k <= 18) in an int64, false on overflow */
static pg_attribute_always_inline bool
distance_up(int64 x, int k, int64 *out)
{
	return !__builtin_mul_overflow(x, isomargin_pow10_64[k], out);
}

/*
 * The distance of p at the mark under a rule that distance_rule_is_simple
 * takes, r' = rate_fee: 1 with *out set, 0 when there is no liquidation
 * price (NULL), DISTANCE_DECLINED for the general fast route.
 */
static pg_attribute_always_inline int
distance_simple(const FastPosition *p, Fix rate_fee, Fix mark, Fix *out)
{
	int64		s,
				a,
				se,
				m,
				num,
				side_r,
				den;
	int			se_s = p->s.s + p->entry.s,
				num_s = Max(se_s, p->margin.s),
				den_s = p->a.s + rate_fee.s,
				k = Max(MARGIN_PRICE_MIN_SCALE, p->entry.s),
				e = k + den_s - num_s,
				d_s = Max(k, mark.s);
	int128		x,
				y,
				lp;

	/* entry, margin and mark are read as int64 coefficients; s and a are products */
	if (unlikely(!scaled_fits64(p->s.v) || !scaled_fits64(p->a.v) ||
				 !scaled_fits64(rate_fee.v) || rate_fee.s > 18 ||
				 num_s - se_s > 18 || num_s - p->margin.s > 18 || e > 18 || e < -18))
		return DISTANCE_DECLINED;
	s = (int64) p->s.v;
	a = (int64) p->a.v;
	if (unlikely(__builtin_mul_overflow(s, (int64) p->entry.v, &se) ||
				 !distance_up(se, num_s - se_s, &se) ||
				 !distance_up((int64) p->margin.v, num_s - p->margin.s, &m) ||
				 __builtin_sub_overflow(se, m, &num) ||
				 __builtin_sub_overflow((int64) p->side * isomargin_pow10_64[rate_fee.s],
										(int64) rate_fee.v, &side_r) ||
				 __builtin_mul_overflow(a, side_r, &den)))
		return DISTANCE_DECLINED;
	/* no positive solution (a zero size among them): no liquidation price */
	if (num == 0 || den == 0 || (num < 0) != (den < 0))
		return 0;
	x = num;
	y = den;
	if (e > 0)
		x = (int128) num * isomargin_pow10_64[e];
	else if (e < 0)
		y = (int128) den * isomargin_pow10_64[-e];
	lp = fix_div_int128(x, y, p->side > 0);
	/* |lp| < 2^127 / 10^18 when it fits an int64; the mark's coefficient is an int64 */
	if (unlikely(!scaled_fits64(lp)))
		return DISTANCE_DECLINED;
	x = (int128) (int64) lp * isomargin_pow10_64[d_s - k];
	y = (int128) (int64) mark.v * isomargin_pow10_64[d_s - mark.s];
	*out = fix_make(p->side > 0 ? y - x : x - y, d_s);
	return 1;
}

#endif
