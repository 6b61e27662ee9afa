-- wrk script of the Flows benchmark: sends BENCH_METHOD (GET or POST) with BENCH_BODY as JSON and,
-- when set, `Authorization: Bearer BENCH_TOKEN`; counts answers by status and those whose body is
-- not BENCH_EXPECT; prints one JSON line (prefixed "BENCH_JSON ") with the counts and latency
-- percentiles in microseconds. Environment:
--   BENCH_METHOD  GET | POST (default POST)
--   BENCH_BODY    request body for POST (default {"hello":"world"})
--   BENCH_TOKEN   bearer token (optional)
--   BENCH_EXPECT  expected answer body (default {"id":1,"name":"x"}); compared after removing spaces

local method = os.getenv("BENCH_METHOD") or "POST"
local body = os.getenv("BENCH_BODY") or '{"hello":"world"}'
local token = os.getenv("BENCH_TOKEN")
local expect = (os.getenv("BENCH_EXPECT") or '{"id":1,"name":"x"}'):gsub("%s", "")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
  mismatched = 0
  local headers = {}
  if method ~= "GET" then
    headers["Content-Type"] = "application/json"
  end
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  req = wrk.format(method, nil, headers, method ~= "GET" and body or nil)
end

function request()
  return req
end

function response(status, headers, text)
  codes[status] = (codes[status] or 0) + 1
  if status >= 200 and status < 300 and text:gsub("%s", "") ~= expect then
    mismatched = mismatched + 1
  end
end

function done(summary, latency, requests)
  local all, bad = {}, 0
  for _, thread in ipairs(threads) do
    local c = thread:get("codes")
    for status, n in pairs(c) do
      all[status] = (all[status] or 0) + n
    end
    bad = bad + thread:get("mismatched")
  end
  local parts = {}
  for status, n in pairs(all) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"codes":{%s},"body_mismatch":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes, table.concat(parts, ","), bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
