/*
 * postern_stock - the stock configuration files, compiled in
 *
 * DESCRIPTION
 *   postern init writes these into a new instance. Carrying them in the
 *   binary means init works the same from a build tree, an installed
 *   system or a copied binary, and always writes the files that match the
 *   program. The header is generated from conf/ by admin/embed-files
 *   (admin/module.mk), and regenerated when a file in conf/ changes.
 */
#include "admin/postern.h"
#include "postern_stock.h"

const char *postern_stock_main_cf(void)
{
    return (const char *)stock_main_cf;
}

const char *postern_stock_master_cf(void)
{
    return (const char *)stock_master_cf;
}

const char *postern_stock_aliases(void)
{
    return (const char *)stock_aliases;
}
