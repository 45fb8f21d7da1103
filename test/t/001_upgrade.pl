# Upgrade: isomargin 0.1.0 with an enforced book, updated with ALTER EXTENSION isomargin
# UPDATE to the default version of isomargin.control, has the catalog of a fresh
# CREATE EXTENSION isomargin in another database of the same cluster (test/lib/
# extension_catalog.sql: functions with their definitions and grants, types, tables and
# their columns, constraints, indexes and triggers, the schema's grants, initial
# privileges, comments), and the book keeps being enforced: the invariants hold, a mark
# move flags the position it crosses with an event, a new position is checked.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../lib";

use BookTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::RealBin/../..";
my ($default_version) =
  slurp_file("$root/isomargin.control") =~ /^default_version = '([^']+)'/m;
my $catalog_sql = slurp_file("$FindBin::RealBin/../lib/extension_catalog.sql");

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

# The catalog of the extension in $db, one item per element, sorted.
sub catalog_of
{
	my ($db) = @_;
	my $items = $node->safe_psql($db,
		$catalog_sql . "SELECT string_agg(item, E'\\n--item--\\n' ORDER BY item) FROM extension_catalog;");
	return [ split /\n--item--\n/, $items ];
}

$node->safe_psql('postgres', 'CREATE DATABASE updated');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

$node->safe_psql('updated', "CREATE EXTENSION isomargin VERSION '0.1.0'");
load_book($node, 'updated', positions => 400, seed => 19);
$node->safe_psql('updated', 'UPDATE marks SET mark_price = round(mark_price * 0.97, 2)');
my $flagged_before = $node->safe_psql('updated',
	"SELECT count(*) FROM positions WHERE status >= 'liquidate'");
cmp_ok($flagged_before, '>', 0, '0.1.0 enforces the book: a 3% fall flags positions');
my $events_before = $node->safe_psql('updated', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM isomargin.events');

$node->safe_psql('updated', 'ALTER EXTENSION isomargin UPDATE');
is($node->safe_psql('updated', "SELECT extversion FROM pg_extension WHERE extname = 'isomargin'"),
	$default_version, "ALTER EXTENSION isomargin UPDATE reaches $default_version (isomargin.control)");

$node->safe_psql('fresh', 'CREATE EXTENSION isomargin');
is($node->safe_psql('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'isomargin'"),
	$default_version, "a fresh CREATE EXTENSION installs $default_version");

my $updated = catalog_of('updated');
my $fresh = catalog_of('fresh');
cmp_ok(scalar @$fresh, '>=', 50, 'the fresh catalog is described');
note(scalar(@$fresh) . ' items');
my %count;
$count{$_}++ for @$fresh;
$count{$_}-- for @$updated;
my @differ = sort grep { $count{$_} != 0 } keys %count;
is(scalar @differ, 0, 'the updated catalog is the fresh one, item for item');
diag(($count{$_} > 0 ? 'only fresh: ' : 'only updated: ') . $_) for @differ;

is($node->safe_psql('updated', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM isomargin.events'),
	$events_before, 'the update keeps the events');
check_invariants($node, 'updated', 'after the update');
move_across($node, 'updated', 'after the update');
$node->safe_psql('updated',
	"INSERT INTO positions (id, symbol, size, entry_price, margin) SELECT b.* FROM book_position(nextval('position_ids'), 19) b");
check_invariants($node, 'updated', 'after the move and an insert');

$node->stop;
done_testing();
