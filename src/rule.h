/*
 * rule.h
 *	  A figure's rule: everything besides the position that decides it.
 *
 * Kind, contract size, the maintenance rule (a flat mmr or a tiers
 * schedule), the closing fee rate, the tick and the margin-call ratio are
 * read, checked and kept here, in one place, with one message per broken
 * rule, for the SQL functions (rule_of_call), the triggers and the reports
 * (rule_build).  A rule holds both forms the formulas take: Dec for the
 * exact route (margin.h) and, when every value fits, Fix for the fast route
 * (fast.h).
 */
#ifndef ISOMARGIN_RULE_H
#define ISOMARGIN_RULE_H

#include "fmgr.h"

#include "fast.h"
#include "margin.h"
#include "tiers.h"

/* Where a SQL function's rule arguments are; -1: the function has none. */
typedef struct RuleArgs
{
	int8		cs;
	int8		kind;
	int8		rate;			/* mmr (numeric) or tiers */
	int8		fee;
	int8		tick;
	int8		call_ratio;
	/* venue conventions (doc/venues.md): the first of up to RULE_CONV_NARGS arguments */
	int8		conv;
	uint8		conv_absent;	/* bit j: the function does not take convention j */
} RuleArgs;

/*
 * The convention arguments, in this order from RuleArgs.conv: mm_basis,
 * fee_basis, then with mmr maintenance_amount, with tiers tier_basis and
 * bracket_basis; those in conv_absent left out (maintenance_margin has no
 * entry price or margin for the first two).
 */
#define RULE_CONV_NARGS 4
#define RULE_CONV_AMOUNT 2		/* maintenance_amount's place (mmr) */

typedef struct Rule
{
	bool		inverse;
	Dec			contract_size;
	bool		has_schedule;
	MarginSchedule schedule;	/* its fee is set without a maintenance rule too */
	Dec			tick;			/* 0: none */
	Dec			call_ratio;		/* when the rule has one */
	/* the fast route's form: fast is false when a value does not fit a Fix */
	bool		fast;
	Fix			f_contract_size;
	FastSchedule f_schedule;
	Fix			f_tick;
	Fix			f_call_ratio;
	/*
	 * with a schedule: 1 and the call ratio less the highest bracket's
	 * r + f, the room a dynamic add-on must stay below (dynamic.c)
	 */
	Fix			f_addon_room[2];
	/* a flat mmr's one bracket; a tiers schedule's brackets are stored by the owner */
	MarginBracket flat;
	FastBracket f_flat;
} Rule;

/*
 * A rule's values as read, before their checks.  mmr or tiers (NULL: the
 * rule has no maintenance rule, as for the bankruptcy price).
 */
typedef struct RuleInput
{
	bool		inverse;
	Dec			contract_size;
	const Tiers *tiers;
	Dec			mmr;
	bool		has_mmr;
	Dec			fee;
	Dec			tick;
	Dec			call_ratio;
	bool		has_call_ratio;
	/* venue conventions (doc/venues.md) */
	int			conv;			/* MARGIN_CONV_* bits */
	Dec			maintenance_amount; /* with mmr: A, 0 unless given */
} RuleInput;

/*
 * How the values are named in errors: a SQL argument ("mmr") or a column
 * ('column "mmr" of table "instruments"'), and where they come from, for
 * the detail (" for instrument BTC"), asked for only when an error is raised.
 */
typedef struct RuleNames
{
	const char *contract_size;
	const char *rate;
	const char *fee;
	const char *tick;
	const char *call_ratio;
	const char *maintenance_amount;
	const char *tier_basis;
	char	   *(*source) (void *arg);	/* NULL: nothing to add */
	void	   *source_arg;
} RuleNames;

/*
 * Check every rule of `in` and fill *out (its brackets: caller storage of
 * tiers->nbrackets each, or NULL for a flat mmr).  22023 naming the value
 * for the first rule broken.
 */
extern void rule_build(const RuleInput *in, const RuleNames *names, Rule *out,
					   MarginBracket *brackets, FastBracket *f_brackets);

