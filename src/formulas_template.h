/*
 * formulas_template.h
 *	  The isolated-margin formulas of doc/formulas.md, written once over a
 *	  number type, and compiled for each route that includes this file.
 *
 * Like PostgreSQL's lib/sort_template.h, this file is included after
 * defining its parameters, and #undefs them at the end:
 *
 *	 FT_PREFIX, FT_TYPE_PREFIX	names: FT_PREFIX_notional, FT_TYPE_PREFIXPosition
 *	 FT_NUM			the number type
 *	 FT_CTX_DECL	a last parameter of every function (", bool *ok"), or empty
 *	 FT_ADD(a, b), FT_SUB, FT_MUL, FT_NEG(a), FT_SIGN(a), FT_CMP(a, b),
 *	 FT_LE(a, b) (a <= b), FT_GE(a, b) (a >= b),
 *	 FT_INT(i), FT_IS_ONE(a), FT_IS_ZERO(a), FT_SAME_SIGN(a, b) (both > 0 or
 *	 both < 0), FT_SCALE(a)	exact operations with numeric's
 *					display scales (a sum: the larger, a product: the sum)
 *	 FT_DIV(num, den, scale, up)	num/den rounded to `scale` decimals, up
 *					(toward +infinity) or down
 *	 FT_DIV_TICK(num, den, tick, up)	num/den rounded to a whole tick
 *	 FT_UNIT(k)		10^-k, with display scale k
 *	 FT_WALK_BROKEN()	a bracket walk that does not settle (a broken schedule)
 *	 FT_SCOPE		the functions' storage class
 *
 * margin.h instantiates it over Dec, the exact route (int128 with a numeric
 * fallback: it never fails); fast.h over Fix, the fast route (int128 whose
 * operations clear *ok on overflow, and the caller declines to the exact
 * route).  Every figure is one fraction of exact decimals divided once, so
 * both routes give the same digits and the same display scale.  The
 * rounding rule (margin.h): prices against the position (up for a long,
 * down for a short), requirements up, gains down.  Inverse figures are
 * multiplied through by E*P (both > 0) to stay exact.
 */

#define FT_CAT_(a, b) a##b
#define FT_CAT(a, b) FT_CAT_(a, b)
#define FT_FN(name) FT_CAT(FT_PREFIX, FT_CAT(_, name))
#define FT_T(name) FT_CAT(FT_TYPE_PREFIX, name)
/*
 * A function written for every convention (a `conv` parameter, MARGIN_CONV_*)
 * is called twice where it is used: with conv = 0, where the branches of
 * the conventions fold away and the mark basis costs what it did before
 * them, and with the schedule's conv.  Both inline: a call out of line
 * would take the address of the fast route's `ok` and of the result, and
 * keep them out of registers on the mark basis's path too.  The SQL
 * figures go further (FIGURE_CONV_FUNCTION, figure_call.h): their whole
 * fast route is copied out of line for a rule with conventions, and the
 * inline one is given a schedule whose conv the compiler sees as 0.
 */

/*
 * Bracket i applies to notionals N with floor < N <= next bracket's floor
 * (bracket 0 also to N = 0; the last one to every larger N).
 */
typedef struct FT_T(Bracket)
{
	FT_NUM		floor;			/* F_i, 0 for the first bracket */
	FT_NUM		rate;			/* maintenance margin rate r_i */
	FT_NUM		amount;			/* maintenance amount A_i */
	FT_NUM		rate_fee;		/* r_i + f */
	/*
	 * A linear contract's liquidation price walk (where_in_bracket with
	 * c = 1, no add-on), by side ([0] short, [1] long): the bracket's floor
	 * and cap times side - r' (schedule_finish).  Eight numbers: a power of
	 * two's size, an index one shift.
	 */
	FT_NUM		floor_by[2];
	FT_NUM		cap_by[2];
} FT_T(Bracket);

typedef struct FT_T(Schedule)
{
	int			nbrackets;		/* >= 1 */
	FT_NUM		fee;			/* f: taker fee rate to close */
	FT_T(Bracket) *brackets;
	/* venue conventions (doc/venues.md) */
	int			conv;			/* MARGIN_CONV_* bits; 0: the mark basis */
} FT_T(Schedule);

/* One position: size in contracts (signed), entry price, isolated margin. */
typedef struct FT_T(Position)
{
	FT_NUM		size;			/* q: > 0 long, < 0 short */
	FT_NUM		entry;			/* E > 0 */
	FT_NUM		margin;			/* M >= 0 */
	FT_NUM		contract_size;	/* cs > 0 */
	bool		inverse;
	int			side;			/* sign of q */
	FT_NUM		s;				/* q * cs */
	FT_NUM		a;				/* |q| * cs */
	bool		has_addon;		/* position_addon: a dynamic add-on rate c > 0 */
	FT_NUM		addon;
} FT_T(Position);

FT_SCOPE void
FT_FN(position_init) (FT_T(Position) *p, FT_NUM size, FT_NUM entry, FT_NUM margin,
					  FT_NUM contract_size, bool inverse FT_CTX_DECL)
{
	p->size = size;
	p->entry = entry;
	p->margin = margin;
	p->contract_size = contract_size;
	p->inverse = inverse;
	p->side = FT_SIGN(size);
	p->s = FT_IS_ONE(contract_size) ? size : FT_MUL(size, contract_size);
	p->a = p->side < 0 ? FT_NEG(p->s) : p->s;
	p->has_addon = false;
}

/*
 * A dynamic add-on rate c >= 0 for the position (doc/dynamic.md): every
 * bracket's r_i + f becomes r_i + f + c with A_i unchanged (the amounts
 * depend only on the differences of the rates), so MM(P) = N(P)*(r_i + f +
 * c) - A_i stays continuous and linear in the notional, and every threshold
 * price is the same solved equation.  The initial rate 1/L becomes 1/L + c.
 */
FT_SCOPE void
FT_FN(position_addon) (FT_T(Position) *p, FT_NUM addon FT_CTX_DECL)
{
	p->addon = addon;
	p->has_addon = !FT_IS_ZERO(addon);
}

/* r_i + f of the bracket, plus the position's add-on when it has one */
#define FT_RATE_FEE(p, b) ((p)->has_addon ? FT_ADD((b)->rate_fee, (p)->addon) : (b)->rate_fee)

/*
 * r' = r + f: the rate the maintenance margin and the closing fee take
 * together; r alone when the fee is charged at the bankruptcy price
 * (bankruptcy_fee).
 */
