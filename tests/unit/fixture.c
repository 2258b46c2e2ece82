/* placeholder */
#include "fixture.h"
