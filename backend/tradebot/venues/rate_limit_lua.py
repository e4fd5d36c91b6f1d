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
--       queue (zset: ticket -> priority band + arrival number), alive (zset: ticket ->
--       expires at), ticket counter, then the account's order windows (only for an order).
-- ARGV: weight, tenant, span, bucket, budget, tenant cap, grace, priority rank, ticket (''
--       for none yet), ticket ttl, then span, bucket, limit for each order window.
-- Returns {granted, wait_ms, reason, now_ms, ticket}.
--
-- A waiter for the IP's budget holds a ticket "<number>:<weight>" in the queue, scored
-- rank * BAND + number: lower ranks (more urgent) first, then arrival order. Waiters ahead
-- reserve their weight, so weight that frees goes to them, not to whoever asks next; a
-- waiter behind may only use what is left beyond their reservations.
local BAND = 1099511627776 -- 2^40 tickets per rank; scores stay exact doubles (< 2^53)
local FIRST_ORDER_KEY, FIRST_ORDER_ARG = 8, 11
local now = now_ms()
local weight, tenant = tonumber(ARGV[1]), ARGV[2]
local span, bucket = tonumber(ARGV[3]), tonumber(ARGV[4])
local budget, cap, grace = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local rank, ticket, ttl = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local queue, alive, counter = KEYS[5], KEYS[6], KEYS[7]

-- A waiter refreshes its ticket on every call; one that stopped calling (crashed, killed)
-- loses it after ttl, so that it cannot hold the queue up forever.
local stale = redis.call('ZRANGEBYSCORE', alive, '-inf', now)
for i = 1, #stale, 1000 do
  redis.call('ZREM', queue, unpack(stale, i, math.min(i + 999, #stale)))
end
redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)

-- Without a ticket, every waiter of this rank or a more urgent one is ahead.
local mine = (rank + 1) * BAND
if ticket ~= '' then
  mine = rank * BAND + tonumber(string.match(ticket, '^(%d+):'))
end

local function hold()
  if ticket == '' then
    local number = redis.call('INCR', counter)
    ticket = string.format('%d:%d', number, weight)
    mine = rank * BAND + number
  end
  -- (re-)adding keeps the place of a ticket that expired under a waiter still alive
  redis.call('ZADD', queue, mine, ticket)
  redis.call('ZADD', alive, now + ttl, ticket)
  redis.call('PEXPIRE', queue, 2 * ttl)
  redis.call('PEXPIRE', alive, 2 * ttl)
end

local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if blocked > now then
  hold() -- the order of service after the penalty is the order of arrival during it
  local status = redis.call('HGET', KEYS[1], 'status') or '?'
  return {0, blocked - now, 'blocked:' .. status, now, ticket}
end

local wait, reason = 0, 'ok'
local function refuse(ms, why)
  if ms > wait then wait, reason = ms, why end
end

for i = FIRST_ORDER_KEY, #KEYS do
  local j = FIRST_ORDER_ARG + (i - FIRST_ORDER_KEY) * 3
  local ospan, obucket, olimit = tonumber(ARGV[j]), tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2])
  local used, live = window(KEYS[i], ospan, obucket, now)
  if used + 1 > olimit then
    refuse(wait_for(live, used + 1 - olimit, ospan, obucket, now), 'orders')
  end
end

local used, live = window(KEYS[2], span, bucket, now)
-- The weight reserved by the waiters ahead, counted only as far as it matters: once it
-- passes what is left of the budget, this request waits anyway.
local room, ahead, offset = budget - used - weight, 0, 0
while ahead <= room do
  local batch = redis.call(
    'ZRANGEBYSCORE', queue, '-inf', string.format('(%d', mine), 'LIMIT', offset, 128)
  for _, member in ipairs(batch) do
    ahead = ahead + tonumber(string.match(member, ':(%d+)$'))
  end
  if #batch < 128 then break end
  offset = offset + 128