FT_SCOPE void
FT_FN(schedule_finish) (FT_T(Schedule) *s FT_CTX_DECL)
{
	for (int i = 0; i < s->nbrackets; i++)
	{
		FT_T(Bracket) *b = &s->brackets[i];

		b->rate_fee = (s->conv & MARGIN_CONV_FEE_BANKRUPTCY) ? b->rate : FT_ADD(b->rate, s->fee);
		for (int long_side = 0; long_side < 2; long_side++)
		{
			FT_NUM		side_rate = FT_SUB(FT_INT(long_side ? 1 : -1), b->rate_fee);

			b->floor_by[long_side] = FT_MUL(b->floor, side_rate);
			b->cap_by[long_side] = i + 1 < s->nbrackets ?
				FT_MUL(s->brackets[i + 1].floor, side_rate) : FT_INT(0);
		}
	}
}

/*
 * A one-bracket schedule (flat mmr with the maintenance amount A, 0 unless
 * given); `bracket` is caller storage.
 */
FT_SCOPE void
FT_FN(schedule_flat) (FT_T(Schedule) *s, FT_T(Bracket) *bracket, FT_NUM mmr, FT_NUM amount,
					  FT_NUM fee, int conv FT_CTX_DECL)
{
	bracket->floor = FT_INT(0);
	bracket->rate = mmr;
	bracket->amount = amount;
	s->nbrackets = 1;
	s->fee = fee;
	s->brackets = bracket;
	s->conv = conv;
	FT_FN(schedule_finish) (s FT_CTX);
}

/*
 * The bracket of N(P), compared exactly (inverse: a/P > F <=> a > F*P),
 * searched upward from the first: most positions sit in the lowest ones.
 * Conventions: the bracket of N(E) (MARGIN_CONV_BRACKET_ENTRY; with
 * MARGIN_CONV_MM_ENTRY the callers pass E), or of |q| in contracts against
 * floors in contracts (MARGIN_CONV_BY_CONTRACTS), whatever the price.
 */
FT_SCOPE int
FT_FN(bracket_at) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM price, int conv
				   FT_CTX_DECL)
{
	FT_NUM		lhs;
	bool		times_price = p->inverse;

	if (s->nbrackets == 1)
		return 0;
	if (conv & MARGIN_CONV_BY_CONTRACTS)
	{
		lhs = p->side < 0 ? FT_NEG(p->size) : p->size;
		times_price = false;
	}
	else
	{
		if (conv & MARGIN_CONV_BRACKET_ENTRY)
			price = p->entry;
		lhs = p->inverse ? p->a : FT_MUL(p->a, price);
	}
	for (int i = 1; i < s->nbrackets; i++)
	{
		FT_NUM		rhs = times_price ? FT_MUL(s->brackets[i].floor, price) : s->brackets[i].floor;

		if (FT_LE(lhs, rhs))
			return i - 1;
	}
	return s->nbrackets - 1;
}

FT_SCOPE int
FT_FN(bracket_at_price) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM price
						 FT_CTX_DECL)
{
	return FT_FN(bracket_at) (p, s, price, s->conv FT_CTX);
}

/* linear: a*P; inverse: a/P, up */
FT_SCOPE FT_NUM
FT_FN(notional) (const FT_T(Position) *p, FT_NUM price FT_CTX_DECL)
{
	if (p->inverse)
		return FT_DIV(p->a, price, MARGIN_QUOTIENT_SCALE, true);
	return FT_MUL(p->a, price);
}

/*
 * The figures at one mark are fractions over E*P (inverse) whose numerators
 * several of them share: the PnL's s*(P - E), the equity's and the
 * maintenance margin's.  Each figure below is written from its numerators
 * (the `_of` functions), so that a caller computing several at once (assess)
 * computes each numerator once (at_mark).
 */

/* linear: U = s*(P - E); inverse: U*E*P = s*(P - E) */
FT_SCOPE FT_NUM
FT_FN(pnl_numerator) (const FT_T(Position) *p, FT_NUM mark FT_CTX_DECL)
{
	return FT_MUL(p->s, FT_SUB(mark, p->entry));
}

/* U from its numerator u: exact (linear), down (inverse) */
FT_SCOPE FT_NUM
FT_FN(unrealized_pnl_of) (const FT_T(Position) *p, FT_NUM mark, FT_NUM u FT_CTX_DECL)
{
	if (p->inverse)
		return FT_DIV(u, FT_MUL(p->entry, mark), MARGIN_QUOTIENT_SCALE, false);
	return u;
}

FT_SCOPE FT_NUM
FT_FN(unrealized_pnl) (const FT_T(Position) *p, FT_NUM mark FT_CTX_DECL)
{
	return FT_FN(unrealized_pnl_of) (p, mark, FT_FN(pnl_numerator) (p, mark FT_CTX) FT_CTX);
}

/* linear: Q = M + U; inverse: Q*E*P = M*E*P + s*(P - E); from U's numerator u */
FT_SCOPE FT_NUM
FT_FN(equity_numerator_of) (const FT_T(Position) *p, FT_NUM mark, FT_NUM u FT_CTX_DECL)
{
	if (p->inverse)
		return FT_ADD(FT_MUL(p->margin, FT_MUL(p->entry, mark)), u);
	return FT_ADD(p->margin, u);
}

FT_SCOPE FT_NUM
FT_FN(equity_numerator) (const FT_T(Position) *p, FT_NUM mark FT_CTX_DECL)
{
	return FT_FN(equity_numerator_of) (p, mark, FT_FN(pnl_numerator) (p, mark FT_CTX) FT_CTX);
}

/*
 * The fee to close charged at the bankruptcy price (MARGIN_CONV_FEE_BANKRUPTCY),
 * f * N(BP), as the maintenance numerators take it: linear
 * f*(a*E - side*M) (a*BP with BP = E - M/s); inverse times E,
 * f*(a + side*M*E) (E*a/BP with BP = s*E/(M*E + s)).  0 when no positive
 * price bankrupts the position (N(BP) <= 0).  It does not move with the
 * price, so it acts as a maintenance amount taken off A.
 */
FT_SCOPE FT_NUM
FT_FN(bankruptcy_fee) (const FT_T(Position) *p, const FT_T(Schedule) *s FT_CTX_DECL)
{
	FT_NUM		m = p->inverse ? FT_MUL(p->margin, p->entry) : p->margin;
	FT_NUM		n;

	if (p->side < 0)
		m = FT_NEG(m);
	n = p->inverse ? FT_ADD(p->a, m) : FT_SUB(FT_MUL(p->a, p->entry), m);
	if (FT_SIGN(n) <= 0)
		return FT_INT(0);
	return FT_MUL(s->fee, n);
}

/*
 * v - A*x (v - A without has_x), A a bracket's amount: v itself when A is a
 * zero of no more decimals than the difference would take from v (a flat
 * rule's A is 0), the same value and scale without the subtraction.
 */
