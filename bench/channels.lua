-- wrk script for bench/channels.py and bench/submit.py: kiosk JSON submissions, counted on
-- the client side.
--
-- Arguments (after `--`): PATHS BODIES RUN_ID THREADS
--   PATHS     the kiosk submit path, or several separated by commas (several kiosks of one
--             store): request n goes to path n modulo the count.
--   BODIES    file of JSON bodies, one per line; request n uses line n modulo the count,
--             with "__KEY__" replaced by an idempotency key unique to this request
--             (run id, thread id, request counter, random suffix), as a kiosk's client
--             uuid would be.
--   RUN_ID    prefix of the keys, so keys never collide across runs.
--   THREADS   wrk's -t (kept for the output; keys carry the thread id).
-- Statuses are counted one by one: 201 (created), 200 (a replay: with unique keys there
-- must be none), 429 (rate limited), any other 2xx/3xx/4xx/5xx.
-- done() prints one "WRKJSON {...}" line that bench/load.py (run_wrk) parses.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for p in string.gmatch(args[1], "[^,]+") do
    paths[#paths + 1] = p
  end
  bodies = {}
  for line in io.lines(args[2]) do
    if line ~= "" then
      bodies[#bodies + 1] = line
    end
  end
  run_id = args[3]
  math.randomseed(os.time() * 1000 + tid)
  sent, received = 0, 0
  s200, s201, s2xx, s3xx, s4xx, s429, s5xx, other = 0, 0, 0, 0, 0, 0, 0, 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  sent = sent + 1
  local key = string.format("%s-%d-%d-%06x", run_id, tid, sent, math.random(0, 0xffffff))
  local body = bodies[((sent - 1) % #bodies) + 1]:gsub("__KEY__", key)
  return wrk.format("POST", paths[((sent - 1) % #paths) + 1], headers, body)
end

function response(status, headers, body)
  received = received + 1
  if status == 201 then
    s201 = s201 + 1
  elseif status == 200 then
    s200 = s200 + 1
  elseif status >= 200 and status < 300 then
    s2xx = s2xx + 1
  elseif status >= 300 and status < 400 then
    s3xx = s3xx + 1
  elseif status == 429 then
    s429 = s429 + 1
  elseif status >= 400 and status < 500 then
    s4xx = s4xx + 1
  elseif status >= 500 then
    s5xx = s5xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local names = { "sent", "received", "s200", "s201", "s2xx", "s3xx", "s4xx", "s429", "s5xx",
                  "other" }
  local totals = {}
  for _, name in ipairs(names) do
    totals[name] = 0
    for _, thread in ipairs(threads) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  -- wrk calls request() once on the first thread to check it before the run starts;
  -- that request is built but never sent.
  totals.sent = totals.sent - 1
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, "sent": %d, "received": %d, '
      .. '"s200": %d, "s201": %d, "s2xx_other": %d, "s3xx": %d, "s4xx_other": %d, '
      .. '"s429": %d, "s5xx": %d, "other": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.duration, summary.requests, summary.bytes, totals.sent, totals.received,
    totals.s200, totals.s201, totals.s2xx, totals.s3xx, totals.s4xx, totals.s429,
    totals.s5xx, totals.other,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
