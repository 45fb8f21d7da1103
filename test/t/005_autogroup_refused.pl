# lower_backend_priority when the kernel refuses the autogroup (src/backend_priority.c): the
# backend leads its session and /proc/self/autogroup exists but cannot be opened for writing,
# so the call fails with 58000 and leaves the backend's nice value as it was (the group is set
# first precisely so that a refusal there changes nothing); a call asking for no more than the
# values in effect has nothing to set and still succeeds.
#
# The refusal: the postmaster is started in a mount namespace of its own (and a user namespace
# mapping this user to itself, so that no privilege is needed) where /proc is a read-only bind
# of itself; every backend, a fork of the postmaster, sees it so, and open(O_WRONLY) of any
# file there fails with EROFS.  The test's own /proc is left as it is (checked).  The values
# are read from outside, /proc/PID/stat and /proc/PID/autogroup, as 004 does.  Skipped where
# there are no autogroups or unshare/mount in a user namespace are not permitted.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../lib";

use ProcPriority;
use Fcntl qw(O_WRONLY);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'no session autogroups in this kernel (/proc/self/autogroup)'
  unless -e '/proc/self/autogroup';

# runs @cmd in a private mount namespace whose /proc is read-only, without capabilities
my @readonly_proc = (
	'unshare', '--map-current-user', '--keep-caps', '--mount', '--propagation', 'private',
	'sh', '-c',
	'mount --rbind /proc /proc && mount -o remount,bind,ro /proc'
	  . ' && exec setpriv --inh-caps=-all --ambient-caps=-all "$@"',
	'readonly_proc');

my ($probe_out, $probe_err);
IPC::Run::run([ @readonly_proc, 'true' ], '>', \$probe_out, '2>', \$probe_err)
  or plan skip_all => 'no read-only /proc in a user namespace here: '
  . ($probe_err =~ s/\s+$//r);

# whether $pid sees /proc mounted read-only (the last mount there, on top of the others)
sub proc_readonly_for
{
	my ($pid) = @_;
	my @options = slurp_file("/proc/$pid/mountinfo") =~ m{^\S+ \S+ \S+ \S+ /proc (\S+)}mg;
	return $options[-1] =~ /(^|,)ro(,|$)/ ? 1 : 0;
}

my $node = PostgreSQL::Test::Cluster->new('autogroup_refused');
$node->init;

# $node->start, with pg_ctl (and so the postmaster) run through @readonly_proc
{
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port);
	delete $ENV{PGAPPNAME};
	system_or_bail(@readonly_proc, 'pg_ctl', '-w', '-D', $node->data_dir, '-l',
		$node->logfile, '-o', '--cluster-name=' . $node->name, 'start');
	# what start does after pg_ctl: records the postmaster's PID for stop and teardown
	$node->_update_pid(1);
}

my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
is(proc_readonly_for($postmaster), 1, 'the postmaster sees /proc read-only');
is(proc_readonly_for($$), 0, "the test's /proc is left writable");
my $base = nice_of($postmaster);
my $group_base = group_nice_of($postmaster);
cmp_ok(($base > $group_base ? $base : $group_base), '<=', 14,
	"room to raise: the server at nice $base, its autogroup at $group_base");

$node->safe_psql('postgres', 'CREATE EXTENSION isomargin');
my $session = $node->background_psql('postgres');
$session->query_safe("\\i $ENV{ISOMARGIN_ROOT}/test/lib/try.sql");
my $backend = $session->query_safe('SELECT pg_backend_pid()');
isnt(group_of($backend), group_of($postmaster), 'the backend leads an autogroup of its own');
is(nice_of($backend), $base, "the backend starts at the server's nice value");

my $nice = ($base > $group_base ? $base : $group_base) + 5;
is( $session->query_safe("SELECT pg_temp.try('SELECT isomargin.lower_backend_priority($nice)')"),
	"58000: could not open the backend's autogroup: Read-only file system",
	"lower_backend_priority($nice): 58000, the autogroup refused");
is(nice_of($backend), $base, "the backend's nice value is left as it was ($base)");
is(group_nice_of($backend), $group_base, "its autogroup's too ($group_base)");

# no more than both values in effect: no group to set, no nice value either
my $low = $base < $group_base ? $base : $group_base;
SKIP:
{
	skip "the autogroup's nice value ($group_base) is below 0", 2 if $low < 0;
	is($session->query_safe("SELECT pg_temp.try('SELECT isomargin.lower_backend_priority($low)')"),
		"ok: $base", "lower_backend_priority($low): nothing to set, $base returned");
	is(nice_of($backend), $base, 'nor does the kernel show a change');
}
$session->quit;

$node->stop;
ok(sysopen(my $fh, '/proc/self/autogroup', O_WRONLY),
	"the test's /proc/self/autogroup can still be opened for writing")
  or diag("open: $!");
close $fh if $fh;
done_testing();