FT_SCOPE FT_NUM
FT_FN(less_amount) (FT_NUM v, FT_NUM amount, FT_NUM x, bool has_x FT_CTX_DECL)
{
	if (FT_IS_ZERO(amount) && FT_SCALE(amount) + (has_x ? FT_SCALE(x) : 0) <= FT_SCALE(v))
		return v;
	return FT_SUB(v, has_x ? FT_MUL(amount, x) : amount);
}

/*
 * linear: MM = N(X)*r' - A; inverse: MM*E*P = Y*(a*r' - A*X); the bracket
 * of N(X).  X = P, Y = E (the mark basis); with MARGIN_CONV_MM_ENTRY
 * X = E, Y = P (MM = a*r'/E - A, fixed at entry).  With
 * MARGIN_CONV_FEE_BANKRUPTCY, r' = r and the fee f*N(BP) is added (inverse:
 * times E*P).
 */
FT_SCOPE FT_NUM
FT_FN(maintenance_at) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark, int conv,
					   const FT_NUM *notional FT_CTX_DECL)
{
	FT_NUM		x = mark,
				y = p->entry,
				mm;
	const FT_T(Bracket) *b;

	if (conv & MARGIN_CONV_MM_ENTRY)
	{
		x = p->entry;
		y = mark;
		notional = NULL;		/* the caller's is at the mark */
	}
	b = &s->brackets[FT_FN(bracket_at) (p, s, x, conv FT_CTX)];
	if (p->inverse)
		mm = FT_MUL(y, FT_FN(less_amount) (FT_MUL(p->a, FT_RATE_FEE(p, b)), b->amount, x, true
										   FT_CTX));
	else
		mm = FT_FN(less_amount) (FT_MUL(notional ? *notional : FT_MUL(p->a, x), FT_RATE_FEE(p, b)),
								 b->amount, x, false FT_CTX);
	if (conv & MARGIN_CONV_FEE_BANKRUPTCY)
	{
		FT_NUM		fee = FT_FN(bankruptcy_fee) (p, s FT_CTX);

		mm = FT_ADD(mm, p->inverse ? FT_MUL(fee, mark) : fee);
	}
	return mm;
}

/*
 * The maintenance numerator at the mark; `notional`, when not NULL, is
 * notional() at the mark, which a linear contract's takes as it is.
 */
FT_SCOPE FT_NUM
FT_FN(maintenance_numerator_with) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
								   const FT_NUM *notional FT_CTX_DECL)
{
	if (unlikely(s->conv != 0))
		return FT_FN(maintenance_at) (p, s, mark, s->conv, notional FT_CTX);
	return FT_FN(maintenance_at) (p, s, mark, 0, notional FT_CTX);
}

FT_SCOPE FT_NUM
FT_FN(maintenance_numerator) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark
							  FT_CTX_DECL)
{
	return FT_FN(maintenance_numerator_with) (p, s, mark, NULL FT_CTX);
}

/* Q(P) from its numerator q: exact (linear), down (inverse) */
FT_SCOPE FT_NUM
FT_FN(equity_of) (const FT_T(Position) *p, FT_NUM mark, FT_NUM q FT_CTX_DECL)
{
	if (p->inverse)
		return FT_DIV(q, FT_MUL(p->entry, mark), MARGIN_QUOTIENT_SCALE, false);
	return q;
}

FT_SCOPE FT_NUM
FT_FN(equity) (const FT_T(Position) *p, FT_NUM mark FT_CTX_DECL)
{
	return FT_FN(equity_of) (p, mark, FT_FN(equity_numerator) (p, mark FT_CTX) FT_CTX);
}

/* N(P) / L, up; with an add-on c, N(P) * (1/L + c) = N(P) * (1 + c*L) / L */
FT_SCOPE FT_NUM
FT_FN(initial) (const FT_T(Position) *p, FT_NUM price, FT_NUM leverage FT_CTX_DECL)
{
	if (p->has_addon)
	{
		FT_NUM		grow = FT_ADD(FT_INT(1), FT_MUL(p->addon, leverage));

		if (p->inverse)
			return FT_DIV(FT_MUL(p->a, grow), FT_MUL(price, leverage), MARGIN_QUOTIENT_SCALE, true);
		return FT_DIV(FT_MUL(FT_MUL(p->a, price), grow), leverage, MARGIN_QUOTIENT_SCALE, true);
	}
	if (p->inverse)
		return FT_DIV(p->a, FT_MUL(price, leverage), MARGIN_QUOTIENT_SCALE, true);
	return FT_DIV(FT_MUL(p->a, price), leverage, MARGIN_QUOTIENT_SCALE, true);
}

/* MM(P) from its numerator mm: exact (linear), up (inverse) */
FT_SCOPE FT_NUM
FT_FN(maintenance_of) (const FT_T(Position) *p, FT_NUM mark, FT_NUM mm FT_CTX_DECL)
{
	if (p->inverse)
		return FT_DIV(mm, FT_MUL(p->entry, mark), MARGIN_QUOTIENT_SCALE, true);
	return mm;
}

FT_SCOPE FT_NUM
FT_FN(maintenance) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark FT_CTX_DECL)
{
	return FT_FN(maintenance_of) (p, mark, FT_FN(maintenance_numerator) (p, s, mark FT_CTX) FT_CTX);
}

/*
 * A requirement over the equity, up; false when Q <= 0 (SQL NULL); 0 for a
 * zero size.  maintenance: R(P) = MM/Q; else the effective leverage N(P)/Q
 * (linear a*P / Q; inverse (a/P) / (Q*E*P / (E*P)) = a*E / (Q*E*P), one
 * fraction; s is not read).
 */
FT_SCOPE bool
FT_FN(over_equity_of) (const FT_T(Position) *p, FT_NUM x, FT_NUM q, FT_NUM *out FT_CTX_DECL)
{
	if (p->side == 0)
	{
		*out = FT_INT(0);
		return true;
	}
	if (FT_SIGN(q) <= 0)
		return false;
	*out = FT_DIV(x, q, MARGIN_QUOTIENT_SCALE, true);
	return true;
}

/* ... with the numerators at the mark (x: the maintenance's when `maintenance`) */
FT_SCOPE bool
FT_FN(over_equity) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
					bool maintenance, FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		q;

	if (p->side == 0)
		return FT_FN(over_equity_of) (p, FT_INT(0), FT_INT(0), out FT_CTX);
	q = FT_FN(equity_numerator) (p, mark FT_CTX);
	if (FT_SIGN(q) <= 0)
		return false;
	return FT_FN(over_equity_of) (p, maintenance ? FT_FN(maintenance_numerator) (p, s, mark FT_CTX) :
								  FT_MUL(p->a, p->inverse ? p->entry : mark), q, out FT_CTX);
}

