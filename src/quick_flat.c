/*
 * quick_flat.c
 *	  The flat lane of liquidation_price (quick.h): a flat mmr, no tick.
 *
 * The call a report makes most, with the mmr and fee of each instrument
 * read from the positions' own columns and prices not rounded to a tick,
 * costs little more than reading its seven arguments: each is read straight
 * into an int64 coefficient and its scale, the fractions of quick.c's
 * q_solve (c = 1, no maintenance amount) are formed in int128 locals, one
 * division rounds, one numeric is built.  Every product, sum and rescaling
 * that could overflow is checked, and anything out of the common case
 * declines to quick.c, which gives the same answer for what both take.
 */
#include "postgres.h"

#include "numeric_codec.h"
#include "quick.h"

/* A rule argument: not negative, at most 18 digits and 18 decimals. */
static pg_attribute_always_inline bool
flat_nonnegative(FunctionCallInfo fcinfo, int argno, int64 *coef, int *scale)
{
	return numeric_codec_read_int64(PG_GETARG_DATUM(argno), coef, scale) && *coef >= 0;
}

bool
quick_flat_rule(FunctionCallInfo fcinfo, Oid linear_oid, Oid inverse_oid,
				int cs_arg, int kind_arg, int rate_arg, int fee_arg, QuickFlatRule *rule)
{
	Oid			kind = PG_GETARG_OID(kind_arg);
	int64		mmr,
				fee;
	int			mmr_scale,
				fee_scale;

	if (kind == linear_oid)
		rule->inverse = false;
	else if (kind == inverse_oid)
		rule->inverse = true;
	else
		return false;
	if (!flat_nonnegative(fcinfo, cs_arg, &rule->cs, &rule->cs_scale) || rule->cs == 0 ||
		!flat_nonnegative(fcinfo, rate_arg, &mmr, &mmr_scale) ||
		!flat_nonnegative(fcinfo, fee_arg, &fee, &fee_scale))
		return false;
	/* mmr + fee_rate < 1 (and so mmr < 1): each term is below 10^rf_scale <= 10^18 */
	rule->rf_scale = Max(mmr_scale, fee_scale);
	if (mmr >= isomargin_pow10_64[mmr_scale] || fee >= isomargin_pow10_64[fee_scale])
		return false;
	rule->rf = mmr * isomargin_pow10_64[rule->rf_scale - mmr_scale] +
		fee * isomargin_pow10_64[rule->rf_scale - fee_scale];
	return rule->rf < isomargin_pow10_64[rule->rf_scale];
}

/*
 * A short numeric datum of 4 to 8 bytes as one word: its first four bytes
 * and its last four (overlapping when shorter), the length being in the
 * first byte, so that equal words are equal bytes.  false for any other.
 */
static pg_attribute_always_inline bool
flat_key(Datum d, uint64 *key)
{
	const char *v = DatumGetPointer(d);
	uint32		lo,
				hi;
	int			n;

	if (!VARATT_IS_SHORT(v) || VARATT_IS_EXTERNAL(v))
		return false;
	n = (int) VARSIZE_SHORT(v);
	if (n < 4 || n > 8)
		return false;
	memcpy(&lo, v, sizeof(lo));
	memcpy(&hi, v + n - sizeof(hi), sizeof(hi));
	*key = lo | (uint64) hi << 32;
	return true;
}

const QuickFlatRule *
quick_flat_rule_cached(FunctionCallInfo fcinfo, QuickFlatRuleCache *cache,
					   Oid linear_oid, Oid inverse_oid, int cs_arg, int kind_arg,
					   int rate_arg, int fee_arg)
{
	uint64		cs_key,
				rate_key,
				fee_key,
				h;
	Oid			kind = PG_GETARG_OID(kind_arg);
	QuickFlatRuleSlot *slot;

	if (!flat_key(PG_GETARG_DATUM(cs_arg), &cs_key) ||
		!flat_key(PG_GETARG_DATUM(rate_arg), &rate_key) ||
		!flat_key(PG_GETARG_DATUM(fee_arg), &fee_key))
	{
		/* long or unusual values: read them, uncached, into the first slot's rule */
		slot = &cache->slot[0];
		slot->cs_key = 0;
		return quick_flat_rule(fcinfo, linear_oid, inverse_oid, cs_arg, kind_arg, rate_arg,
							   fee_arg, &slot->rule) ? &slot->rule : NULL;
	}
	h = (cs_key * UINT64CONST(0xC2B2AE3D27D4EB4F) ^ rate_key * UINT64CONST(0x165667B19E3779F9) ^
		 fee_key ^ kind) * UINT64CONST(0x9E3779B97F4A7C15);
	slot = &cache->slot[h >> (64 - 6)];
	StaticAssertStmt(QUICK_FLAT_RULE_SLOTS == 1 << 6, "the hash takes 6 bits");
	if (likely(slot->cs_key == cs_key && slot->rate_key == rate_key &&
			   slot->fee_key == fee_key && slot->kind == kind))
		return &slot->rule;
	slot->cs_key = 0;
	if (!quick_flat_rule(fcinfo, linear_oid, inverse_oid, cs_arg, kind_arg, rate_arg, fee_arg,
						 &slot->rule))
		return NULL;
	slot->cs_key = cs_key;
	slot->rate_key = rate_key;
	slot->fee_key = fee_key;
	slot->kind = kind;
	return &slot->rule;
}

