/*
 * scaled.h
 *	  Scaled integers, the bottom floor of the arithmetic: powers of ten and
 *	  the checked rescaling of an int128 coefficient.
 *
 * A decimal is coef * 10^-scale; bringing it to a larger scale multiplies
 * the coefficient by a power of ten, which may overflow.  The numeric codec,
 * the exact route (decimal.h) and the fast route (fixed.h) share these.
 */
#ifndef ISOMARGIN_SCALED_H
#define ISOMARGIN_SCALED_H

#include "postgres.h"

extern const int128 isomargin_pow10[39];
extern const int64 isomargin_pow10_64[19];

static pg_attribute_always_inline bool
scaled_fits64(int128 v)
{
	return v == (int128) (int64) v;
}

/* coef * 10^k, false on overflow */
static pg_attribute_always_inline bool
scaled_up(int128 coef, int k, int128 *out)
{
	if (likely(k == 0))
	{
		*out = coef;
		return true;
	}
	if (likely(k <= 18 && scaled_fits64(coef)))
	{
		/* |coef| < 2^63 and 10^k < 2^63: one 64x64 multiply, and it fits */
		*out = (int128) (int64) coef * isomargin_pow10_64[k];
		return true;
	}
	if (k > 38)
	{
		*out = 0;
		return coef == 0;
	}
	return !__builtin_mul_overflow(coef, isomargin_pow10[k], out);
}

#endif
