-- Move a job to a new status if, and only if, its status is one of the allowed ones
-- (jobs/life/status.py names the moves; this script knows no status by name).
-- KEYS[1] job hash, KEYS[2] the active set, KEYS[3] the job's chunk checkpoints
-- ARGV[1] job id, ARGV[2] allowed statuses (comma list), ARGV[3] new status,
-- ARGV[4] 'ends' (the new status is terminal), 'enters' (it is active again) or '',
-- ARGV[5] the channel that hears of every change, then field/value pairs to write with it.
-- Returns {1, previous status} when applied, {0, current status or 'missing'} when not.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'missing'} end
local current = redis.call('HGET', KEYS[1], 'status')
local allowed = false
for s in string.gmatch(ARGV[2], '[^,]+') do if s == current then allowed = true end end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'status', ARGV[3])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[4] == 'ends' then
  -- Out of the active set; the record and its checkpoints live on for their ttl.
  local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl'))
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
elseif ARGV[4] == 'enters' then
  redis.call('ZADD', KEYS[2], redis.call('TIME')[1], ARGV[1])
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[3])
end
redis.call('PUBLISH', ARGV[5], ARGV[1])
return {1, current}
