/*
 * liquidity_curve.c
 *	  An instrument's liquidity curve read from its jsonb form and evaluated
 *	  for a position's size (liquidity_curve.h).
 *
 * The jsonb form, as liquidity_curve() builds it:
 *   {"kind": "linear", "mark_price": 100, "penalty_rate": 0.01,
 *    "bid": [[0, 0, 1], [1, 1, 2], [2, 3, 3], [2.5, 4.5, 4]], "ask": [[0, 0, 1]]}
 * each piece [from, cost, slope]: the cost of closing `from` contracts and
 * the cost of each contract more, up to the next piece.  The rate of q > 0
 * contracts is (cost + (q - from) * slope) / (q * mark_price) (linear) or
 * / q (inverse), rounded up to 6 decimals, as liquidity_addon rounds it.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

#include "args.h"
#include "liquidity_curve.h"
#include "numeric_codec.h"

typedef struct CurveSource
{
	const char *name;
	const char *source;
} CurveSource;

static void pg_attribute_noreturn()
bad_curve(const CurveSource *src, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s is not a liquidity curve", src->name),
			 errdetail("%s%s.", why, src->source),
			 errhint("Build it with isomargin.liquidity_curve() or let isomargin.watch_liquidity() write it.")));
}

static JsonbValue *
member(const CurveSource *src, JsonbContainer *obj, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
	if (v == NULL)
		bad_curve(src, psprintf("It has no \"%s\"", key));
	return v;
}

static Dec
number(const CurveSource *src, JsonbValue *v, const char *what)
{
	int128		coef;
	int			scale;
	bool		fits;
	Datum		d;

	if (v == NULL || v->type != jbvNumeric)
		bad_curve(src, psprintf("Its %s is not a number", what));
	d = NumericGetDatum(v->val.numeric);
	if (numeric_codec_read(d, &coef, &scale, &fits) != NUMKIND_FINITE)
		bad_curve(src, psprintf("Its %s is not a finite number", what));
	if (!fits)
		return dec_from_numeric(v->val.numeric, scale);
	return dec_make(coef, scale);
}

static void
read_side(const CurveSource *src, JsonbContainer *obj, const char *key, LiquiditySide *side)
{
	JsonbValue *v = member(src, obj, key);
	JsonbContainer *arr;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) == 0)
		bad_curve(src, psprintf("Its \"%s\" is not a non-empty array of pieces", key));
	arr = v->val.binary.data;
	side->n = JsonContainerSize(arr);
	side->from = palloc(sizeof(Dec) * side->n);
	side->cost = palloc(sizeof(Dec) * side->n);
	side->slope = palloc(sizeof(Dec) * side->n);
	for (int k = 0; k < side->n; k++)
	{
		JsonbValue *piece = getIthJsonbValueFromContainer(arr, k);
		JsonbContainer *p;
		char	   *what = psprintf("\"%s\" piece %d", key, k + 1);

		if (piece == NULL || piece->type != jbvBinary ||
			!JsonContainerIsArray(piece->val.binary.data) ||
			JsonContainerSize(piece->val.binary.data) != 3)
			bad_curve(src, psprintf("Its %s is not [from, cost, slope]", what));
		p = piece->val.binary.data;
		side->from[k] = number(src, getIthJsonbValueFromContainer(p, 0), what);
		side->cost[k] = number(src, getIthJsonbValueFromContainer(p, 1), what);
		side->slope[k] = number(src, getIthJsonbValueFromContainer(p, 2), what);
		if (k == 0 ? dec_sign(side->from[k]) != 0 : dec_cmp(side->from[k], side->from[k - 1]) <= 0)
			bad_curve(src, psprintf("Its %s does not start %s", what,
									k == 0 ? "at 0" : "after the previous one"));
		if (dec_sign(side->cost[k]) < 0 || dec_sign(side->slope[k]) < 0)
			bad_curve(src, psprintf("Its %s has a negative cost or slope", what));
	}
}

void
liquidity_curve_read(Jsonb *curve, const char *name, const char *source, LiquidityCurve *out)
{
	CurveSource src = {name, source};
	JsonbValue *kind;

	if (!JB_ROOT_IS_OBJECT(curve) || JB_ROOT_IS_SCALAR(curve))
		bad_curve(&src, "It is not a JSON object");
	kind = member(&src, &curve->root, "kind");
	if (kind->type != jbvString ||
		!((kind->val.string.len == 6 && strncmp(kind->val.string.val, "linear", 6) == 0) ||
		  (kind->val.string.len == 7 && strncmp(kind->val.string.val, "inverse", 7) == 0)))
		bad_curve(&src, "Its \"kind\" is not \"linear\" or \"inverse\"");
	out->inverse = kind->val.string.len == 7;
	out->mark = number(&src, member(&src, &curve->root, "mark_price"), "\"mark_price\"");
	if (dec_sign(out->mark) <= 0)
		bad_curve(&src, "Its \"mark_price\" is not greater than zero");
	read_side(&src, &curve->root, "bid", &out->side[0]);
	read_side(&src, &curve->root, "ask", &out->side[1]);
}

Dec
liquidity_curve_rate(const LiquidityCurve *curve, Dec size)
{
	const LiquiditySide *s;
	Dec			q = dec_abs(size);
	Dec			cost;
	int			lo,
				hi;

	if (dec_sign(size) == 0)
		return dec_make(0, 6);
	s = &curve->side[dec_sign(size) > 0 ? 0 : 1];
	/* the last piece that starts at or below q */
	lo = 0;
	hi = s->n - 1;
	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (dec_cmp(s->from[mid], q) <= 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	cost = dec_add(s->cost[lo], dec_mul(dec_sub(q, s->from[lo]), s->slope[lo]));
	return dec_div_round(cost, curve->inverse ? q : dec_mul(q, curve->mark), 6, DEC_CEIL);
}
