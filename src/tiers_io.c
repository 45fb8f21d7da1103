/*
 * tiers_io.c
 *	  isomargin.tiers text and binary input/output, equality and hashing.
 *
 * Text form (doc/tiers.md), canonical output shown; on input, spaces are
 * free around every token, at least one is needed before each field,
 * field names are case-insensitive and amount may be left out:
 *
 *	 {0..10000 mmr=0.005 amount=0 max_leverage=100; 10000..100000 mmr=0.01 amount=50 max_leverage=50}
 *
 * A schedule whose amounts are not derived says so first (tiers.h):
 *
 *	 {amounts=given; 0..10000 mmr=0.005 amount=0 max_leverage=100; ...}
 *	 {amounts=none; 0..500 mmr=0.004 max_leverage=100; ...}
 *
 * Binary form: int8 version (1), int16 number of brackets, then per bracket
 * floor, cap, mmr, amount, max_leverage, each as int64 coefficient and
 * int16 scale (value = coefficient * 10^-scale).  Version 2, for amounts
 * given or none, has an int8 TIERS_AMOUNTS_* after the version; a schedule
 * of derived amounts is sent as version 1, as before.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "parser/scansup.h"

#include "tiers.h"

#define TIERS_BINARY_VERSION 1
#define TIERS_BINARY_VERSION_AMOUNTS 2

/* The words of "amounts=...", by TIERS_AMOUNTS_* */
static const char *const amounts_words[] = {"derived", "given", "none"};

PG_FUNCTION_INFO_V1(tiers_in);
PG_FUNCTION_INFO_V1(tiers_out);
PG_FUNCTION_INFO_V1(tiers_recv);
PG_FUNCTION_INFO_V1(tiers_send);
PG_FUNCTION_INFO_V1(tiers_eq);
PG_FUNCTION_INFO_V1(tiers_ne);
PG_FUNCTION_INFO_V1(tiers_hash);
PG_FUNCTION_INFO_V1(tiers_hash_extended);

/* Field names of the text form, in canonical order. */
static const struct
{
	const char *name;
	TiersField	field;
}			text_fields[] = {
	{"mmr", TIERS_MMR},
	{"amount", TIERS_AMOUNT},
	{"max_leverage", TIERS_LEVERAGE},
};

#define N_TEXT_FIELDS lengthof(text_fields)

static const char *
skip_space(const char *p)
{
	while (scanner_isspace(*p))
		p++;
	return p;
}

/* isomargin.tiers('[...]') is a cast from text, not the jsonb constructor */
static bool
looks_like_json(const char *input)
{
	const char *p = skip_space(input);

	if (*p == '[')
		return true;
	return *p == '{' && *skip_space(p + 1) == '"';
}

pg_attribute_noreturn()
static void
bad_literal(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type tiers: \"%s\"", input),
			 errdetail("%s", detail),
			 looks_like_json(input) ?
			 errhint("To read exchange JSON, pass it as jsonb: isomargin.tiers('...'::jsonb).") : 0));
}

/* The offending part of the input, quoted and clipped, for a message. */
static char *
found(const char *p)
{
	int			len = strlen(p);
	int			clip;

	if (len == 0)
		return pstrdup("the end of the input");
	clip = pg_mbcliplen(p, len, 20);
	return psprintf("\"%.*s\"%s", clip, p, clip < len ? "..." : "");
}

static const char *
read_number(const char *input, const char *p, int bracket, const char *what,
			int64 *coef, uint8 *scale)
{
	const char *end;

	switch (tiers_parse_number(p, &end, coef, scale))
	{
		case TIERS_NUM_OK:
			return end;
		case TIERS_NUM_SYNTAX:
			bad_literal(input, psprintf("Bracket %d: expected the %s, a decimal number, found %s.",
										bracket, what, found(p)));
			break;
		case TIERS_NUM_RANGE:
			bad_literal(input, psprintf("Bracket %d: the %s %s has more than 18 significant digits or more than 18 decimals.",
										bracket, what, pnstrdup(p, end - p)));
			break;
	}
	return end;					/* not reached */
}

