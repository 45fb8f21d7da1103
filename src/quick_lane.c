/*
 * quick_lane.c
 *	  The lane of liquidation_price (quick.h): the tick a constant zero, a
 *	  flat mmr or a tiers value.
 *
 * The call a report makes most, with the rule of each instrument read from
 * the positions' own columns and prices not rounded to a tick, costs little
 * more than reading its arguments: the rule comes from a cache keyed by the
 * bytes of its arguments, the position is read straight into int64
 * coefficients, and the fractions of quick.c (q_solve, q_where,
 * q_bracket_at_entry) are formed in int128 locals, with one division and
 * one numeric built.  Every product, sum and rescaling that could overflow
 * is checked, and anything out of the common case declines to quick.c,
 * which gives the same answer for what both take.
 */
#include "postgres.h"

#include "numeric_codec.h"
#include "quick.h"
#include "tiers.h"

/* A rule argument: not negative, at most 18 digits and 18 decimals. */
static pg_attribute_always_inline bool
lane_nonnegative(FunctionCallInfo fcinfo, int argno, int64 *coef, int *scale)
{
	return numeric_codec_read_int64(PG_GETARG_DATUM(argno), coef, scale) && *coef >= 0;
}

/* A Dec of a schedule as an int64 coefficient and scale, if it is one. */
static bool
lane_from_dec(Dec d, int64 *coef, int8 *scale)
{
	if (d.big || d.coef != (int128) (int64) d.coef || d.scale > 18)
		return false;
	*coef = (int64) d.coef;
	*scale = (int8) d.scale;
	return true;
}

/* The brackets of a tiers schedule into the slot's own storage. */
static bool
lane_tiers(FunctionCallInfo fcinfo, QuickLaneSlot *slot, const MarginSchedule *s)
{
	if (slot->tiers == NULL)
		slot->tiers = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
										 sizeof(QuickLaneBracket) * TIERS_MAX_BRACKETS);
	for (int i = 0; i < s->nbrackets; i++)
	{
		QuickLaneBracket *b = &slot->tiers[i];

		if (!lane_from_dec(s->brackets[i].floor, &b->floor, &b->floor_scale) ||
			!lane_from_dec(s->brackets[i].rate_fee, &b->rf, &b->rf_scale) ||
			!lane_from_dec(s->brackets[i].amount, &b->amount, &b->amount_scale))
			return false;
	}
	slot->rule.nbrackets = s->nbrackets;
	slot->rule.brackets = slot->tiers;
	return true;
}

/* Read and check the rule of this row into slot->rule; false to decline. */
static bool
lane_read_rule(FunctionCallInfo fcinfo, bool tiers, Oid linear_oid, Oid inverse_oid,
			   QuickLaneSlot *slot, int cs_arg, int kind_arg, int rate_arg, int fee_arg)
{
	QuickLaneRule *rule = &slot->rule;
	Oid			kind = PG_GETARG_OID(kind_arg);
	int64		mmr,
				fee;
	int			mmr_scale,
				fee_scale,
				rf_scale;

	if (kind == linear_oid && OidIsValid(kind))
		rule->inverse = false;
	else if (kind == inverse_oid && OidIsValid(kind))
		rule->inverse = true;
	else
		return false;
	if (!lane_nonnegative(fcinfo, cs_arg, &rule->cs, &rule->cs_scale) || rule->cs == 0 ||
		!lane_nonnegative(fcinfo, fee_arg, &fee, &fee_scale))
		return false;
	if (tiers)
		/* checks mmr + fee_rate < 1 in every bracket, raising the same error as the memoized reading */
		return lane_tiers(fcinfo, slot, tiers_cached_schedule(fcinfo, rate_arg, dec_make(fee, fee_scale)));

	if (!lane_nonnegative(fcinfo, rate_arg, &mmr, &mmr_scale))
		return false;
	/* mmr + fee_rate < 1 (and so each < 1): each term is below 10^rf_scale <= 10^18 */
	rf_scale = Max(mmr_scale, fee_scale);
	if (mmr >= isomargin_pow10_64[mmr_scale] || fee >= isomargin_pow10_64[fee_scale])
		return false;
	rule->flat.rf = mmr * isomargin_pow10_64[rf_scale - mmr_scale] +
		fee * isomargin_pow10_64[rf_scale - fee_scale];
	if (rule->flat.rf >= isomargin_pow10_64[rf_scale])
		return false;
	rule->flat.rf_scale = (int8) rf_scale;
	rule->flat.floor = rule->flat.amount = 0;
	rule->flat.floor_scale = rule->flat.amount_scale = 0;
	rule->nbrackets = 1;
	rule->brackets = NULL;
	return true;
}

