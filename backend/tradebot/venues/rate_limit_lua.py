"""The Lua scripts behind ``venues.rate_limit``: each runs atomically inside Redis, so every
process sharing a key sees one budget. Times come from Redis' own clock (``TIME``), never from
the callers', so hosts with drifting clocks still agree.

A window is a hash of buckets: field = bucket number (``floor(now_ms / bucket_ms)``), value =
weight spent in it. A window's usage is the sum of every bucket that overlaps the last
``span_ms``; the oldest of those may hold some weight older than the window, which only makes
the count higher (safe), by at most one bucket's worth.
"""

from __future__ import annotations

_COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The live buckets of a window (older ones are deleted): total, {bucket, amount} oldest first.
local function window(key, span, bucket, now)
  local first = math.floor((now - span) / bucket)
  local flat = redis.call('HGETALL', key)
  local total, live = 0, {}
  for i = 1, #flat, 2 do
    local b = tonumber(flat[i])
    if b < first then
      redis.call('HDEL', key, flat[i])
    else
      local amount = tonumber(flat[i + 1])
      total = total + amount
      live[#live + 1] = {b, amount}
    end
  end
  table.sort(live, function(x, y) return x[1] < y[1] end)
  return total, live
end

-- Milliseconds until `excess` weight has left the window (bucket b leaves once
-- now - span >= (b + 1) * bucket); all of it when the window holds less.
local function wait_for(live, excess, span, bucket, now)
  local freed, leaves = 0, span
  for _, entry in ipairs(live) do
    freed = freed + entry[2]
    leaves = (entry[1] + 1) * bucket + span - now
    if freed >= excess then break end
  end
  return math.max(1, leaves)
end

local function add(key, span, bucket, now, amount)
  redis.call('HINCRBY', key, string.format('%d', math.floor(now / bucket)), amount)
  redis.call('PEXPIRE', key, span + bucket)
end
"""

ACQUIRE = (
    _COMMON
    + """
-- KEYS: blocked, ip weight, tenants (zset: tenant -> present until), tenant weight,
--       then the account's order windows (only for an order).
-- ARGV: weight, tenant, span, bucket, budget, tenant cap, grace,
--       then span, bucket, limit for each order window.
-- Returns {granted, wait_ms, reason, now_ms}.
local now = now_ms()
local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if blocked > now then
  local status = redis.call('HGET', KEYS[1], 'status') or '?'
  return {0, blocked - now, 'blocked:' .. status, now}
end
local weight, tenant = tonumber(ARGV[1]), ARGV[2]
local span, bucket = tonumber(ARGV[3]), tonumber(ARGV[4])
local budget, cap, grace = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local wait, reason = 0, 'ok'
local function refuse(ms, why)
  if ms > wait then wait, reason = ms, why end
end

for i = 5, #KEYS do
  local j = 8 + (i - 5) * 3
  local ospan, obucket, olimit = tonumber(ARGV[j]), tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2])
  local used, live = window(KEYS[i], ospan, obucket, now)
  if used + 1 > olimit then
    refuse(wait_for(live, used + 1 - olimit, ospan, obucket, now), 'orders')
  end
end

local used, live = window(KEYS[2], span, bucket, now)
local over_budget = used + weight > budget
if over_budget then
  refuse(wait_for(live, used + weight - budget, span, bucket, now), 'budget')
end

-- Fair share: while any other tenant is present, a tenant already holding weight may not
-- go past its cap (a tenant holding none always may: one request is never starved).
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local others = redis.call('ZCARD', KEYS[3])
if redis.call('ZSCORE', KEYS[3], tenant) then others = others - 1 end
local mine, mine_live = window(KEYS[4], span, bucket, now)
if others > 0 and mine > 0 and mine + weight > cap then
  refuse(wait_for(mine_live, mine + weight - cap, span, bucket, now), 'tenant_share')
end

if wait > 0 then
  if over_budget then
    -- Waiting for the IP's budget makes a tenant present: the others are capped meanwhile.
    redis.call('ZADD', KEYS[3], 'GT', now + wait + grace, tenant)
    redis.call('PEXPIRE', KEYS[3], 2 * span + grace)
  end
  return {0, wait, reason, now}
end

add(KEYS[2], span, bucket, now, weight)
add(KEYS[4], span, bucket, now, weight)
for i = 5, #KEYS do
  local j = 8 + (i - 5) * 3
  add(KEYS[i], tonumber(ARGV[j]), tonumber(ARGV[j + 1]), now, 1)
end
redis.call('ZADD', KEYS[3], 'GT', now + span, tenant)
redis.call('PEXPIRE', KEYS[3], 2 * span + grace)
return {1, 0, 'ok', now}
"""
)

OBSERVE = (
    _COMMON
    + """
-- KEYS: windows the exchange reported on. ARGV: reported, span, bucket for each.
-- Raises each window to what the exchange counted (never lowers it); returns what was added.
local now = now_ms()
local added = {}
for i = 1, #KEYS do
  local j = (i - 1) * 3
  local reported, span, bucket = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local used = window(KEYS[i], span, bucket, now)
  local extra = math.max(0, reported - used)
  if extra > 0 then add(KEYS[i], span, bucket, now, extra) end
  added[i] = extra
end
return added
"""
)

PENALIZE = """
-- KEYS: blocked. ARGV: milliseconds, status. Blocks every caller until then; a shorter
-- penalty never shortens a longer one. Returns the milliseconds left.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if until_ms <= current then return current - now end
redis.call('HSET', KEYS[1], 'until', string.format('%d', until_ms), 'status', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], until_ms)
return until_ms - now
"""

USAGE = (
    _COMMON
    + """
-- KEYS: blocked, then windows. ARGV: span, bucket for each window.
-- Returns {blocked ms left, usage of each window}.
local now = now_ms()
local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local out = {math.max(0, blocked - now)}
for i = 2, #KEYS do
  local j = (i - 2) * 2
  out[i] = window(KEYS[i], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), now)
end
return out
"""
)
