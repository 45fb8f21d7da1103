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
 * A numeric argument that is usually the same on every row (a rate, a
 * contract size): its raw bytes and checked value, so that the next call
 * with the same bytes skips parsing and checking.
 */
#define ARG_MEMO_BYTES 24
typedef struct ArgMemo
{
	int			len;			/* -1: empty */
	int			stable;			/* -1 unknown; 1: a Const in the call */
	char		raw[ARG_MEMO_BYTES];
	Dec			value;
} ArgMemo;

/* Per-call-site state kept in fn_extra. */
typedef struct CallCache
{
	ArgMemo		mmr;
	ArgMemo		fee;
	ArgMemo		contract_size;
	ArgMemo		tick;
	ArgMemo		call_ratio;
	MarginBracket flat_bracket; /* the flat schedule of mmr and fee above */
	MarginSchedule flat;
	Oid			linear_oid;		/* contract_kind labels seen so far */
	Oid			inverse_oid;
	Oid			status_oids[4]; /* margin_status labels, by MarginStatus */
	int			rate_arg_kind;	/* 0 unknown, 1 numeric mmr, 2 tiers */
	TupleDesc	result_desc;	/* assess: blessed result row type */
	int			rule_kept;		/* price functions: 0 undecided, 1 rule kept, -1 not */
	QuickRule	rule;
	void	   *tiers_cache;	/* owned by tiers.c */
} CallCache;

extern CallCache *call_cache(FunctionCallInfo fcinfo);

typedef Dec (*ArgReader) (FunctionCallInfo fcinfo, int argno, const char *name);

/* read(fcinfo, argno, name), or the value kept from the last call with the same bytes */
extern Dec	arg_memoized(FunctionCallInfo fcinfo, int argno, const char *name,
						 ArgReader read, ArgMemo *memo);
extern bool arg_is_const(FunctionCallInfo fcinfo, int argno);
extern bool arg_memo_matches(FunctionCallInfo fcinfo, int argno, ArgMemo *memo);
extern void arg_memo_keep(ArgMemo *memo, Datum d, Dec value);

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
