-- Write a job's fields (and a chunk checkpoint) only while its status is ARGV[1], so a job
-- that was cancelled, ended or deleted meanwhile is never written back.
-- KEYS[1] job hash, KEYS[2] the job's chunk checkpoints
-- ARGV[1] the status required, ARGV[2] chunk index or '', ARGV[3] chunk JSON or '',
-- then field/value pairs for the job. Returns 1 when written, 0 when not.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
