/*
 * margin.c
 *	  The isolated-margin formulas of doc/formulas.md, in exact arithmetic.
 *
 * Every figure is first written as one fraction of exact decimals and
 * divided once, so a result is off from the exact value by less than one
 * unit of its last decimal, in the direction margin.h documents.
 * Inverse figures are multiplied through by E*P (both > 0) to stay exact.
 */
#include "postgres.h"

#include "margin.h"

static inline Dec
zero(void)
{
	return dec_from_int(0);
}

void
margin_schedule_flat(MarginSchedule *s, MarginBracket *bracket, Dec mmr, Dec fee)
{
	bracket->floor = zero();
	bracket->rate = mmr;
	bracket->amount = zero();
	s->nbrackets = 1;
	s->fee = fee;
	s->brackets = bracket;
	margin_schedule_finish(s);
}

void
margin_schedule_finish(MarginSchedule *s)
{
	for (int i = 0; i < s->nbrackets; i++)
		s->brackets[i].rate_fee = dec_add(s->brackets[i].rate, s->fee);
}

int
margin_bracket_of(const MarginSchedule *s, Dec n)
{
	for (int i = 1; i < s->nbrackets; i++)
		if (dec_cmp(n, s->brackets[i].floor) <= 0)
			return i - 1;
	return s->nbrackets - 1;
}

/* The bracket of N(price), compared exactly (inverse: a/P > F <=> a > F*P). */
static int
bracket_at_price(const MarginPosition *p, const MarginSchedule *s, Dec price)
{
	Dec			lhs;

	if (s->nbrackets == 1)
		return 0;
	lhs = p->inverse ? p->a : dec_mul(p->a, price);
	/* upward from the first bracket: most positions sit in the lowest ones */
	for (int i = 1; i < s->nbrackets; i++)
	{
		Dec			rhs = p->inverse ? dec_mul(s->brackets[i].floor, price) : s->brackets[i].floor;

		if (dec_cmp(lhs, rhs) <= 0)
			return i - 1;
	}
	return s->nbrackets - 1;
}

Dec
margin_notional(const MarginPosition *p, Dec price)
{
	if (p->inverse)
		return dec_div_round(p->a, price, MARGIN_QUOTIENT_SCALE, DEC_CEIL);
	return dec_mul(p->a, price);
}

/* inverse: U * E * P = s * (P - E) */
Dec
margin_unrealized_pnl(const MarginPosition *p, Dec mark)
{
	Dec			u = dec_mul(p->s, dec_sub(mark, p->entry));

	if (p->inverse)
		return dec_div_round(u, dec_mul(p->entry, mark), MARGIN_QUOTIENT_SCALE, DEC_FLOOR);
	return u;
}

/* linear: Q; inverse: Q * E * P */
static Dec
equity_numerator(const MarginPosition *p, Dec mark)
{
	Dec			u = dec_mul(p->s, dec_sub(mark, p->entry));

	if (p->inverse)
		return dec_add(dec_mul(p->margin, dec_mul(p->entry, mark)), u);
	return dec_add(p->margin, u);
}

/* linear: MM; inverse: MM * E * P = E * (a * (r + f) - A * P) */
static Dec
maintenance_numerator(const MarginPosition *p, const MarginSchedule *s, Dec mark)
{
	const MarginBracket *b = &s->brackets[bracket_at_price(p, s, mark)];

	if (p->inverse)
		return dec_mul(p->entry, dec_sub(dec_mul(p->a, b->rate_fee), dec_mul(b->amount, mark)));
	return dec_sub(dec_mul(dec_mul(p->a, mark), b->rate_fee), b->amount);
}

Dec
margin_equity(const MarginPosition *p, Dec mark)
{
	Dec			q = equity_numerator(p, mark);

	if (p->inverse)
		return dec_div_round(q, dec_mul(p->entry, mark), MARGIN_QUOTIENT_SCALE, DEC_FLOOR);
	return q;
}

Dec
margin_initial(const MarginPosition *p, Dec price, Dec leverage)
{
	if (p->inverse)
		return dec_div_round(p->a, dec_mul(price, leverage), MARGIN_QUOTIENT_SCALE, DEC_CEIL);
	return dec_div_round(dec_mul(p->a, price), leverage, MARGIN_QUOTIENT_SCALE, DEC_CEIL);
}

Dec
margin_maintenance(const MarginPosition *p, const MarginSchedule *s, Dec mark)
{
	Dec			mm = maintenance_numerator(p, s, mark);

	if (p->inverse)
		return dec_div_round(mm, dec_mul(p->entry, mark), MARGIN_QUOTIENT_SCALE, DEC_CEIL);
	return mm;
}

bool
margin_ratio_at(const MarginPosition *p, const MarginSchedule *s, Dec mark, Dec *out)
{
	Dec			q;

	if (p->side == 0)
	{
		*out = zero();
		return true;
	}
	q = equity_numerator(p, mark);
	if (dec_sign(q) <= 0)
		return false;
	*out = dec_div_round(maintenance_numerator(p, s, mark), q, MARGIN_QUOTIENT_SCALE, DEC_CEIL);
	return true;
}

MarginStatus
margin_check(const MarginPosition *p, const MarginSchedule *s, Dec mark, Dec call_ratio)
{
	Dec			q,
				mm;

	if (p->side == 0)
		return MARGIN_OK;
	q = equity_numerator(p, mark);
	if (dec_sign(q) <= 0)
		return MARGIN_BANKRUPT;
	mm = maintenance_numerator(p, s, mark);
	if (dec_cmp(q, mm) <= 0)
		return MARGIN_LIQUIDATE;
	if (dec_cmp(mm, dec_mul(call_ratio, q)) >= 0)
		return MARGIN_CALL;
	return MARGIN_OK;
}