/*
 * A numeric datum of 4 to 8 bytes as one word: its first four bytes and its
 * last four (overlapping when shorter), the length being in the first ones,
 * so that equal words are equal bytes.  false for any other.
 */
static pg_attribute_always_inline bool
lane_key(Datum d, uint64 *key)
{
	const char *v = DatumGetPointer(d);
	uint32		lo,
				hi;
	int			n;

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
 * A tiers value that is not a constant, not compressed nor out of line: a
 * digest of its length and its first and last words for the slot's hash
 * (on a hit its bytes are compared in full).  false for any other form.
 */
static pg_attribute_always_inline bool
lane_tiers_key(Datum d, uint64 *key)
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

/* Are the bytes of the tiers argument those kept in the slot? */
static pg_attribute_always_inline bool
lane_same_tiers_value(const QuickLaneSlot *slot, Datum d)
{
	Size		n = VARSIZE_ANY(DatumGetPointer(d));

	return VARSIZE_ANY(slot->tiers_value) == n &&
		memcmp(slot->tiers_value, DatumGetPointer(d), n) == 0;
}

/* Keep the bytes of the tiers value of this slot's rule, for the next hits. */
static void
lane_keep_tiers_value(FunctionCallInfo fcinfo, QuickLaneSlot *slot, Datum d)
{
	Size		n = VARSIZE_ANY(DatumGetPointer(d));

	if (slot->tiers_value_room < n)
	{
		if (slot->tiers_value)
			pfree(slot->tiers_value);
		slot->tiers_value = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, n);
		slot->tiers_value_room = n;
	}
	memcpy(slot->tiers_value, DatumGetPointer(d), n);
}

static pg_attribute_always_inline const QuickLaneRule *
lane_rule(FunctionCallInfo fcinfo, QuickLaneCache *cache, Oid linear_oid,
		  Oid inverse_oid, int cs_arg, int kind_arg, int rate_arg, int fee_arg)
{
	uint64		cs_key,
				rate_key = 0,
				fee_key,
				h;
	Oid			kind = PG_GETARG_OID(kind_arg);
	bool		tiers_value = cache->tiers && !cache->tiers_const;
	QuickLaneSlot *slot;

	if (!lane_key(PG_GETARG_DATUM(cs_arg), &cs_key) ||
		!lane_key(PG_GETARG_DATUM(fee_arg), &fee_key) ||
		(tiers_value ? !lane_tiers_key(PG_GETARG_DATUM(rate_arg), &rate_key)
		 : !cache->tiers && !lane_key(PG_GETARG_DATUM(rate_arg), &rate_key)))
	{
		/* long or unusual values: read them, not cached, in the first slot */
		slot = &cache->slot[0];
		slot->cs_key = 0;
		return lane_read_rule(fcinfo, cache->tiers, linear_oid, inverse_oid, slot, cs_arg, kind_arg,
							  rate_arg, fee_arg) ? &slot->rule : NULL;
	}
	h = (cs_key * UINT64CONST(0xC2B2AE3D27D4EB4F) ^ rate_key * UINT64CONST(0x165667B19E3779F9) ^
		 fee_key ^ kind) * UINT64CONST(0x9E3779B97F4A7C15);
	StaticAssertStmt(QUICK_LANE_SLOTS == 1 << 6, "the hash takes 6 bits");
	slot = &cache->slot[h >> (64 - 6)];
	if (likely(slot->cs_key == cs_key && slot->rate_key == rate_key &&
			   slot->fee_key == fee_key && slot->kind == kind) &&
		(!tiers_value || lane_same_tiers_value(slot, PG_GETARG_DATUM(rate_arg))))
		return &slot->rule;
	slot->cs_key = 0;
	if (!lane_read_rule(fcinfo, cache->tiers, linear_oid, inverse_oid, slot, cs_arg, kind_arg,
						rate_arg, fee_arg))
		return NULL;
	if (tiers_value)
		lane_keep_tiers_value(fcinfo, slot, PG_GETARG_DATUM(rate_arg));
	slot->cs_key = cs_key;
	slot->rate_key = rate_key;
	slot->fee_key = fee_key;
	slot->kind = kind;
	return &slot->rule;
}

/* v * 10^k for 0 <= k, false on overflow */
static pg_attribute_always_inline bool
lane_scale_up(int128 v, int k, int128 *out)
{
	if (likely(k == 0))
	{
		*out = v;
		return true;
	}
	return dec_scale_up(v, k, out);
}

