# Stress: six pgbench clients on a book of 3,000 enforced positions (test/lib/book.sql), 6,000
# transactions in all under READ COMMITTED, mixed from test/pgbench/: mark ticks (40%), margin
# changes (20%, half of them on the position the mark would cross next), funding payments of
# about 40 positions at a time (10%), new positions (20%) and a liquidation worker claiming
# events and closing what they name (10%).  Bounded by the transaction count and by a 100 s
# timeout.  Then every invariant of test/lib/invariants.sql holds and enforcement carries on.
# Deadlocks (40P01) fail the test: the feed and position changes never deadlock (issue 19 item 4).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../lib";

use BookTest;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my %weight = (mark => 40, margin => 20, funding => 10, open => 20, close => 10);
my ($clients, $per_client) = (6, 1000);

my $node = PostgreSQL::Test::Cluster->new('stress');
$node->init;
$node->append_conf('postgresql.conf', "deadlock_timeout = 100ms\nlog_statement = none\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION isomargin');
load_book($node, 'postgres', positions => 3000, seed => 31);
my $events_before = $node->safe_psql('postgres', 'SELECT count(*) FROM isomargin.events');

my @cmd = (
	'pgbench', '-n', '-c', $clients, '-j', '2', '-t', $per_client, '--random-seed=11',
	'--failures-detailed', '-D', 'positions=3000', '-D', 'seed=31',
	(map { ('-f', pgbench_script("$_.sql") . "\@$weight{$_}") } sort keys %weight),
	'-h', $node->host, '-p', $node->port, 'postgres');
my ($out, $err) = ('', '');
my $started = time;
my $finished = eval { IPC::Run::run(\@cmd, '>', \$out, '2>', \$err, IPC::Run::timeout(100)) };
my $seconds = sprintf('%.1f', time - $started);
note("pgbench ($seconds s):\n$out$err");
ok($finished, 'pgbench ran every client to the end within 100 s') or diag($@ || $err);

my $total = $clients * $per_client;
my ($processed) = $out =~ /^number of transactions actually processed: (\d+)\/$total$/m;
my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
my ($serialization) = $out =~ /^number of serialization failures: (\d+)/m;
my ($deadlocks) = $out =~ /^number of deadlock failures: (\d+)/m;
is(($processed // 0) + ($failed // 0), $total, "all $total transactions ran");
is($serialization, 0, 'no serialization failure (READ COMMITTED)');
is($failed, $deadlocks, 'no failure but deadlocks');

# Per script: its transactions and its deadlocks.
my %ran;
my @per_script;
while ($out =~ /^SQL script \d+: \S*\/(\w+)\.sql\n(.*?)(?=^SQL script |\z)/msg)
{
	my ($script, $block) = ($1, $2);
	my ($n) = $block =~ /^ - (\d+) transactions/m;
	my ($d) = $block =~ /number of deadlock failures: (\d+)/;
	$ran{$script} = $n // 0;
	push @per_script, "$script " . ($d // '?');
}
is(join(' ', map { $ran{$_} > 0 ? $_ : "$_:none" } sort keys %weight),
	join(' ', sort keys %weight), 'every script committed transactions');
diag("deadlocks (40P01): " . ($deadlocks // '?') . " of $total transactions (" . join(', ', @per_script) . ')');
is($deadlocks, 0, 'no deadlock (issue 19 item 4: feed and position changes never deadlock)');

is( $node->safe_psql(
		'postgres', qq{
SELECT (SELECT count(*) > $events_before FROM isomargin.events),
       (SELECT count(*) > 0 FROM isomargin.events WHERE claimed_by = 'stress'),
       (SELECT count(*) > 0 FROM positions WHERE size = 0),
       (SELECT count(*) > 0 FROM positions WHERE id > 3000),
       (SELECT count(*) > 0 FROM positions WHERE status >= 'liquidate')}),
	't|t|t|t|t',
	'the run wrote events, a worker claimed and closed positions, traders opened some, some are flagged');

check_invariants($node, 'postgres', 'after the stress');
move_across($node, 'postgres', 'after the stress');
check_invariants($node, 'postgres', 'after the stress and a move');

$node->stop;
done_testing();