/*
 * Solve c*Q(P) = r'*N(P) - A' for P with one bracket's r' = r + f and A':
 *	 linear:  P = (c*s*E - c*M - A) / (c*s - a*r')
 *	 inverse: P = E*(c*s + a*r') / (c*(M*E + s) + A*E)
 * false when there is no positive solution.
 */
static bool
solve_price(const MarginPosition *p, Dec c, Dec rate_fee, Dec amount,
			Dec *num, Dec *den)
{
	bool		one = dec_is_one(c);
	bool		no_amount = dec_is_zero(amount);

	/*
	 * With c = 1 (liquidation and bankruptcy prices) the rate terms factor
	 * out of the position: s - a*r' = a*(side - r'), s + a*r' = a*(side + r').
	 */
	if (p->inverse)
	{
		Dec			q = dec_add(dec_mul(p->margin, p->entry), p->s);

		if (one)
			*num = dec_mul(dec_mul(p->entry, p->a), dec_add(dec_from_int(p->side), rate_fee));
		else
			*num = dec_mul(p->entry, dec_add(dec_mul(c, p->s), dec_mul(p->a, rate_fee)));
		if (!one)
			q = dec_mul(c, q);
		*den = no_amount ? q : dec_add(q, dec_mul(amount, p->entry));
	}
	else
	{
		if (one)
		{
			*num = dec_sub(dec_mul(p->s, p->entry), p->margin);
			*den = dec_mul(p->a, dec_sub(dec_from_int(p->side), rate_fee));
		}
		else
		{
			Dec			cs = dec_mul(c, p->s);

			*num = dec_sub(dec_mul(cs, p->entry), dec_mul(c, p->margin));
			*den = dec_sub(cs, dec_mul(p->a, rate_fee));
		}
		if (!no_amount)
			*num = dec_sub(*num, amount);
	}
	return !dec_is_zero(*den) && dec_sign(*num) * dec_sign(*den) > 0;
}

/*
 * Where N(num/den) falls against bracket i: -1 below its floor (N <= F_i,
 * except in the first bracket), 0 inside, 1 above its cap (N > F_{i+1}).
 * num/den > 0.  Linear N = a*num/den, inverse N = a*den/num; the comparisons
 * are cross-multiplied by den (linear) or num (inverse) and corrected for
 * that factor's sign.
 */
static int
where_in_bracket(const MarginPosition *p, const MarginSchedule *s, int i, Dec num, Dec den)
{
	Dec			lhs = dec_mul(p->a, p->inverse ? den : num);
	Dec			by = p->inverse ? num : den;
	int			bysign = dec_sign(by);

	if (i > 0 && dec_cmp(lhs, dec_mul(s->brackets[i].floor, by)) * bysign <= 0)
		return -1;
	if (i < s->nbrackets - 1 && dec_cmp(lhs, dec_mul(s->brackets[i + 1].floor, by)) * bysign > 0)
		return 1;
	return 0;
}

static Dec
round_price(const MarginPosition *p, Dec num, Dec den, Dec tick)
{
	DecRound	mode = p->side > 0 ? DEC_CEIL : DEC_FLOOR;

	if (dec_sign(tick) > 0)
		return dec_div_round_tick(num, den, tick, mode);
	return dec_div_round(num, den, Max(MARGIN_PRICE_MIN_SCALE, p->entry.scale), mode);
}

bool
margin_threshold_price(const MarginPosition *p, const MarginSchedule *s,
					   Dec call_ratio, Dec tick, Dec *out)
{
	int			i;
	Dec			num,
				den;

	if (p->side == 0)
		return false;

	/*
	 * Walk from the bracket of the notional at entry.  Solving with bracket
	 * i's rate gives the root of a function that equals c*Q - MM inside
	 * bracket i and lies on the same side of it elsewhere (MM, continuous
	 * with rising rates, is the largest of its pieces), so a solution below
	 * bracket i means the true root is below it too, and likewise above:
	 * each step moves toward the one consistent bracket.  A solution that
	 * is not a positive price counts as below.
	 */
	i = bracket_at_price(p, s, p->entry);
	for (int visits = 1;; visits++)
	{
		const MarginBracket *b = &s->brackets[i];
		int			where;

		/* each bracket is visited once at most: more means a broken schedule */
		if (visits > s->nbrackets)
			elog(ERROR, "the bracket walk of %s did not settle", dec_figure ? dec_figure : "a price");
		if (!dec_is_one(call_ratio) && dec_cmp(call_ratio, b->rate_fee) <= 0)
			return false;		/* c*Q - MM does not cross zero the usual way */
		if (!solve_price(p, call_ratio, b->rate_fee, b->amount, &num, &den))
			where = -1;
		else if (s->nbrackets == 1)
			break;
		else
			where = where_in_bracket(p, s, i, num, den);
		if (where == 0)
			break;
		if (where < 0 ? i == 0 : i == s->nbrackets - 1)
			return false;		/* no positive root */
		i += where;
	}
	*out = round_price(p, num, den, tick);
	return true;
}

bool
margin_bankruptcy_price(const MarginPosition *p, Dec tick, Dec *out)
{
	Dec			num,
				den;

	if (p->side == 0 || !solve_price(p, dec_from_int(1), zero(), zero(), &num, &den))
		return false;
	*out = round_price(p, num, den, tick);
	return true;
}
