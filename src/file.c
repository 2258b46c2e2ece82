/* Files replaced whole, so a crash leaves either the old or the new one. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* no progress and no reason: say it failed */
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static int replace(const char *path, const void *data, size_t len, mode_t mode, const char *what,
		   char *err, size_t errlen)
{
	size_t tlen = strlen(path) + 5;
	char *tmp = malloc(tlen);
	if (!tmp) {
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		return -1;
	}
	snprintf(tmp, tlen, "%s.tmp", path);
	/*
	 * The mode is set at creation: no moment when a private file is readable
	 * by others. A leftover temporary file would keep its own mode: remove it.
	 */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	/*
	 * write(2), not stdio: the resume file is replaced several times a
	 * second while streaming, and stdio's buffer is an allocation big
	 * enough to make malloc sweep every small free chunk of the process.
	 */
	bool ok = fd >= 0 && write_all(fd, data, len) && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
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

/* State (slot identity, snapshot and backfill progress) is the service's own: 0600. */
int file_replace(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen)
{
	return replace(path, data, len, S_IRUSR | S_IWUSR, what, err, errlen);
}

int file_publish(const char *path, const void *data, size_t len, const char *what, char *err,
		 size_t errlen)
{
	return replace(path, data, len, 0666, what, err, errlen);
}

int file_state_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}
