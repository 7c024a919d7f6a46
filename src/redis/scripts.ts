/**
 * The Lua scripts: every change of state on the Redis side is one of these, so it is atomic.
 *
 * ## Keys of a lock or semaphore named N
 *
 * All under the hash tag `{N}`, so that every script touches one slot (Redis Cluster):
 *
 * - `waitsafe:{N}:kind`: `RedisLock` or `RedisSemaphore/<permits>`, while the primitive has
 *   holders or waiters; a script that finds another kind there fails (see {@link KIND_ERROR}).
 * - `waitsafe:{N}:holders`: ZSET, holder id -> lease expiry (ms, server clock).
 * - `waitsafe:{N}:queue`: ZSET, waiter id -> sequence number: the FIFO queue of every process.
 * - `waitsafe:{N}:alive`: ZSET, waiter id -> heartbeat expiry (ms, server clock). A waiter whose
 *   process stops renewing it (it died) is dropped from the queue when it expires.
 * - `waitsafe:{N}:info`: HASH, id -> `"<weight> <lease>"` for a waiter, `"<weight> <lease> <token>"`
 *   for a holder.
 * - `waitsafe:{N}:token`: the counter that fencing tokens and queue sequence numbers are drawn
 *   from (`bump`, below). It is the one key that stays once the primitive is idle, so that tokens
 *   never go back.
 *
 * A grant is published as `"<id> <token>"` on the grant channel of the waiting process only:
 * `waitsafe:{N}:grant:<process>`, where `<process>` is the part of the waiter's id before its
 * first `:` (each process draws a random one). So a release wakes the one process it grants,
 * however many others wait.
 *
 * Every script first checks the kind, then purges expired holders and expired waiters, grants
 * whoever now fits (FIFO without barging: a heavy head blocks lighter waiters behind it), does its
 * own work, and finally either deletes the state (nobody holds or waits) or sets every key to
 * expire a second after the last lease or heartbeat, so that the keys of a primitive whose
 * processes all died go away by themselves. All times are read from the server (`TIME`), never
 * from a client.
 *
 * ## Keys of an event named N
 *
 * `waitsafe:{N}:kind` (`RedisEvent`, while set), `waitsafe:{N}:set` (exists while set; its value
 * is the generation of the set) and `waitsafe:{N}:token` (the generation counter). A set is
 * published on `waitsafe:{N}:set` as its generation.
 *
 * @module
 */

/** The start of the error a script returns when the name is used by another kind. */
export const KIND_ERROR = 'WAITSAFE_KIND';

/**
 * What every script starts with: the kind check (KEYS[1] holds the kind, ARGV[2] is ours), the
 * server's clock, and `bump`, which draws the next number from a counter.
 *
 * `bump` gives `max(counter + 1, now in µs)`: strictly increasing while Redis keeps the counter,
 * and still increasing if Redis lost it (a restart without persistence, a failover to a replica
 * that missed the last writes), as long as the server's clock does not go back and fewer than
 * 1,000 numbers a millisecond are drawn on average. Numbers stay below 2^53 (exact in Lua and in
 * JavaScript) until the year 2255. They are formatted with `%d`: Lua's default `%.14g` would
 * round them.
 */
const PRELUDE = `
local found = redis.call('GET', KEYS[1])
if found and found ~= ARGV[2] then return redis.error_reply('${KIND_ERROR} ' .. found) end
local time = redis.call('TIME')
local micros = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now = math.floor(micros / 1000)

local function bump(key)
  local value = math.max(tonumber(redis.call('GET', key) or '0') + 1, micros)
  redis.call('SET', key, string.format('%d', value))
  return value
end
`;

/**
 * The prelude of the permit scripts. KEYS: kind, holders, queue, alive, info, token. ARGV:
 * channel (the grant channels' common prefix), kind, permits, heartbeat ttl (ms), then the
 * script's own from ARGV[5].
 *
 * A waiter granted by another's script (a hand-off) gets a lease of at most the heartbeat ttl,
 * which its process extends to the full lease as soon as it learns of the grant: so a grant to a
 * waiter that died since its last heartbeat expires as soon as its queue entry would have.
 */
