-- wrk's summary as one JSON line, for benchmarks/bench_http.py:
--   wrk --script benchmarks/wrk_summary.lua URL
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p99_us": %d, "connect": %d, "read": %d,'
      .. ' "write": %d, "timeout": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(99), errors.connect,
    errors.read, errors.write, errors.timeout, errors.status))
end
