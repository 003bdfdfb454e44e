/* sbc/cdr.c  (being written) */
#include "cdr.h"