#define RULE_NARGS 6

/*
 * The rules seen at a call site, by the bytes of the arguments that vary
 * from call to call: a book holds a handful of instruments, and comparing a
 * few machine words costs less than reading and checking three numerics.
 * Two-way: a key's rule is in the slot its hash names or, when that one
 * was taken, in its partner (index ^ 1), looked at out of line, so that two
 * instruments of a book whose keys hash to one slot do not take each other's
 * place row after row (each time reading and checking the rule again).
 */
#define RULE_SLOTS 64
#define RULE_TIERS_CONSTS 8

typedef struct RuleSlot
{
	uint64		key[RULE_NARGS];	/* rule_keys */
	bool		filled;			/* key and rule are set */
	Rule		rule;
	int			room;			/* brackets of a tiers schedule, in fn_mcxt */
	MarginBracket *brackets;
	FastBracket *f_brackets;
	struct varlena *tiers_value;	/* a tiers argument that varies: its bytes, in fn_mcxt */
	Size		tiers_room;
} RuleSlot;

typedef struct RuleCache
{
	bool		rate_is_tiers;
	uint8		varies;			/* bit RULE_KEY_x: that argument is not a constant */
	bool		kept;			/* no argument varies, and slot[0] holds the rule */
	Oid			linear_oid;
	Oid			inverse_oid;
	RuleSlot	slot[RULE_SLOTS];
	/* venue conventions: which vary (bit j: argument conv + j), their labels' OIDs */
	uint8		conv_varies;
	Oid			conv_oids[RULE_CONV_NARGS][2];
	/*
	 * A tiers argument that varies among constants (a CASE over schedules):
	 * the constants' datums (arg_const_values), so that a call receiving
	 * one of them is keyed by its place, without reading its bytes.
	 */
	int			ntiers_consts;
	Datum		tiers_consts[RULE_TIERS_CONSTS];
} RuleCache;

/* In RuleCache.varies: a convention argument varies (its key bits join the kind's word). */
#define RULE_VARIES_CONV (1 << 6)

/*
 * A numeric datum of 4 to 8 bytes as one word: its first four bytes and its
 * last four (overlapping when shorter), the length being in the first ones,
 * so that equal words are equal bytes.  false for any other.
 */
static pg_attribute_always_inline bool
rule_numeric_key(Datum d, uint64 *key)
{
	const char *v = DatumGetPointer(d);
	uint32		lo,
				hi;
	int			n;

#ifndef WORDS_BIGENDIAN
	/*
	 * A 1-byte header of 4 to 8 bytes in one test: odd (short), and from 9
	 * to 17 (4..8 bytes; a TOAST pointer's header is 1), so that b - 9
	 * rotated right by one is 0..4 (an odd b sets its top bit).
	 */
	uint8		b = *(const uint8 *) v - 9;

	if (likely((uint8) (b >> 1 | b << 7) <= 4))
	{
		n = (b >> 1) + 4;
		memcpy(&lo, v, sizeof(lo));
		memcpy(&hi, v + n - sizeof(hi), sizeof(hi));
		*key = lo | (uint64) hi << 32;
		return true;
	}
#endif
	if (VARATT_IS_SHORT(v) && !VARATT_IS_EXTERNAL(v))
		n = (int) VARSIZE_SHORT(v);
	else if (VARATT_IS_4B_U(v))
		n = (int) VARSIZE(v);
	else
		return false;
	if (n < 4 || n > 8)
		return false;
	memcpy(&lo, v, sizeof(lo));
	memcpy(&hi, v + n - sizeof(hi), sizeof(hi));
	*key = lo | (uint64) hi << 32;
	return true;
}

/*
 * A tiers value neither compressed nor out of line: a digest of its length
 * and its first and last words (on a hit its bytes are compared in full).
 */
