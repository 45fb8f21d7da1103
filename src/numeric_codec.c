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

const int64 isomargin_pow10_64[19] = {
	INT64CONST(1), INT64CONST(10), INT64CONST(100), INT64CONST(1000), INT64CONST(10000),
	INT64CONST(100000), INT64CONST(1000000), INT64CONST(10000000), INT64CONST(100000000),
	INT64CONST(1000000000), INT64CONST(10000000000), INT64CONST(100000000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000), INT64CONST(100000000000000),
	INT64CONST(1000000000000000), INT64CONST(10000000000000000),
	INT64CONST(100000000000000000), INT64CONST(1000000000000000000)
};

#define P10(k) ((int128) k)
const int128 isomargin_pow10[39] = {
	P10(1), P10(10), P10(100), P10(1000), P10(10000), P10(100000),
	P10(1000000), P10(10000000), P10(100000000), P10(1000000000),
	P10(10000000000), P10(100000000000), P10(1000000000000),
	P10(10000000000000), P10(100000000000000), P10(1000000000000000),
	P10(10000000000000000), P10(100000000000000000),
	P10(1000000000000000000),
	P10(1000000000000000000) * 10, P10(1000000000000000000) * 100,
	P10(1000000000000000000) * 1000, P10(1000000000000000000) * 10000,
	P10(1000000000000000000) * 100000, P10(1000000000000000000) * 1000000,
	P10(1000000000000000000) * 10000000, P10(1000000000000000000) * 100000000,
	P10(1000000000000000000) * 1000000000,
	P10(1000000000000000000) * 10000000000,
	P10(1000000000000000000) * 100000000000,
	P10(1000000000000000000) * 1000000000000,
	P10(1000000000000000000) * 10000000000000,
	P10(1000000000000000000) * 100000000000000,
	P10(1000000000000000000) * 1000000000000000,
	P10(1000000000000000000) * 10000000000000000,
	P10(1000000000000000000) * 100000000000000000,
	P10(1000000000000000000) * 1000000000000000000,
	P10(1000000000000000000) * 1000000000000000000 * 10,
	P10(1000000000000000000) * 1000000000000000000 * 100,
};

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
		if (!dec_scale_up(acc, dscale - exact_scale, &acc))
			goto out;
	}
	else
	{
		/* digits below the display scale are zeros in a well-formed numeric */
		int128		unit = isomargin_pow10[exact_scale - dscale];

		if (dec_fits64(acc) && dec_fits64(unit))
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

Numeric
numeric_codec_make(int128 coef, int scale)
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
