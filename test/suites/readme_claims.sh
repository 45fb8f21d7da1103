#!/usr/bin/env bash
# The README's reference tables, and the prose under each function's own
# heading, say how each function is declared (volatility, strictness, parallel
# safety, language); this holds them to the catalog of a fresh install,
# function by function, every overload of a name.
# It also holds the docs to naming every function of the schema: each name
# appears in README.md or doc/*.md.
# Run by test/run-tests.sh (PGHOST, PGPORT, PGUSER, PGDATABASE set; the
# extension installed but not created).  Last line: `N passed, N failed`.
set -u -o pipefail

. "$(dirname "$0")/../lib/suite.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# One line per (table row, function name) claim:
#   name|volatility|strict|parallel|language|kind
# i/s/v, t/f, s/r/u, c/plpgsql/sql, f/p; an empty field claims nothing.
claims()
{
	perl -ne '
	sub cells { my $l = shift; $l =~ s/^\|\s*//; $l =~ s/\s*\|\s*$//; return split /\s*\|\s*/, $l, -1 }
	# top-level comma split: commas inside parentheses belong to the name
	sub names {
		my ($cell) = @_; my @out; my ($depth, $cur) = (0, "");
		for my $ch (split //, $cell) {
			$depth++ if $ch eq "("; $depth-- if $ch eq ")";
			if ($ch eq "," && $depth == 0) { push @out, $cur; $cur = ""; } else { $cur .= $ch; }
		}
		push @out, $cur;
		return map { /`([a-z_][a-z0-9_]*)/ ? $1 : () } @out;
	}
	my %vol = (IMMUTABLE => "i", STABLE => "s", VOLATILE => "v");
	my %par = (SAFE => "s", RESTRICTED => "r", UNSAFE => "u");
	my %lang = ("C" => "c", "PL/pgSQL" => "plpgsql", "SQL" => "sql");
	if (/^\| function \| returns \| volatility \| strict \| parallel \|/) { $t = 5; next }
	if (/^\| function \| returns \| declared \|/) { $t = 3; next }
	if (!/^\|/) { $t = 0; next }
	next if !$t || /^\| ---/;
	my @c = cells($_);
	my @n = names($c[0]);
	my $kind = $c[0] =~ /\(procedure\)/ ? "p" : "f";
	if ($t == 5) {
		my ($v) = $c[2] =~ /`(IMMUTABLE|STABLE|VOLATILE)`/;
		my ($p) = $c[4] =~ /`(SAFE|RESTRICTED|UNSAFE)`/;
		my %exempt = map { $_ => 1 } ($c[3] =~ /\((.*)\)/ ? ($1 =~ /`([a-z_0-9]+)`/g) : ());
		for my $name (@n) {
			my $s = "";
			if ($c[3] =~ /^yes/) { $s = "t" }
			elsif ($c[3] =~ /^no/) { $s = "f" }
			elsif ($c[3] ne "") { my %st = map { $_ => 1 } ($c[3] =~ /`([a-z_0-9]+)`/g); $s = $st{$name} ? "t" : "f" }
			$s = "" if $exempt{$name};
			printf "%s|%s|%s|%s||%s\n", $name, $v ? $vol{$v} : "", $s, $p ? $par{$p} : "", $kind;
		}
	} else {
		$decl = $c[2] unless $c[2] =~ /^C, likewise$/;   # "likewise": the row above
		my ($l) = $decl =~ /^(C|PL\/pgSQL|SQL),/;
		my ($words) = $decl =~ /`([A-Z ]+)`/;
		my ($v) = $words =~ /(IMMUTABLE|STABLE|VOLATILE)/;
		my $p = $words =~ /PARALLEL (SAFE|RESTRICTED)/ ? $par{$1} : "u";
		my %notstrict = map { $_ => 1 } ($decl =~ /`([a-z_0-9]+)` not strict/g);
		for my $name (@n) {
			my $s = $words =~ /STRICT/ ? "t" : ($notstrict{$name} ? "f" : "");
			printf "%s|%s|%s|%s|%s|%s\n", $name, $vol{$v}, $s, $p, $lang{$l}, $kind;
		}
	}' "$ROOT/README.md"
	# A function's own heading (#### name(...)) and the prose under it:
	# `VOLATILE STRICT`, "Not `STRICT`", `PARALLEL RESTRICTED` claim as well.
	perl -ne '
	if (/^```/) { $code = !$code; next } next if $code;
	if (/^#{2,4} /) { $h = /^#### (?:isomargin\.)?([a-z_][a-z0-9_]*)\(/ ? $1 : ""; next }
	next if !$h || /^\|/;
	my %vol = (IMMUTABLE => "i", STABLE => "s", VOLATILE => "v");
	my %par = (SAFE => "s", RESTRICTED => "r", UNSAFE => "u");
	my ($v, $s, $p) = ("", "", "");
	while (/(Not )?`([A-Z][A-Z ]*)`/g) {
		my ($not, $w) = ($1, $2);
		$v = $vol{$1} if $w =~ /\b(IMMUTABLE|STABLE|VOLATILE)\b/;
		$s = $not ? "f" : "t" if $w =~ /\bSTRICT\b/;
		$p = $par{$1} if $w =~ /PARALLEL (SAFE|RESTRICTED|UNSAFE)/;
	}
	print "$h|$v|$s|$p||f\n" if "$v$s$p" ne "";
	' "$ROOT/README.md"
}

CLAIMS=$(claims)
check "the README's tables name functions" "$([ "$(grep -c . <<<"$CLAIMS")" -ge 60 ] && echo yes)" yes

q -c "CREATE EXTENSION isomargin" || { echo "0 passed, 1 failed"; exit 1; }

# Against the catalog: a claimed name missing, or an overload declared
# otherwise than claimed.
MISMATCH=$(q <<SQL
CREATE TEMP TABLE claim (name text, vol "char", strict boolean, par "char", lang name, kind "char");
COPY claim FROM STDIN WITH (DELIMITER '|', NULL '');
$CLAIMS
\.
SELECT c.name || ': no such ' || CASE c.kind WHEN 'p' THEN 'procedure' ELSE 'function' END
FROM claim c
WHERE NOT EXISTS (SELECT FROM pg_proc p
                  WHERE p.pronamespace = 'isomargin'::regnamespace AND p.proname = c.name
                    AND p.prokind = c.kind)
UNION ALL
SELECT format('%s(%s): %s', p.proname, pg_get_function_identity_arguments(p.oid),
              concat_ws(', ',
                  CASE WHEN c.vol IS NOT NULL AND p.provolatile <> c.vol
                       THEN format('volatility %s, README %s', p.provolatile, c.vol) END,
                  CASE WHEN c.strict IS NOT NULL AND p.proisstrict <> c.strict
                       THEN format('strict %s, README %s', p.proisstrict, c.strict) END,
                  CASE WHEN c.par IS NOT NULL AND p.proparallel <> c.par
                       THEN format('parallel %s, README %s', p.proparallel, c.par) END,
                  CASE WHEN c.lang IS NOT NULL AND l.lanname <> c.lang
                       THEN format('language %s, README %s', l.lanname, c.lang) END))
FROM claim c
JOIN pg_proc p ON p.pronamespace = 'isomargin'::regnamespace AND p.proname = c.name
JOIN pg_language l ON l.oid = p.prolang
WHERE (c.vol IS NOT NULL AND p.provolatile <> c.vol)
   OR (c.strict IS NOT NULL AND p.proisstrict <> c.strict)
   OR (c.par IS NOT NULL AND p.proparallel <> c.par)
   OR (c.lang IS NOT NULL AND l.lanname <> c.lang)
ORDER BY 1;
SQL
)
check "every function the README declares is declared as it says" "$MISMATCH" ""

# Every function and procedure of the schema is named in the docs.
NAMES=$(q -c "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'isomargin'::regnamespace ORDER BY 1")
UNNAMED=$(while read -r n; do
	grep -qE "\b${n}\b" "$ROOT/README.md" "$ROOT"/doc/*.md || echo "$n"
done <<<"$NAMES")
check "every function of the schema is named in README.md or doc/*.md" "$UNNAMED" ""

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
