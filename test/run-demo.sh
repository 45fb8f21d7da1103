#!/usr/bin/env bash
# The main job: build isomargin, install it into a throwaway PostgreSQL 15 cluster and
# show the core functions on example positions.  Placeholder until the demo (issue 5)
# replaces this body.  Installs missing prerequisites (apt-get); leaves no server running.
set -u -o pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cluster.sh"

cluster_prereqs
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION isomargin;
\pset footer off

\echo
\echo 'A long of 1 BTC at 30000 USDT with 3000 USDT of isolated margin, 0.4% maintenance rate:'
SELECT isomargin.liquidation_price(size => 1, entry_price => 30000, margin => 3000, mmr => 0.004),
       isomargin.bankruptcy_price(size => 1, entry_price => 30000, margin => 3000);

\echo 'The same long at marks above and below its liquidation price:'
SELECT mark,
       isomargin.unrealized_pnl(size => 1, entry_price => 30000, mark_price => mark) AS pnl,
       isomargin.equity(size => 1, entry_price => 30000, mark_price => mark, margin => 3000),
       isomargin.maintenance_margin(size => 1, mark_price => mark, mmr => 0.004),
       isomargin.margin_ratio(size => 1, entry_price => 30000, mark_price => mark,
                              margin => 3000, mmr => 0.004),
       isomargin.margin_status(size => 1, entry_price => 30000, mark_price => mark,
                               margin => 3000, mmr => 0.004)
FROM (VALUES (31000::numeric), (27500), (27100), (26900)) AS m(mark);

\echo 'A short of 2 BTC at 30000 with 10x leverage (initial margin as collateral):'
SELECT isomargin.initial_margin(size => -2, price => 30000, leverage => 10) AS margin,
       isomargin.liquidation_price(size => -2, entry_price => 30000, mmr => 0.005,
           margin => isomargin.initial_margin(size => -2, price => 30000, leverage => 10));

\echo 'An inverse short of 1000 contracts of 100 USD at 30000, margin 0.05 BTC, fee 0.05%:'
SELECT isomargin.notional(size => -1000, price => 30000, contract_size => 100, kind => 'inverse'),
       isomargin.liquidation_price(size => -1000, entry_price => 30000, margin => 0.05,
           mmr => 0.005, fee_rate => 0.0005, contract_size => 100, kind => 'inverse');

\echo 'Everything at once, with prices rounded to a 0.5 tick:'
\x on
SELECT * FROM isomargin.assess(size => 1, entry_price => 30000, mark_price => 28000,
                               margin => 3000, mmr => 0.004, tick_size => 0.5);
SQL
status=$?
[ "$status" -eq 0 ] || echo "error: the example queries failed" >&2
exit "$status"
