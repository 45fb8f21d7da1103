/*
 * tiers_json.c
 *	  isomargin.tiers(jsonb) and isomargin.tiers_to_jsonb(tiers): schedules
 *	  in the formats exchanges and their client libraries use (doc/tiers.md).
 *
 * Two list formats are read, told apart by their keys:
 *	 - client-library leverage tiers: minNotional, maxNotional,
 *	   maintenanceMarginRate, maxLeverage, optional maintenanceAmount
 *	   (else the raw bracket's cum under info, when there);
 *	 - the exchange's raw leverage brackets: notionalFloor, notionalCap,
 *	   maintMarginRatio, initialLeverage, optional cum; also wrapped as
 *	   {"symbol": ..., "brackets": [...]}, alone or in a one-element array.
 * Numbers may be JSON numbers or strings.  The output is the first format.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "numeric_codec.h"
#include "tiers.h"

PG_FUNCTION_INFO_V1(tiers);
PG_FUNCTION_INFO_V1(tiers_to_jsonb);

typedef enum TiersFormat
{
	FORMAT_NONE = -1,
	FORMAT_CLIENT = 0,
	FORMAT_EXCHANGE = 1
} TiersFormat;

/* Key of each TiersField, by format. */
static const char *const format_keys[2][TIERS_NFIELDS] = {
	{"minNotional", "maxNotional", "maintenanceMarginRate", "maintenanceAmount", "maxLeverage"},
	{"notionalFloor", "notionalCap", "maintMarginRatio", "cum", "initialLeverage"},
};

pg_attribute_noreturn()
static void
bad_document(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot read leverage tiers from jsonb"),
			 errdetail("%s", detail)));
}

static bool
get_key(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL &&
		out->type != jbvNull;
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
		!JsonContainerIsScalar(v->val.binary.data);
}

static const char *
type_name(JsonbValue *v)
{
	if (v->type == jbvBinary)
		return JsonContainerIsObject(v->val.binary.data) ? "object" : "array";
	return JsonbTypeName(v);
}

/* A decimal from a JSON number or a string holding one (sign allowed). */
static void
read_value(JsonbValue *v, int element, const char *key, int64 *coef, uint8 *scale)
{
	if (v->type == jbvNumeric)
	{
		if (!tiers_from_numeric(v->val.numeric, coef, scale))
			bad_document(psprintf("Element %d: \"%s\" (%s) has more than 18 significant digits or more than 18 decimals.",
								  element, key,
								  DatumGetCString(DirectFunctionCall1(numeric_out,
																	  NumericGetDatum(v->val.numeric)))));
		return;
	}
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
		const char *p = s;
		const char *end;
		bool		neg = false;
		TiersNumStatus st;

		if (*p == '-' || *p == '+')
			neg = (*p++ == '-');
		st = tiers_parse_number(p, &end, coef, scale);
		if (st == TIERS_NUM_OK && *end != '\0')
			st = TIERS_NUM_SYNTAX;
		if (st == TIERS_NUM_SYNTAX)
			bad_document(psprintf("Element %d: \"%s\" is \"%s\", not a decimal number.",
								  element, key, s));
		if (st == TIERS_NUM_RANGE)
			bad_document(psprintf("Element %d: \"%s\" (%s) has more than 18 significant digits or more than 18 decimals.",
								  element, key, s));
		if (neg)
			*coef = -*coef;
		return;
	}
	bad_document(psprintf("Element %d: \"%s\" must be a number or a string holding one, not a JSON %s.",
						  element, key, type_name(v)));
}

static TiersFormat
element_format(JsonbContainer *obj, int element)
{
	JsonbValue	v;

	if (get_key(obj, "qtyFloor", &v) || get_key(obj, "qtyCap", &v))
		bad_document(psprintf("Element %d is a bracket by quantity (qtyFloor, qtyCap), not by notional.",
							  element));
	if (get_key(obj, "notionalFloor", &v) || get_key(obj, "notionalCap", &v) ||
		get_key(obj, "maintMarginRatio", &v))
		return FORMAT_EXCHANGE;
	if (get_key(obj, "minNotional", &v) || get_key(obj, "maxNotional", &v) ||
		get_key(obj, "maintenanceMarginRate", &v))
		return FORMAT_CLIENT;
	bad_document(psprintf("Element %d has neither minNotional (client-library tiers) nor notionalFloor (exchange brackets).",
						  element));
	return FORMAT_NONE;			/* not reached */
}

