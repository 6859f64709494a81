/* The paths of a run: the inputs (from the command line, lists and
 * shards), each one's output and reports, and the checks made before
 * anything is written: no output is an input, no two outputs meet. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/audio_file.h"

#include "paths.h"
#include "say.h"

void path_list_add(path_list *l, const char *path)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->items = realloc(l->items, l->cap * sizeof(*l->items));
		if (!l->items)
			cli_die_nomem();
	}
	l->items[l->count] = strdup(path);
	if (!l->items[l->count])
		cli_die_nomem();
	l->count++;
}

void path_list_release(path_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
}

/* Append the paths in LIST_PATH ("-": stdin): one a line, blank lines
 * skipped, or with NUL each ended by a NUL byte, until *CANCEL. Returns 0,
 * or -1 after a message. */
static int read_list(const char *list_path, int nul, const volatile sig_atomic_t *cancel,
		     path_list *l)
{
	FILE *f = strcmp(list_path, "-") ? fopen(list_path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	if (!f) {
		cli_say(NULL, list_path, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = getdelim(&line, &cap, nul ? '\0' : '\n', f)) >= 0) {
		/* A writer that never stops (yes a.wav |) gives no EINTR. */
		if (ra_stop_requested(cancel)) {
			errno = EINTR;
			break;
		}
		if (!nul && strlen(line) < (size_t)n) {
			cli_say(NULL, list_path,
				"a line holds a NUL byte; a list of NUL-ended paths is read with --files-from0");
			ret = -1;
			break;
		}
		while (n > 0 &&
		       (nul ? line[n - 1] == '\0' : line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0)
			path_list_add(l, line);
	}
	if (ret == 0 && (ferror(f) || ra_stop_requested(cancel))) {
		if (errno == EINTR) /* a stop signal */
			cli_say(NULL, f == stdin ? "standard input" : list_path, "interrupted");
		else
			cli_say(NULL, list_path, "read error: %s", strerror(errno));
		ret = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

/* PATH's file name and, in *STEM_LEN, its length without the extension. */
static const char *file_stem(const char *path, int *stem_len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');

	*stem_len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	return base;
}

static int is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* PATH past any leading "./" (with the slashes that follow each). */
static const char *skip_dot_slash(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	return path;
}

/* INPUT's path below BASE (--relative-to), or NULL when it is not below
 * it or climbs out with "..". Compared as written, after "./". */
static const char *below_base(const char *base, const char *input)
{
	size_t len;
	const char *rel;

	base = skip_dot_slash(base);
	input = skip_dot_slash(input);
	len = strlen(base);
	while (len > 1 && base[len - 1] == '/')
		len--;
	if (len == 0 || (len == 1 && base[0] == '.'))
		rel = input[0] == '/' ? NULL : input;
	else if (!strncmp(input, base, len) && (input[len] == '/' || base[len - 1] == '/'))
		rel = input + len;
	else
		return NULL;
	while (rel && *rel == '/')
		rel++;
	if (!rel || !*rel || !strcmp(rel, "..") || !strncmp(rel, "../", 3) || strstr(rel, "/../") ||
	    (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
		return NULL;
	return rel;
}

/* The extension of --format's files, or NULL to keep the input's. */
static const char *format_extension(const cli_options *opt)
{
	if (!opt->job.format_major)
		return NULL;
	if (opt->job.format_subtype == SF_FORMAT_OPUS)
		return "opus";
	if (opt->job.format_major == SF_FORMAT_WAVEX || opt->job.format_major == SF_FORMAT_RF64)
		return "wav";
	return ra_format_name(opt->job.format_major);
}

/* DIR/NAME for INPUT: NAME its file name or, with --relative-to, its path
 * below the base; with the extension of the requested format if any. */
static char *output_in_dir(const cli_options *opt, const char *input)
{
	const char *rel = opt->relative_to ? below_base(opt->relative_to, input) : NULL;
	int stem_len;
	const char *base = file_stem(input, &stem_len);
	int dir_len = (int)strlen(opt->output), rel_dir = rel ? (int)(base - rel) : 0;
	const char *ext = format_extension(opt);
	char *out;

	while (dir_len > 1 && opt->output[dir_len - 1] == '/')
		dir_len--;
	if (asprintf(&out, "%.*s/%.*s%.*s%s%s", dir_len, opt->output, rel_dir, rel,
		     ext ? stem_len : (int)strlen(base), base, ext ? "." : "", ext ? ext : "") < 0)
		cli_die_nomem();
	return out;
}

/* --relative-to: -1 after a message when an input is not below the base,
 * or two inputs would write one output. */
static int check_tree(const cli_options *opt, const path_list *inputs, char **outputs)
{
	unsigned char *clash = calloc(inputs->count + 1, 1);
	int ret = 0;

	if (!clash)
		cli_die_nomem();
	for (size_t i = 0; i < inputs->count && !ret; i++)
		if (!below_base(opt->relative_to, inputs->items[i])) {
			cli_say(NULL, inputs->items[i], "not below --relative-to %s",
				opt->relative_to);
			ret = -1;
		}
	if (ret == 0)
		paths_find_clashes(outputs, inputs->count, clash);
	for (size_t i = 0; i < inputs->count && !ret; i++)
		if (clash[i]) {
			cli_say(NULL, inputs->items[i], "would write %s, as an earlier input does",
				outputs[i]);
			ret = -1;
		}
	free(clash);
	return ret;
}

int paths_make_folders(const cli_options *opt, const char *out)
{
	size_t root = strlen(opt->output);
	char *dir = strdup(out);
	int ret = 0;

	if (!dir)
		cli_die_nomem();
	/* Each folder below -o on the way to OUT, in turn. */
	for (char *slash = dir + root; !ret && (slash = strchr(slash + 1, '/'));) {
		*slash = '\0';
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
			ret = -1;
		*slash = '/';
	}
	free(dir);
	return ret;
}

/* qsort order for pointers into the outputs array: by name, then by
 * position, so that the earliest input comes first among equal names. */
static int compare_outputs(const void *a, const void *b)
{
	char **const *pa = a, **const *pb = b;
	int c = strcmp(**pa, **pb);

	return c ? c : (*pa < *pb ? -1 : *pa > *pb);
}

/* Mark in CLASH every output that an earlier input already produces. */
void paths_find_clashes(char **outputs, size_t count, unsigned char *clash)
{
	char ***sorted;

	if (count < 2)
		return;
	sorted = malloc(count * sizeof(*sorted));
	if (!sorted)
		cli_die_nomem();
	for (size_t i = 0; i < count; i++)
		sorted[i] = &outputs[i];
	qsort(sorted, count, sizeof(*sorted), compare_outputs);
	/* Standard output takes each in turn. */
	for (size_t i = 1; i < count; i++)
		if (!strcmp(*sorted[i], *sorted[i - 1]) && strcmp(*sorted[i], "-"))
			clash[sorted[i] - outputs] = 1;
	free(sorted);
}

/* Where a report for NAME goes: GIVEN itself, or GIVEN/BASE.SUFFIX when
 * GIVEN is a folder (BASE: NAME's file name without its extension). */
static char *report_path(const char *given, const char *name, const char *suffix)
{
	int len;
	const char *base = file_stem(name, &len);
	char *out;

	if (!is_dir(given))
		out = strdup(given);
	else if (asprintf(&out, "%s/%.*s.%s", given, len, base, suffix) < 0)
		out = NULL;
	if (!out)
		cli_die_nomem();
	return out;
}

/* NAME's --spectrum, --plot and --spectrogram paths, NULL for those not
 * asked for (freed by the caller). */
void paths_reports(const cli_options *opt, const char *name, char *paths[3])
{
	static const char *const suffix[3] = { "spectrum.csv", "spectrum.svg", "spectrogram.csv" };
	const char *given[3] = { opt->spectrum_path, opt->plot_path, opt->spectrogram_path };

	for (int k = 0; k < 3; k++)
		paths[k] = given[k] ? report_path(given[k], name, suffix[k]) : NULL;
}

/* Whether PATH is read as a stream (standard input, a pipe, a FIFO, a
 * terminal): once, front to back. */
static int is_stream(const char *path)
{
	struct stat sb;

	if (!strcmp(path, "-"))
		return 1;
	return stat(path, &sb) == 0 &&
	       (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode) || S_ISSOCK(sb.st_mode));
}

/* The format and shape IN's output would have on standard output; 0 when
 * IN cannot be opened or written so (it then fails on its own). */
static int stream_shape(const cli_options *opt, const char *in, ra_audio_info *shape)
{
	ra_diag diag = { "" };
	ra_reader *rd = ra_reader_open(in, 0, NULL, NULL, &diag);
	int fell_back;

	if (!rd)
		return 0;
	*shape = *ra_reader_info(rd);
	ra_reader_destroy(rd);
	if (opt->job.out_rate)
		shape->sample_rate = opt->job.out_rate;
	return ra_format_choose(shape, "-", opt->job.format_major, opt->job.format_subtype,
				&shape->format, &fell_back, &diag) == RA_OK;
}

/* -o - with several inputs: one raw stream (the only format that
 * concatenates) of one shape, checked here from the files' headers, so
 * pipes cannot be among them. -1 after a message. */
static int check_concatenation(const cli_options *opt, const path_list *inputs)
{
	ra_audio_info first = { 0 }, shape;
	const char *first_name = NULL;

	if (opt->job.format_major != SF_FORMAT_RAW) {
		cli_say(NULL, NULL,
			"-o - takes several inputs only as --format raw, whose streams "
			"concatenate; else -o names the folder for their outputs");
		return -1;
	}
	for (size_t i = 0; i < inputs->count; i++) {
		const char *in = inputs->items[i];

		if (is_stream(in)) {
			cli_say(NULL, in,
				"a pipe among the inputs of one raw stream; its shape "
				"cannot be checked before it is read");
			return -1;
		}
		if (!stream_shape(opt, in, &shape))
			continue;
		if (!first_name) {
			first = shape;
			first_name = in;
		} else if (shape.channels != first.channels ||
			   shape.sample_rate != first.sample_rate || shape.format != first.format) {
			cli_say(NULL, in,
				"%d channel%s of %s at %d Hz, where the first input gives %d of "
				"%s at %d Hz: one raw stream holds one shape",
				shape.channels, shape.channels == 1 ? "" : "s",
				ra_subtype_name(shape.format), shape.sample_rate, first.channels,
				ra_subtype_name(first.format), first.sample_rate);
			return -1;
		}
	}
	return 0;
}

/* The output of each input; NULL after a message when -o cannot serve. */
char **paths_resolve_outputs(const cli_options *opt, const path_list *inputs)
{
	int dir_mode = is_dir(opt->output);
	char **outputs;

	if (!strcmp(opt->output, "-")) {
		if (inputs->count > 1 && check_concatenation(opt, inputs) != 0)
			return NULL;
		dir_mode = 0;
	}
	if (!dir_mode && opt->relative_to) {
		cli_say(NULL, opt->output,
			"not a folder; with --relative-to -o names the folder for the tree of outputs");
		return NULL;
	}
	if (!dir_mode && inputs->count > 1 && strcmp(opt->output, "-")) {
		cli_say(NULL, opt->output,
			"not a folder; with several inputs -o names the folder for their outputs");
		return NULL;
	}
	if (inputs->count > 1 && ((opt->spectrum_path && !is_dir(opt->spectrum_path)) ||
				  (opt->plot_path && !is_dir(opt->plot_path)) ||
				  (opt->spectrogram_path && !is_dir(opt->spectrogram_path)))) {
		cli_say(NULL, NULL,
			"with several inputs --spectrum, --plot and --spectrogram name folders for their reports");
		return NULL;
	}
	outputs = calloc(inputs->count, sizeof(*outputs));
	if (!outputs)
		cli_die_nomem();
	for (size_t i = 0; i < inputs->count; i++) {
		outputs[i] = dir_mode ? output_in_dir(opt, inputs->items[i]) : strdup(opt->output);
		if (!outputs[i])
			cli_die_nomem();
	}
	if (opt->relative_to && check_tree(opt, inputs, outputs) != 0) {
		paths_free_outputs(outputs, inputs->count);
		return NULL;
	}
	return outputs;
}

/* An input's identity, to find the outputs that would write over it. */
typedef struct input_id {
	dev_t dev;
	ino_t ino;
	const char *path;
} input_id;

/* Files in order of device, then inode. */
static int compare_files(dev_t dev_a, ino_t ino_a, dev_t dev_b, ino_t ino_b)
{
	if (dev_a != dev_b)
		return dev_a < dev_b ? -1 : 1;
	return ino_a < ino_b ? -1 : ino_a > ino_b;
}

static int compare_ids(const void *a, const void *b)
{
	const input_id *x = a, *y = b;

	return compare_files(x->dev, x->ino, y->dev, y->ino);
}

/* Where an output lands: its folder's identity and its name there, so that
 * two spellings of one target meet, whether it exists yet or not. */
typedef struct out_place {
	dev_t dev;
	ino_t ino;
	const char *name;
	const char *path; /* as given */
	const char *role; /* what writes it, for messages */
	size_t index;	  /* in the run's list of outputs */
} out_place;

static int compare_places(const void *a, const void *b)
{
	const out_place *x = a, *y = b;
	int c = compare_files(x->dev, x->ino, y->dev, y->ino);

	return c ? c : strcmp(x->name, y->name);
}

/* PATH's place in *P; 0, or -1 when its folder does not exist (the output
 * then fails on its own) or it is the null device (a sink, never a file). */
static int place_of(const char *path, const char *role, size_t index, out_place *p)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	struct stat sb;
	int ret = -1;

	if (!dir)
		cli_die_nomem();
	if ((stat(path, &sb) != 0 || !ra_atomic_is_sink(&sb)) && stat(dir, &sb) == 0) {
		*p =
			(out_place){ sb.st_dev, sb.st_ino, slash ? slash + 1 : path,
				     path,	role,	   index };
		ret = 0;
	}
	free(dir);
	return ret;
}

/* Every path the run writes, with what writes it in ROLES: each file's
 * audio output (the first AUDIO entries), then their reports, the stats
 * document, the wisdom file and the manifest. */
static void list_outputs(const cli_options *opt, const path_list *inputs, char **outputs,
			 path_list *all, path_list *roles, size_t *audio)
{
	static const char *const report_role[3] = { "--spectrum", "--plot", "--spectrogram" };
	size_t count = opt->job.analyze ? 0 : opt->generate ? 1 : inputs->count;

	for (size_t i = 0; i < count; i++) {
		path_list_add(all, opt->generate ? opt->output : outputs[i]);
		path_list_add(roles, "-o");
	}
	*audio = count;
	for (size_t i = 0; i < count; i++) {
		char *paths[3];

		paths_reports(opt, opt->generate ? opt->output : inputs->items[i], paths);
		for (int k = 0; k < 3; k++) {
			if (paths[k]) {
				path_list_add(all, paths[k]);
				path_list_add(roles, report_role[k]);
			}
			free(paths[k]);
		}
	}
	if (opt->stats_json) {
		path_list_add(all, opt->stats_json);
		path_list_add(roles, "--stats-json");
	}
	if (opt->wisdom_path) {
		path_list_add(all, opt->wisdom_path);
		path_list_add(roles, "--fftw-wisdom");
	}
	if (opt->manifest) {
		path_list_add(all, opt->manifest);
		path_list_add(roles, "--manifest");
	}
}

/* -1 after a message when two outputs of ALL land in one place, unless both
 * are audio outputs (the first AUDIO): the later of those fails on its own. */
static int find_twice(const path_list *all, const path_list *roles, size_t audio)
{
	out_place *places = calloc(all->count + 1, sizeof(*places));
	size_t n = 0;
	int ret = 0;

	if (!places)
		cli_die_nomem();
	for (size_t i = 0; i < all->count; i++)
		n += place_of(all->items[i], roles->items[i], i, &places[n]) == 0;
	qsort(places, n, sizeof(*places), compare_places);
	for (size_t i = 1; i < n && !ret; i++) {
		const out_place *a = &places[i - 1], *b = &places[i];

		if (compare_places(a, b) == 0 && (a->index >= audio || b->index >= audio)) {
			cli_say(NULL, b->path, "written by both %s and %s", a->role, b->role);
			ret = -1;
		}
	}
	free(places);
	return ret;
}

/* -1 after a message when an output in ALL is one of the INPUTS, under
 * whatever name. */
static int find_overwrite(const path_list *all, const path_list *inputs)
{
	input_id *ids = calloc(inputs->count + 1, sizeof(*ids));
	size_t n = 0;
	int ret = 0;

	if (!ids)
		cli_die_nomem();
	for (size_t i = 0; i < inputs->count; i++) {
		struct stat sb;

		if (stat(inputs->items[i], &sb) == 0)
			ids[n++] = (input_id){ sb.st_dev, sb.st_ino, inputs->items[i] };
	}
	qsort(ids, n, sizeof(*ids), compare_ids);
	for (size_t i = 0; i < all->count && !ret; i++) {
		const char *out = all->items[i];
		const input_id *hit = NULL;
		struct stat sb;

		if (stat(out, &sb) == 0 && !ra_atomic_is_sink(&sb)) {
			input_id key = { sb.st_dev, sb.st_ino, NULL };

			hit = bsearch(&key, ids, n, sizeof(*ids), compare_ids);
		}
		if (hit && !strcmp(out, hit->path))
			cli_say(NULL, out, "output would overwrite the input");
		else if (hit)
			cli_say(NULL, out, "would overwrite the input %s", hit->path);
		ret = hit ? -1 : 0;
	}
	free(ids);
	return ret;
}

/* -1 after a message when a path in ALL is longer than a path, or its last
 * part longer than a file name, may be: found now rather than when the
 * file has been processed and cannot take its name. */
static int find_too_long(const path_list *all)
{
	for (size_t i = 0; i < all->count; i++) {
		const char *path = all->items[i], *slash = strrchr(path, '/');
		const char *name = slash ? slash + 1 : path;

		if (strlen(path) >= PATH_MAX || strlen(name) > NAME_MAX) {
			cli_say(NULL, path, "%s", strerror(ENAMETOOLONG));
			return -1;
		}
	}
	return 0;
}

/* What in OPT's run reads an input twice, or NULL; *SPOOL_HELPS says
 * whether --spool would do (not when the input is opened twice). */
static const char *read_twice(const cli_options *opt, int *spool_helps)
{
	*spool_helps = 0;
	if (opt->dry_run)
		return opt->job.loudness ? "--dry-run --loudness" : NULL;
	if (opt->job.loudness && opt->loudness_album)
		return "--loudness-mode album";
	*spool_helps = 1;
	if (opt->job.spool)
		return NULL; /* the spool is read as often as it takes */
	return opt->job.normalize ? "--normalize" : opt->job.loudness ? "--loudness" : NULL;
}

int paths_check_streams(const cli_options *opt, const path_list *inputs)
{
	const char *list = opt->files_from ? opt->files_from : opt->files_from0;
	size_t dashes = 0;

	for (size_t i = 0; i < inputs->count; i++)
		dashes += !strcmp(inputs->items[i], "-");
	if (dashes > 1 || (dashes && list && !strcmp(list, "-"))) {
		cli_say(NULL, NULL, "standard input can be read once; '-' names it twice");
		return -1;
	}
	for (size_t i = 0; i < inputs->count; i++) {
		const char *in = inputs->items[i];
		int spool_helps;
		const char *twice = read_twice(opt, &spool_helps);

		if (!strcmp(in, "-") && !opt->job.analyze && !opt->dry_run && opt->output &&
		    is_dir(opt->output)) {
			cli_say(NULL, in,
				"standard input has no name to give its output; give "
				"-o FILE");
			return -1;
		}
		if (twice && is_stream(in)) {
			cli_say(NULL, in,
				"%s reads its input twice, and a pipe can be read once: %s", twice,
				spool_helps ? "give --spool, or save it to a file first"
					    : "save it to a file first");
			return -1;
		}
	}
	return 0;
}

/* Before anything is written: -1 after a message when an output of the run
 * (the --fftw-wisdom file included) is one of its inputs, or lands where
 * another output does. */
int paths_check_outputs(const cli_options *opt, const path_list *inputs, char **outputs)
{
	path_list all = { 0 }, roles = { 0 }, read = { 0 };
	const char *list = opt->files_from ? opt->files_from : opt->files_from0;
	size_t audio;
	int ret;

	/* What the run reads: the inputs, and the list that named them. */
	for (size_t i = 0; i < inputs->count; i++)
		path_list_add(&read, inputs->items[i]);
	if (list && strcmp(list, "-"))
		path_list_add(&read, list);
	list_outputs(opt, inputs, outputs, &all, &roles, &audio);
	ret = find_too_long(&all);
	if (ret == 0)
		ret = find_overwrite(&all, &read);
	if (ret == 0)
		ret = find_twice(&all, &roles, audio);
	path_list_release(&read);
	path_list_release(&roles);
	path_list_release(&all);
	return ret;
}

/* The inputs: the arguments, then the --files-from list, those of the
 * shard. -1 after a message when the list cannot be read, or there are
 * none (and no --generate). */
int paths_gather_inputs(const cli_options *opt, const volatile sig_atomic_t *cancel,
			path_list *inputs)
{
	const char *list = opt->files_from ? opt->files_from : opt->files_from0;
	size_t kept = 0;

	for (int i = 0; i < opt->input_count; i++)
		path_list_add(inputs, opt->inputs[i]);
	if (list && read_list(list, opt->files_from0 != NULL, cancel, inputs) != 0)
		return -1;
	if (inputs->count == 0 && !opt->generate) {
		cli_say(NULL, NULL, "no input files");
		return -1;
	}
	if (opt->shard.count == 0)
		return 0;
	for (size_t i = 0; i < inputs->count; i++) {
		if (shard_keeps(&opt->shard, inputs->items[i]))
			inputs->items[kept++] = inputs->items[i];
		else
			free(inputs->items[i]);
	}
	if (!opt->quiet)
		cli_say(NULL, NULL, "shard %llu/%llu (from %s): %zu of %zu inputs",
			(unsigned long long)opt->shard.index, (unsigned long long)opt->shard.count,
			opt->shard.source, kept, inputs->count);
	inputs->count = kept;
	return 0;
}

void paths_free_outputs(char **outputs, size_t count)
{
	for (size_t i = 0; outputs && i < count; i++)
		free(outputs[i]);
	free(outputs);
}
