/* The event loop around curl_multi_poll(). */
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"

typedef struct watch {
	int fd;
	short events;
	fb_fd_fn fn;
	void *ctx;
} watch;

struct fb_loop {
	CURLM *multi;
	fb_curl_done_fn done;
	void *done_ctx;
	fb_curl_done_fn also; /* the fleet's connection */
	void *also_ctx;
	watch *w;
	size_t nw, capw;
	struct curl_waitfd *wait; /* scratch, capw long */
	bool behind; /* finished transfers left unhandled: poll, not wait */
};

void fb_loop_on_curl_done(fb_loop *l, fb_curl_done_fn done, void *ctx)
{
	l->done = done;
	l->done_ctx = ctx;
}

void fb_loop_also_on_curl_done(fb_loop *l, fb_curl_done_fn done, void *ctx)
{
	l->also = done;
	l->also_ctx = ctx;
}

fb_loop *fb_loop_new(void)
{
	fb_loop *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->multi = curl_multi_init();
	if (!l->multi) {
		free(l);
		return NULL;
	}
	/* Probes are short: a bounded pool of kept-alive connections serves a
	 * large fleet; transfers beyond it wait inside curl. */
	curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	                  FB_LOOP_MAX_CONNECTIONS);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS,
	                  FB_LOOP_MAX_CONNECTIONS);
	return l;
}

void fb_loop_free(fb_loop *l)
{
	if (!l)
		return;
	curl_multi_cleanup(l->multi);
	free(l->w);
	free(l->wait);
	free(l);
}

CURLM *fb_loop_multi(fb_loop *l)
{
	return l->multi;
}

int fb_loop_watch(fb_loop *l, int fd, short events, fb_fd_fn fn, void *ctx)
{
	for (size_t i = 0; i < l->nw; i++) {
		if (l->w[i].fd == fd) {
			l->w[i] = (watch){fd, events, fn, ctx};
			return 0;
		}
	}
	if (l->nw == l->capw) {
		size_t cap = l->capw ? l->capw * 2 : 16;
		watch *w = realloc(l->w, cap * sizeof *w);
		if (!w)
			return -1;
		l->w = w;
		struct curl_waitfd *wf = realloc(l->wait, cap * sizeof *wf);
		if (!wf)
			return -1;
		l->wait = wf;
		l->capw = cap;
	}
	l->w[l->nw++] = (watch){fd, events, fn, ctx};
	return 0;
}

void fb_loop_unwatch(fb_loop *l, int fd)
{
	for (size_t i = 0; i < l->nw; i++) {
		if (l->w[i].fd == fd) {
			l->w[i] = l->w[--l->nw];
			return;
		}
	}
}

/* Hands finished transfers to the listener for at most FB_LOOP_DRAIN_MS:
 * each may cost an event written and synced, and a storm of thousands
 * (a start, a vendor outage) must not keep curl from reading the
 * transfers still running (their timeouts count meanwhile) or the
 * control socket from being served. The rest wait, in order, for the
 * next turn, which then does not sleep. */
static void drain_curl(fb_loop *l)
{
	CURLMsg *msg;
	int left = 0;
	int64_t until = fb_now_ms() + FB_LOOP_DRAIN_MS;
	while ((msg = curl_multi_info_read(l->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		/* msg is gone once a listener removes its handle */
		if (l->done)
			l->done(l->done_ctx, easy, result);
		if (l->also)
			l->also(l->also_ctx, easy, result);
		if (left > 0 && fb_now_ms() >= until)
			break;
	}
	l->behind = msg && left > 0;
}

int fb_loop_run_once(fb_loop *l, int timeout_ms)
{
	size_t n = l->nw;
	for (size_t i = 0; i < n; i++)
		l->wait[i] =
		    (struct curl_waitfd){l->w[i].fd, (short)l->w[i].events, 0};
	if (curl_multi_poll(l->multi, l->wait, (unsigned)n,
	                    l->behind ? 0 : timeout_ms, NULL) != CURLM_OK)
		return -1;
	int running;
	if (curl_multi_perform(l->multi, &running) != CURLM_OK)
		return -1;
	drain_curl(l);
	/* Callbacks may watch or unwatch: dispatch from the snapshot in
	 * l->wait, looking each fd up again. */
	for (size_t i = 0; i < n; i++) {
		struct curl_waitfd ready = l->wait[i];
		if (!ready.revents)
			continue;
		for (size_t k = 0; k < l->nw; k++) {
			if (l->w[k].fd == ready.fd) {
				l->w[k].fn(l->w[k].ctx, ready.fd,
				           (short)ready.revents);
				break;
			}
		}
	}
	return 0;
}
