# demo/dynamic.gnuplot: the replay's crash with and without the dynamic add-ons.
# Variables (gnuplot -e): datafile, outfile, symbol.  datafile columns (tab-separated):
# step, mark, shortfall so far (USDT) under flat, tiers, tiers + dynamic add-ons.
set terminal pngcairo size 1400,780 font "DejaVu Sans,12" noenhanced
set output outfile
set datafile separator "\t"
set title sprintf("%s crash: shortfall beyond bankruptcy so far under each rule (isomargin.backtest, one position in 10)", symbol) font ",15"
set xlabel "replay step"
set ylabel "shortfall so far (USDT): what the insurance fund pays"
set y2label "mark price"
set ytics nomirror
set y2tics
set grid ytics lc rgb "#dddddd"
set key center right box opaque
plot datafile using 1:3 with steps lw 3 lc rgb "#c0392b" title "flat (first bracket rate)", \
     datafile using 1:4 with steps lw 3 dt 2 lc rgb "#2874a6" title "tiers", \
     datafile using 1:5 with steps lw 3 lc rgb "#1e8449" title "tiers + volatility and liquidity add-ons", \
     datafile using 1:2 axes x1y2 with lines lw 2 dt 2 lc rgb "#555555" title "mark (right axis)"
