#!lua name=agentwire_publish_%DIGEST%
-- Numbers and stores a group of publish requests on one shard (a group commit: every request for this shard that
-- arrived while its previous group was in Redis), each request atomically, in order, stopping at its first
-- refusal. Every key lives on this shard (a single Redis is one shard); the first is declared to route the call
-- here, the others are given as arguments (Redis Cluster refuses declared keys of several slots), and are checked
-- to be served here before anything is written, so a call that meets a moved slot changes nothing.
-- An entry is one event, or one member's part of one:
--   u  an event to a user (its owner): duplicate check, run lifecycle, then numbered for the user
--   r  an event to a room, b to everyone (keys under the room's {r:<room>} tag, or {n}): duplicate check, run
--      lifecycle, the members (the room's set, or the users connected to live nodes), then numbered for each member
--      whose stream is on this shard (on a single Redis: all of them). The members on other shards are answered
--      back: the node numbers them on their shards ('m' entries), the whole group's at once and in event order, once
--      this call is answered, before it sends the request's next part. So a batch of room events costs two rounds,
--      not two per event, and each member still gets them in the order of the batch. A request stops after the
--      event that brings the members answered back to ELSEWHERE_MAX; the node sends the rest after numbering them.
--   R, B  as r and b, numbered for none of the members here: every member is answered back. For a request of events
--      that cannot be refused over several shards, the node admits its room events on their shards first, then
--      numbers all its recipients on theirs, each shard's in the request's order: two rounds for the request.
--   m  a room's or broadcast's event for one member of another shard: numbered for the member
--   g  a guard of a native AG-UI run's shared state (RunStateGuard): the version the node checked the request
--      against, and the state the request leaves (or none: only verify). A request's guards come first and are
--      checked together: if any run is not at its version, nothing of the request is written and each guard is
--      answered {'stale', version, state}; else the new states are written (version + 1) and each guard is
--      answered 'guarded' (or 'current' when only verifying), and the events follow.
-- A member keeps its own mark of a room's or broadcast's event id ({u:<member>}:rid:…), so an event retried after
-- a timeout is numbered for the members that missed it and never twice for any.
-- Numbering: the event's record pushed on the user's history, a list whose length gives the seq (a new stream gets
-- the given epoch; trimmed by count approximately here, exactly where it is read), and the record on the user's
-- channel, which only nodes with the user connected follow, as 'n' <head> ':' <place> ':' <record>: the seq is the
-- head's base plus the place, added by the node that reads it. Records are opaque here: a node encodes each event
-- once (StreamCodec).
-- Keys are named here from an entry's tag, and only those the entry uses: every argument costs Redis more than the
-- concatenation that replaces it (arguments are parsed, made objects, then Lua strings, then garbage).
-- KEYS: the first entry's tag (routes the call)
-- ARGV: prefix, historyMax, userRetentionMs, dedupWindowMs, runRetentionMs, strict, epochCandidate,
--       maxToolCallsPerRun, probe (1: check every entry's tag is served here first), requestCount, then per
--       request: entryCount, then 6 per entry:
--         op      kind (u|r|b|R|B|m|g), hasId (1|0), success (1|0; g: 1 when a new state follows), then the lifecycle
--                 verb (empty for none): 'u00', 'u11done_agent'
--         tag     u and m: the user's <P>{u:<user>} (stream head :s, history :l, dedup :id:<run>:<id>, run state
--                 :run:<run>, tool calls :calls:<run>, or for m the member's mark :<id>); r and b: the owner's
--                 <P>{r:<room>} or <P>{n} (the same dedup and run keys, members :m or :nodes); g: the run's state
--                 hash itself
--         id      the event id (empty for none); m: the member mark's suffix (rid:…)
--         run     the run's part of key names, <length>:<runId>
--         call    the toolCallId (g: the version checked)
--         record  the record (g: the new state)
-- Returns per request a flat list of the answers of the entries attempted, in order: u and m: the event's place in
-- the history list (an integer) then the stream's head (<refreshed>:<base>:<epoch>; seq = base + place) when
-- numbered, else the status's name (duplicate, or the refusal that stopped the request); r and b: {'shared', seen
-- (1|0), {member, place, head, ...}, {member on another shard, ...}} or a refusal's name; g: see
-- above. Or {'moved'} when a key is not served here (the slot map moved: nothing was written, the caller sends the
-- group again). A numbered event makes no table of its own: a table in the answer costs Redis more than the event's
-- RPUSH (it is built, then searched for the fields err and ok while it is converted).
--!include stream-head.lua

-- A function library: Redis runs this file once, when it loads it (FUNCTION LOAD), and the helpers below are made
-- then; each call runs publish (at the end), which sets the call's arguments and state first. As a script (EVAL),
-- every call made all of them again: about a third of a call's fixed cost (callgrind).
-- The call's arguments and redis.call, set by publish: upvalues, where globals are table lookups at each use.
local rcall
local ARGV, P, historyMax, retentionMs, dedupMs, runRetentionMs, strict, epochCandidate, probing
local HEADER = 11
local STRIDE = 6
-- Members of other shards answered back per request (r and b entries) before it stops: MemberRounds'
-- RECIPIENTS_PER_ROUND, what one round of numbering them holds.
local ELSEWHERE_MAX = 512

-- The time, read once per call and only when needed.
local nowMs
local function now()
  if not nowMs then
    local t = rcall('TIME')
    nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return nowMs
end
-- Numbers are read from their arguments only where a call needs them: each tonumber of a string is a strtod.
-- Reading them so, with two tables fewer per call, cut the fixed cost of a call by about an eighth (callgrind).
-- A stream is refreshed when its last refresh (ms since 1970: 13 digits until the year 2286, as headText writes
-- it) is at or before this, compared as text: parsing it per stream (strtod) cost Redis more than the comparison.
local due
local function refreshDue()
  if not due then due = string.format('%013d', now() - math.floor(tonumber(retentionMs) / 4)) end
  return due
end
local runTtl, runDue
local function runRefreshDue()
  if not runDue then
    local runQuarter = math.floor(tonumber(runRetentionMs) / 4)
    runTtl = tonumber(runRetentionMs) + runQuarter
    runDue = string.format('%013d', now() - runQuarter)
  end
  return runDue
end

-- The run lifecycle, the same rules as the engine's RunLifecycle: nil when allowed, else the rule's name; and the
-- run's last refresh (field r of its hash) for apply.
local function check(rk, ck, verb, call, success)
  local head = rcall('HMGET', rk, 's', 'r')
  local state = head[1]
  if not state then
    if verb == 'start' then return nil end
    return 'run_not_started'
  end
  if state == 'c' then return 'run_completed' end
  if verb == 'start' then return 'run_already_started' end
  if verb == 'exec' then
    if rcall('SISMEMBER', ck, call) == 1 then return 'tool_call_duplicate' end
    if rcall('SCARD', ck) >= tonumber(ARGV[8]) then return 'too_many_tool_calls' end
  elseif verb == 'done_tool' then
    if rcall('SISMEMBER', ck, call) == 0 then return 'tool_call_unknown' end
  elseif verb == 'done_agent' then
    if success == '1' and rcall('SCARD', ck) > 0 then return 'tool_calls_open' end
  end
  return nil, head[2]
end

-- A run's keys live runRetentionMs + a quarter after their last refresh. An event that changes the run refreshes
-- them; one that does not (think: agent_thinking, agent_answer, most of a run's events) only when the last refresh
-- is a quarter old, so it costs no command beyond the state's read. A run is forgotten between runRetentionMs and
-- 1.25 times that after its last event.
local function apply(rk, ck, verb, call, refreshed)
  -- Read first, also when the run is refreshed: it sets runTtl.
  local runDueText = runRefreshDue()
  if verb == 'think' and refreshed and #refreshed == 13 and refreshed > runDueText then return end
  if verb == 'start' then
    rcall('HSET', rk, 's', 'o')
  elseif verb == 'exec' then
    rcall('SADD', ck, call)
  elseif verb == 'done_tool' then
    rcall('SREM', ck, call)
  elseif verb == 'done_agent' then
    rcall('HSET', rk, 's', 'c')
    rcall('DEL', ck)
  end
  rcall('HSET', rk, 'r', now())
  rcall('PEXPIRE', rk, runTtl)
  rcall('PEXPIRE', ck, runTtl)
end

-- Each stream touched by this group, by its tag: its head (stream-head.lua) read once. A stream's last seq is its
-- base plus its history's length, so numbering an event is the push of its record: the push answers the length.
-- The script does not add them: it answers the length and the head as it stands, and the channel's message carries
-- both, so a head is parsed only where it changes (a trim), where parsing every head (string.find, two substrings
-- and a strtod) was about a fourteenth of Redis's instructions per event. Its
-- expiry is not refreshed at every event: a stream's keys live userRetentionMs + a quarter after their last refresh
-- (kept in the head), and a group refreshes them when the last refresh is a quarter old. So a stream expires between
-- userRetentionMs and 1.25 times that after its last event, for two commands per stream per quarter retention
-- instead of two per event.
-- History is trimmed by count once it is an eighth past its bound (trimAt), not at every push; it is read exactly
-- bounded (keep).
local keep, trimAt
-- By tag, in tables of their own (a table per stream cost Redis more): each stream's history key and head; the
-- streams whose expiries this group refreshes, in order and as a set.
local lists, heads
local touched, isTouched
-- Heads read ahead, by tag (see the MGET below): the text, or false for a stream without a string head.
local readAhead
local function touch(tag)
  isTouched[tag] = true
  touched[#touched + 1] = tag
end
local function stream(tag)
  local hk = tag .. ':l'
  local text = readAhead[tag]
  if text == nil then
    text = headOf(tag .. ':s')
  elseif not text then
    -- MGET answers nothing for a head an earlier build kept as a hash, as for none.
    text = migratedHead(tag .. ':s')
  end
  if not text then
    -- A new (or expired) stream: its old history, if any, belongs to another epoch.
    text = headText(HEAD_NEVER_REFRESHED, 0, epochCandidate)
    rcall('DEL', hk)
    rcall('SET', tag .. ':s', text)
    touch(tag)
  elseif text <= refreshDue() then
    -- The head starts with its refresh time: compared whole, as text, with the 13 digits of the due time.
    touch(tag)
  end
  heads[tag] = text
  lists[tag] = hk
  return hk
end

-- Whether a key is served by this shard (always on a single Redis).
local function isLocal(key)
  if not probing then return true end
  local reply = redis.pcall('EXISTS', key)
  return not (type(reply) == 'table' and reply.err)
end

-- Who an event to a room or to everyone reaches: the room's set, or every user connected to a node whose presence
-- Redis holds. Presence outlives a node's liveness (NodePresence): a node that could not beat for a while (paused,
-- cut off, Redis stalled) keeps its sockets, so its users stay targets; a dead node's, until its presence expires.
-- A node with neither left is dropped from the set. So is a node gone whose presence has no expiry: an earlier
-- build wrote it so (and deleted it here with the node's liveness), and nothing else would ever remove it.
local function membersOf(kind, setKey)
  if kind == 'r' then return rcall('SMEMBERS', setKey) end
  local seen = {}
  local users = {}
  for _, node in ipairs(rcall('SMEMBERS', setKey)) do
    local nk = P .. '{n}:node:' .. node
    local present = rcall('SMEMBERS', nk .. ':present')
    if rcall('EXISTS', nk) == 0 then
      if #present > 0 and rcall('PTTL', nk .. ':present') == -1 then
        rcall('DEL', nk .. ':present')
        present = {}
      end
      if #present == 0 then rcall('SREM', setKey, node) end
    end
    for _, user in ipairs(present) do
      if not seen[user] then
        seen[user] = true
        users[#users + 1] = user
      end
    end
  end
  return users
end

-- The user's tag is its channel's name; its stream head and history are <tag>:s and <tag>:l. Returns the event's
-- place in the history list and the head it counts from (seq = the head's base + the place).
local function number(tag, record)
  local hk = lists[tag] or stream(tag)
  local n = rcall('RPUSH', hk, record)
  local head = heads[tag]
  if n > trimAt then
    rcall('LTRIM', hk, n - keep, -1)
    local epoch, base = parseHead(head)
    head = headText(string.sub(head, 1, 13), base + n - keep, epoch)
    heads[tag] = head
    n = keep
    rcall('SET', tag .. ':s', head, 'KEEPTTL')
  elseif n == 1 and not isTouched[tag] then
    -- A history list that had been emptied (aged out where it is read) is a new key: give it its expiry.
    touch(tag)
  end
  -- The place formatted as an integer: Lua's own number-to-text formats a double (%.14g), which costs more.
  rcall('SPUBLISH', tag, 'n' .. head .. ':' .. string.format('%d', n) .. ':' .. record)
  return n, head
end

-- An event to a room or to everyone: admitted here, numbered here for the members whose streams are here (none when
-- admitOnly: all are answered back).
local function shared(kind, tag, id, run, verb, hasId, call, success, record, admitOnly)
  local idk, rk, ck = tag .. ':id:' .. run .. ':' .. id, tag .. ':run:' .. run, tag .. ':calls:' .. run
  local setKey = kind == 'r' and tag .. ':m' or tag .. ':nodes'
  local mark = 'rid:' .. #tag .. ':' .. tag .. ':' .. run .. ':' .. id
  local seen = 0
  -- The id is marked first, one command where a check then a mark took two; a refusal takes the mark back.
  if hasId and not rcall('SET', idk, '1', 'NX', 'PX', dedupMs) then
    seen = 1
  elseif strict and verb ~= '' then
    local refusal, refreshed = check(rk, ck, verb, call, success)
    if refusal then
      if hasId then rcall('DEL', idk) end
      return refusal
    end
    apply(rk, ck, verb, call, refreshed)
  end
  local numbered = {}
  if admitOnly then return { 'shared', seen, numbered, membersOf(kind, setKey) } end
  local elsewhere = {}
  for _, member in ipairs(membersOf(kind, setKey)) do
    local memberTag = P .. '{u:' .. member .. '}'
    if not isLocal(memberTag) then
      elsewhere[#elsewhere + 1] = member
    elseif not hasId or rcall('SET', memberTag .. ':' .. mark, '1', 'NX', 'PX', dedupMs) then
      local n, head = number(memberTag, record)
      numbered[#numbered + 1] = member
      numbered[#numbered + 1] = n
      numbered[#numbered + 1] = head
    end
  end
  return { 'shared', seen, numbered, elsewhere }
end

-- A request's leading guards, all checked before any is written: how many there are, and whether the request
-- stops here (a run changed since the node checked it).
local function guards(at, count, answers)
  local n = 0
  while n < count and string.sub(ARGV[at + n * STRIDE], 1, 1) == 'g' do n = n + 1 end
  if n == 0 then return 0, false end
  local stale = false
  local found = {}
  for i = 0, n - 1 do
    local kb = at + i * STRIDE
    local head = rcall('HMGET', ARGV[kb + 1], 'v', 'd')
    found[i] = head
    if (head[1] or '0') ~= ARGV[kb + 4] then stale = true end
  end
  for i = 0, n - 1 do
    local kb = at + i * STRIDE
    if stale then
      answers[#answers + 1] = { 'stale', found[i][1] or '0', found[i][2] or '' }
    elseif string.sub(ARGV[kb], 3, 3) == '1' then
      rcall('HSET', ARGV[kb + 1], 'v', tonumber(ARGV[kb + 4]) + 1, 'd', ARGV[kb + 5])
      rcall('PEXPIRE', ARGV[kb + 1], runRetentionMs)
      answers[#answers + 1] = 'guarded'
    else
      answers[#answers + 1] = 'current'
    end
  end
  return n, stale
end

-- An op's parts, split once (they never change, so they are kept from call to call): a group's entries mostly share
-- one or two ops, and splitting each (three string functions, substrings made) cost Redis more than a table lookup.
-- Parts: kind (R and B as r and b), hasId, success, verb, admit only (R, B).
local ops = {}
local function opParts(op)
  local kind = string.sub(op, 1, 1)
  local parts = { string.lower(kind), string.byte(op, 2) == 49, string.sub(op, 3, 3), string.sub(op, 4),
    kind == 'R' or kind == 'B' }
  ops[op] = parts
  return parts
end

-- One call: a group of requests (the header above lists its arguments).
local function publish(_, args)
  rcall = redis.call
  ARGV, P, historyMax, retentionMs, dedupMs, runRetentionMs = args, args[1], args[2], args[3], args[4], args[5]
  strict, epochCandidate, probing = args[6] == '1', args[7], args[9] == '1'
  local requestCount = tonumber(args[10])
  nowMs, due, runTtl, runDue = nil, nil, nil, nil
  keep = tonumber(historyMax)
  trimAt = keep + math.floor(keep / 8) + 1
  lists, heads, touched, isTouched, readAhead = {}, {}, {}, {}, {}

  -- Before any write: every entry's tag must be served here (its keys share its slot), and the heads of the streams
  -- this group numbers for by name (entries u and m) are read ahead. On a single Redis with one MGET, where a command
  -- per stream cost Redis about a tenth of each event. On a sharded Redis, which refuses keys of several slots in one
  -- command (each user's keys have a slot of their own), with one GET per stream, which is also its probe: a GET of a
  -- key not served here fails, and so does the call. A room's members are read as they come.
  local names, tags = {}, {}
  local probe = HEADER
  for r = 1, requestCount do
    local count = tonumber(args[probe])
    for kb = probe + 1, probe + count * STRIDE, STRIDE do
      local kind = string.byte(args[kb])
      local tag = args[kb + 1]
      if kind ~= 117 and kind ~= 109 then
        if not isLocal(tag) then return { 'moved' } end
      elseif readAhead[tag] == nil then
        if probing then
          local text = redis.pcall('GET', tag .. ':s')
          if type(text) == 'table' and text.err then
            -- A head an earlier build kept as a hash is read (and rewritten) where it is first numbered.
            if string.find(text.err, 'WRONGTYPE', 1, true) ~= 1 then return { 'moved' } end
            text = false
          end
          readAhead[tag] = text
        else
          readAhead[tag] = false
          tags[#tags + 1] = tag
          names[#tags] = tag .. ':s'
        end
      end
    end
    probe = probe + 1 + count * STRIDE
  end
  -- In slices: Lua's unpack is bounded by its stack.
  for from = 1, #names, 256 do
    local found = rcall('MGET', unpack(names, from, math.min(#names, from + 255)))
    for i = 1, #found do
      readAhead[tags[from + i - 1]] = found[i]
    end
  end

  local results = {}
  local at = HEADER
  for r = 1, requestCount do
    local count = tonumber(args[at])
    at = at + 1
    local answers = {}
    local elsewhere = 0
    local first, stopped = guards(at, count, answers)
    for i = first, count - 1 do
      local kb = at + i * STRIDE
      if not stopped then
        local op = args[kb]
        local parts = ops[op] or opParts(op)
        local kind, hasId, success, verb = parts[1], parts[2], parts[3], parts[4]
        local tag, id, run, record = args[kb + 1], args[kb + 2], args[kb + 3], args[kb + 5]
        local fresh = true
        if kind == 'r' or kind == 'b' then
          local answer = shared(kind, tag, id, run, verb, hasId, args[kb + 4], success, record, parts[5])
          answers[#answers + 1] = answer
          -- A refusal stops the request. Members on other shards do not, up to ELSEWHERE_MAX of them: the events
          -- after this one that reach them go to their shards in the same later round, behind this one; past that
          -- the request stops here, the node numbers them, then sends the rest (what it holds stays bounded).
          if type(answer) ~= 'table' then
            stopped = true
          elseif not parts[5] then
            elsewhere = elsewhere + #answer[4]
            if elsewhere >= ELSEWHERE_MAX then stopped = true end
          end
          fresh = false
        elseif kind == 'u' and strict and verb ~= '' then
          -- Marked first, as in shared: a refusal takes the mark back.
          local idk = hasId and tag .. ':id:' .. run .. ':' .. id
          if hasId and not rcall('SET', idk, '1', 'NX', 'PX', dedupMs) then
            fresh = false
          else
            local rk, ck = tag .. ':run:' .. run, tag .. ':calls:' .. run
            local call = args[kb + 4]
            local refusal, refreshed = check(rk, ck, verb, call, success)
            if refusal then
              if hasId then rcall('DEL', idk) end
              answers[#answers + 1] = refusal
              stopped = true
            else
              apply(rk, ck, verb, call, refreshed)
            end
          end
        elseif hasId then
          -- u: the event's id; m: the member's own mark of the room's or broadcast's event.
          local idk = kind == 'm' and tag .. ':' .. id or tag .. ':id:' .. run .. ':' .. id
          fresh = rcall('SET', idk, '1', 'NX', 'PX', dedupMs) ~= false
        end
        if kind == 'r' or kind == 'b' then
          -- answered above
        elseif not fresh then
          answers[#answers + 1] = 'duplicate'
        elseif not stopped then
          local n, head = number(tag, record)
          answers[#answers + 1] = n
          answers[#answers + 1] = head
        end
      end
    end
    at = at + count * STRIDE
    results[r] = answers
  end
  if #touched > 0 then
    local ttl = tonumber(retentionMs) + math.floor(tonumber(retentionMs) / 4)
    local refreshed = string.format('%013d', now())
    for _, tag in ipairs(touched) do
      -- The head after its 13 digits of refresh time: ':<base>:<epoch>'.
      rcall('SET', tag .. ':s', refreshed .. string.sub(heads[tag], 14), 'PX', ttl)
      rcall('PEXPIRE', lists[tag], ttl)
    end
  end
  return results
end

-- Named by the library's digest (LuaScript writes it in): nodes of different builds never call each other's.
redis.register_function{function_name = 'agentwire_publish_%DIGEST%', callback = publish,
  flags = {'allow-cross-slot-keys'}}
