/*
 * figure_row.c
 *	  A composite result formed in place (figure_row.h).
 */
#include "postgres.h"

#include "funcapi.h"

#include "figure_row.h"

void
figure_row_learn(FigureRow *fr, HeapTupleHeader formed, int natts, const Fix *v, uint32 has,
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
