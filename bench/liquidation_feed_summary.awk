# bench/liquidation_feed_summary.awk: the summary of bench/liquidation_feed_latency.sh's
# runs, read from its printed output (of one run of the script, or of several, given
# together: awk -f bench/liquidation_feed_summary.awk bench/out/liquidation-feed-*.txt).
# By placement and number of workers: each statistic's median over the runs and its
# range; then each run with workers against the run alone of its own round, in the order
# they were printed (the runs of a round are minutes apart: the drift of the VM cancels):
# in how many rounds the average, p50, p99 and the feed's backend's CPU an update were
# higher, and the median change.

# sorted into a[1..n] (an insertion sort: mawk has no asort); returns n
function sorted(list, a,    n, i, j, x) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
	return n
}
# the runs of key k against the runs alone of the same placement, round by round
function paired(k, alone, stat,    i, r, up, list, a, m) {
	for (i = 1; i <= n[k] && i <= n[alone]; i++) {
		r = val[k, i, stat] / val[alone, i, stat]
		up += r > 1; list = list " " (r - 1) * 100
	}
	m = sorted(list, a)
	return sprintf("%d of %d, %+.1f%%", up, m, m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2)
}
function col(list,    a, n) {
	n = sorted(list, a)
	return sprintf("%g (%g-%g)", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2, a[1], a[n])
}
# one run of the feed: its placement, workers, average, p50, p99, wait for a core an
# update, liquidations a second in the window, its backend on a core an update
function add(place, workers, a, m, p, w, l, c,    k) {
	k = place "\t" workers; if (!(k in n)) order[++keys] = k; n[k]++
	avg[k] = avg[k] " " a; p50[k] = p50[k] " " m; p99[k] = p99[k] " " p; wait[k] = wait[k] " " w; liq[k] = liq[k] " " l
	val[k, n[k], "avg"] = a; val[k, n[k], "p50"] = m; val[k, n[k], "p99"] = p; val[k, n[k], "cpu"] = c
}
# the number after `word` in the line
function after(word,    i) {
	i = index($0, word); if (i == 0) return ""
	split(substr($0, i + length(word)), f, /[^0-9.]+/); return f[1] == "" ? f[2] : f[1]
}
/^== round [0-9]+: feed / {
	workers = $0 ~ /feed alone, / ? 0 : after("feed while ") + 0
	place = $0; sub(/^== round [0-9]+: feed (alone|while [0-9]+ worker\(s\) run), /, "", place)
	sub(/ \(load average .*$/, "", place); got = 0
}
/^   feed: [0-9]/ { a = after(" avg "); m = after(" p50 "); p = after(" p99 "); got = 1 }
/^   from its start, us:/ { c = after("backend on a core "); w = after("waiting for a core ") }
/liquidations in the window:/ && got { add(place, workers, a, m, p, w, after("liquidations in the window: "), c); got = 0 }
END {
	if (keys == 0) { print "   no runs"; exit }
	printf "   %-50s %7s %4s %-16s %-16s %-18s %-16s %s\n", "placement", "workers", "runs", "avg", "p50", "p99", "wait for a core", "liquidations/s"
	for (i = 1; i <= keys; i++) {
		k = order[i]; split(k, f, "\t")
		printf "   %-50s %7d %4d %-16s %-16s %-18s %-16s %s\n", f[1], f[2], n[k], col(avg[k]), col(p50[k]), col(p99[k]),
			col(wait[k]), (f[2] > 0 ? col(liq[k]) : "")
	}
	print "   with workers against alone in the same round: in how many rounds higher, the median change"
	for (i = 1; i <= keys; i++) {
		k = order[i]; split(k, f, "\t"); alone = f[1] "\t0"
		if (f[2] > 0 && (alone in n))
			printf "   %-50s %7d   avg %s; p50 %s; p99 %s; its backend on a core an update %s\n", f[1], f[2],
				paired(k, alone, "avg"), paired(k, alone, "p50"), paired(k, alone, "p99"), paired(k, alone, "cpu")
	}
}
