/*
 * figure_row.h
 *	  A composite result of packed numerics and one Oid formed in place
 *	  (assess's row), with the bytes heap_form_tuple would give.
 *
 * heap_form_tuple costs more than the figures of assess's row put
 * together: it walks the descriptor twice (sizes, then values) and copies
 * each value.  A row whose values are known to be short numerics and one
 * 4-byte Oid can be laid out directly, its numerics written where they
 * belong.  The row's header (type, typmod, and this PostgreSQL's datum
 * version) is taken from the first row heap_form_tuple forms at the call
 * site, and that row is formed in place too and compared byte for byte:
 * only a call site where they agree forms its rows in place.
 */
#ifndef ISOMARGIN_FIGURE_ROW_H
#define ISOMARGIN_FIGURE_ROW_H

#include "access/htup_details.h"

#include "fixed.h"

typedef struct FigureRow
{
	int8		state;			/* 0: not compared yet; 1: formed in place; -1: heap_form_tuple */
	uint16		infomask;		/* heap_form_tuple's, less the bits the values decide */
	char		header[SizeofHeapTupleHeader];	/* heap_form_tuple's header */
} FigureRow;

/*
 * The row of natts attributes: v[i] as a numeric where has[i], NULL where
 * not, except at oid_att, which holds oid.  0 when a value does not take
 * the packed form (the caller then forms the row by heap_form_tuple).
 */
extern Datum figure_row_form(const FigureRow *fr, int natts, const Fix *v, const bool *has,
							 int oid_att, Oid oid);

/*
 * After the call site's first row, formed by heap_form_tuple from the same
 * values: take its header, form the row in place and compare; fr->state
 * says which way the call site's rows are formed from now on.
 */
extern void figure_row_learn(FigureRow *fr, HeapTupleHeader formed, int natts, const Fix *v,
							 const bool *has, int oid_att, Oid oid);

#endif
