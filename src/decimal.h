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
 */
#ifndef ISOMARGIN_DECIMAL_H
#define ISOMARGIN_DECIMAL_H

#include "postgres.h"
#include "utils/numeric.h"

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

extern Dec	dec_from_int(int64 v);
extern Dec	dec_from_numeric(Numeric n, int dscale);	/* finite only */
extern Numeric dec_to_numeric(Dec a);

extern Dec	dec_add(Dec a, Dec b);
extern Dec	dec_sub(Dec a, Dec b);
extern Dec	dec_mul(Dec a, Dec b);
extern Dec	dec_neg(Dec a);
extern Dec	dec_abs(Dec a);
extern int	dec_sign(Dec a);
extern int	dec_cmp(Dec a, Dec b);
extern bool dec_is_zero(Dec a);

/* num / den rounded to `scale` decimals in direction `mode`; den != 0. */
extern Dec	dec_div_round(Dec num, Dec den, int scale, DecRound mode);

/*
 * num / den rounded to a whole multiple of tick (> 0) in direction `mode`;
 * the result has the tick's scale.
 */
extern Dec	dec_div_round_tick(Dec num, Dec den, Dec tick, DecRound mode);

#endif
