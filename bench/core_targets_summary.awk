# bench/core_targets_summary.awk: the targets tables of several core_throughput.sh
# outputs pooled, target by target: in how many runs it was met, and the median,
# lowest and highest measured ratio.  For deciding on a timed target across the
# VM's states rather than from one run.
#
#   awk -f bench/core_targets_summary.awk bench/out/core_throughput-*.txt
#
# Runs of another size or another engine are not told apart: name the files.
function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
FNR == 1 { files++ }
/\| +[0-9.]+ \| (met|MISSED)$/ {
	n = split($0, f, "|")
	target = trim(f[1]); value = trim(f[2]); result = trim(f[3])
	if (!(target in runs)) order[++ntargets] = target
	runs[target]++
	if (result == "met") met[target]++
	vals[target, runs[target]] = value + 0
}
END {
	printf "%d outputs\n\n", files
	printf "| target | runs | met in | median | lowest | highest |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
	for (t = 1; t <= ntargets; t++) {
		name = order[t]; k = runs[name]
		for (i = 1; i <= k; i++) v[i] = vals[name, i]
		for (i = 2; i <= k; i++) {		# insertion sort: a few runs
			x = v[i]
			for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
			v[j + 1] = x
		}
		median = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		printf "| %s | %d | %d | %.3f | %.2f | %.2f |\n", name, k, met[name] + 0, median, v[1], v[k]
	}
}
