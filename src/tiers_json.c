/*
 * tiers_json.c
 *	  isomargin.tiers(jsonb) and isomargin.tiers_to_jsonb(tiers): schedules
 *	  in the formats exchanges and their client libraries use (doc/tiers.md).
 *
 * The list formats read, told apart by their keys:
 *	 - client-library leverage tiers: minNotional, maxNotional,
 *	   maintenanceMarginRate, maxLeverage, optional maintenanceAmount
 *	   (else the raw bracket's cum under info, when there);
 *	 - the largest exchange's raw leverage brackets: notionalFloor,
 *	   notionalCap, maintMarginRatio, initialLeverage, optional cum; its
 *	   coin-margined ones by quantity in coin, qtyFloor and qtyCap; also
 *	   wrapped as {"symbol" (or "pair"): ..., "brackets": [...]}, alone or
 *	   in a one-element array;
 *	 - OKX position tiers (minSz, maxSz in contracts, mmr, maxLever), bare
 *	   or as the API returns them ({"code": ..., "data": [...]}): step tiers,
 *	   amounts=none, for tier_basis 'contracts';
 *	 - Bybit v5 risk limits (riskLimitValue, the cap; maintenanceMargin;
 *	   mmDeduction; maxLeverage), bare or as {"result": {"list": [...]}}:
 *	   each floor is the cap before it, amounts=given;
 *	 - Hyperliquid margin tiers (lowerBound, maxLeverage), bare or as
 *	   {"marginTiers": [...]}: each cap is the floor after it, the rate is
 *	   half the initial rate at the maximum leverage, 1/(2L), rounded up to
 *	   18 decimals, amounts derived.
 * Two rules make the venues' bounds a schedule: a last cap of
 * 9223372036854775807 (2^63 - 1, "no cap") is read as TIERS_CAP_NONE, and
 * in OKX's tiers a floor one whole contract above the cap before it (500
 * then 501) is read as that cap.  Numbers may be JSON numbers or strings.  The
 * output is the client-library format, wrapped as {"amounts": ...,
 * "brackets": [...]} when the amounts are not derived.
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
	FORMAT_EXCHANGE,
	FORMAT_EXCHANGE_QTY,
	FORMAT_OKX,
	FORMAT_BYBIT,
	FORMAT_HYPERLIQUID,
	FORMAT_N
} TiersFormat;

/* Key of each TiersField, by format; NULL: the format has none (derived from the others). */
static const char *const format_keys[FORMAT_N][TIERS_NFIELDS] = {
	{"minNotional", "maxNotional", "maintenanceMarginRate", "maintenanceAmount", "maxLeverage"},
	{"notionalFloor", "notionalCap", "maintMarginRatio", "cum", "initialLeverage"},
	{"qtyFloor", "qtyCap", "maintMarginRatio", "cum", "initialLeverage"},
	{"minSz", "maxSz", "mmr", NULL, "maxLever"},
	{NULL, "riskLimitValue", "maintenanceMargin", "mmDeduction", "maxLeverage"},
	{"lowerBound", NULL, NULL, NULL, "maxLeverage"},
};

/* How each format's amounts are read (TIERS_AMOUNTS_*). */
static const int format_amounts[FORMAT_N] = {
	TIERS_AMOUNTS_DERIVED, TIERS_AMOUNTS_DERIVED, TIERS_AMOUNTS_DERIVED,
	TIERS_AMOUNTS_NONE, TIERS_AMOUNTS_GIVEN, TIERS_AMOUNTS_DERIVED,
};

/* The words of "amounts", by TIERS_AMOUNTS_* */
static const char *const amounts_words[] = {"derived", "given", "none"};

/* The venues' "no cap": INT64_MAX, and the cap a schedule holds in its place. */
#define JSON_NO_CAP "9223372036854775807"
#define TIERS_CAP_NONE INT64CONST(999999999999999999)

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
		return FORMAT_EXCHANGE_QTY;
	if (get_key(obj, "notionalFloor", &v) || get_key(obj, "notionalCap", &v) ||
		get_key(obj, "maintMarginRatio", &v))
		return FORMAT_EXCHANGE;
	if (get_key(obj, "minNotional", &v) || get_key(obj, "maxNotional", &v) ||
		get_key(obj, "maintenanceMarginRate", &v))
		return FORMAT_CLIENT;
	if (get_key(obj, "minSz", &v) || get_key(obj, "maxSz", &v))
		return FORMAT_OKX;
	if (get_key(obj, "riskLimitValue", &v))
		return FORMAT_BYBIT;
	if (get_key(obj, "lowerBound", &v))
		return FORMAT_HYPERLIQUID;
	bad_document(psprintf("Element %d has none of minNotional (client-library tiers), notionalFloor or qtyFloor (exchange brackets), minSz (OKX), riskLimitValue (Bybit), lowerBound (Hyperliquid).",
						  element));
	return FORMAT_NONE;			/* not reached */
}

