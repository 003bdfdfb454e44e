/* tests/unit/sbc/loop_wait.c  Run libre's loop until a condition holds */
#include <re.h>

#include "loop_wait.h"

static bool (*wait_cond)(void);
static struct tmr wait_poll, wait_limit;
static bool waited_ok;

static void poll_h(void *arg)
{
	(void)arg;

	if (wait_cond()) {
		waited_ok = true;
		re_cancel();
		return;
	}
	tmr_start(&wait_poll, 20, poll_h, NULL);
}

static void limit_h(void *arg)
{
	(void)arg;
	re_cancel();
}

bool loop_wait_for(bool (*cond)(void), uint64_t ms)
{
	wait_cond = cond;
	waited_ok = false;
	tmr_start(&wait_poll, 0, poll_h, NULL);
	tmr_start(&wait_limit, ms, limit_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&wait_poll);
	tmr_cancel(&wait_limit);
	return waited_ok;
}
