/*
 * liquidity_curve.h
 *	  An instrument's liquidity curve (doc/dynamic.md): liquidity_addon of a
 *	  position as a function of its size, for one book snapshot at one mark,
 *	  as install/33_liquidity_watch.sql's liquidity_curve builds it.
 *
 * Closing q contracts against one side of the book costs, at the mark the
 * curve was built at, a piecewise linear function of q: each level a piece
 * (its slippage the slope), beyond the book's depth the worst slippage plus
 * the penalty.  The curve holds the pieces, so the rate of a size is one
 * piece's cost over the notional, rounded up to 6 decimals: the digits of
 * liquidity_addon at that mark, in O(log levels).
 */
#ifndef ISOMARGIN_LIQUIDITY_CURVE_H
#define ISOMARGIN_LIQUIDITY_CURVE_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "decimal.h"

/* One side's pieces: from[k] <= q < from[k+1] costs cost[k] + (q - from[k]) * slope[k]. */
typedef struct LiquiditySide
{
	int			n;
	Dec		   *from;			/* from[0] = 0, strictly increasing */
	Dec		   *cost;
	Dec		   *slope;
} LiquiditySide;

typedef struct LiquidityCurve
{
	bool		inverse;
	Dec			mark;			/* the mark it was built at */
	LiquiditySide side[2];		/* [0]: bids (closes a long), [1]: asks (closes a short) */
} LiquidityCurve;

/*
 * Reads a curve; what it is named in messages (`name`, e.g. "column
 * \"liquidity_curve\" of table \"instruments\"") and, for the detail, where
 * it comes from (`source`, may be "").  22023 when it is not a curve.
 */
extern void liquidity_curve_read(Jsonb *curve, const char *name, const char *source,
								 LiquidityCurve *out);

/* The add-on rate of a position of `size` contracts (signed): 6 decimals, 0 for 0. */
extern Dec	liquidity_curve_rate(const LiquidityCurve *curve, Dec size);

#endif
