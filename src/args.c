/*
 * args.c
 *	  Reading and checking the SQL functions' arguments.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "args.h"
#include "numeric_codec.h"

static const char *const status_labels[] = {"ok", "margin_call", "liquidate", "bankrupt"};

CallCache *
call_cache_create(FunctionCallInfo fcinfo)
{
	CallCache  *cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallCache));
	ArgMemo    *memos[] = {&cache->flat, &cache->fee, &cache->contract_size,
		&cache->tick, &cache->call_ratio};

	for (int i = 0; i < (int) lengthof(memos); i++)
	{
		memos[i]->stable = memos[i]->last = -1;
		for (int k = 0; k < ARG_MEMO_SLOTS; k++)
			memos[i]->key[k].len1 = -1;
	}
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

/* Is argument argno of this call a Const in the calling expression? */
bool
arg_is_const(FunctionCallInfo fcinfo, int argno)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;
	List	   *args;
	Node	   *arg;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return false;
	args = ((FuncExpr *) expr)->args;
	if (argno >= list_length(args))
		return false;
	arg = (Node *) list_nth(args, argno);
	if (IsA(arg, NamedArgExpr))
		arg = (Node *) ((NamedArgExpr *) arg)->arg;
	return IsA(arg, Const);
}

/* The bytes of a short or plain varlena argument; false for a toasted one. */
static inline bool
arg_bytes(FunctionCallInfo fcinfo, int argno, const char **data, int *len)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));

	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		return false;
	*data = VARDATA_ANY(v);
	*len = VARSIZE_ANY_EXHDR(v);
	return true;
}

/* Keys are a few bytes long: compare them inline rather than call memcmp. */
static inline bool
key_matches(const ArgMemoKey *k, const char *d1, int l1, const char *d2, int l2)
{
	if (k->len1 != l1 || k->len2 != l2)
		return false;
	for (int i = 0; i < l1; i++)
		if (k->raw[i] != d1[i])
			return false;
	for (int i = 0; i < l2; i++)
		if (k->raw[l1 + i] != d2[i])
			return false;
	return true;
}

/*
 * Lengths and the last bytes of a key (numeric digits differ at the end),
 * so that a scan of the slots compares one word each before any bytes.
 */
static inline uint64
key_fingerprint(const char *d1, int l1, const char *d2, int l2)
{
	uint64		f = (uint64) (l1 & 0xff) << 56 | (uint64) (l2 & 0xff) << 48;

	for (int i = 0; i < l1 && i < 6; i++)
		f ^= (uint64) (uint8) d1[l1 - 1 - i] << (8 * i);
	for (int i = 0; i < l2 && i < 6; i++)
		f ^= (uint64) (uint8) d2[l2 - 1 - i] << (8 * ((i + 3) % 6));
	return f;
}

int
arg_memo_find(FunctionCallInfo fcinfo, ArgMemo *memo, int argno1, int argno2)
{
	uint64		fp;
	const char *d1,
			   *d2 = NULL;
	int			l1,
				l2 = 0;

	/*
	 * A Const argument never changes at this call site.  (A Param may: a
	 * PL/pgSQL variable is an external Param whose value changes between
	 * executions of a kept expression.)
	 */
	if (unlikely(memo->stable < 0))
		memo->stable = arg_is_const(fcinfo, argno1) &&
			(argno2 < 0 || arg_is_const(fcinfo, argno2)) ? 1 : 0;
	if (memo->stable > 0 && memo->last >= 0)
		return memo->last;
	if (!arg_bytes(fcinfo, argno1, &d1, &l1) ||
		(argno2 >= 0 && !arg_bytes(fcinfo, argno2, &d2, &l2)))
		return -1;
	fp = key_fingerprint(d1, l1, d2, l2);
	for (int k = 0; k < ARG_MEMO_SLOTS; k++)
		if (memo->fingerprint[k] == fp && key_matches(&memo->key[k], d1, l1, d2, l2))
			return memo->last = k;
	return -1;
}

int
arg_memo_keep(FunctionCallInfo fcinfo, ArgMemo *memo, int argno1, int argno2)
{
	const char *d1,
			   *d2 = NULL;
	int			l1,
				l2 = 0;
	int			k;

	if (!arg_bytes(fcinfo, argno1, &d1, &l1) ||
		(argno2 >= 0 && !arg_bytes(fcinfo, argno2, &d2, &l2)) ||
		l1 + l2 > ARG_MEMO_BYTES)
		return -1;
	k = memo->next;
	memo->next = (k + 1) % ARG_MEMO_SLOTS;
	memcpy(memo->key[k].raw, d1, l1);
	if (l2 > 0)
		memcpy(memo->key[k].raw + l1, d2, l2);
	memo->key[k].len1 = l1;
	memo->key[k].len2 = l2;
	memo->fingerprint[k] = key_fingerprint(d1, l1, d2, l2);
	return memo->last = k;
}