/* R(P) = MM/Q, up; false when Q <= 0 (SQL NULL); 0 for a zero size */
FT_SCOPE bool
FT_FN(ratio_at) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark, FT_NUM *out
				 FT_CTX_DECL)
{
	return FT_FN(over_equity) (p, s, mark, true, out FT_CTX);
}

/*
 * The margin ratio printed the other way up, as OKX prints it: Q / MM (MM
 * includes the fee to close), liquidation at <= 1, rounded down (safety is
 * never overstated); negative when Q < 0.  false when MM <= 0 (a zero size,
 * or no requirement at this price).  Inverse: (Q*E*P) / (MM*E*P).
 */
FT_SCOPE bool
FT_FN(equity_over_maintenance) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
								FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		mm;

	if (p->side == 0)
		return false;
	mm = FT_FN(maintenance_numerator) (p, s, mark FT_CTX);
	if (FT_SIGN(mm) <= 0)
		return false;
	*out = FT_DIV(FT_FN(equity_numerator) (p, mark FT_CTX), mm, MARGIN_QUOTIENT_SCALE, false);
	return true;
}

/*
 * The maintenance check at the mark, exact: bankrupt, liquidate, margin
 * call, ok; from the equity and maintenance numerators q and mm.
 */
FT_SCOPE MarginStatus
FT_FN(check_of) (const FT_T(Position) *p, FT_NUM q, FT_NUM mm, FT_NUM call_ratio FT_CTX_DECL)
{
	if (p->side == 0)
		return MARGIN_OK;
	if (FT_SIGN(q) <= 0)
		return MARGIN_BANKRUPT;
	if (FT_LE(q, mm))
		return MARGIN_LIQUIDATE;
	if (FT_GE(mm, FT_MUL(call_ratio, q)))
		return MARGIN_CALL;
	return MARGIN_OK;
}

/* ... at the mark: mm only when it is needed */
FT_SCOPE MarginStatus
FT_FN(check) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark, FT_NUM call_ratio
			  FT_CTX_DECL)
{
	FT_NUM		q;

	if (p->side == 0)
		return MARGIN_OK;
	q = FT_FN(equity_numerator) (p, mark FT_CTX);
	if (FT_SIGN(q) <= 0)
		return MARGIN_BANKRUPT;
	return FT_FN(check_of) (p, q, FT_FN(maintenance_numerator) (p, s, mark FT_CTX), call_ratio
							FT_CTX);
}

/*
 * The numerators at the mark that the figures of one position share
 * (assess): each computed once, each figure then from its `_of` function.
 */
typedef struct FT_T(AtMark)
{
	FT_NUM		notional;		/* N(P) */
	FT_NUM		u;				/* pnl_numerator */
	FT_NUM		q;				/* equity_numerator */
	FT_NUM		mm;				/* maintenance_numerator */
} FT_T(AtMark);

FT_SCOPE void
FT_FN(at_mark) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
				FT_T(AtMark) *m FT_CTX_DECL)
{
	m->notional = FT_FN(notional) (p, mark FT_CTX);
	m->u = FT_FN(pnl_numerator) (p, mark FT_CTX);
	m->q = FT_FN(equity_numerator_of) (p, mark, m->u FT_CTX);
	m->mm = FT_FN(maintenance_numerator_with) (p, s, mark, &m->notional FT_CTX);
}

/*
 * What every threshold price's fraction takes whatever c, the rate and the
 * bracket (solve_price's base): linear s*E - M; inverse M*E + s.
 */
FT_SCOPE FT_NUM
FT_FN(solve_base) (const FT_T(Position) *p FT_CTX_DECL)
{
	if (p->inverse)
		return FT_ADD(FT_MUL(p->margin, p->entry), p->s);
	return FT_SUB(FT_MUL(p->s, p->entry), p->margin);
}

/*
 * Solve c*Q(P) = r'*N(P) - A' for P with one bracket's r' = r + f and A':
 *	 linear:  P = (c*s*E - c*M - A) / (c*s - a*r')
 *	 inverse: P = E*(c*s + a*r') / (c*(M*E + s) + A*E)
 * false when there is no positive solution.  With c = 1 (the liquidation
 * and bankruptcy prices) the rate terms factor out of the position:
 * s - a*r' = a*(side - r'), s + a*r' = a*(side + r').
 *
 * conv (MARGIN_CONV_*): with the maintenance on the entry notional,
 * c*Q(P) = N(E)*r' - A, the rate term moves to the other side:
 *	 linear:  P = (c*s*E - c*M + a*E*r' - A) / (c*s)
 *	 inverse: P = E*c*s / (c*(M*E + s) + A*E - a*r')
 * and the fee at the bankruptcy price, fee = bankruptcy_fee(), is an amount
 * taken off A (linear A - fee; inverse A*E - fee).  c*s*E - c*M is c*base,
 * c*(M*E + s) c*base (solve_base): the same value and display scale.
 */
FT_SCOPE bool
FT_FN(solve_price) (const FT_T(Position) *p, FT_NUM c, FT_NUM rate_fee, FT_NUM amount,
					int conv, FT_NUM fee, FT_NUM base, FT_NUM *num, FT_NUM *den FT_CTX_DECL)
{
	bool		one = FT_IS_ONE(c);
	bool		no_amount = FT_IS_ZERO(amount);

	if (p->inverse)
	{
		FT_NUM		q = base;

		if (conv & MARGIN_CONV_MM_ENTRY)
		{
			*num = FT_MUL(p->entry, one ? p->s : FT_MUL(c, p->s));
			q = FT_SUB(one ? q : FT_MUL(c, q), FT_MUL(p->a, rate_fee));
		}
		else if (one)
			*num = FT_MUL(FT_MUL(p->entry, p->a), FT_ADD(FT_INT(p->side), rate_fee));
		else
		{
			*num = FT_MUL(p->entry, FT_ADD(FT_MUL(c, p->s), FT_MUL(p->a, rate_fee)));
			q = FT_MUL(c, q);
		}
		*den = no_amount ? q : FT_ADD(q, FT_MUL(amount, p->entry));
		if (conv & MARGIN_CONV_FEE_BANKRUPTCY)
			*den = FT_SUB(*den, fee);
	}
	else
	{
		if (conv & MARGIN_CONV_MM_ENTRY)
		{
			*num = FT_ADD(one ? base : FT_MUL(c, base), FT_MUL(FT_MUL(p->a, p->entry), rate_fee));
			*den = one ? p->s : FT_MUL(c, p->s);
		}
		else if (one)
		{
			*num = base;
			*den = FT_MUL(p->a, FT_SUB(FT_INT(p->side), rate_fee));
		}
		else
		{
			*num = FT_MUL(c, base);
			*den = FT_SUB(FT_MUL(c, p->s), FT_MUL(p->a, rate_fee));
		}
		if (!no_amount)
			*num = FT_SUB(*num, amount);
		if (conv & MARGIN_CONV_FEE_BANKRUPTCY)
			*num = FT_ADD(*num, fee);
	}
	return FT_SAME_SIGN(*num, *den);
}

