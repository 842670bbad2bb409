"""fusebox_client: talk to a running fusebox instance from Python.

Standard library only. One JSON request a line over the instance's Unix
control socket (see fusebox(1), CONTROL SOCKET):

    import fusebox_client as fb

    if not fb.gate_allows():            # False on any doubt
        raise SystemExit(75)
    answer = fb.allow("chroma")         # may a call go ahead now?
    if answer["allowed"]:
        t0 = time.monotonic()
        ok, error = call_chroma()
        fb.report("chroma", ok, (time.monotonic() - t0) * 1000, error,
                  permit=answer.get("permit"))

The socket is $FUSEBOX_SOCKET, else $XDG_RUNTIME_DIR/fusebox/fusebox.sock,
else /run/fusebox/fusebox.sock. Every call has a timeout (2 s by default)
and opens a connection of its own, so it is safe from any thread.
"""

import json
import os
import socket

__all__ = ["gate_allows", "allow", "report", "Unavailable", "default_socket"]

TIMEOUT_S = 2.0
MAX_BATCH = 1000  # outcomes the instance takes in one report


class Unavailable(Exception):
    """The instance could not be asked, or refused the request."""


def default_socket():
    path = os.environ.get("FUSEBOX_SOCKET")
    if path:
        return path
    run = os.environ.get("XDG_RUNTIME_DIR")
    if run:
        return os.path.join(run, "fusebox", "fusebox.sock")
    return "/run/fusebox/fusebox.sock"


def _ask(request, sock_path=None, timeout=TIMEOUT_S):
    """One request, one reply (a dict); Unavailable on any trouble."""
    line = json.dumps(request, separators=(",", ":")).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path or default_socket())
            s.sendall(line)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise Unavailable("the instance closed the connection")
                buf += chunk
                if len(buf) > (64 << 20):
                    raise Unavailable("reply too long")
    except OSError as e:
        raise Unavailable("no running instance on %s (%s)"
                          % (sock_path or default_socket(), e)) from e
    try:
        reply = json.loads(buf)
    except ValueError as e:
        raise Unavailable("not an answer: %r" % buf[:80]) from e
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        raise Unavailable(str(reply.get("error", "refused"))
                          if isinstance(reply, dict) else "refused")
    return reply


def gate_allows(sock_path=None, timeout=TIMEOUT_S):
    """May a destructive operation go ahead now? False on any doubt."""
    try:
        gate = _ask({"op": "gate_check"}, sock_path, timeout).get("gate")
    except Unavailable:
        return False
    return isinstance(gate, dict) and gate.get("decision") == "allowed"


def allow(dep, sock_path=None, timeout=TIMEOUT_S):
    """The instance's answer for a call to dep: a dict with allowed,
    state, health, retry_after_ms and, in half-open, permit (pass it to
    report). Raises Unavailable when it cannot be asked (or dep is
    unknown): then the caller decides."""
    return _ask({"op": "allow", "dep": dep}, sock_path, timeout)


def report(dep, ok, latency_ms=0.0, error=None, permit=None,
           sock_path=None, timeout=TIMEOUT_S):
    """Reports one call's outcome. Returns True when the instance took
    it, False when it could not be told (reports never raise: passive
    health must not break the service)."""
    outcome = {"dep": dep, "ok": bool(ok), "latency_ms": float(latency_ms)}
    if error:
        outcome["error"] = str(error)[:200]
    if permit:
        outcome["permit"] = int(permit)
    return report_many([outcome], sock_path, timeout) == 1


def report_many(outcomes, sock_path=None, timeout=TIMEOUT_S):
    """Reports many outcomes (dicts as report() builds) in batches.
    Returns how many the instance took."""
    taken = 0
    for i in range(0, len(outcomes), 100):
        try:
            reply = _ask({"op": "report", "outcomes": outcomes[i:i + 100]},
                         sock_path, timeout)
            taken += int(reply.get("accepted", 0))
        except Unavailable:
            pass
    return taken


if __name__ == "__main__":
    # The example use: `python3 fusebox_client.py DEP` asks, makes a
    # pretend call and reports it.
    import sys
    import time

    dep = sys.argv[1] if len(sys.argv) > 1 else "api"
    print("gate allows:", gate_allows())
    try:
        a = allow(dep)
    except Unavailable as e:
        print("cannot ask:", e)
        sys.exit(69)
    print("allow %s: %s (%s, %s)" % (dep, a["allowed"], a["state"],
                                     a["health"]))
    if a["allowed"]:
        t0 = time.monotonic()
        time.sleep(0.01)  # the call
        took = (time.monotonic() - t0) * 1000
        print("reported:", report(dep, True, took, permit=a.get("permit")))
