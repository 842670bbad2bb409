/* `fusebox replay LOG... [--from T] [--to T] [--dep NAME]... [--kind K]
 * [--json] [--summary [--markdown]]`: the timeline of one or more logs
 * (merged by time), or the incident report. */
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "core/parse.h"
#include "eventlog.h"
#include "replay.h"
#include "whatif.h"

#define MAX_FILTER  32
#define WHATIF_SPAN (4u << 20) /* bytes of a log read at once */

typedef struct filter {
	int64_t from, to; /* INT64_MIN / INT64_MAX when open */
	const char *deps[MAX_FILTER];
	int ndeps;
	char needles[MAX_FILTER][96]; /* "dep":"NAME" for literal names */
	int nneedles;                 /* 0: every line must be parsed */
	bool kinds[FB_EV_COUNT];
	bool any_kind;
	char kind_needles[FB_EV_COUNT][32];
	size_t kind_lens[FB_EV_COUNT]; /* of each needle; 0 when not selected */
	bool gate_context; /* --summary --dep: gate events pass --dep */
} filter;

typedef struct source {
	fb_log_reader r;
	fb_log_event ev;
	bool has;
	fb_log_scan
	    *scan; /* --what-if: lines read without cJSON when they can */
} source;

/* ---- options ----------------------------------------------------------- */

/* RFC 3339, HH:MM:SS (UTC, today), or relative to now: "-15m", "-2h".
 * Says what is wrong with a bad one. */
static int parse_time(const char *opt, const char *s, int64_t *out)
{
	const char *why;
	int64_t now = fb_wall_ms();
	if (fb_parse_when(s, now, now, out, &why) == 0)
		return 0;
	fb_cli_error("replay: bad time '%s' for --%s: %s (RFC 3339, HH:MM:SS "
	             "UTC today, or like -15m)",
	             s, opt, why);
	return -1;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int add_dep(filter *f, const char *name)
{
	if (f->ndeps == MAX_FILTER)
		return -1;
	f->deps[f->ndeps++] = name;
	return 0;
}

/* Literal names let a line be ruled out without parsing it. */
static void make_needles(filter *f)
{
	f->nneedles = 0;
	for (int i = 0; i < f->ndeps; i++) {
		if (is_glob(f->deps[i]) || strlen(f->deps[i]) > 80) {
			f->nneedles = 0;
			return;
		}
		snprintf(f->needles[f->nneedles++], sizeof f->needles[0],
		         "\"dep\":\"%s\"", f->deps[i]);
	}
}

/* ---- selection --------------------------------------------------------- */

static const char gap_needle[] = "\"kind\":\"gap\"";
static const char gate_needle[] = "\"kind\":\"gate\"";
static const char kind_needle[] = "\"kind\":\""; /* how every kind's starts */

/* A gap passes --dep: the events it stands for may have been of it; so
 * does a gate event with gate_context, for the summary to weigh. */
static bool line_may_match(const filter *f, const char *line, size_t len)
{
	bool dep_ok = f->nneedles == 0 ||
	              memmem(line, len, gap_needle, sizeof gap_needle - 1) ||
	              (f->gate_context &&
	               memmem(line, len, gate_needle, sizeof gate_needle - 1));
	for (int i = 0; i < f->nneedles && !dep_ok; i++)
		dep_ok = memmem(line, len, f->needles[i],
		                strlen(f->needles[i])) != NULL;
	if (!dep_ok)
		return false;
	if (f->any_kind)
		return true;
	/* each kind needle is "kind":" then the name and a quote: found
	 * where that start is, by its k (memchr() outruns memmem()) */
	size_t pre = sizeof kind_needle - 1;
	for (const char *q = line + 1, *end = line + len;
	     q < end && (q = memchr(q, 'k', (size_t)(end - q))); q++) {
		const char *p = q - 1;
		if ((size_t)(end - p) < pre || memcmp(p, kind_needle, pre))
			continue;
		for (int k = 0; k < FB_EV_COUNT; k++) {
			size_t n = f->kind_lens[k];
			if (n && (size_t)(end - p) >= n &&
			    p[pre] == f->kind_needles[k][pre] &&
			    !memcmp(p + pre, f->kind_needles[k] + pre, n - pre))
				return true;
		}
	}
	return false;
}

static bool event_matches(const filter *f, const fb_log_event *ev)
{
	if (ev->ts_ms < f->from || ev->ts_ms > f->to)
		return false;
	if (!f->any_kind && !f->kinds[ev->kind])
		return false;
	if (f->ndeps == 0 || ev->kind == FB_EV_GAP ||
	    (f->gate_context && ev->kind == FB_EV_GATE))
		return true;
	for (int i = 0; i < f->ndeps && ev->dep; i++) {
		if (fnmatch(f->deps[i], ev->dep, 0) == 0)
			return true;
	}
	return false;
}

/* Advances a source to its next selected event. */
static void advance(source *s, const filter *f)
{
	const char *line;
	size_t len;
	if (s->has)
		cJSON_Delete(s->ev.json);
	s->has = false;
	while (fb_log_reader_line(&s->r, &line, &len)) {
		if (!line_may_match(f, line, len)) {
			fb_log_check_shape(&s->r, line, len);
			continue;
		}
		if (!(s->scan &&
		      fb_log_event_scan(&s->r, line, len, &s->ev, s->scan)) &&
		    fb_log_event_parse(&s->r, line, len, &s->ev) != 0)
			continue;
		if (event_matches(f, &s->ev)) {
			s->has = true;
			return;
		}
		cJSON_Delete(s->ev.json);
	}
}

/* The source whose event comes first: by time, then host, then seq. */
static source *earliest(source *src, int n)
{
	source *best = NULL;
	for (int i = 0; i < n; i++) {
		if (!src[i].has)
			continue;
		if (!best || src[i].ev.ts_ms < best->ev.ts_ms ||
		    (src[i].ev.ts_ms == best->ev.ts_ms &&
		     src[i].ev.seq < best->ev.seq))
			best = &src[i];
	}
	return best;
}

/* ---- the timeline ------------------------------------------------------ */

void fb_cli_print_event(const fb_log_event *ev, bool colour)
{
	static const char *const paint[] = {[FB_TONE_PLAIN] = "",
	                                    [FB_TONE_GOOD] = "\033[32m",
	                                    [FB_TONE_WARN] = "\033[33m",
	                                    [FB_TONE_BAD] = "\033[1;31m",
	                                    [FB_TONE_FORCED] = "\033[35m"};
	char ts[40], text[768];
	fb_event e;
	fb_log_event_as_event(ev, &e);
	fb_format_rfc3339(ev->ts_ms, ts, sizeof ts);
	fb_event_describe(&e, text, sizeof text);
	printf("%s  %-10.10s  %s%s%s\n", ts, ev->host ? ev->host : "-",
	       colour ? paint[fb_event_tone(&e)] : "", text,
	       colour ? "\033[0m" : "");
}

static void emit(const fb_log_event *ev, bool json, bool colour)
{
	if (json) {
		fwrite(ev->raw, 1, ev->raw_len, stdout);
		putchar('\n');
	} else {
		fb_cli_print_event(ev, colour);
	}
}

/* ---- the command ------------------------------------------------------- */

typedef struct replay_opts {
	filter f;
	bool json, summary, markdown, redis;
	const char *config;
	int first_file;
	fb_whatif_set sets[FB_WHATIF_SETS]; /* --what-if */
	int nsets;
} replay_opts;

static void select_kind(filter *f, fb_event_kind kind)
{
	f->any_kind = false;
	f->kinds[kind] = true;
	snprintf(f->kind_needles[kind], sizeof f->kind_needles[0],
	         "\"kind\":\"%s\"", fb_event_kind_name(kind));
	f->kind_lens[kind] = strlen(f->kind_needles[kind]);
}

/* --kind NAME, or a line naming the kinds there are. */
static int add_kind(filter *f, const char *name)
{
	char known[256];
	size_t n = 0;
	fb_event_kind kind;
	if (fb_event_kind_parse(name, &kind) == 0) {
		select_kind(f, kind);
		return 0;
	}
	known[0] = '\0';
	for (int k = 0; k < FB_EV_COUNT && n < sizeof known; k++)
		n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
		                      k ? ", " : "",
		                      fb_event_kind_name((fb_event_kind)k));
	fb_cli_error("replay: unknown event kind '%s' (known: %s)", name,
	             known);
	return -1;
}

