-- wrk script for the soak run: a mix of reads and flow toggles, optionally paced.
--
-- Environment: GW_TOKEN (Bearer token), GW_FLOWS (comma-separated flow ids), GW_PROJECT,
-- GW_RATE (total requests per second over all threads; 0 or unset: as fast as possible),
-- GW_THREADS (wrk's -t, to split the rate). Pacing is wrk2-like: each thread keeps a schedule
-- of one request every GW_THREADS / GW_RATE seconds and `delay()` waits for the next slot.
-- `done()` prints one line `WRK_RESULT {json}` with the counts, statuses and latencies.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } gw_timespec;
  int clock_gettime(int clock_id, gw_timespec *tp);
]]
local clock = ffi.new("gw_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local BASE = "/gassapi2/backend/"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local token, project, flows, interval, next_slot, n
statuses = {} -- global: done() reads it from each thread

function init(args)
  token = os.getenv("GW_TOKEN") or ""
  project = os.getenv("GW_PROJECT") or ""
  flows = {}
  for flow in string.gmatch(os.getenv("GW_FLOWS") or "", "[^,]+") do
    table.insert(flows, flow)
  end
  local rate = tonumber(os.getenv("GW_RATE") or "0") or 0
  local thread_count = tonumber(os.getenv("GW_THREADS") or "1") or 1
  interval = rate > 0 and (1000 * thread_count / rate) or 0
  next_slot = now_ms()
  statuses = {}
  n = 0
  math.randomseed(id * 7919)
end

local function headers(with_body)
  local h = { ["Authorization"] = "Bearer " .. token, ["User-Agent"] = "stress-soak" }
  if with_body then
    h["Content-Type"] = "application/json"
  end
  return h
end

function request()
  n = n + 1
  local flow = flows[math.random(#flows)]
  local dice = math.random(100)
  if dice <= 30 then
    return wrk.format("PUT", BASE .. "?act=flow_toggle_active&id=" .. flow, headers(true),
      '{"reason":"soak"}')
  elseif dice <= 60 then
    return wrk.format("GET", BASE .. "?act=flow&id=" .. flow, headers(false))
  elseif dice <= 80 then
    return wrk.format("GET", BASE .. "?act=flows&id=" .. project, headers(false))
  elseif dice <= 90 then
    return wrk.format("GET", BASE .. "?act=flows_active&id=" .. project, headers(false))
  elseif dice <= 95 then
    return wrk.format("GET", BASE .. "?act=flow_status_history&id=" .. flow .. "&limit=10",
      headers(false))
  end
  return wrk.format("GET", BASE .. "?act=health", {})
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function delay()
  if interval <= 0 then
    return 0
  end
  local now = now_ms()
  -- never bank more than one second of missed slots (no bursts after a stall)
  next_slot = math.max(next_slot + interval, now - 1000)
  return math.max(0, math.floor(next_slot - now))
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_ms":{"mean":%.2f,"p50":%.2f,"p90":%.2f,"p99":%.2f,"max":%.2f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, table.concat(parts, ",")))
end
