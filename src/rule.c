/*
 * rule.c
 *	  A figure's rule: read, checked and kept (rule.h).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/syscache.h"

#include "args.h"
#include "rule.h"


/* The detail's " for instrument X", when the caller says where values come from. */
static const char *
source_of(const RuleNames *names)
{
	return names->source ? names->source(names->source_arg) : NULL;
}

static const char *
with_source(const RuleNames *names)
{
	const char *s = source_of(names);

	return s ? s : "";
}

static void
reject(const RuleNames *names, const char *name, const char *rule, Dec v)
{
	arg_reject(name, rule, v, source_of(names));
}

static bool
fix_of(Dec d, Fix *out)
{
	if (d.big)
		return false;
	*out = fix_make(d.coef, d.scale);
	return true;
}

/* The fast form of every value, or fast = false when one does not fit. */
static void
build_fast(Rule *r, FastBracket *f_brackets)
{
	bool		ok = true;

	r->fast = fix_of(r->contract_size, &r->f_contract_size) &&
		fix_of(r->tick, &r->f_tick) && fix_of(r->call_ratio, &r->f_call_ratio) &&
		fix_of(r->schedule.fee, &r->f_schedule.fee);
	r->f_schedule.conv = r->schedule.conv;
	if (!r->fast || !r->has_schedule)
		return;
	r->f_schedule.nbrackets = r->schedule.nbrackets;
	r->f_schedule.brackets = r->schedule.nbrackets == 1 && f_brackets == NULL ? &r->f_flat : f_brackets;
	for (int i = 0; r->fast && i < r->schedule.nbrackets; i++)
	{
		const MarginBracket *b = &r->schedule.brackets[i];
		FastBracket *f = &r->f_schedule.brackets[i];

		r->fast = fix_of(b->floor, &f->floor) && fix_of(b->rate, &f->rate) &&
			fix_of(b->amount, &f->amount);
	}
	if (r->fast)
	{
		Fix			top;

		fast_schedule_finish(&r->f_schedule, &ok);
		top = r->f_schedule.brackets[r->f_schedule.nbrackets - 1].rate_fee;
		r->f_addon_room[0] = fix_sub(fix_make(1, 0), top, &ok);
		r->f_addon_room[1] = fix_sub(r->f_call_ratio, top, &ok);
	}
	r->fast = r->fast && ok;
}

