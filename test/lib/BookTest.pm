# test/lib/BookTest.pm: what the TAP tests (test/t/*.pl) share about the enforced book of
# test/lib/book.sql.
#
#   load_book($node, $db, positions => N, seed => S)
#                      create the book in $db (the extension must exist) and enforce it
#   check_invariants($node, $db, $label)
#                      run test/lib/invariants.sql: one test point per check, plus one that
#                      every check ran
#   move_across($node, $db, $label)
#                      move BTCUSDT's mark just past the liquidation price of the long the
#                      mark would cross next; test that exactly the positions the SQL
#                      functions say change status do, each with one event, that long among
#                      them
#   pgbench_script($name)
#                      the path of test/pgbench/$name
package BookTest;

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(load_book check_invariants move_across pgbench_script);

my $lib = dirname(abs_path(__FILE__));

sub pgbench_script
{
	my ($name) = @_;
	return abs_path("$lib/../pgbench/$name");
}

sub load_book
{
	my ($node, $db, %opt) = @_;
	$node->safe_psql($db, slurp_file("$lib/book.sql"),
		extra_params => [ '-v', "positions=$opt{positions}", '-v', "seed=$opt{seed}" ]);
	return;
}

sub check_invariants
{
	my ($node, $db, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $sql = slurp_file("$lib/invariants.sql");
	my $checks = () = $sql =~ /^SELECT pg_temp\.verdict\(/mg;
	my @lines = split /\n/, $node->safe_psql($db, $sql);
	is(scalar @lines, $checks, "$label: all $checks invariant checks ran");
	for my $line (@lines)
	{
		my ($verdict, $name, $detail) = split /\|/, $line, 3;
		ok($verdict eq 'ok', "$label: $name") or diag("$name: $detail");
		note("$name: $detail");
	}
	return;
}

# The move, and what the SQL functions say it must do, in one session: the status every
# BTCUSDT position must take at the new mark under the status rule (liquidate and bankrupt
# never step down; liquidate escalates to bankrupt), against the events the move wrote.
sub move_across
{
	my ($node, $db, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $out = $node->safe_psql(
		$db, q{
SELECT p.id AS target, (floor(p.liquidation_price / i.tick) - 1) * i.tick AS new_mark
  FROM positions p JOIN instruments i USING (symbol) JOIN marks m USING (symbol)
 WHERE p.symbol = 'BTCUSDT' AND p.size > 0 AND p.status < 'liquidate'
   AND p.liquidation_price < m.mark_price
 ORDER BY p.liquidation_price DESC, p.id LIMIT 1 \gset
CREATE TEMP TABLE want AS
SELECT p.id, p.status AS old_status,
       CASE WHEN p.status = 'liquidate' AND c.status = 'bankrupt' THEN c.status
            WHEN p.status >= 'liquidate' THEN p.status ELSE c.status END AS new_status
  FROM positions p JOIN instruments i USING (symbol)
 CROSS JOIN LATERAL (SELECT isomargin.margin_status(p.size, p.entry_price, :new_mark, p.margin, i.tiers,
                                                    i.contract_size, i.kind, i.fee_rate) AS status) c
 WHERE p.symbol = 'BTCUSDT';
SELECT coalesce(max(id), 0) AS last_event FROM isomargin.events \gset
UPDATE marks SET mark_price = :new_mark, ticks = ticks + 1 WHERE symbol = 'BTCUSDT';
SELECT (SELECT count(*) FROM want WHERE new_status <> old_status),
       (SELECT status FROM positions WHERE id = :target),
       (SELECT count(*) FROM isomargin.events WHERE id > :last_event AND position_key = jsonb_build_object('id', :target)),
       coalesce((SELECT string_agg(id || ' ' || old_status || '>' || new_status, ', ' ORDER BY id)
                   FROM want WHERE new_status <> old_status), '-'),
       coalesce((SELECT string_agg(position_key ->> 'id' || ' ' || old_status || '>' || new_status, ', '
                                   ORDER BY (position_key ->> 'id')::bigint)
                   FROM isomargin.events WHERE id > :last_event), '-'),
       :target, :new_mark});
	my ($changes, $target_status, $target_events, $want, $got, $target, $mark) = split /\|/, $out;
	note("$label: BTCUSDT to $mark, past the liquidation price of position $target");
	ok($target_status eq 'liquidate' || $target_status eq 'bankrupt',
		"$label: the mark move flags the long it crosses")
	  or diag("position $target is $target_status at $mark");
	is($target_events, 1, "$label: with one event");
	is($got, $want, "$label: exactly the positions the SQL functions name change status, one event each");
	note("$label: $changes status changes: $got");
	return;
}

1;
