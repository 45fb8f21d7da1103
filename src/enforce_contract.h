/*
 * enforce_contract.h
 *	  The attachment contract: which column of which table plays each of
 *	  isomargin's parts, the types each may have, the maintenance rule (tiers
 *	  or mmr), the symbol type, and what an instrument's current mark is.
 *
 * Resolved and checked here only, with one message per broken rule, for
 * isomargin.enforce (install/30_enforce.sql), for the triggers each time
 * they read an attachment (enforce_config.c), and for the reports
 * (install/40_reports.sql), through isomargin._attachment_contract.
 *
 * Adding a mapped column is one line of ENFORCE_CONTRACT (its id, its key in
 * `columns`, its table, the types it may have and whether it may be
 * absent), then reading it where it is used: see doc/design.md.
 */
#ifndef ISOMARGIN_ENFORCE_CONTRACT_H
#define ISOMARGIN_ENFORCE_CONTRACT_H

#include "postgres.h"

#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum EnforceRole
{
	ENFORCE_POSITIONS,
	ENFORCE_MARKS,
	ENFORCE_INSTRUMENTS
} EnforceRole;

/* The types a column may have (bits; domains count as their base type). */
#define CT_ANY			0x00	/* anything (the symbols: checked together) */
#define CT_NUMBER		0x01	/* numeric, smallint, integer or bigint */
#define CT_PRICE		0x02	/* numeric alone (the stored prices) */
#define CT_STATUS		0x04	/* isomargin.margin_status */
#define CT_TIMESTAMPTZ	0x08
#define CT_KIND			0x10	/* isomargin.contract_kind, or text holding 'linear'/'inverse' */
#define CT_ORDERED		0x20	/* any type with a default btree operator class */
#define CT_RATE			0x40	/* numeric-like (mmr) or isomargin.tiers */
#define CT_CONVENTION	0x80	/* the convention enum named like the key (isomargin.mm_basis, ...) */
#define CT_JSONB		0x100	/* jsonb (the liquidity curve) */

/* Whether a column may be absent, and what then. */
typedef enum ContractUse
{
	CU_REQUIRED,				/* must exist */
	CU_MAINTAINED,				/* written by enforcement: enforce() adds it when missing */
	CU_OPTIONAL,				/* absent unless mapped: its default applies */
	CU_IF_MAPPED				/* used only when `columns` maps it */
} ContractUse;

/*
 * X(id, key, table, types, use, reports): `key` names the part in `columns`
 * (the symbols also take "<table>.symbol"; the rate takes "mmr" or "tiers");
 * `reports` says whether shock and liquidation_ladder read it.
 */
#define ENFORCE_CONTRACT(X) \
	X(COL_POS_SYMBOL, "symbol", ENFORCE_POSITIONS, CT_ANY, CU_REQUIRED, true) \
	X(COL_POS_SIZE, "size", ENFORCE_POSITIONS, CT_NUMBER, CU_REQUIRED, true) \
	X(COL_POS_ENTRY, "entry_price", ENFORCE_POSITIONS, CT_NUMBER, CU_REQUIRED, true) \
	X(COL_POS_MARGIN, "margin", ENFORCE_POSITIONS, CT_NUMBER, CU_REQUIRED, true) \
	X(COL_POS_LP, "liquidation_price", ENFORCE_POSITIONS, CT_PRICE, CU_MAINTAINED, false) \
	X(COL_POS_MCP, "margin_call_price", ENFORCE_POSITIONS, CT_PRICE, CU_MAINTAINED, false) \
	X(COL_POS_BP, "bankruptcy_price", ENFORCE_POSITIONS, CT_PRICE, CU_MAINTAINED, false) \
	X(COL_POS_STATUS, "status", ENFORCE_POSITIONS, CT_STATUS, CU_MAINTAINED, true) \
	X(COL_POS_CHANGED_AT, "status_changed_at", ENFORCE_POSITIONS, CT_TIMESTAMPTZ, CU_MAINTAINED, false) \
	X(COL_MARK_SYMBOL, "symbol", ENFORCE_MARKS, CT_ANY, CU_REQUIRED, true) \
	X(COL_MARK_PRICE, "mark_price", ENFORCE_MARKS, CT_NUMBER, CU_REQUIRED, true) \
	X(COL_MARK_TIME, "mark_time", ENFORCE_MARKS, CT_ORDERED, CU_IF_MAPPED, true) \
	X(COL_INS_SYMBOL, "symbol", ENFORCE_INSTRUMENTS, CT_ANY, CU_REQUIRED, true) \
	X(COL_INS_KIND, "kind", ENFORCE_INSTRUMENTS, CT_KIND, CU_OPTIONAL, true) \
	X(COL_INS_CS, "contract_size", ENFORCE_INSTRUMENTS, CT_NUMBER, CU_OPTIONAL, true) \
	X(COL_INS_RATE, "rate", ENFORCE_INSTRUMENTS, CT_RATE, CU_REQUIRED, true) \
	X(COL_INS_FEE, "fee_rate", ENFORCE_INSTRUMENTS, CT_NUMBER, CU_OPTIONAL, true) \
	X(COL_INS_BAND, "price_band", ENFORCE_INSTRUMENTS, CT_NUMBER, CU_OPTIONAL, false) \
	X(COL_INS_ADDON, "addon_rate", ENFORCE_INSTRUMENTS, CT_NUMBER, CU_OPTIONAL, true) \
	X(COL_INS_MM_BASIS, "mm_basis", ENFORCE_INSTRUMENTS, CT_CONVENTION, CU_OPTIONAL, true) \
	X(COL_INS_FEE_BASIS, "fee_basis", ENFORCE_INSTRUMENTS, CT_CONVENTION, CU_OPTIONAL, true) \
	X(COL_INS_TIER_BASIS, "tier_basis", ENFORCE_INSTRUMENTS, CT_CONVENTION, CU_OPTIONAL, true) \
	X(COL_INS_BRACKET_BASIS, "bracket_basis", ENFORCE_INSTRUMENTS, CT_CONVENTION, CU_OPTIONAL, true) \
	X(COL_INS_MAINT_AMOUNT, "maintenance_amount", ENFORCE_INSTRUMENTS, CT_NUMBER, CU_OPTIONAL, true) \
	X(COL_INS_LIQUIDITY, "liquidity_curve", ENFORCE_INSTRUMENTS, CT_JSONB, CU_OPTIONAL, true)

