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

#include "decimal.h"

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
extern NumericKind numeric_codec_read(Datum d, int128 *coef, int *scale, bool *fits);

/* Build a numeric equal to coef * 10^-scale with display scale `scale` (0..NUMERIC_DSCALE_MAX). */
extern Numeric numeric_codec_make(int128 coef, int scale);


#endif
