/*
 * sys_exits - what a command's exit status means for the mail it was given
 *
 * SYNOPSIS
 *   const sys_exit_info *e = sys_exit_lookup(status);
 *   if (e != NULL) ... e->dsn ("4.3.0"), e->text ("temporary failure") ...
 *
 * DESCRIPTION
 *   The sysexits.h codes a delivery command (procmail, a vacation
 *   program, a mailing-list manager) returns, with the enhanced status
 *   code and text Postfix gives them. A 4.x.x code defers the mail, a
 *   5.x.x code bounces it. Codes not in the table (1, 2, 100...) are
 *   reported as "unknown mail system error N": a bounce with 5.3.0.
 */
#ifndef GLOBAL_SYS_EXITS_H
#define GLOBAL_SYS_EXITS_H

typedef struct sys_exit_info {
    int status;       /* EX_TEMPFAIL */
    const char *dsn;  /* "4.3.0" */
    const char *text; /* "temporary failure" */
} sys_exit_info;

/* Every sysexits.h code; ends with text NULL. */
extern const sys_exit_info sys_exit_table[];

/* The row for status, or NULL. */
const sys_exit_info *sys_exit_lookup(int status);
/* True when status (a sysexits.h code) means "try again later". */
int sys_exit_is_soft(int status);

#endif
