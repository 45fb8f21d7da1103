-- Hostile objects on the search path are never called by the install script
-- or by the functions; and the whole core API works with an empty search_path.
DROP EXTENSION isomargin;
DROP SCHEMA isomargin;

CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
CREATE FUNCTION evil.trap_num(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO evil.calls VALUES ('numeric operator'); RETURN true; END$$;
CREATE FUNCTION evil.trap_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO evil.calls VALUES ('oid operator'); RETURN false; END$$;
CREATE OPERATOR evil.= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.trap_num);
CREATE OPERATOR evil.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.trap_oid);
CREATE OPERATOR evil.< (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.trap_num);
CREATE FUNCTION evil.current_user() RETURNS name LANGUAGE plpgsql AS
$$BEGIN INSERT INTO evil.calls VALUES ('current_user'); RETURN 'nobody'; END$$;
CREATE FUNCTION evil.numeric(integer) RETURNS numeric LANGUAGE plpgsql AS
$$BEGIN INSERT INTO evil.calls VALUES ('numeric cast'); RETURN 0; END$$;

-- pg_catalog listed after evil, so unqualified names would resolve to evil first.
SET search_path = evil, pg_catalog, public;
CREATE EXTENSION isomargin;
SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004) AS lp,
       isomargin.margin_status(1, 30000, 27120, 3000, 0.004) AS status;
SELECT count(*) AS hostile_calls FROM evil.calls;
RESET search_path;

-- A schema named isomargin made beforehand by another role is refused.
DROP EXTENSION isomargin;
DROP SCHEMA isomargin;
CREATE ROLE regress_isomargin_squatter;
CREATE SCHEMA isomargin AUTHORIZATION regress_isomargin_squatter;
CREATE EXTENSION isomargin;
DROP SCHEMA isomargin;
DROP ROLE regress_isomargin_squatter;

-- Everything works with search_path = '' (all names qualified).
CREATE EXTENSION isomargin;
SET search_path = '';
SELECT isomargin.notional(1, 100) AS notional,
       isomargin.unrealized_pnl(1, 100, 101) AS pnl,
       isomargin.equity(1, 100, 101, 10) AS equity,
       isomargin.initial_margin(1, 100, 10) AS im,
       isomargin.maintenance_margin(1, 100, 0.01) AS mm,
       isomargin.margin_ratio(1, 100, 101, 10, 0.01) AS ratio,
       isomargin.margin_status(1, 100, 91, 10, 0.01) AS status,
       isomargin.liquidation_price(1, 100, 10, 0.01) AS lp,
       isomargin.margin_call_price(1, 100, 10, 0.01) AS mcp,
       isomargin.bankruptcy_price(1, 100, 10) AS bp;
SELECT (isomargin.assess(1, 100, 95, 10, 0.01)).status;
RESET search_path;
DROP SCHEMA evil CASCADE;
