/*
 * figure_support.c
 *	  The planner support function of the figures that take venue
 *	  conventions (install/29_figure_support.sql).
 *
 * A call on the mark basis leaves its convention arguments (mm_basis,
 * fee_basis, maintenance_amount, tier_basis, bracket_basis) at their
 * defaults, which the planner writes into the call as constants; the
 * executor would then evaluate and null-check each of them on every row.
 * At plan time (SupportRequestSimplify) this drops the trailing convention
 * arguments whose value is a constant equal to the declared default, so
 * that the call passes fewer arguments; the rule reads a convention
 * argument a call does not pass as its default (rule.c, conv_argno).  The
 * result is the same call: only the row-by-row cost changes.  An argument
 * that is not a constant, or differs from its default, is kept, and so is
 * every argument before it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

/* The arguments the rule reads as their defaults when a call leaves them out. */
static bool
is_convention(const char *name)
{
	static const char *const names[] = {
		"mm_basis", "fee_basis", "maintenance_amount", "tier_basis", "bracket_basis"
	};

	if (name == NULL)
		return false;
	for (int i = 0; i < (int) lengthof(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * How many of the call's arguments to keep: those before the trailing run
 * of convention arguments that are constants equal to their defaults.
 */
static int
arguments_kept(FuncExpr *call)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(call->funcid));
	Form_pg_proc proc;
	Oid		   *types;
	char	  **names;
	char	   *modes;
	List	   *defaults = NIL;
	int			nargs,
				keep;
	Datum		d;
	bool		isnull;

	if (!HeapTupleIsValid(tup))
		return -1;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	keep = list_length(call->args);
	nargs = get_func_arg_info(tup, &types, &names, &modes);
	d = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_proargdefaults, &isnull);
	if (!isnull)
		defaults = castNode(List, stringToNode(TextDatumGetCString(d)));
	/* the planner has filled in every default: anything else is left alone */
	if (keep == nargs && nargs == proc->pronargs && names != NULL && modes == NULL &&
		list_length(defaults) == proc->pronargdefaults)
	{
		int			first_default = nargs - list_length(defaults);

		while (keep > first_default && is_convention(names[keep - 1]))
		{
			Node	   *arg = list_nth(call->args, keep - 1);
			Node	   *def = eval_const_expressions(NULL,
													 list_nth(defaults, keep - 1 - first_default));

			if (!IsA(arg, Const) || !IsA(def, Const) || !equal(arg, def))
				break;
			keep--;
		}
	}
	ReleaseSysCache(tup);
	return keep;
}

PG_FUNCTION_INFO_V1(figure_support);
Datum
figure_support(PG_FUNCTION_ARGS)
{
	Node	   *request = (Node *) PG_GETARG_POINTER(0);
	FuncExpr   *call,
			   *shorter;
	int			keep;

	if (!IsA(request, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	call = ((SupportRequestSimplify *) request)->fcall;
	keep = arguments_kept(call);
	if (keep < 0 || keep == list_length(call->args))
		PG_RETURN_POINTER(NULL);
	shorter = makeFuncExpr(call->funcid, call->funcresulttype,
						   list_copy_head(call->args, keep), call->funccollid,
						   call->inputcollid, call->funcformat);
	shorter->funcretset = call->funcretset;
	shorter->funcvariadic = call->funcvariadic;
	shorter->location = call->location;
	PG_RETURN_POINTER(shorter);
}
