#!/usr/bin/env node
/**
 * tuanbot end-to-end test gateway (test-only; never used in production).
 *
 * One Node process that serves:
 *   - a Wechaty puppet-service gRPC endpoint (wechaty-puppet-service PuppetServer, TLS disabled)
 *     over a wechaty-puppet-mock PuppetMock, which a python-wechaty client connects to with
 *     WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:<grpc> and WECHATY_PUPPET_SERVICE_TOKEN=<token>;
 *   - a loopback HTTP/JSON control API that a test uses to drive the mock world
 *     (rooms, contacts, members speaking, native 接龙 XML, login/logout, invitations, topic changes)
 *     and to read back everything the bot said.
 *
 * Usage:
 *   node gateway.mjs [--grpc-port N] [--http-port N] [--token T] [--host 127.0.0.1]
 *                    [--bot-id ID] [--bot-name NAME] [--no-self-echo] [--heartbeat-seconds S]
 * Port 0 (the default) means "pick a free loopback port". Env fallbacks: GATEWAY_GRPC_PORT,
 * GATEWAY_HTTP_PORT, GATEWAY_TOKEN (then WECHATY_PUPPET_SERVICE_TOKEN), GATEWAY_BOT_ID, GATEWAY_BOT_NAME.
 *
 * When both ports listen it prints exactly one stdout line:
 *   READY grpc=<port> http=<port>
 * Everything else goes to stderr. SIGTERM / SIGINT stop it cleanly (exit code 0).
 */
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import process from 'node:process'

