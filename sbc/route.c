/* sbc/route.c  (being written) */
#include "route.h"
