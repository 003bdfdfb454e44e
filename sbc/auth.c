/* sbc/auth.c  (being written) */
#include "auth.h"