import * as PUPPET from 'wechaty-puppet'
import { PuppetMock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

// ---------------------------------------------------------------- options

function parseArgs (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`)
    const eq = a.indexOf('=')
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1)
    } else if (a.startsWith('--no-')) {
      out[a.slice(5)] = false
    } else {
      const v = argv[i + 1]
      if (v === undefined || v.startsWith('--')) throw new Error(`missing value for ${a}`)
      out[a.slice(2)] = v
      i++
    }
  }
  return out
}

const args = parseArgs(process.argv.slice(2))
const env = process.env
const OPT = {
  host: args.host ?? env.GATEWAY_HOST ?? '127.0.0.1',
  grpcPort: Number(args['grpc-port'] ?? env.GATEWAY_GRPC_PORT ?? 0),
  httpPort: Number(args['http-port'] ?? env.GATEWAY_HTTP_PORT ?? 0),
  token: args.token ?? env.GATEWAY_TOKEN ?? env.WECHATY_PUPPET_SERVICE_TOKEN ?? 'insecure_tuanbot_e2e',
  botId: args['bot-id'] ?? env.GATEWAY_BOT_ID ?? 'wxid_tuanbot',
  botName: args['bot-name'] ?? env.GATEWAY_BOT_NAME ?? 'tuanbot',
  selfEcho: args['self-echo'] !== false, // bot's own sends come back as `message` events (like real WeChat)
  heartbeatSeconds: Number(args['heartbeat-seconds'] ?? 15),
}

if (!env.WECHATY_LOG) PUPPET.log.level('warn') // keep the puppet libraries quiet unless asked

process.noDeprecation = true // grpc-js warns that Server.start() is no longer needed (called by PuppetServer)

// high-resolution wall clock in ms (float), for round-trip measurements
const nowHr = () => performance.timeOrigin + performance.now()

const err = (...a) => process.stderr.write(`[gateway] ${a.join(' ')}\n`)

// ---------------------------------------------------------------- the mock puppet

let msgCounter = 0
const newMessageId = (prefix = 'gwmsg') => `${prefix}_${Date.now().toString(36)}_${(++msgCounter).toString(36)}`

const said = [] // everything the bot sent
const invitations = new Map() // id -> { payload, roomId, accepted }
const clientCalls = { start: 0, stop: 0 } // how often a client (re)started the puppet

class GatewayPuppet extends PuppetMock {
  /** Record and materialise a bot send; returns the message id. */
  _botSend (conversationId, kind, fields) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    const isRoom = conversationId.includes('@')
    if (isRoom) this.mocker.roomPayload(conversationId) // throws for an unknown room
    else this.mocker.contactPayload(conversationId)
    const id = newMessageId('botmsg')
    const now = Date.now()
    const payload = {
      id,
      talkerId: this.currentUserId,
      timestamp: now,
      type: fields.type ?? PUPPET.types.Message.Text,
      text: fields.text ?? '',
      ...(isRoom
        ? { roomId: conversationId, mentionIdList: fields.mentionIds ?? [] }
        : { listenerId: conversationId }),
    }
    this.mocker.MessageMock.create(payload)
    said.push({
      id,
      kind,
      conversationId,
      roomId: isRoom ? conversationId : null,
      toId: isRoom ? null : conversationId,
      text: fields.text ?? '',
      mentionIds: fields.mentionIds ?? [],
      extra: fields.extra ?? null,
      time: now,
      at: nowHr(),
    })
    if (OPT.selfEcho) this.emit('message', { messageId: id })
    return id
  }

  async messageSendText (conversationId, text, mentionIdList) {
    return this._botSend(conversationId, 'text', { text, mentionIds: mentionIdList ?? [] })
  }

  async messageSendFile (conversationId, file) {
    const name = file?.name ?? ''
    return this._botSend(conversationId, 'file', { text: name, type: PUPPET.types.Message.Attachment, extra: { name } })
  }

  async messageSendUrl (conversationId, urlLinkPayload) {
    return this._botSend(conversationId, 'url', { text: urlLinkPayload?.title ?? '', type: PUPPET.types.Message.Url, extra: urlLinkPayload })
  }

  async messageSendContact (conversationId, contactId) {
    return this._botSend(conversationId, 'contact', { text: contactId, type: PUPPET.types.Message.Contact, extra: { contactId } })
  }

  async messageSendMiniProgram (conversationId, miniProgramPayload) {
    return this._botSend(conversationId, 'miniprogram', { text: miniProgramPayload?.title ?? '', type: PUPPET.types.Message.MiniProgram, extra: miniProgramPayload })
  }

  // The stock mock answers a fixed 'mock room topic'; serve (and set) the real one.
  async roomTopic (roomId, topic) {
    const payload = this.mocker.roomPayload(roomId)
    if (typeof topic === 'undefined') return payload.topic
    changeTopic(roomId, topic, this.currentUserId)
  }

  // The bot adds a member: update the room and tell the client.
  async roomAdd (roomId, contactId) {
    joinRoom(roomId, [contactId], this.currentUserId)
  }

  async roomDel (roomId, contactId) {
    leaveRoom(roomId, [contactId], this.currentUserId)
  }

  async roomQuit (roomId) {
    leaveRoom(roomId, [this.currentUserId], this.currentUserId)
  }

  async roomInvitationRawPayload (roomInvitationId) {
    const inv = invitations.get(roomInvitationId)
    if (!inv) throw new Error(`no room invitation ${roomInvitationId}`)
    return inv.payload
  }

  async roomInvitationAccept (roomInvitationId) {
    const inv = invitations.get(roomInvitationId)
    if (!inv) throw new Error(`no room invitation ${roomInvitationId}`)
    if (inv.accepted) return
    inv.accepted = Date.now()
    joinRoom(inv.roomId, [this.currentUserId], inv.payload.inviterId)
  }
}

const puppet = new GatewayPuppet()
const mocker = puppet.mocker
const botContact = mocker.createContact({ id: OPT.botId, name: OPT.botName, friend: false })

// A client starts the puppet (python-wechaty calls stop() then start() on every connect):
// log the bot in so the client sees `login` (replayed on event-stream connect while logged in).
puppet.on('start', () => {
  clientCalls.start++
  if (!puppet.isLoggedIn) mocker.login(botContact)
})
// PuppetMock.stop() emits `logout` but keeps the user id; forget it so the next start logs in afresh.
puppet.on('stop', () => {
  clientCalls.stop++
  puppet.__currentUserId = undefined
})

// Keep the puppet watchdog fed (it emits an `error` event after 60 s without heartbeat).
const heartbeatTimer = OPT.heartbeatSeconds > 0
  ? setInterval(() => puppet.emit('heartbeat', { data: 'gateway heartbeat' }), OPT.heartbeatSeconds * 1000)
  : undefined
heartbeatTimer?.unref()

// ---------------------------------------------------------------- world helpers

class HttpError extends Error {
  constructor (status, message) { super(message); this.status = status }
}

const hasContact = (id) => mocker.cacheContactPayload.has(id)
const hasRoom = (id) => mocker.cacheRoomPayload.has(id)

function ensureContact (c) {
  const spec = typeof c === 'string' ? { id: c } : c
  if (!spec || !spec.id) throw new HttpError(400, 'contact needs an id')
  if (hasContact(spec.id)) return mocker.cacheContactPayload.get(spec.id)
  const contact = mocker.createContact({
    id: spec.id,
    name: spec.name ?? spec.id,
    alias: spec.alias,
    avatar: spec.avatar ?? '',
    friend: spec.friend ?? false,
    gender: spec.gender ?? PUPPET.types.ContactGender.Unknown,
    type: PUPPET.types.Contact.Individual,
    weixin: spec.weixin ?? spec.id,
  })
  return contact.payload
}

function requireContact (id, what = 'contact') {
  if (!id) throw new HttpError(400, `${what} id missing`)
  if (!hasContact(id)) throw new HttpError(404, `unknown ${what} ${id}`)
}

function requireRoom (id) {
  if (!id) throw new HttpError(400, 'roomId missing')
  if (!hasRoom(id)) throw new HttpError(404, `unknown room ${id}`)
  return mocker.cacheRoomPayload.get(id)
}

function dirty (type, id) {
  try { puppet.dirtyPayload(type, id) } catch (e) { err('dirtyPayload failed:', e.message) }
}

function createRoom ({ id, topic, members = [], memberIds = [], ownerId, adminIds = [], withBot = true }) {
  if (!id || !String(id).includes('@')) throw new HttpError(400, 'room id must contain "@" (e.g. "123@chatroom")')
  if (hasRoom(id)) throw new HttpError(409, `room ${id} exists`)
  const ids = []
  for (const m of [...members, ...memberIds]) {
    const c = ensureContact(m)
    if (!ids.includes(c.id)) ids.push(c.id)
  }
  if (withBot && !ids.includes(OPT.botId)) ids.push(OPT.botId)
  const room = mocker.createRoom({
    id,
    topic: topic ?? id,
    memberIdList: ids,
    ownerId: ownerId ?? ids.find(x => x !== OPT.botId),
    adminIdList: adminIds,
    avatar: '',
  })
  return room.payload
}

function joinRoom (roomId, inviteeIds, inviterId) {
  const room = requireRoom(roomId)
  for (const id of inviteeIds) {
    ensureContact(id)
    if (!room.memberIdList.includes(id)) room.memberIdList.push(id)
  }
  dirty(PUPPET.types.Dirty.Room, roomId)
  const payload = { inviteeIdList: inviteeIds, inviterId, roomId, timestamp: Date.now() }
  puppet.emit('room-join', payload)
  return payload
}

function leaveRoom (roomId, removeeIds, removerId) {
  const room = requireRoom(roomId)
  room.memberIdList = room.memberIdList.filter(x => !removeeIds.includes(x))
  dirty(PUPPET.types.Dirty.Room, roomId)
  const payload = { removeeIdList: removeeIds, removerId, roomId, timestamp: Date.now() }
  puppet.emit('room-leave', payload)
  return payload
}

function changeTopic (roomId, topic, changerId) {
  const room = requireRoom(roomId)
  const payload = { changerId, newTopic: topic, oldTopic: room.topic, roomId, timestamp: Date.now() }
  room.topic = topic
  dirty(PUPPET.types.Dirty.Room, roomId)
  puppet.emit('room-topic', payload)
  return payload
}

const MESSAGE_TYPES = PUPPET.types.Message // name <-> number (Text=7, GroupNote=10, ...)

function resolveType (t, dflt) {
  if (t === undefined || t === null) return dflt
  if (typeof t === 'number' && MESSAGE_TYPES[t] !== undefined) return t
  if (typeof t === 'string' && typeof MESSAGE_TYPES[t] === 'number') return MESSAGE_TYPES[t]
  throw new HttpError(400, `unknown message type ${t}; use one of ${Object.keys(MESSAGE_TYPES).filter(k => isNaN(Number(k))).join(', ')}`)
}

/**
 * A member posts into a room (or, with toId, privately to the bot).
 * A caller-given id that already exists re-delivers that same stored message (duplicate delivery).
 */
function memberSays ({ roomId, talkerId, text, mentionIds = [], id, type, timestamp, toId }, dfltType) {
  if (typeof text !== 'string') throw new HttpError(400, 'text must be a string')
  requireContact(talkerId, 'talker')
  if (!roomId && !toId) throw new HttpError(400, 'roomId (or toId) missing')
  if (roomId) requireRoom(roomId)
  if (toId) requireContact(toId, 'listener')
  const msgType = resolveType(type, dfltType)
  if (id && mocker.cacheMessagePayload.has(id)) {
    const old = mocker.cacheMessagePayload.get(id)
    if (old.text !== text || old.talkerId !== talkerId || (old.roomId ?? null) !== (roomId ?? null)) {
      throw new HttpError(409, `message id ${id} exists with different content`)
    }
    const at = nowHr()
    puppet.emit('message', { messageId: id })
    return { id, duplicate: true, at }
  }
  const msgId = id || newMessageId()
  const payload = {
    id: msgId,
    talkerId,
    text,
    timestamp: timestamp ?? Date.now(),
    type: msgType,
    ...(roomId ? { roomId, mentionIdList: mentionIds } : { listenerId: toId }),
  }
  mocker.MessageMock.create(payload)
  const at = nowHr()
  puppet.emit('message', { messageId: msgId })
  return { id: msgId, duplicate: false, at }
}

// ---------------------------------------------------------------- HTTP control API

function readJson (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      if (!raw.trim()) return resolve({})
      try { resolve(JSON.parse(raw)) } catch (e) { reject(new HttpError(400, `bad JSON: ${e.message}`)) }
    })
    req.on('error', reject)
  })
}

let grpcPortBound = 0
let httpPortBound = 0

function health () {
  return {
    ok: true,
    grpcPort: grpcPortBound,
    httpPort: httpPortBound,
    token: OPT.token,
    botId: OPT.botId,
    loggedIn: puppet.isLoggedIn,
    puppetActive: puppet.state.active(),
    clientStarts: clientCalls.start,
    clientStops: clientCalls.stop,
    rooms: mocker.cacheRoomPayload.size,
    contacts: mocker.cacheContactPayload.size,
    said: said.length,
  }
}

const routes = {
  'GET /health': () => health(),

  'GET /state': () => ({
    botId: OPT.botId,
    loggedIn: puppet.isLoggedIn,
    contacts: [...mocker.cacheContactPayload.values()].map(c => ({ id: c.id, name: c.name })),
    rooms: [...mocker.cacheRoomPayload.values()].map(r => ({ id: r.id, topic: r.topic, memberIds: [...r.memberIdList], ownerId: r.ownerId ?? null })),
    invitations: [...invitations.entries()].map(([id, inv]) => ({ id, roomId: inv.roomId, inviterId: inv.payload.inviterId, accepted: inv.accepted ?? null })),
  }),

  // body: {id, name?, alias?}  or  {contacts: [{id, name?}, ...]}
  'POST /contacts': (b) => ({ contacts: (b.contacts ?? [b]).map(c => { const p = ensureContact(c); return { id: p.id, name: p.name } }) }),

  // body: {id: "xx@chatroom", topic?, members?: [id | {id, name}], ownerId?, withBot?: true}
  'POST /rooms': (b) => { const r = createRoom(b); return { id: r.id, topic: r.topic, memberIds: [...r.memberIdList] } },

  // body: {roomId, talkerId, text, mentionIds?, id?, timestamp?(ms), type?}  -> {id, duplicate, at}
  // (or {toId, talkerId, text} for a private message to the bot; `at` = hi-res ms when it was emitted)
  'POST /say': (b) => memberSays(b, MESSAGE_TYPES.Text),

  // body: {roomId, talkerId, xml, id?, type? (default "GroupNote"), timestamp?} -> {id, duplicate}
  // The message text is the raw XML, verbatim (include the "wxid:\n" prefix yourself if you want it).
  'POST /app-message': (b) => memberSays({ ...b, text: b.xml ?? b.text }, MESSAGE_TYPES.GroupNote),

  'POST /login': () => {
    if (puppet.isLoggedIn) return { loggedIn: true, already: true }
    if (!puppet.state.active()) throw new HttpError(409, 'no client has started the puppet yet')
    mocker.login(botContact)
    return { loggedIn: true, already: false }
  },

  // body: {reason?}
  'POST /logout': async (b) => {
    const was = puppet.isLoggedIn
    await puppet.logout(b.reason ?? 'logout by test')
    return { loggedIn: false, was }
  },

  // The bot (or others, with inviteeIds) joins a room. body: {roomId, inviterId, inviteeIds? (default [bot])}
  'POST /room-join': (b) => {
    const inviteeIds = b.inviteeIds ?? [OPT.botId]
    if (!b.inviterId) throw new HttpError(400, 'inviterId missing')
    ensureContact(b.inviterId)
    if (!hasRoom(b.roomId)) {
      if (!b.createIfMissing) throw new HttpError(404, `unknown room ${b.roomId}`)
      createRoom({ id: b.roomId, topic: b.topic, members: [b.inviterId, ...(b.members ?? [])], withBot: false })
    }
    return joinRoom(b.roomId, inviteeIds, b.inviterId)
  },

  // Members leave. body: {roomId, removeeIds, removerId}
  'POST /room-leave': (b) => leaveRoom(b.roomId, b.removeeIds ?? [OPT.botId], b.removerId ?? b.removeeIds?.[0] ?? OPT.botId),

  // An invitation for the bot to join a room; accepting it (RoomInvitation.accept()) makes the bot join
  // and fires room-join with the bot as invitee. The room is created (without the bot) if missing.
  // body: {roomId, inviterId, topic?, members?, id?} -> {invitationId}
  'POST /room-invitation': (b) => {
    if (!b.inviterId) throw new HttpError(400, 'inviterId missing')
    ensureContact(b.inviterId)
    if (!b.roomId) throw new HttpError(400, 'roomId missing')
    if (!hasRoom(b.roomId)) {
      createRoom({ id: b.roomId, topic: b.topic, members: [b.inviterId, ...(b.members ?? [])], withBot: false })
    }
    const room = mocker.cacheRoomPayload.get(b.roomId)
    const id = b.id ?? newMessageId('roominv')
    const payload = {
      id,
      inviterId: b.inviterId,
      topic: room.topic,
      avatar: '',
      invitation: b.invitation ?? '',
      memberCount: room.memberIdList.length,
      memberIdList: [...room.memberIdList],
      timestamp: Date.now(),
      receiverId: OPT.botId,
    }
    invitations.set(id, { payload, roomId: b.roomId, accepted: null })
    puppet.emit('room-invite', { roomInvitationId: id })
    return { invitationId: id }
  },

  'GET /invitations': () => ({ invitations: [...invitations.entries()].map(([id, inv]) => ({ id, roomId: inv.roomId, accepted: inv.accepted ?? null })) }),

  // body: {roomId, topic, changerId?}
  'POST /room-topic': (b) => {
    if (typeof b.topic !== 'string') throw new HttpError(400, 'topic must be a string')
    const changerId = b.changerId ?? OPT.botId
    ensureContact(changerId)
    return changeTopic(b.roomId, b.topic, changerId)
  },

  // ?roomId=...&since=<ms>  -> {said: [{id, kind, roomId, toId, conversationId, text, mentionIds, extra, time, at}]}
  // time: ms epoch; at: hi-res ms epoch (float) when the bot's send reached the gateway
  'GET /said': (_b, url) => {
    const roomId = url.searchParams.get('roomId')
    const since = Number(url.searchParams.get('since') ?? 0)
    return { said: said.filter(s => (!roomId || s.roomId === roomId) && s.time >= since) }
  },
  'DELETE /said': () => { const n = said.length; said.length = 0; return { cleared: n } },
  'POST /said/clear': () => { const n = said.length; said.length = 0; return { cleared: n } },
}

const httpServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  const handler = routes[`${req.method} ${url.pathname}`]
  let status = 200
  let body
  try {
    if (!handler) throw new HttpError(404, `no route ${req.method} ${url.pathname}`)
    const json = (req.method === 'POST' || req.method === 'PUT') ? await readJson(req) : {}
    body = await handler(json, url)
  } catch (e) {
    status = e instanceof HttpError ? e.status : 500
    body = { error: e.message }
    if (status === 500) err('HTTP', req.method, url.pathname, 'failed:', e.stack)
  }
  const data = JSON.stringify(body ?? {})
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) })
  res.end(data)
})

// ---------------------------------------------------------------- lifecycle

function freePort (host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, host, () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

let puppetServer
let stopping = false

async function shutdown (signal) {
  if (stopping) return
  stopping = true
  err(`${signal}: stopping`)
  const force = setTimeout(() => process.exit(0), 3000)
  force.unref()
  try {
    if (heartbeatTimer) clearInterval(heartbeatTimer)
    httpServer.closeAllConnections?.()
    await new Promise(resolve => httpServer.close(() => resolve()))
    if (puppetServer) await puppetServer.stop()
    if (puppet.state.active()) await puppet.stop()
  } catch (e) {
    err('shutdown error:', e.message)
  }
  process.exit(0)
}

async function main () {
  grpcPortBound = OPT.grpcPort || await freePort(OPT.host)
  puppetServer = new PuppetServer({
    endpoint: `${OPT.host}:${grpcPortBound}`,
    puppet,
    token: OPT.token,
    tls: { disable: true },
  })
  await puppetServer.start()
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(OPT.httpPort, OPT.host, () => resolve())
  })
  httpPortBound = httpServer.address().port
  process.stdout.write(`READY grpc=${grpcPortBound} http=${httpPortBound}\n`)
}

process.on('SIGTERM', () => { void shutdown('SIGTERM') })
process.on('SIGINT', () => { void shutdown('SIGINT') })
process.on('unhandledRejection', (e) => err('unhandledRejection:', e?.stack ?? e))

main().catch(e => {
  err('failed to start:', e?.stack ?? e)
  process.exit(1)
})
