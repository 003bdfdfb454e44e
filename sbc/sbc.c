/* sbc/sbc.c  The daemon's lifecycle (start, drain, reload, stop) and health */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "api.h"
#include "b2bua.h"
#include "cdr.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "registrar.h"
#include "route.h"
#include "sbc.h"
#include "shmc.h"
#include "sipsrv.h"
#include "stats.h"
#include "trunk.h"

#define DRAIN_POLL_MS 250

/*
 * The daemon: one of it, on the one thread that runs re_main(). It owns
 * the running config (modules read it through sbc_config() when they
 * need it, so a reload reaches them without a copy) and the database.
 */
static struct {
	struct sbc_config cfg;
	char              path[CONFIG_PATH_MAX];
	unsigned          verbose;
	uint64_t          start_ms;        /* clock_ms() */
	uint64_t          start_unix_ms;   /* wall clock */
	struct db        *db;
	int               sigfd;           /* SIGHUP */
	bool              started;
	bool              draining;
	uint64_t          drain_deadline;  /* clock_ms() */
	struct tmr        tmr_drain;
	struct tmr        tmr_trim;
} sbc = { .sigfd = -1 };

#define BYE_WAIT_MS 2000   /* for the answers to our final BYEs */
#define TRIM_MS     30000  /* hand freed heap pages back this often */

/*
 * Call churn leaves glibc's heap fragmented: under a soak the bytes in
 * use stay flat while the arena keeps growing (malloc_stats() showed
 * 9.8 MB in use against 25 MB of arena and climbing). malloc_trim()
 * gives the free pages back to the kernel, so RSS follows what is used.
 * It walks the arena once: a millisecond or two every 30 s.
 */
static void trim_tmr(void *arg)
{
	(void)arg;

	(void)malloc_trim(0);
	tmr_start(&sbc.tmr_trim, TRIM_MS, trim_tmr, NULL);
}

static unsigned calls_active(void)
{
	return b2bua_calls_active();
}

static enum log_level effective_level(enum log_level lvl)
{
	unsigned l = (unsigned)lvl + sbc.verbose;

	return l > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)l;
}

static void hup_handler(int flags, void *arg)
{
	struct signalfd_siginfo si;
	bool hup = false;

	(void)flags;
	(void)arg;

	while (read(sbc.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hup = true;
	}
	if (hup)
		(void)sbc_reload();
}

/*
 * libre's re_main() only catches SIGINT, SIGTERM and SIGALRM. SIGHUP
 * comes through a signalfd in the loop instead, so the reload runs on
 * the loop's thread like everything else. It stays blocked after stop:
 * a late SIGHUP must not kill a daemon that is shutting down cleanly.
 */
static int hup_start(void)
{
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return errno;

	sbc.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sbc.sigfd == -1)
		return errno;

	err = fd_listen(sbc.sigfd, FD_READ, hup_handler, NULL);
	if (err) {
		close(sbc.sigfd);
		sbc.sigfd = -1;
	}
	return err;
}

static void hup_stop(void)
{
	if (sbc.sigfd == -1)
		return;
	fd_close(sbc.sigfd);
	close(sbc.sigfd);
	sbc.sigfd = -1;
}

