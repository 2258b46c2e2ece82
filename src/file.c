/* Files replaced whole, so a crash leaves either the old or the new one. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

int file_replace(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen)
{
	size_t tlen = strlen(path) + 5;
	char *tmp = malloc(tlen);
	if (!tmp) {
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		return -1;
	}
	snprintf(tmp, tlen, "%s.tmp", path);
	/* State files are the operator's business alone: 0600, whatever the umask. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	bool ok = f && fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f && fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}