/* sign of a * 10^-as - b * 10^-bs into *out; false on overflow */
static pg_attribute_always_inline bool
lane_cmp(int128 a, int as, int128 b, int bs, int *out)
{
	if (as < bs ? !lane_scale_up(a, bs - as, &a) : !lane_scale_up(b, as - bs, &b))
		return false;
	*out = (a > b) - (a < b);
	return true;
}

static pg_attribute_always_inline int
lane_sign(int128 v)
{
	return (v > 0) - (v < 0);
}

/* The position, as quick.c's QPos. */
typedef struct LanePos
{
	bool		inverse;
	bool		up;				/* a long: its price rounds up */
	int64		e,				/* entry price */
				m,				/* margin */
				s,				/* size * contract_size */
				a;				/* |s| */
	int			e_scale,
				m_scale,
				s_scale;
} LanePos;

/*
 * q_solve: num/den is the price where equity meets the maintenance margin
 * of bracket b; false on overflow.
 *	 linear:  num = s*E - M - A,   den = a*(side - r')
 *	 inverse: num = E*a*(side + r'), den = M*E + s + A*E
 */
static pg_attribute_always_inline bool
lane_solve(const LanePos *p, const QuickLaneBracket *b, int128 *num, int *num_scale,
		   int128 *den, int *den_scale)
{
	int64		one = isomargin_pow10_64[b->rf_scale];

	if (!p->inverse)
	{
		int128		se = (int128) p->s * p->e,
					mm,
					am;
		int			ns = Max(p->s_scale + p->e_scale, p->m_scale);

		if (unlikely(b->amount != 0))
			ns = Max(ns, b->amount_scale);
		if (!lane_scale_up(se, ns - p->s_scale - p->e_scale, &se) ||
			!lane_scale_up(p->m, ns - p->m_scale, &mm) ||
			__builtin_sub_overflow(se, mm, num))
			return false;
		if (unlikely(b->amount != 0) &&
			(!lane_scale_up(b->amount, ns - b->amount_scale, &am) ||
			 __builtin_sub_overflow(*num, am, num)))
			return false;
		*num_scale = ns;
		/* both factors below 2^63 */
		*den = (int128) p->a * (p->up ? one - b->rf : -(one + b->rf));
		*den_scale = p->s_scale + b->rf_scale;
	}
	else
	{
		int128		ea = (int128) p->e * p->a,
					me = (int128) p->m * p->e,
					ss,
					ae;
		int64		f = p->up ? one + b->rf : b->rf - one;
		int			ds = Max(p->m_scale + p->e_scale, p->s_scale);

		if (ea == (int128) (int64) ea)
			*num = (int128) (int64) ea * f;
		else if (__builtin_mul_overflow(ea, (int128) f, num))
			return false;
		*num_scale = p->e_scale + p->s_scale + b->rf_scale;
		if (unlikely(b->amount != 0))
			ds = Max(ds, b->amount_scale + p->e_scale);
		if (!lane_scale_up(me, ds - p->m_scale - p->e_scale, &me) ||
			!lane_scale_up(p->s, ds - p->s_scale, &ss) ||
			__builtin_add_overflow(me, ss, den))
			return false;
		if (unlikely(b->amount != 0) &&
			(!lane_scale_up((int128) b->amount * p->e, ds - b->amount_scale - p->e_scale, &ae) ||
			 __builtin_add_overflow(*den, ae, den)))
			return false;
		*den_scale = ds;
	}
	return true;
}

/*
 * q_bracket_at_entry: the bracket of the notional at the entry price,
 * searched upward from the first; -1 on overflow.
 */
static int
lane_bracket_at_entry(const LanePos *p, const QuickLaneRule *rule)
{
	/* linear: a*E against the floor; inverse: a against floor*E */
	int128		lhs = p->inverse ? p->a : (int128) p->a * p->e;
	int			lhs_scale = p->inverse ? p->s_scale : p->s_scale + p->e_scale;
	int			i = 0;

	while (i < rule->nbrackets - 1)
	{
		const QuickLaneBracket *next = &rule->brackets[i + 1];
		int			c;

		if (!(p->inverse ? lane_cmp(lhs, lhs_scale, (int128) next->floor * p->e,
									next->floor_scale + p->e_scale, &c)
			  : lane_cmp(lhs, lhs_scale, next->floor, next->floor_scale, &c)))
			return -1;
		if (c <= 0)
			break;
		i++;
	}
	return i;
}

/*
 * q_where: is the notional at the price num/den below bracket i (-1), in it
 * (0) or above it (1)?  false on overflow.
 */
