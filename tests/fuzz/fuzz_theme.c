/* The theme reader (src/console/theme.c) on any file, found the way the
 * console finds one ($FUSEBOX_THEMES/NAME.ini): a theme is either
 * refused with file:line and a reason, or every role has colours in
 * -1..255 and only known attributes. */
#include <curses.h>
#include <sys/stat.h>

#include "console/theme.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[512];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/themes", fuzz_dir());
		FUZZ_CHECK(mkdir(dir, 0700) == 0);
		setenv("FUSEBOX_THEMES", dir, 1);
	}
	fuzz_write("themes/fuzz.ini", data, size);
	fb_theme t;
	fb_error err = {0};
	int rc = fb_theme_load("fuzz", &t, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		char want[600];
		snprintf(want, sizeof want, "%s/fuzz.ini:", dir);
		FUZZ_CHECK(strncmp(err.text, want, strlen(want)) == 0);
		return 0;
	}
	FUZZ_CHECK(strcmp(t.name, "fuzz") == 0);
	const int known = A_BOLD | A_REVERSE | A_DIM | A_UNDERLINE | A_STANDOUT;
	for (int i = 0; i < FB_ROLE_COUNT; i++) {
		FUZZ_CHECK(t.role[i].fg >= -1 && t.role[i].fg <= 255);
		FUZZ_CHECK(t.role[i].bg >= -1 && t.role[i].bg <= 255);
		FUZZ_CHECK((t.role[i].attrs & ~known) == 0);
	}
	return 0;
}
