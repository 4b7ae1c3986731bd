-- Compare-and-set a caller's conversation (all keys on the caller's slot).
-- KEYS[1] ts:conv:{m}   hash: v (version), j (conversation JSON)
-- KEYS[2] ts:reply:{m}:<h>  cached reply JSON
-- KEYS[3] ts:lang:{m}   remembered language (no TTL)
-- ARGV[1] expected version, ARGV[2] JSON ("" deletes), ARGV[3] ttl ms,
-- ARGV[4] reply JSON ("" = none), ARGV[5] language ("" = keep)
-- Returns the new version (0 after a delete), or -1 on conflict.
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[1]) then
  return -1
end
local ttl = tonumber(ARGV[3])
local nv = 0
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  nv = cur + 1
  redis.call('HSET', KEYS[1], 'v', nv, 'j', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
end
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[3], ARGV[5])
end
return nv
