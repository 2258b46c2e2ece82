/* Unit tests for src/relcache.c. */
#include "autoconf.h"
#include <check.h>
#include <stdlib.h>
int main(void) { return EXIT_SUCCESS; }
