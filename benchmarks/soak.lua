-- The request mix of `make soak` (benchmarks/soak.py), for wrk against
-- benchmarks/soak_app.py.
--
-- Each request carries an X-Soak-Kind header that the app echoes, because wrk
-- does not tell which request a response answers (a thread's connections
-- interleave). Every thread counts the statuses of each kind, and the responses
-- whose headers or body do not look as they should ("bad bodies"); `done` sums
-- the threads' tables and prints one tab-separated line per figure, starting with
-- "soak", for soak.py to read. HEAD is not here: wrk 4.1 waits for a body after a
-- HEAD response that has a Content-Length, so soak.py sends the HEAD requests.

local SCRIPT = "text/javascript; charset=utf-8"

-- kind, method, path, extra headers, expected statuses, body check
local MIX = {
  {"jsonp", "GET", "/api/items?callback=app.callbacks.onItems", nil, {200}, "script"},
  {"jsonp", "GET", "/api/items?callback=jQuery37100123456789_1700000000000", nil, {200}, "script"},
  {"jsonp", "GET", "/api/items?callback=cbs%5B3%5D", nil, {200}, "script"},
  {"jsonpify", "GET", "/api/user?callback=onUser", nil, {200}, "script"},
  {"blueprint", "GET", "/public/stats?callback=onStats", nil, {200}, "script"},
  {"json", "GET", "/api/items", nil, {200}, "json"},
  {"json", "GET", "/api/user", nil, {200}, "json"},
  {"json", "GET", "/public/stats", nil, {200}, "json"},
  {"hostile", "GET", "/api/items?callback=alert(1)", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=a%3Bb", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=this.x", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=x.constructor", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=a&callback=b", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=" .. string.rep("a", 129), nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=CWS" .. string.rep("0hCD0Up0IZUnnnn", 10), nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=%FF%FE", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=caf%C3%A9", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=cb%E2%80%A8", nil, {400}, "refusal"},
  {"hostile", "GET", "/api/items?callback=cb%00", nil, {400}, "refusal"},
  {"not-allowed", "GET", "/api/fixed?callback=document.body.click", nil, {403}, "refusal"},
  {"post", "POST", "/api/items?callback=cb", {["Content-Type"] = "application/json"}, {405}, "refusal", "{}"},
  {"envelope", "GET", "/api/enveloped/404?callback=cb", nil, {200}, "envelope"},
  {"envelope", "GET", "/api/enveloped/403?callback=cb", nil, {200}, "envelope"},
  {"envelope", "GET", "/public/gone?callback=cb", nil, {200}, "envelope"},
  {"referrer-ok", "GET", "/api/private?callback=cb", {Referer = "https://app.example/page"}, {200}, "script"},
  {"referrer-ok", "GET", "/api/private?callback=cb", {Referer = "https://shop.example.com/"}, {200}, "script"},
  {"referrer-refused", "GET", "/api/private?callback=cb", {Referer = "https://evil.example/"}, {403}, "refusal"},
  {"referrer-refused", "GET", "/api/private?callback=cb", nil, {403}, "refusal"},
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread state (each thread has its own Lua state).
local requests = {}
local next_request = 0
statuses = {}  -- "kind<TAB>status" -> count; globals so `done` can read them
bad = {}       -- kind -> count

function init(args)
  for _, entry in ipairs(MIX) do
    local kind, method, path, extra, _, _, body = unpack(entry)
    local headers = {["X-Soak-Kind"] = kind}
    for name, value in pairs(extra or {}) do
      headers[name] = value
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  -- Threads start at different places in the mix.
  next_request = math.random(#requests) - 1
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

local checks = {}
for _, entry in ipairs(MIX) do
  checks[entry[1]] = entry[6]
end

local function starts_with(text, prefix)
  return text ~= nil and string.sub(text, 1, #prefix) == prefix
end

local function contains(text, part)
  return text ~= nil and string.find(text, part, 1, true) ~= nil
end

local function looks_right(check, headers, body)
  if headers["X-Content-Type-Options"] ~= "nosniff" then
    return false
  end
  local content_type = headers["Content-Type"]
  if check == "json" then
    return content_type == "application/json" and starts_with(body, "{")
  elseif check == "refusal" then
    return content_type == "application/json" and contains(body, '"error":')
  end
  if content_type ~= SCRIPT or not starts_with(body, "/**/") then
    return false
  end
  if check == "envelope" then
    -- An error status reported to the callback, with the error as the data.
    return string.find(body, '{"meta":{"status":4%d%d},"data":{') ~= nil
  end
  return headers["Cross-Origin-Resource-Policy"] == "cross-origin"
end

function response(status, headers, body)
  local kind = headers["X-Soak-Kind"] or "unknown"
  local key = kind .. "\t" .. status
  statuses[key] = (statuses[key] or 0) + 1
  local check = checks[kind]
  if check == nil or not looks_right(check, headers, body) then
    bad[kind] = (bad[kind] or 0) + 1
  end
end

function done(summary, latency, requests_stats)
  local totals, bad_totals = {}, {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses") or {}) do
      totals[key] = (totals[key] or 0) + count
    end
    for kind, count in pairs(thread:get("bad") or {}) do
      bad_totals[kind] = (bad_totals[kind] or 0) + count
    end
  end
  for key, count in pairs(totals) do
    io.write("soak\tstatus\t", key, "\t", count, "\n")
  end
  for kind, count in pairs(bad_totals) do
    io.write("soak\tbad\t", kind, "\t", count, "\n")
  end
  local expected = {}
  for _, entry in ipairs(MIX) do
    for _, status in ipairs(entry[5]) do
      expected[entry[1] .. "\t" .. status] = true
    end
  end
  for key in pairs(expected) do
    io.write("soak\texpect\t", key, "\n")
  end
  local errors = summary.errors
  io.write("soak\tsummary\trequests\t", summary.requests, "\n")
  io.write("soak\tsummary\tduration_us\t", summary.duration, "\n")
  for _, name in ipairs({"connect", "read", "write", "timeout"}) do
    io.write("soak\tsummary\t", name, "\t", errors[name], "\n")
  end
  io.write("soak\tsummary\tlatency_p99_us\t", latency:percentile(99), "\n")
end