/*
 * Where N(num/den) falls against bracket i: -1 below its floor (N <= F_i,
 * except in the first bracket), 0 inside, 1 above its cap (N > F_{i+1}).
 * num/den > 0.  Linear N = a*num/den, inverse N = a*den/num; the comparisons
 * are cross-multiplied by den (linear) or num (inverse) and corrected for
 * that factor's sign.  side_rate: solve_price's den was a*(side - r') (a
 * linear contract, c = 1, no add-on), so that N = num/(side - r'),
 * compared with the bracket's floor_by and cap_by, F*(side - r'), whose
 * sign is the side's.
 */
FT_SCOPE int
FT_FN(where_in_bracket) (const FT_T(Position) *p, const FT_T(Schedule) *s, int i,
						 FT_NUM num, FT_NUM den, bool side_rate FT_CTX_DECL)
{
	const FT_T(Bracket) *b = &s->brackets[i];
	FT_NUM		lhs = side_rate ? num : FT_MUL(p->a, p->inverse ? den : num);
	FT_NUM		by = p->inverse ? num : den;
	int			bysign = side_rate ? p->side : FT_SIGN(by);

	if (i > 0 &&
		FT_CMP(lhs, side_rate ? b->floor_by[p->side > 0] : FT_MUL(b->floor, by)) * bysign <= 0)
		return -1;
	if (i < s->nbrackets - 1 &&
		FT_CMP(lhs, side_rate ? b->cap_by[p->side > 0] : FT_MUL(s->brackets[i + 1].floor, by)) *
		bysign > 0)
		return 1;
	return 0;
}

/*
 * A price: up for a long, down for a short, to max(MARGIN_PRICE_MIN_SCALE,
 * the entry price's scale) decimals, or to a whole tick when tick > 0.
 */
FT_SCOPE FT_NUM
FT_FN(round_price) (const FT_T(Position) *p, FT_NUM num, FT_NUM den, FT_NUM tick FT_CTX_DECL)
{
	if (FT_SIGN(tick) > 0)
		return FT_DIV_TICK(num, den, tick, p->side > 0);
	return FT_DIV(num, den, Max(MARGIN_PRICE_MIN_SCALE, FT_SCALE(p->entry)), p->side > 0);
}

/*
 * The price where call_ratio * equity = maintenance margin, with the
 * bracket of the notional at that same price (the tier-consistent root);
 * call_ratio = 1 gives the liquidation price.  false when there is none
 * (zero size, never reached at a positive price).  tick: 0 for none.
 *
 * The walk starts from the bracket of the notional at entry.  Solving with
 * bracket i's rate gives the root of a function that equals c*Q - MM inside
 * bracket i and lies on the same side of it elsewhere (MM, continuous with
 * rising rates, is the largest of its pieces), so a solution below bracket
 * i means the true root is below it too, and likewise above: each step
 * moves toward the one consistent bracket, visiting each once at most.  A
 * solution that is not a positive price counts as below.
 *
 * A schedule whose amounts are given or none (step tiers) need not make MM
 * continuous: two neighbouring brackets can each put the root in the other.
 * The walk then stops at the boundary between them (the price where N is
 * the upper one's floor), where c*Q - MM changes sign.  Under a convention
 * that fixes the bracket (MARGIN_CONV_FIXED_BRACKET) there is no walk.
 */
FT_SCOPE bool
FT_FN(threshold_walk) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM call_ratio,
					   FT_NUM tick, int conv, bool side_rate, FT_NUM base, FT_NUM *out
					   FT_CTX_DECL)
{
	int			i,
				from = 0;
	FT_NUM		num,
				den,
				fee = FT_INT(0);
	bool		fixed = (conv & MARGIN_CONV_FIXED_BRACKET) != 0;

	if (p->side == 0)
		return false;
	if (conv & MARGIN_CONV_FEE_BANKRUPTCY)
		fee = FT_FN(bankruptcy_fee) (p, s FT_CTX);
	i = FT_FN(bracket_at) (p, s, p->entry, conv FT_CTX);
	for (int visits = 1;; visits++)
	{
		const FT_T(Bracket) *b = &s->brackets[i];
		int			where;

		if (visits > s->nbrackets)
			FT_WALK_BROKEN();
		if (!FT_IS_ONE(call_ratio) && FT_LE(call_ratio, FT_RATE_FEE(p, b)))
			return false;		/* c*Q - MM does not cross zero the usual way */
		if (!FT_FN(solve_price) (p, call_ratio, FT_RATE_FEE(p, b), b->amount, conv, fee, base,
								 &num, &den FT_CTX))
			where = -1;
		else if (s->nbrackets == 1 || fixed)
			break;
		else
			where = FT_FN(where_in_bracket) (p, s, i, num, den, side_rate FT_CTX);
		if (where == 0)
			break;
		if (fixed || (where < 0 ? i == 0 : i == s->nbrackets - 1))
			return false;		/* no positive root */
		if (unlikely(where == -from))
		{
			/* back where it came from: the boundary, N = F_u */
			FT_NUM		floor = s->brackets[where < 0 ? i : i + 1].floor;

			num = p->inverse ? p->a : floor;
			den = p->inverse ? floor : p->a;
			break;
		}
		from = where;
		i += where;
	}
	*out = FT_FN(round_price) (p, num, den, tick FT_CTX);
	return true;
}

/*
 * base: solve_base(), which a caller of several threshold prices shares.
 * The brackets' own side - r' and its products (schedule_finish) serve a
 * linear contract's liquidation price without an add-on, on the mark
 * basis: a walk of its own, where side_rate is a constant; every other
 * call takes the walk of the schedule's conventions.
 */
FT_SCOPE bool
FT_FN(threshold_price_with) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM call_ratio,
							 FT_NUM tick, FT_NUM base, FT_NUM *out FT_CTX_DECL)
{
	if (likely(s->conv == 0) && !p->inverse && FT_IS_ONE(call_ratio) && !p->has_addon)
		return FT_FN(threshold_walk) (p, s, call_ratio, tick, 0, true, base, out FT_CTX);
	return FT_FN(threshold_walk) (p, s, call_ratio, tick, s->conv, false, base, out FT_CTX);
}