/* One bracket: "F..C field=value ...".  Returns the position after it. */
static const char *
read_bracket(const char *input, const char *p, TiersDraft *draft)
{
	int			i = draft->nbrackets;
	int			no = i + 1;
	TiersBracket *b = &draft->brackets[i];
	bool		seen[N_TEXT_FIELDS] = {false};

	p = read_number(input, p, no, "floor", &b->coef[TIERS_FLOOR], &b->scale[TIERS_FLOOR]);
	p = skip_space(p);
	if (p[0] != '.' || p[1] != '.')
		bad_literal(input, psprintf("Bracket %d: expected \"..\" after the floor, found %s.",
									no, found(p)));
	p = skip_space(p + 2);
	p = read_number(input, p, no, "cap", &b->coef[TIERS_CAP], &b->scale[TIERS_CAP]);

	for (;;)
	{
		const char *q = skip_space(p);
		const char *name = q;
		int			k;

		if (!isalpha((unsigned char) *q))
			break;
		if (q == p)
			bad_literal(input, psprintf("Bracket %d: expected a space before %s.", no, found(q)));
		while (isalpha((unsigned char) *q) || *q == '_')
			q++;
		for (k = 0; k < (int) N_TEXT_FIELDS; k++)
			if (strlen(text_fields[k].name) == (size_t) (q - name) &&
				pg_strncasecmp(name, text_fields[k].name, q - name) == 0)
				break;
		if (k == N_TEXT_FIELDS)
			bad_literal(input, psprintf("Bracket %d: unknown field \"%s\"; the fields are mmr, amount and max_leverage.",
										no, pnstrdup(name, q - name)));
		if (seen[k])
			bad_literal(input, psprintf("Bracket %d: %s is given twice.", no, text_fields[k].name));
		if (text_fields[k].field == TIERS_AMOUNT && draft->amounts == TIERS_AMOUNTS_NONE)
			bad_literal(input, psprintf("Bracket %d: a schedule with amounts=none takes no amount.", no));
		seen[k] = true;
		q = skip_space(q);
		if (*q != '=')
			bad_literal(input, psprintf("Bracket %d: expected \"=\" after %s, found %s.",
										no, text_fields[k].name, found(q)));
		q = skip_space(q + 1);
		p = read_number(input, q, no, text_fields[k].name,
						&b->coef[text_fields[k].field], &b->scale[text_fields[k].field]);
	}
	for (int k = 0; k < (int) N_TEXT_FIELDS; k++)
	{
		if (text_fields[k].field == TIERS_AMOUNT)
			draft->has_amount[i] = seen[k];
		else if (!seen[k])
			bad_literal(input, psprintf("Bracket %d: %s is missing.", no, text_fields[k].name));
	}
	draft->nbrackets++;
	return p;
}

/* "amounts = given|none|derived ;" before the brackets; returns what follows. */
static const char *
read_amounts(const char *input, const char *p, TiersDraft *draft)
{
	const char *name = p;
	int			k;

	while (isalpha((unsigned char) *p) || *p == '_')
		p++;
	if (p - name != 7)
		bad_literal(input, psprintf("Expected a bracket or \"amounts=\", found %s.", found(name)));
	p = skip_space(p);
	if (*p != '=')
		bad_literal(input, psprintf("Expected \"=\" after amounts, found %s.", found(p)));
	p = skip_space(p + 1);
	name = p;
	while (isalpha((unsigned char) *p))
		p++;
	for (k = 0; k < (int) lengthof(amounts_words); k++)
		if (strlen(amounts_words[k]) == (size_t) (p - name) &&
			pg_strncasecmp(name, amounts_words[k], p - name) == 0)
			break;
	if (k == lengthof(amounts_words))
		bad_literal(input, psprintf("amounts must be given, none or derived, not %s.", found(name)));
	draft->amounts = k;
	p = skip_space(p);
	if (*p != ';')
		bad_literal(input, psprintf("Expected \";\" after amounts=%s, found %s.",
									amounts_words[k], found(p)));
	return skip_space(p + 1);
}

Datum
tiers_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	TiersDraft *draft = palloc0(sizeof(TiersDraft));
	const char *p = skip_space(input);
	Tiers	   *t;
	char	   *detail;

	if (*p != '{')
		bad_literal(input, psprintf("Expected \"{\" at the start, found %s.", found(p)));
	p = skip_space(p + 1);
	if (pg_strncasecmp(p, "amounts", 7) == 0)
		p = read_amounts(input, p, draft);
	if (*p != '}')
	{
		for (;;)
		{
			if (draft->nbrackets == TIERS_MAX_BRACKETS)
				bad_literal(input, psprintf("A schedule has at most %d brackets.", TIERS_MAX_BRACKETS));
			p = skip_space(read_bracket(input, p, draft));
			if (*p == '}')
				break;
			if (*p != ';')
				bad_literal(input, psprintf("Bracket %d: expected \";\" or \"}\", found %s.",
											draft->nbrackets, found(p)));
			p = skip_space(p + 1);
		}
	}
	p = skip_space(p + 1);
	if (*p != '\0')
		bad_literal(input, psprintf("Unexpected %s after the closing \"}\".", found(p)));

	t = tiers_build(draft, &detail);
	if (t == NULL)
		bad_literal(input, detail);
	PG_RETURN_TIERS_P(t);
}

Datum
tiers_out(PG_FUNCTION_ARGS)
{
	Tiers	   *t = PG_GETARG_TIERS_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (TIERS_AMOUNTS(t) != TIERS_AMOUNTS_DERIVED)
		appendStringInfo(&buf, "amounts=%s; ", amounts_words[TIERS_AMOUNTS(t)]);
	for (int i = 0; i < t->nbrackets; i++)
	{
		const TiersBracket *b = &t->brackets[i];

		if (i > 0)
			appendStringInfoString(&buf, "; ");
		tiers_append_value(&buf, b->coef[TIERS_FLOOR], b->scale[TIERS_FLOOR]);
		appendStringInfoString(&buf, "..");
		tiers_append_value(&buf, b->coef[TIERS_CAP], b->scale[TIERS_CAP]);
		for (int k = 0; k < (int) N_TEXT_FIELDS; k++)
		{
			TiersField	f = text_fields[k].field;

			if (f == TIERS_AMOUNT && TIERS_AMOUNTS(t) == TIERS_AMOUNTS_NONE)
				continue;
			appendStringInfo(&buf, " %s=", text_fields[k].name);
			tiers_append_value(&buf, b->coef[f], b->scale[f]);
		}
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

pg_attribute_noreturn()
static void
bad_binary(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary data for type tiers"),
			 errdetail("%s", detail)));
}