void
rule_build(const RuleInput *in, const RuleNames *names, Rule *out,
		   MarginBracket *brackets, FastBracket *f_brackets)
{
	Dec			one = dec_from_int(1);

	out->inverse = in->inverse;
	out->contract_size = in->contract_size;
	if (dec_sign(in->contract_size) <= 0)
		reject(names, names->contract_size, "be greater than zero", in->contract_size);
	if (dec_sign(in->fee) < 0)
		reject(names, names->fee, "not be negative", in->fee);
	/* the fee of a fill or an opening (whatif.c), with or without a maintenance rule */
	out->schedule.fee = in->fee;
	out->schedule.conv = 0;

	out->has_schedule = in->tiers != NULL || in->has_mmr;
	if (in->tiers != NULL)
	{
		const Tiers *t = in->tiers;

		/*
		 * Floors in contracts take the venue's amounts or none: amounts
		 * derived from them would be contracts times a rate, not money.
		 */
		if ((in->conv & MARGIN_CONV_BY_CONTRACTS) && TIERS_AMOUNTS(t) == TIERS_AMOUNTS_DERIVED &&
			t->nbrackets > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s 'contracts' needs a schedule with amounts=given or amounts=none",
							names->tier_basis ? names->tier_basis : "tier_basis"),
					 errdetail("The schedule's amounts are derived from its floors%s, which are contract counts under this basis.",
							   with_source(names)),
					 errhint("Write the schedule with amounts=none (step tiers, as OKX's) or amounts=given.")));
		out->schedule.nbrackets = t->nbrackets;
		out->schedule.fee = in->fee;
		out->schedule.brackets = brackets;
		out->schedule.conv = in->conv;
		for (int i = 0; i < t->nbrackets; i++)
		{
			const TiersBracket *b = &t->brackets[i];
			Dec			rate = tiers_dec(b, TIERS_MMR);

			if (dec_cmp(dec_add(rate, in->fee), one) >= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("mmr + fee_rate must be less than 1 in every bracket"),
						 errdetail("Bracket %d has mmr %s and fee_rate is %s%s.",
								   i + 1, dec_text(rate), dec_text(in->fee), with_source(names)),
						 errhint("A position whose maintenance margin and closing fee reach its whole notional can never be held.")));
			brackets[i].floor = tiers_dec(b, TIERS_FLOOR);
			brackets[i].rate = rate;
			brackets[i].amount = tiers_dec(b, TIERS_AMOUNT);
		}
		margin_schedule_finish(&out->schedule);
	}
	else if (in->has_mmr)
	{
		if (dec_sign(in->mmr) < 0 || dec_cmp(in->mmr, one) >= 0)
			reject(names, names->rate, "be at least 0 and less than 1", in->mmr);
		if (dec_cmp(dec_add(in->mmr, in->fee), one) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mmr + fee_rate must be less than 1"),
					 errdetail("mmr is %s and fee_rate is %s%s.",
							   dec_text(in->mmr), dec_text(in->fee), with_source(names)),
					 errhint("A position whose maintenance margin and closing fee reach its whole notional can never be held.")));
		if (dec_sign(in->maintenance_amount) < 0)
			reject(names, names->maintenance_amount ? names->maintenance_amount : "maintenance_amount",
				   "not be negative", in->maintenance_amount);
		margin_schedule_flat(&out->schedule, &out->flat, in->mmr, in->maintenance_amount, in->fee,
							 in->conv);
	}

	out->tick = in->tick;
	if (dec_sign(in->tick) < 0)
		reject(names, names->tick, "not be negative", in->tick);

	/*
	 * The margin-call ratio must exceed mmr + fee_rate (with tiers: the
	 * highest bracket's): at or below it the margin ratio would stand above
	 * the threshold at every price, a margin call that never ends.
	 */
	out->call_ratio = in->has_call_ratio ? in->call_ratio : one;
	if (in->has_call_ratio)
	{
		Dec			c = in->call_ratio;

		if (dec_sign(c) <= 0 || dec_cmp(c, one) > 0)
			reject(names, names->call_ratio, "be greater than 0 and at most 1", c);
		if (out->has_schedule)
		{
			const MarginSchedule *s = &out->schedule;
			Dec			top = s->brackets[s->nbrackets - 1].rate_fee;

			if (dec_cmp(c, top) <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("margin_call_ratio must be greater than mmr + fee_rate"),
						 errdetail("margin_call_ratio is %s and %s is %s%s.", dec_text(c),
								   s->nbrackets > 1 ? "the highest bracket's mmr + fee_rate" : "mmr + fee_rate",
								   dec_text(top), with_source(names)),
						 errhint("At or below it the margin ratio would stand above the threshold at every price.")));
		}
	}
	build_fast(out, f_brackets);
}

bool
rule_kind_is_inverse(Oid kind, Oid *linear_oid, Oid *inverse_oid)
{
	HeapTuple	tup;
	bool		inverse;

	if (kind == *linear_oid && OidIsValid(kind))
		return false;
	if (kind == *inverse_oid && OidIsValid(kind))
		return true;
	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(kind));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kind is not a contract_kind value")));
	inverse = strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), "inverse") == 0;
	ReleaseSysCache(tup);
	if (inverse)
		*inverse_oid = kind;
	else
		*linear_oid = kind;
	return inverse;
}

static const RuleNames sql_names = {
	.contract_size = "contract_size",
	.rate = "mmr",
	.fee = "fee_rate",
	.tick = "tick_size",
	.call_ratio = "margin_call_ratio",
	.maintenance_amount = "maintenance_amount",
	.tier_basis = "tier_basis",
};

