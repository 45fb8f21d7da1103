/*
 * tiers.h
 *	  isomargin.tiers: a schedule of maintenance margin brackets.
 *
 * Grammar, JSON formats and invariants: doc/tiers.md.
 *
 * Every decimal of a schedule is held exactly as coef * 10^-scale with
 * 0 <= coef < 10^18 and 0 <= scale <= 18, normalized (no trailing zero in
 * the fraction), so one value has exactly one representation and equality
 * is a byte comparison.  The on-disk value is a varlena header, the
 * number of brackets, then one fixed-size TiersBracket per bracket.
 */
#ifndef ISOMARGIN_TIERS_H
#define ISOMARGIN_TIERS_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

#include "decimal.h"

#define TIERS_MAX_BRACKETS	64
#define TIERS_MAX_SCALE		18
#define TIERS_COEF_LIMIT	INT64CONST(1000000000000000000)	/* 10^18 */
#define TIERS_EXP_DIGITS	15	/* an exponent's digits read as a number */

typedef enum TiersField
{
	TIERS_FLOOR = 0,			/* F_i: notional floor */
	TIERS_CAP,					/* C_i: notional cap (= F_{i+1}) */
	TIERS_MMR,					/* r_i: maintenance margin rate */
	TIERS_AMOUNT,				/* A_i: maintenance amount */
	TIERS_LEVERAGE,				/* maximum leverage */
	TIERS_NFIELDS
} TiersField;

typedef struct TiersBracket
{
	int64		coef[TIERS_NFIELDS];
	uint8		scale[TIERS_NFIELDS];
	uint8		pad[3];			/* always zero */
} TiersBracket;

typedef struct Tiers
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		nbrackets;		/* 1 .. TIERS_MAX_BRACKETS */
	TiersBracket brackets[FLEXIBLE_ARRAY_MEMBER];
} Tiers;

/*
 * How a schedule's maintenance amounts were set (doc/tiers.md), kept in the
 * first bracket's pad[0], so that every value stored before it existed
 * reads as TIERS_AMOUNTS_DERIVED:
 *	 DERIVED  A_1 = 0, A_i = A_(i-1) + F_i * (r_i - r_(i-1)): MM continuous
 *	 GIVEN    the venue's own amounts, 0 <= A_i <= F_i * r_i
 *	 NONE     step tiers: every A_i = 0, the rate on the whole notional
 */
#define TIERS_AMOUNTS_DERIVED	0
#define TIERS_AMOUNTS_GIVEN		1
#define TIERS_AMOUNTS_NONE		2
#define TIERS_AMOUNTS(t)		((t)->brackets[0].pad[0])

#define TIERS_SIZE(n)		(offsetof(Tiers, brackets) + sizeof(TiersBracket) * (n))
#define DatumGetTiersP(X)	((Tiers *) PG_DETOAST_DATUM(X))
#define PG_GETARG_TIERS_P(n) DatumGetTiersP(PG_GETARG_DATUM(n))
#define PG_RETURN_TIERS_P(x) PG_RETURN_POINTER(x)

/*
 * A schedule being read (text, binary, jsonb): values as given, not yet
 * checked.  has_amount[i] false: A_i is derived.
 */
typedef struct TiersDraft
{
	int			nbrackets;
	TiersBracket brackets[TIERS_MAX_BRACKETS];
	bool		has_amount[TIERS_MAX_BRACKETS];
	int			amounts;		/* TIERS_AMOUNTS_* */
} TiersDraft;

typedef enum TiersNumStatus
{
	TIERS_NUM_OK,
	TIERS_NUM_SYNTAX,			/* not a decimal number */
	TIERS_NUM_RANGE				/* 18 significant digits or 18 decimals exceeded */
} TiersNumStatus;

/*
 * Parse an unsigned decimal at *s: digits ['.' digits] [('e'|'E') [+-]
 * digits].  *end is set past the longest prefix that looks like a number.
 * The value decides, exactly, whatever the length of the digits or the
 * exponent: TIERS_NUM_RANGE when it does not fit, 0 for any zero.
 */
extern TiersNumStatus tiers_parse_number(const char *s, const char **end,
										 int64 *coef, uint8 *scale);
/* Normalize coef * 10^-scale (any sign, scale >= 0); false if it does not fit. */
extern bool tiers_normalize(int128 coef, int scale, int64 *out_coef, uint8 *out_scale);
/* The normalized form of a finite numeric's value; false if it does not fit. */
extern bool tiers_from_numeric(Numeric n, int64 *coef, uint8 *scale);
extern void tiers_append_value(StringInfo buf, int64 coef, int scale);
extern char *tiers_value_text(int64 coef, int scale);

static inline Dec
tiers_dec(const TiersBracket *b, TiersField f)
{
	return dec_make(b->coef[f], b->scale[f]);
}

/*
 * Check every invariant of a draft and derive missing amounts.  Returns the
 * finished value, or NULL with *detail set to a sentence naming the first
 * rule broken.
 */
extern Tiers *tiers_build(const TiersDraft *draft, char **detail);

/* Index (0-based) of the bracket holding notional n >= 0: F_i < n <= C_i, 0 in the first. */
extern int	tiers_bracket_index(const Tiers *t, Dec n);

/*
 * Index of the last bracket whose max_leverage is at least `leverage` (the
 * brackets up to it all allow it: max_leverage never increases), or -1 when
 * even the first one's is lower (tiers_lookup.c).
 */
extern int	tiers_leverage_bracket(const Tiers *t, Dec leverage);

#endif
