-- wrk reporter: one JSON line the harness parses (latencies in microseconds).
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p99": %d, "mean": %.1f}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