/* ---- venue conventions (doc/venues.md) ---- */

/*
 * The labels of each convention argument, in RuleArgs.conv order (with
 * mmr, place RULE_CONV_AMOUNT is maintenance_amount, a numeric), and the
 * MARGIN_CONV_* bit its second label sets.
 */
static const struct
{
	const char *type;
	const char *labels[2];
	int			bit;
}			conv_spec[2][RULE_CONV_NARGS] = {
	{							/* mmr */
		{"mm_basis", {"mark", "entry"}, MARGIN_CONV_MM_ENTRY},
		{"fee_basis", {"mark", "bankruptcy"}, MARGIN_CONV_FEE_BANKRUPTCY},
		{NULL, {NULL, NULL}, 0},
		{NULL, {NULL, NULL}, 0},
	},
	{							/* tiers */
		{"mm_basis", {"mark", "entry"}, MARGIN_CONV_MM_ENTRY},
		{"fee_basis", {"mark", "bankruptcy"}, MARGIN_CONV_FEE_BANKRUPTCY},
		{"tier_basis", {"notional", "contracts"}, MARGIN_CONV_BY_CONTRACTS},
		{"bracket_basis", {"price", "entry"}, MARGIN_CONV_BRACKET_ENTRY},
	},
};

/* The label index (0 or 1) of a convention argument's enum value, its OID kept. */
static int
conv_label(RuleCache *c, int j, Oid value)
{
	const char *const *labels = conv_spec[c->rate_is_tiers][j].labels;
	HeapTuple	tup;
	int			k;

	for (k = 0; k < 2; k++)
		if (value == c->conv_oids[j][k] && OidIsValid(value))
			return k;
	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(value));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a %s value", conv_spec[c->rate_is_tiers][j].type,
						conv_spec[c->rate_is_tiers][j].type)));
	for (k = 0; k < 2; k++)
		if (strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), labels[k]) == 0)
			break;
	ReleaseSysCache(tup);
	if (k == 2)
		elog(ERROR, "isomargin.%s has an unknown label", conv_spec[c->rate_is_tiers][j].type);
	c->conv_oids[j][k] = value;
	return k;
}

int
rule_convention_bit(const char *type, Oid value)
{
	HeapTuple	tup;
	int			bit = 0;

	for (int j = 0; j < RULE_CONV_NARGS; j++)
	{
		if (strcmp(conv_spec[1][j].type, type) != 0)
			continue;
		tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(value));
		if (!HeapTupleIsValid(tup))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s is not a %s value", type, type)));
		if (strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel),
				   conv_spec[1][j].labels[1]) == 0)
			bit = conv_spec[1][j].bit;
		ReleaseSysCache(tup);
	}
	return bit;
}

/* How many convention places there are: 3 with mmr, 4 with tiers. */
static int
conv_nargs(const RuleCache *c)
{
	return c->rate_is_tiers ? RULE_CONV_NARGS : RULE_CONV_AMOUNT + 1;
}

/*
 * The argument number of convention place j, or -1 when the function does
 * not take it or this call leaves it out: figure_support (planner support)
 * drops trailing convention arguments equal to their defaults, which the
 * rule then reads as those defaults.
 */
static int
conv_argno(FunctionCallInfo fcinfo, const RuleArgs *args, int j)
{
	int			n = args->conv;

	if (args->conv < 0 || (args->conv_absent & (1 << j)))
		return -1;
	for (int k = 0; k < j; k++)
		if (!(args->conv_absent & (1 << k)))
			n++;
	return n < PG_NARGS() ? n : -1;
}

/*
 * The varying convention arguments' labels as bits 32 and up of the kind's
 * key word (which holds an OID below them), so that the key stays exact;
 * never 0 when one varies.  0 when one cannot be keyed: a
 * maintenance_amount that varies, or a label not seen yet.
 */
