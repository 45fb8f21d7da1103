# The liquidation worker's niceness seen from outside (issue 16 item 8): while a worker
# called with nice => base + 7 waits for a position another session holds, the kernel
# reports its backend (field 19 of /proc/PID/stat, read by this test) at base + 7, the
# postmaster and the other backend at base; after the CALL the session's backend stays
# there and lower_backend_priority cannot take it back; the default (NULL) leaves a
# backend alone, nice => 10 raises it to 10.  Where the kernel has session autogroups
# (/proc/PID/autogroup), the worker's backend leads a group of its own (PostgreSQL's
# setsid) and that group's nice value is raised alike, the others' left alone.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../lib";

use ProcPriority;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('worker_nice');
$node->init;
$node->start;
my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
my $base = nice_of($postmaster);
cmp_ok($base, '<=', 12, "the server starts below nice 13 (at $base)");

$node->safe_psql('postgres', q{
CREATE EXTENSION isomargin;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', 1, 30000, 2050),
                             (4, 'BTC', 1, 30000, 2300);
SELECT isomargin.enforce('positions', 'marks', 'instruments');
SELECT isomargin.liquidation_setup('positions');
SELECT isomargin.insurance_deposit('positions', 'BTC', 1000);
UPDATE marks SET mark_price = 27400;
});
is($node->safe_psql('postgres', "SELECT count(*) FROM positions WHERE status = 'bankrupt'"),
	'2', 'two positions bankrupt');

# Another session holds both flagged positions: the worker claims one and waits for it.
my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
is($holder->query_safe('BEGIN; SELECT id FROM positions WHERE id IN (2, 4) ORDER BY id FOR UPDATE;'),
	"2\n4", 'the other session holds both');

my $worker = $node->background_psql('postgres');
my $worker_pid = $worker->query_safe('SELECT pg_backend_pid()');
is(nice_of($worker_pid), $base, 'a new backend starts at the server\'s nice value');
my $nice = $base + 7;
$worker->query_until(qr/calling/, "\\echo calling\nCALL isomargin.liquidation_worker('w', nice => $nice);\n");

my $waiting = 0;
for (1 .. 50 * $PostgreSQL::Test::Utils::timeout_default)
{
	$waiting = $node->safe_psql('postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $worker_pid") eq 't';
	last if $waiting;
	usleep(20_000);
}
ok($waiting, 'the worker waits for the position the other session holds');
is(nice_of($worker_pid), $nice, "the worker's backend runs at nice $nice while it works");
is(nice_of($postmaster), $base, 'the postmaster is left alone');
is(nice_of($holder_pid), $base, 'the other backend is left alone');
SKIP:
{
	skip 'no session autogroups in this kernel', 4 unless defined group_of($worker_pid);
	isnt(group_of($worker_pid), group_of($holder_pid), 'each backend is an autogroup of its own');
	my $group_base = group_nice_of($holder_pid);
	is(group_nice_of($worker_pid), $group_base > $nice ? $group_base : $nice,
		"the worker's autogroup runs at nice $nice");
	is(group_nice_of($holder_pid), $group_base, "the other backend's autogroup is left alone");
	is(group_nice_of($postmaster), $group_base, "the postmaster's autogroup is left alone");
}

$holder->query_safe('COMMIT');
is($worker->query_safe("SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'"),
	'2', 'the worker liquidated both positions once the lock was released');
is(nice_of($worker_pid), $nice, 'the session\'s backend stays niced after the CALL');
is($worker->query_safe('SELECT isomargin.lower_backend_priority(0)'), $nice,
	'lower_backend_priority(0) cannot take it back');
is(nice_of($worker_pid), $nice, 'nor does the kernel show a change');
$worker->quit;
$holder->quit;

# The default (NULL) leaves a new backend at the server's value; nice => 10 raises it.
my $other = $node->background_psql('postgres');
my $other_pid = $other->query_safe('SELECT pg_backend_pid()');
$other->query_safe("CALL isomargin.liquidation_worker('w2')");
is(nice_of($other_pid), $base, 'the default leaves the backend alone');
$other->query_safe("CALL isomargin.liquidation_worker('w2', nice => 10)");
is(nice_of($other_pid), $base > 10 ? $base : 10, 'nice => 10 raises it to 10');
$other->quit;

$node->stop;
done_testing();