FT_SCOPE bool
FT_FN(threshold_price) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM call_ratio,
						FT_NUM tick, FT_NUM *out FT_CTX_DECL)
{
	return FT_FN(threshold_price_with) (p, s, call_ratio, tick, FT_FN(solve_base) (p FT_CTX), out
										FT_CTX);
}

/*
 * threshold_price_with without the walk by side_rate, for a caller that
 * side_rate seldom serves (a margin-call price, a position with a dynamic
 * add-on) or that inlines several walks (assess): one copy less of the walk
 * where it is inlined
 */
FT_SCOPE bool
FT_FN(threshold_price_plain_with) (const FT_T(Position) *p, const FT_T(Schedule) *s,
								   FT_NUM call_ratio, FT_NUM tick, FT_NUM base, FT_NUM *out
								   FT_CTX_DECL)
{
	if (unlikely(s->conv != 0))
		return FT_FN(threshold_walk) (p, s, call_ratio, tick, s->conv, false, base, out FT_CTX);
	return FT_FN(threshold_walk) (p, s, call_ratio, tick, 0, false, base, out FT_CTX);
}

/* Where equity is zero: the threshold price with c = 1, r' = 0, A = 0. */
FT_SCOPE bool
FT_FN(bankruptcy_price_with) (const FT_T(Position) *p, FT_NUM tick, FT_NUM base, FT_NUM *out
							  FT_CTX_DECL)
{
	FT_NUM		num,
				den;

	if (p->side == 0 ||
		!FT_FN(solve_price) (p, FT_INT(1), FT_INT(0), FT_INT(0), 0, FT_INT(0), base, &num, &den
							 FT_CTX))
		return false;
	*out = FT_FN(round_price) (p, num, den, tick FT_CTX);
	return true;
}

FT_SCOPE bool
FT_FN(bankruptcy_price) (const FT_T(Position) *p, FT_NUM tick, FT_NUM *out FT_CTX_DECL)
{
	return FT_FN(bankruptcy_price_with) (p, tick, FT_FN(solve_base) (p FT_CTX), out FT_CTX);
}

/* ---- what-if and pre-trade (doc/whatif.md) ---- */

/* |q| */
FT_SCOPE FT_NUM
FT_FN(abs_size) (const FT_T(Position) *p FT_CTX_DECL)
{
	return p->side < 0 ? FT_NEG(p->size) : p->size;
}

/* sign(N(P) - x), exactly (inverse: a/P against x <=> a against x*P) */
FT_SCOPE int
FT_FN(notional_cmp) (const FT_T(Position) *p, FT_NUM price, FT_NUM x FT_CTX_DECL)
{
	if (p->inverse)
		return FT_CMP(p->a, FT_MUL(x, price));
	return FT_CMP(FT_MUL(p->a, price), x);
}

/* Effective leverage N(P) / Q(P), up; false when Q <= 0; 0 for a zero size. */
FT_SCOPE bool
FT_FN(effective_leverage) (const FT_T(Position) *p, FT_NUM mark, FT_NUM *out FT_CTX_DECL)
{
	return FT_FN(over_equity) (p, NULL, mark, false, out FT_CTX);
}

/*
 * Return on equity as venues print it, U(P) / M, down; false when M = 0.
 * linear: s*(P - E) / M; inverse: s*(P - E) / (M*E*P).
 */
FT_SCOPE bool
FT_FN(return_on_equity) (const FT_T(Position) *p, FT_NUM mark, FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		den;

	if (FT_IS_ZERO(p->margin))
		return false;
	den = p->inverse ? FT_MUL(p->margin, FT_MUL(p->entry, mark)) : p->margin;
	*out = FT_DIV(FT_MUL(p->s, FT_SUB(mark, p->entry)), den, MARGIN_QUOTIENT_SCALE, false);
	return true;
}

/*
 * How far the mark stands from the (rounded) liquidation price, on the safe
 * side: P - LP for a long, LP - P for a short; negative past it.  false when
 * there is no liquidation price.
 */
FT_SCOPE bool
FT_FN(liquidation_distance) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
							 FT_NUM tick, FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		lp;

	if (!FT_FN(threshold_price) (p, s, FT_INT(1), tick, &lp FT_CTX))
		return false;
	*out = p->side > 0 ? FT_SUB(mark, lp) : FT_SUB(lp, mark);
	return true;
}

/* The distance as a fraction of the mark, down. */
FT_SCOPE bool
FT_FN(liquidation_distance_ratio) (const FT_T(Position) *p, const FT_T(Schedule) *s,
								   FT_NUM mark, FT_NUM tick, FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		d;

	if (!FT_FN(liquidation_distance) (p, s, mark, tick, &d FT_CTX))
		return false;
	*out = FT_DIV(d, mark, MARGIN_QUOTIENT_SCALE, false);
	return true;
}

/*
 * The smallest margin x, a multiple of 10^-k with k = max(8, scale of M),
 * after which the check at the mark says ok: MM < c*(Q + x).  With the
 * numerators of the check (inverse: times D = E*P), x > (MM - c*Q) / (c*D):
 * x = floor((MM - c*Q) / (c*D)) + 10^-k; 0 when MM < c*Q already.  Adding
 * margin moves neither the notional nor its bracket.  (MM >= 0, so
 * MM < c*Q with c <= 1 also means Q > MM and Q > 0.)
 */
FT_SCOPE FT_NUM
FT_FN(top_up_to_ok) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
					 FT_NUM call_ratio FT_CTX_DECL)
{
	int			k = Max(MARGIN_PRICE_MIN_SCALE, FT_SCALE(p->margin));
	FT_NUM		need;

	if (p->side == 0)
		return FT_INT(0);
	need = FT_SUB(FT_FN(maintenance_numerator) (p, s, mark FT_CTX),
				  FT_MUL(call_ratio, FT_FN(equity_numerator) (p, mark FT_CTX)));
	if (FT_SIGN(need) < 0)
		return FT_INT(0);
	return FT_ADD(FT_DIV(need, p->inverse ? FT_MUL(call_ratio, FT_MUL(p->entry, mark)) : call_ratio,
						 k, false),
				  FT_UNIT(k));
}

/*
 * The margin to add so that the liquidation price is the target P* or beyond
 * it on the safe side (at or below it for a long, at or above for a short):
 * the margin M* at which Q(P*) = MM(P*) with the bracket of N(P*), which
 * makes P* the tier-consistent root, less M, and 0 when M >= M*.  linear:
 * M* = MM(P*) - U(P*), exact; inverse: M* = (MM*E*P* - s*(P* - E)) / (E*P*),
 * up (a requirement).  false for a zero size.
 */
