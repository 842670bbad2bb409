#!/usr/bin/env bash
# The install, as a distribution and a newcomer meet it: `make install
# DESTDIR=stage PREFIX=/usr`, then the staged program, its data, its man
# pages and its library used from the stage, then `make uninstall`. Prints
# TAP ("ok N - what" / "not ok N - what") for tests/run-suites.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/fusebox-install-XXXXXX)
sock=fbinst$$
cleanup() {
	for s in default nocolor contrast nowhere; do
		tmux -L "$sock-$s" kill-server 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
# Called from make's recipe: a make of our own, not a part of its jobserver.
unset MAKEFLAGS MAKELEVEL MFLAGS

. "$top/tests/tap.sh"

stage=$tmp/stage
usr=$stage/usr
check "make install DESTDIR=... PREFIX=/usr" \
	make -C "$top" --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr

installed_files() {
	for f in bin/fusebox libexec/fusebox/fusebox-engine lib/libfusebox.a \
		lib/libfusebox.so.0 lib/libfusebox.so lib/pkgconfig/fusebox.pc \
		include/fusebox/client.h share/fusebox/themes/default.ini \
		share/fusebox/themes/mono.ini share/man/man1/fusebox.1 \
		share/man/man5/fusebox.conf.5 share/man/man3/libfusebox.3 \
		share/bash-completion/completions/fusebox \
		lib/systemd/system/fusebox.service; do
		[ -e "$usr/$f" ] || { echo "missing $f"; return 1; }
	done
	grep -q '^ExecStart=/usr/bin/fusebox run' "$usr/lib/systemd/system/fusebox.service" ||
		{ echo "the unit does not run /usr/bin/fusebox"; return 1; }
}
check "every file is where Debian expects it" installed_files

# The front must not pull in libcurl, ncurses or hiredis: `gate check`
# pays only for what it uses.
front_is_small() {
	local libs
	libs=$(ldd "$usr/bin/fusebox") || return 1
	if grep -E 'libcurl|libncurses|libtinfo|libhiredis' <<<"$libs"; then return 1; fi
}
check "the fusebox front links no curl, ncurses or hiredis" front_is_small

only_fb_symbols() {
	local bad
	bad=$(nm -D --defined-only "$usr/lib/libfusebox.so.0" |
		awk '$2 != "A" && $3 !~ /^fb_/ { print $3 }')
	[ -z "$bad" ] || { echo "exported: $bad"; return 1; }
	objdump -p "$usr/lib/libfusebox.so.0" | grep -q 'SONAME *libfusebox.so.0$'
}
check "libfusebox.so.0 has its soname and exports only fb_ symbols" only_fb_symbols

no_console_in_library() {
	! nm "$usr/lib/libfusebox.a" | grep -E ' [TD] (fb_console_main|fb_cmd_|con_|fb_runtime_)'
}
check "the console and the CLI are not in the library" no_console_in_library

# A program of an embedder's, built through pkg-config against the stage.
cat >"$tmp/embed.c" <<'C'
#include <fusebox/client.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	char why[256];
	bool ok = fb_gate_allows(argc > 1 ? argv[1] : "/nonexistent.sock", 500, why, sizeof why);
	printf("%s: %s\n", ok ? "allowed" : "blocked", why);
	return ok ? 0 : 75;
}
C
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$usr/lib/pkgconfig
embed() { # embed static|shared
	local flags
	if [ "$1" = static ]; then
		flags=$(pkg-config --static --cflags --libs fusebox) || return 1
		# shellcheck disable=SC2086
		cc -o "$tmp/embed-$1" "$tmp/embed.c" -Wl,-Bstatic -lfusebox -Wl,-Bdynamic $flags || return 1
	else
		flags=$(pkg-config --cflags --libs fusebox) || return 1
		# shellcheck disable=SC2086
		cc -o "$tmp/embed-$1" "$tmp/embed.c" $flags || return 1
	fi
	local out rc
	out=$(LD_LIBRARY_PATH=$usr/lib "$tmp/embed-$1")
	rc=$?
	echo "$out"
	[ $rc = 75 ] && grep -q '^blocked: ' <<<"$out"
}
check "a program links libfusebox.so through pkg-config and fails closed" embed shared
check "a program links libfusebox.a through pkg-config --static" embed static
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH

