/* mediad/main.c  mediad's command line: -f, -t, -h, -v */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mconf.h"
#include "mediad.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mediad [-htv] [-f file]\n"
		"  -f file  configuration (default: %s)\n"
		"  -t       check the configuration, print \"configuration "
		"OK\" and exit\n"
		"  -v       more verbose logging; repeat for more\n"
		"  -h       this help\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGHUP reloads "
		"the configuration,\nSIGTERM or SIGINT stop, a second one "
		"at once.\n"
		"\n"
		"Configuration keys, with their defaults:\n\n",
		MCONF_PATH_DEFAULT);
	mconf_print_sample(fp);
}

int main(int argc, char **argv)
{
	const char *path = MCONF_PATH_DEFAULT;
	struct mediad *md = NULL;
	struct mconf conf;
	char err[512];
	unsigned verbose = 0;
	bool check = false;
	int c, e;

	while ((c = getopt(argc, argv, "f:htv")) != -1) {
		switch (c) {

		case 'f':
			path = optarg;
			break;

		case 't':
			check = true;
			break;

		case 'v':
			++verbose;
			break;

		case 'h':
			usage(stdout);
			return 0;

		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}

	log_init("mediad", LOG_LVL_INFO);

	/* the whole file is parsed and validated, or nothing runs */
	e = mconf_load(&conf, path, err, sizeof(err));
	if (e) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}

	e = mediad_start(&md, &conf, path, verbose);
	if (e) {
		log_err("mediad", "startup failed: %s", strerror(e));
		return 1;
	}
	e = mediad_run(md);
	mediad_stop(md);
	log_info("mediad", "exiting");
	return e ? 1 : 0;
}
