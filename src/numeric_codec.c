/*
 * numeric_codec.c
 *	  Numeric datums <-> scaled int128, reading and writing numeric's on-disk
 *	  form directly.
 *
 * The on-disk form of numeric is fixed (pg_upgrade relies on it): a varlena
 * header, then either a 2-byte short header (sign, display scale, weight) or
 * a 2-byte sign/dscale word and a 2-byte weight, then base-10000 digits,
 * most significant first, with no leading or trailing zero digits.  The
 * layout constants below are those of src/backend/utils/adt/numeric.c.
 */
#include "postgres.h"

#include "numeric_codec.h"

/* |coef| < 10^37 leaves room to add one digit without overflow checks */
#define COEF_LIMIT		isomargin_pow10[37]


static inline uint16
read_u16(const char *p)
{
	uint16		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

NumericKind
numeric_codec_read_any(Datum d, int128 *coef, int *scale, bool *fits)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	struct varlena *detoasted = NULL;
	const char *p;
	Size		len;
	uint16		hdr;
	int			weight;
	int			dscale;
	bool		neg;
	int			ndigits;
	int			exact_scale;
	int128		acc = 0;
	int			i;

	/* an out-of-line TOAST pointer also has a 1-byte header: detoast it */
	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		v = detoasted = pg_detoast_datum_packed(v);
	if (VARATT_IS_SHORT(v))
	{
		p = VARDATA_SHORT(v);
		len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;
	}
	else
	{
		p = VARDATA(v);
		len = VARSIZE(v) - VARHDRSZ;
	}

	hdr = read_u16(p);
	*fits = false;
	switch (hdr & NC_SIGN_MASK)
	{
		case NC_SPECIAL:
			if ((hdr & NC_EXT_SIGN_MASK) == NC_NAN_HDR)
				return NUMKIND_NAN;
			return (hdr & NC_EXT_SIGN_MASK) == NC_PINF_HDR ? NUMKIND_PINF : NUMKIND_NINF;
		case NC_SHORT:
			neg = (hdr & NC_SHORT_SIGN_MASK) != 0;
			dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;
			weight = (hdr & NC_SHORT_WEIGHT_SIGN_MASK) ? (int) (~NC_SHORT_WEIGHT_MASK | (hdr & NC_SHORT_WEIGHT_MASK))
				: (int) (hdr & NC_SHORT_WEIGHT_MASK);
			p += sizeof(uint16);
			len -= sizeof(uint16);
			break;
		default:
			neg = (hdr & NC_SIGN_MASK) == NC_NEG;
			dscale = hdr & NC_DSCALE_MASK;
			weight = (int16) read_u16(p + sizeof(uint16));
			p += 2 * sizeof(uint16);
			len -= 2 * sizeof(uint16);
			break;
	}

	*scale = dscale;
	ndigits = len / sizeof(int16);
	/* value = digits * NC_NBASE^(weight - ndigits + 1): exact at scale 4*(ndigits-1-weight) */
	exact_scale = 4 * (ndigits - 1 - weight);
	/* 9 digit groups (36 digits) cannot overflow the accumulator below */
	if (ndigits > 9 || dscale > 38 || exact_scale - dscale > 38 ||
		dscale - exact_scale > 38)
		goto out;
	if (ndigits <= 4)
	{
		int64		acc64 = 0;	/* at most 16 decimal digits */

		for (i = 0; i < ndigits; i++)
			acc64 = acc64 * NC_NBASE + (int16) read_u16(p + i * sizeof(int16));
		acc = acc64;
	}
	else
		for (i = 0; i < ndigits; i++)
			acc = acc * NC_NBASE + (int16) read_u16(p + i * sizeof(int16));
	if (exact_scale <= dscale)
	{
		if (!scaled_up(acc, dscale - exact_scale, &acc))
			goto out;
	}
	else
	{
		/* digits below the display scale are zeros in a well-formed numeric */
		int128		unit = isomargin_pow10[exact_scale - dscale];

		if (scaled_fits64(acc) && scaled_fits64(unit))
		{
			if ((int64) acc % (int64) unit != 0)
				goto out;
			acc = (int64) acc / (int64) unit;
		}
		else
		{
			if (acc % unit != 0)
				goto out;
			acc /= unit;
		}
	}
	if (acc >= COEF_LIMIT)
		goto out;
	*coef = neg ? -acc : acc;
	*fits = true;
out:
	if (detoasted)
		pfree(detoasted);
	return NUMKIND_FINITE;
}