static bool
lane_where(const LanePos *p, const QuickLaneRule *rule, int i, int128 num, int num_scale,
		   int128 den, int den_scale, int *where)
{
	int128		lhs,
				by = p->inverse ? num : den,
				fb;
	int			by_scale = p->inverse ? num_scale : den_scale;
	int			lhs_scale = p->s_scale + (p->inverse ? den_scale : num_scale);
	int			by_sign = lane_sign(by);
	int			c;

	if (__builtin_mul_overflow((int128) p->a, p->inverse ? den : num, &lhs))
		return false;
	*where = 0;
	if (i > 0)
	{
		const QuickLaneBracket *b = &rule->brackets[i];

		if (__builtin_mul_overflow((int128) b->floor, by, &fb) ||
			!lane_cmp(lhs, lhs_scale, fb, b->floor_scale + by_scale, &c))
			return false;
		if (c * by_sign <= 0)
		{
			*where = -1;
			return true;
		}
	}
	if (i < rule->nbrackets - 1)
	{
		const QuickLaneBracket *b = &rule->brackets[i + 1];

		if (__builtin_mul_overflow((int128) b->floor, by, &fb) ||
			!lane_cmp(lhs, lhs_scale, fb, b->floor_scale + by_scale, &c))
			return false;
		if (c * by_sign > 0)
			*where = 1;
	}
	return true;
}

static pg_attribute_always_inline bool
lane_price(FunctionCallInfo fcinfo, const QuickLaneRule *rule,
		   int size_arg, int entry_arg, int margin_arg, Datum *result, bool *isnull)
{
	LanePos		p;
	int64		q;
	int			q_scale,
				num_scale,
				den_scale,
				price_scale,
				k,
				i;
	int128		num,
				den,
				x,
				y;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(size_arg), &q, &q_scale) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(entry_arg), &p.e, &p.e_scale) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(margin_arg), &p.m, &p.m_scale) ||
		p.e <= 0 || p.m < 0)
		return false;			/* quick.c or the general route reads (and rejects) it */
	if (q == 0)
	{
		*isnull = true;
		return true;
	}
	p.inverse = rule->inverse;
	p.s_scale = q_scale + rule->cs_scale;
	if (__builtin_mul_overflow(q, rule->cs, &p.s) || p.s_scale > 18)
		return false;
	p.up = p.s > 0;
	p.a = p.up ? p.s : -p.s;

	if (rule->brackets == NULL)
	{
		if (!lane_solve(&p, &rule->flat, &num, &num_scale, &den, &den_scale))
			return false;
		if (den == 0 || num == 0 || (num > 0) != (den > 0))
		{
			*isnull = true;		/* no positive price */
			return true;
		}
	}
	else
	{
		/* quick_threshold_price's walk over the brackets */
		i = rule->nbrackets == 1 ? 0 : lane_bracket_at_entry(&p, rule);
		if (i < 0)
			return false;
		/* the walk is monotonic for a valid schedule: one visit per bracket at most */
		for (int visits = 1;; visits++)
		{
			int			where;

			if (visits > rule->nbrackets)
				return false;
			if (!lane_solve(&p, &rule->brackets[i], &num, &num_scale, &den, &den_scale))
				return false;
			if (den == 0 || lane_sign(num) * lane_sign(den) <= 0)
				where = -1;
			else if (rule->nbrackets == 1)
				break;
			else if (!lane_where(&p, rule, i, num, num_scale, den, den_scale, &where))
				return false;
			if (where == 0)
				break;
			if (where < 0 ? i == 0 : i == rule->nbrackets - 1)
			{
				*isnull = true;
				return true;
			}
			i += where;
		}
	}

	/* round_price: at least MARGIN_PRICE_MIN_SCALE decimals, the entry's if more */
	price_scale = Max(MARGIN_PRICE_MIN_SCALE, p.e_scale);
	k = price_scale + den_scale - num_scale;
	x = num;
	y = den;
	if (k >= 0 ? !lane_scale_up(num, k, &x) : !lane_scale_up(den, -k, &y))
		return false;
	*isnull = false;
	*result = NumericGetDatum(numeric_codec_make(quick_div_round(x, y, p.up), price_scale));
	return true;
}

bool
quick_lane_liquidation_price(FunctionCallInfo fcinfo, QuickLaneCache *cache,
							 Oid linear_oid, Oid inverse_oid, Datum *result, bool *isnull)
{
	/* liquidation_price(size, entry_price, margin, mmr or tiers, contract_size, kind, fee_rate, tick_size) */
	const QuickLaneRule *rule = lane_rule(fcinfo, cache, linear_oid, inverse_oid, 4, 5, 3, 6);

	return rule != NULL && lane_price(fcinfo, rule, 0, 1, 2, result, isnull);
}
