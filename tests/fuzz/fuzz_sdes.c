/* tests/fuzz/fuzz_sdes.c  The a=crypto parser (RFC 4568 key-params) on any input */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sdes.h"

/*
 * The input is "<suite> <params>" as sdp.c hands them over (the tag is
 * taken from the input's length). Whatever it is, the parser returns 0,
 * EINVAL or ENOTSUP and never reads past the NUL; a key it accepts
 * prints back to "inline:<40 base64>" that parses to the same key.
 */

static char text[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdes_key k, k2;
	char why[96], buf[SDES_PARAMS_MAX];
	const char *params;
	char *sp;
	int err;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size)
		return 0;             /* sdp.c never passes a NUL */
	sp = strchr(text, ' ');
	if (sp) {
		*sp = '\0';
		params = sp + 1;
	}
	else
		params = "";

	err = sdes_parse(&k, (uint32_t)size, text, params, why, sizeof(why));
	if (err && err != EINVAL && err != ENOTSUP)
		abort();
	if (err)
		return 0;
	if (k.suite == SDES_SUITE_NONE || k.tag != (uint32_t)size)
		abort();
	if (sdes_params_print(&k, buf, sizeof(buf)) ||
	    strlen(buf) != 7 + SDES_B64_LEN)
		abort();
	if (sdes_parse(&k2, 1, sdes_suite_name(k.suite), buf, NULL, 0) ||
	    !sdes_key_eq(&k, &k2))
		abort();
	return 0;
}
