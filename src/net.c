/* Connecting for the socket probes (TCP, Redis) through libcurl's multi
 * interface with CURLOPT_CONNECT_ONLY: name lookup runs in curl's own
 * resolver, off the loop, and the connect honours the probe's timeout.
 * Also the one place transport failures are put into words. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "probe_impl.h"

void probe_transport_error(CURL *easy, CURLcode rc, const probe_slot *s,
                           char *out, size_t len)
{
	const char *what;
	long os_errno = 0;
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: what = "DNS"; break;
	case CURLE_COULDNT_CONNECT: what = "connect"; break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, len, "timeout after %lld ms",
		         (long long)s->cfg->t[FB_T_TIMEOUT]);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE: what = "TLS"; break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR: what = "connection reset"; break;
	case CURLE_GOT_NOTHING: what = "empty reply"; break;
	default: what = "http"; break;
	}
	if (rc == CURLE_COULDNT_CONNECT && os_errno)
		snprintf(out, len, "connect: %s (%s:%d)",
		         strerror((int)os_errno), s->cfg->host, s->cfg->port);
	else
		snprintf(out, len, "%s: %.200s", what,
		         s->curl_err[0] ? s->curl_err : curl_easy_strerror(rc));
}

int net_connect_start(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	char url[FB_URL_MAX];
	CURL *e = curl_easy_init();
	if (!e)
		return -1;
	snprintf(url, sizeof url, "http://%s:%d/", s->cfg->host, s->cfg->port);
	s->curl_err[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)id);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->cfg->t[FB_T_TIMEOUT]);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)s->cfg->t[FB_T_TIMEOUT]);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_err);
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* a socket probe goes direct */
	if (curl_multi_add_handle(fb_loop_multi(p->loop), e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return -1;
	}
	s->easy = e;
	return 0;
}

int net_connect_take_fd(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	curl_socket_t fd = CURL_SOCKET_BAD;
	int mine = -1;
	if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd) ==
	        CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		mine = fcntl(fd, F_DUPFD_CLOEXEC,
		             0); /* curl closes its own copy */
	if (mine >= 0)
		fcntl(mine, F_SETFL, fcntl(mine, F_GETFL) | O_NONBLOCK);
	net_connect_drop(p, id);
	return mine;
}

void net_connect_drop(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	if (!s->easy)
		return;
	curl_multi_remove_handle(fb_loop_multi(p->loop), s->easy);
	curl_easy_cleanup(s->easy);
	s->easy = NULL;
}
