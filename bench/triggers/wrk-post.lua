-- wrk script of intake.sh: POSTs a small JSON notification (Contoso's taskCreated shape), counts
-- the answers by status in every thread, and prints one line at the end:
-- RESULT {"requests":…,"duration_us":…,"p50_us":…,"p99_us":…,"errors":…,"statuses":{"202":…}}

-- WRK_METHOD=GET sends a bare GET instead (the /healthz baseline).

if os.getenv("WRK_METHOD") == "GET" then
    wrk.method = "GET"
else
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = '{"event":"taskCreated","task":{"id":"t-42","projectId":"p-7","name":"Benchmark task","done":false}}'
end

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local counts = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            counts[status] = (counts[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(counts) do
        table.insert(parts, string.format('"%d":%d', status, count))
    end
    local e = summary.errors
    io.write(string.format(
        'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