end
local excess = used + ahead + weight - budget
local over_budget = excess > 0
if over_budget then
  local ms = wait_for(live, math.min(excess, used), span, bucket, now)
  if excess > used then
    -- more is reserved ahead than the window holds: it takes that many more windows
    ms = ms + span * math.ceil((excess - used) / budget)
  end
  refuse(ms, 'budget')
end

-- Fair share: while any other tenant is present, a tenant already holding weight may not
-- go past its cap (a tenant holding none always may: one request is never starved).
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local others = redis.call('ZCARD', KEYS[3])
if redis.call('ZSCORE', KEYS[3], tenant) then others = others - 1 end
local held, held_live = window(KEYS[4], span, bucket, now)
if others > 0 and held > 0 and held + weight > cap then
  refuse(wait_for(held_live, held + weight - cap, span, bucket, now), 'tenant_share')
end

if wait > 0 then
  if over_budget then
    -- Waiting for the IP's budget makes a tenant present: the others are capped meanwhile.
    redis.call('ZADD', KEYS[3], 'GT', now + wait + grace, tenant)
    redis.call('PEXPIRE', KEYS[3], 2 * span + grace)
  end
  -- Only the IP's budget is queued for; a ticket already held keeps its place meanwhile.
  if over_budget or ticket ~= '' then hold() end
  return {0, wait, reason, now, ticket}
end

if ticket ~= '' then
  redis.call('ZREM', queue, ticket)
  redis.call('ZREM', alive, ticket)
end
add(KEYS[2], span, bucket, now, weight)
add(KEYS[4], span, bucket, now, weight)
for i = FIRST_ORDER_KEY, #KEYS do
  local j = FIRST_ORDER_ARG + (i - FIRST_ORDER_KEY) * 3
  add(KEYS[i], tonumber(ARGV[j]), tonumber(ARGV[j + 1]), now, 1)
end
redis.call('ZADD', KEYS[3], 'GT', now + span, tenant)
redis.call('PEXPIRE', KEYS[3], 2 * span + grace)
return {1, 0, 'ok', now, ''}
"""
)

RELEASE = """
-- KEYS: queue, alive. ARGV: ticket. A waiter that gave up (its max_wait, cancelled) leaves.
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""

OBSERVE = (
    _COMMON
    + """
-- KEYS: windows the exchange reported on. ARGV: reported, span, bucket for each.
-- Raises each window to what the exchange counted (never lowers it); returns what was added.
-- The exchange counts in fixed windows from the epoch (Binance's minute, 10 s, day): what it
-- reported is dated at its window's start, so it leaves ours when the exchange's resets (after
-- a Redis restart, the first answer's count would otherwise fill the budget for a whole span).
local now = now_ms()
local added = {}
for i = 1, #KEYS do
  local j = (i - 1) * 3
  local reported, span, bucket = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local used = window(KEYS[i], span, bucket, now)
  local extra = math.max(0, reported - used)
  if extra > 0 then add(KEYS[i], span, bucket, math.floor(now / span) * span, extra) end
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
-- KEYS: blocked, alive (the queue's tickets), then windows. ARGV: span, bucket for each
-- window. Returns {blocked ms left, live tickets, usage of each window}.
local now = now_ms()
local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local out = {math.max(0, blocked - now), redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')}
for i = 3, #KEYS do
  local j = (i - 3) * 2
  out[i] = window(KEYS[i], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), now)
end
return out
"""
)

CONNECT = """
-- KEYS: the next connection's theoretical time (GCRA). ARGV: interval ms, burst, urgent. A
-- caller books the next slot (no one is refused: callers queue in the order they asked) and
-- waits the milliseconds returned; an urgent one goes now, and those queued go one slot later.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local at = math.max(now, tat - (burst - 1) * interval)
if ARGV[3] == '1' then at = now end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', tat - now + 1000)
return at - now
"""
