-- One benchmark scenario for wrk: method, path template, optional ids, Bearer token and body.
--
--   wrk -s bench/wrk/scenario.lua http://127.0.0.1:PORT -- METHOD PATH IDS TOKEN BODY
--
-- PATH may contain "{id}", replaced round-robin by the lines of the file IDS ("-" for none);
-- each wrk thread starts at a different offset, so concurrent toggles rarely hit the same row.
-- TOKEN is the Bearer token ("-" for none); BODY a file whose content is sent as JSON ("-").
-- Every request is formatted once in init(); done() prints one JSON line for the harness.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  return lines
end

local function read_file(path)
  local handle = assert(io.open(path, "rb"))
  local content = handle:read("*a")
  handle:close()
  return content
end

local prepared = {}

function init(args)
  local method, template, ids_path, token, body_path = args[1], args[2], args[3], args[4], args[5]
  local headers = {}
  local body = nil
  if token ~= nil and token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
  if body_path ~= nil and body_path ~= "-" then
    body = read_file(body_path)
    headers["Content-Type"] = "application/json"
  end
  local ids = { "" }
  if ids_path ~= nil and ids_path ~= "-" then
    ids = read_lines(ids_path)
  end
  for _, id in ipairs(ids) do
    local path = template:gsub("{id}", id)
    table.insert(prepared, wrk.format(method, path, headers, body))
  end
  counter = math.floor(((offset * 0.61803398875) % 1) * #prepared)
end

function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
