/*
 * tiers.c
 *	  The tiers value: its decimals and its invariants.  The engine's view
 *	  of it (a MarginSchedule) is the rule's (rule.c).
 *
 * The readers of each format (tiers_io.c, tiers_json.c) fill a TiersDraft
 * and call tiers_build, so every way in checks the same rules.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "numeric_codec.h"
#include "tiers.h"

static const char *const field_names[TIERS_NFIELDS] = {
	"floor", "cap", "mmr", "amount", "max_leverage"
};



TiersNumStatus
tiers_parse_number(const char *s, const char **end, int64 *coef, uint8 *scale)
{
	const char *p = s;
	const char *int_start,
			   *frac_start = NULL;
	int			int_len,
				frac_len = 0;
	int64		exp = 0;
	bool		huge_exp = false;
	const char *first,
			   *last;
	int64		sig,
				e;
	int64		c = 0;

	if (!isdigit((unsigned char) *p))
	{
		*end = s;
		return TIERS_NUM_SYNTAX;
	}
	int_start = p;
	while (isdigit((unsigned char) *p))
		p++;
	int_len = p - int_start;
	/* "0..10" is a range: a point belongs to the number only before a digit */
	if (p[0] == '.' && isdigit((unsigned char) p[1]))
	{
		frac_start = ++p;
		while (isdigit((unsigned char) *p))
			p++;
		frac_len = p - frac_start;
	}
	if (*p == 'e' || *p == 'E')
	{
		const char *q = p + 1;
		bool		neg = false;

		if (*q == '+' || *q == '-')
			neg = (*q++ == '-');
		if (isdigit((unsigned char) *q))
		{
			int			ndigits = 0;

			/*
			 * Read exactly, never clipped: clipping would let the digits
			 * after the point cancel part of an exponent that was cut
			 * ("0.0...01e1000000" with 100000 decimals is 10^900000, not
			 * 1).  An exponent of more than TIERS_EXP_DIGITS significant
			 * digits (10^15 or more) is marked huge instead: the input is
			 * shorter than 10^10 characters, so the decimals and zeros
			 * that could offset it do not come near, and any non-zero
			 * value with it is out of range.
			 */
			while (*q == '0')
				q++;
			for (; isdigit((unsigned char) *q); q++)
				if (++ndigits <= TIERS_EXP_DIGITS)
					exp = exp * 10 + (*q - '0');
			huge_exp = ndigits > TIERS_EXP_DIGITS;
			if (neg)
				exp = -exp;
			p = q;
		}
	}
	*end = p;

	/*
	 * The digits, integer part then fraction, are D; the value is
	 * D * 10^(exp - frac_len).  Drop D's leading and trailing zeros.
	 */
	first = int_start;
	last = frac_start ? frac_start + frac_len - 1 : int_start + int_len - 1;
	e = exp - frac_len;
	while (first <= last && (*first == '0' || *first == '.'))
		first++;
	while (last >= first && (*last == '0' || *last == '.'))
	{
		if (*last == '0')
			e++;
		last--;
	}
	if (first > last)
	{
		*coef = 0;
		*scale = 0;
		return TIERS_NUM_OK;
	}
	sig = 0;
	for (const char *q = first; q <= last; q++)
		if (*q != '.')
			sig++;
	if (huge_exp || sig > 18 || (e >= 0 && sig + e > 18) || (e < 0 && -e > TIERS_MAX_SCALE))
		return TIERS_NUM_RANGE;
	for (const char *q = first; q <= last; q++)
		if (*q != '.')
			c = c * 10 + (*q - '0');
	for (; e > 0; e--)
		c *= 10;
	*coef = c;
	*scale = (uint8) (-e);
	return TIERS_NUM_OK;
}

bool
tiers_normalize(int128 coef, int scale, int64 *out_coef, uint8 *out_scale)
{
	if (scale < 0)
		return false;
	while (scale > 0 && coef % 10 == 0)
	{
		coef /= 10;
		scale--;
	}
	if (scale > TIERS_MAX_SCALE || coef >= TIERS_COEF_LIMIT || coef <= -TIERS_COEF_LIMIT)
		return false;
	*out_coef = (int64) coef;
	*out_scale = (uint8) scale;
	return true;
}

/*
 * By the value alone, as tiers_parse_number reads text: 0.5000 (display
 * scale 4, or 40) is 0.5, as the string "0.5000" is.
 */
