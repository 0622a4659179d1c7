-- wrk script: POST /api/v1/trips as many users, each trip in its own time
-- slot so no two trips of a user overlap. BENCH_TOKENS is a file of access
-- tokens, one per line; BENCH_BASE the Unix time of the first slot.
-- Each wrk thread owns its share of the users (Lua states are per thread).
local tokens, counters = {}, {}
local thread_index, thread_count, next_user = 0, 1, 0
local base = tonumber(os.getenv("BENCH_BASE"))
-- Seconds between one user's trips: a 30-second metro ride of 250 m, then
-- a gap (BENCH_SLOT; the default packs a run into a few hours of one day).
local SLOT = tonumber(os.getenv("BENCH_SLOT") or "31")

local threads = {}
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + index * 7919)
  thread_count = tonumber(os.getenv("BENCH_THREADS") or "2")
  thread_index = index
  local all = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do table.insert(all, line) end
  for i, t in ipairs(all) do
    if (i - 1) % thread_count == thread_index then table.insert(tokens, t) end
  end
  for i = 1, #tokens do counters[i] = 0 end
end

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function uuid()
  local hex = "0123456789abcdef"
  local s = ""
  for i = 1, 32 do
    local r = math.random(1, 16)
    s = s .. hex:sub(r, r)
    if i == 8 or i == 12 or i == 16 or i == 20 then s = s .. "-" end
  end
  return s:sub(1, 14) .. "4" .. s:sub(16, 19) .. "8" .. s:sub(21)
end

function request()
  next_user = next_user % #tokens + 1
  local slot = counters[next_user]
  counters[next_user] = slot + 1
  local start = base + slot * SLOT
  -- Each rider on a line of their own (about 90 m apart): one journey
  -- from two accounts would go to review, as a copied trip does.
  local lon = 103.83 + (thread_index * 1000 + next_user) * 0.001
  local points = {}
  for i = 0, 9 do
    table.insert(points, string.format('{"lat":%.6f,"lon":%.4f,"t":"%s"}',
      36.06 + i * 0.25 / 9 / 111.2, lon, iso(start + math.floor(i * 30 / 9))))
  end
  local body = string.format(
    '{"client_trip_id":"%s","preset":"lanzhou-interim","legs":[{"mode":"metro","distance_km":"0.25"}],' ..
    '"started_at":"%s","ended_at":"%s","trace":[%s]}',
    uuid(), iso(start), iso(start + 30), table.concat(points, ","))
  return wrk.format("POST", "/api/v1/trips",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[next_user]}, body)
end

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end
