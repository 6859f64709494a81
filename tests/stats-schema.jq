# The --stats-json schema, version 5 (man/rusty-audio.1, STATS JSON), as a
# jq predicate: true when the document has exactly the documented members,
# each of the documented type, and the batch totals agree with the files.

def count: type == "number" and . == floor and . >= 0;
def number: type == "number";
def string_or_null: . == null or type == "string";
def number_or_null: . == null or type == "number";
def members($names): type == "object" and (keys == ($names | sort));

def stage:
  members(["seconds", "share", "blocks", "block_us"])
  and (.seconds | number) and (.share | number) and (.blocks | count)
  and (.block_us | members(["mean", "p50", "p99", "max"]) and all(.[]; number));

def span_members:
  ["audio_seconds", "wall_seconds", "cpu_seconds", "realtime_factor",
   "msamples_per_second", "peak_rss_bytes", "stages", "pool", "workers", "output_thread",
   "caller"];

def span:
  (.audio_seconds | number) and (.wall_seconds | number) and (.cpu_seconds | number)
  and (.realtime_factor | number) and (.msamples_per_second | number)
  and (.peak_rss_bytes | count)
  and (.stages | members(["open", "read", "resample", "eq", "spectrum", "level", "convert",
                           "write", "close"])
       and all(.[]; stage))
  and (.pool | members(["acquires", "hits", "misses", "allocations_saved"])
       and all(.[]; count))
  and (.workers | members(["threads", "tasks", "busy_seconds", "busy_share", "wait_seconds",
                           "caller_tasks", "caller_task_seconds"])
       and (.threads | count) and (.tasks | count) and (.wait_seconds | number)
       and (.caller_tasks | count) and .caller_tasks <= .tasks
       and (.caller_task_seconds | number)
       and (.busy_seconds | type == "array" and all(.[]; number))
       and (.busy_share | type == "array" and all(.[]; number))
       and (.busy_seconds | length) == .threads and (.busy_share | length) == .threads)
  and (.output_thread | members(["blocks", "busy_seconds", "busy_share"])
       and (.blocks | count) and (.busy_seconds | number) and (.busy_share | number))
  and (.caller | members(["stage_seconds", "processor_seconds", "output_thread_seconds",
                          "between_files_seconds", "accounted_share"])
       and all(.[]; number));

def channel:
  members(["channel", "peak_dbfs", "rms_dbfs", "dc_offset", "crest_db", "clipped",
           "peak_hz", "centroid_hz", "true_peak_dbtp"])
  and (.channel | count) and (.clipped | count)
  and all(.peak_dbfs, .rms_dbfs, .dc_offset, .crest_db, .peak_hz, .centroid_hz,
          .true_peak_dbtp; number_or_null);

def loudness:
  members(["integrated_lufs", "range_lu", "momentary_max_lufs", "shortterm_max_lufs",
           "true_peak_dbtp", "gain_db", "short_lu"])
  and all(.[]; number_or_null);

def file:
  members(["input", "output", "status", "error", "channels", "sample_rate",
           "output_sample_rate", "frames_read", "frames_written", "analysis", "loudness"]
          + span_members)
  and (.input | string_or_null) and (.output | string_or_null)
  and (.status == "ok" or .status == "failed")
  and (.error | string_or_null) and ((.status == "ok") == (.error == null))
  and all(.channels, .sample_rate, .output_sample_rate, .frames_read, .frames_written; count)
  and (.analysis == null or (.analysis | type == "array" and all(.[]; channel)))
  and (.loudness == null or (.loudness | loudness))
  and span;

def settings:
  members(["threads", "block_frames", "pipeline", "kernel", "eq_bands", "gain_db",
           "output_rate", "resampler", "resample_quality", "dither", "normalize_dbfs",
           "loudness_lufs", "true_peak_dbtp", "loudness_mode", "analyze", "no_loudness",
           "spectrum"])
  and (.threads | count) and (.block_frames | count) and (.eq_bands | count)
  and (.pipeline == "optimized" or .pipeline == "reference") and (.kernel | type == "string")
  and (.gain_db | number) and (.output_rate == null or (.output_rate | count))
  and (.resampler | IN("soxr", "libsamplerate"))
  and (.resample_quality | IN("best", "high", "medium", "fast", "linear"))
  and (.dither | IN("auto", "tpdf", "none"))
  and (.normalize_dbfs | number_or_null) and (.analyze | type == "boolean")
  and (.no_loudness | type == "boolean")
  and (.loudness_lufs | number_or_null) and (.true_peak_dbtp | number_or_null)
  and (.loudness_mode == null or (.loudness_mode | IN("track", "album")))
  and (.spectrum == null
       or (.spectrum | members(["fft_size", "window", "overlap", "scale", "of",
                                "channels_mode", "fft_plan"])
           and (.fft_size | count) and (.window | type == "string") and (.overlap | number)
           and (.scale | IN("psd", "dbfs")) and (.of | IN("output", "input", "both"))
           and (.channels_mode | IN("each", "mix"))
           and (.fft_plan | IN("estimate", "measure"))));

. as $root
| members(["schema", "schema_version", "tool", "version", "settings", "files", "batch"])
and .schema == "rusty-audio-stats" and .schema_version == 5 and .tool == "rusty-audio"
and (.version | type == "string")
and (.settings | settings)
and (.files | type == "array" and all(.[]; file))
and (.batch | members(["files", "failed"] + span_members) and span)
and .batch.files == (.files | length)
and .batch.failed == ([.files[] | select(.status == "failed")] | length)
and all(.batch.stages | keys[]; . as $s
        | $root.batch.stages[$s].blocks == ([$root.files[].stages[$s].blocks] | add // 0))