bool
tiers_from_numeric(Numeric n, int64 *coef, uint8 *scale)
{
	int128		c;
	int			s;
	bool		fits;

	if (numeric_codec_read_value(NumericGetDatum(n), &c, &s, &fits) != NUMKIND_FINITE || !fits)
		return false;
	return tiers_normalize(c, s, coef, scale);
}

void
tiers_append_value(StringInfo buf, int64 coef, int scale)
{
	char		digits[32];
	int			len;
	uint64		mag = coef < 0 ? -(uint64) coef : (uint64) coef;

	if (coef < 0)
		appendStringInfoChar(buf, '-');
	len = snprintf(digits, sizeof(digits), UINT64_FORMAT, mag);
	if (scale == 0)
	{
		appendBinaryStringInfo(buf, digits, len);
		return;
	}
	if (len <= scale)
	{
		appendStringInfoString(buf, "0.");
		for (int i = len; i < scale; i++)
			appendStringInfoChar(buf, '0');
		appendBinaryStringInfo(buf, digits, len);
		return;
	}
	appendBinaryStringInfo(buf, digits, len - scale);
	appendStringInfoChar(buf, '.');
	appendBinaryStringInfo(buf, digits + len - scale, scale);
}

char *
tiers_value_text(int64 coef, int scale)
{
	StringInfoData buf;

	initStringInfo(&buf);
	tiers_append_value(&buf, coef, scale);
	return buf.data;
}

static char *
field_text(const TiersBracket *b, TiersField f)
{
	return tiers_value_text(b->coef[f], b->scale[f]);
}

/* A Dec for a message: normalized when it fits, else numeric's text. */
static char *
dec_text(Dec d)
{
	int64		c;
	uint8		s;

	if (!d.big && tiers_normalize(d.coef, d.scale, &c, &s))
		return tiers_value_text(c, s);
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(dec_to_numeric(d))));
}

