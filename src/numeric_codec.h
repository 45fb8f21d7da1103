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
static pg_attribute_always_inline int numeric_codec_write_packed(int128 coef, int scale,
																char *dst);

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

/*
 * numeric_codec_read_int64 for what its inline part does not take: by
 * value, in two registers, so that the caller's coefficient and scale need
 * no place in memory.
 */
typedef struct NumericCodecInt64
{
	int64		coef;
	int32		scale;
	bool		ok;
} NumericCodecInt64;

extern NumericCodecInt64 numeric_codec_read_int64_any(Datum d);

static pg_attribute_always_inline bool
numeric_codec_read_int64_slow(Datum d, int64 *coef, int *scale)
{
	NumericCodecInt64 r = numeric_codec_read_int64_any(d);

	*coef = r.coef;
	*scale = r.scale;
	return r.ok;
}

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
	/*
	 * A 1-byte header of 5 to 12 bytes in one test, the common case (a
	 * value read from a table): odd (short), from 11 to 25, so that b - 11
	 * rotated right by one is 0..7 (an odd b sets its top bit); its last
	 * digit group, 0..3, is half that.
	 */
	uint8		b = *(const uint8 *) v - 11;

	b = (uint8) (b >> 1 | b << 7);
	if (likely(b <= 7))
	{
		p = v + VARHDRSZ_SHORT;
		last = b >> 1;
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
			return numeric_codec_read_int64_slow(d, coef, scale);
		/* last digit group: 0..3 (len < 4 wraps around and is refused) */
		last = (len - 2 * (uint32) sizeof(uint16)) / (uint32) sizeof(int16);
		if (last > 3)
			return numeric_codec_read_int64_slow(d, coef, scale);
	}
	hdr = numeric_codec_u16(p);
	if (unlikely((hdr & NC_SIGN_MASK) != NC_SHORT))
		return numeric_codec_read_int64_slow(d, coef, scale);
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
		return numeric_codec_read_int64_slow(d, coef, scale);
	q = (acc >> k) * numeric_codec_inv5[k];
	if (unlikely((uint128) q * (uint64) isomargin_pow10_64[k] != acc))
		return numeric_codec_read_int64_slow(d, coef, scale);
	neg = (hdr & NC_SHORT_SIGN_MASK) >> 13;
	*coef = (int64) ((q ^ -neg) + neg);
	*scale = dscale;
	return true;
}

/* numeric_codec_short64_layout's tables (numeric_codec.c) */
extern const uint8 numeric_codec_groups[64];
extern const uint64 numeric_codec_group_step[64];
extern const uint64 numeric_codec_short64_limit[4];

/*
 * A value whose coefficient is below 2^64 once aligned to whole digit
 * groups, in numeric's short format: its header and its groups, most
 * significant first, as stored: the first four in *first8 and the fifth in
 * *last2 (native byte order, zeros past the last), so that the caller
 * writes them with two stores whatever their number, which varies from row
 * to row; *n of them are stored (trailing zero groups are not).  Returns
 * the number of groups, or -1 when the value does not qualify.
 */
static pg_attribute_always_inline int
numeric_codec_short64_layout(int128 coef, int scale, uint16 *hdr, uint64 *first8, uint16 *last2,
							 int *n)
{
	uint128		u = coef < 0 ? -(uint128) coef : (uint128) coef;
	int			frac_groups = (int) (((unsigned) scale + 3) / 4);
	int			pad = frac_groups * 4 - scale;
	uint64		x,
				high,
				rest,
				g0,
				g4;
	uint32		mid,
				low;
	int			nd,
				top,
				weight;

	/* x < 10^19, aligned: at most five groups, and the weight fits the short header */
	if (scale > NC_SHORT_DSCALE_MAX || (uint64) (u >> 64) != 0 ||
		(uint64) u >= numeric_codec_short64_limit[pad])
		return -1;
	x = (uint64) u * (uint64) isomargin_pow10_64[pad];
	/* two 64-bit steps by 10^8, then 32-bit ones by 10^4 */
	high = x / UINT64CONST(100000000);
	low = (uint32) (x % UINT64CONST(100000000));
	mid = (uint32) (high % UINT64CONST(100000000));
	g0 = high / UINT64CONST(100000000);
	g4 = low % NC_NBASE;
	/* groups 1..4, the first in the lowest bytes */
	rest = (uint64) (mid / NC_NBASE) | (uint64) (mid % NC_NBASE) << 16 |
		(uint64) (low / NC_NBASE) << 32 | g4 << 48;
	top = 63 - __builtin_clzll(x | 1);
	nd = numeric_codec_groups[top] + (x >= numeric_codec_group_step[top]);
	if (nd == 5)
	{
		*first8 = g0 | rest << 16;
		*last2 = (uint16) g4;
	}
	else
	{
		/* x == 0 has rest == 0: the shift by 0 keeps it 0 */
		*first8 = rest >> ((64 - 16 * nd) & 63);
		*last2 = 0;
	}
	*n = nd;
	if (unlikely(g4 == 0))
		*n = *first8 == 0 ? 0 : (79 - __builtin_clzll(*first8)) / 16;
	weight = nd > 0 ? nd - 1 - frac_groups : 0;
	*hdr = NC_SHORT | (coef < 0 && *n > 0 ? NC_SHORT_SIGN_MASK : 0) |
		(scale << NC_SHORT_DSCALE_SHIFT) |
		(weight < 0 ? NC_SHORT_WEIGHT_SIGN_MASK : 0) | (weight & NC_SHORT_WEIGHT_MASK);
	return nd;
}

/* The header and the five groups' ten bytes at dst (short64_layout). */
static pg_attribute_always_inline void
numeric_codec_short64_store(char *dst, uint16 hdr, uint64 first8, uint16 last2)
{
	memcpy(dst, &hdr, sizeof(hdr));
	memcpy(dst + sizeof(hdr), &first8, sizeof(first8));
	memcpy(dst + sizeof(hdr) + sizeof(first8), &last2, sizeof(last2));
}

static pg_attribute_always_inline int
numeric_codec_write_packed(int128 coef, int scale, char *dst)
{
	uint16		hdr,
				last2;
	uint64		first8;
	int			n,
				size;

	if (numeric_codec_short64_layout(coef, scale, &hdr, &first8, &last2, &n) < 0)
		return 0;
	size = VARHDRSZ_SHORT + sizeof(uint16) + n * sizeof(int16);
	SET_VARSIZE_SHORT(dst, size);
	numeric_codec_short64_store(dst + VARHDRSZ_SHORT, hdr, first8, last2);
	return size;
}

#endif
