-- isomargin.tiers: a schedule of maintenance margin brackets (doc/tiers.md).

CREATE TYPE @extschema@.tiers;

CREATE FUNCTION @extschema@.tiers_in(pg_catalog.cstring)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_out(@extschema@.tiers)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'tiers_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_recv(pg_catalog.internal)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_send(@extschema@.tiers)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'tiers_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.tiers (
    INPUT = @extschema@.tiers_in,
    OUTPUT = @extschema@.tiers_out,
    RECEIVE = @extschema@.tiers_recv,
    SEND = @extschema@.tiers_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.tiers IS
    'maintenance margin brackets: per bracket notional floor and cap, mmr, maintenance amount, max leverage';

CREATE FUNCTION @extschema@.tiers_eq(@extschema@.tiers, @extschema@.tiers)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tiers_eq'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_ne(@extschema@.tiers, @extschema@.tiers)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tiers_ne'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_hash(@extschema@.tiers)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'tiers_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_hash_extended(@extschema@.tiers, pg_catalog.int8)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'tiers_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.tiers,
    RIGHTARG = @extschema@.tiers,
    FUNCTION = @extschema@.tiers_eq,
    COMMUTATOR = OPERATOR(@extschema@.=),
    NEGATOR = OPERATOR(@extschema@.<>),
    RESTRICT = pg_catalog.eqsel,
    JOIN = pg_catalog.eqjoinsel,
    HASHES
);

CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.tiers,
    RIGHTARG = @extschema@.tiers,
    FUNCTION = @extschema@.tiers_ne,
    COMMUTATOR = OPERATOR(@extschema@.<>),
    NEGATOR = OPERATOR(@extschema@.=),
    RESTRICT = pg_catalog.neqsel,
    JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR CLASS @extschema@.tiers_hash_ops
DEFAULT FOR TYPE @extschema@.tiers USING hash AS
    OPERATOR 1 @extschema@.= (@extschema@.tiers, @extschema@.tiers),
    FUNCTION 1 @extschema@.tiers_hash(@extschema@.tiers),
    FUNCTION 2 @extschema@.tiers_hash_extended(@extschema@.tiers, pg_catalog.int8);

-- Exchange formats (doc/tiers.md): client-library leverage tiers or the
-- exchange's raw leverage brackets in; client-library tiers out.
CREATE FUNCTION @extschema@.tiers(pg_catalog.jsonb)
RETURNS @extschema@.tiers
AS 'MODULE_PATHNAME', 'tiers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tiers_to_jsonb(tiers @extschema@.tiers)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tiers_to_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Bracket i holds notionals N with floor < N <= cap (N = 0: bracket 1);
-- above the last cap, bracket() gives the last bracket and max_leverage()
-- NULL (an error with strict => true: install/26_whatif.sql).
CREATE FUNCTION @extschema@.bracket(tiers @extschema@.tiers, notional pg_catalog.numeric)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'bracket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_leverage(tiers @extschema@.tiers, notional pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_leverage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.max_notional(tiers @extschema@.tiers, leverage pg_catalog.numeric)
RETURNS pg_catalog.numeric
AS 'MODULE_PATHNAME', 'max_notional'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
