/* Files replaced whole, so a crash leaves either the old or the new one. */
#ifndef TABLECAST_SRC_FILE_H
#define TABLECAST_SRC_FILE_H

#include <stddef.h>

/*
 * Write data to <path>.tmp, flush it to disk and rename it over path: a
 * private file, mode 0600 whatever the umask. Returns 0, or -1 with
 * "<what> <path>: <reason>" in err (the temporary file removed).
 */
int file_replace(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/* file_replace for a file meant to be shared (generated schemas): 0666 less the umask. */
int file_publish(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/*
 * Create the state directory (mode 0750) unless it exists. Returns 0, or -1
 * with "state_dir <dir>: <reason>" in err.
 */
int file_state_dir(const char *dir, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
