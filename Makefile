# isomargin: PGXS build.  `make && make install`, then `make installcheck`
# against a running server, or `bash test/run-tests.sh` for everything.
EXTENSION = isomargin
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = isomargin
OBJS = \
	src/scaled.o \
	src/numeric_codec.o \
	src/decimal.o \
	src/args.o \
	src/rule.o \
	src/functions.o \
	src/figure_support.o \
	src/figure_row.o \
	src/whatif.o \
	src/dynamic.o \
	src/liquidity_curve.o \
	src/tiers.o \
	src/tiers_io.o \
	src/tiers_json.o \
	src/tiers_lookup.o \
	src/enforce_contract.o \
	src/enforce_contract_sql.o \
	src/enforce_config.o \
	src/enforce_sql.o \
	src/enforce_compute.o \
	src/enforce_spi.o \
	src/enforce_lock.o \
	src/enforce_owner.o \
	src/enforce_drop.o \
	src/enforce_queue.o \
	src/enforce_guard.o \
	src/enforce_position_trigger.o \
	src/enforce_mark_trigger.o \
	src/enforce_instrument_trigger.o \
	src/enforce_recheck.o \
	src/enforce_checked_mark.o \
	src/enforce_bypass.o \
	src/enforce_xact_cache.o \
	src/enforce_partition.o \
	src/liquidation_position.o \
	src/liquidation_next.o \
	src/liquidation_rows.o \
	src/enforce_partition_route.o \
	src/enforce_probe.o \
	src/enforce_probe_lock.o \
	src/backend_priority.o

# The install script is assembled from one piece per feature, in order.
INSTALL_PIECES = $(sort $(wildcard install/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# Released versions' install scripts, frozen, and the upgrade steps from each.
DATA = $(wildcard install/released/$(EXTENSION)--*.sql) $(wildcard $(EXTENSION)--*--*.sql)

REGRESS = \
	00_install \
	security_install \
	core_worked_examples \
	core_edge_cases \
	core_errors \
	core_exactness \
	core_numeric_limits \
	numeric_codec \
	tiers_type \
	tiers_json \
	tiers_lookup \
	tiers_mutation \
	tiers_cache \
	tiers_cache_consts \
	tiers_worked_examples \
	tiers_exactness \
	core_routes_agree \
	core_reader_and_cache \
	core_routes \
	reports_shock \
	reports_ladder \
	reports_errors \
	enforce_attach \
	enforce_contract \
	enforce_marks_trust \
	enforce_settings \
	enforce_positions \
	enforce_marks \
	enforce_instruments \
	enforce_tiers \
	enforce_events \
	enforce_misuse \
	enforce_security \
	enforce_owner_rights \
	enforce_queue \
	enforce_privileges \
	enforce_ddl \
	enforce_verify \
	enforce_partitioned \
	enforce_partition_route \
	enforce_partition_probe \
	enforce_partition_probe_lock \
	enforce_write_cache \
	whatif_worked_examples \
	whatif_routes \
	whatif_boundaries \
	whatif_errors \
	whatif_distance_routes \
	dynamic_volatility \
	dynamic_liquidity \
	dynamic_figures \
	dynamic_backtest \
	dynamic_enforce \
	dynamic_enforce_liquidity \
	dynamic_reports \
	venues_examples \
	venues_conventions \
	venues_tiers \
	venues_enforce \
	figure_support \
	assess_row \
	assess_report_forms \
	fill_row \
	liquidation_close \
	liquidation_size \
	liquidation_worker \
	liquidation_privileges \
	liquidation_row_security \
	liquidation_dynamic \
	liquidation_rule \
	liquidation_conventions \
	liquidation_conventions_inverse \
	liquidation_backend_priority \
	enforce_verify_columns \
	zz_drop \
	zz_upgrade
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

# pg_isolation_regress: test/specs/*.spec, test/expected/*.out
ISOLATION = \
	enforce_position_race \
	enforce_mark_race \
	enforce_insert_race \
	enforce_instrument_race \
	enforce_claims \
	enforce_repeatable_read \
	enforce_feed_position \
	enforce_feed_funding \
	enforce_feed_close \
	enforce_mark_band \
	enforce_write_cache \
	enforce_notify \
	enforce_partition_race \
	enforce_partition_probe_lock \
	enforce_liquidity_race \
	liquidation_workers \
	liquidation_mark_race \
	liquidation_margin_race \
	liquidation_tiers_race \
	liquidation_convention_race \
	liquidation_convention_amount_race
ISOLATION_OPTS = --inputdir=test --load-extension=plpgsql --load-extension=isomargin

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Assembled on every build and replaced only when it changed, so that adding
# or removing a piece is noticed too.
$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PIECES) $(EXTENSION).control FORCE
	cat $(INSTALL_PIECES) > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

.PHONY: FORCE
FORCE:

# PGXS tracks no header dependencies: rebuild every object when a header changes.
$(OBJS): $(wildcard src/*.h)