int sbc_start(const struct sbc_config *cfg, const char *path,
	      unsigned verbose)
{
	struct timespec ts;
	int err;

	if (!cfg || !path)
		return EINVAL;

	sbc.cfg = *cfg;
	str_ncpy(sbc.path, path, sizeof(sbc.path));
	sbc.verbose = verbose;
	sbc.start_ms = clock_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	sbc.start_unix_ms = (uint64_t)ts.tv_sec * 1000 +
		(uint64_t)ts.tv_nsec / 1000000;
	sbc.started = true;
	log_set_level(effective_level(sbc.cfg.log_level));

	err = hup_start();
	if (err) {
		log_err("sbc", "cannot catch SIGHUP: %s", strerror(err));
		goto out;
	}

	stats_reset();

	err = db_open(&sbc.db, sbc.cfg.db_path);
	if (err)
		goto out;
	log_info("sbc", "database %s at schema version %d", sbc.cfg.db_path,
		 db_version(sbc.db));

	err = cdr_start(db_handle(sbc.db));
	if (!err)
		err = route_start(db_handle(sbc.db));
	if (err)
		goto out;

	err = media_start(&sbc.cfg.media_ng);
	if (err)
		goto out;

	err = shmc_start(sbc.cfg.shm_name);
	if (err)
		goto out;

	err = sipsrv_start(&sbc.cfg);
	if (err)
		goto out;

	err = registrar_start(db_handle(sbc.db));
	if (!err)
		err = trunk_start(db_handle(sbc.db));
	if (!err)
		err = b2bua_start();
	if (err)
		goto out;

	if (sbc.cfg.api_listen.len) {
		err = api_start(&sbc.cfg.api_listen);
		if (err)
			goto out;
	}
	else {
		log_warn("sbc", "api_listen is empty: no API, /health or "
			 "/metrics");
	}

	if (!sbc.cfg.api_token[0])
		log_warn("sbc", "api_token is empty: the REST API refuses "
			 "every call but /health and /metrics");

	tmr_start(&sbc.tmr_trim, TRIM_MS, trim_tmr, NULL);

	log_info("sbc", "ready: sbc %s, %u domain(s), media_ng %u "
		 "endpoint(s), drain_timeout %u s", SBC_VERSION,
		 config_domain_count(&sbc.cfg), sbc.cfg.media_ng.n,
		 sbc.cfg.drain_timeout);
 out:
	if (err)
		sbc_stop();
	return err;
}

void sbc_stop(void)
{
	if (!sbc.started)
		return;

	tmr_cancel(&sbc.tmr_drain);
	tmr_cancel(&sbc.tmr_trim);
	api_stop();
	b2bua_stop();
	trunk_stop();
	registrar_stop();
	sipsrv_stop();
	shmc_stop();
	media_stop();
	route_stop();
	cdr_stop();
	sbc.db = mem_deref(sbc.db);
	hup_stop();
	sbc.started = false;
}

/* After the hang-ups: wait (bounded) for the BYEs to be answered. */
static void bye_wait_tmr(void *arg)
{
	(void)arg;

	if (b2bua_busy() && clock_ms() < sbc.drain_deadline) {
		tmr_start(&sbc.tmr_drain, 50, bye_wait_tmr, NULL);
		return;
	}
	(void)cdr_flush();
	re_cancel();
}

static void drain_tmr(void *arg)
{
	unsigned n = calls_active();

	(void)arg;

	if (n && clock_ms() < sbc.drain_deadline) {
		tmr_start(&sbc.tmr_drain, DRAIN_POLL_MS, drain_tmr, NULL);
		return;
	}
	if (n) {
		log_info("sbc", "drain: %u call(s) still up%s; ending them "
			 "(BYE on both legs)", n, sbc.cfg.drain_timeout ?
			 " after drain_timeout" : "");
		b2bua_hangup_all();
	}
	else {
		log_info("sbc", "no live calls: stopping");
	}
	sbc.drain_deadline = clock_ms() + BYE_WAIT_MS;
	bye_wait_tmr(NULL);
}

void sbc_shutdown(void)
{
	if (sbc.draining) {
		log_info("sbc", "second signal: stopping now");
		b2bua_hangup_all();
		re_cancel();
		return;
	}

	sbc.draining = true;
	sipsrv_drain();
	if (calls_active() && sbc.cfg.drain_timeout)
		log_info("sbc", "draining: new calls get 503; %u live "
			 "call(s) may continue for up to %u s (a second "
			 "signal stops at once)", calls_active(),
			 sbc.cfg.drain_timeout);

	sbc.drain_deadline = clock_ms() + (uint64_t)sbc.cfg.drain_timeout *
		1000;
	drain_tmr(NULL);
}

