/* `fusebox replay LOG... --what-if KEY=VALUE[,...]`: the command's side
 * of the what-if (whatif.h): options, today's settings, the run. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "whatif.h"

struct fb_cli_whatif {
	fb_config cfg;
	bool has_cfg;
	fb_whatif *w;
	bool failed; /* out of memory while feeding */
};

int fb_cli_whatif_arg(const char *text, fb_whatif_set *sets, int *n)
{
	char err[512];
	if (*n == FB_WHATIF_SETS) {
		fb_cli_error("replay: at most %d --what-if sets",
		             FB_WHATIF_SETS);
		return -1;
	}
	if (fb_whatif_parse_set(text, &sets[*n], err, sizeof err) != 0) {
		fb_cli_error("replay: %s", err);
		return -1;
	}
	(*n)++;
	return 0;
}

int fb_cli_whatif_new(fb_cli_whatif **out, const char *config,
                      const fb_whatif_set *sets, int n)
{
	char path[512];
	fb_error err;
	fb_cli_whatif *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c) {
		fb_cli_error("replay: out of memory");
		return -1;
	}
	if (fb_config_locate(config, path, sizeof path, &err) == 0) {
		if (fb_config_load(path, &c->cfg, &err, NULL) != 0) {
			fb_cli_error("%s", err.text);
			free(c);
			return -1;
		}
		c->has_cfg = true;
	} else if (config) {
		fb_cli_error("%s", err.text);
		free(c);
		return -1;
	} else {
		path[0] = '\0';
	}
	c->w = fb_whatif_new(c->has_cfg ? &c->cfg : NULL, path, sets, n);
	if (!c->w) {
		fb_cli_error("replay: out of memory");
		if (c->has_cfg)
			fb_config_free(&c->cfg);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void fb_cli_whatif_add(fb_cli_whatif *c, const fb_log_event *ev)
{
	if (!c->failed && fb_whatif_add(c->w, ev) != 0)
		c->failed = true;
}

int fb_cli_whatif_end(fb_cli_whatif *c, fb_summary_format format)
{
	int rc = 0;
	if (c->failed || fb_whatif_run(c->w) != 0) {
		fb_cli_error(
		    "replay: --what-if: out of memory (or more than %u "
		    "points)",
		    FB_WHATIF_POINTS);
		rc = -1;
	} else {
		fb_whatif_print(c->w, format);
	}
	fb_whatif_free(c->w);
	if (c->has_cfg)
		fb_config_free(&c->cfg);
	free(c);
	return rc;
}
