/*
 * backend_priority.c
 *	  lower_backend_priority(nice): the calling backend gives way on the CPU.
 *
 * A liquidation worker keeps a core busy for as long as there is work; on a
 * machine with few cores a price feed's backend then waits for a core
 * (bench/README.md, issue 16 item 8).  A backend that raises its own nice
 * value lets the scheduler run the feed first when both want one core, and
 * costs the worker nothing when nothing else does.
 *
 * One way only: an unprivileged process may raise its nice value but not
 * lower it again, so a value at or above the one asked for is left alone
 * and none is ever lowered.  The value stays for the backend's life, past
 * the call and the transaction (doc/liquidation.md).
 */
#include "postgres.h"

#include <errno.h>
#include <sys/resource.h>

#include "fmgr.h"

PG_FUNCTION_INFO_V1(lower_backend_priority);

/* the calling process's nice value (getpriority returns -1 for -1 as for an error) */
static int
backend_nice(void)
{
	int			nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice == -1 && errno != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not read the backend's nice value: %m")));
	return nice;
}

Datum
lower_backend_priority(PG_FUNCTION_ARGS)
{
	int32		nice = PG_GETARG_INT32(0);
	int			now;

	if (nice < 0 || nice > 19)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nice must be between 0 and 19, not %d", nice)));

	now = backend_nice();
	if (now >= nice)
		PG_RETURN_INT32(now);

	/*
	 * Raising one's own nice value needs no privilege, so a failure here is
	 * the operating system's (a sandbox refusing the call), not the caller's
	 * input or rights: 58000 system_error, told apart from the 42501 of a
	 * missing EXECUTE grant and the 22023 of a bad value.
	 */
	if (setpriority(PRIO_PROCESS, 0, nice) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not set the backend's nice value to %d: %m", nice)));

	PG_RETURN_INT32(backend_nice());
}
