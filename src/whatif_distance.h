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
 * give, each checked, the price is one divq of their absolute values
 * (fix_udiv64) and the distance an int64 (the ratio one more divq).  Anything
 * that does not fit (or a rule of another shape) declines to the general
 * fast route, which declines to the exact one: the answer does not depend
 * on the route (sql/whatif_routes.sql, sql/whatif_distance_routes.sql).
 */
#ifndef ISOMARGIN_WHATIF_DISTANCE_H
#define ISOMARGIN_WHATIF_DISTANCE_H

#include "fast.h"
#include "rule.h"

#define DISTANCE_DECLINED (-1)

/*
 * The rule this route takes: a linear contract, one bracket, the mark basis,
 * no tick.  The one bracket has no maintenance amount: the distance figures
 * take no maintenance_amount, and a schedule's first bracket has none
 * (doc/tiers.md: A_1 = 0, or given with 0 <= A_1 <= F_1 * r_1 = 0).
 */
static pg_attribute_always_inline bool
distance_rule_is_simple(const Rule *r)
{
	Assert(r->f_schedule.nbrackets != 1 || r->f_schedule.brackets[0].amount.v == 0);
	return !r->inverse && r->f_schedule.nbrackets == 1 && r->f_schedule.conv == 0 &&
		r->f_tick.v == 0;
}

/*
 * The distance of the position (size q, entry E > 0, margin M >= 0, each
 * the int64 coefficient and scale numeric_codec_read_int64 gives) at the
 * mark P > 0, under a rule that distance_rule_is_simple takes (contract
 * size cs, r' = rate_fee): 1 with the distance *d * 10^-*d_s, 0 when there
 * is no liquidation price (NULL), DISTANCE_DECLINED for the general fast
 * route.
 */
static pg_attribute_always_inline int
distance_simple(int64 q, int q_s, int64 e, int e_s, int64 m, int m_s, int64 p, int p_s,
				Fix cs, Fix rate_fee, int64 *d, int *d_s)
{
	int64		s = q,
				a,
				se,
				num,
				side_r,
				den;
	int			side = (q > 0) - (q < 0),
				s_s = q_s,
				se_s,
				num_s,
				den_s,
				k = Max(MARGIN_PRICE_MIN_SCALE, e_s),
				x_e;
	int64		lp_d,
				p_d;
	uint128		ux,
				uy;
	uint64		lp,
				rem;

	*d_s = Max(k, p_s);

	/* s = q*cs (scale: the sum), a = |s|, as fast_position_init */
	if (!(cs.v == 1 && cs.s == 0))
	{
		if (unlikely(!scaled_fits64(cs.v) || __builtin_mul_overflow(q, (int64) cs.v, &s) ||
					 s == PG_INT64_MIN))
			return DISTANCE_DECLINED;
		s_s = q_s + cs.s;
	}
	se_s = s_s + e_s;
	num_s = Max(se_s, m_s);
	den_s = s_s + rate_fee.s;
	x_e = k + den_s - num_s;
	/* |q| < 10^18 (numeric_codec_read_int64): s = q has a negation */
	if (unlikely(!scaled_fits64(rate_fee.v) || rate_fee.s > 18 ||
				 num_s - se_s > 18 || num_s - m_s > 18 || x_e > 18 || x_e < -18))
		return DISTANCE_DECLINED;
	a = s < 0 ? -s : s;
	/* num = s*E - M, den = a*(side - r'): solve_price with c = 1 */
	if (unlikely(__builtin_mul_overflow(s, e, &se) ||
				 __builtin_mul_overflow(se, isomargin_pow10_64[num_s - se_s], &se) ||
				 __builtin_mul_overflow(m, isomargin_pow10_64[num_s - m_s], &m) ||
				 __builtin_sub_overflow(se, m, &num) ||
				 __builtin_sub_overflow((int64) side * isomargin_pow10_64[rate_fee.s],
										(int64) rate_fee.v, &side_r) ||
				 __builtin_mul_overflow(a, side_r, &den)))
		return DISTANCE_DECLINED;
	/* no positive solution (a zero size among them): no liquidation price */
	if (num == 0 || den == 0 || (num < 0) != (den < 0))
		return 0;
	/*
	 * round_price: num/den > 0 to k decimals, up for a long, down for a
	 * short (fix_div), over their absolute values
	 */
	ux = num < 0 ? -(uint64) num : (uint64) num;
	uy = den < 0 ? -(uint64) den : (uint64) den;
	if (x_e > 0)
		ux = (uint128) (uint64) ux * (uint64) isomargin_pow10_64[x_e];
	else if (x_e < 0)
		uy = (uint128) (uint64) uy * (uint64) isomargin_pow10_64[-x_e];
	if (unlikely(uy > PG_UINT64_MAX || !fix_udiv64(ux, (uint64) uy, &lp, &rem) ||
				 lp >= (uint64) PG_INT64_MAX))
		return DISTANCE_DECLINED;
	lp += side > 0 && rem != 0;
	/* P - LP (long) or LP - P (short) at max(k, scale of P) */
	if (unlikely(__builtin_mul_overflow((int64) lp, isomargin_pow10_64[*d_s - k], &lp_d) ||
				 __builtin_mul_overflow(p, isomargin_pow10_64[*d_s - p_s], &p_d) ||
				 __builtin_sub_overflow(side > 0 ? p_d : lp_d, side > 0 ? lp_d : p_d, d)))
		return DISTANCE_DECLINED;
	return 1;
}

/*
 * The distance d * 10^-d_s as a fraction of the mark P, down, to
 * MARGIN_QUOTIENT_SCALE decimals (fast_liquidation_distance_ratio's
 * division): one 64x64-bit product and one divq, else fix_div.
 */
static pg_attribute_always_inline Fix
distance_ratio(int64 d, int d_s, int64 p, int p_s, bool *ok)
{
	int			x_e = MARGIN_QUOTIENT_SCALE + p_s - d_s;
	bool		negative = d < 0;
	uint64		q,
				rem;

	if (likely(x_e >= 0 && x_e <= 18) &&
		fix_udiv64((uint128) (negative ? -(uint64) d : (uint64) d) *
				   (uint64) isomargin_pow10_64[x_e], (uint64) p, &q, &rem))
		return fix_make(negative ? -((int128) q + (rem != 0)) : (int128) q, MARGIN_QUOTIENT_SCALE);
	return fix_div(fix_make(d, d_s), fix_make(p, p_s), MARGIN_QUOTIENT_SCALE, false, ok);
}

#endif
