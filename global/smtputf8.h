/*
 * NAME
 *   smtputf8 - does an envelope address need SMTPUTF8?
 *
 * SYNOPSIS
 *   if (!smtputf8_requested && smtputf8_address(addr)) ... 553 / no relay ...
 *
 * DESCRIPTION
 *   An address with a byte of 0x80 or more is UTF-8 (or worse) and may
 *   travel only in a transaction with MAIL ... SMTPUTF8 (RFC 6531 3.4).
 *   smtpd refuses such an address without it; smtp asks for SMTPUTF8
 *   when the envelope needs it.
 */
#ifndef GLOBAL_SMTPUTF8_H
#define GLOBAL_SMTPUTF8_H

/* True when addr holds a byte >= 0x80. */
int smtputf8_address(const char *addr);

#endif
