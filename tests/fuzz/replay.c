/* Runs a fuzz target without libFuzzer: every file named, or in a folder
 * named, is handed to LLVMFuzzerTestOneInput() once. Regression inputs are
 * replayed this way by `make check`, with gcc and under the sanitizers.
 * Says on stdout how many inputs it ran. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The target's entry points, as libFuzzer calls them; Initialize is optional. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Run the file at PATH; 0, or -1 if it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long size;
	int ret = -1;

	if (!f)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out_close;
	data = malloc((size_t)size + 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto out_free;
	LLVMFuzzerTestOneInput(data, (size_t)size);
	ret = 0;
out_free:
	free(data);
out_close:
	fclose(f);
out:
	if (ret)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	return ret;
}

/* Run PATH, or every file in it if it is a folder; the count run, or -1. */
static int replay_path(const char *path)
{
	struct stat sb;
	struct dirent *e;
	int count = 0;
	DIR *d;

	if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
		return replay_file(path) ? -1 : 1;
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	while (count >= 0 && (e = readdir(d))) {
		char *file;

		if (e->d_name[0] == '.' || asprintf(&file, "%s/%s", path, e->d_name) < 0)
			continue;
		count = replay_file(file) ? -1 : count + 1;
		free(file);
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int n = replay_path(argv[i]);

		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return 0;
}
