/*
 * quick.h
 *	  The quick route of liquidation_price and bankruptcy_price.
 *
 * Once the rule arguments (kind, contract_size, mmr or tiers, fee_rate,
 * tick_size) are read (each parsed once per distinct value at a call site),
 * the position's arguments are read straight from their datums and the
 * price computed in 128-bit integers, with the formulas and the rounding of
 * margin.c.  Any input the quick route
 * cannot take (a number of more than 18 digits or 18 decimals, an
 * intermediate that would overflow, an invalid value that needs its error
 * message) makes it decline, and the caller takes the general route, which
 * gives the same answer for everything the quick route accepts.
 */
#ifndef ISOMARGIN_QUICK_H
#define ISOMARGIN_QUICK_H

#include "fmgr.h"

#include "margin.h"

typedef struct QuickRule
{
	bool		inverse;
	Dec			contract_size;
	Dec			tick;			/* 0: none */
	const MarginSchedule *schedule; /* NULL: bankruptcy price (no rate) */
} QuickRule;

/*
 * The liquidation price (schedule != NULL) or the bankruptcy price of the
 * position in arguments size_arg, entry_arg, margin_arg.  Returns false to
 * decline; otherwise *result, or *isnull when there is no such price.
 */
extern bool quick_threshold_price(FunctionCallInfo fcinfo, const QuickRule *rule,
								  int size_arg, int entry_arg, int margin_arg,
								  Datum *result, bool *isnull);

#endif
