/* The Prometheus text exposition (0.0.4) of a metrics document. Needs
 * only cJSON and the state names: the front can print it without the
 * engine.
 *
 * Names follow the Prometheus conventions: the fusebox_ prefix, base
 * units (seconds), _total on counters, lowercase labels. A state is a
 * set of 0/1 series, one per possible value, so `== 1` selects the
 * current one and every value can be graphed. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebox/state.h"
#include "metrics.h"

#define OUT_CAP (64u << 20) /* an exposition larger than this is refused */

#define UP_HELP                                                                \
	"# HELP fusebox_up Whether a fusebox engine answered (1) or no "       \
	"instance did (0).\n# TYPE fusebox_up gauge\n"

/* ---- the output buffer ------------------------------------------------- */

typedef struct out {
	char *p;
	size_t len, cap;
	bool failed;
} out;

static void put_n(out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *p = cap <= OUT_CAP ? realloc(o->p, cap) : NULL;
		if (!p) {
			o->failed = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put(out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(out *o, const char *s)
{
	for (const char *run = s;; s++) {
		const char *esc = *s == '\\'   ? "\\\\"
		                  : *s == '"'  ? "\\\""
		                  : *s == '\n' ? "\\n"
		                               : NULL;
		if (!esc && *s)
			continue;
		put_n(o, run, (size_t)(s - run));
		if (!*s)
			return;
		put(o, esc);
		run = s + 1;
	}
}

/* A sample value, independent of the locale: the console runs under
 * LC_ALL, and a decimal comma would break every parser. */
static void put_value(out *o, double v)
{
	char buf[48];
	if (isnan(v)) {
		snprintf(buf, sizeof buf, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, sizeof buf, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 9e15) {
		snprintf(buf, sizeof buf, "%lld", (long long)v);
	} else if (fabs(v) < 9e12) { /* micro-units fit an int64 */
		long long u = llround(fabs(v) * 1e6);
		int n = snprintf(buf, sizeof buf, "%s%lld.%06lld",
		                 v < 0 ? "-" : "", u / 1000000, u % 1000000);
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	} else {
		snprintf(buf, sizeof buf, "%.0f", v); /* no radix character */
	}
	put(o, buf);
}

/* ---- families and samples ---------------------------------------------- */

/* A metric family. Its HELP and TYPE lines go out with its first sample,
 * so a family with no data leaves no trace. */
typedef struct family {
	const char *name, *type, *help;
	bool started;
} family;

typedef struct label {
	const char *name, *value;
} label;

static void sample(out *o, family *f, const label *labels, size_t n, double v)
{
	if (!f->started) {
		put(o, "# HELP ");
		put(o, f->name);
		put(o, " ");
		put(o, f->help);
		put(o, "\n# TYPE ");
		put(o, f->name);
		put(o, " ");
		put(o, f->type);
		put(o, "\n");
		f->started = true;
	}
	put(o, f->name);
	for (size_t i = 0; i < n; i++) {
		put(o, i ? "," : "{");
		put(o, labels[i].name);
		put(o, "=\"");
		put_label_value(o, labels[i].value);
		put(o, "\"");
	}
	put(o, n ? "} " : " ");
	put_value(o, v);
	put(o, "\n");
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *num_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v : NULL;
}

/* One sample of a family when the document has the number. */
static void number(out *o, family *f, const label *l, size_t n,
                   const cJSON *from, const char *key)
{
	const cJSON *v = num_of(from, key);
	if (v)
		sample(o, f, l, n, v->valuedouble);
}

/* A state set: one series per name in `names` (NULL-terminated), 1 for
 * `current` and 0 for the rest. A current value the list lacks (a newer
 * instance) gets a series of its own, so exactly one series is 1. */
static void state_set(out *o, family *f, label *l, size_t n,
                      const char *const *names, const char *current)
{
	bool listed = false;
	for (; *names; names++) {
		bool on = current && strcmp(*names, current) == 0;
		listed = listed || on;
		l[n].value = *names;
		sample(o, f, l, n + 1, on);
	}
	if (current && !listed) {
		l[n].value = current;
		sample(o, f, l, n + 1, 1);
	}
}

/* ---- the label sets ---------------------------------------------------- */

static const char *const gate_modes[] = {"auto", "block", "allow", NULL};

/* Every breaker state of the X-macro table. */
static void state_names(const char **names)
{
	int i;
	for (i = 0; i < FB_STATE_COUNT; i++)
		names[i] = fb_state_name((fb_state)i);
	names[i] = NULL;
}

/* SPEC 2's health values in its order: "unknown", then the rest of the
 * table. */
static void health_names(const char **names)
{
	int n = 0;
	names[n++] = fb_health_name(FB_HEALTH_UNKNOWN);
	for (int i = 0; i < FB_HEALTH_COUNT; i++) {
		if (i != FB_HEALTH_UNKNOWN)
			names[n++] = fb_health_name((fb_health)i);
	}
	names[n] = NULL;
}

/* ---- the instance, the system, the gate -------------------------------- */

static void instance_families(out *o, const cJSON *doc)
{
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(doc, "instance");
	family info = {"fusebox_info", "gauge",
	               "The instance's host name and version (always 1).",
	               false},
	       start = {"fusebox_start_time_seconds", "gauge",
	                "When the instance started, in seconds since the "
	                "Unix epoch.",
	                false},
	       log_ok = {"fusebox_event_log_ok", "gauge",
	                 "Whether the event log is being written (1) or "
	                 "failing, with events waiting (0).",
	                 false},
	       log_err = {"fusebox_event_log_write_errors_total", "counter",
	                  "Events the instance could not write to its event "
	                  "log when they happened.",
	                  false},
	       log_queued = {"fusebox_event_log_queued", "gauge",
	                     "Events waiting in memory until the event log "
	                     "can be written.",
	                     false},
	       log_lost = {"fusebox_event_log_lost_total", "counter",
	                   "Events lost because the event log failed for too "
	                   "long (each loss is told by a gap event).",
	                   false};
	label l[2] = {{"host", str_of(doc, "host")},
	              {"version", str_of(inst, "version")}};
	if (l[0].value && l[1].value)
		sample(o, &info, l, 2, 1);
	number(o, &start, NULL, 0, inst, "start_time_s");
	const cJSON *ok =
	    cJSON_GetObjectItemCaseSensitive(inst, "event_log_ok");
	if (cJSON_IsBool(ok))
		sample(o, &log_ok, NULL, 0, cJSON_IsTrue(ok));
	number(o, &log_err, NULL, 0, inst, "event_log_write_errors");
	number(o, &log_queued, NULL, 0, inst, "event_log_queued");
	number(o, &log_lost, NULL, 0, inst, "event_log_lost");
}

static void gate_families(out *o, const cJSON *doc)
{
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	const char *health[FB_HEALTH_COUNT + 2];
	family system = {"fusebox_system_health", "gauge",
	                 "System health, the worst among critical "
	                 "dependencies: 1 for the current value.",
	                 false},
	       allowed = {"fusebox_gate_allowed", "gauge",
	                  "Whether the gate allows destructive operations "
	                  "now (1) or blocks them (0).",
	                  false},
	       mode = {"fusebox_gate_mode", "gauge",
	               "The gate's mode (auto, block, allow): 1 for the "
	               "current one.",
	               false},
	       retry = {"fusebox_gate_retry_after_seconds", "gauge",
	                "Seconds until the gate may allow again; 0 when it "
	                "allows or no wait is known.",
	                false};
	label l[1] = {{"health", NULL}};
	health_names(health);
	if (str_of(doc, "system_health"))
		state_set(o, &system, l, 0, health,
		          str_of(doc, "system_health"));
	const char *decision = str_of(gate, "decision");
	if (decision)
		sample(o, &allowed, NULL, 0, strcmp(decision, "allowed") == 0);
	l[0].name = "mode";
	if (str_of(gate, "mode"))
		state_set(o, &mode, l, 0, gate_modes, str_of(gate, "mode"));
	number(o, &retry, NULL, 0, gate, "retry_after_s");
}

/* ---- the dependencies -------------------------------------------------- */

/* Families that are one number of each dependency entry. */
static const struct {
	const char *name, *type, *key, *help;
} dep_numbers[] = {
    {"fusebox_dependency_consecutive_failures", "gauge", "failure_count",
     "Consecutive failures of the dependency now."},
    {"fusebox_dependency_successes_total", "counter", "successes",
     "Successful probes and calls (reset by an operator reset)."},
    {"fusebox_dependency_failures_total", "counter", "failures",
     "Failed probes and calls (reset by an operator reset)."},
    {"fusebox_dependency_rejections_total", "counter", "rejected",
     "Calls and probes the breaker refused (reset by an operator reset)."},
    {"fusebox_dependency_slow_calls_total", "counter", "slow_calls",
     "Successes slower than slow_call (reset by an operator reset)."},
    {"fusebox_dependency_probes_total", "counter", "probes",
     "Health probes started."},
    {"fusebox_dependency_retry_after_seconds", "gauge", "retry_after_s",
     "Seconds until an open breaker lets a trial through; 0 when it is "
     "not open."},
};

static void dep_info(out *o, const cJSON *deps)
{
	family f = {"fusebox_dependency_info", "gauge",
	            "A configured dependency: its kind and whether it is "
	            "critical (always 1).",
	            false};
	const cJSON *d;
	cJSON_ArrayForEach(d, deps)
	{
		const cJSON *crit =
		    cJSON_GetObjectItemCaseSensitive(d, "critical");
		label l[3] = {
		    {"dep", str_of(d, "service")},
		    {"kind", str_of(d, "kind")},
		    {"critical", cJSON_IsTrue(crit) ? "true" : "false"}};
		if (l[0].value && l[1].value && cJSON_IsBool(crit))
			sample(o, &f, l, 3, 1);
	}
}

/* The breaker state and the health of each dependency, as state sets. */
static void dep_states(out *o, const cJSON *deps)
{
	const char *states[FB_STATE_COUNT + 1], *health[FB_HEALTH_COUNT + 2];
	family fs = {"fusebox_dependency_state", "gauge",
	             "The breaker state of the dependency: 1 for the current "
	             "one.",
	             false},
	       fh = {"fusebox_dependency_health", "gauge",
	             "The health of the dependency: 1 for the current value.",
	             false};
	const cJSON *d;
	state_names(states);
	health_names(health);
	cJSON_ArrayForEach(d, deps)
	{
		label l[2] = {{"dep", str_of(d, "service")}, {"state", NULL}};
		if (l[0].value && str_of(d, "state"))
			state_set(o, &fs, l, 1, states, str_of(d, "state"));
	}
	cJSON_ArrayForEach(d, deps)
	{
		label l[2] = {{"dep", str_of(d, "service")}, {"health", NULL}};
		if (l[0].value && str_of(d, "health"))
			state_set(o, &fh, l, 1, health, str_of(d, "health"));
	}
}

static void dep_latency(out *o, const cJSON *deps)
{
	static const char *const keys[] = {"p50", "p95", "p99"},
	                         *const quantiles[] = {"0.5", "0.95", "0.99"};
	family f = {"fusebox_dependency_latency_seconds", "gauge",
	            "Latency quantiles of the recent successful probes, in "
	            "seconds.",
	            false};
	const cJSON *d;
	cJSON_ArrayForEach(d, deps)
	{
		const cJSON *lat =
		    cJSON_GetObjectItemCaseSensitive(d, "latency_s");
		label l[2] = {{"dep", str_of(d, "service")},
		              {"quantile", NULL}};
		for (size_t q = 0; l[0].value && q < 3; q++) {
			l[1].value = quantiles[q];
			number(o, &f, l, 2, lat, keys[q]);
		}
	}
}

static void dep_families(out *o, const cJSON *doc)
{
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	dep_info(o, deps);
	dep_states(o, deps);
	for (size_t i = 0; i < sizeof dep_numbers / sizeof dep_numbers[0];
	     i++) {
		family f = {dep_numbers[i].name, dep_numbers[i].type,
		            dep_numbers[i].help, false};
		const cJSON *d;
		cJSON_ArrayForEach(d, deps)
		{
			label l[1] = {{"dep", str_of(d, "service")}};
			if (l[0].value)
				number(o, &f, l, 1, d, dep_numbers[i].key);
		}
	}
	dep_latency(o, deps);
}

/* ---- the exposition ---------------------------------------------------- */

char *fb_metrics_text(const cJSON *doc, size_t *len)
{
	out o = {0};
	put(&o, UP_HELP "fusebox_up 1\n");
	instance_families(&o, doc);
	gate_families(&o, doc);
	dep_families(&o, doc);
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	if (len)
		*len = o.len;
	return o.p;
}

const char *fb_metrics_down_text(void)
{
	return UP_HELP "fusebox_up 0\n";
}
