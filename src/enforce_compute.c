/*
 * enforce_compute.c
 *	  A position's stored prices and status, from its row, its instrument's
 *	  row and the current mark, by the engine (margin.h) directly.
 *
 * Values read from the user's tables are checked as strictly as the SQL
 * functions check their arguments; an error names the table and column.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "args.h"
#include "liquidity_curve.h"
#include "enforce.h"
#include "numeric_codec.h"
#include "tiers.h"

static Oid
column_table(EnforceAttachment *a, EnforceColumnId id)
{
	return a->c.tables[contract_table(id)];
}

Dec
enforce_read_dec(EnforceAttachment *a, EnforceColumnId id, Datum d, bool isnull)
{
	EnforceColumn *c = &a->c.cols[id];
	int128		coef;
	int			scale;
	bool		fits;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("column \"%s\" of table \"%s\" must not be null",
						c->name, get_rel_name(column_table(a, id))),
				 errdetail("isomargin enforcement needs it to compute positions' prices.")));
	switch (c->type)
	{
		case INT2OID:
			return dec_from_int(DatumGetInt16(d));
		case INT4OID:
			return dec_from_int(DatumGetInt32(d));
		case INT8OID:
			return dec_from_int(DatumGetInt64(d));
		default:
			break;
	}
	if (numeric_codec_read(d, &coef, &scale, &fits) != NUMKIND_FINITE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" must be a finite number",
						c->name, get_rel_name(column_table(a, id))),
				 errdetail("The value is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, d)))));
	if (!fits)
		return dec_from_numeric(DatumGetNumeric(d), scale);
	return dec_make(coef, scale);
}

static char *column_phrase(EnforceAttachment *a, EnforceColumnId id);

void
enforce_check_position(EnforceAttachment *a, Dec size, Dec entry, Dec margin)
{
	if (dec_sign(entry) <= 0)
		arg_reject(column_phrase(a, COL_POS_ENTRY), "be greater than zero", entry, NULL);
	if (dec_sign(margin) < 0)
		arg_reject(column_phrase(a, COL_POS_MARGIN), "not be negative", margin, NULL);
}

/*
 * Columns of a pass row: ord, ctid, key, size, entry, margin, status
 * (src/enforce_sql.c, position_columns).
 */
void
enforce_read_pass_row(EnforceAttachment *a, HeapTuple t, TupleDesc d, EnforcePassRow *row)
{
	bool		isnull;
	Datum		v;

	v = SPI_getbinval(t, d, 4, &isnull);
	row->size = enforce_read_dec(a, COL_POS_SIZE, v, isnull);
	v = SPI_getbinval(t, d, 5, &isnull);
	row->entry = enforce_read_dec(a, COL_POS_ENTRY, v, isnull);
	v = SPI_getbinval(t, d, 6, &isnull);
	row->margin = enforce_read_dec(a, COL_POS_MARGIN, v, isnull);
	v = SPI_getbinval(t, d, 7, &isnull);
	row->has_status = !isnull;
	row->status = isnull ? MARGIN_OK : enforce_status_of(a, DatumGetObjectId(v));
	enforce_check_position(a, row->size, row->entry, row->margin);
}

void
enforce_missing_instrument(EnforceAttachment *a, Datum symbol)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("instrument %s of a position in \"%s\" is not in \"%s\"",
					enforce_symbol_text(a, symbol), a->positions_name,
					get_rel_name(a->instruments)),
			 errdetail("isomargin enforcement needs the instrument to compute the position's prices.")));
}

Dec
enforce_read_mark(EnforceAttachment *a, Datum d)
{
	Dec			v = enforce_read_dec(a, COL_MARK_PRICE, d, false);

	if (dec_sign(v) <= 0)
		arg_reject(column_phrase(a, COL_MARK_PRICE), "be greater than zero", v, NULL);
	return v;
}

static char *
instrument_source(void *arg)
{
	EnforceInstrument *ins = arg;

	return psprintf(" for instrument %s", enforce_symbol_text(ins->attachment, ins->symbol));
}

static char *
column_phrase(EnforceAttachment *a, EnforceColumnId id)
{
	return psprintf("column \"%s\" of table \"%s\"", a->c.cols[id].name,
					get_rel_name(column_table(a, id)));
}

