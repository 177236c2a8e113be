-- wrk script for bench/web.py: after the run, print one line of figures it reads.
-- Times are in microseconds; "status" counts responses that were not 2xx or 3xx.
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "CPLAN_RESULT requests=%d duration_us=%d p50=%.0f p95=%.0f p99=%.0f max=%.0f"
      .. " connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
