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
#include "enforce.h"
#include "numeric_codec.h"
#include "tiers.h"

static Oid
column_table(EnforceAttachment *a, EnforceColumnId id)
{
	if (id <= COL_POS_CHANGED_AT)
		return a->positions;
	if (id <= COL_MARK_PRICE)
		return a->marks;
	return a->instruments;
}

static char *
dec_text(Dec v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(dec_to_numeric(v))));
}

Dec
enforce_read_dec(EnforceAttachment *a, EnforceColumnId id, Datum d, bool isnull)
{
	EnforceColumn *c = &a->cols[id];
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

/* symbol: the instrument's, or NULL for a position's or a mark's value */
static void
value_error(EnforceAttachment *a, EnforceColumnId id, Dec v, const char *rule,
			const Datum *symbol)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("column \"%s\" of table \"%s\" must be %s",
					a->cols[id].name, get_rel_name(column_table(a, id)), rule),
			 symbol ? errdetail("The value is %s for instrument %s.", dec_text(v),
								enforce_symbol_text(a, *symbol)) :
			 errdetail("The value is %s.", dec_text(v))));
}

void
enforce_check_position(EnforceAttachment *a, Dec size, Dec entry, Dec margin)
{
	if (dec_sign(entry) <= 0)
		value_error(a, COL_POS_ENTRY, entry, "greater than zero", NULL);
	if (dec_sign(margin) < 0)
		value_error(a, COL_POS_MARGIN, margin, "zero or more", NULL);
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
		value_error(a, COL_MARK_PRICE, v, "greater than zero", NULL);
	return v;
}

/*
 * values/nulls: kind, contract_size, rate (mmr or tiers), fee_rate, as
 * PLAN_INSTRUMENT returns them; an absent optional column reads as NULL
 * and takes its default (linear, 1, 0).
 */
void
enforce_instrument_from_row(EnforceAttachment *a, EnforceInstrument *ins, Datum symbol,
							Datum *values, bool *nulls)
{
	Dec			fee;
	Dec			rate;

	ins->found = true;
	ins->symbol = symbol;
	if (a->cols[COL_INS_KIND].name == NULL)
		ins->inverse = false;
	else if (nulls[0])
		enforce_read_dec(a, COL_INS_KIND, (Datum) 0, true);
	else
		ins->inverse = DatumGetObjectId(values[0]) == a->kind_inverse;

	ins->contract_size = a->cols[COL_INS_CS].name == NULL ? dec_from_int(1) :
		enforce_read_dec(a, COL_INS_CS, values[1], nulls[1]);
	if (dec_sign(ins->contract_size) <= 0)
		value_error(a, COL_INS_CS, ins->contract_size, "greater than zero", &symbol);

	fee = a->cols[COL_INS_FEE].name == NULL ? dec_from_int(0) :
		enforce_read_dec(a, COL_INS_FEE, values[3], nulls[3]);
	if (dec_sign(fee) < 0)
		value_error(a, COL_INS_FEE, fee, "zero or more", &symbol);

	if (a->rate_is_tiers)
	{
		Tiers	   *t;

		if (nulls[2])
			enforce_read_dec(a, COL_INS_RATE, (Datum) 0, true);
		t = DatumGetTiersP(values[2]);
		tiers_check_fee(t, fee);
		tiers_to_schedule(t, fee, &ins->schedule);
	}
	else
	{
		rate = enforce_read_dec(a, COL_INS_RATE, values[2], nulls[2]);
		if (dec_sign(rate) < 0 || dec_cmp(rate, dec_from_int(1)) >= 0)
			value_error(a, COL_INS_RATE, rate, "at least 0 and less than 1", &symbol);
		check_rate_with_fee(rate, fee, a->cols[COL_INS_RATE].name);
		margin_schedule_flat(&ins->schedule, &ins->flat, rate, fee);
	}

	/* the margin-call price exists only while c*Q - MM rises toward safety */
	for (int i = 0; i < ins->schedule.nbrackets; i++)
		if (dec_cmp(ins->schedule.brackets[i].rate_fee, a->call_ratio) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("maintenance rate plus fee_rate must be below the margin call ratio %s",
							dec_text(a->call_ratio)),
					 errdetail("The rate plus fee is %s for instrument %s.",
							   dec_text(ins->schedule.brackets[i].rate_fee),
							   enforce_symbol_text(a, symbol))));
}

void
enforce_position_figures(EnforceAttachment *a, const EnforceInstrument *ins,
						 Dec size, Dec entry, Dec margin,
						 bool has_mark, Dec mark, EnforceFigures *out)
{
	MarginPosition p;
	Dec			zero = dec_from_int(0);

	margin_position_init(&p, size, entry, margin, ins->contract_size, ins->inverse);
	out->has_lp = margin_threshold_price(&p, &ins->schedule, dec_from_int(1), zero, &out->lp);
	out->has_mcp = margin_threshold_price(&p, &ins->schedule, a->call_ratio, zero, &out->mcp);
	out->has_bp = margin_bankruptcy_price(&p, zero, &out->bp);
	out->has_mark = has_mark;
	out->check = MARGIN_OK;
	if (has_mark)
	{
		out->check = margin_check(&p, &ins->schedule, mark, a->call_ratio);
		out->equity = margin_equity(&p, mark);
		out->maintenance = margin_maintenance(&p, &ins->schedule, mark);
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
