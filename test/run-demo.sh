#!/usr/bin/env bash
# The main job in one command: build isomargin, install it into a throwaway PostgreSQL 15
# cluster, and run the demo (demo/demo.sh): an exchange of four perpetuals with bracket
# schedules, a book of 200,000 positions wired to isomargin.enforce, a replayed crash and
# rebound, a report, and a PNG of the liquidation ladder.
#
#   bash test/run-demo.sh [--positions N] [--seed S] [--marks FILE.csv] [--out DIR] [--flat]
#
# Options are demo/demo.sh's (see its header); --positions 1000000 for a big book.
# Installs missing prerequisites with apt-get (PostgreSQL 15, its server headers, a C
# toolchain, gnuplot-nox for the picture); leaves no server running.
set -u -o pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cluster.sh"
cd "$ISOMARGIN_ROOT" || exit 1

case " $* " in
*" -h "* | *" --help "*) exec demo/demo.sh --help ;;
esac

CLUSTER_PACKAGES="$CLUSTER_PACKAGES gnuplot-nox fonts-dejavu-core"
cluster_prereqs
cluster_lock
cluster_build || cluster_die "build failed"
# A bigger WAL budget keeps checkpoints out of the load; the rest is PostgreSQL's default.
cluster_start -c max_wal_size=4GB -c checkpoint_timeout=30min

demo/demo.sh "$@"
status=$?
[ "$status" -eq 0 ] || echo "error: the demo failed (exit $status)" >&2
exit "$status"
