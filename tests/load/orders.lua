-- wrk script: POST /api/v1/market/orders, limit orders of 1 to 10 units
-- at 35.90–36.10 (a tick grid around the reference, so about half cross
-- the book and trade), buy or sell at random, gtc, each with its own
-- client_order_id, from random traders on random instruments.
-- BENCH_MARKET: a file of "trader <token> <org>" and "instrument <code>"
-- lines; BENCH_INSTRUMENTS: how many of the instruments to use (first n).
local traders, instruments = {}, {}

local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() + index * 7919)
  local limit = tonumber(os.getenv("BENCH_INSTRUMENTS") or "1")
  for line in io.lines(os.getenv("BENCH_MARKET")) do
    local token, org = line:match("^trader (%S+) (%S+)$")
    if token then table.insert(traders, {token, org}) end
    local code = line:match("^instrument (%S+)$")
    if code and #instruments < limit then table.insert(instruments, code) end
  end
end

local n = 0
function request()
  n = n + 1
  local t = traders[math.random(1, #traders)]
  local side = math.random(0, 1) == 0 and "buy" or "sell"
  local price = 3590 + 5 * math.random(0, 4)
  local body = string.format(
    '{"organization_id":"%s","client_order_id":"w%d-%d-%d","instrument":"%s","side":"%s","price":"%d.%02d","quantity":"%d","time_in_force":"gtc"}',
    t[2], index, n, math.random(1, 1000000000), instruments[math.random(1, #instruments)], side,
    math.floor(price / 100), price % 100, math.random(1, 10))
  return wrk.format("POST", "/api/v1/market/orders",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t[1]}, body)
end
