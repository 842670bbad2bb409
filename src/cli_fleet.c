/* `fusebox status --fleet [--json]`: which host sees what. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

void fb_fleet_print_headline(const cJSON *doc)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fleet");
	if (f && str(f, "message")[0])
		printf("%s\n", str(f, "message"));
}

/* "api open, db half_open" for the dependencies it does not see closed */
static void not_closed(const cJSON *inst, char *out, size_t len)
{
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(inst, "dependencies");
	const cJSON *d;
	size_t used = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(d, deps)
	{
		const char *st = str(d, "state");
		if (strcmp(st, "closed") == 0 &&
		    strcmp(str(d, "health"), "unknown") != 0)
			continue;
		int n = snprintf(out + used, len - used, "%s%s %s",
		                 used ? ", " : "", d->string ? d->string : "?",
		                 strcmp(st, "closed") == 0 ? "unknown" : st);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!out[0])
		snprintf(out, len, "-");
}

static void print_table(const cJSON *f)
{
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(f, "gate");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(f, "instances");
	const cJSON *in;
	char deps[512];
	double age = num(f, "view_age_s");
	printf("FLEET %s: %s", str(f, "service"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "connected"))
	           ? "connected"
	           : "redis away, working alone from own probes");
	if (age >= 0)
		printf(" (view %.1fs old)", age);
	printf("\n");
	if (str(f, "error")[0])
		printf("  %s\n", str(f, "error"));
	printf("FLEET GATE %s: %s\n\n", str(gate, "decision"),
	       str(gate, "reason"));
	printf("%-10s %-20s %7s %-8s %6s  %s\n", "INSTANCE", "HOST", "PID",
	       "VERSION", "SEEN", "NOT CLOSED");
	cJSON_ArrayForEach(in, list)
	{
		not_closed(in, deps, sizeof deps);
		printf(
		    "%-10.8s %-20s %7.0f %-8s %5.1fs  %s%s\n",
		    str(in, "instance"), str(in, "host"), num(in, "pid"),
		    str(in, "version"), num(in, "age_s"), deps,
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "self"))
		        ? "  (this one)"
		        : "");
	}
}

/* What was decided for the whole fleet, one line a dependency. */
static void print_records(const cJSON *f)
{
	const cJSON *r;
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(f, "records");
	if (cJSON_GetArraySize(recs) == 0)
		return;
	printf("\nFLEET RECORDS\n");
	cJSON_ArrayForEach(r, recs)
	{
		printf("  %s: %s", str(r, "name"), str(r, "state"));
		if (num(r, "open_for_s") > 0)
			printf(" for %.0fs more", num(r, "open_for_s"));
		if (str(r, "trial_by")[0])
			printf(", trial held by %s", str(r, "trial_by"));
		if (str(r, "reason")[0])
			printf(" (%s)", str(r, "reason"));
		if (str(r, "by")[0])
			printf(", from %s", str(r, "by"));
		printf("\n");
	}
}

int fb_fleet_print(const cJSON *doc, bool json)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fleet");
	if (!cJSON_IsObject(f)) {
		fb_cli_error("the instance sent no fleet view");
		return FB_EXIT_FAIL;
	}
	if (json) {
		char *text = cJSON_PrintUnformatted(f);
		if (text)
			printf("%s\n", text);
		cJSON_free(text);
	} else {
		print_table(f);
		print_records(f);
	}
	return FB_EXIT_OK;
}
