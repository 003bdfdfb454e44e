/* sbc/digest.c  (being written) */
#include "digest.h"
