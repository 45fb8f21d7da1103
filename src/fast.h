/*
 * fast.h
 *	  The fast route: the formulas of formulas_template.h over Fix (fixed.h).
 *
 * Defines FastBracket, FastSchedule, FastPosition and fast_position_init,
 * fast_notional, ..., fast_threshold_price, fast_bankruptcy_price, each
 * inlined where it is called and taking a last argument `bool *ok`, which an
 * operation that would overflow clears: the caller then declines to the
 * exact route (margin.h), which gives the same answer for everything both
 * routes take.
 */
#ifndef ISOMARGIN_FAST_H
#define ISOMARGIN_FAST_H

#include "fixed.h"
#include "formulas.h"

#define FT_PREFIX fast
#define FT_TYPE_PREFIX Fast
#define FT_NUM Fix
#define FT_CTX_DECL , bool *ok
#define FT_CTX , ok
#define FT_ADD(a, b) fix_add(a, b, ok)
#define FT_SUB(a, b) fix_sub(a, b, ok)
#define FT_MUL(a, b) fix_mul(a, b, ok)
#define FT_NEG(a) fix_neg(a, ok)
#define FT_SIGN(a) fix_sign(a)
#define FT_CMP(a, b) fix_cmp(a, b, ok)
#define FT_LE(a, b) fix_le(a, b, ok)
#define FT_GE(a, b) fix_le(b, a, ok)
#define FT_INT(i) fix_make(i, 0)
#define FT_IS_ONE(a) ((a).v == 1 && (a).s == 0)
#define FT_IS_ZERO(a) ((a).v == 0)
#define FT_SAME_SIGN(a, b) ((a).v != 0 && ((a).v < 0) == ((b).v < 0) && (b).v != 0)
#define FT_SCALE(a) ((a).s)
#define FT_DIV(num, den, scale, up) fix_div(num, den, scale, up, ok)
#define FT_DIV_TICK(num, den, tick, up) fix_div_tick(num, den, tick, up, ok)
#define FT_UNIT(k) fix_make(1, k)
#define FT_WALK_BROKEN() do { *ok = false; return false; } while (0)
#define FT_SCOPE static pg_attribute_always_inline
#include "formulas_template.h"

#endif