/* Returns 0; -1 after one line on what is wrong (the caller adds the
 * usage); -2 after that line and the usage. */
static int parse_args(int argc, char **argv, replay_opts *o)
{
	static const struct option opts[] = {FB_OPTS_REPLAY(FB_X_GETOPT){0}};
	int c;
	memset(o, 0, sizeof *o);
	o->f.from = INT64_MIN;
	o->f.to = INT64_MAX;
	o->f.any_kind = true;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		int bad = 0;
		switch (c) {
		case 'f': bad = parse_time("from", optarg, &o->f.from); break;
		case 't': bad = parse_time("to", optarg, &o->f.to); break;
		case 'd':
			if ((bad = add_dep(&o->f, optarg)) != 0)
				fb_cli_error("replay: at most %d --dep",
				             MAX_FILTER);
			break;
		case 'k': bad = add_kind(&o->f, optarg); break;
		case 'j': o->json = true; break;
		case 's': o->summary = true; break;
		case 'm': o->markdown = true; break;
		case 'R': o->redis = true; break;
		case 'c': o->config = optarg; break;
		case 'w':
			if (fb_cli_whatif_arg(optarg, o->sets, &o->nsets) != 0)
				return -2; /* said in one line */
			break;
		default:
			fb_cli_option_error("replay", NULL, c, argc, argv);
			return -2;
		}
		if (bad)
			return -1;
	}
	o->first_file = optind;
	o->f.gate_context = o->summary && o->f.ndeps > 0;
	/* --what-if reads only what moves a breaker: others go unparsed */
	static const fb_event_kind need[] = {FB_EV_START, FB_EV_TRANSITION,
	                                     FB_EV_OPERATOR, FB_EV_OUTCOMES};
	bool every_kind = o->f.any_kind;
	for (size_t i = 0; o->nsets && every_kind && i < 4; i++)
		select_kind(&o->f, need[i]);
	make_needles(&o->f);
	bool md_ok = !o->markdown || o->summary || o->nsets;
	bool logs = optind < argc;
	if (!logs && !o->redis)
		fb_cli_error("replay: no LOG to read");
	else if (logs && o->redis)
		fb_cli_error(
		    "replay: --redis reads the fleet's stream, not LOG "
		    "files");
	else if (!md_ok)
		fb_cli_error(
		    "replay: --markdown is for --summary or --what-if");
	return logs != o->redis && md_ok ? 0 : -1;
}

