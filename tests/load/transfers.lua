-- wrk script: POST /api/v1/transfers of 1 g between enterprise accounts.
-- BENCH_ACCOUNTS: a file of "token account_id" lines; BENCH_BATCH: the
-- batch. BENCH_HOT set: every transfer goes to the first account (one hot
-- balance row); otherwise sender and receiver are random pairs.
local accounts = {}
local batch = os.getenv("BENCH_BATCH")
local hot = os.getenv("BENCH_HOT") == "1"

local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() + index * 7919)
  for line in io.lines(os.getenv("BENCH_ACCOUNTS")) do
    local token, account = line:match("^(%S+) (%S+)$")
    if token and token ~= "batch" then table.insert(accounts, {token, account}) end
  end
end

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
  local from, to
  if hot then
    from = math.random(2, #accounts)
    to = 1
  else
    from = math.random(1, #accounts)
    to = math.random(1, #accounts - 1)
    if to >= from then to = to + 1 end
  end
  local body = string.format(
    '{"transfer_id":"%s","from_account_id":"%s","to_account_id":"%s","batch_id":"%s","quantity_g":1}',
    uuid(), accounts[from][2], accounts[to][2], batch)
  return wrk.format("POST", "/api/v1/transfers",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. accounts[from][1]}, body)
end
