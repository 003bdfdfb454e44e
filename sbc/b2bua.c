/* sbc/b2bua.c  (being written) */
#include "b2bua.h"