static pg_attribute_always_inline bool
rule_tiers_key(Datum d, uint64 *key)
{
	const char *v = DatumGetPointer(d);
	uint64		first,
				last;
	Size		n;

	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v) ||
		(n = VARSIZE_ANY(v)) < 2 * sizeof(uint64))
		return false;
	memcpy(&first, v, sizeof(first));
	memcpy(&last, v + n - sizeof(last), sizeof(last));
	*key = (first * UINT64CONST(0xD6E8FEB86659FD93) ^ last ^ n) | 1;
	return true;
}

/*
 * A varying tiers argument's key word: even, from its place, for one of the
 * call site's constants (the same datum is the same bytes while the plan
 * lives); odd, rule_tiers_key's digest, for any other value, whose bytes a
 * hit then compares in full.
 */
static pg_attribute_always_inline bool
rule_tiers_arg_key(const RuleCache *c, Datum d, uint64 *key)
{
	for (int j = 0; j < c->ntiers_consts; j++)
		if (d == c->tiers_consts[j])
		{
			*key = (uint64) (j + 1) << 1;
			return true;
		}
	return rule_tiers_key(d, key);
}

/* The position of each rule argument's key word, and its bit in RuleCache.varies. */
enum
{
	RULE_KEY_CS, RULE_KEY_KIND, RULE_KEY_RATE, RULE_KEY_FEE, RULE_KEY_TICK, RULE_KEY_CALL
};

/*
 * Each taken argument's word, in a written-out sequence: `args` is a
 * constant where this is inlined, and the untaken ones drop out.
 */
#define RULE_EACH_TAKEN(args, STEP) \
	do { \
		if ((args)->cs >= 0) STEP(RULE_KEY_CS); \
		if ((args)->kind >= 0) STEP(RULE_KEY_KIND); \
		if ((args)->rate >= 0) STEP(RULE_KEY_RATE); \
		if ((args)->fee >= 0) STEP(RULE_KEY_FEE); \
		if ((args)->tick >= 0) STEP(RULE_KEY_TICK); \
		if ((args)->call_ratio >= 0) STEP(RULE_KEY_CALL); \
	} while (0)

extern uint64 rule_conv_key(FunctionCallInfo fcinfo, const RuleCache *c, const RuleArgs *args);

/*
 * The key words of this call's rule arguments, each at its own position; 0
 * for an argument the function does not take or that is a constant (it
 * cannot change from call to call).  The argument numbers are constants
 * where this is inlined, so this is straight-line code.  false when a value
 * cannot be keyed.
 */
static pg_attribute_always_inline bool
rule_keys(FunctionCallInfo fcinfo, const RuleCache *c, const RuleArgs *args, uint64 *key)
{
#define RULE_VARIES(k) ((c->varies & (1 << (k))) != 0)
#define RULE_ZERO(k) (key[k] = 0)
	RULE_EACH_TAKEN(args, RULE_ZERO);
#undef RULE_ZERO
	if (args->cs >= 0 && RULE_VARIES(RULE_KEY_CS) &&
		!rule_numeric_key(PG_GETARG_DATUM(args->cs), &key[RULE_KEY_CS]))
		return false;
	if (args->kind >= 0 && RULE_VARIES(RULE_KEY_KIND))
		key[RULE_KEY_KIND] = (uint64) PG_GETARG_OID(args->kind) | UINT64CONST(1) << 63;
	if (args->conv >= 0 && unlikely(c->varies & RULE_VARIES_CONV))
	{
		/* by value: a pointer into key would keep the words out of registers */
		uint64		bits = rule_conv_key(fcinfo, c, args);

		if (bits == 0)
			return false;
		key[RULE_KEY_KIND] |= bits;
	}
	if (args->rate >= 0 && RULE_VARIES(RULE_KEY_RATE) &&
		!(c->rate_is_tiers ? rule_tiers_arg_key(c, PG_GETARG_DATUM(args->rate), &key[RULE_KEY_RATE])
		  : rule_numeric_key(PG_GETARG_DATUM(args->rate), &key[RULE_KEY_RATE])))
		return false;
	if (args->fee >= 0 && RULE_VARIES(RULE_KEY_FEE) &&
		!rule_numeric_key(PG_GETARG_DATUM(args->fee), &key[RULE_KEY_FEE]))
		return false;
	if (args->tick >= 0 && RULE_VARIES(RULE_KEY_TICK) &&
		!rule_numeric_key(PG_GETARG_DATUM(args->tick), &key[RULE_KEY_TICK]))
		return false;
	if (args->call_ratio >= 0 && RULE_VARIES(RULE_KEY_CALL) &&
		!rule_numeric_key(PG_GETARG_DATUM(args->call_ratio), &key[RULE_KEY_CALL]))
		return false;
#undef RULE_VARIES
	return true;
}

