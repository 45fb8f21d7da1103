/*
 * figure_row.c
 *	  A composite result formed in place (figure_row.h).
 */
#include "postgres.h"

#include "funcapi.h"

#include "figure_row.h"

/*
 * A value the packed writer declines (more than 19 digits once aligned, as
 * a weighted entry price of 16 decimals has): built by numeric_codec_make,
 * then stored as heap_fill_tuple stores a numeric that fits a 1-byte
 * header: that header, then the numeric's bytes, unaligned.
 */
bool
figure_row_value_long(char **p, const Fix *v)
{
	Numeric		n = numeric_codec_make(v->v, v->s);
	Size		len;

	if (!VARATT_CAN_MAKE_SHORT(n) ||
		(len = VARATT_CONVERTED_SHORT_SIZE(n)) > FIGURE_ROW_VALUE_ROOM)
	{
		pfree(n);
		return false;
	}
	SET_VARSIZE_SHORT(*p, len);
	memcpy(*p + VARHDRSZ_SHORT, VARDATA(n), len - VARHDRSZ_SHORT);
	*p += len;
	pfree(n);
	return true;
}

void
figure_row_learn(FigureRow *fr, HeapTupleHeader formed, int natts, const Fix *v, uint32 has,
				 int oid_att, Oid oid, bool longs)
{
	Datum		d;
	Size		len = HeapTupleHeaderGetDatumLength(formed);

	memcpy(fr->header, formed, SizeofHeapTupleHeader);
	fr->infomask = formed->t_infomask & ~(HEAP_HASNULL | HEAP_HASVARWIDTH | HEAP_HASEXTERNAL);
	fr->state = -1;
	if (HeapTupleHeaderHasExternal(formed))
		return;
	d = figure_row_form_values(fr, natts, v, has, oid_att, oid, longs);
	if (d == (Datum) 0)
	{
		fr->state = 0;			/* a value that does not fit: the next row decides */
		return;
	}
	if (HeapTupleHeaderGetDatumLength((HeapTupleHeader) DatumGetPointer(d)) == len &&
		memcmp(DatumGetPointer(d), formed, len) == 0)
		fr->state = 1;
	pfree(DatumGetPointer(d));
}