const EnforceColumnId enforce_instrument_cols[ENFORCE_NINS] = {
	COL_INS_KIND, COL_INS_CS, COL_INS_RATE, COL_INS_FEE, COL_INS_BAND, COL_INS_ADDON,
	/* venue conventions (doc/venues.md) */
	COL_INS_MM_BASIS, COL_INS_FEE_BASIS, COL_INS_TIER_BASIS, COL_INS_BRACKET_BASIS,
	COL_INS_MAINT_AMOUNT,
	/* each position's liquidity add-on (doc/dynamic.md) */
	COL_INS_LIQUIDITY
};

/* An instrument plan's row, its columns from the first-th on. */
void
enforce_instrument_read(HeapTuple t, TupleDesc d, int first, EnforceInstrumentRow *row)
{
	for (int i = 0; i < ENFORCE_NINS; i++)
		row->values[i] = SPI_getbinval(t, d, first + i, &row->nulls[i]);
}

static int
ins_slot(EnforceColumnId id)
{
	for (int i = 0; i < ENFORCE_NINS; i++)
		if (enforce_instrument_cols[i] == id)
			return i;
	elog(ERROR, "column %d is not an instrument column", (int) id);
	return -1;
}

/*
 * The instrument's dynamic add-on rate (doc/dynamic.md), an optional column:
 * at least 0, and with the highest bracket's mmr + fee_rate below the
 * margin-call ratio (the margin-call price must exist).  Every position of
 * the instrument takes it on top of its bracket's rate.
 */
static void
instrument_addon(EnforceAttachment *a, EnforceInstrument *ins, Datum value, bool isnull)
{
	const MarginSchedule *s = &ins->rule.schedule;
	Dec			top;

	ins->addon = dec_from_int(0);
	if (a->c.cols[COL_INS_ADDON].name == NULL)
		return;
	ins->addon = enforce_read_dec(a, COL_INS_ADDON, value, isnull);
	if (dec_sign(ins->addon) < 0)
		arg_reject(column_phrase(a, COL_INS_ADDON), "not be negative", ins->addon,
				   instrument_source(ins));
	top = dec_add(s->brackets[s->nbrackets - 1].rate_fee, ins->addon);
	if (dec_cmp(ins->rule.call_ratio, top) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("margin_call_ratio must be greater than mmr + fee_rate + addon_rate"),
				 errdetail("margin_call_ratio is %s and the highest bracket's mmr + fee_rate + addon_rate is %s%s.",
						   dec_text(ins->rule.call_ratio), dec_text(top), instrument_source(ins)),
				 errhint("At or above it the margin ratio would stand above the threshold at every price.")));
}

/*
 * The instrument's liquidity curve (doc/dynamic.md), an optional jsonb
 * column; NULL: no liquidity add-on.  It must have been built for the
 * instrument's kind (the slippage of an inverse contract is another rate).
 */
static void
instrument_curve(EnforceAttachment *a, EnforceInstrument *ins, Datum value, bool isnull)
{
	ins->has_curve = a->c.cols[COL_INS_LIQUIDITY].name != NULL && !isnull;
	if (!ins->has_curve)
		return;
	liquidity_curve_read(DatumGetJsonbP(value), column_phrase(a, COL_INS_LIQUIDITY),
						 instrument_source(ins), &ins->curve);
	if (ins->curve.inverse != ins->rule.inverse)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a liquidity curve of the instrument's kind",
						column_phrase(a, COL_INS_LIQUIDITY)),
				 errdetail("Instrument %s is %s and the curve %s.",
						   enforce_symbol_text(a, ins->symbol),
						   ins->rule.inverse ? "inverse" : "linear",
						   ins->curve.inverse ? "inverse" : "linear"),
				 errhint("Build the curve with the instrument's kind.")));
}

/*
 * A position's add-on with a liquidity curve: the instrument's add-on plus
 * the curve's rate for the position's size, the add-on dynamic_* figures
 * take; as for the instrument's, the margin-call price must exist.
 */
