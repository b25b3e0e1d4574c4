-- bench/wrk.lua: wrk script used by bench/api and bench/revoke.
-- Sends the session cookie (BENCH_COOKIE, "name=value") when set; with BENCH_BODY_FILE, every
-- request is a POST of that file's bytes as BENCH_CONTENT_TYPE (an OCSP request). Counts
-- answers by status and prints one machine-readable line at the end, read by the scripts
-- (BENCH_NO_CACHE=1 adds Cache-Control: no-cache; BENCH_GZIP=1 adds Accept-Encoding: gzip, deflate,
-- br, as the portal's browser sends):
--   BENCH requests=N duration_s=S rps=R p50_ms=A p90_ms=B p99_ms=C max_ms=D non2xx=E errors=F
local cookie = os.getenv("BENCH_COOKIE")
if cookie ~= nil and cookie ~= "" then
	wrk.headers["Cookie"] = cookie
end
wrk.headers["Accept-Language"] = "ja"
-- BENCH_NO_CACHE=1: every request asks for an answer made afresh, as a browser's reload does
if os.getenv("BENCH_NO_CACHE") == "1" then
	wrk.headers["Cache-Control"] = "no-cache"
end
-- BENCH_GZIP=1: the browser's Accept-Encoding (kept list pages are then sent gzip)
if os.getenv("BENCH_GZIP") == "1" then
	wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
end

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file ~= nil and body_file ~= "" then
	local f = assert(io.open(body_file, "rb"))
	wrk.method = "POST"
	wrk.body = f:read("*a")
	f:close()
	wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/octet-stream"
end

function done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format(
		"BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d\n",
		summary.requests, secs, summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000,
		e.status, e.connect + e.read + e.write + e.timeout))
end
