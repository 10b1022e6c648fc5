-- The request mix of `make soak` (benchmarks/soak.py) against benchmarks/soak_app.py.
-- Each thread counts statuses by the X-Soak-Kind the app echoes, and the answers
-- that do not look right ("bad"); `done` prints the sums, the expected statuses and
-- wrk's summary as one JSON line. HEAD is not here: wrk 4.1 waits for a body after
-- a HEAD answer with a Content-Length, so soak.py sends the HEAD requests.

local SCRIPT = "text/javascript; charset=utf-8"

-- A Referer written afresh for each request: a page never seen before, so that
-- the metrics' labels must stay bounded however many pages ask.
local UNIQUE_PAGE = {}

-- kind, method, path, extra headers, expected status, body check, body; the
-- requests of one kind share their status and their body check
local MIX = {
  {"jsonp", "GET", "/api/items?callback=app.callbacks.onItems", nil, 200, "script"},
  {"jsonp", "GET", "/api/items?callback=jQuery37100123456789_1700000000000", nil, 200, "script"},
  {"jsonp", "GET", "/api/items?callback=cbs%5B3%5D", nil, 200, "script"},
  {"jsonpify", "GET", "/api/user?callback=onUser", nil, 200, "script"},
  {"blueprint", "GET", "/public/stats?callback=onStats", nil, 200, "script"},
  {"json", "GET", "/api/items", nil, 200, "json"},
  {"json", "GET", "/api/user", nil, 200, "json"},
  {"json", "GET", "/public/stats", nil, 200, "json"},
  {"hostile", "GET", "/api/items?callback=alert(1)", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=a%3Bb", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=this.x", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=x.constructor", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=a&callback=b", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=" .. string.rep("a", 129), nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=CWS" .. string.rep("0hCD0Up0IZUnnnn", 10), nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=%FF%FE", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=django.jQuery", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=Backbone.%24", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=caf%C3%A9", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=cb%E2%80%A8", nil, 400, "refusal:invalid_callback"},
  {"hostile", "GET", "/api/items?callback=cb%00", nil, 400, "refusal:invalid_callback"},
  -- Valid names the safe policy refuses: they would act on the page.
  {"hostile", "GET", "/api/items?callback=document.body.click", nil, 400, "refusal:invalid_callback"},
  -- Names the policy accepts, which only the view's callback allowlist refuses.
  {"not-allowed", "GET", "/api/fixed?callback=onOther", nil, 403, "refusal:callback_not_allowed"},
  {"not-allowed", "GET", "/api/fixed?callback=ondata", nil, 403, "refusal:callback_not_allowed"},
  {"post", "POST", "/api/items?callback=cb", {["Content-Type"] = "application/json"}, 405, "refusal:method_not_allowed", "{}"},
  {"envelope", "GET", "/api/enveloped/404?callback=cb", nil, 200, "envelope"},
  {"envelope", "GET", "/api/enveloped/403?callback=cb", nil, 200, "envelope"},
  {"envelope", "GET", "/public/gone?callback=cb", nil, 200, "envelope"},
  {"referrer-ok", "GET", "/api/private?callback=cb", {Referer = "https://app.example/page"}, 200, "script"},
  {"referrer-ok", "GET", "/api/private?callback=cb", {Referer = "https://shop.example.com/"}, 200, "script"},
  {"referrer-refused", "GET", "/api/private?callback=cb", {Referer = "https://evil.example/"}, 403, "refusal:referrer_not_allowed"},
  {"referrer-refused", "GET", "/api/private?callback=cb", nil, 403, "refusal:referrer_not_allowed"},
  {"report-only", "GET", "/api/tightening?callback=cb", {Referer = "https://evil.example/"}, 200, "script"},
  {"many-pages", "GET", "/api/tightening?callback=cb", {Referer = UNIQUE_PAGE}, 200, "script"},
  {"many-pages", "GET", "/api/items?callback=cb", {Referer = UNIQUE_PAGE}, 200, "script"},
  {"deprecated", "GET", "/api/retiring?callback=cb", nil, 200, "notice"},
  {"gone", "GET", "/api/retired?callback=cb", nil, 410, "refusal:gone"},
  {"json", "GET", "/api/retired", nil, 200, "json"},
  {"cors", "GET", "/api/private", {Origin = "https://shop.example.com"}, 200, "cors"},
  -- A before_request function answers instead of the view (a rate limit): after
  -- the checks, with nosniff, and to the envelope's callback.
  {"limited", "GET", "/api/items?callback=cb", {["X-Soak-Limit"] = "1"}, 429, "limited"},
  {"limited", "GET", "/api/items", {["X-Soak-Limit"] = "1"}, 429, "limited"},
  {"limited-refused", "GET", "/api/fixed?callback=onOther", {["X-Soak-Limit"] = "1"}, 403, "refusal:callback_not_allowed"},
  {"limited-envelope", "GET", "/public/stats?callback=cb", {["X-Soak-Limit"] = "1"}, 200, "envelope"},
  {"preflight", "OPTIONS", "/api/private?callback=cb", {Origin = "https://app.example", ["Access-Control-Request-Method"] = "GET"}, 200, "preflight"},
}

local threads = {}

function setup(thread) table.insert(threads, thread) end

-- Per-thread state (each thread has its own Lua state).
local requests, checks, next_request = {}, {}, 0
statuses = {}  -- "kind status" -> count; globals so `done` can read them
bad = {}       -- kind -> count

function init(args)
  for _, entry in ipairs(MIX) do
    local kind, method, path, extra, _, _, body = unpack(entry)
    local headers = {["X-Soak-Kind"] = kind}
    for name, value in pairs(extra or {}) do
      headers[name] = value
    end
    if headers.Referer == UNIQUE_PAGE then
      table.insert(requests, function()
        headers.Referer = string.format("https://p%d.test/", math.random(1e9))
        return wrk.format(method, path, headers, body)
      end)
    else
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    checks[kind] = entry[6]
  end
  -- Threads start at different places in the mix.
  next_request = math.random(#requests) - 1
end

function request()
  next_request = next_request % #requests + 1
  local built = requests[next_request]
  return type(built) == "function" and built() or built
end

local function add(totals, key, count)
  totals[key] = (totals[key] or 0) + count
end

local function looks_right(check, headers, body)
  local content_type = headers["Content-Type"]
  body = body or ""
  if check == "preflight" then
    -- Flask's (or flask-cors') empty answer: no body to sniff.
    return headers["Access-Control-Allow-Origin"] == "https://app.example" and body == ""
  elseif headers["X-Content-Type-Options"] ~= "nosniff" then
    return false
  elseif check == "json" then
    return content_type == "application/json" and body:sub(1, 1) == "{"
  elseif check == "limited" then
    return content_type == "application/json"
      and body:find('"error":"too_many_requests"', 1, true) ~= nil
  elseif check == "cors" then
    return content_type == "application/json" and body:sub(1, 1) == "{"
      and headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
  elseif check:sub(1, 8) == "refusal:" then
    -- The JSON error, with the code of this refusal ("refusal:<code>").
    return content_type == "application/json"
      and body:find('"error":"' .. check:sub(9) .. '"', 1, true) ~= nil
  elseif content_type ~= SCRIPT or body:sub(1, 4) ~= "/**/" then
    return false
  elseif check == "envelope" then
    -- An error status reported to the callback, with the error as the data.
    return body:find('{"meta":{"status":4%d%d},"data":{') ~= nil
  elseif check == "notice" then
    -- The end announced in the headers and, for the script, in the envelope.
    return headers["Deprecation"] == "@1793491200"
      and headers["Sunset"] == "Thu, 01 Jan 2099 00:00:00 GMT"
      and headers["Link"] == '<https://api.example/retiring-jsonp>; rel="deprecation"'
      and body:find('{"meta":{"status":200,"deprecation":"2026-11-01T00:00:00Z",', 1, true) ~= nil
  end
  return headers["Cross-Origin-Resource-Policy"] == "cross-origin"
end

function response(status, headers, body)
  local kind = headers["X-Soak-Kind"] or "unknown"
  add(statuses, kind .. " " .. status, 1)
  if checks[kind] == nil or not looks_right(checks[kind], headers, body) then
    add(bad, kind, 1)
  end
end

local function json(value)
  if type(value) ~= "table" then return tostring(value) end  -- numbers only
  local parts = {}
  for key, item in pairs(value) do
    table.insert(parts, string.format("%q: %s", tostring(key), json(item)))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function total(name)
  local totals = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get(name) or {}) do
      add(totals, key, count)
    end
  end
  return totals
end

function done(summary, latency, requests_stats)
  local expected = {}
  for _, entry in ipairs(MIX) do
    expected[entry[1] .. " " .. entry[5]] = true
  end
  local errors = summary.errors
  io.write(json({
    statuses = total("statuses"), bad = total("bad"), expected = expected,
    duration_us = summary.duration, p99_us = latency:percentile(99),
    connect = errors.connect, read = errors.read, write = errors.write,
    timeout = errors.timeout,
  }), "\n")
end