/*
 * The header of a finite numeric that is neither compressed nor out of
 * line: sign, display scale, weight, and where its digit groups are.
 * false for NaN and the infinities.
 */
static bool
read_header(const struct varlena *v, bool *neg, int *dscale, int *weight,
			const char **digits, int *ndigits)
{
	const char *p;
	Size		len;
	uint16		hdr;

	Assert(!VARATT_IS_EXTERNAL(v) && !VARATT_IS_COMPRESSED(v));
	p = VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	hdr = read_u16(p);
	switch (hdr & NC_SIGN_MASK)
	{
		case NC_SPECIAL:
			return false;
		case NC_SHORT:
			*neg = (hdr & NC_SHORT_SIGN_MASK) != 0;
			*dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;
			*weight = (hdr & NC_SHORT_WEIGHT_SIGN_MASK) ? (int) (~NC_SHORT_WEIGHT_MASK | (hdr & NC_SHORT_WEIGHT_MASK))
				: (int) (hdr & NC_SHORT_WEIGHT_MASK);
			*digits = p + sizeof(uint16);
			*ndigits = (int) ((len - sizeof(uint16)) / sizeof(int16));
			break;
		default:
			*neg = (hdr & NC_SIGN_MASK) == NC_NEG;
			*dscale = hdr & NC_DSCALE_MASK;
			*weight = (int16) read_u16(p + sizeof(uint16));
			*digits = p + 2 * sizeof(uint16);
			*ndigits = (int) ((len - 2 * sizeof(uint16)) / sizeof(int16));
			break;
	}
	if (*ndigits == 0)
		*weight = 0;
	return true;
}

void
numeric_codec_shape(Numeric n, int *dscale, int *weight)
{
	bool		neg;
	int			ndigits;
	const char *digits;

	if (!read_header((const struct varlena *) n, &neg, dscale, weight, &digits, &ndigits))
		*dscale = *weight = 0;
}

NumericKind
numeric_codec_read_value(Datum d, int128 *coef, int *scale, bool *fits)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	struct varlena *detoasted = NULL;
	bool		neg;
	int			dscale,
				weight,
				ndigits;
	const char *digits;
	int128		acc = 0;
	int			exp10;
	NumericKind kind = NUMKIND_FINITE;

	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		v = detoasted = pg_detoast_datum_packed(v);
	*fits = false;
	if (!read_header(v, &neg, &dscale, &weight, &digits, &ndigits))
	{
		uint16		hdr = read_u16(VARDATA_ANY(v));

		kind = (hdr & NC_EXT_SIGN_MASK) == NC_NAN_HDR ? NUMKIND_NAN :
			(hdr & NC_EXT_SIGN_MASK) == NC_PINF_HDR ? NUMKIND_PINF : NUMKIND_NINF;
		goto out;
	}

	/*
	 * The value is the digit groups, read as one integer, times
	 * 10^(4 * (weight - ndigits + 1)).  Nine groups (36 digits) fit the
	 * accumulator; a value of more groups has more than 36 significant
	 * digits (no stored group is a trailing zero).
	 */
	if (ndigits > 9)
		goto out;
	for (int i = 0; i < ndigits; i++)
		acc = acc * NC_NBASE + (int16) read_u16(digits + i * sizeof(int16));
	exp10 = 4 * (weight - ndigits + 1);
	while (acc != 0 && acc % 10 == 0)
	{
		acc /= 10;
		exp10++;
	}
	if (acc == 0)
		exp10 = 0;
	if (exp10 > 0)
	{
		if (!scaled_up(acc, exp10, &acc))
			goto out;
		exp10 = 0;
	}
	if (acc >= COEF_LIMIT)
		goto out;
	*coef = neg ? -acc : acc;
	*scale = -exp10;
	*fits = true;
out:
	if (detoasted)
		pfree(detoasted);
	return kind;
}