/* The keys under which a venue's response holds the list. */
static const char *const list_keys[] = {"brackets", "data", "list", "marginTiers"};

/*
 * The list of an object: under one of list_keys, or Bybit's result.list;
 * *amounts set from an "amounts" key (tiers_to_jsonb's wrapper).
 */
static JsonbContainer *
object_list(JsonbContainer *obj, int *amounts)
{
	JsonbValue	v;

	if (get_key(obj, "amounts", &v))
	{
		int			k;

		for (k = 0; k < (int) lengthof(amounts_words); k++)
			if (v.type == jbvString && v.val.string.len == (int) strlen(amounts_words[k]) &&
				memcmp(v.val.string.val, amounts_words[k], v.val.string.len) == 0)
				break;
		if (k == (int) lengthof(amounts_words))
			bad_document("\"amounts\" must be \"derived\", \"given\" or \"none\".");
		*amounts = k;
	}
	if (get_key(obj, "result", &v) && is_object(&v))
		obj = v.val.binary.data;
	for (int k = 0; k < (int) lengthof(list_keys); k++)
		if (get_key(obj, list_keys[k], &v))
		{
			if (!is_array(&v))
				bad_document(psprintf("\"%s\" must be an array.", list_keys[k]));
			return v.val.binary.data;
		}
	bad_document("An object must hold its list as \"brackets\", \"data\" (OKX), \"result\": {\"list\"} (Bybit) or \"marginTiers\" (Hyperliquid).");
	return NULL;				/* not reached */
}

