-- Write a job's fields (and a chunk checkpoint) only while its status is ARGV[3], so a job
-- that was cancelled, ended or deleted meanwhile is never written back.
-- KEYS[1] job hash, KEYS[2] the job's chunk checkpoints
-- ARGV[1] job id, ARGV[2] the channel that hears of every change, ARGV[3] the status required,
-- ARGV[4] chunk index or '', ARGV[5] chunk JSON or '', then field/value pairs for the job.
-- Returns 1 when written, 0 when not.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[3] then return 0 end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