const uint64 numeric_codec_inv5[19] = {
	UINT64CONST(0x0000000000000001), UINT64CONST(0xCCCCCCCCCCCCCCCD), UINT64CONST(0x8F5C28F5C28F5C29),
	UINT64CONST(0x1CAC083126E978D5), UINT64CONST(0xD288CE703AFB7E91), UINT64CONST(0x5D4E8FB00BCBE61D),
	UINT64CONST(0x790FB65668C26139), UINT64CONST(0xE5032477AE8D46A5), UINT64CONST(0xC767074B22E90E21),
	UINT64CONST(0x8E47CE423A2E9C6D), UINT64CONST(0x4FA7F60D3ED61F49), UINT64CONST(0x0FEE64690C913975),
	UINT64CONST(0x3662E0E1CF503EB1), UINT64CONST(0xA47A2CF9F6433FBD), UINT64CONST(0x54186F653140A659),
	UINT64CONST(0x7738164770402145), UINT64CONST(0xE4A4D1417CD9A041), UINT64CONST(0xC75429D9E5C5200D),
	UINT64CONST(0xC1773B91FAC10669)
};

#define NC_M12 UINT64CONST(1000000000000)
const NumericCodecLayout numeric_codec_layout[4] = {
	{{0, 0, 0, 0}, {NC_M12, 0, 0, 0}},
	{{0, 2, 2, 2}, {NC_M12, 100000000, 0, 0}},
	{{0, 2, 4, 4}, {NC_M12, 100000000, 10000, 0}},
	{{0, 2, 4, 6}, {NC_M12, 100000000, 10000, 1}}
};

NumericCodecInt64
numeric_codec_read_int64_any(Datum d)
{
	NumericCodecInt64 r = {0};
	int128		c;
	int			scale;
	bool		fits;
	const struct varlena *v = (const struct varlena *) DatumGetPointer(d);

	/* zero, which has no digit group (a defaulted argument's 0, say): at once */
	if (!VARATT_IS_EXTERNAL(v) && !VARATT_IS_COMPRESSED(v) &&
		VARSIZE_ANY_EXHDR(v) == sizeof(uint16))
	{
		uint16		hdr = read_u16(VARDATA_ANY(v));
		int			dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;

		if ((hdr & NC_SIGN_MASK) == NC_SHORT && dscale <= 18)
		{
			r.scale = dscale;
			r.ok = true;
			return r;
		}
	}
	if (numeric_codec_read(d, &c, &scale, &fits) != NUMKIND_FINITE || !fits ||
		c != (int128) (int64) c || scale > 18)
		return r;
	r.coef = (int64) c;
	r.scale = scale;
	r.ok = true;
	return r;
}

/*
 * The number of base-10000 digit groups of x < 10^19 (0 for 0), by the
 * position k of the highest bit of x | 1: a range [2^k, 2^(k+1)) holds at
 * most one power 10^4j, so that the count is numeric_codec_groups[k], plus
 * one from numeric_codec_group_step[k] up.  A table and a comparison where
 * counting against the five powers took five.
 */
const uint8 numeric_codec_groups[64] = {
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5
};
const uint64 numeric_codec_group_step[64] = {
	UINT64CONST(1), PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, UINT64CONST(10000), PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, UINT64CONST(100000000), PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, UINT64CONST(1000000000000),
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, UINT64CONST(10000000000000000), PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX, PG_UINT64_MAX
};

/* 10^(19 - pad): the bound of a coefficient that fits 64 bits once aligned */
const uint64 numeric_codec_short64_limit[4] = {
	UINT64CONST(10000000000000000000), UINT64CONST(1000000000000000000),
	UINT64CONST(100000000000000000), UINT64CONST(10000000000000000)
};

/* numeric_codec_make by numeric_codec_short64_layout; false when the value does not qualify */
static pg_attribute_always_inline bool
make_short64(int128 coef, int scale, Numeric *out)
{
	uint16		hdr,
				last2;
	uint64		first8;
	int			n;
	Numeric		result;

	if (numeric_codec_short64_layout(coef, scale, &hdr, &first8, &last2, &n) < 0)
		return false;
	/* room for all five groups, whatever n: the stores write them all */
	result = (Numeric) palloc(VARHDRSZ + sizeof(uint16) + 5 * sizeof(int16));
	SET_VARSIZE(result, VARHDRSZ + sizeof(uint16) + n * sizeof(int16));
	numeric_codec_short64_store((char *) result + VARHDRSZ, hdr, first8, last2);
	*out = result;
	return true;
}