const PERMITS = `${PRELUDE}
local kindKey, holders, queue, alive, info, counter = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local channel, kind, permits, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

-- weight, lease, token (nil for a waiter) of an id, or nil
local function parse(id)
  local entry = redis.call('HGET', info, id)
  if not entry then return nil end
  local w, lease, token = string.match(entry, '^(%d+) (%d+) ?(%d*)$')
  return tonumber(w), tonumber(lease), tonumber(token)
end

local function purge()
  local dead = redis.call('ZRANGEBYSCORE', holders, '-inf', now)
  if #dead > 0 then
    redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
    for _, id in ipairs(dead) do redis.call('HDEL', info, id) end
  end
  dead = redis.call('ZRANGEBYSCORE', alive, '-inf', now)
  if #dead > 0 then
    redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
    for _, id in ipairs(dead) do
      redis.call('ZREM', queue, id)
      redis.call('HDEL', info, id)
    end
  end
end

local function used()
  local n = 0
  for _, id in ipairs(redis.call('ZRANGE', holders, 0, -1)) do n = n + (parse(id) or 0) end
  return n
end

local function hold(id, w, lease, token, ms)
  redis.call('ZADD', holders, now + ms, id)
  redis.call('HSET', info, id, string.format('%d %d %d', w, lease, token))
end

-- grants the waiters at the head that fit, in order; returns the permits then in use
local function grant(n)
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then return n end
    local w, lease = parse(head)
    if w and n + w > permits then return n end
    redis.call('ZREM', queue, head)
    redis.call('ZREM', alive, head)
    if w then
      n = n + w
      local token = bump(counter)
      hold(head, w, lease, token, math.min(lease, ttl))
      redis.call('PUBLISH', channel .. ':' .. string.match(head, '^[^:]*'), head .. ' ' .. string.format('%d', token))
    end
  end
end

local function finish()
  local last = 0
  local h = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')
  if h[2] then last = tonumber(h[2]) end
  local a = redis.call('ZRANGE', alive, -1, -1, 'WITHSCORES')
  if a[2] and tonumber(a[2]) > last then last = tonumber(a[2]) end
  if last == 0 then
    redis.call('DEL', kindKey, info)
    return
  end
  local keep = math.max(last - now, 0) + 1000
  redis.call('SET', kindKey, kind, 'PX', keep)
  redis.call('PEXPIRE', holders, keep)
  redis.call('PEXPIRE', queue, keep)
  redis.call('PEXPIRE', alive, keep)
  redis.call('PEXPIRE', info, keep)
end

purge()
local inUse = grant(used())
`;

/**
 * ACQUIRE. ARGV[5..8]: id, weight, lease, mode (`wait` or `try`). Takes the permits if they fit
 * and nobody waits; else, in `wait` mode, queues. Returns `{ token }` if granted now, `{ 0 }`
 * otherwise.
 */
export const ACQUIRE = `${PERMITS}
local id, w, lease = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local result = 0
if redis.call('ZCARD', queue) == 0 and inUse + w <= permits then
  result = bump(counter)
  hold(id, w, lease, result, lease)
elseif ARGV[8] == 'wait' then
  redis.call('ZADD', queue, string.format('%d', bump(counter)), id)
  redis.call('ZADD', alive, now + ttl, id)
  redis.call('HSET', info, id, string.format('%d %d', w, lease))
end
finish()
return { result }
`;

/**
 * LEAVE. ARGV[5]: id. Removes the id wherever it is (a holder's release, a waiter giving up, a
 * grant that raced a give-up), then grants whoever now fits. Returns `{ 1 }` if it was a holder.
 */
export const LEAVE = `${PERMITS}
local id = ARGV[5]
local was = redis.call('ZREM', holders, id)
redis.call('ZREM', queue, id)
redis.call('ZREM', alive, id)
redis.call('HDEL', info, id)
grant(used())
finish()
return { was }
`;

/** RENEW. ARGV[5..6]: id, lease. Returns `{ 1 }` if the id still held and was renewed, else `{ 0 }`. */
export const RENEW = `${PERMITS}
local result = 0
if redis.call('ZSCORE', holders, ARGV[5]) then
  redis.call('ZADD', holders, 'XX', now + tonumber(ARGV[6]), ARGV[5])
  result = 1
end
finish()
return { result }
`;

/**
 * POLL: the heartbeat of this process's waiters and the safety net for a lost notification or a
 * dead holder. ARGV[5..]: ids. Returns `{ 0, token1, remaining1, ... }`:
 * per id, its token and the ms left of its lease if it holds, `0, 0` if it still waits (its
 * heartbeat is renewed), `-1, 0` if it is unknown (its entry expired).
 */
export const POLL = `${PERMITS}
local out = { 0 }
for i = 5, #ARGV do
  local id = ARGV[i]
  local expiry = redis.call('ZSCORE', holders, id)
  if expiry then
    local _, _, token = parse(id)
    out[#out + 1] = token or 0
    out[#out + 1] = tonumber(expiry) - now
  elseif redis.call('ZSCORE', queue, id) then
    redis.call('ZADD', alive, 'XX', now + ttl, id)
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    out[#out + 1] = -1
    out[#out + 1] = 0
  end
end
finish()
return out
`;

/** The prelude of the event scripts. KEYS: kind, set, token. ARGV: channel, kind. */
const EVENT = PRELUDE;

/** SET: sets the event if it is not set, and publishes the new generation. Returns `{ 0 }`. */
export const EVENT_SET = `${EVENT}
if redis.call('EXISTS', KEYS[2]) == 0 then
  local generation = string.format('%d', bump(KEYS[3]))
  redis.call('SET', KEYS[2], generation)
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('PUBLISH', ARGV[1], generation)
end
return { 0 }
`;

/** CLEAR: clears the event. Returns `{ 0 }`. */
export const EVENT_CLEAR = `${EVENT}
redis.call('DEL', KEYS[2], KEYS[1])
return { 0 }
`;

/**
 * CHECK: `{ 1, generation }` if the event is set, else `{ 0, generation of the last set }` (`0`
 * if it was never set).
 */
export const EVENT_CHECK = `${EVENT}
local generation = redis.call('GET', KEYS[2])
if generation then return { 1, tonumber(generation) } end
return { 0, tonumber(redis.call('GET', KEYS[3]) or '0') }
`;
