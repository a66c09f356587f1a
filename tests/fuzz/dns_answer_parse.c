/*
 * Fuzz target for the DNS answer parser (global/dns): any bytes as a
 * response, parsed for each record type the lookups ask for.
 *
 * Checks beyond "no crash, no leak": DNS_OK always comes with records,
 * every other status with none, and A/AAAA data has its fixed length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "global/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_PTR, DNS_T_TXT, DNS_T_TLSA};

    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        dns_answer a;
        dns_status st = dns_answer_parse(data, size, types[t], &a);

        if ((st == DNS_OK) != (a.count > 0))
            abort();
        for (size_t i = 0; i < a.count; i++)
            if ((types[t] == DNS_T_A && a.rr[i].len != 4) ||
                (types[t] == DNS_T_AAAA && a.rr[i].len != 16) || a.rr[i].data[a.rr[i].len] != 0)
                abort();
        dns_answer_free(&a);
    }
    return 0;
}
