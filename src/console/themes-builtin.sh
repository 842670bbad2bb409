#!/bin/sh
# Writes a C file holding the given theme files as strings, so the console
# has a theme to fall back on when none is installed where it looks:
#   const fb_builtin_theme fb_builtin_themes[] = {{"default", "..."}, ...};
set -eu
echo '/* Generated from the bundled theme files by themes-builtin.sh. */'
echo '#include "console/theme.h"'
echo 'const fb_builtin_theme fb_builtin_themes[] = {'
for f in "$@"; do
	name=$(basename "$f" .ini)
	printf '\t{"%s",\n' "$name"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
done
printf '\t{NULL, NULL}};\n'
