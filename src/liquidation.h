/*
 * liquidation.h
 *	  The liquidation worker's C parts (doc/liquidation.md, "The worker"):
 *	  liquidation_position.c liquidates one position, liquidation_next.c
 *	  claims the next piece of work and acknowledges settled events.
 */
#ifndef ISOMARGIN_LIQUIDATION_H
#define ISOMARGIN_LIQUIDATION_H

#include "postgres.h"

#include "executor/spi.h"

/* liquidation_position.c: a statement prepared and kept for the session */
extern SPIPlanPtr liquidation_prepare(const char *sql, int nargs, Oid *types);

/* liquidation_position.c: one position liquidated, SPI connected; the steps taken */
extern int32 liquidation_run(Oid nsp, Oid positions, Datum key, Datum worker, bool has_event,
							 Datum event_id);

/* liquidation_next.c: every unclaimed event of the position, as '<worker> (settled)' */
extern uint64 liquidation_settle_events(Oid nsp, Oid positions, Datum key, Datum worker);

#endif
