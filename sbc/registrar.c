/* sbc/registrar.c  (being written) */
#include "registrar.h"
