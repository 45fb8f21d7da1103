/*
 * decimal.h
 *	  Exact decimal arithmetic for the margin formulas.
 *
 * A Dec is coef * 10^-scale held in an int128 while it fits; every operation
 * checks for overflow and, when a value does not fit, carries on with the
 * same value as a PostgreSQL numeric.  Both routes give identical results,
 * including the display scale: a sum has the larger scale of its operands,
 * a product the sum of their scales, exactly as numeric's + and * do.
 * Division happens once per figure, in dec_div_round, at a scale and in a
 * direction the caller chooses.
 *
 * Exact or refused: numeric's own multiplication rounds a product of more
 * than DEC_MAX_SCALE decimals, so a product that would have more is refused
 * (22003 naming the figure) before it is computed; so is a quotient beyond
 * numeric's range.  Nothing is ever rounded but by dec_div_round's rule.
 */
#ifndef ISOMARGIN_DECIMAL_H
#define ISOMARGIN_DECIMAL_H

#include "postgres.h"
#include "utils/numeric.h"

#include "numeric_codec.h"
#include "scaled.h"

/* The most decimals a value may have: numeric's (NUMERIC_DSCALE_MAX). */
#define DEC_MAX_SCALE	NC_DSCALE_MAX

/*
 * Arguments of at most this many decimals each always give exact figures:
 * the longest product of the formulas (the bracket walk of a margin-call
 * price, a * (c*s*E - ...)) adds the decimals of six arguments (size and
 * contract_size twice, margin_call_ratio, entry_price), and the tiers'
 * values have 18 at most: 6 * 2000 + 18 < DEC_MAX_SCALE.  A tick's
 * decimals never add (dec_div_round_tick).  doc/formulas.md states it.
 */
#define DEC_ARG_SCALE_EXACT 2000

typedef struct Dec
{
	int128		coef;			/* value = coef * 10^-scale, when big == NULL */
	int			scale;			/* display scale, >= 0 (with big: the input's, or 0) */
	Numeric		big;			/* non-NULL: the value as a numeric */
} Dec;

typedef enum DecRound
{
	DEC_FLOOR,					/* toward -infinity */
	DEC_CEIL					/* toward +infinity */
} DecRound;

extern Dec	dec_from_numeric(Numeric n, int dscale);	/* finite only */
extern Numeric dec_to_numeric(Dec a);

/* The numeric route of each operation, for values that do not fit. */
extern Dec	dec_add_slow(const Dec *a, const Dec *b) __attribute__((cold));
extern Dec	dec_mul_slow(const Dec *a, const Dec *b) __attribute__((cold));
extern Dec	dec_neg_slow(const Dec *a) __attribute__((cold));
extern int	dec_sign_slow(const Dec *a) __attribute__((cold));
extern int	dec_cmp_slow(const Dec *a, const Dec *b) __attribute__((cold));

/*
 * The figure being computed, named in the error raised when a value exceeds
 * numeric's range ("liquidation_price is out of range for type numeric"):
 * an error context entry that adds no CONTEXT line of its own, pushed by
 * whoever computes a figure on the exact route and popped after it.
 */
extern void dec_figure_callback(void *arg);

static inline void
dec_figure_push(ErrorContextCallback *cb, const char *figure)
{
	cb->callback = dec_figure_callback;
	cb->arg = unconstify(char *, figure);
	cb->previous = error_context_stack;
	error_context_stack = cb;
}

static inline void
dec_figure_pop(ErrorContextCallback *cb)
{
	error_context_stack = cb->previous;
}

static pg_attribute_always_inline Dec
dec_make(int128 coef, int scale)
{
	Dec			r;

	r.coef = coef;
	r.scale = scale;
	r.big = NULL;
	return r;
}

static pg_attribute_always_inline Dec
dec_from_int(int64 v)
{
	return dec_make(v, 0);
}

static pg_attribute_always_inline Dec
dec_add(Dec a, Dec b)
{
	if (likely(!a.big && !b.big))
	{
		int			s = Max(a.scale, b.scale);
		int128		x,
					y,
					r;

		if (likely(scaled_up(a.coef, s - a.scale, &x) &&
				   scaled_up(b.coef, s - b.scale, &y) &&
				   !__builtin_add_overflow(x, y, &r)))
			return dec_make(r, s);
	}
	return dec_add_slow(&a, &b);
}

static pg_attribute_always_inline Dec
dec_neg(Dec a)
{
	if (likely(!a.big && a.coef != (int128) (((uint128) 1) << 127)))
		return dec_make(-a.coef, a.scale);
	return dec_neg_slow(&a);
}

static pg_attribute_always_inline Dec
dec_sub(Dec a, Dec b)
{
	if (likely(!a.big && !b.big))
	{
		int			s = Max(a.scale, b.scale);
		int128		x,
					y,
					r;

		if (likely(scaled_up(a.coef, s - a.scale, &x) &&
				   scaled_up(b.coef, s - b.scale, &y) &&
				   !__builtin_sub_overflow(x, y, &r)))
			return dec_make(r, s);
	}
	return dec_add(a, dec_neg(b));
}

static pg_attribute_always_inline Dec
dec_mul(Dec a, Dec b)
{
	/* scales are small on this route; the check keeps it exact whatever comes */
	if (likely(!a.big && !b.big && a.scale + b.scale <= DEC_MAX_SCALE))
	{
		int128		r;

		if (likely(scaled_fits64(a.coef) && scaled_fits64(b.coef)))
			return dec_make((int128) (int64) a.coef * (int64) b.coef, a.scale + b.scale);
		if (!__builtin_mul_overflow(a.coef, b.coef, &r))
			return dec_make(r, a.scale + b.scale);
	}
	return dec_mul_slow(&a, &b);
}

static pg_attribute_always_inline int
dec_sign(Dec a)
{
	if (likely(!a.big))
		return (a.coef > 0) - (a.coef < 0);
	return dec_sign_slow(&a);
}

static pg_attribute_always_inline Dec
dec_abs(Dec a)
{
	return dec_sign(a) < 0 ? dec_neg(a) : a;
}

/* exactly 1 with display scale 0 (the common "no multiplier" case) */
static pg_attribute_always_inline bool
dec_is_one(Dec a)
{
	return !a.big && a.coef == 1 && a.scale == 0;
}

static pg_attribute_always_inline bool
dec_is_zero(Dec a)
{
	return dec_sign(a) == 0;
}

static pg_attribute_always_inline int
dec_cmp(Dec a, Dec b)
{
	if (likely(!a.big && !b.big))
	{
		int			s = Max(a.scale, b.scale);
		int128		x,
					y;

		if (likely(scaled_up(a.coef, s - a.scale, &x) &&
				   scaled_up(b.coef, s - b.scale, &y)))
			return (x > y) - (x < y);
	}
	return dec_cmp_slow(&a, &b);
}

/* num / den rounded to `scale` decimals in direction `mode`; den != 0. */
extern Dec	dec_div_round(Dec num, Dec den, int scale, DecRound mode);

/*
 * num / den rounded to a whole multiple of tick (> 0) in direction `mode`;
 * the result has the tick's scale, and the tick's decimals never add to
 * those of an intermediate value.
 */
extern Dec	dec_div_round_tick(Dec num, Dec den, Dec tick, DecRound mode);

#endif
