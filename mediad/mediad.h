/* mediad/mediad.h  The daemon: start in dependency order, control loop, stop */
#ifndef MEDIAD_MEDIAD_H
#define MEDIAD_MEDIAD_H

struct mediad;
struct mconf;

/*
 * Start everything <conf> (loaded from <path>) describes, in dependency
 * order: shm segment, workers, NG socket. <verbose> raises the log level
 * over the config's, now and on every reload. SIGTERM, SIGINT and SIGHUP
 * are blocked here and read through a signalfd by mediad_run(), so call
 * this from the main thread before any other thread exists. Returns 0
 * and *mdp, or an errno (logged) with everything started so far stopped
 * again and the segment unlinked.
 */
int  mediad_start(struct mediad **mdp, const struct mconf *conf,
		  const char *path, unsigned verbose);

/*
 * The control thread: serve NG, reload on SIGHUP, tick every second,
 * until SIGTERM or SIGINT. After that first signal a second one kills
 * the process at once (default action). Returns 0 or an errno.
 */
int  mediad_run(struct mediad *md);

/* Stop in the reverse order of start: NG socket, workers (each cancels
 * and reaps its requests), shm segment (unlinked). Safe on NULL. */
void mediad_stop(struct mediad *md);

#endif