/* pq_getmsg* would raise a protocol violation (08P01) on short data: check first */
static void
need_bytes(StringInfo buf, int n)
{
	if (buf->len - buf->cursor < n)
		bad_binary(psprintf("The data ends at byte %d, before the value is complete.", buf->len));
}

Datum
tiers_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	TiersDraft *draft = palloc0(sizeof(TiersDraft));
	int			version;
	int			n;
	Tiers	   *t;
	char	   *detail;

	need_bytes(buf, 1);
	version = pq_getmsgbyte(buf);
	if (version != TIERS_BINARY_VERSION && version != TIERS_BINARY_VERSION_AMOUNTS)
		bad_binary(psprintf("Unknown binary format version %d; this version reads versions %d and %d.",
							version, TIERS_BINARY_VERSION, TIERS_BINARY_VERSION_AMOUNTS));
	if (version == TIERS_BINARY_VERSION_AMOUNTS)
	{
		need_bytes(buf, 1);
		draft->amounts = pq_getmsgbyte(buf);
		if (draft->amounts != TIERS_AMOUNTS_GIVEN && draft->amounts != TIERS_AMOUNTS_NONE)
			bad_binary(psprintf("Version 2 needs amounts %d (given) or %d (none), not %d.",
								TIERS_AMOUNTS_GIVEN, TIERS_AMOUNTS_NONE, draft->amounts));
	}
	need_bytes(buf, 2);
	n = (int16) pq_getmsgint(buf, 2);
	if (n < 1 || n > TIERS_MAX_BRACKETS)
		bad_binary(psprintf("The number of brackets is %d; it must be between 1 and %d.",
							n, TIERS_MAX_BRACKETS));
	for (int i = 0; i < n; i++)
	{
		TiersBracket *b = &draft->brackets[i];

		for (int f = 0; f < TIERS_NFIELDS; f++)
		{
			int			scale;

			need_bytes(buf, 10);
			b->coef[f] = pq_getmsgint64(buf);
			scale = (int16) pq_getmsgint(buf, 2);
			if (scale < 0 || scale > TIERS_MAX_SCALE)
				bad_binary(psprintf("Bracket %d: a scale of %d is outside 0 to %d.",
									i + 1, scale, TIERS_MAX_SCALE));
			b->scale[f] = (uint8) scale;
		}
		draft->has_amount[i] = true;
	}
	draft->nbrackets = n;
	if (buf->cursor != buf->len)
		bad_binary(psprintf("The data does not end after the last bracket: its length is %d, not %d.",
							buf->len, buf->cursor));

	t = tiers_build(draft, &detail);
	if (t == NULL)
		bad_binary(detail);
	PG_RETURN_TIERS_P(t);
}

Datum
tiers_send(PG_FUNCTION_ARGS)
{
	Tiers	   *t = PG_GETARG_TIERS_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	if (TIERS_AMOUNTS(t) == TIERS_AMOUNTS_DERIVED)
		pq_sendbyte(&buf, TIERS_BINARY_VERSION);
	else
	{
		pq_sendbyte(&buf, TIERS_BINARY_VERSION_AMOUNTS);
		pq_sendbyte(&buf, TIERS_AMOUNTS(t));
	}
	pq_sendint16(&buf, t->nbrackets);
	for (int i = 0; i < t->nbrackets; i++)
		for (int f = 0; f < TIERS_NFIELDS; f++)
		{
			pq_sendint64(&buf, t->brackets[i].coef[f]);
			pq_sendint16(&buf, t->brackets[i].scale[f]);
		}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Values are normalized, so equal schedules have equal bytes. */
static bool
tiers_equal(FunctionCallInfo fcinfo)
{
	Tiers	   *a = PG_GETARG_TIERS_P(0);
	Tiers	   *b = PG_GETARG_TIERS_P(1);

	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

Datum
tiers_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tiers_equal(fcinfo));
}

Datum
tiers_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!tiers_equal(fcinfo));
}

Datum
tiers_hash(PG_FUNCTION_ARGS)
{
	Tiers	   *t = PG_GETARG_TIERS_P(0);

	return hash_any((unsigned char *) VARDATA(t), VARSIZE(t) - VARHDRSZ);
}

Datum
tiers_hash_extended(PG_FUNCTION_ARGS)
{
	Tiers	   *t = PG_GETARG_TIERS_P(0);

	return hash_any_extended((unsigned char *) VARDATA(t), VARSIZE(t) - VARHDRSZ,
							 PG_GETARG_INT64(1));
}