#define CONTRACT_ID(id, key, table, types, use, reports) id,
typedef enum EnforceColumnId
{
	ENFORCE_CONTRACT(CONTRACT_ID)
	ENFORCE_NCOLS
} EnforceColumnId;
#undef CONTRACT_ID

typedef struct EnforceColumn
{
	const char *key;			/* isomargin's name */
	char	   *name;			/* the column; NULL: absent (optional) */
	AttrNumber	attnum;			/* 0: absent, or missing (enforce() adds it) */
	Oid			type;			/* base type */
} EnforceColumn;

/* Who asks: the checks that apply differ a little (enforce_contract.c). */
typedef enum ContractPurpose
{
	CONTRACT_ENFORCE,			/* isomargin.enforce(): tables, keys, maintained columns may be missing */
	CONTRACT_REPORT,			/* the reports: views allowed, maintained columns unused */
	CONTRACT_TRIGGER			/* a trigger re-reading its attachment: names from the catalog */
} ContractPurpose;

typedef struct Contract
{
	ContractPurpose purpose;
	int32		attachment;		/* CONTRACT_TRIGGER: for messages */
	Oid			tables[3];		/* by EnforceRole */
	Oid			status_type;
	Oid			kind_type;
	Oid			tiers_type;		/* InvalidOid until isomargin.tiers exists */
	Oid			nsp;			/* the extension's schema (the convention types) */
	EnforceColumn cols[ENFORCE_NCOLS];
	bool		rate_is_tiers;
	bool		kind_is_text;
	Oid			sym_type;		/* declared type, shared by the three tables */
	Oid			sym_collation;	/* of the positions column */
} Contract;

extern const char *const enforce_role_names[3];

/* The extension's types in schema nsp. */
extern void contract_init(Contract *c, ContractPurpose purpose, Oid nsp,
						  Oid positions, Oid marks, Oid instruments);

/* enforce(): three different tables, positions an ordinary one; reports: tables or views. */
extern void contract_check_tables(Contract *c);

/* Column names from a `columns` mapping (checked key by key). */
extern void contract_names_from_map(Contract *c, Jsonb *map);

/* Every column found and its type checked; the symbol type checked. */
extern void contract_resolve(Contract *c);

/* The names of the columns that name a position; 22023 when there are none. */
extern List *contract_position_key(Contract *c);

/* enforce(): the instruments table has a unique index on its symbol. */
extern void contract_check_instrument_key(Contract *c);

/* The key an `enforcement.columns` jsonb stores a column under: {table, key}. */
extern const char *contract_catalog_key(EnforceColumnId id);
extern EnforceRole contract_table(EnforceColumnId id);

/* A kind column's value: true for inverse (text: 'linear' or 'inverse', else 22P02). */
extern bool contract_kind_is_inverse(const Contract *c, Datum value, Oid inverse_label);

/* A table named as in messages (as regclass prints it). */
extern char *contract_rel_name(Oid relid);

#endif