Tiers *
tiers_build(const TiersDraft *draft, char **detail)
{
	int			n = draft->nbrackets;
	Tiers	   *t;
	Dec			one = dec_from_int(1);

	if (n < 1)
	{
		*detail = pstrdup("A schedule needs at least one bracket.");
		return NULL;
	}
	if (n > TIERS_MAX_BRACKETS)
	{
		*detail = psprintf("A schedule has at most %d brackets, not %d.", TIERS_MAX_BRACKETS, n);
		return NULL;
	}
	t = palloc0(TIERS_SIZE(n));
	SET_VARSIZE(t, TIERS_SIZE(n));
	t->nbrackets = n;
	TIERS_AMOUNTS(t) = (uint8) draft->amounts;

	for (int i = 0; i < n; i++)
	{
		const TiersBracket *in = &draft->brackets[i];
		TiersBracket *b = &t->brackets[i];
		TiersBracket *prev = i > 0 ? &t->brackets[i - 1] : NULL;
		Dec			expected;

		for (int f = 0; f < TIERS_NFIELDS; f++)
		{
			if (f == TIERS_AMOUNT && (!draft->has_amount[i] ||
									  draft->amounts == TIERS_AMOUNTS_NONE))
				continue;
			if (!tiers_normalize(in->coef[f], in->scale[f], &b->coef[f], &b->scale[f]))
			{
				*detail = psprintf("The %s of bracket %d has more than 18 significant digits or more than 18 decimals.",
								   field_names[f], i + 1);
				return NULL;
			}
		}

		if (i == 0 && b->coef[TIERS_FLOOR] != 0)
		{
			*detail = psprintf("Bracket 1 must start at notional 0, not %s.",
							   field_text(b, TIERS_FLOOR));
			return NULL;
		}
		if (i > 0 && dec_cmp(tiers_dec(b, TIERS_FLOOR), tiers_dec(prev, TIERS_CAP)) != 0)
		{
			*detail = psprintf("The floor of bracket %d (%s) must equal the cap of bracket %d (%s).",
							   i + 1, field_text(b, TIERS_FLOOR), i, field_text(prev, TIERS_CAP));
			return NULL;
		}
		if (dec_cmp(tiers_dec(b, TIERS_CAP), tiers_dec(b, TIERS_FLOOR)) <= 0)
		{
			*detail = psprintf("The cap of bracket %d (%s) must be greater than its floor (%s).",
							   i + 1, field_text(b, TIERS_CAP), field_text(b, TIERS_FLOOR));
			return NULL;
		}
		if (b->coef[TIERS_MMR] < 0 || dec_cmp(tiers_dec(b, TIERS_MMR), one) >= 0)
		{
			*detail = psprintf("The mmr of bracket %d (%s) must be at least 0 and less than 1.",
							   i + 1, field_text(b, TIERS_MMR));
			return NULL;
		}
		if (i > 0 && dec_cmp(tiers_dec(b, TIERS_MMR), tiers_dec(prev, TIERS_MMR)) < 0)
		{
			*detail = psprintf("The mmr of bracket %d (%s) is lower than the mmr of bracket %d (%s): rates must not decrease.",
							   i + 1, field_text(b, TIERS_MMR), i, field_text(prev, TIERS_MMR));
			return NULL;
		}
		if (b->coef[TIERS_LEVERAGE] <= 0)
		{
			*detail = psprintf("The max_leverage of bracket %d (%s) must be greater than 0.",
							   i + 1, field_text(b, TIERS_LEVERAGE));
			return NULL;
		}
		if (i > 0 && dec_cmp(tiers_dec(b, TIERS_LEVERAGE), tiers_dec(prev, TIERS_LEVERAGE)) > 0)
		{
			*detail = psprintf("The max_leverage of bracket %d (%s) is higher than the max_leverage of bracket %d (%s): it must not increase.",
							   i + 1, field_text(b, TIERS_LEVERAGE), i, field_text(prev, TIERS_LEVERAGE));
			return NULL;
		}
		if (dec_cmp(dec_mul(tiers_dec(b, TIERS_MMR), tiers_dec(b, TIERS_LEVERAGE)), one) >= 0)
		{
			*detail = psprintf("The mmr of bracket %d (%s) times its max_leverage (%s) must be less than 1: a position opened at that leverage would be liquidated at once.",
							   i + 1, field_text(b, TIERS_MMR), field_text(b, TIERS_LEVERAGE));
			return NULL;
		}

		if (draft->amounts == TIERS_AMOUNTS_NONE)
		{
			b->coef[TIERS_AMOUNT] = 0;
			b->scale[TIERS_AMOUNT] = 0;
			continue;
		}
		if (draft->amounts == TIERS_AMOUNTS_GIVEN)
		{
			Dec			a = tiers_dec(b, TIERS_AMOUNT);
			Dec			most = dec_mul(tiers_dec(b, TIERS_FLOOR), tiers_dec(b, TIERS_MMR));

			/* MM = N*r_i - A_i >= 0 for every N > F_i of the bracket */
			if (!draft->has_amount[i])
			{
				*detail = psprintf("Bracket %d has no amount; with amounts=given every bracket has one.",
								   i + 1);
				return NULL;
			}
			if (dec_sign(a) < 0 || dec_cmp(a, most) > 0)
			{
				*detail = psprintf("The amount of bracket %d (%s) must be at least 0 and at most its floor times its mmr (%s), or the maintenance margin would be negative in the bracket.",
								   i + 1, field_text(b, TIERS_AMOUNT), dec_text(most));
				return NULL;
			}
			continue;
		}

		/* A_1 = 0, A_i = A_{i-1} + F_i * (r_i - r_{i-1}) */
		if (i == 0)
			expected = dec_from_int(0);
		else
			expected = dec_add(tiers_dec(prev, TIERS_AMOUNT),
							   dec_mul(tiers_dec(b, TIERS_FLOOR),
									   dec_sub(tiers_dec(b, TIERS_MMR),
											   tiers_dec(prev, TIERS_MMR))));
		if (draft->has_amount[i] && dec_cmp(tiers_dec(b, TIERS_AMOUNT), expected) != 0)
		{
			*detail = psprintf("The amount of bracket %d is %s, but A_1 = 0, A_i = A_(i-1) + F_i * (r_i - r_(i-1)) gives %s.",
							   i + 1, field_text(b, TIERS_AMOUNT), dec_text(expected));
			return NULL;
		}
		if (expected.big ||
			!tiers_normalize(expected.coef, expected.scale,
							 &b->coef[TIERS_AMOUNT], &b->scale[TIERS_AMOUNT]))
		{
			*detail = psprintf("The amount of bracket %d (%s) has more than 18 significant digits or more than 18 decimals.",
							   i + 1, dec_text(expected));
			return NULL;
		}
	}
	return t;
}

int
tiers_bracket_index(const Tiers *t, Dec n)
{
	for (int i = t->nbrackets - 1; i > 0; i--)
		if (dec_cmp(n, tiers_dec(&t->brackets[i], TIERS_FLOOR)) > 0)
			return i;
	return 0;
}
