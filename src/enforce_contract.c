/*
 * enforce_contract.c
 *	  The attachment contract (enforce_contract.h): column names from a
 *	  mapping or the catalog, each column found and its type checked, the
 *	  maintenance rule chosen, the symbol type checked, and the tables and
 *	  keys enforcement needs.  One message per broken rule, whoever asks.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "enforce_contract.h"

const char *const enforce_role_names[3] = {"positions", "marks", "instruments"};

#define CONTRACT_SPEC(id, key, table, types, use, reports) [id] = {key, table, types, use, reports},
static const struct
{
	const char *key;
	EnforceRole table;
	int			types;
	ContractUse use;
	bool		reports;
}			spec[ENFORCE_NCOLS] = {
	ENFORCE_CONTRACT(CONTRACT_SPEC)
};
#undef CONTRACT_SPEC

/* The keys `columns` may hold besides the column keys. */
static const char *const extra_keys[] = {
	"positions.symbol", "marks.symbol", "instruments.symbol", "mmr", "tiers"
};

const char *
contract_catalog_key(EnforceColumnId id)
{
	return spec[id].key;
}

EnforceRole
contract_table(EnforceColumnId id)
{
	return spec[id].table;
}

char *
contract_rel_name(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

static Oid
type_in(Oid nsp, const char *name)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum(name), ObjectIdGetDatum(nsp));
}

void
contract_init(Contract *c, ContractPurpose purpose, Oid nsp,
			  Oid positions, Oid marks, Oid instruments)
{
	memset(c, 0, sizeof(Contract));
	c->purpose = purpose;
	c->tables[ENFORCE_POSITIONS] = positions;
	c->tables[ENFORCE_MARKS] = marks;
	c->tables[ENFORCE_INSTRUMENTS] = instruments;
	c->status_type = type_in(nsp, "margin_status");
	c->kind_type = type_in(nsp, "contract_kind");
	c->tiers_type = type_in(nsp, "tiers");
	c->nsp = nsp;
	for (int i = 0; i < ENFORCE_NCOLS; i++)
		c->cols[i].key = spec[i].key;
}

/* The list of keys for a hint. */
static char *
known_keys(void)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		bool		seen = false;

		if (i == COL_INS_RATE)
			continue;
		for (int j = 0; j < i; j++)
			seen |= strcmp(spec[j].key, spec[i].key) == 0;
		if (!seen)
			appendStringInfo(&s, "%s%s", s.len ? ", " : "", spec[i].key);
	}
	for (int i = 0; i < (int) lengthof(extra_keys); i++)
		appendStringInfo(&s, ", %s", extra_keys[i]);
	return s.data;
}

static bool
known_key(const char *k)
{
	for (int i = 0; i < ENFORCE_NCOLS; i++)
		if (i != COL_INS_RATE && strcmp(spec[i].key, k) == 0)
			return true;
	for (int i = 0; i < (int) lengthof(extra_keys); i++)
		if (strcmp(extra_keys[i], k) == 0)
			return true;
	return false;
}

/* The string value of key in map, or NULL. */
static char *
map_get(Jsonb *map, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&map->root, JB_FOBJECT, &k);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
has_column(Oid rel, const char *name)
{
	return get_attnum(rel, name) > 0;
}

void
contract_names_from_map(Contract *c, Jsonb *map)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *mmr,
			   *tiers;

	if (map == NULL || !JB_ROOT_IS_OBJECT(map) || JB_ROOT_IS_SCALAR(map))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a JSON object"),
				 errhint("Map isomargin's column names to yours, e.g. {\"mark_price\": \"px\"}.")));
	it = JsonbIteratorInit(&map->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *k;

		if (tok != WJB_KEY)
			continue;
		k = pnstrdup(v.val.string.val, v.val.string.len);
		if (!known_key(k))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%s\" in columns", k),
					 errhint("Known keys: %s.", known_keys())));
		tok = JsonbIteratorNext(&it, &v, true);
		if (tok != WJB_VALUE || v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("columns.\"%s\" must be a column name (a JSON string)", k)));
	}

	mmr = map_get(map, "mmr");
	tiers = map_get(map, "tiers");
	if (mmr && tiers)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns maps both mmr and tiers"),
				 errhint("An instrument's maintenance rule is one or the other.")));

	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		EnforceColumn *col = &c->cols[i];
		char	   *name;

		if (i == COL_INS_RATE)
		{
			/* tiers when mapped, or when a tiers column exists and mmr is not mapped */
			if (tiers || (!mmr && has_column(c->tables[ENFORCE_INSTRUMENTS], "tiers")))
			{
				col->name = tiers ? tiers : pstrdup("tiers");
				c->rate_is_tiers = true;
			}
			else
				col->name = mmr ? mmr : pstrdup("mmr");
			continue;
		}
		if (strcmp(spec[i].key, "symbol") == 0)
		{
			name = map_get(map, psprintf("%s.symbol", enforce_role_names[spec[i].table]));
			if (name == NULL)
				name = map_get(map, "symbol");
		}
		else
			name = map_get(map, spec[i].key);
		if (name == NULL && spec[i].use != CU_IF_MAPPED)
		{
			name = pstrdup(spec[i].key);
			/* an optional column left out of the mapping may be absent */
			if (spec[i].use == CU_OPTIONAL && !has_column(c->tables[spec[i].table], name))
				name = NULL;
		}
		if (c->purpose == CONTRACT_REPORT && !spec[i].reports)
			name = NULL;
		col->name = name;
	}
}

