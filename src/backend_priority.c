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
 *
 * The process's nice value is not enough on Linux with session autogroups
 * (the default where no cgroup CPU controller places the server): every
 * backend leads a session of its own (PostgreSQL calls setsid in each
 * child), so each is an autogroup of its own, and the scheduler weighs
 * those groups against each other by the group's nice value, the process's
 * counting only inside it.  So the backend's autogroup is given the same
 * value (/proc/self/autogroup), when the backend leads its session: then
 * the group is the backend's alone (a single-user backend shares its
 * caller's and is left alone).  Raising it needs no privilege either; the
 * kernel lets an unprivileged process change one group's value a tenth of
 * a second machine-wide, and answers EAGAIN before that: tried again.
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"

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

#define AUTOGROUP_FILE "/proc/self/autogroup"

/*
 * The nice value of the backend's autogroup, or INT_MAX when there is none
 * to set: no autogroups in this kernel, or a group that is not the
 * backend's alone.
 */
static int
autogroup_nice(void)
{
	FILE	   *f;
	int			nice;

	if (getsid(0) != getpid())
		return INT_MAX;
	f = fopen(AUTOGROUP_FILE, "r");
	if (f == NULL)
	{
		if (errno == ENOENT)
			return INT_MAX;
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not read the backend's autogroup: %m")));
	}
	if (fscanf(f, "%*s nice %d", &nice) != 1)
	{
		fclose(f);
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not parse \"%s\"", AUTOGROUP_FILE)));
	}
	fclose(f);
	return nice;
}

static void
set_autogroup_nice(int nice)
{
	char		text[16];
	int			len = snprintf(text, sizeof(text), "%d", nice);
	int			tries;

	for (tries = 0;; tries++)
	{
		int			fd = open(AUTOGROUP_FILE, O_WRONLY);
		ssize_t		written;
		int			saved;

		if (fd < 0)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not open the backend's autogroup: %m")));
		written = write(fd, text, len);
		saved = errno;
		close(fd);
		if (written == len)
			return;
		errno = saved;
		if (written >= 0 || errno != EAGAIN || tries >= 250)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not set the backend's autogroup nice value to %d: %m", nice)));
		/* another process changed a group's value in the last tenth of a second */
		CHECK_FOR_INTERRUPTS();
		pg_usleep(20000L);
	}
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

	/* the group first: a refusal there leaves the process's value as it was */
	if (autogroup_nice() < nice)
		set_autogroup_nice(nice);

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
