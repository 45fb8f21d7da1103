/*
 * figure_row.h
 *	  A composite result of packed numerics and at most one Oid formed in
 *	  place (assess's row, after_fill's), with the bytes heap_form_tuple
 *	  would give.
 *
 * heap_form_tuple costs more than the figures of assess's row put
 * together: it walks the descriptor twice (sizes, then values) and copies
 * each value.  A row whose values are known to be short numerics and at
 * most one 4-byte Oid can be laid out directly, its numerics written where
 * they belong.  The row's header (type, typmod, and this PostgreSQL's datum
 * version) is taken from the first row heap_form_tuple forms at the call
 * site, and that row is formed in place too and compared byte for byte:
 * only a call site where they agree forms its rows in place.
 */
#ifndef ISOMARGIN_FIGURE_ROW_H
#define ISOMARGIN_FIGURE_ROW_H

#include "access/htup_details.h"
#include "port/pg_bitutils.h"

#include "fixed.h"
#include "numeric_codec.h"

typedef struct FigureRow
{
	int8		state;			/* 0: not compared yet; 1: formed in place; -1: heap_form_tuple */
	uint16		infomask;		/* heap_form_tuple's, less the bits the values decide */
	char		header[SizeofHeapTupleHeader];	/* heap_form_tuple's header */
} FigureRow;

/*
 * The room a value may take in the row: a numeric of an int128 coefficient
 * (at most 39 digits, 11 groups once aligned) has a 1-byte varlena header,
 * a header of 2 or 4 bytes and at most 22 bytes of groups
 */
#define FIGURE_ROW_VALUE_ROOM 32
StaticAssertDecl(FIGURE_ROW_VALUE_ROOM >= NUMERIC_CODEC_PACKED_ROOM,
				 "the row's room for a value holds numeric_codec_write_packed's stores");

/* a value of more than the packed form's digits, as heap_fill_tuple stores it */
extern bool figure_row_value_long(char **p, const Fix *v);

/*
 * v at *p as a short varlena, *p moved past it; false when it does not fit
 * the room, or without `longs` when it does not pack
 */
static pg_attribute_always_inline bool
figure_row_value(char **p, const Fix *v, bool longs)
{
	int			n = numeric_codec_write_packed(v->v, v->s, *p);

	if (likely(n != 0))
	{
		*p += n;
		return true;
	}
	return longs && figure_row_value_long(p, v);
}

/* the largest t_hoff of a row of at most 32 attributes */
#define FIGURE_ROW_HOFF_MAX MAXALIGN(SizeofHeapTupleHeader + BITMAPLEN(32))

/*
 * The row of natts (at most 32) attributes: v[i] as a numeric where bit i
 * of `has` is set, NULL where not, except at oid_att, which holds oid
 * (oid_att -1: a row of numerics only).  0 when a value does not fit its
 * room (the caller then forms the row by heap_form_tuple).  Inline: natts
 * and oid_att are the caller's constants.
 */
static pg_attribute_always_inline Datum
figure_row_form_values(const FigureRow *fr, int natts, const Fix *v, uint32 has, int oid_att,
					   Oid oid, bool longs)
{
	uint32		oid_bit = oid_att >= 0 ? (uint32) 1 << oid_att : 0;
	uint32		bits = has | oid_bit;	/* bit i: attribute i is not NULL */
	bool		anynull,
				anyvar;
	int			hoff;
	char	   *row,
			   *p;
	HeapTupleHeader td;

	Assert(natts <= 32);
	anynull = bits != (uint32) ((UINT64CONST(1) << natts) - 1);
	anyvar = (bits & ~oid_bit) != 0;
	hoff = MAXALIGN(SizeofHeapTupleHeader + (anynull ? BITMAPLEN(natts) : 0));
	/* numeric_codec_write_packed writes NUMERIC_CODEC_PACKED_ROOM bytes whatever the size */
	row = palloc(FIGURE_ROW_HOFF_MAX +
				 natts * (longs ? FIGURE_ROW_VALUE_ROOM : NUMERIC_CODEC_PACKED_ROOM) +
				 2 * sizeof(Oid));
	/*
	 * The header, then the null bitmap's bytes and their padding zeroed in
	 * one store of a fixed size, without a call (the values that follow
	 * overwrite what lies past hoff)
	 */
	memcpy(row, fr->header, SizeofHeapTupleHeader);
	memset(row + SizeofHeapTupleHeader, 0, FIGURE_ROW_HOFF_MAX - SizeofHeapTupleHeader);
	p = row + hoff;
	/* the values before the Oid, the Oid, the values after it: the set bits only */
	for (uint32 m = oid_att >= 0 ? has & (oid_bit - 1) : has; m != 0; m &= m - 1)
		if (!figure_row_value(&p, &v[pg_rightmost_one_pos32(m)], longs))
			goto declined;
	if (oid_att >= 0)
	{
		/* aligned as heap_fill_tuple aligns an int4 (row is MAXALIGNed), padded with zeros */
		memset(p, 0, ALIGNOF_INT);
		p += (ALIGNOF_INT - (p - row) % ALIGNOF_INT) % ALIGNOF_INT;
		memcpy(p, &oid, sizeof(oid));
		p += sizeof(oid);
		for (uint32 m = has & ~((oid_bit << 1) - 1); m != 0; m &= m - 1)
			if (!figure_row_value(&p, &v[pg_rightmost_one_pos32(m)], longs))
				goto declined;
	}
	td = (HeapTupleHeader) row;
	HeapTupleHeaderSetDatumLength(td, p - row);
	td->t_infomask = fr->infomask | (anyvar ? HEAP_HASVARWIDTH : 0) | (anynull ? HEAP_HASNULL : 0);
	td->t_hoff = hoff;
	if (anynull)
	{
		for (int b = 0; b < BITMAPLEN(natts); b++)
			td->t_bits[b] = (bits8) (bits >> (8 * b));
	}
	/* HeapTupleHeaderGetDatum's: a row without external values is its own datum */
	return PointerGetDatum(td);

declined:
	pfree(row);
	return (Datum) 0;
}

/* The row in place, every value packed (assess's: most rows pack) */
static pg_attribute_always_inline Datum
figure_row_form(const FigureRow *fr, int natts, const Fix *v, uint32 has, int oid_att, Oid oid)
{
	return figure_row_form_values(fr, natts, v, has, oid_att, oid, false);
}

/*
 * ... with the values that do not pack too (after_fill's: an increase's
 * entry price of 16 decimals never does)
 */
static pg_attribute_always_inline Datum
figure_row_form_any(const FigureRow *fr, int natts, const Fix *v, uint32 has, int oid_att, Oid oid)
{
	return figure_row_form_values(fr, natts, v, has, oid_att, oid, true);
}

/*
 * After the call site's first row, formed by heap_form_tuple from the same
 * values: take its header, form the row in place and compare; fr->state
 * says which way the call site's rows are formed from now on.  `longs`:
 * the call site forms its rows with figure_row_form_any.
 */
extern void figure_row_learn(FigureRow *fr, HeapTupleHeader formed, int natts, const Fix *v,
							 uint32 has, int oid_att, Oid oid, bool longs);

#endif
