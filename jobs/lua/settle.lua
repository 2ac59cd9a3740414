-- Settle a reservation to what the call really cost (or release it: cost 0, no usage), and
-- count the call in the owner's usage of the day and the month. A reservation already
-- released (a sweep took its horse for dead) only adds what was really spent.
-- KEYS[1] the job's spend hash, KEYS[2] the reservation day's spend hash,
-- KEYS[3] the owner's usage of today, KEYS[4] the owner's usage of this month
-- ARGV[1] reservation id or '', ARGV[2] cost in micro-dollars, ARGV[3] owner field,
-- ARGV[4] engine ('' for a release: no usage counted), ARGV[5] calls, ARGV[6] input tokens,
-- ARGV[7] output tokens, ARGV[8] seconds the usage of a day lives, ARGV[9] of a month.
-- Returns the amount that was held.
local cost = tonumber(ARGV[2])
local held = 0
if ARGV[1] ~= '' then
  local found = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
  if found then
    held = tonumber(string.match(found, '^(%d+)'))
    redis.call('HDEL', KEYS[1], 'r:' .. ARGV[1])
    -- a free call's reservation is 0, and Lua's -0 is no integer to HINCRBY
    if held > 0 then redis.call('HINCRBY', KEYS[1], 'reserved', -held) end
  end
end
if cost > 0 then redis.call('HINCRBY', KEYS[1], 'settled', cost) end
if cost ~= held then
  redis.call('HINCRBY', KEYS[2], ARGV[3], cost - held)
  redis.call('HINCRBY', KEYS[2], 'total', cost - held)
end
if ARGV[4] ~= '' then
  for i, key in ipairs({KEYS[3], KEYS[4]}) do
    redis.call('HINCRBY', key, ARGV[4] .. ':cost', cost)
    redis.call('HINCRBY', key, ARGV[4] .. ':calls', ARGV[5])
    redis.call('HINCRBY', key, ARGV[4] .. ':in', ARGV[6])
    redis.call('HINCRBY', key, ARGV[4] .. ':out', ARGV[7])
    redis.call('EXPIRE', key, ARGV[7 + i])
  end
end
return held
