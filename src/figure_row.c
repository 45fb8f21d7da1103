/*
 * figure_row.c
 *	  A composite result formed in place (figure_row.h).
 */
#include "postgres.h"

#include "funcapi.h"

#include "figure_row.h"
#include "numeric_codec.h"

Datum
figure_row_form(const FigureRow *fr, int natts, const Fix *v, const bool *has, int oid_att,
				Oid oid)
{
	uint32		bits = 0;		/* bit i: attribute i is not NULL */
	bool		anynull,
				anyvar;
	int			hoff;
	char	   *row,
			   *p;
	HeapTupleHeader td;

	Assert(natts <= 32);
	for (int i = 0; i < natts; i++)
		bits |= (uint32) (i == oid_att || has[i]) << i;
	anynull = bits != (uint32) ((UINT64CONST(1) << natts) - 1);
	anyvar = (bits & ~((uint32) 1 << oid_att)) != 0;
	hoff = MAXALIGN(SizeofHeapTupleHeader + (anynull ? BITMAPLEN(natts) : 0));
	/* numeric_codec_write_packed writes NUMERIC_CODEC_PACKED_ROOM bytes whatever the size */
	row = palloc(hoff + natts * NUMERIC_CODEC_PACKED_ROOM + 2 * sizeof(Oid));
	p = row + hoff;
	for (int i = 0; i < natts; i++)
	{
		if (i == oid_att)
		{
			/* aligned as heap_fill_tuple aligns an int4 (row is MAXALIGNed), padded with zeros */
			while ((p - row) % ALIGNOF_INT != 0)
				*p++ = 0;
			memcpy(p, &oid, sizeof(oid));
			p += sizeof(oid);
		}
		else if (has[i])
		{
			int			n = numeric_codec_write_packed(v[i].v, v[i].s, p);

			if (n == 0)
			{
				pfree(row);
				return (Datum) 0;
			}
			p += n;
		}
	}
	td = (HeapTupleHeader) row;
	memcpy(row, fr->header, SizeofHeapTupleHeader);
	HeapTupleHeaderSetDatumLength(td, p - row);
	td->t_infomask = fr->infomask | (anyvar ? HEAP_HASVARWIDTH : 0) | (anynull ? HEAP_HASNULL : 0);
	td->t_hoff = hoff;
	if (anynull)
	{
		memset(td->t_bits, 0, hoff - SizeofHeapTupleHeader);
		for (int b = 0; b < BITMAPLEN(natts); b++)
			td->t_bits[b] = (bits8) (bits >> (8 * b));
	}
	return HeapTupleHeaderGetDatum(td);
}

void
figure_row_learn(FigureRow *fr, HeapTupleHeader formed, int natts, const Fix *v, const bool *has,
				 int oid_att, Oid oid)
{
	Datum		d;
	Size		len = HeapTupleHeaderGetDatumLength(formed);

	memcpy(fr->header, formed, SizeofHeapTupleHeader);
	fr->infomask = formed->t_infomask & ~(HEAP_HASNULL | HEAP_HASVARWIDTH | HEAP_HASEXTERNAL);
	fr->state = -1;
	if (HeapTupleHeaderHasExternal(formed))
		return;
	d = figure_row_form(fr, natts, v, has, oid_att, oid);
	if (d == (Datum) 0)
	{
		fr->state = 0;			/* a value that does not pack: the next row decides */
		return;
	}
	if (HeapTupleHeaderGetDatumLength((HeapTupleHeader) DatumGetPointer(d)) == len &&
		memcmp(DatumGetPointer(d), formed, len) == 0)
		fr->state = 1;
	pfree(DatumGetPointer(d));
}
