-- wrk script of run.sh: POSTs `{}` to the invoke API with the bearer token in $PB_TOKEN and prints
-- one line at the end:
-- RESULT {"requests":…,"duration_us":…,"p50_us":…,"p99_us":…,"errors":…,"non2xx":…}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PB_TOKEN")
wrk.body = "{}"

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    non2xx = 0
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    end
end

function done(summary, latency, requests)
    local bad = 0
    for _, thread in ipairs(threads) do
        bad = bad + thread:get("non2xx")
    end
    local e = summary.errors
    io.write(string.format(
        'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, bad))
end