/* The list of tiers or brackets inside the document. */
static JsonbContainer *
find_list(Jsonb *jb)
{
	JsonbContainer *root = &jb->root;
	JsonbValue	v;

	if (JsonContainerIsScalar(root))
		bad_document("The document is a single value, not a list of tiers or brackets.");
	if (JsonContainerIsObject(root))
	{
		if (!get_key(root, "brackets", &v) || !is_array(&v))
			bad_document("An object must hold a \"brackets\" array.");
		return v.val.binary.data;
	}
	if (JsonContainerSize(root) >= 1)
	{
		JsonbValue *first = getIthJsonbValueFromContainer(root, 0);

		if (is_object(first) && get_key(first->val.binary.data, "brackets", &v))
		{
			if (JsonContainerSize(root) > 1)
				bad_document(psprintf("The array holds the brackets of %d symbols; pass one of them.",
									  (int) JsonContainerSize(root)));
			if (!is_array(&v))
				bad_document("\"brackets\" must be an array.");
			return v.val.binary.data;
		}
	}
	return root;
}

static void
read_element(JsonbContainer *obj, TiersFormat fmt, int element, TiersDraft *draft)
{
	int			i = draft->nbrackets;
	TiersBracket *b = &draft->brackets[i];
	JsonbValue	v;

	for (int f = 0; f < TIERS_NFIELDS; f++)
	{
		const char *key = format_keys[fmt][f];

		if (get_key(obj, key, &v))
			read_value(&v, element, key, &b->coef[f], &b->scale[f]);
		else if (f != TIERS_AMOUNT)
			bad_document(psprintf("Element %d: \"%s\" is missing or null.", element, key));
		else if (fmt == FORMAT_CLIENT && get_key(obj, "info", &v) && is_object(&v) &&
				 get_key(v.val.binary.data, "cum", &v))
			read_value(&v, element, "info.cum", &b->coef[f], &b->scale[f]);
		else
			continue;
		if (f == TIERS_AMOUNT)
			draft->has_amount[i] = true;
	}
	draft->nbrackets++;
}

/* Insertion sort by floor: lists may come in any order. */
static void
sort_by_floor(TiersDraft *d)
{
	for (int i = 1; i < d->nbrackets; i++)
	{
		TiersBracket b = d->brackets[i];
		bool		has = d->has_amount[i];
		int			j = i;

		while (j > 0 && dec_cmp(tiers_dec(&d->brackets[j - 1], TIERS_FLOOR),
								tiers_dec(&b, TIERS_FLOOR)) > 0)
		{
			d->brackets[j] = d->brackets[j - 1];
			d->has_amount[j] = d->has_amount[j - 1];
			j--;
		}
		d->brackets[j] = b;
		d->has_amount[j] = has;
	}
}

Datum
tiers(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbContainer *list = find_list(jb);
	int			n = JsonContainerSize(list);
	TiersDraft *draft = palloc0(sizeof(TiersDraft));
	TiersFormat fmt = FORMAT_NONE;
	Tiers	   *t;
	char	   *detail;

	if (n > TIERS_MAX_BRACKETS)
		bad_document(psprintf("A schedule has at most %d brackets, not %d.", TIERS_MAX_BRACKETS, n));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(list, i);
		TiersFormat ef;

		if (!is_object(e))
			bad_document(psprintf("Element %d is a JSON %s, not an object.", i + 1, type_name(e)));
		ef = element_format(e->val.binary.data, i + 1);
		if (fmt == FORMAT_NONE)
			fmt = ef;
		else if (ef != fmt)
			bad_document(psprintf("Element %d is not in the format of element 1.", i + 1));
		read_element(e->val.binary.data, fmt, i + 1, draft);
	}
	sort_by_floor(draft);
	t = tiers_build(draft, &detail);
	if (t == NULL)
		bad_document(detail);
	PG_RETURN_TIERS_P(t);
}

static void
push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_number(JsonbParseState **st, int64 coef, int scale)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = numeric_codec_make(coef, scale);
	pushJsonbValue(st, WJB_VALUE, &v);
}

Datum
tiers_to_jsonb(PG_FUNCTION_ARGS)
{
	Tiers	   *t = PG_GETARG_TIERS_P(0);
	JsonbParseState *st = NULL;
	JsonbValue *res;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < t->nbrackets; i++)
	{
		const TiersBracket *b = &t->brackets[i];

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		push_key(&st, "tier");
		push_number(&st, i + 1, 0);
		for (int f = 0; f < TIERS_NFIELDS; f++)
		{
			push_key(&st, format_keys[FORMAT_CLIENT][f]);
			push_number(&st, b->coef[f], b->scale[f]);
		}
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	res = pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}
