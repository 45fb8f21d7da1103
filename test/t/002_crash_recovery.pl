# Crash recovery: a book of 3,000 enforced positions (test/lib/book.sql) under a stream of
# committed mark updates (pgbench, test/pgbench/mark.sql), with three transactions in
# flight (positions being opened, an instrument's fee being raised, a mark falling 15%),
# loses every server process to SIGKILL at once.  After crash recovery the committed ticks
# are there, nothing of the transactions in flight is, every invariant of
# test/lib/invariants.sql holds, and enforcement carries on.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../lib";

use BookTest;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

# The pids whose parent is $parent.
sub children_of
{
	my ($parent) = @_;
	my @children;
	opendir(my $proc, '/proc') or die "cannot read /proc: $!";
	for my $pid (grep { /^\d+$/ } readdir $proc)
	{
		open(my $stat, '<', "/proc/$pid/stat") or next;
		my ($ppid) = (<$stat> // '') =~ /\) \S+ (\d+)/;
		push @children, $pid if defined $ppid && $ppid == $parent;
	}
	closedir $proc;
	return @children;
}

# Until it is reaped: the server's lock-file check takes a zombie postmaster for a live one.
sub wait_gone
{
	my ($pid) = @_;
	my $waited = 0;
	while (-e "/proc/$pid")
	{
		die "process $pid still there after ${PostgreSQL::Test::Utils::timeout_default}s"
		  if $waited++ > 50 * $PostgreSQL::Test::Utils::timeout_default;
		usleep(20_000);
	}
	return;
}

# SIGKILL to every server process: the postmaster is stopped first, so that it neither
# forks nor notices a child's death, then its children die, then it does.  Returns how
# many processes died.
sub crash
{
	my ($node) = @_;
	my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
	kill 'STOP', $postmaster;
	my @children = children_of($postmaster);
	kill 'KILL', @children;
	$node->kill9;
	wait_gone($_) for $postmaster, @children;
	return 1 + @children;
}

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION isomargin');
load_book($node, 'postgres', positions => 3000, seed => 23);

# The feed: two clients ticking for at most 60 s; the crash comes after a few seconds.
my ($feed_out, $feed_err) = ('', '');
my $feed = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '60', '--random-seed=5',
		'-f', pgbench_script('mark.sql'),
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$feed_out, '2>', \$feed_err,
	IPC::Run::timeout(120));
ok($node->poll_query_until('postgres', 'SELECT sum(ticks) >= 500 FROM marks'),
	'the feed commits mark updates');

# In flight at the crash, each on an instrument of its own: 100 ETHUSDT positions being
# opened, SOLUSDT's fee rising (a recompute of its positions), BTCUSD's mark falling 15%
# (outside the feed's band: it flags many positions).
my @in_flight = map { $node->background_psql('postgres') } 1 .. 3;
$in_flight[0]->query_safe(
	"BEGIN; INSERT INTO positions (id, symbol, size, entry_price, margin)
	 SELECT b.* FROM generate_series(900001, 900400) g, book_position(g, 23) b WHERE b.symbol = 'ETHUSDT'");
$in_flight[1]->query_safe("BEGIN; UPDATE instruments SET fee_rate = 0.001 WHERE symbol = 'SOLUSDT'");
$in_flight[2]->query_safe(
	"BEGIN; UPDATE marks SET mark_price = ref_price * 0.85 FROM instruments i
	 WHERE i.symbol = marks.symbol AND marks.symbol = 'BTCUSD'");
my $in_flight_events = $in_flight[2]->query_safe(
	"SELECT count(*) FROM isomargin.events WHERE mark_price = 64230.5 * 0.85");
cmp_ok($in_flight_events, '>', 0, 'the mark fall in flight flags positions');
my $ticks = $node->safe_psql('postgres', 'SELECT sum(ticks) FROM marks');
usleep(200_000);

my $killed = crash($node);
cmp_ok($killed, '>=', 8, 'SIGKILL took down the postmaster and its children');
note("$killed processes killed");
$feed->finish;
note("feed: $feed_err");
$_->quit for @in_flight;

my $log_offset = -s $node->logfile;
$node->start;
like(slurp_file($node->logfile, $log_offset), qr/automatic recovery in progress/,
	'the restart recovers from a crash');

cmp_ok($node->safe_psql('postgres', 'SELECT sum(ticks) FROM marks'), '>=', $ticks,
	'every mark update committed before the crash is there');
is( $node->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) FROM positions WHERE id > 900000),
       (SELECT fee_rate FROM instruments WHERE symbol = 'SOLUSDT'),
       (SELECT count(*) FROM marks WHERE mark_price = 64230.5 * 0.85),
       (SELECT count(*) FROM isomargin.events WHERE mark_price = 64230.5 * 0.85)}),
	'0|0.0005|0|0',
	'nothing of the transactions in flight is there');
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM positions WHERE status >= 'liquidate'"),
	'>', 0, 'the feed flagged positions before the crash');

check_invariants($node, 'postgres', 'after recovery');
move_across($node, 'postgres', 'after recovery');
check_invariants($node, 'postgres', 'after recovery and a move');

$node->stop;
done_testing();