static void
column_type_error(Contract *c, EnforceColumnId id, const char *want)
{
	EnforceColumn *col = &c->cols[id];

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("column \"%s\" of table \"%s\" must be of type %s", col->name,
					contract_rel_name(c->tables[spec[id].table]), want),
			 errdetail("It is mapped to isomargin's \"%s\" and is of type %s.",
					   id == COL_INS_RATE ? (c->rate_is_tiers ? "tiers" : "mmr") : col->key,
					   format_type_be(col->type))));
}

static bool
number_type(Oid t)
{
	return t == NUMERICOID || t == INT2OID || t == INT4OID || t == INT8OID;
}

static bool
text_type(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID;
}

static void
check_type(Contract *c, EnforceColumnId id)
{
	Oid			t = c->cols[id].type;

	switch (spec[id].types)
	{
		case CT_ANY:
			break;
		case CT_NUMBER:
			if (!number_type(t))
				column_type_error(c, id, "numeric");
			break;
		case CT_PRICE:
			if (t != NUMERICOID)
				column_type_error(c, id, "numeric");
			break;
		case CT_STATUS:
			if (t != c->status_type)
				column_type_error(c, id, "isomargin.margin_status");
			break;
		case CT_TIMESTAMPTZ:
			if (t != TIMESTAMPTZOID)
				column_type_error(c, id, "timestamp with time zone");
			break;
		case CT_KIND:
			c->kind_is_text = text_type(t);
			if (t != c->kind_type && !c->kind_is_text)
				column_type_error(c, id, "isomargin.contract_kind or text");
			break;
		case CT_ORDERED:
			if (!OidIsValid(lookup_type_cache(t, TYPECACHE_CMP_PROC)->cmp_proc))
				column_type_error(c, id, "a type with a default btree operator class");
			break;
		case CT_CONVENTION:
			if (!OidIsValid(t) || t != type_in(c->nsp, spec[id].key))
				column_type_error(c, id, psprintf("isomargin.%s", spec[id].key));
			break;
		case CT_JSONB:
			if (t != JSONBOID)
				column_type_error(c, id, "jsonb");
			break;
		case CT_RATE:
			if (c->rate_is_tiers && (!OidIsValid(c->tiers_type) || t != c->tiers_type))
				column_type_error(c, id, "isomargin.tiers");
			if (!c->rate_is_tiers && !number_type(t))
				column_type_error(c, id, "numeric");
			break;
	}
}

static void
missing_column(Contract *c, EnforceColumnId id)
{
	EnforceColumn *col = &c->cols[id];
	EnforceRole r = spec[id].table;
	const char *rel = contract_rel_name(c->tables[r]);

	if (c->purpose == CONTRACT_TRIGGER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" does not exist", col->name, rel),
				 errdetail("isomargin enforcement %d maps \"%s\" of its %s table to it.",
						   c->attachment, col->key, enforce_role_names[r]),
				 errhint("Run isomargin.unenforce() and isomargin.enforce() again.")));
	if (id == COL_INS_RATE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" does not exist", col->name, rel),
				 errhint("Instruments need a flat mmr column or a tiers column of type isomargin.tiers.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("column \"%s\" of table \"%s\" does not exist", col->name, rel),
			 errhint("isomargin's \"%s\" of the %s table; map it with columns => '{\"%s\": \"your_column\"}'.",
					 col->key, enforce_role_names[r], col->key)));
}

/* One symbol type for the three tables, with a btree ordering. */
static void
resolve_symbol(Contract *c)
{
	static const EnforceColumnId ids[3] = {COL_POS_SYMBOL, COL_MARK_SYMBOL, COL_INS_SYMBOL};
	Oid			types[3];
	int32		typmod;
	Oid			coll;
	TypeCacheEntry *tc;

	for (int i = 0; i < 3; i++)
	{
		get_atttypetypmodcoll(c->tables[i], c->cols[ids[i]].attnum, &types[i], &typmod, &coll);
		if (i == 0)
			c->sym_collation = coll;
	}
	if (types[1] != types[0] || types[2] != types[0])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the symbol columns of \"%s\", \"%s\" and \"%s\" must have the same type",
						contract_rel_name(c->tables[0]), contract_rel_name(c->tables[1]),
						contract_rel_name(c->tables[2])),
				 errdetail("positions: %s, marks: %s, instruments: %s.",
						   format_type_be(types[0]), format_type_be(types[1]),
						   format_type_be(types[2]))));
	c->sym_type = types[0];
	tc = lookup_type_cache(getBaseType(c->sym_type), TYPECACHE_EQ_OPR | TYPECACHE_CMP_PROC);
	if (!OidIsValid(tc->eq_opr) || !OidIsValid(tc->cmp_proc) ||
		!OidIsValid(get_array_type(c->sym_type)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("symbol type %s has no default btree operator class",
						format_type_be(c->sym_type))));
}

