/*
 * margin.h
 *	  The isolated-margin engine: every figure of one position, exactly.
 *
 * Formulas and conventions: doc/formulas.md (from the domain reference).
 * Inputs are assumed valid (args.c and the tiers type check them); results
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
#ifndef ISOMARGIN_MARGIN_H
#define ISOMARGIN_MARGIN_H

#include "decimal.h"

#define MARGIN_PRICE_MIN_SCALE	8
#define MARGIN_QUOTIENT_SCALE	16

typedef enum MarginStatus
{
	MARGIN_OK = 0,
	MARGIN_CALL,
	MARGIN_LIQUIDATE,
	MARGIN_BANKRUPT
} MarginStatus;

/* One position: size in contracts (signed), entry price, isolated margin. */
typedef struct MarginPosition
{
	Dec			size;			/* q: > 0 long, < 0 short */
	Dec			entry;			/* E > 0 */
	Dec			margin;			/* M >= 0 */
	Dec			contract_size;	/* cs > 0 */
	bool		inverse;
	/* derived by margin_position_init */
	int			side;			/* sign of q */
	Dec			s;				/* q * cs */
	Dec			a;				/* |q| * cs */
} MarginPosition;

/*
 * Bracket i applies to notionals N with floor < N <= next bracket's floor
 * (bracket 0 also to N = 0; the last one to every larger N).
 */
typedef struct MarginBracket
{
	Dec			floor;			/* F_i, 0 for the first bracket */
	Dec			rate;			/* maintenance margin rate r_i */
	Dec			amount;			/* maintenance amount A_i */
	Dec			rate_fee;		/* r_i + f, set by margin_schedule_finish */
} MarginBracket;

typedef struct MarginSchedule
{
	int			nbrackets;		/* >= 1 */
	Dec			fee;			/* f: taker fee rate to close */
	MarginBracket *brackets;
} MarginSchedule;

static inline void
margin_position_init(MarginPosition *p, Dec size, Dec entry, Dec margin,
					 Dec contract_size, bool inverse)
{
	p->size = size;
	p->entry = entry;
	p->margin = margin;
	p->contract_size = contract_size;
	p->inverse = inverse;
	p->side = dec_sign(size);
	p->s = dec_mul(size, contract_size);
	p->a = p->side < 0 ? dec_neg(p->s) : p->s;
}

/* A one-bracket schedule (flat mmr, A = 0); `bracket` is caller storage. */
extern void margin_schedule_flat(MarginSchedule *s, MarginBracket *bracket,
								 Dec mmr, Dec fee);
/* Sets rate_fee of every bracket once the brackets and fee are filled in. */
extern void margin_schedule_finish(MarginSchedule *s);
/* Index of the bracket that holds notional n (exact). */
extern int	margin_bracket_of(const MarginSchedule *s, Dec n);

extern Dec	margin_notional(const MarginPosition *p, Dec price);
extern Dec	margin_unrealized_pnl(const MarginPosition *p, Dec mark);
extern Dec	margin_equity(const MarginPosition *p, Dec mark);
extern Dec	margin_initial(const MarginPosition *p, Dec price, Dec leverage);
extern Dec	margin_maintenance(const MarginPosition *p, const MarginSchedule *s, Dec mark);
/* false when equity <= 0 (ratio undefined, SQL NULL); 0 for a zero size */
extern bool margin_ratio_at(const MarginPosition *p, const MarginSchedule *s, Dec mark, Dec *out);
/* the maintenance check at mark, exact (doc/formulas.md) */
extern MarginStatus margin_check(const MarginPosition *p, const MarginSchedule *s,
								  Dec mark, Dec call_ratio);

/*
 * The price where call_ratio * equity = maintenance margin, with the
 * bracket of the notional at that same price (tier-consistent root);
 * call_ratio = 1 gives the liquidation price.  false when there is none
 * (zero size, never reached at a positive price).  tick: 0 for none.
 */
extern bool margin_threshold_price(const MarginPosition *p, const MarginSchedule *s,
								   Dec call_ratio, Dec tick, Dec *out);
extern bool margin_bankruptcy_price(const MarginPosition *p, Dec tick, Dec *out);

#endif
