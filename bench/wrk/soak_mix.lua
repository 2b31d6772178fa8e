-- The soak's request mix (bench/soak.py): each connection cycles through these 20 requests
-- (sync and async JSON, uploads, streams, a background task, 404/418/422 and a 500), and every
-- status is counted so soak.py can check that nothing unexpected came back.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local upload = string.rep("u", 4096)

function init(args)
  statuses = {}
  local json = { ["Content-Type"] = "application/json" }
  local octets = { ["Content-Type"] = "application/octet-stream" }
  reqs = {
    wrk.format("GET", "/sync/7"),
    wrk.format("GET", "/async/3?q=soak"),
    wrk.format("GET", "/sync/12"),
    wrk.format("GET", "/async/99"),
    wrk.format("POST", "/upload", octets, upload),
    wrk.format("GET", "/stream/5"),
    wrk.format("GET", "/sync/1"),
    wrk.format("GET", "/async/1"),
    wrk.format("GET", "/background"),
    wrk.format("GET", "/sync/not-a-number"),   -- 422
    wrk.format("GET", "/sync/3"),
    wrk.format("GET", "/async/4"),
    wrk.format("GET", "/missing"),             -- 404
    wrk.format("POST", "/upload", json, "{}"),
    wrk.format("GET", "/stream/50"),
    wrk.format("GET", "/teapot"),              -- 418
    wrk.format("GET", "/sync/5"),
    wrk.format("GET", "/async/5"),
    wrk.format("GET", "/fail"),                -- 500, logged with its traceback
    wrk.format("GET", "/sync/15"),
  }
  i = 0
end

function request()
  i = i + 1
  return reqs[(i - 1) % #reqs + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("soak-status %d %d\n", status, n))
  end
  io.write(string.format("soak-errors %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
