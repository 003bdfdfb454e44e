/* sbc/main.c  sbc: the signalling daemon (SIP, B2BUA, REST API) on libre */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <re.h>
#define DEBUG_MODULE "sbc"    /* re_dbg.h wants these; we only route */
#define DEBUG_LEVEL  0
#include <re_dbg.h>

#include "config.h"
#include "log.h"
#include "sbc.h"

#define SBC_CONF_DEFAULT "/etc/sbc/sbc.conf"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: sbc [-htv] [-f file]\n"
		"  -f file  configuration (default " SBC_CONF_DEFAULT ")\n"
		"  -t       check the configuration and exit\n"
		"  -v       more verbose (repeatable)\n"
		"  -h       this help\n"
		"\n"
		"signals: TERM/INT drain and stop (twice: stop now), "
		"HUP reload\n"
		"\n"
		"configuration keys (\"key value\" lines, '#' comments):\n");
	config_print_keys(fp);
}

/* libre's own warnings, into our log with its module prefix. */
static void re_log(int level, const char *p, size_t len, void *arg)
{
	(void)arg;

	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		--len;
	log_msg(level <= DBG_WARNING ? LOG_LVL_WARN : LOG_LVL_DEBUG, "re",
		"%.*s", (int)len, p);
}

/* SIGINT/SIGTERM, on the loop's thread (re_main() defers them). */
static void signal_handler(int sig)
{
	log_info("main", "caught %s", strsignal(sig));
	sbc_shutdown();
}

int main(int argc, char *argv[])
{
	static struct sbc_config cfg;
	const char *path = SBC_CONF_DEFAULT;
	unsigned verbose = 0;
	bool test = false;
	char msg[512];
	int c, err, ret = 1;

	while ((c = getopt(argc, argv, "f:htv")) != -1) {
		switch (c) {

		case 'f':
			path = optarg;
			break;

		case 'h':
			usage(stdout);
			return 0;

		case 't':
			test = true;
			break;

		case 'v':
			++verbose;
			break;

		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}

	log_init("sbc", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	/* a peer closing a socket under a write is an error, not a kill */
	signal(SIGPIPE, SIG_IGN);

	err = libre_init();
	if (err) {
		log_err("main", "libre_init: %s", strerror(err));
		return 1;
	}
	dbg_handler_set(re_log, NULL);
	dbg_init(DBG_WARNING, DBG_NONE);

	err = config_load(&cfg, path, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "%s\n", msg);
		goto out;
	}
	if (test) {
		printf("configuration OK\n");
		ret = 0;
		goto out;
	}

	err = sbc_start(&cfg, path, verbose);
	if (err) {
		log_err("main", "start failed: %s", strerror(err));
		goto out;
	}
	err = re_main(signal_handler);
	sbc_stop();
	if (err)
		log_err("main", "main loop: %s", strerror(err));
	else
		log_info("main", "stopped");
	ret = err ? 1 : 0;
 out:
	libre_close();

	/* with a debug build of libre: leaks and timers left, if any */
	tmr_debug();
	mem_debug();
	return ret;
}