/* numeric_codec_make for any value */
static pg_noinline Numeric
make_any(int128 coef, int scale)
{
	uint128		u = coef < 0 ? -(uint128) coef : (uint128) coef;
	int16		digits[12];		/* up to 39 decimal digits + alignment */
	int			nd = 0;
	int			frac_groups = (scale + 3) / 4;
	int			pad = frac_groups * 4 - scale;	/* zeros appended to align */
	int			weight;
	int			first;
	int			last;
	int			n;
	Size		size;
	Numeric		result;
	char	   *p;
	uint16		hdr;

	Assert(scale >= 0 && scale <= NC_DSCALE_MASK);

	/* base-10000 digits, least significant first, aligned to the point */
	if (u != 0 && pad > 0)
	{
		/* constant divisors, so that 64-bit values take no divide instruction */
		uint64		lowunit = pad == 1 ? 1000 : pad == 2 ? 100 : 10;
		uint64		low;

		if (u <= PG_UINT64_MAX)
		{
			uint64		u64 = (uint64) u;

			switch (pad)
			{
				case 1:
					low = u64 % 1000;
					u64 /= 1000;
					break;
				case 2:
					low = u64 % 100;
					u64 /= 100;
					break;
				default:
					low = u64 % 10;
					u64 /= 10;
					break;
			}
			u = u64;
		}
		else
		{
			low = (uint64) (u % lowunit);
			u /= lowunit;
		}
		digits[nd++] = (int16) (low * (uint64) isomargin_pow10_64[pad]);
	}
	while (u > PG_UINT64_MAX)
	{
		digits[nd++] = (int16) (u % NC_NBASE);
		u /= NC_NBASE;
	}
	for (uint64 u64 = (uint64) u; u64 != 0; u64 /= NC_NBASE)
		digits[nd++] = (int16) (u64 % NC_NBASE);
	/* digit k (from the least significant) has weight k - frac_groups */
	first = 0;
	while (first < nd && digits[first] == 0)
		first++;
	last = nd - 1;				/* digits[nd-1] is non-zero when nd > 0 */
	n = nd - first;
	weight = n > 0 ? last - frac_groups : 0;

	if (scale <= NC_SHORT_DSCALE_MAX && weight <= NC_SHORT_WEIGHT_MAX && weight >= NC_SHORT_WEIGHT_MIN)
	{
		size = VARHDRSZ + sizeof(uint16) + n * sizeof(int16);
		result = (Numeric) palloc(size);
		SET_VARSIZE(result, size);
		p = (char *) result + VARHDRSZ;
		hdr = NC_SHORT | (coef < 0 && n > 0 ? NC_SHORT_SIGN_MASK : 0) |
			(scale << NC_SHORT_DSCALE_SHIFT) |
			(weight < 0 ? NC_SHORT_WEIGHT_SIGN_MASK : 0) | (weight & NC_SHORT_WEIGHT_MASK);
		memcpy(p, &hdr, sizeof(hdr));
		p += sizeof(hdr);
	}
	else
	{
		int16		w = (int16) weight;

		size = VARHDRSZ + 2 * sizeof(uint16) + n * sizeof(int16);
		result = (Numeric) palloc(size);
		SET_VARSIZE(result, size);
		p = (char *) result + VARHDRSZ;
		hdr = (coef < 0 && n > 0 ? NC_NEG : NC_POS) | (scale & NC_DSCALE_MASK);
		memcpy(p, &hdr, sizeof(hdr));
		memcpy(p + sizeof(hdr), &w, sizeof(w));
		p += 2 * sizeof(uint16);
	}
	for (int k = last; k >= first; k--)
	{
		memcpy(p, &digits[k], sizeof(int16));
		p += sizeof(int16);
	}
	return result;
}

Numeric
numeric_codec_make(int128 coef, int scale)
{
	Numeric		result;

	if (likely(make_short64(coef, scale, &result)))
		return result;
	return make_any(coef, scale);
}