uint64
rule_conv_key(FunctionCallInfo fcinfo, const RuleCache *c, const RuleArgs *args)
{
	uint64		bits = 0;

	for (int j = 0; j < conv_nargs(c); j++)
	{
		Oid			v;
		int			k;

		if (!(c->conv_varies & (1 << j)))
			continue;
		if (!c->rate_is_tiers && j == RULE_CONV_AMOUNT)
			return 0;
		v = PG_GETARG_OID(conv_argno(fcinfo, args, j));
		for (k = 0; k < 2; k++)
			if (v == c->conv_oids[j][k] && OidIsValid(v))
				break;
		if (k == 2)
			return 0;
		bits |= (uint64) (k + 1) << (32 + 2 * j);
	}
	return bits;
}

/* The conventions of this call into *in. */
static void
read_conventions(FunctionCallInfo fcinfo, RuleCache *c, const RuleArgs *args, RuleInput *in)
{
	in->maintenance_amount = dec_from_int(0);
	in->conv = 0;
	if (args->conv < 0)
		return;
	for (int j = 0; j < conv_nargs(c); j++)
	{
		int			argno = conv_argno(fcinfo, args, j);

		if (argno < 0)
			continue;
		if (!c->rate_is_tiers && j == RULE_CONV_AMOUNT)
			in->maintenance_amount = arg_finite(fcinfo, argno, "maintenance_amount");
		else if (conv_label(c, j, PG_GETARG_OID(argno)) == 1)
			in->conv |= conv_spec[c->rate_is_tiers][j].bit;
	}
}

/* Is the maintenance-rule argument a tiers schedule (install/25_tiers_figures.sql)? */
static bool
declared_tiers(FunctionCallInfo fcinfo, int argno)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	bool		tiers;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	tiers = argno < ((Form_pg_proc) GETSTRUCT(tup))->pronargs &&
		((Form_pg_proc) GETSTRUCT(tup))->proargtypes.values[argno] != NUMERICOID;
	ReleaseSysCache(tup);
	return tiers;
}

static RuleCache *
cache_create(FunctionCallInfo fcinfo, const RuleArgs *args)
{
	RuleCache  *c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RuleCache));
	int8		all[RULE_NARGS] = {args->cs, args->kind, args->rate, args->fee, args->tick,
	args->call_ratio};

	c->rate_is_tiers = args->rate >= 0 && declared_tiers(fcinfo, args->rate);
	for (int k = 0; k < RULE_NARGS; k++)
		if (all[k] >= 0 && !arg_is_const(fcinfo, all[k]))
			c->varies |= 1 << k;
	if (args->conv >= 0)
		for (int j = 0; j < conv_nargs(c); j++)
			if (conv_argno(fcinfo, args, j) >= 0 &&
				!arg_is_const(fcinfo, conv_argno(fcinfo, args, j)))
				c->conv_varies |= 1 << j;
	if (c->conv_varies)
		c->varies |= RULE_VARIES_CONV;
	if (c->rate_is_tiers && (c->varies & (1 << RULE_KEY_RATE)))
		c->ntiers_consts = arg_const_values(fcinfo, args->rate, c->tiers_consts,
											RULE_TIERS_CONSTS);
	return c;
}

/* Room for n brackets in the slot, in fn_mcxt. */
static void
slot_room(FunctionCallInfo fcinfo, RuleSlot *slot, int n)
{
	if (slot->room >= n)
		return;
	if (slot->brackets)
	{
		pfree(slot->brackets);
		pfree(slot->f_brackets);
	}
	slot->brackets = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(MarginBracket) * n);
	slot->f_brackets = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(FastBracket) * n);
	slot->room = n;
}

