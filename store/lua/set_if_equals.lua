-- Compare-and-set a string: write ARGV[2] to KEYS[1] if it holds ARGV[1]
-- (ARGV[1] == '' means: if it does not exist). Returns 1 when written, else 0.
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