/* v * 10^k for 0 <= k, false on overflow */
static pg_attribute_always_inline bool
flat_scale_up(int128 v, int k, int128 *out)
{
	if (likely(k == 0))
	{
		*out = v;
		return true;
	}
	return dec_scale_up(v, k, out);
}

bool
quick_flat_price(FunctionCallInfo fcinfo, const QuickFlatRule *rule,
				 int size_arg, int entry_arg, int margin_arg, Datum *result, bool *isnull)
{
	int64		q,
				e,
				m,
				s,
				a,
				one;
	int			q_scale,
				e_scale,
				m_scale,
				s_scale,
				num_scale,
				den_scale,
				price_scale,
				k;
	int128		num,
				den,
				x,
				y;
	bool		up;

	if (!numeric_codec_read_int64(PG_GETARG_DATUM(size_arg), &q, &q_scale) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(entry_arg), &e, &e_scale) ||
		!numeric_codec_read_int64(PG_GETARG_DATUM(margin_arg), &m, &m_scale) ||
		e <= 0 || m < 0)
		return false;			/* quick.c or the general route reads (and rejects) it */
	if (q == 0)
	{
		*isnull = true;
		return true;
	}
	/* s = size * contract_size, a = |s| */
	s_scale = q_scale + rule->cs_scale;
	if (__builtin_mul_overflow(q, rule->cs, &s) || s_scale > 18)
		return false;
	up = s > 0;					/* a long's price rounds up, a short's down */
	a = up ? s : -s;
	one = isomargin_pow10_64[rule->rf_scale];

	if (!rule->inverse)
	{
		/* num = s*E - M, den = a*(side - rf) */
		int128		se = (int128) s * e,
					mm;

		num_scale = Max(s_scale + e_scale, m_scale);
		if (!flat_scale_up(se, num_scale - s_scale - e_scale, &se) ||
			!flat_scale_up(m, num_scale - m_scale, &mm) ||
			__builtin_sub_overflow(se, mm, &num))
			return false;
		/* both factors below 2^63 */
		den = (int128) a * (up ? one - rule->rf : -(one + rule->rf));
		den_scale = s_scale + rule->rf_scale;
	}
	else
	{
		/* num = E*a*(side + rf), den = M*E + s */
		int128		ea = (int128) e * a,
					me = (int128) m * e,
					ss;
		int64		f = up ? one + rule->rf : rule->rf - one;

		if (ea == (int128) (int64) ea)
			num = (int128) (int64) ea * f;
		else if (__builtin_mul_overflow(ea, (int128) f, &num))
			return false;
		num_scale = e_scale + s_scale + rule->rf_scale;
		den_scale = Max(m_scale + e_scale, s_scale);
		if (!flat_scale_up(me, den_scale - m_scale - e_scale, &me) ||
			!flat_scale_up(s, den_scale - s_scale, &ss) ||
			__builtin_add_overflow(me, ss, &den))
			return false;
	}
	if (den == 0 || num == 0 || (num > 0) != (den > 0))
	{
		*isnull = true;			/* no positive price */
		return true;
	}

	/* round_price: at least MARGIN_PRICE_MIN_SCALE decimals, the entry's if more */
	price_scale = Max(MARGIN_PRICE_MIN_SCALE, e_scale);
	k = price_scale + den_scale - num_scale;
	x = num;
	y = den;
	if (k >= 0 ? !flat_scale_up(num, k, &x) : !flat_scale_up(den, -k, &y))
		return false;
	*isnull = false;
	*result = NumericGetDatum(numeric_codec_make(quick_div_round(x, y, up), price_scale));
	return true;
}
