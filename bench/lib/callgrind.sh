# bench/lib/callgrind.sh: what the instruction-counting benchmarks share.  Source it after
# test/lib/cluster.sh.
#
#   callgrind_prereqs      cluster_prereqs, and valgrind (apt-get) when missing
#   callgrind_stop_server  stop the cluster's server, so that single-user backends can
#                          run on its data directory (the cluster is still removed on exit)
#   callgrind_single DB [VALGRIND_OPTION ...] [-- POSTGRES_OPTION ...]
#                          run one single-user backend on database DB under callgrind,
#                          the statements on stdin, JIT off; print callgrind's summary line
#                          (instructions, then the other events asked for); the profile
#                          stays in $CLUSTER_DIR/callgrind.out.  An ERROR fails it.

callgrind_prereqs()
{
	cluster_prereqs </dev/null
	command -v valgrind >/dev/null 2>&1 || _cluster_sudo apt-get install -y -q valgrind >/dev/null ||
		cluster_die "cannot install valgrind"
}

callgrind_stop_server()
{
	cluster_as_server "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$CLUSTER_DIR/data" -w stop -m fast \
		>/dev/null || cluster_die "cannot stop the server for the single-user runs"
}

callgrind_single()
{
	local db=$1 out="$CLUSTER_DIR/callgrind.out" log="$CLUSTER_DIR/single.log"
	local vg=() pg=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vg+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	pg=("$@")
	rm -f "$out"
	cluster_as_server valgrind --tool=callgrind "${vg[@]}" --callgrind-out-file="$out" \
		"$("$PG_CONFIG" --bindir)/postgres" --single -D "$CLUSTER_DIR/data" -c jit=off "${pg[@]}" \
		"$db" >"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
	grep -q 'ERROR' "$log" && { grep ERROR "$log" >&2; return 1; }
	sed -n 's/^summary: *//p' "$out"
}
