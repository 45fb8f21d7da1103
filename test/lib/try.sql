-- pg_temp.try(stmt): runs a query returning one value; gives 'ok: <value>' (NULL
-- as 'ok: NULL') or the error as 'SQLSTATE: message | detail | hint: hint'.  For
-- the regression tests that pin errors (loaded with \i from the top of the tree).
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text;
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt INTO res;
    RETURN 'ok: ' || coalesce(res, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg
        || CASE WHEN det <> '' THEN ' | ' || det ELSE '' END
        || CASE WHEN hnt <> '' THEN ' | hint: ' || hnt ELSE '' END;
END
$$;