static char
relkind_of(Oid rel)
{
	char		k = get_rel_relkind(rel);

	if (k == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", rel)));
	return k;
}

/* What each purpose accepts as its tables. */
void
contract_check_tables(Contract *c)
{
	Oid		   *t = c->tables;

	if (c->purpose == CONTRACT_REPORT)
	{
		for (int i = 0; i < 3; i++)
			if (strchr("rpvmf", relkind_of(t[i])) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("\"%s\" is not a table or view", contract_rel_name(t[i]))));
		return;
	}
	if (t[0] == t[1] || t[0] == t[2] || t[1] == t[2])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("positions, marks and instruments must be three different tables")));
	if (relkind_of(t[0]) != RELKIND_RELATION && relkind_of(t[0]) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a table", contract_rel_name(t[0])),
				 errdetail("Enforcement attaches to an ordinary or a partitioned positions table.")));
	for (int i = 1; i < 3; i++)
		if (relkind_of(t[i]) != RELKIND_RELATION && relkind_of(t[i]) != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a table", contract_rel_name(t[i]))));
}

/* enforce(): the instruments table has a unique index on its symbol alone. */
void
contract_check_instrument_key(Contract *c)
{
	Oid			ins = c->tables[ENFORCE_INSTRUMENTS];
	Relation	rel = table_open(ins, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index x;

		if (!HeapTupleIsValid(tup))
			continue;
		x = (Form_pg_index) GETSTRUCT(tup);
		if (x->indisunique && x->indnkeyatts == 1 &&
			x->indkey.values[0] == c->cols[COL_INS_SYMBOL].attnum &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			found = true;
		ReleaseSysCache(tup);
	}
	table_close(rel, AccessShareLock);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no unique index on its symbol column \"%s\"",
						contract_rel_name(ins), c->cols[COL_INS_SYMBOL].name),
				 errhint("Make the symbol the primary key of the instruments table.")));
}

/*
 * The columns that name a position (its primary key; for a view passed to a
 * report, a column named id), as a list of names.
 */
List *
contract_position_key(Contract *c)
{
	Oid			pos = c->tables[ENFORCE_POSITIONS];
	Relation	rel = relation_open(pos, AccessShareLock);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	List	   *names = NIL;

	if (OidIsValid(pk))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
		Form_pg_index x;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", pk);
		x = (Form_pg_index) GETSTRUCT(tup);
		for (int i = 0; i < x->indnkeyatts; i++)
			names = lappend(names, pstrdup(NameStr(TupleDescAttr(RelationGetDescr(rel),
																 x->indkey.values[i] - 1)->attname)));
		ReleaseSysCache(tup);
	}
	relation_close(rel, AccessShareLock);
	if (names == NIL && c->purpose == CONTRACT_REPORT && has_column(pos, "id"))
		names = list_make1(pstrdup("id"));
	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no primary key", contract_rel_name(pos)),
				 c->purpose == CONTRACT_REPORT ?
				 errhint("Give it a primary key, or pass a view with a column named id.") :
				 errhint("Enforcement locks and names positions by their primary key.")));
	return names;
}

void
contract_resolve(Contract *c)
{
	for (int i = 0; i < ENFORCE_NCOLS; i++)
	{
		EnforceColumn *col = &c->cols[i];
		Oid			rel = c->tables[spec[i].table];

		col->attnum = 0;
		col->type = InvalidOid;
		if (col->name == NULL)
		{
			if (spec[i].use == CU_REQUIRED ||
				(spec[i].use == CU_MAINTAINED && c->purpose != CONTRACT_REPORT))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("isomargin enforcement %d has no column for \"%s\" of its %s table",
								c->attachment, col->key, enforce_role_names[spec[i].table]),
						 errhint("Run isomargin.unenforce() and isomargin.enforce() again.")));
			continue;
		}
		col->attnum = get_attnum(rel, col->name);
		if (col->attnum <= 0)
		{
			col->attnum = 0;
			if (spec[i].use == CU_MAINTAINED && c->purpose == CONTRACT_ENFORCE)
				continue;		/* enforce() adds it */
			if (spec[i].use == CU_MAINTAINED && c->purpose == CONTRACT_REPORT)
			{
				col->name = NULL;
				continue;
			}
			missing_column(c, (EnforceColumnId) i);
		}
		col->type = getBaseType(get_atttype(rel, col->attnum));
		check_type(c, (EnforceColumnId) i);
	}
	resolve_symbol(c);
}

bool
contract_kind_is_inverse(const Contract *c, Datum value, Oid inverse_label)
{
	if (c->kind_is_text)
	{
		/* the enum's own input function: the message reports get from their cast */
		char	   *s = TextDatumGetCString(value);
		int			n = strlen(s);

		while (n > 0 && s[n - 1] == ' ')	/* character(n) pads */
			s[--n] = '\0';
		value = DirectFunctionCall2(enum_in, CStringGetDatum(s), ObjectIdGetDatum(c->kind_type));
	}
	return DatumGetObjectId(value) == inverse_label;
}
