/* api/www.h  The dashboard's static files, embedded at build time */
#ifndef API_WWW_H
#define API_WWW_H

#include <stddef.h>

/*
 * One file of api/www/, served at <path> ("/app.js"; "/" is
 * /index.html). api/embed.py writes the table into the build directory
 * (www.c), so the files live in the sbc binary and need no path at run
 * time. Everything is static and read-only.
 */
struct www_file {
	const char          *path;
	const char          *ctype;
	const unsigned char *data;
	size_t               len;
};

extern const struct www_file www_files[];
extern const size_t          www_nfiles;

#endif
