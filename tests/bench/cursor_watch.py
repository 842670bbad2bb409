#!/usr/bin/env python3
"""Watches an instance's cursor in Redis over one connection, so the
watching neither forks a redis-cli per look nor waits for one to start
(both took the machine from what is measured, and made the end late).
Usage: cursor_watch.py PORT KEY FIELD TARGET [TIMEOUT_S]
Prints "FIRST_MS FIRST_CURSOR LAST_MS LAST_CURSOR": the wall clock (ms)
when the cursor was first seen, and when it first reached TARGET (or
when the timeout ended the watch). Exit 1 on a timeout."""
import socket
import sys
import time


def command(sock, buf, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    while True:
        end = buf.find(b"\r\n")
        if end >= 0 and buf[:1] == b"$":
            n = int(buf[1:end])
            if n < 0:
                return None, buf[end + 2:]
            if len(buf) >= end + 2 + n + 2:
                return buf[end + 2:end + 2 + n].decode(), buf[end + 4 + n:]
        elif end >= 0:
            raise SystemExit("cursor_watch: odd reply %r" % buf[:end])
        buf += sock.recv(4096)


def main():
    port, key, field, target = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    target = int(target)
    sock = socket.create_connection(("127.0.0.1", int(port)))
    buf = b""
    first_ms = first = last = None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v, buf = command(sock, buf, "HGET", key, field)
        now_ms = int(time.time() * 1000)
        if v is not None:
            last = int(v)
            if first is None:
                first_ms, first = now_ms, last
            if last >= target:
                print(first_ms, first, now_ms, last)
                return 0
        time.sleep(0.002)
    print(first_ms or 0, first or 0, int(time.time() * 1000), last or 0)
    return 1


if __name__ == "__main__":
    sys.exit(main())
