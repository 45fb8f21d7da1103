/*
 * args.h
 *	  Reading and checking the SQL functions' arguments.
 *
 * Every check names the argument in its error, with SQLSTATE 22023.
 */
#ifndef ISOMARGIN_ARGS_H
#define ISOMARGIN_ARGS_H

#include "access/tupdesc.h"
#include "fmgr.h"

#include "margin.h"
#include "quick.h"

/*
 * Arguments that usually repeat from row to row (a rate, a contract size, a
 * pair of rate and fee): the raw bytes of the last few distinct values seen
 * at a call site with what was computed from them, so that a call with the
 * same bytes skips parsing, checking and building.  A slot is found by its
 * index; the caller keeps its payload (a Dec, a schedule) in a parallel
 * array.  A book that interleaves a few instruments hits every row.
 */
#define ARG_MEMO_SLOTS 8
#define ARG_MEMO_BYTES 48		/* the key's bytes, both arguments together */
typedef struct ArgMemoKey
{
	int16		len1;			/* -1: empty */
	int16		len2;
	char		raw[ARG_MEMO_BYTES];
} ArgMemoKey;

typedef struct ArgMemo
{
	int			stable;			/* -1 unknown; 1: every keyed argument is a Const */
	int			last;			/* the slot found or kept last, -1 none */
	int			next;			/* the slot the next keep overwrites */
	uint64		fingerprint[ARG_MEMO_SLOTS];	/* of each key: scanned first */
	ArgMemoKey	key[ARG_MEMO_SLOTS];
	Dec			value[ARG_MEMO_SLOTS];
} ArgMemo;

/* Per-call-site state kept in fn_extra. */
typedef struct CallCache
{
	ArgMemo		flat;			/* keyed by (mmr, fee_rate): the schedules below */
	MarginBracket flat_bracket[ARG_MEMO_SLOTS];
	MarginSchedule flat_schedule[ARG_MEMO_SLOTS];
	ArgMemo		fee;
	ArgMemo		contract_size;
	ArgMemo		tick;
	ArgMemo		call_ratio;
	Oid			linear_oid;		/* contract_kind labels seen so far */
	Oid			inverse_oid;
	Oid			status_oids[4]; /* margin_status labels, by MarginStatus */
	int			rate_arg_kind;	/* 0 unknown, 1 numeric mmr, 2 tiers */
	TupleDesc	result_desc;	/* assess: blessed result row type */
	int			rule_kept;		/* price functions: 0 undecided, 1 rule kept, -1 not */
	QuickRule	rule;
	QuickLaneCache *lane;		/* liquidation_price: its call site takes the lane (quick.h) */
	void	   *tiers_cache;	/* owned by tiers.c */
} CallCache;

extern CallCache *call_cache_create(FunctionCallInfo fcinfo);

static inline CallCache *
call_cache(FunctionCallInfo fcinfo)
{
	if (likely(fcinfo->flinfo->fn_extra != NULL))
		return (CallCache *) fcinfo->flinfo->fn_extra;
	return call_cache_create(fcinfo);
}

typedef Dec (*ArgReader) (FunctionCallInfo fcinfo, int argno, const char *name);

/* read(fcinfo, argno, name), or the value kept for the same bytes */
extern Dec	arg_memoized(FunctionCallInfo fcinfo, int argno, const char *name,
						 ArgReader read, ArgMemo *memo);
extern bool arg_is_const(FunctionCallInfo fcinfo, int argno);
/* The slot whose key is the bytes of arguments argno1 and argno2 (-1: none), or -1. */
extern int	arg_memo_find(FunctionCallInfo fcinfo, ArgMemo *memo, int argno1, int argno2);
/* Keep those bytes in a slot and return it, or -1 when they cannot be kept. */
extern int	arg_memo_keep(FunctionCallInfo fcinfo, ArgMemo *memo, int argno1, int argno2);

extern Dec	arg_finite(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_positive(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_nonnegative(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_rate(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_call_ratio(FunctionCallInfo fcinfo, int argno, const char *name);
extern bool arg_kind_is_inverse(FunctionCallInfo fcinfo, int argno);
extern void check_rate_with_fee(Dec rate, Dec fee, const char *rate_name);

/* The OID of a margin_status label, for the function's own schema. */
extern Oid	status_enum_oid(FunctionCallInfo fcinfo, MarginStatus status);

#endif