FT_SCOPE bool
FT_FN(top_up_for_liquidation_price) (const FT_T(Position) *p, const FT_T(Schedule) *s,
									 FT_NUM target, FT_NUM *out FT_CTX_DECL)
{
	FT_NUM		need;

	if (p->side == 0)
		return false;
	need = FT_SUB(FT_FN(maintenance_numerator) (p, s, target FT_CTX),
				  FT_MUL(p->s, FT_SUB(target, p->entry)));
	if (p->inverse)
		need = FT_DIV(need, FT_MUL(p->entry, target), MARGIN_QUOTIENT_SCALE, true);
	need = FT_SUB(need, p->margin);
	*out = FT_SIGN(need) > 0 ? need : FT_INT(0);
	return true;
}

/*
 * The most margin that can be removed at the mark, down to 16 decimals:
 *	 - unrealised profit cannot be withdrawn, and the position keeps its
 *	   initial margin at the mark: M + min(U, 0) - N(P)/L;
 *	 - the position stays above maintenance: less than Q - MM (the largest
 *	   multiple of 10^-16 below it), which the first bound implies whenever
 *	   1/L > r + f of the bracket at the mark (doc/whatif.md);
 * and 0 when either is negative.  The whole margin for a zero size.
 * linear: (L*(M + min(U, 0)) - a*P) / L; inverse, over D = E*P:
 * (L*(M*D + min(s*(P - E), 0)) - a*E) / (L*D).
 */
FT_SCOPE FT_NUM
FT_FN(max_removable_margin) (const FT_T(Position) *p, const FT_T(Schedule) *s, FT_NUM mark,
							 FT_NUM leverage FT_CTX_DECL)
{
	FT_NUM		u,
				d,
				held,
				by_initial,
				diff;

	if (p->side == 0)
		return p->margin;
	u = FT_MUL(p->s, FT_SUB(mark, p->entry));
	if (FT_SIGN(u) > 0)
		u = FT_INT(0);
	/*
	 * Nothing can be removed, whatever the maintenance bound, when the
	 * initial-margin bound is not positive (before or after its rounding).
	 */
	if (p->inverse)
	{
		d = FT_MUL(p->entry, mark);
		held = FT_SUB(FT_MUL(leverage, FT_ADD(FT_MUL(p->margin, d), u)), FT_MUL(p->a, p->entry));
		if (FT_SIGN(held) <= 0)
			return FT_INT(0);
		by_initial = FT_DIV(held, FT_MUL(leverage, d), MARGIN_QUOTIENT_SCALE, false);
	}
	else
	{
		d = FT_INT(1);
		held = FT_SUB(FT_MUL(leverage, FT_ADD(p->margin, u)), FT_MUL(p->a, mark));
		if (FT_SIGN(held) <= 0)
			return FT_INT(0);
		by_initial = FT_DIV(held, leverage, MARGIN_QUOTIENT_SCALE, false);
	}
	if (FT_SIGN(by_initial) <= 0)
		return FT_INT(0);

	/*
	 * With L*(r + f) < 1 for the bracket at the mark the first bound keeps
	 * Q - x > MM (doc/whatif.md; no amount is negative: tiers.c, rule.c): the
	 * second need not be computed.  The last bracket's rate, the highest
	 * (rates do not decrease), is tried before the bracket is looked up.
	 */
	if (s->conv == 0 &&
		(FT_CMP(FT_MUL(leverage, FT_RATE_FEE(p, &s->brackets[s->nbrackets - 1])), FT_INT(1)) < 0 ||
		 (s->nbrackets > 1 &&
		  FT_CMP(FT_MUL(leverage, FT_RATE_FEE(p, &s->brackets[FT_FN(bracket_at) (p, s, mark, 0 FT_CTX)])),
				 FT_INT(1)) < 0)))
		return by_initial;

	/*
	 * by_initial is a multiple of 10^-16, so it is at most the largest one
	 * below (Q - MM)/d exactly when by_initial*d < Q*d - MM*d: the second
	 * quotient is only divided out when it binds.
	 */
	diff = FT_SUB(FT_FN(equity_numerator) (p, mark FT_CTX),
				  FT_FN(maintenance_numerator) (p, s, mark FT_CTX));
	if (FT_CMP(p->inverse ? FT_MUL(by_initial, d) : by_initial, diff) >= 0)
		by_initial = FT_SUB(FT_DIV(diff, d, MARGIN_QUOTIENT_SCALE, true),
							FT_UNIT(MARGIN_QUOTIENT_SCALE));
	return FT_SIGN(by_initial) > 0 ? by_initial : FT_INT(0);
}

/*
 * The largest size in contracts (> 0) whose initial margin N/L and opening
 * fee N*f at the price fit the collateral C: N <= C / (1/L + f) = C*L / (1 + f*L),
 * and, when has_cap, N <= cap.  linear q = N / (cs*P), inverse q = N*P / cs.
 * Rounded down to a whole lot, or to 16 decimals when lot = 0.
 */
FT_SCOPE FT_NUM
FT_FN(max_size) (FT_NUM collateral, FT_NUM price, FT_NUM leverage, FT_NUM fee,
				 FT_NUM contract_size, bool inverse, bool has_cap, FT_NUM cap, FT_NUM lot
				 FT_CTX_DECL)
{
	FT_NUM		num = FT_MUL(collateral, leverage),
				den = FT_ADD(FT_INT(1), FT_MUL(fee, leverage));

	if (has_cap && FT_CMP(FT_MUL(cap, den), num) < 0)
	{
		num = cap;
		den = FT_INT(1);
	}
	if (inverse)
		num = FT_MUL(num, price);
	else
		den = FT_MUL(den, price);
	if (!FT_IS_ONE(contract_size))
		den = FT_MUL(den, contract_size);
	if (FT_SIGN(lot) > 0)
		return FT_DIV_TICK(num, den, lot, false);
	return FT_DIV(num, den, MARGIN_QUOTIENT_SCALE, false);
}

/*
 * A position after a fill (after_fill), and the close it shares with the
 * liquidation engine: every amount in the settlement currency.
 */
typedef struct FT_T(Fill)
{
	FT_NUM		size;
	FT_NUM		entry;
	FT_NUM		margin;
	FT_NUM		realized_pnl;
	FT_NUM		fee;
	FT_NUM		released;		/* margin released by the closed part */
	FT_NUM		cash;			/* released + realized_pnl - fee, to the wallet */
} FT_T(Fill);

