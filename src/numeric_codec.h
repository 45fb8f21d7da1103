/*
 * numeric_codec.h
 *	  Read and write PostgreSQL numeric datums as scaled 128-bit integers.
 *
 * A finite numeric whose value fits is read as coef * 10^-scale with
 * scale = the numeric's display scale, straight from the base-10000 digits
 * of the (possibly short-header, unaligned) datum, without a detoast copy.
 * Writing produces the same canonical datum numeric's own arithmetic makes.
 */
#ifndef ISOMARGIN_NUMERIC_CODEC_H
#define ISOMARGIN_NUMERIC_CODEC_H

#include "postgres.h"
#include "utils/numeric.h"

#include "scaled.h"

typedef enum NumericKind
{
	NUMKIND_FINITE,
	NUMKIND_NAN,
	NUMKIND_PINF,
	NUMKIND_NINF
} NumericKind;

/*
 * Decode a numeric datum.  Returns its kind; for a finite value sets *scale
 * to its display scale and, when |value| * 10^dscale < 10^37 (room for one
 * more digit in an int128), *coef and *fits = true; else *fits = false.
 */
static inline NumericKind numeric_codec_read(Datum d, int128 *coef, int *scale, bool *fits);

/* Any numeric datum: the general route behind numeric_codec_read. */
extern NumericKind numeric_codec_read_any(Datum d, int128 *coef, int *scale, bool *fits);

/* Build a numeric equal to coef * 10^-scale with display scale `scale` (0..NUMERIC_DSCALE_MAX). */
extern Numeric numeric_codec_make(int128 coef, int scale);

/*
 * The same value as numeric_codec_make's, as a row stores it: a 1-byte
 * varlena header (packed, unaligned), written at dst, which has room for
 * NUMERIC_CODEC_PACKED_ROOM bytes.  Its size; 0 when the value takes the
 * general form (more than 19 digits once aligned, or more than 63 decimals):
 * then numeric_codec_make.
 */
#define NUMERIC_CODEC_PACKED_ROOM 13
extern int	numeric_codec_write_packed(int128 coef, int scale, char *dst);

/*
 * Decode a numeric datum by its value alone, whatever its display scale:
 * for a finite value, *coef * 10^-*scale with no trailing zero in the
 * fraction (so 1.500 and 1.5 read alike) and *fits = true when the value
 * has at most 36 significant digits and its coefficient is below 10^37.
 */
extern NumericKind numeric_codec_read_value(Datum d, int128 *coef, int *scale, bool *fits);

/*
 * The display scale and the weight (base-10000 exponent of the first digit
 * group; 0 for zero) of a finite numeric, read from its header.
 */
extern void numeric_codec_shape(Numeric n, int *dscale, int *weight);


/*
 * Layout of numeric's on-disk form (src/backend/utils/adt/numeric.c): a
 * 2-byte short header (sign, display scale, weight) or a 2-byte sign and
 * display scale plus a 2-byte weight, then base-10000 digits.
 */
#define NC_NBASE			10000
#define NC_SIGN_MASK		0xC000
#define NC_POS				0x0000
#define NC_NEG				0x4000
#define NC_SHORT			0x8000
#define NC_SPECIAL			0xC000
#define NC_EXT_SIGN_MASK	0xF000
#define NC_NAN_HDR			0xC000
#define NC_PINF_HDR		0xD000
#define NC_NINF_HDR		0xF000
#define NC_SHORT_SIGN_MASK 0x2000
#define NC_SHORT_DSCALE_MASK 0x1F80
#define NC_SHORT_DSCALE_SHIFT 7
#define NC_SHORT_DSCALE_MAX (NC_SHORT_DSCALE_MASK >> NC_SHORT_DSCALE_SHIFT)
#define NC_SHORT_WEIGHT_SIGN_MASK 0x0040
#define NC_SHORT_WEIGHT_MASK 0x003F
#define NC_SHORT_WEIGHT_MAX NC_SHORT_WEIGHT_MASK
#define NC_SHORT_WEIGHT_MIN (-(NC_SHORT_WEIGHT_MASK + 1))
#define NC_DSCALE_MASK		0x3FFF
#define NC_DSCALE_MAX		NC_DSCALE_MASK	/* the most decimals a numeric holds */
#define NC_WEIGHT_MAX		PG_INT16_MAX	/* the largest weight of a numeric */

