/*
 * args.h
 *	  Reading a SQL function's numeric arguments as exact decimals.
 *
 * Each reader names the argument in its error, with SQLSTATE 22023 and the
 * value in the detail.  What an argument's value means (a rate below 1, a
 * contract size above 0, ...) is the rule's to check (rule.h), not these.
 */
#ifndef ISOMARGIN_ARGS_H
#define ISOMARGIN_ARGS_H

#include "fmgr.h"

#include "decimal.h"

extern Dec	arg_finite(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_positive(FunctionCallInfo fcinfo, int argno, const char *name);
extern Dec	arg_nonnegative(FunctionCallInfo fcinfo, int argno, const char *name);

/* Is argument argno of this call a Const in the calling expression? */
extern bool arg_is_const(FunctionCallInfo fcinfo, int argno);

/*
 * The values of the constants the argument can take: a Const, or the
 * constant results of a CASE (nested CASEs too), at most max of them, in
 * out; how many.  Each is the very Datum the call receives whenever the
 * argument takes that constant: for a type passed by reference a pointer
 * into the plan, alive and unchanged while the plan is, so that a datum
 * equal to it holds the constant's bytes.
 */
extern int	arg_const_values(FunctionCallInfo fcinfo, int argno, Datum *out, int max);

/* 22023: "<name> must <rule>", the value (and where it comes from) in the detail */
extern void arg_reject(const char *name, const char *rule, Dec value,
					   const char *source) pg_attribute_noreturn();

/* numeric_out of a Dec */
extern char *dec_text(Dec v);

#endif