static pg_noinline Dec
position_addon(const EnforceInstrument *ins, Dec size)
{
	const MarginSchedule *s = &ins->rule.schedule;
	Dec			liquidity = liquidity_curve_rate(&ins->curve, size);
	Dec			addon = dec_add(ins->addon, liquidity);
	Dec			top = dec_add(s->brackets[s->nbrackets - 1].rate_fee, addon);

	if (dec_cmp(ins->rule.call_ratio, top) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("margin_call_ratio must be greater than mmr + fee_rate + addon_rate"),
				 errdetail("margin_call_ratio is %s and the highest bracket's mmr + fee_rate + addon_rate is %s, with the liquidity add-on %s of a position of size %s%s.",
						   dec_text(ins->rule.call_ratio), dec_text(top), dec_text(liquidity),
						   dec_text(size), instrument_source((void *) ins)),
				 errhint("A thinner book or a larger penalty_rate raises the liquidity add-on.")));
	return addon;
}

/*
 * The instrument's venue conventions (doc/venues.md), from the columns
 * mapped to them: an absent column or a NULL takes the default, as the
 * figure functions' defaults do.
 */
static void
read_conventions(EnforceAttachment *a, const EnforceInstrumentRow *row, RuleInput *in,
				 RuleNames *names)
{
	static const EnforceColumnId ids[] = {
		COL_INS_MM_BASIS, COL_INS_FEE_BASIS, COL_INS_TIER_BASIS, COL_INS_BRACKET_BASIS
	};
	int			amount = ins_slot(COL_INS_MAINT_AMOUNT);

	for (int k = 0; k < (int) lengthof(ids); k++)
	{
		int			slot = ins_slot(ids[k]);

		if (a->c.cols[ids[k]].name != NULL && !row->nulls[slot])
			in->conv |= rule_convention_bit(a->c.cols[ids[k]].key,
											DatumGetObjectId(row->values[slot]));
	}
	in->maintenance_amount = dec_from_int(0);
	if (a->c.cols[COL_INS_MAINT_AMOUNT].name != NULL && !row->nulls[amount])
	{
		in->maintenance_amount = enforce_read_dec(a, COL_INS_MAINT_AMOUNT, row->values[amount],
												  false);
		names->maintenance_amount = column_phrase(a, COL_INS_MAINT_AMOUNT);
	}
	if (a->c.cols[COL_INS_TIER_BASIS].name != NULL)
		names->tier_basis = column_phrase(a, COL_INS_TIER_BASIS);
}

/*
 * An instrument's rule from its row; an absent optional column reads as
 * NULL and takes its default (linear, 1, 0, no band).  The rule's checks
 * are rule.c's, naming the column and the instrument.
 */
void
enforce_instrument_from_row(EnforceAttachment *a, EnforceInstrument *ins, Datum symbol,
							const EnforceInstrumentRow *row)
{
	const Datum *values = row->values;
	const bool *nulls = row->nulls;
	const int	kind = ins_slot(COL_INS_KIND),
				cs = ins_slot(COL_INS_CS),
				rate = ins_slot(COL_INS_RATE),
				fee = ins_slot(COL_INS_FEE),
				band = ins_slot(COL_INS_BAND);
	RuleInput	in = {0};
	RuleNames	names = {0};
	MarginBracket *brackets = NULL;
	FastBracket *f_brackets = NULL;

	ins->found = true;
	ins->symbol = symbol;
	ins->attachment = a;
	if (a->c.cols[COL_INS_KIND].name == NULL)
		in.inverse = false;
	else if (nulls[kind])
		enforce_read_dec(a, COL_INS_KIND, (Datum) 0, true);
	else
		in.inverse = contract_kind_is_inverse(&a->c, values[kind], a->kind_inverse);
	in.contract_size = a->c.cols[COL_INS_CS].name == NULL ? dec_from_int(1) :
		enforce_read_dec(a, COL_INS_CS, values[cs], nulls[cs]);
	in.fee = a->c.cols[COL_INS_FEE].name == NULL ? dec_from_int(0) :
		enforce_read_dec(a, COL_INS_FEE, values[fee], nulls[fee]);
	/* a NULL band: none for this instrument */
	ins->has_band = a->c.cols[COL_INS_BAND].name != NULL && !nulls[band];
	if (ins->has_band)
	{
		ins->band = enforce_read_dec(a, COL_INS_BAND, values[band], false);
		if (dec_sign(ins->band) <= 0)
			arg_reject(column_phrase(a, COL_INS_BAND), "be greater than zero", ins->band,
					   instrument_source(ins));
	}
	if (a->c.rate_is_tiers)
	{
		if (nulls[rate])
			enforce_read_dec(a, COL_INS_RATE, (Datum) 0, true);
		in.tiers = DatumGetTiersP(values[rate]);
		brackets = palloc(sizeof(MarginBracket) * in.tiers->nbrackets);
		f_brackets = palloc(sizeof(FastBracket) * in.tiers->nbrackets);
	}
	else
	{
		in.mmr = enforce_read_dec(a, COL_INS_RATE, values[rate], nulls[rate]);
		in.has_mmr = true;
	}
	in.tick = a->tick;
	in.call_ratio = a->call_ratio;
	in.has_call_ratio = true;
	read_conventions(a, row, &in, &names);

	names.contract_size = a->c.cols[COL_INS_CS].name ? column_phrase(a, COL_INS_CS) : "contract_size";
	names.rate = column_phrase(a, COL_INS_RATE);
	names.fee = a->c.cols[COL_INS_FEE].name ? column_phrase(a, COL_INS_FEE) : "fee_rate";
	names.tick = "tick_size";
	names.call_ratio = "margin_call_ratio";
	names.source = instrument_source;
	names.source_arg = ins;
	rule_build(&in, &names, &ins->rule, brackets, f_brackets);
	instrument_addon(a, ins, row->values[ins_slot(COL_INS_ADDON)], row->nulls[ins_slot(COL_INS_ADDON)]);
	instrument_curve(a, ins, row->values[ins_slot(COL_INS_LIQUIDITY)],
					 row->nulls[ins_slot(COL_INS_LIQUIDITY)]);
}