render_man() {
	local page out
	for page in "$usr"/share/man/man*/*; do
		out=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null) || { echo "$page: man failed"; return 1; }
		[ -z "$out" ] || { echo "$page: $out"; return 1; }
		[ "$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)" -gt 20 ] || { echo "$page: empty"; return 1; }
	done
}
check "man -l renders every installed page without warnings" render_man

# The staged console: its themes come from the stage, found from where the
# program is, not from the build tree or a compiled-in path.
mkdir -p "$tmp/run"
chmod 700 "$tmp/run"
cat >"$tmp/run/config.ini" <<INI
[fusebox]
log = events.jsonl
control_socket = fb.sock
[dep nowhere]
url = tcp://127.0.0.1:1
INI
console() { # console NAME ENV ARGS: the staged console in tmux; prints its screen
	local name=$1 envs=$2 args=$3 sock=$sock-$1
	tmux -L "$sock" -f /dev/null new-session -d -x 100 -y 30 \
		"env $envs $usr/bin/fusebox --config $tmp/run/config.ini $args 2>$tmp/$name.err; echo EXIT=\$? >$tmp/$name.exit; sleep 60"
	local screen=""
	for _ in $(seq 100); do
		screen=$(tmux -L "$sock" capture-pane -p -t =0: 2>/dev/null)
		grep -q DEPENDENCY <<<"$screen" && break
		[ -e "$tmp/$name.exit" ] && break
		sleep 0.1
	done
	tmux -L "$sock" send-keys -t =0: q
	for _ in $(seq 50); do [ -e "$tmp/$name.exit" ] && break; sleep 0.1; done
	echo "$screen"
	echo "stderr: $(cat "$tmp/$name.err" 2>/dev/null)"
	cat "$tmp/$name.exit" 2>/dev/null
	tmux -L "$sock" kill-server 2>/dev/null
}
console_ok() { # console_ok NAME ENV ARGS: it drew its table and quit with 0
	local out
	out=$(console "$@")
	echo "$out"
	grep -q DEPENDENCY <<<"$out" && grep -q '^EXIT=0$' <<<"$out"
}
themed() {
	console_ok "$@" && ! grep -q 'not found' "$tmp/$1.err"
}
check "the staged console starts with its installed theme" \
	themed default TERM=xterm-256color ""
check "the staged console starts with NO_COLOR=1 (mono)" \
	themed nocolor "TERM=xterm-256color NO_COLOR=1" ""
check "the staged console starts with --theme high-contrast" \
	themed contrast TERM=xterm-256color "--theme high-contrast"
nowhere() {
	console_ok "$@" && grep -q "theme 'nosuch' not found" "$tmp/$1.err"
}
check "a theme that is nowhere falls back to the built-in one, with a warning" \
	nowhere nowhere "TERM=xterm-256color XDG_DATA_DIRS=/nonexistent" "--theme nosuch"

check "make uninstall DESTDIR=... PREFIX=/usr" \
	make -C "$top" --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=/usr
nothing_left() {
	local left
	left=$(find "$stage" ! -type d)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}
check "make uninstall removes every file make install put down" nothing_left

# A user's own prefix, no root needed and no DESTDIR.
user_prefix() {
	make -C "$top" --no-print-directory -s install PREFIX="$tmp/home/.local" || return 1
	"$tmp/home/.local/bin/fusebox" --version | grep -q '^fusebox ' || return 1
	"$tmp/home/.local/bin/fusebox" status --probe --config "$tmp/run/config.ini" --json |
		grep -q '"service":"nowhere"' || return 1
	make -C "$top" --no-print-directory -s uninstall PREFIX="$tmp/home/.local" || return 1
	[ -z "$(find "$tmp/home" ! -type d)" ]
}
check "install and uninstall under a user's own PREFIX" user_prefix

echo "1..$n"
[ "$failed" = 0 ]
