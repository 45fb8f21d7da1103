# test/lib/ProcPriority.pm: what the TAP tests (test/t/*.pl) read of a process's
# scheduling priority in /proc.
#
#   nice_of($pid)        the process's nice value, as the kernel reports it
#   group_of($pid)       its session autogroup, undef without autogroups
#   group_nice_of($pid)  that autogroup's nice value, undef without autogroups
package ProcPriority;

use strict;
use warnings;

use Exporter qw(import);
use PostgreSQL::Test::Utils;

our @EXPORT = qw(nice_of group_of group_nice_of);

sub nice_of
{
	my ($pid) = @_;
	my $stat = slurp_file("/proc/$pid/stat");
	$stat =~ s/^.*\) //s;
	return (split / /, $stat)[16];
}

sub group_of
{
	my ($pid) = @_;
	return undef unless -e "/proc/$pid/autogroup";
	return (slurp_file("/proc/$pid/autogroup") =~ /^(\S+)/)[0];
}

sub group_nice_of
{
	my ($pid) = @_;
	return undef unless -e "/proc/$pid/autogroup";
	return (slurp_file("/proc/$pid/autogroup") =~ /^\S+ nice (-?\d+)/)[0];
}

1;
