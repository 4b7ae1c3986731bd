-- Import one session's capacity and static data, keeping its holds.
-- KEYS[1] ts:seats:{sid}; ARGV[1] i1, ARGV[2] i2, ARGV[3] session JSON
-- Sets d = max(0, i - h). Returns 1 new, 2 updated, 0 unchanged.
local cur = redis.call('HMGET', KEYS[1], 'i1', 'i2', 's', 'h1', 'h2')
local i1, i2 = tonumber(ARGV[1]), tonumber(ARGV[2])
if cur[1] and tonumber(cur[1]) == i1 and tonumber(cur[2]) == i2 and cur[3] == ARGV[3] then
  return 0
end
local h1 = tonumber(cur[4] or '0')
local h2 = tonumber(cur[5] or '0')
local d1 = i1 - h1
if d1 < 0 then d1 = 0 end
local d2 = i2 - h2
if d2 < 0 then d2 = 0 end
redis.call('HSET', KEYS[1], 'i1', i1, 'i2', i2, 'h1', h1, 'h2', h2, 'd1', d1, 'd2', d2, 's', ARGV[3])
if cur[1] then
  return 2
end
return 1
