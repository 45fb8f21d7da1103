# demo/plot.gnuplot: the liquidation ladder of one instrument as a PNG.
# Variables (gnuplot -e): datafile, outfile, symbol, npos (book size, for the title),
# mark (the mark the ladder is taken at), low (the replay's lowest mark; 0: none).
# datafile columns: bucket mid price, long notional (M USDT), short notional (M USDT), mark.
set terminal pngcairo size 1400,780 font "DejaVu Sans,12" noenhanced
set output outfile
set datafile separator "\t"

set title sprintf("%s liquidation ladder: open notional liquidated at each price (book of %s positions)", symbol, npos) font ",15"
set xlabel sprintf("liquidation price (buckets of 0.25%% of the mark %s)", gprintf("%.1f", mark))
set ylabel "notional liquidated (million USDT)"
set grid ytics lc rgb "#dddddd"
set key top left box opaque
set style fill solid 0.85 border -1
set boxwidth 0.9 relative
set format x "%.0f"
set xtics rotate by -35 nomirror
set ytics nomirror
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0

set arrow 1 from first mark, graph 0 to first mark, graph 0.93 nohead lw 3 lc rgb "#222222"
set label 1 sprintf("mark %.1f", mark) at first mark, graph 0.96 center font ",12"
if (low > 0) {
    set arrow 2 from first low, graph 0 to first low, graph 0.80 nohead lw 2 dt 2 lc rgb "#8a2be2"
    set label 2 sprintf("replay low %.1f", low) at first low, graph 0.83 center tc rgb "#8a2be2"
}
set label 3 "longs: liquidated as the price falls" at graph 0.02, graph 0.70 left tc rgb "#c0392b"
set label 4 "shorts: liquidated as the price rises" at graph 0.98, graph 0.70 right tc rgb "#1e8449"

plot datafile using 1:2 with boxes lc rgb "#e74c3c" title "longs (below the mark)", \
     ''       using 1:3 with boxes lc rgb "#27ae60" title "shorts (above the mark)"