Dec
arg_memoized(FunctionCallInfo fcinfo, int argno, const char *name,
			 ArgReader read, ArgMemo *memo)
{
	int			k = arg_memo_find(fcinfo, memo, argno, -1);
	Dec			v;

	if (k >= 0)
		return memo->value[k];
	v = read(fcinfo, argno, name);
	/* a numeric-route value lives in short-lived memory: not kept */
	if (!v.big && (k = arg_memo_keep(fcinfo, memo, argno, -1)) >= 0)
		memo->value[k] = v;
	return v;
}

static char *
datum_text(Datum d)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, d));
}

Dec
arg_finite(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Datum		d = PG_GETARG_DATUM(argno);
	int128		coef;
	int			scale;
	bool		fits;
	NumericKind kind = numeric_codec_read(d, &coef, &scale, &fits);
	Dec			r;

	if (kind != NUMKIND_FINITE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number", name),
				 errdetail("The value is %s.", datum_text(d))));
	if (!fits)
		return dec_from_numeric(DatumGetNumeric(d), scale);
	r.coef = coef;
	r.scale = scale;
	r.big = NULL;
	return r;
}

/* 22023 naming the argument, its rule and its value */
static void
reject_arg(FunctionCallInfo fcinfo, int argno, const char *name, const char *rule)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must %s", name, rule),
			 errdetail("The value is %s.", datum_text(PG_GETARG_DATUM(argno)))));
}

Dec
arg_positive(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) <= 0)
		reject_arg(fcinfo, argno, name, "be greater than zero");
	return v;
}

Dec
arg_nonnegative(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) < 0)
		reject_arg(fcinfo, argno, name, "not be negative");
	return v;
}

Dec
arg_rate(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) < 0 || dec_cmp(v, dec_from_int(1)) >= 0)
		reject_arg(fcinfo, argno, name, "be at least 0 and less than 1");
	return v;
}

Dec
arg_call_ratio(FunctionCallInfo fcinfo, int argno, const char *name)
{
	Dec			v = arg_finite(fcinfo, argno, name);

	if (dec_sign(v) <= 0 || dec_cmp(v, dec_from_int(1)) > 0)
		reject_arg(fcinfo, argno, name, "be greater than 0 and at most 1");
	return v;
}

void
check_rate_with_fee(Dec rate, Dec fee, const char *rate_name)
{
	if (dec_cmp(dec_add(rate, fee), dec_from_int(1)) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s + fee_rate must be less than 1", rate_name),
				 errdetail("%s is %s and fee_rate is %s.", rate_name,
						   datum_text(NumericGetDatum(dec_to_numeric(rate))),
						   datum_text(NumericGetDatum(dec_to_numeric(fee)))),
				 errhint("A position whose maintenance margin and closing fee reach its whole notional can never be held.")));
}

bool
arg_kind_is_inverse(FunctionCallInfo fcinfo, int argno)
{
	Oid			kind = PG_GETARG_OID(argno);
	CallCache  *cache = call_cache(fcinfo);
	HeapTuple	tup;
	bool		inverse;

	if (kind == cache->linear_oid)
		return false;
	if (kind == cache->inverse_oid)
		return true;
	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(kind));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kind is not a contract_kind value")));
	inverse = strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), "inverse") == 0;
	ReleaseSysCache(tup);
	if (inverse)
		cache->inverse_oid = kind;
	else
		cache->linear_oid = kind;
	return inverse;
}

Oid
status_enum_oid(FunctionCallInfo fcinfo, MarginStatus status)
{
	CallCache  *cache = call_cache(fcinfo);

	if (!OidIsValid(cache->status_oids[status]))
	{
		Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
		Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum("margin_status"),
											ObjectIdGetDatum(nsp));

		for (int i = 0; i < (int) lengthof(status_labels); i++)
			cache->status_oids[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
													ObjectIdGetDatum(typid),
													CStringGetDatum(status_labels[i]));
		if (!OidIsValid(cache->status_oids[status]))
			elog(ERROR, "isomargin.margin_status is missing label \"%s\"", status_labels[status]);
	}
	return cache->status_oids[status];
}
