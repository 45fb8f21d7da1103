/*
 * args.c
 *	  Reading a SQL function's numeric arguments as exact decimals (args.h).
 */
#include "postgres.h"

#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "args.h"
#include "numeric_codec.h"

char *
dec_text(Dec v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(dec_to_numeric(v))));
}

/* The argument's expression in the calling FuncExpr, or NULL. */
static Node *
arg_expr(FunctionCallInfo fcinfo, int argno)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;
	List	   *args;
	Node	   *arg;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return NULL;
	args = ((FuncExpr *) expr)->args;
	if (argno >= list_length(args))
		return NULL;
	arg = (Node *) list_nth(args, argno);
	if (IsA(arg, NamedArgExpr))
		arg = (Node *) ((NamedArgExpr *) arg)->arg;
	return arg;
}

bool
arg_is_const(FunctionCallInfo fcinfo, int argno)
{
	Node	   *arg = arg_expr(fcinfo, argno);

	return arg != NULL && IsA(arg, Const);
}

/* arg_const_values below, for one expression: false when *n reached max */
static bool
collect_consts(Node *node, Datum *out, int *n, int max)
{
	if (node == NULL)
		return true;
	if (IsA(node, Const))
	{
		if (((Const *) node)->constisnull)
			return true;
		if (*n >= max)
			return false;
		out[(*n)++] = ((Const *) node)->constvalue;
		return true;
	}
	if (IsA(node, CaseExpr))
	{
		ListCell   *lc;

		foreach(lc, ((CaseExpr *) node)->args)
			if (!collect_consts((Node *) ((CaseWhen *) lfirst(lc))->result, out, n, max))
				return false;
		return collect_consts((Node *) ((CaseExpr *) node)->defresult, out, n, max);
	}
	return true;
}

int
arg_const_values(FunctionCallInfo fcinfo, int argno, Datum *out, int max)
{
	int			n = 0;

	collect_consts(arg_expr(fcinfo, argno), out, &n, max);
	return n;
}

void
arg_reject(const char *name, const char *rule, Dec value, const char *source)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must %s", name, rule),
			 errdetail("The value is %s%s.", dec_text(value), source ? source : "")));
}

Dec
arg_finite(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Datum		d = PG_GETARG_DATUM(argno);
	int128		coef;
	int			scale;
	bool		fits;
	NumericKind kind = numeric_codec_read(d, &coef, &scale, &fits);

	if (kind != NUMKIND_FINITE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number", name),
				 errdetail("The value is %s.", DatumGetCString(DirectFunctionCall1(numeric_out, d)))));
	if (!fits)
		return dec_from_numeric(DatumGetNumeric(d), scale);
	return dec_make(coef, scale);
}

Dec
arg_positive(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) <= 0)
		arg_reject(name, "be greater than zero", v, NULL);
	return v;
}

Dec
arg_nonnegative(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) < 0)
		arg_reject(name, "not be negative", v, NULL);
	return v;
}
