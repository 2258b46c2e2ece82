/* libFuzzer target: arbitrary bytes as a whole configuration file (libconfig, checks, expressions). */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* cfg_load reads a path, as the daemon does: one file, rewritten per input. */
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "fuzz_config.%ld.cfg", (long)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	char err[1024];
	struct Config *cfg = cfg_load(path, err, sizeof(err));
	cfg_free(cfg);
	unlink(path);
	return 0;
}
