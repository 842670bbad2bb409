/* The transitions of one what-if run, for the console's overlay (see
 * whatif.h): what the run decided, handed out by dependency name. Kept
 * apart from the reading (whatif.c) and the simulation (whatif_sim.c). */
#include <stdlib.h>
#include <string.h>

#include "whatif_impl.h"

long fb_whatif_moves(const fb_whatif *w, const char *dep, int run,
                     fb_whatif_move **out)
{
	*out = NULL;
	if (!w->ran || run < 0 || run > w->nsets)
		return -1;
	for (size_t i = 0; i < w->ndeps; i++) {
		const wi_dep *d = &w->deps[i];
		if (strcmp(d->name, dep) != 0)
			continue;
		const wi_run *r = &d->runs[run];
		if (r->n == 0)
			return 0;
		fb_whatif_move *m = malloc(r->n * sizeof *m);
		if (!m)
			return -1;
		for (size_t k = 0; k < r->n; k++)
			m[k] = (fb_whatif_move){r->tr[k].at, r->tr[k].from,
			                        r->tr[k].to};
		*out = m;
		return (long)r->n;
	}
	return -1;
}
