/* tests/fuzz/replay.c  libFuzzer stand-in: corpus, then seeded random inputs */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

#define INPUT_MAX     (64 * 1024)
#define REPLAY_SECS   3             /* bound for the generated inputs */
#define REPLAY_ITERS  200000

struct seed {
	uint8_t *data;
	size_t   len;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same sequence on every run, so failures reproduce */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int load(const char *path, struct seed *s)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp)
		return errno;
	s->data = malloc(INPUT_MAX);
	if (!s->data) {
		fclose(fp);
		return ENOMEM;
	}
	n = fread(s->data, 1, INPUT_MAX, fp);
	fclose(fp);
	s->len = n;
	return 0;
}

/* Bytes that matter to the targets: bencode syntax and edge values. */
static uint8_t interesting(void)
{
	static const char set[] = "ilde:0123456789-\x00\xff\x7f\x80 ";

	return (uint8_t)set[rnd() % (sizeof(set) - 1)];
}

/* One mutation of <src> into <dst>; returns the new length. */
static size_t mutate(uint8_t *dst, const struct seed *src,
		     const struct seed *other)
{
	size_t len = src->len, i, n, at;

	memcpy(dst, src->data, len);
	n = 1 + rnd() % 4;
	while (n--) {
		at = len ? rnd() % len : 0;
		switch (rnd() % 7) {
		case 0:                 /* flip a bit */
			if (len)
				dst[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:                 /* set a byte */
			if (len)
				dst[at] = interesting();
			break;
		case 2:                 /* insert a byte */
			if (len < INPUT_MAX) {
				memmove(dst + at + 1, dst + at, len - at);
				dst[at] = interesting();
				++len;
			}
			break;
		case 3:                 /* delete a byte */
			if (len) {
				memmove(dst + at, dst + at + 1, len - at - 1);
				--len;
			}
			break;
		case 4:                 /* truncate */
			len = at;
			break;
		case 5:                 /* splice in part of another seed */
			if (other->len) {
				size_t from = rnd() % other->len;
				size_t cnt = rnd() % (other->len - from + 1);

				if (cnt > INPUT_MAX - at)
					cnt = INPUT_MAX - at;
				memcpy(dst + at, other->data + from, cnt);
				if (at + cnt > len)
					len = at + cnt;
			}
			break;
		case 6:                 /* duplicate a range */
			i = len ? rnd() % (len - at + 1) : 0;
			if (len + i <= INPUT_MAX) {
				memmove(dst + at + i, dst + at, len - at);
				len += i;
			}
			break;
		}
	}
	return len;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct seed *seeds = NULL;
	char **names = NULL, path[4096];
	size_t nseeds = 0, nnames = 0, i, iters = 0;
	struct dirent *de;
	uint8_t *buf;
	uint64_t deadline;
	DIR *dir;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
		return 2;
	}
	dir = opendir(argv[1]);
	if (!dir) {
		perror(argv[1]);
		return 2;
	}
	while ((de = readdir(dir))) {
		char **nn;

		if (de->d_name[0] == '.')
			continue;
		nn = realloc(names, (nnames + 1) * sizeof(*names));
		if (!nn)
			return 2;
		names = nn;
		names[nnames] = strdup(de->d_name);
		if (!names[nnames++])
			return 2;
	}
	closedir(dir);
	qsort(names, nnames, sizeof(*names), cmp_names);

	seeds = calloc(nnames + 1, sizeof(*seeds));
	buf = malloc(INPUT_MAX);
	if (!seeds || !buf)
		return 2;
	for (i = 0; i < nnames; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		if (load(path, &seeds[nseeds])) {
			perror(path);
			return 2;
		}
		/* an exact-size heap copy: ASan sees any overread */
		{
			uint8_t *exact = malloc(seeds[nseeds].len + 1);

			if (!exact)
				return 2;
			memcpy(exact, seeds[nseeds].data, seeds[nseeds].len);
			LLVMFuzzerTestOneInput(exact, seeds[nseeds].len);
			free(exact);
		}
		++nseeds;
		free(names[i]);
	}
	free(names);

	deadline = now_ms() + REPLAY_SECS * 1000;
	{
		size_t max = argc > 2 ? strtoul(argv[2], NULL, 10) :
			REPLAY_ITERS;

		for (iters = 0; iters < max; iters++) {
			size_t len;
			uint8_t *exact;

			if (iters % 256 == 0 && now_ms() > deadline)
				break;
			if (!nseeds || iters % 4 == 0) {
				len = rnd() % 512;
				for (i = 0; i < len; i++)
					buf[i] = iters % 8 ? interesting() :
						(uint8_t)rnd();
			}
			else {
				const struct seed *s = &seeds[rnd() % nseeds];
				const struct seed *o = &seeds[rnd() % nseeds];

				len = mutate(buf, s, o);
			}
			exact = malloc(len ? len : 1);
			if (!exact)
				return 2;
			memcpy(exact, buf, len);
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
		}
	}

	printf("%s: %zu corpus files, %zu generated inputs\n", argv[0],
	       nseeds, iters);
	for (i = 0; i < nseeds; i++)
		free(seeds[i].data);
	free(seeds);
	free(buf);
	return 0;
}
