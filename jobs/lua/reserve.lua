-- Reserve the most a paid call can cost, unless that would pass the job's cap, the owner's
-- daily budget or the deployment's; all three are checked and charged in one step, so calls
-- in flight at once (any worker, any machine) can never together pass a limit.
-- Amounts are whole micro-dollars; a limit of -1 means none.
-- KEYS[1] the job's spend hash (settled, reserved, r:<id> -> '<amount>|<day>')
-- KEYS[2] the day's spend hash (total, o:<owner>: settled and reserved; full:<field> once a
-- call was refused for that budget, so new paid jobs are refused until the day ends)
-- ARGV[1] reservation id, ARGV[2] amount, ARGV[3] day, ARGV[4] owner field,
-- ARGV[5] job cap, ARGV[6] owner budget, ARGV[7] deployment budget,
-- ARGV[8] seconds the job's hash lives, ARGV[9] seconds the day's hash lives.
-- Returns {1, '', job's total after} or {0, which limit ('job'|'owner'|'deployment'), used}.
local amount = tonumber(ARGV[2])
local function num(key, field) return tonumber(redis.call('HGET', key, field) or '0') end
local job = num(KEYS[1], 'settled') + num(KEYS[1], 'reserved')
local cap, owner_budget, budget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if cap >= 0 and job + amount > cap then return {0, 'job', job} end
local owner = num(KEYS[2], ARGV[4])
if owner_budget >= 0 and owner + amount > owner_budget then
  redis.call('HSET', KEYS[2], 'full:' .. ARGV[4], 1)  -- spent for the day: refuse new paid jobs
  return {0, 'owner', owner}
end
local all = num(KEYS[2], 'total')
if budget >= 0 and all + amount > budget then
  redis.call('HSET', KEYS[2], 'full:total', 1)
  return {0, 'deployment', all}
end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[2] .. '|' .. ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('HINCRBY', KEYS[2], ARGV[4], amount)
redis.call('HINCRBY', KEYS[2], 'total', amount)
redis.call('EXPIRE', KEYS[2], ARGV[9])
return {1, '', job + amount}
