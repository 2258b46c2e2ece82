/* Files replaced whole, so a crash leaves either the old or the new one. */
#ifndef TABLECAST_SRC_FILE_H
#define TABLECAST_SRC_FILE_H

#include <stddef.h>

/*
 * Write data to <path>.tmp, flush it to disk and rename it over path.
 * Returns 0, or -1 with "<what> <path>: <reason>" in err (the temporary
 * file removed).
 */
int file_replace(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/* The same, the new file created with mode (before the umask), e.g. 0600 for private state. */
int file_replace_mode(const char *path, const void *data, size_t len, unsigned mode,
		      const char *what, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
