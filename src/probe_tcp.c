/* TCP probes: healthy when a connect completes within the timeout. The
 * connect (and the name lookup) go through curl; see net.c. */
#include "probe_impl.h"

int tcp_start(fb_probes *p, uint32_t id)
{
	if (net_connect_start(p, id) != 0) {
		probe_finish(p, id, false, "curl refused the connect");
		return -1;
	}
	return 0;
}

void tcp_done(fb_probes *p, uint32_t id, CURLcode result)
{
	char err[FB_ERROR_MAX] = "";
	if (result != CURLE_OK)
		probe_transport_error(p->slots[id].easy, result, &p->slots[id],
		                      err, sizeof err);
	net_connect_drop(p, id);
	probe_finish(p, id, result == CURLE_OK, err);
}

void tcp_cancel(fb_probes *p, uint32_t id)
{
	net_connect_drop(p, id);
}