/* f * N(P) of k > 0 contracts: linear exact, inverse up */
FT_SCOPE FT_NUM
FT_FN(fill_fee) (const FT_T(Position) *p, FT_NUM k, FT_NUM price, FT_NUM fee_rate FT_CTX_DECL)
{
	FT_NUM		n = FT_IS_ONE(p->contract_size) ? k : FT_MUL(k, p->contract_size);

	if (FT_IS_ZERO(fee_rate))
		return FT_INT(0);
	if (p->inverse)
		return FT_DIV(FT_MUL(fee_rate, n), price, MARGIN_QUOTIENT_SCALE, true);
	return FT_MUL(fee_rate, FT_MUL(n, price));
}

/*
 * Close k contracts (0 < k <= |q|) of the position at the price, charging
 * fee: the closed part releases M*k/|q| of the margin (down; all of it for a
 * full close) and realises its PnL at the price (linear s_k*(P - E), exact;
 * inverse s_k*(P - E)/(E*P), down, with s_k = side*k*cs); cash = released +
 * PnL - fee goes to the wallet, and when it is negative the deficit is taken
 * from the margin that remains (never below 0; what is left of it stays in
 * cash).  The entry of the rest is unchanged.
 */
FT_SCOPE void
FT_FN(close_part) (const FT_T(Position) *p, FT_NUM k, FT_NUM price, FT_NUM fee,
				   FT_T(Fill) *out FT_CTX_DECL)
{
	FT_NUM		q = FT_FN(abs_size) (p FT_CTX);
	bool		whole = FT_CMP(k, q) == 0;
	FT_NUM		sk = FT_IS_ONE(p->contract_size) ? k : FT_MUL(k, p->contract_size);
	FT_NUM		pnl,
				rest;

	if (p->side < 0)
		sk = FT_NEG(sk);
	pnl = FT_MUL(sk, FT_SUB(price, p->entry));
	if (p->inverse)
		pnl = FT_DIV(pnl, FT_MUL(p->entry, price), MARGIN_QUOTIENT_SCALE, false);
	out->size = p->side < 0 ? FT_NEG(FT_SUB(q, k)) : FT_SUB(q, k);
	out->entry = p->entry;
	out->released = whole ? p->margin :
		FT_DIV(FT_MUL(p->margin, k), q, MARGIN_QUOTIENT_SCALE, false);
	out->realized_pnl = pnl;
	out->fee = fee;
	out->cash = FT_SUB(FT_ADD(out->released, pnl), fee);
	rest = FT_SUB(p->margin, out->released);
	if (FT_SIGN(out->cash) < 0)
	{
		FT_NUM		take = FT_NEG(out->cash);

		if (FT_CMP(take, rest) > 0)
			take = rest;
		rest = FT_SUB(rest, take);
		out->cash = FT_ADD(out->cash, take);
	}
	out->margin = rest;
}

/*
 * The average entry after adding q2 at P to q1 at E1 (same side): linear by
 * notional, (q1*E1 + q2*P) / (q1 + q2); inverse the harmonic mean,
 * (q1 + q2)*E1*P / (q1*P + q2*E1); rounded against the position (up for a
 * long, down for a short) to max(16, the prices' scales) decimals.
 */
FT_SCOPE FT_NUM
FT_FN(average_entry) (const FT_T(Position) *p, FT_NUM q2, FT_NUM price FT_CTX_DECL)
{
	FT_NUM		total = FT_ADD(p->size, q2);
	int			k = Max(MARGIN_QUOTIENT_SCALE, Max(FT_SCALE(p->entry), FT_SCALE(price)));

	if (p->inverse)
		return FT_DIV(FT_MUL(total, FT_MUL(p->entry, price)),
					  FT_ADD(FT_MUL(p->size, price), FT_MUL(q2, p->entry)), k, p->side > 0);
	return FT_DIV(FT_ADD(FT_MUL(p->size, p->entry), FT_MUL(q2, price)), total, k, p->side > 0);
}

/*
 * The position after a fill of q_f contracts (signed: > 0 buys) at P with
 * fee rate f (the caller then adds what margin comes with the fill, and
 * refuses a negative result):
 *	 - q_f = 0: unchanged, no fee;
 *	 - an increase (q = 0 or the same side): size q + q_f, entry the average
 *	   (P itself from q = 0), the fee f*N_f(P) paid from the wallet: cash = -fee;
 *	 - a reduction (the other side, |q_f| <= |q|): close_part of |q_f|;
 *	 - a flip (|q_f| > |q|): the whole position closed, the rest (q + q_f)
 *	   opened at P with no margin of its own (what the caller adds); the fee
 *	   is on the whole fill, charged to the close.
 */
FT_SCOPE void
FT_FN(after_fill) (const FT_T(Position) *p, FT_NUM fill_size, FT_NUM price, FT_NUM fee_rate,
				   FT_T(Fill) *out FT_CTX_DECL)
{
	int			fill_side = FT_SIGN(fill_size);
	FT_NUM		k = fill_side < 0 ? FT_NEG(fill_size) : fill_size;
	FT_NUM		zero = FT_INT(0);

	if (fill_side == 0 || p->side == 0 || p->side == fill_side)
	{
		out->size = FT_ADD(p->size, fill_size);
		out->entry = fill_side == 0 ? p->entry :
			p->side == 0 ? price : FT_FN(average_entry) (p, fill_size, price FT_CTX);
		out->margin = p->margin;
		out->realized_pnl = zero;
		out->released = zero;
		out->fee = fill_side == 0 ? zero : FT_FN(fill_fee) (p, k, price, fee_rate FT_CTX);
		out->cash = FT_NEG(out->fee);
	}
	else
	{
		FT_NUM		q = FT_FN(abs_size) (p FT_CTX);
		bool		flip = FT_CMP(k, q) > 0;

		FT_FN(close_part) (p, flip ? q : k, price, FT_FN(fill_fee) (p, k, price, fee_rate FT_CTX),
						   out FT_CTX);
		if (flip)
		{
			out->size = FT_ADD(p->size, fill_size);
			out->entry = price;
		}
	}
}

#undef FT_RATE_FEE
#undef FT_CAT_
#undef FT_CAT
#undef FT_FN
#undef FT_T
#undef FT_PREFIX
#undef FT_TYPE_PREFIX
#undef FT_NUM
#undef FT_CTX_DECL
#undef FT_CTX
#undef FT_ADD
#undef FT_SUB
#undef FT_MUL
#undef FT_NEG
#undef FT_SIGN
#undef FT_CMP
#undef FT_LE
#undef FT_GE
#undef FT_INT
#undef FT_IS_ONE
#undef FT_IS_ZERO
#undef FT_SAME_SIGN
#undef FT_SCALE
#undef FT_DIV
#undef FT_DIV_TICK
#undef FT_UNIT
#undef FT_WALK_BROKEN
#undef FT_SCOPE
