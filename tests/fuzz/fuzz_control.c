/* The control socket's requests (src/control.c): each input line is
 * answered by fb_control_answer() against a real engine (a fresh one per
 * input) whose events go to a real event log, as `fusebox run` wires
 * them. Every request gets exactly one reply line, a JSON object with a
 * boolean "ok" (and an "error" string when false); every event an
 * operator's text caused reads back from the log as a clean event. */
#include <cjson/cJSON.h>
#include <stdbool.h>

#include "control.h"
#include "fuzz.h"
#include "logread.h"

static const char config_text[] = "[fusebox]\n"
                                  "host = fuzz\n"
                                  "log = events.jsonl\n"
                                  "log_max_size = 1M\n"
                                  "log_keep = 1\n"
                                  "[dep api]\n"
                                  "url = http://127.0.0.1:1/health\n"
                                  "critical = true\n"
                                  "[dep redis]\n"
                                  "url = redis://127.0.0.1:1/0\n"
                                  "[dep db]\n"
                                  "url = tcp://127.0.0.1:1\n";

static fb_runtime rt;
static long events;

static void quiet(void *ctx, long line, const char *why)
{
	(void)ctx;
	(void)line;
	fprintf(stderr, "logged event does not read back: %s\n", why);
	abort();
}

/* Logged as the runtime does, then read back as replay would. */
static void on_event(void *ctx, const fb_event *ev)
{
	fb_error err;
	(void)ctx;
	uint64_t seq = rt.log.seq;
	FUZZ_CHECK(fb_log_append(&rt.log, ev, 1763892000000LL + events, &err) ==
	           0);
	FUZZ_CHECK(rt.log.seq == seq + 1);
	events++;
	char text[1024];
	fb_event_describe(ev, text, sizeof text);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
}

static void setup(void)
{
	fb_error err;
	char warn[1024];
	const char *path =
	    fuzz_write("control.ini", (const uint8_t *)config_text,
	               sizeof config_text - 1);
	FUZZ_CHECK(fb_config_load(path, &rt.cfg, &err, NULL) == 0);
	FUZZ_CHECK(fb_log_open(&rt.log, rt.cfg.log, rt.cfg.host,
	                       rt.cfg.log_max_size, rt.cfg.log_keep, 0600, warn,
	                       sizeof warn, &err) == 0);
}

/* The last line of the log, as the reader sees it. */
static void check_log_tail(void)
{
	fb_log_reader r;
	char err[600];
	const char *line, *last = NULL;
	size_t len, last_len = 0;
	FUZZ_CHECK(fb_log_reader_open_tail(&r, rt.cfg.log, 8192, err,
	                                   sizeof err) == 0);
	r.on_skip = quiet;
	while (fb_log_reader_line(&r, &line, &len)) {
		last = line;
		last_len = len;
	}
	if (last) {
		fb_log_event ev;
		FUZZ_CHECK(fb_log_event_parse(&r, last, last_len, &ev) == 0);
		FUZZ_CHECK(ev.seq == rt.log.seq);
		cJSON_Delete(ev.json);
	}
	fb_log_reader_close(&r);
}

static void check_reply(const char *reply)
{
	FUZZ_CHECK(reply);
	size_t len = strlen(reply);
	FUZZ_CHECK(len > 1 && reply[len - 1] == '\n');
	FUZZ_CHECK(memchr(reply, '\n', len) == reply + len - 1);
	cJSON *o = cJSON_ParseWithLength(reply, len - 1);
	FUZZ_CHECK(cJSON_IsObject(o));
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
	FUZZ_CHECK(cJSON_IsBool(ok));
	if (cJSON_IsFalse(ok)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		FUZZ_CHECK(cJSON_IsString(e) && e->valuestring[0]);
	}
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rt.cfg.ndeps)
		setup();
	FUZZ_CHECK(
	    fb_engine_init(&rt.engine, &rt.cfg, 1, 1000, on_event, NULL) == 0);
	long before = events;
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *reply = fb_control_answer(&rt, "fuzz (uid 0)", p, len);
		check_reply(reply);
		free(reply);
		p += len + 1;
	}
	fb_engine_free(&rt.engine);
	if (events != before)
		check_log_tail();
	return 0;
}