/* Why there is nothing to replay, a line per log. */
static void say_no_events(const source *src, int n)
{
	for (int i = 0; i < n; i++) {
		if (src[i].r.line == 0)
			fb_cli_error("%s: empty: no events to replay",
			             src[i].r.path);
		else
			fb_cli_error("%s: no valid event in %ld line%s",
			             src[i].r.path, src[i].r.line,
			             src[i].r.line == 1 ? "" : "s");
	}
}

/* Closes the logs and frees src. */
static void close_all(source *src, int n)
{
	for (int i = 0; i < n; i++) {
		fb_log_reader_close(&src[i].r);
		free(src[i].scan);
	}
	free(src);
}

int fb_cmd_replay(int argc, char **argv)
{
	replay_opts o;
	char err[600];
	int bad = parse_args(argc, argv, &o);
	if (bad == -1)
		return fb_cli_usage_error("replay");
	if (bad)
		return FB_EXIT_USAGE;
	if (o.redis)
		return fb_replay_redis(argc, argv, o.config);
	int n = argc - o.first_file;
	source *src = calloc((size_t)n, sizeof *src);
	if (!src)
		return FB_EXIT_FAIL;
	for (int i = 0; i < n; i++) {
		/* the what-if keeps nothing of a line once fed: the log is
		 * read a span at a time */
		const char *path = argv[o.first_file + i];
		if (o.nsets ? fb_log_reader_open_stream(
		                  &src[i].r, path, WHATIF_SPAN, err, sizeof err)
		            : fb_log_reader_open(&src[i].r, path, err,
		                                 sizeof err)) {
			fb_cli_error("%s", err);
			close_all(src, i);
			return FB_EXIT_NOINPUT;
		}
		if (o.nsets && (src[i].scan = calloc(1, sizeof *src[i].scan))) {
			fb_whatif_scan_keys(src[i].scan); /* else parsed */
			src[i].scan->skip = fb_whatif_unread_fields();
		}
	}
	fb_cli_whatif *wi = NULL;
	if (o.nsets && fb_cli_whatif_new(&wi, o.config, o.sets, o.nsets) != 0) {
		close_all(src, n);
		return FB_EXIT_CONFIG;
	}
	fb_summary *sum = o.summary && !wi ? fb_summary_new() : NULL;
	if (sum && o.f.gate_context)
		fb_summary_gate_context(sum);
	if (o.summary && !wi && !sum) {
		close_all(src, n);
		fb_cli_error("replay: out of memory");
		return FB_EXIT_FAIL;
	}
	bool colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (int i = 0; i < n; i++)
		advance(&src[i], &o.f);
	source *s;
	long selected = 0;
	while ((s = earliest(src, n))) {
		if (wi)
			fb_cli_whatif_add(wi, &s->ev);
		else if (sum)
			fb_summary_add(sum, &s->ev);
		else
			emit(&s->ev, o.json, colour);
		/* gate events are context there, not what was asked for */
		selected += !(o.f.gate_context && s->ev.kind == FB_EV_GATE);
		advance(s, &o.f);
	}
	long valid_seen = 0; /* lines not skipped as bad, selected or not */
	for (int i = 0; i < n; i++)
		valid_seen += src[i].r.line - src[i].r.skipped;
	if (valid_seen == 0)
		say_no_events(src, n);
	else if (selected == 0)
		fb_cli_error("replay: no events match");
	close_all(src, n);
	if (wi && fb_cli_whatif_end(wi, o.json       ? FB_SUMMARY_JSON
	                                : o.markdown ? FB_SUMMARY_MARKDOWN
	                                             : FB_SUMMARY_TEXT) != 0)
		valid_seen = -1;
	if (sum) {
		fb_summary_print(sum, o.json       ? FB_SUMMARY_JSON
		                      : o.markdown ? FB_SUMMARY_MARKDOWN
		                                   : FB_SUMMARY_TEXT);
		fb_summary_free(sum);
	}
	fflush(stdout);
	if (valid_seen < 0)
		return FB_EXIT_FAIL;
	return valid_seen > 0 ? FB_EXIT_OK : FB_EXIT_DATAERR;
}