/* Read and check the rule of this call into the slot; false when it cannot be kept. */
static bool
read_rule(FunctionCallInfo fcinfo, RuleCache *c, const RuleArgs *args, RuleSlot *slot)
{
	RuleInput	in = {0};
	Rule	   *r = &slot->rule;

	in.inverse = args->kind >= 0 &&
		rule_kind_is_inverse(PG_GETARG_OID(args->kind), &c->linear_oid, &c->inverse_oid);
	in.contract_size = args->cs >= 0 ? arg_finite(fcinfo, args->cs, "contract_size") : dec_from_int(1);
	in.fee = args->fee >= 0 ? arg_finite(fcinfo, args->fee, "fee_rate") : dec_from_int(0);
	if (args->rate >= 0 && c->rate_is_tiers)
	{
		in.tiers = DatumGetTiersP(PG_GETARG_DATUM(args->rate));
		slot_room(fcinfo, slot, in.tiers->nbrackets);
	}
	else if (args->rate >= 0)
	{
		in.mmr = arg_finite(fcinfo, args->rate, "mmr");
		in.has_mmr = true;
	}
	in.tick = args->tick >= 0 ? arg_finite(fcinfo, args->tick, "tick_size") : dec_from_int(0);
	in.has_call_ratio = args->call_ratio >= 0;
	if (in.has_call_ratio)
		in.call_ratio = arg_finite(fcinfo, args->call_ratio, "margin_call_ratio");
	read_conventions(fcinfo, c, args, &in);
	rule_build(&in, &sql_names, r, slot->brackets, slot->f_brackets);
	/* a value read as a numeric lives in the call's memory */
	return r->fast;
}

static void
keep_tiers_value(FunctionCallInfo fcinfo, RuleSlot *slot, Datum d)
{
	Size		n = VARSIZE_ANY(DatumGetPointer(d));

	if (slot->tiers_room < n)
	{
		if (slot->tiers_value)
			pfree(slot->tiers_value);
		slot->tiers_value = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, n);
		slot->tiers_room = n;
	}
	memcpy(slot->tiers_value, DatumGetPointer(d), n);
}

/*
 * rule_of_call's way when the cache does not answer: the first call, a rule
 * of constants, values that cannot be keyed, a slot that holds another key.
 */
const Rule *
rule_of_call_slow(FunctionCallInfo fcinfo, RuleCache **cachep, const RuleArgs *args)
{
	RuleCache  *c = *cachep;
	uint64		key[RULE_NARGS];
	RuleSlot   *slot;

	if (c == NULL)
		*cachep = c = cache_create(fcinfo, args);
	if (c->kept)
		return &c->slot[0].rule;
	if (c->varies == 0)
	{
		/* every rule argument is a constant: read once, kept when it can be */
		c->kept = read_rule(fcinfo, c, args, &c->slot[0]);
		return &c->slot[0].rule;
	}
	if (!rule_keys(fcinfo, c, args, key))
	{
		/* long or unusual values: read on every call, in the first slot */
		slot = &c->slot[0];
		slot->filled = false;
		read_rule(fcinfo, c, args, slot);
		return &slot->rule;
	}
	slot = &c->slot[rule_slot_of(args, key)];
	if (rule_slot_holds(fcinfo, c, args, rule_partner_slot(c, slot), key))
		return &rule_partner_slot(c, slot)->rule;
	/* the partner slot when it is free; else the first slot is taken over */
	if (slot->filled && !rule_partner_slot(c, slot)->filled)
		slot = rule_partner_slot(c, slot);
	slot->filled = false;
	if (read_rule(fcinfo, c, args, slot))
	{
		/* a constant's key needs no bytes to compare */
		if (c->rate_is_tiers && (c->varies & (1 << RULE_KEY_RATE)) && (key[RULE_KEY_RATE] & 1))
			keep_tiers_value(fcinfo, slot, PG_GETARG_DATUM(args->rate));
		memcpy(slot->key, key, sizeof(key));	/* the untaken words: never compared */
		slot->filled = true;
	}
	return &slot->rule;
}

bool
rule_same_tiers_value(const RuleSlot *slot, Datum d)
{
	Size		n = VARSIZE_ANY(DatumGetPointer(d));

	return slot->tiers_value != NULL && VARSIZE_ANY(slot->tiers_value) == n &&
		memcmp(slot->tiers_value, DatumGetPointer(d), n) == 0;
}
