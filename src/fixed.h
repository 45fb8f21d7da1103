/*
 * fixed.h
 *	  The fast route's numbers: v * 10^-s in an int128, with every operation
 *	  that could overflow checked.
 *
 * The same value semantics as Dec (decimal.h), display scale included: a
 * sum has the larger scale of its terms, a product the sum of its factors'
 * scales, a quotient the scale asked for.  Where Dec carries on in numeric
 * arithmetic, a Fix operation clears *ok instead and the caller declines to
 * the exact route, which gives the same answer for everything both take.
 * Inputs come from numeric_codec_read_int64 (at most 18 digits and 18
 * decimals), so most products are one 64x64 multiply.
 */
#ifndef ISOMARGIN_FIXED_H
#define ISOMARGIN_FIXED_H

#include "scaled.h"

typedef struct Fix
{
	int128		v;
	int			s;
} Fix;

static pg_attribute_always_inline Fix
fix_make(int128 v, int s)
{
	Fix			r;

	r.v = v;
	r.s = s;
	return r;
}

static pg_attribute_always_inline Fix
fix_rescale(Fix a, int s, bool *ok)
{
	int128		r;

	if (likely(s == a.s))
		return a;
	if (!scaled_up(a.v, s - a.s, &r))
	{
		*ok = false;
		r = 0;
	}
	return fix_make(r, s);
}

static pg_attribute_always_inline Fix
fix_mul(Fix a, Fix b, bool *ok)
{
	int128		r;

	if (likely(scaled_fits64(a.v) && scaled_fits64(b.v)))
		return fix_make((int128) (int64) a.v * (int64) b.v, a.s + b.s);
	if (__builtin_mul_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return fix_make(r, a.s + b.s);
}

static pg_attribute_always_inline Fix
fix_add(Fix a, Fix b, bool *ok)
{
	int			s = Max(a.s, b.s);
	int128		r;

	a = fix_rescale(a, s, ok);
	b = fix_rescale(b, s, ok);
	if (__builtin_add_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return fix_make(r, s);
}

static pg_attribute_always_inline Fix
fix_sub(Fix a, Fix b, bool *ok)
{
	int			s = Max(a.s, b.s);
	int128		r;

	a = fix_rescale(a, s, ok);
	b = fix_rescale(b, s, ok);
	if (__builtin_sub_overflow(a.v, b.v, &r))
	{
		*ok = false;
		r = 0;
	}
	return fix_make(r, s);
}

static pg_attribute_always_inline Fix
fix_neg(Fix a, bool *ok)
{
	if (unlikely(a.v == (int128) (((uint128) 1) << 127)))
		*ok = false;
	return fix_make(-a.v, a.s);
}

/* from the halves: cheaper than two 128-bit comparisons */
static pg_attribute_always_inline int
fix_sign(Fix a)
{
	int64		hi = (int64) (a.v >> 64);

	return hi < 0 ? -1 : (hi | (int64) (uint64) a.v) != 0;
}

static pg_attribute_always_inline int
fix_cmp(Fix a, Fix b, bool *ok)
{
	int			s = Max(a.s, b.s);

	a = fix_rescale(a, s, ok);
	b = fix_rescale(b, s, ok);
	return (a.v > b.v) - (a.v < b.v);
}

/*
 * a <= b: fix_cmp(a, b, ok) <= 0 in one comparison of the coefficients
 * (the three-way result costs two, and is not folded away)
 */
static pg_attribute_always_inline bool
fix_le(Fix a, Fix b, bool *ok)
{
	int			s = Max(a.s, b.s);

	a = fix_rescale(a, s, ok);
	b = fix_rescale(b, s, ok);
	return a.v <= b.v;
}

/*
 * x / y rounded up (toward +infinity) or down (toward -infinity); y != 0 and
 * not (x == INT128_MIN and y == -1).  A quotient that fits in 64 bits takes
 * one 64-bit divide.
 */
static pg_attribute_always_inline int128
fix_div_int128(int128 x, int128 y, bool up)
{
	bool		negative = (x < 0) != (y < 0);
	uint128		ux = x < 0 ? -(uint128) x : (uint128) x;
	uint128		uy = y < 0 ? -(uint128) y : (uint128) y;
	uint128		uq;
	bool		inexact;
	int128		q;

#if defined(__x86_64__)
	if (likely(uy <= PG_UINT64_MAX && (uint64) (ux >> 64) < (uint64) uy))
	{
		/* one divq: the quotient fits in 64 bits */
		uint64		lo = (uint64) ux,
					hi = (uint64) (ux >> 64),
					qq,
					rr;

		__asm__("divq %4" : "=a"(qq), "=d"(rr) : "a"(lo), "d"(hi), "rm"((uint64) uy));
		uq = qq;
		inexact = rr != 0;
	}
	else
#endif
	{
		uq = ux / uy;
		inexact = ux % uy != 0;
	}
	q = negative ? -(int128) uq : (int128) uq;
	/* away from zero when that is the direction asked: without a branch (up varies by row) */
	return q + (int128) (inexact & (negative != up)) * (negative ? -1 : 1);
}

/*
 * x / y and its remainder for x >= 0 and y > 0 when the quotient fits 64
 * bits (x < y * 2^64): one divq; false when it does not.  For a caller that
 * knows both signs already (fix_div_int128 works them out).
 */
static pg_attribute_always_inline bool
fix_udiv64(uint128 x, uint64 y, uint64 *q, uint64 *r)
{
	uint64		lo = (uint64) x,
				hi = (uint64) (x >> 64);

	if (unlikely(hi >= y))
		return false;
#if defined(__x86_64__)
	__asm__("divq %4" : "=a"(*q), "=d"(*r) : "a"(lo), "d"(hi), "rm"(y));
#else
	*q = (uint64) (x / y);
	*r = (uint64) (x % y);
#endif
	return true;
}

/* num / den rounded to `scale` decimals, up or down (dec_div_round) */
static pg_attribute_always_inline Fix
fix_div(Fix num, Fix den, int scale, bool up, bool *ok)
{
	int			e = scale + den.s - num.s;
	int128		x = num.v,
				y = den.v;

	if (e > 0)
		x = fix_rescale(num, num.s + e, ok).v;
	else if (e < 0)
		y = fix_rescale(den, den.s - e, ok).v;
	if (unlikely(!*ok || y == 0))
	{
		*ok = false;
		return fix_make(0, scale);
	}
	return fix_make(fix_div_int128(x, y, up), scale);
}

/* num / den rounded to a whole multiple of tick > 0 (dec_div_round_tick) */
static pg_attribute_always_inline Fix
fix_div_tick(Fix num, Fix den, Fix tick, bool up, bool *ok)
{
	return fix_mul(fix_div(num, fix_mul(den, tick, ok), 0, up, ok), tick, ok);
}

#endif
