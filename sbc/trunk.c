/* sbc/trunk.c  (being written) */
#include "trunk.h"
