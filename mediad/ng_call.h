/* mediad/ng_call.h  NG offer, answer, delete, query, list */
#ifndef MEDIAD_NG_CALL_H
#define MEDIAD_NG_CALL_H

#include "ngcmd.h"

/* Command handlers for ngcmd's table (contract: ngcmd.h, ng_cmd_h). */
ng_cmd_h ng_offer;
ng_cmd_h ng_answer;
ng_cmd_h ng_delete;
ng_cmd_h ng_query;
ng_cmd_h ng_list;

#endif
