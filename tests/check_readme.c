/* The README's short tour runs as written: its indented command lines, in
 * order, under /bin/sh -e in an empty folder with the built program first on
 * PATH, and every file it names as an output is there afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "testutil.h"

/* The command lines of README.md's "## A short tour" section (its lines
 * indented by four spaces, without the indent), as one script; *LINES gets
 * their number. Caller frees. */
static char *tour_script(int *lines)
{
	char *readme = ra_test_slurp(RA_TESTS_DIR "/../README.md", NULL);
	char *section = strstr(readme, "\n## A short tour\n"), *end, *line, *script;
	size_t len = 0;

	ck_assert_msg(section != NULL, "README.md has no \"## A short tour\" section");
	section += strlen("\n## A short tour\n");
	end = strstr(section, "\n## ");
	if (end)
		end[1] = '\0';
	script = calloc(strlen(section) + 1, 1);
	ck_assert_ptr_nonnull(script);
	*lines = 0;
	for (line = strtok(section, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "    ", 4) != 0)
			continue;
		len += (size_t)sprintf(script + len, "%s\n", line + 4);
		(*lines)++;
	}
	free(readme);
	return script;
}

/* Whether WORD is an option whose argument is a file the program writes. */
static int names_output(const char *word)
{
	static const char *const options[] = { "-o", "--spectrum", "--plot", "--stats-json" };

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(word, options[i]) == 0)
			return 1;
	return 0;
}

/* Every output SCRIPT names (relative to the current folder) is there: a
 * file with something in it, or a folder with files. Returns how many. */
static int assert_outputs(char *script)
{
	int outputs = 0, next_is_output = 0;

	for (char *line = strtok(script, "\n"); line; line = strtok(NULL, "\n")) {
		char *comment = strstr(line, " #"), *save = NULL;

		if (comment)
			*comment = '\0';
		for (char *word = strtok_r(line, " ", &save); word;
		     word = strtok_r(NULL, " ", &save)) {
			struct stat sb;

			if (next_is_output) {
				ck_assert_msg(stat(word, &sb) == 0, "the tour made no %s", word);
				if (S_ISDIR(sb.st_mode))
					ck_assert_msg(ra_test_dir_entries(word) > 0, "%s is empty",
						      word);
				else
					ck_assert_msg(sb.st_size > 0, "%s is empty", word);
				outputs++;
			}
			next_is_output = names_output(word);
		}
	}
	return outputs;
}

START_TEST(test_tour_runs_as_written)
{
	char *dir = ra_test_mkdtemp(), *bin = strdup(RA_TEST_PROGRAM), *path;
	const char *old_path = getenv("PATH");
	int lines;
	char *script = tour_script(&lines);
	ra_run r;

	/* So that an extraction gone wrong cannot pass on an empty script. */
	ck_assert_int_ge(lines, 10);
	ck_assert_ptr_nonnull(bin);
	*strrchr(bin, '/') = '\0';
	ck_assert_int_ne(asprintf(&path, "%s:%s", bin, old_path ? old_path : "/usr/bin:/bin"), -1);
	ck_assert_int_eq(setenv("PATH", path, 1), 0);
	ck_assert_int_eq(chdir(dir), 0);
	r = ra_test_exec("/bin/sh", (const char *const[]){ "-e", "-c", script, NULL }, NULL);
	ck_assert_msg(r.status == 0, "the tour stopped with status %d:\n%s", r.status, r.err);
	ck_assert_int_ge(assert_outputs(script), 10);
	ra_run_release(&r);
	free(script);
	free(path);
	free(bin);
	ra_test_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("readme");
	TCase *tc = tcase_create("tour");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_tour_runs_as_written);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
