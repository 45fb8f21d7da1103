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
/*
 * The lane (quick_lane.c): liquidation_price with the tick a constant zero
 * and either a flat mmr or a constant tiers value, the rule as int64
 * coefficients, read per row through a cache (quick_lane_rule) or kept when
 * its arguments are constants.
 */
typedef struct QuickLaneBracket
{
	int64		floor;			/* notional floor, 0 for the first */
	int64		rf;				/* mmr + fee_rate, in [0, 1) */
	int64		amount;			/* maintenance amount */
	int8		floor_scale;
	int8		rf_scale;
	int8		amount_scale;
} QuickLaneBracket;

typedef struct QuickLaneRule
{
	bool		inverse;
	int			cs_scale;
	int64		cs;				/* contract_size > 0 */
	int			nbrackets;
	const QuickLaneBracket *brackets;	/* NULL: the one bracket `flat` */
	QuickLaneBracket flat;
} QuickLaneRule;

/*
 * The rules seen at a call site, by the bytes of their arguments: a book
 * holds a handful of instruments, and comparing a few machine words costs
 * less than reading three numerics.  Direct-mapped; a slot holds the rule of
 * the last key that hashed there.
 */
#define QUICK_LANE_SLOTS 64

typedef struct QuickLaneSlot
{
	uint64		cs_key;			/* 0: empty (no key is 0: its first byte is a varlena header) */
	uint64		rate_key;		/* with tiers: 0 for a constant, else a digest of its bytes */
	uint64		fee_key;
	Oid			kind;
	QuickLaneRule rule;
	QuickLaneBracket *tiers;	/* with tiers: room for TIERS_MAX_BRACKETS, in fn_mcxt */
	struct varlena *tiers_value;	/* a tiers value that is not a constant: its bytes, in fn_mcxt */
	Size		tiers_value_room;
} QuickLaneSlot;

typedef struct QuickLaneCache
{
	bool		tiers;			/* the rate argument is a tiers value */
	bool		tiers_const;	/* ... and a constant */
	QuickLaneSlot slot[QUICK_LANE_SLOTS];
} QuickLaneCache;

/*
 * liquidation_price through the lane: the rule of this row from the cache,
 * or read and checked from its datums (kind, contract_size, mmr or the tiers
 * value, fee_rate), then the price.  false to decline: quick.c or the
 * general route gives the answer, or the error.  linear_oid and
 * inverse_oid: the contract_kind labels known so far (InvalidOid: not yet).
 */
extern bool quick_lane_liquidation_price(FunctionCallInfo fcinfo, QuickLaneCache *cache,
										 Oid linear_oid, Oid inverse_oid,
										 Datum *result, bool *isnull);

/*
 * x / y rounded up (toward +infinity) or down (toward -infinity); y != 0 and
 * not (x == INT128_MIN and y == -1).  A quotient that fits in 64 bits takes
 * one 64-bit divide.
 */
static pg_attribute_always_inline int128
quick_div_round(int128 x, int128 y, bool up)
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

extern bool quick_threshold_price(FunctionCallInfo fcinfo, const QuickRule *rule,
								  int size_arg, int entry_arg, int margin_arg,
								  Datum *result, bool *isnull);

#endif
