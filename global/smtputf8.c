/*
 * smtputf8 - does an envelope address need SMTPUTF8? (see smtputf8.h)
 */
#include "global/smtputf8.h"

int smtputf8_address(const char *addr)
{
    for (; *addr; addr++)
        if ((unsigned char)*addr >= 0x80)
            return 1;
    return 0;
}
