/* `fusebox check-config [--deps] [FILE]`: load a configuration the way the
 * engine would, and say what it holds (or only its dependency names) or
 * exactly what is wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void fb_cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("fusebox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fb_cli_load_config(const char *explicit_path, fb_config *cfg)
{
	char path[1024];
	fb_error err;
	if (fb_config_locate(explicit_path, path, sizeof path, &err) != 0 ||
	    fb_config_load(path, cfg, &err, NULL) != 0) {
		fb_cli_error("%s", err.text);
		return -1;
	}
	return 0;
}

static void print_dep(const fb_dep_config *d)
{
	char timeout[32], interval[32];
	fb_tunable_format(FB_T_TIMEOUT, d->t[FB_T_TIMEOUT], timeout,
	                  sizeof timeout);
	fb_tunable_format(FB_T_INTERVAL, d->t[FB_T_INTERVAL], interval,
	                  sizeof interval);
	printf("  %-24s %-5s %-8s %s (every %s, timeout %s%s%s)\n", d->name,
	       fb_kind_name(d->kind), d->critical ? "critical" : "", d->url,
	       interval, timeout, d->preset[0] ? ", preset " : "", d->preset);
}

int fb_cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    FB_OPTS_CHECK_CONFIG(FB_X_GETOPT){0}};
	fb_config cfg;
	bool names_only = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c != FB_OPT_DEPS)
			return fb_cli_option_error("check-config", NULL, c,
			                           argc, argv);
		names_only = true;
	}
	if (argc - optind > 1)
		return fb_cli_usage_error("check-config");
	if (fb_cli_load_config(optind < argc ? argv[optind] : NULL, &cfg) != 0)
		return FB_EXIT_CONFIG;
	if (names_only) { /* for scripts and shell completion */
		for (size_t i = 0; i < cfg.ndeps; i++)
			printf("%s\n", cfg.deps[i].name);
		fb_config_free(&cfg);
		return FB_EXIT_OK;
	}
	fb_error err;
	if (fb_config_check_paths(&cfg, &err) != 0) {
		fb_cli_error("%s", err.text);
		fb_config_free(&cfg);
		return FB_EXIT_CONFIG;
	}
	size_t critical = 0;
	for (size_t i = 0; i < cfg.ndeps; i++)
		critical += cfg.deps[i].critical;
	printf("%s: ok: %zu dependenc%s (%zu critical)\n", cfg.path, cfg.ndeps,
	       cfg.ndeps == 1 ? "y" : "ies", critical);
	for (size_t i = 0; i < cfg.ndeps; i++)
		print_dep(&cfg.deps[i]);
	printf("  log %s\n  control socket %s\n", cfg.log, cfg.control_socket);
	if (cfg.metrics_file[0])
		printf("  metrics file %s\n", cfg.metrics_file);
	fb_config_free(&cfg);
	return FB_EXIT_OK;
}
