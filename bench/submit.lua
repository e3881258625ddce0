-- wrk script for the bench scripts (bench/load.py: wrk()): one request shape per run, counted
-- on the client side.
--
-- Arguments (after `--`): METHOD PATH SESSIONS BODIES COOKIE RUN_ID THREADS LOCATION [MUST]
--   SESSIONS  file of "sessionid=..." lines, one per member, or "-": request n uses line n,
--             so every submission comes from a different signed-in member (a member answers
--             a survey once); running past the end reuses lines and is counted as `reused`.
--   BODIES    file of url-encoded form bodies, or "-": request n uses line n modulo the count;
--             "__KEY__" in a body becomes a key unique to this request.
--   COOKIE    extra cookies sent with every request (the CSRF cookie), or "-".
--   RUN_ID    prefix of the unique keys, so keys never collide across runs.
--   THREADS   wrk's -t, so threads can interleave session lines.
--   LOCATION  text a 3xx's Location must contain (the thank-you page), or "-"; a redirect
--             elsewhere (a login page, a list page) is a failure, counted as `bad_location`.
--   MUST      file of strings, one a line, that every 200's body must contain (a line
--             starting with "!": must not contain), or "-" / absent; a 200 that fails any
--             is counted as `bad_body` (a page that is not the form it should be).
-- done() prints one "WRKJSON {...}" line that bench/load.py parses.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  if path ~= "-" then
    for line in io.lines(path) do
      if line ~= "" then
        lines[#lines + 1] = line
      end
    end
  end
  return lines
end

function init(args)
  method = args[1]
  path = args[2]
  sessions = read_lines(args[3])
  bodies = read_lines(args[4])
  cookie = args[5] ~= "-" and args[5] or nil
  run_id = args[6]
  -- Seeded per thread so two threads never draw the same random suffix sequence.
  math.randomseed(os.time() * 1000 + tid)
  sent, received, s2xx, s3xx, s4xx, s5xx, other, reused = 0, 0, 0, 0, 0, 0, 0, 0
  nthreads = tonumber(args[7])
  location = args[8] ~= "-" and args[8] or nil
  bad_location = 0
  must, must_not = {}, {}
  for _, line in ipairs(read_lines(args[9] or "-")) do
    if string.sub(line, 1, 1) == "!" then
      must_not[#must_not + 1] = string.sub(line, 2)
    else
      must[#must + 1] = line
    end
  end
  bad_body = 0
end

local function body_ok(body)
  for _, text in ipairs(must) do
    if not string.find(body, text, 1, true) then
      return false
    end
  end
  for _, text in ipairs(must_not) do
    if string.find(body, text, 1, true) then
      return false
    end
  end
  return true
end

function request()
  sent = sent + 1
  local headers = {}
  local cookies = cookie
  if #sessions > 0 then
    -- Threads take interleaved lines, so no two threads ever share a member.
    local index = (sent - 1) * nthreads + tid
    if index > #sessions then
      reused = reused + 1
      index = ((index - 1) % #sessions) + 1
    end
    cookies = cookies and (cookies .. "; " .. sessions[index]) or sessions[index]
  end
  if cookies then
    headers["Cookie"] = cookies
  end
  local body = nil
  if #bodies > 0 then
    local key = string.format("%s-%d-%d-%06x", run_id, tid, sent, math.random(0, 0xffffff))
    body = (bodies[((sent - 1) % #bodies) + 1]:gsub("__KEY__", key))
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  received = received + 1
  if status >= 200 and status < 300 then
    s2xx = s2xx + 1
    if status == 200 and (#must > 0 or #must_not > 0) and not body_ok(body or "") then
      bad_body = bad_body + 1
    end
  elseif status >= 300 and status < 400 then
    s3xx = s3xx + 1
    local target = headers["Location"] or headers["location"] or ""
    if location and not string.find(target, location, 1, true) then
      bad_location = bad_location + 1
    end
  elseif status >= 400 and status < 500 then
    s4xx = s4xx + 1
  elseif status >= 500 then
    s5xx = s5xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { sent = 0, received = 0, s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, other = 0,
                   reused = 0, bad_location = 0, bad_body = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  -- wrk calls request() once on the first thread to check it before the run starts;
  -- that request is built but never sent.
  totals.sent = totals.sent - 1
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, "sent": %d, "received": %d, '
      .. '"s2xx": %d, "s3xx": %d, "s4xx": %d, "s5xx": %d, "other": %d, "reused_sessions": %d, '
      .. '"bad_location": %d, "bad_body": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d}}\n',
    summary.duration, summary.requests, summary.bytes, totals.sent, totals.received,
    totals.s2xx, totals.s3xx, totals.s4xx, totals.s5xx, totals.other, totals.reused,
    totals.bad_location, totals.bad_body,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max))
end