static pg_attribute_always_inline int
rule_slot_of(const RuleArgs *args, const uint64 *key)
{
	uint64		h = 0;

#define RULE_MIX(k) (h = (h ^ key[k]) * UINT64CONST(0x9E3779B97F4A7C15))
	RULE_EACH_TAKEN(args, RULE_MIX);
#undef RULE_MIX
	StaticAssertStmt(RULE_SLOTS == 1 << 6, "the hash takes 6 bits");
	return (int) (h >> (64 - 6));
}

extern bool rule_same_tiers_value(const RuleSlot *slot, Datum d);

/* Does the slot hold the rule of this call's key? */
static pg_attribute_always_inline bool
rule_slot_holds(FunctionCallInfo fcinfo, const RuleCache *c, const RuleArgs *args,
				const RuleSlot *slot, const uint64 *key)
{
	uint64		diff = 0;

#define RULE_DIFF(k) (diff |= slot->key[k] ^ key[k])
	RULE_EACH_TAKEN(args, RULE_DIFF);
#undef RULE_DIFF
	/*
	 * an empty slot is not filled; a varying tiers value is compared in
	 * full, unless it is one of the call site's constants
	 */
	return diff == 0 && slot->filled &&
		(!c->rate_is_tiers || !(c->varies & (1 << RULE_KEY_RATE)) ||
		 (args->rate >= 0 && ((key[RULE_KEY_RATE] & 1) == 0 ||
							  rule_same_tiers_value(slot, PG_GETARG_DATUM(args->rate)))));
}

/* The other slot of a slot's pair. */
static pg_attribute_always_inline RuleSlot *
rule_partner_slot(RuleCache *c, RuleSlot *slot)
{
	return &c->slot[(slot - c->slot) ^ 1];
}

extern const Rule *rule_of_call_slow(FunctionCallInfo fcinfo, RuleCache **cache,
									 const RuleArgs *args);

/*
 * The MARGIN_CONV_* bit a convention enum value sets ("mm_basis",
 * "fee_basis", "tier_basis", "bracket_basis"): 0 for the default label.
 */
extern int	rule_convention_bit(const char *type, Oid value);

/* The contract_kind label of a value: true for inverse; 22023 for none. */
extern bool rule_kind_is_inverse(Oid kind, Oid *linear_oid, Oid *inverse_oid);

/*
 * The rule of this call of a SQL function, its arguments where `args` says:
 * read and checked once per distinct set of argument bytes at the call site
 * (*cache, in fn_extra memory the caller owns), or once for good when every
 * rule argument is a constant.
 */
static pg_attribute_always_inline const Rule *
rule_of_call(FunctionCallInfo fcinfo, RuleCache **cache, const RuleArgs *args)
{
	RuleCache  *c = *cache;
	uint64		key[RULE_NARGS];
	RuleSlot   *slot;

	if (likely(c != NULL && c->kept))
		return &c->slot[0].rule;
	if (unlikely(c == NULL) || unlikely(!rule_keys(fcinfo, c, args, key)))
		return rule_of_call_slow(fcinfo, cache, args);
	slot = &c->slot[rule_slot_of(args, key)];
	if (likely(rule_slot_holds(fcinfo, c, args, slot, key)))
		return &slot->rule;
	return rule_of_call_slow(fcinfo, cache, args);
}

#endif