/* Log the keys of bit set <bits> as one comma separated list. */
static void log_keys(enum log_level lvl, const char *what, uint32_t bits)
{
	char buf[512];
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < CONFIG_K_COUNT && len < sizeof(buf); i++) {
		if (!(bits & CONFIG_BIT(i)))
			continue;
		len += (size_t)re_snprintf(buf + len, sizeof(buf) - len,
					   "%s%s", len ? ", " : "",
					   config_key_name(i));
	}
	log_msg(lvl, "sbc", "reload: %s: %s", what, buf);
}

int sbc_reload(void)
{
	struct sbc_config *next;
	struct config_diff d;
	char msg[512];
	int err;

	next = mem_zalloc(sizeof(*next), NULL);
	if (!next)
		return ENOMEM;

	err = config_load(next, sbc.path, msg, sizeof(msg));
	if (err) {
		log_err("sbc", "reload: %s; keeping the running "
			"configuration", msg);
		goto out;
	}

	config_diff(&d, &sbc.cfg, next);
	if (!d.live && !d.restart) {
		log_info("sbc", "reload: %s: nothing changed", sbc.path);
		goto out;
	}
	if (d.restart)
		log_keys(LOG_LVL_WARN, "changed but needs a restart (the old "
			 "values stay in use)", d.restart);

	if (d.live & CONFIG_BIT(CONFIG_K_MEDIA_NG)) {
		err = media_reconfigure(&next->media_ng);
		if (err) {
			log_err("sbc", "reload: media_ng: %s; keeping the "
				"running configuration", strerror(err));
			(void)media_reconfigure(&sbc.cfg.media_ng);
			goto out;
		}
	}

	config_apply_live(&sbc.cfg, next);
	log_set_level(effective_level(sbc.cfg.log_level));
	if (d.live)
		log_keys(LOG_LVL_INFO, "applied", d.live);
 out:
	mem_deref(next);
	return err;
}

struct sqlite3 *sbc_dbh(void)
{
	return sbc.db ? db_handle(sbc.db) : NULL;
}

const struct sbc_config *sbc_config(void)
{
	return &sbc.cfg;
}

void sbc_health(struct sbc_health *h)
{
	if (!h)
		return;
	h->mediad_up = media_up();
	h->shm_attached = shmc_attached();
	h->draining = sbc.draining;
	h->uptime_s = (clock_ms() - sbc.start_ms) / 1000;
}

int sbc_metrics(struct re_printf *pf, void *unused)
{
	struct metrics_proc p;
	int err;

	(void)unused;

	memset(&p, 0, sizeof(p));
	p.start_unix_ms = sbc.start_unix_ms;
	(void)metrics_proc_read(&p);

	err = stats_metrics(pf, NULL);
	err |= b2bua_metrics(pf, NULL);
	err |= cdr_metrics(pf, NULL);
	err |= registrar_metrics(pf, NULL);
	err |= trunk_metrics(pf, NULL);
	err |= shmc_metrics(pf, NULL);
	err |= metrics_proc_print(pf, &p);
	return err;
}

int sbc_debug(struct re_printf *pf, void *unused)
{
	int err;

	(void)unused;

	err = re_hprintf(pf, "sbc: uptime=%llus draining=%s\n",
			 (unsigned long long)(clock_ms() - sbc.start_ms) /
			 1000, sbc.draining ? "yes" : "no");
	err |= re_hprintf(pf, "%H\n", db_debug, sbc.db);
	err |= re_hprintf(pf, "%H\n", media_debug, NULL);
	err |= re_hprintf(pf, "%H\n", shmc_debug, NULL);
	err |= re_hprintf(pf, "%H\n", sipsrv_debug, NULL);
	err |= re_hprintf(pf, "%H\n", b2bua_debug, NULL);
	err |= re_hprintf(pf, "%H\n", registrar_debug, NULL);
	err |= re_hprintf(pf, "%H\n", trunk_debug, NULL);
	err |= re_hprintf(pf, "stats: %H\n", stats_debug, NULL);
	err |= re_hprintf(pf, "%H\n", api_debug, NULL);
	return err;
}
