/*
 * formulas.h
 *	  What both routes of the formulas share: the rounding rule's scales and
 *	  the maintenance check's statuses.
 *
 * Formulas and conventions: doc/formulas.md (from the domain reference).
 * Inputs are assumed valid (rule.c and the callers check them); results
 * that need a division are rounded once, at the end, in the direction that
 * is conservative for risk:
 *	 - prices (liquidation, margin call, bankruptcy): up for longs, down for
 *	   shorts, to max(MARGIN_PRICE_MIN_SCALE, scale of the entry price)
 *	   decimals, or to a whole tick when a tick size > 0 is given;
 *	 - amounts and ratios that need a division: MARGIN_QUOTIENT_SCALE
 *	   decimals; requirements (notional, initial and maintenance margin,
 *	   margin ratio) up, gains (unrealized PnL, equity) down.
 * Exact results (linear notional, PnL, equity, maintenance margin) keep
 * numeric's exact scale.  The maintenance check is always exact.
 */
#ifndef ISOMARGIN_FORMULAS_H
#define ISOMARGIN_FORMULAS_H

#include "postgres.h"

#define MARGIN_PRICE_MIN_SCALE	8
#define MARGIN_QUOTIENT_SCALE	16

typedef enum MarginStatus
{
	MARGIN_OK = 0,
	MARGIN_CALL,
	MARGIN_LIQUIDATE,
	MARGIN_BANKRUPT
} MarginStatus;

/*
 * Venue conventions (doc/venues.md): bits of a schedule's `conv`; 0 is the
 * mark basis of doc/formulas.md, which every default follows.
 */
#define MARGIN_CONV_MM_ENTRY		0x01	/* maintenance, and a fee with it, on N(E) */
#define MARGIN_CONV_FEE_BANKRUPTCY	0x02	/* the fee to close on N(BP) */
#define MARGIN_CONV_BY_CONTRACTS	0x04	/* the bracket of |q| in contracts */
#define MARGIN_CONV_BRACKET_ENTRY	0x08	/* the bracket of N(E) */
/* the conventions under which the bracket does not move with the price */
#define MARGIN_CONV_FIXED_BRACKET \
	(MARGIN_CONV_MM_ENTRY | MARGIN_CONV_BY_CONTRACTS | MARGIN_CONV_BRACKET_ENTRY)

#endif