void
enforce_position_figures(EnforceAttachment *a, const EnforceInstrument *ins,
						 Dec size, Dec entry, Dec margin,
						 bool has_mark, Dec mark, EnforceFigures *out)
{
	const Rule *r = &ins->rule;
	MarginPosition p;
	ErrorContextCallback figure;

	margin_position_init(&p, size, entry, margin, r->contract_size, r->inverse);
	margin_position_addon(&p, unlikely(ins->has_curve) ? position_addon(ins, size) : ins->addon);
	dec_figure_push(&figure, "liquidation_price");
	out->has_lp = margin_threshold_price(&p, &r->schedule, dec_from_int(1), r->tick, &out->lp);
	dec_figure_pop(&figure);
	dec_figure_push(&figure, "margin_call_price");
	out->has_mcp = margin_threshold_price(&p, &r->schedule, r->call_ratio, r->tick, &out->mcp);
	dec_figure_pop(&figure);
	dec_figure_push(&figure, "bankruptcy_price");
	out->has_bp = margin_bankruptcy_price(&p, r->tick, &out->bp);
	dec_figure_pop(&figure);
	out->has_mark = has_mark;
	out->check = MARGIN_OK;
	if (has_mark)
	{
		dec_figure_push(&figure, "margin_status");
		out->check = margin_check(&p, &r->schedule, mark, r->call_ratio);
		dec_figure_pop(&figure);
		dec_figure_push(&figure, "equity");
		out->equity = margin_equity(&p, mark);
		dec_figure_pop(&figure);
		dec_figure_push(&figure, "maintenance_margin");
		out->maintenance = margin_maintenance(&p, &r->schedule, mark);
		dec_figure_pop(&figure);
	}
}

MarginStatus
enforce_status_of(EnforceAttachment *a, Oid label)
{
	for (int i = MARGIN_OK; i <= MARGIN_BANKRUPT; i++)
		if (a->status_oid[i] == label)
			return (MarginStatus) i;
	elog(ERROR, "unknown margin_status label %u", label);
	return MARGIN_OK;			/* keep compiler quiet */
}

/*
 * liquidate and bankrupt are sticky: they only escalate until the position
 * row itself changes (keep_severe false then); margin_call and ok follow
 * the check both ways.
 */
MarginStatus
enforce_next_status(bool has_old, MarginStatus old, MarginStatus check, bool keep_severe)
{
	if (has_old && keep_severe && old >= MARGIN_LIQUIDATE)
		return Max(old, check);
	return check;
}

Datum
enforce_price_datum(bool has, Dec v, bool *isnull)
{
	*isnull = !has;
	return has ? NumericGetDatum(dec_to_numeric(v)) : (Datum) 0;
}