/* The list of tiers or brackets inside the document. */
static JsonbContainer *
find_list(Jsonb *jb, int *amounts)
{
	JsonbContainer *root = &jb->root;
	JsonbValue	v;

	if (JsonContainerIsScalar(root))
		bad_document("The document is a single value, not a list of tiers or brackets.");
	if (JsonContainerIsObject(root))
		return object_list(root, amounts);
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

/* Is v the venues' "no cap", 2^63 - 1, as a number or a string? */
static bool
is_no_cap(JsonbValue *v)
{
	if (v->type == jbvString)
		return v->val.string.len == (int) strlen(JSON_NO_CAP) &&
			memcmp(v->val.string.val, JSON_NO_CAP, v->val.string.len) == 0;
	if (v->type == jbvNumeric)
		return strcmp(DatumGetCString(DirectFunctionCall1(numeric_out,
														  NumericGetDatum(v->val.numeric))),
					  JSON_NO_CAP) == 0;
	return false;
}

/*
 * One element into the draft; *no_cap set when its cap is the venues'
 * "no cap" (allowed in the last bracket only, checked once sorted).
 */
static void
read_element(JsonbContainer *obj, TiersFormat fmt, int element, TiersDraft *draft, bool *no_cap)
{
	int			i = draft->nbrackets;
	TiersBracket *b = &draft->brackets[i];
	JsonbValue	v;

	*no_cap = false;
	for (int f = 0; f < TIERS_NFIELDS; f++)
	{
		const char *key = format_keys[fmt][f];

		if (key == NULL)
			continue;
		if (f == TIERS_CAP && get_key(obj, key, &v) && is_no_cap(&v))
		{
			b->coef[f] = TIERS_CAP_NONE;
			b->scale[f] = 0;
			*no_cap = true;
			continue;
		}
		/* Bybit's first tier has mmDeduction "" */
		if (fmt == FORMAT_BYBIT && f == TIERS_AMOUNT && get_key(obj, key, &v) &&
			v.type == jbvString && v.val.string.len == 0)
		{
			b->coef[f] = 0;
			b->scale[f] = 0;
			draft->has_amount[i] = true;
			continue;
		}
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

/*
 * Insertion sort by floor (by cap when the format has no floors): lists may
 * come in any order.  no_cap moves with its bracket.
 */
static void
sort_by(TiersDraft *d, TiersField key, bool *no_cap)
{
	for (int i = 1; i < d->nbrackets; i++)
	{
		TiersBracket b = d->brackets[i];
		bool		has = d->has_amount[i];
		bool		none = no_cap[i];
		int			j = i;

		while (j > 0 && dec_cmp(tiers_dec(&d->brackets[j - 1], key), tiers_dec(&b, key)) > 0)
		{
			d->brackets[j] = d->brackets[j - 1];
			d->has_amount[j] = d->has_amount[j - 1];
			no_cap[j] = no_cap[j - 1];
			j--;
		}
		d->brackets[j] = b;
		d->has_amount[j] = has;
		no_cap[j] = none;
	}
}

static void
set_field(TiersBracket *b, TiersField f, Dec v)
{
	b->coef[f] = (int64) v.coef;
	b->scale[f] = (uint8) v.scale;
}

/*
 * The fields a format leaves to be derived from its neighbours (Bybit's
 * floors, Hyperliquid's caps and rates), the "no cap" rule and the rule of
 * one-unit gaps.
 */
static void
complete_draft(TiersDraft *d, TiersFormat fmt, const bool *no_cap)
{
	int			n = d->nbrackets;

	for (int i = 0; i < n; i++)
	{
		TiersBracket *b = &d->brackets[i];

		if (no_cap[i] && i < n - 1)
			bad_document(psprintf("Bracket %d has the cap %s (no cap), which only the last bracket may have.",
								  i + 1, JSON_NO_CAP));
		if (fmt == FORMAT_BYBIT)
			set_field(b, TIERS_FLOOR, i == 0 ? dec_from_int(0) : tiers_dec(&d->brackets[i - 1], TIERS_CAP));
		if (fmt == FORMAT_HYPERLIQUID)
		{
			Dec			lev = tiers_dec(b, TIERS_LEVERAGE);
			Dec			rate;
			int64		coef;
			uint8		scale;

			if (i < n - 1)
				set_field(b, TIERS_CAP, tiers_dec(&d->brackets[i + 1], TIERS_FLOOR));
			else
				set_field(b, TIERS_CAP, dec_make(TIERS_CAP_NONE, 0));
			if (dec_sign(lev) <= 0)
				bad_document(psprintf("Bracket %d: \"maxLeverage\" must be greater than 0.", i + 1));
			/* half the initial rate at the maximum leverage, up */
			rate = dec_div_round(dec_from_int(1), dec_mul(dec_from_int(2), lev), TIERS_MAX_SCALE,
								 DEC_CEIL);
			if (rate.big || !tiers_normalize(rate.coef, rate.scale, &coef, &scale))
				bad_document(psprintf("Bracket %d: the rate 1/(2*maxLeverage) does not fit.", i + 1));
			b->coef[TIERS_MMR] = coef;
			b->scale[TIERS_MMR] = scale;
		}
		/* OKX's 500 then 501: whole contracts leave no room between them */
		if (fmt == FORMAT_OKX && i > 0 && b->scale[TIERS_FLOOR] == 0 && d->brackets[i - 1].scale[TIERS_CAP] == 0 &&
			d->brackets[i - 1].coef[TIERS_CAP] == b->coef[TIERS_FLOOR] - 1)
			b->coef[TIERS_FLOOR] = d->brackets[i - 1].coef[TIERS_CAP];
	}
}

Datum
tiers(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	int			amounts = -1;
	JsonbContainer *list = find_list(jb, &amounts);
	int			n = JsonContainerSize(list);
	TiersDraft *draft = palloc0(sizeof(TiersDraft));
	TiersFormat fmt = FORMAT_NONE;
	bool		no_cap[TIERS_MAX_BRACKETS] = {0};
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
		read_element(e->val.binary.data, fmt, i + 1, draft, &no_cap[i]);
	}
	sort_by(draft, fmt == FORMAT_BYBIT ? TIERS_CAP : TIERS_FLOOR, no_cap);
	if (fmt != FORMAT_NONE)
		complete_draft(draft, fmt, no_cap);
	draft->amounts = amounts >= 0 ? amounts : fmt != FORMAT_NONE ? format_amounts[fmt] : 0;
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

	if (TIERS_AMOUNTS(t) != TIERS_AMOUNTS_DERIVED)
	{
		JsonbValue	v;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		push_key(&st, "amounts");
		v.type = jbvString;
		v.val.string.val = (char *) amounts_words[TIERS_AMOUNTS(t)];
		v.val.string.len = strlen(v.val.string.val);
		pushJsonbValue(&st, WJB_VALUE, &v);
		push_key(&st, "brackets");
	}
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
	if (TIERS_AMOUNTS(t) != TIERS_AMOUNTS_DERIVED)
		res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}
