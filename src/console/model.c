/* The model's calls (through the source's table) and what every source
 * shares: the log pane's ring of lines, deduplicated by seq, and reading
 * the event log's recent past into it. */
#include <stdio.h>
#include <string.h>

#include "console/model.h"
#include "logread.h"

short con_model_step(con_model *m, int in_fd, int max_ms)
{
	return m->ops->step(m, in_fd, max_ms);
}

void con_model_refresh(con_model *m)
{
	m->ops->refresh(m);
}

void con_model_focus(con_model *m, const uint32_t *rows, size_t n,
                     long selected, bool all_latency)
{
	if (m->ops->focus)
		m->ops->focus(m, rows, n, selected, all_latency);
}

bool con_model_detail(con_model *m, size_t row, con_detail *out)
{
	return row < m->nrows && m->ops->detail(m, row, out);
}

int con_model_act(con_model *m, fb_action action, const char *dep,
                  const char *reason, char *msg, size_t len)
{
	if (!m->src.actions) {
		snprintf(msg, len, "%s refused: %s", fb_action_name(action),
		         m->src.no_action);
		return -1;
	}
	return m->ops->act(m, action, dep, reason, msg, len);
}

int con_model_probe(con_model *m, const char *dep, char *msg, size_t len)
{
	if (!m->src.actions) {
		snprintf(msg, len, "probe refused: %s", m->src.no_action);
		return -1;
	}
	return m->ops->probe(m, dep, msg, len);
}

size_t con_model_nevents(con_model *m)
{
	return m->ops->nevents ? m->ops->nevents(m) : m->log.len;
}

bool con_model_event(con_model *m, size_t back, con_log_line *out)
{
	if (m->ops->event)
		return m->ops->event(m, back, out);
	if (back >= m->log.len)
		return false;
	*out =
	    m->log
	        .line[(m->log.head + CON_LOG_LINES - 1 - back) % CON_LOG_LINES];
	return true;
}

void con_model_free(con_model *m)
{
	if (m)
		m->ops->free(m);
}

con_model *con_model_fleet(con_model *m, fb_error *err)
{
	if (m->ops->fleet)
		return m->ops->fleet(m, err);
	snprintf(err->text, sizeof err->text,
	         "no fleet view here: it shows live instances");
	return NULL;
}

long con_model_find(const con_model *m, const char *name)
{
	for (size_t i = 0; i < m->nrows; i++) {
		if (strcmp(m->rows[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- the log pane's lines ---------------------------------------------- */

static con_log_line *next_line(con_model *m)
{
	con_log *l = &m->log;
	con_log_line *line = &l->line[l->head];
	l->head = (l->head + 1) % CON_LOG_LINES;
	if (l->len < CON_LOG_LINES)
		l->len++;
	m->changed = true;
	return line;
}

void con_log_add(con_model *m, uint64_t seq, int64_t wall_ms,
                 const fb_event *ev)
{
	if (seq && seq <= m->log.last_seq)
		return; /* seen before: a reconnect's overlap */
	if (seq)
		m->log.last_seq = seq;
	con_log_line *l = next_line(m);
	l->seq = seq;
	l->wall_ms = wall_ms;
	l->tone = fb_event_tone(ev);
	fb_event_describe(ev, l->text, sizeof l->text);
}

void con_log_note(con_model *m, int64_t wall_ms, fb_tone tone, const char *text)
{
	con_log_line *l = next_line(m);
	l->seq = 0;
	l->wall_ms = wall_ms;
	l->tone = tone;
	snprintf(l->text, sizeof l->text, "%s", text);
}

#define BACKFILL_BYTES (256 * 1024)

long con_log_backfill(con_model *m, const char *path, uint64_t upto)
{
	fb_log_reader r;
	char err[600];
	const char *line;
	size_t len;
	long n = 0;
	if (!path[0] ||
	    fb_log_reader_open_tail(&r, path, BACKFILL_BYTES, err, sizeof err))
		return -1;
	r.quiet = true;
	while (fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		fb_event e;
		if (fb_log_event_parse(&r, line, len, &ev) != 0)
			continue;
		if (ev.seq > m->log.last_seq && (!upto || ev.seq <= upto)) {
			fb_log_event_as_event(&ev, &e);
			con_log_add(m, ev.seq, ev.ts_ms, &e);
			n++;
		}
		cJSON_Delete(ev.json);
	}
	r.skipped = 0;
	fb_log_reader_close(&r);
	return n;
}

void con_log_trouble(char *out, size_t len, const char *error, uint64_t queued,
                     uint64_t lost)
{
	char gone[40] = "";
	if (!error) {
		out[0] = '\0';
		return;
	}
	if (lost)
		snprintf(gone, sizeof gone, ", %llu lost",
		         (unsigned long long)lost);
	snprintf(out, len, " EVENT LOG FAILING: %.80s (%llu queued%s) ", error,
	         (unsigned long long)queued, gone);
}