static inline uint16
numeric_codec_u16(const char *p)
{
	uint16		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The common case inline: a short varlena (a value read from a table) in
 * numeric's short format with at most 16 significant digits.
 */
static inline NumericKind
numeric_codec_read(Datum d, int128 *coef, int *scale, bool *fits)
{
	const struct varlena *v = (const struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_SHORT(v) && !VARATT_IS_EXTERNAL(v))
	{
		const char *p = VARDATA_SHORT(v);
		uint16		hdr = numeric_codec_u16(p);
		int			ndigits = (int) (VARSIZE_SHORT(v) - VARHDRSZ_SHORT - sizeof(uint16)) / (int) sizeof(int16);

		if ((hdr & NC_SIGN_MASK) == NC_SHORT && ndigits <= 4)
		{
			int64		acc = 0;
			int			dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;
			int			weight = (hdr & NC_SHORT_WEIGHT_SIGN_MASK) ? (int) (~NC_SHORT_WEIGHT_MASK | (hdr & NC_SHORT_WEIGHT_MASK))
				: (int) (hdr & NC_SHORT_WEIGHT_MASK);
			int			diff = dscale - 4 * (ndigits - 1 - weight);

			for (int i = 0; i < ndigits; i++)
				acc = acc * NC_NBASE + (int16) numeric_codec_u16(p + sizeof(uint16) + i * sizeof(int16));
			if (diff < 0 && diff >= -3)
			{
				/*
				 * The last digit group runs past the display scale with
				 * zeros.  Constant divisors: a divide instruction here would
				 * cost more than the rest of the decoding.
				 */
				uint64		u = (uint64) acc;

				acc = (int64) (diff == -1 ? u / 10 : diff == -2 ? u / 100 : u / 1000);
				diff = 0;
			}
			if (diff >= 0 && diff <= 20)
			{
				/* < 10^16 * 10^20: within the 10^37 limit */
				int128		c = diff <= 18 ? (int128) acc * isomargin_pow10_64[diff]
					: (int128) acc * isomargin_pow10[diff];

				*coef = (hdr & NC_SHORT_SIGN_MASK) ? -c : c;
				*scale = dscale;
				*fits = true;
				return NUMKIND_FINITE;
			}
		}
	}
	return numeric_codec_read_any(d, coef, scale, fits);
}

/* numeric_codec_read_int64 for what its inline part does not take */
extern bool numeric_codec_read_int64_any(Datum d, int64 *coef, int *scale);

/* the inverse of 5^k modulo 2^64, k = 0..18: exact division by 10^k */
extern const uint64 numeric_codec_inv5[19];

/*
 * By the index of the last digit group (0..3): where to read groups 1..3,
 * clamped to the last one, and what to multiply them by (0 past the last).
 */
typedef struct NumericCodecLayout
{
	uint8		offset[4];
	uint64		mul[4];
} NumericCodecLayout;

extern const NumericCodecLayout numeric_codec_layout[4];

/*
 * A finite numeric of at most 18 digits and 18 decimals, as an int64
 * coefficient and its display scale: what the fast route takes.  false for
 * anything else.
 *
 * Inline, without a branch that depends on the value (the number of digit
 * groups varies from row to row, and a mispredicted branch costs more than
 * the whole decoding): a plain varlena in numeric's short format with 1 to 4
 * digit groups and 4 * weight + display scale <= 12 (below 10^8 with up to
 * 4 decimals, below 10^4 with up to 8, ...).  The groups are read at clamped
 * offsets (never past the datum) and weighted, those past the last by 0,
 * which gives the value times 10^(4 * (3 - weight)); the digits below the display scale are zeros, so
 * the division down to it is exact: a shift and a multiply by an inverse,
 * checked by multiplying back.  The rest goes to the general reader.
 */
static pg_attribute_always_inline bool
numeric_codec_read_int64(Datum d, int64 *coef, int *scale)
{
	const char *v = DatumGetPointer(d);
	const char *p;
	const NumericCodecLayout *layout;
	uint32		len,
				last;
	uint16		hdr;
	uint64		acc,
				q,
				neg;
	int			dscale,
				weight,
				k;

#ifndef WORDS_BIGENDIAN
	uint8		b = *(const uint8 *) v;

	/*
	 * A 1-byte header of 5 to 12 bytes in one test, the common case (a
	 * value read from a table): odd (short), from 11 to 25; its last digit
	 * group is 0..3.
	 */
	if (likely((uint8) (b - 11) <= 14 && (b & 1)))
	{
		p = v + VARHDRSZ_SHORT;
		last = ((uint32) (b >> 1) - VARHDRSZ_SHORT - 2 * (uint32) sizeof(uint16)) / (uint32) sizeof(int16);
	}
	else
#endif
	{
		if (VARATT_IS_SHORT(v) && !VARATT_IS_EXTERNAL(v))
		{
			p = VARDATA_SHORT(v);
			len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;
		}
		else if (VARATT_IS_4B_U(v))
		{
			p = VARDATA(v);
			len = VARSIZE(v) - VARHDRSZ;
		}
		else
			return numeric_codec_read_int64_any(d, coef, scale);
		/* last digit group: 0..3 (len < 4 wraps around and is refused) */
		last = (len - 2 * (uint32) sizeof(uint16)) / (uint32) sizeof(int16);
		if (last > 3)
			return numeric_codec_read_int64_any(d, coef, scale);
	}
	hdr = numeric_codec_u16(p);
	if (unlikely((hdr & NC_SIGN_MASK) != NC_SHORT))
		return numeric_codec_read_int64_any(d, coef, scale);
	p += sizeof(uint16);
	layout = &numeric_codec_layout[last];
	acc = numeric_codec_u16(p) * UINT64CONST(1000000000000) +
		numeric_codec_u16(p + layout->offset[1]) * layout->mul[1] +
		numeric_codec_u16(p + layout->offset[2]) * layout->mul[2] +
		numeric_codec_u16(p + layout->offset[3]) * layout->mul[3];
	dscale = (hdr & NC_SHORT_DSCALE_MASK) >> NC_SHORT_DSCALE_SHIFT;
	weight = (int) (int8) (uint8) ((hdr & 0x7F) << 1) >> 1;
	k = 12 - 4 * weight - dscale;
	if (unlikely(k < 0 || k > 18 || dscale > 18))
		return numeric_codec_read_int64_any(d, coef, scale);
	q = (acc >> k) * numeric_codec_inv5[k];
	if (unlikely((uint128) q * (uint64) isomargin_pow10_64[k] != acc))
		return numeric_codec_read_int64_any(d, coef, scale);
	neg = (hdr & NC_SHORT_SIGN_MASK) >> 13;
	*coef = (int64) ((q ^ -neg) + neg);
	*scale = dscale;
	return true;
}

#endif
