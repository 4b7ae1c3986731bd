-- Add a beneficiary to an account (caller's slot).
-- KEYS[1] ts:ben:{m}  hash: ref -> beneficiary JSON
-- KEYS[2] the beneficiaries counter, counted here (one Redis only: on a
--         cluster it is another slot and the caller counts)
-- ARGV[1] ref, ARGV[2] JSON object (without "seq"), ARGV[3] ID hash, ARGV[4] max
-- Returns the beneficiary's position (1..max), -1 when the account is full,
-- -2 when a beneficiary of this account has the same ID hash.
local all = redis.call('HVALS', KEYS[1])
local needle = '"id_hash":"' .. ARGV[3] .. '"'
for _, v in ipairs(all) do
  if string.find(v, needle, 1, true) then
    return -2
  end
end
if #all >= tonumber(ARGV[4]) then
  return -1
end
local seq = #all + 1
-- Prepend the registration position to the JSON object.
redis.call('HSET', KEYS[1], ARGV[1], '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2))
if KEYS[2] then
  redis.call('INCR', KEYS[2])
end
return seq
