# bench/lib/core_book.sh: the book the timed core benchmarks share (core_throughput.sh,
# core_ab.sh).  Source it after test/lib/cluster.sh.
#
#   core_book_shared_mb ROWS  the shared_buffers, in MB, that hold the whole book well under
#                             the quarter past which a sequential scan reads through a small
#                             ring of buffers (about 100 bytes a row: 512 bytes of shared
#                             buffers a row for positions and dyn_positions, at least 128MB)
#   core_book_load ROWS SEED  create the extensions, load ROWS positions (core_load.sql),
#                             add every query of core_throughput.sh to bench.variants, then
#                             write every dirty page out (CHECKPOINT, sync)
#   core_psql ARGS...         psql without ~/.psqlrc, quiet, stopping at the first error

core_psql()
{
	psql -X -q -v ON_ERROR_STOP=1 "$@"
}

core_book_shared_mb()
{
	local mb=$(($1 * 1024 / 1048576))
	[ "$mb" -lt 128 ] && mb=128
	echo "$mb"
}

core_book_load()
{
	local rows=$1 seed=$2 start=$SECONDS f
	core_psql -c "CREATE EXTENSION isomargin" -c "CREATE EXTENSION pg_prewarm" ||
		cluster_die "cannot create the extensions"
	cluster_log "loading $rows positions"
	core_psql -v rows="$rows" -v seed="$seed" -f "$BENCH_DIR/core_load.sql" >/dev/null ||
		cluster_die "loading the book failed"
	cluster_log "loaded in $((SECONDS - start)) s; $(core_psql -At -c "SELECT pg_size_pretty(pg_table_size('positions'))") on disk"
	core_psql -f "$BENCH_DIR/core_formulas.sql" >/dev/null || cluster_die "core_formulas.sql failed"
	for f in core_tiers core_whatif core_figures core_dynamic core_status_filter; do
		core_psql -f "$BENCH_DIR/$f.sql" || cluster_die "$f.sql failed"
	done
	# The load and VACUUM FREEZE dirtied every page: written out now, and the kernel's
	# writeback done, so that neither the checkpointer nor the kernel's flusher threads
	# write them during the timed queries (2 cores: they would take from the queries)
	core_psql -c "CHECKPOINT" || cluster_die "CHECKPOINT failed"
	sync
}
