-- A user's stream head (<prefix>{u:<user>}:s), shared by the scripts that read it (spliced in where a script says
-- --!include stream-head.lua). It is one string, '<refreshed>:<base>:<epoch>', so that publish.lua reads the heads
-- of every stream in its group with one MGET: refreshed is when the stream's expiry was last refreshed (ms since
-- 1970, always 13 digits, so heads compare by it as text), base the seq before its history's first entry (the
-- last seq is the base plus the history list's length), epoch the stream's epoch.
-- Earlier builds kept the head as a hash {e, b, r}, or {e, s, r} before history became a list (s the last seq,
-- its history not carried over): such a head is rewritten as a string, with its expiry, when first read.
local HEAD_NEVER_REFRESHED = '0000000000000'

local function headText(refreshed, base, epoch)
  return refreshed .. ':' .. string.format('%d', base) .. ':' .. epoch
end

-- Returns the head's epoch (text) and base (a number).
local function parseHead(text)
  local colon = string.find(text, ':', 15, true)
  return string.sub(text, colon + 1), tonumber(string.sub(text, 15, colon - 1))
end

-- The head an earlier build kept as a hash, rewritten as a string with the same expiry; false when there is none.
local function migratedHead(sk)
  local old = redis.call('HMGET', sk, 'e', 'b', 'r', 's')
  if not old[1] then return false end
  local refreshed = old[3]
  if not refreshed or #refreshed ~= 13 then refreshed = HEAD_NEVER_REFRESHED end
  local text = headText(refreshed, tonumber(old[2] or old[4] or 0), old[1])
  local ttlMs = redis.call('PTTL', sk)
  redis.call('DEL', sk)
  if ttlMs > 0 then
    redis.call('SET', sk, text, 'PX', ttlMs)
  else
    redis.call('SET', sk, text)
  end
  return text
end

-- The stream's head as text, or false when the stream has none. Raises the error of a key not served here.
local function headOf(sk)
  local text = redis.pcall('GET', sk)
  if type(text) == 'table' and text.err then
    if string.find(text.err, 'WRONGTYPE', 1, true) ~= 1 then error(text) end
    return migratedHead(sk)
  end
  return text
end
