// An Element-family Matrix client for the integration tests: matrix-js-sdk 37.5.0 with its
// Rust crypto (@matrix-org/matrix-sdk-crypto-wasm), one process = one user and device.
//
// Protocol (JSON Lines): requests on stdin, `{"id": N, "cmd": "...", ...args}`; responses on
// stdout, `{"id": N, "ok": true, "result": ...}` or `{"id": N, "ok": false, "error": "..."}`.
// Requests run concurrently and are answered when done. stdout carries protocol lines only:
// every log (the sdk's, the Rust tracing layer's, ours) goes to stderr, at warn level unless
// JS_AGENT_DEBUG is set. The command list is in COMMANDS at the bottom; js_agent.py is the
// Python side.

import { format } from "node:util";
import { createInterface } from "node:readline";

const DEBUG = Boolean(process.env.JS_AGENT_DEBUG);
const protocolOut = process.stdout.write.bind(process.stdout);
const toStderr = (...args) => process.stderr.write(`${format(...args)}\n`);

// Before the sdk is loaded (hence the dynamic imports below): the sdk's loglevel loggers and
// the Rust tracing layer write through console.log/info/debug, which Node sends to stdout.
console.log = console.info = console.debug = console.trace = DEBUG ? toStderr : () => {};
console.warn = console.error = toStderr;
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);

process.on("unhandledRejection", (reason) => toStderr("js-agent: unhandled rejection:", reason));
process.on("uncaughtException", (error) => toStderr("js-agent: uncaught exception:", error));

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
// The sdk's own copy of the Rust bindings (a dependency of matrix-js-sdk, hoisted by npm):
// needed for the tracing level and for another user's master key, which CryptoApi lacks.
const rustSdk = await import("@matrix-org/matrix-sdk-crypto-wasm");

const {
  ClientEvent,
  EventType,
  MatrixEventEvent,
  PendingEventOrdering,
  Preset,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
} = sdk;
const {
  AllDevicesIsolationMode,
  DecryptionFailureCode,
  EventShieldColour,
  EventShieldReason,
  OnlySignedDevicesIsolationMode,
} = cryptoApi;

const MEGOLM = "m.megolm.v1.aes-sha2";
const DEFAULT_TIMEOUT_S = 15;
// How long a decryption failure must persist before a wait reports it: the room key often
// arrives in the to-device batch right after the event.
const DEFAULT_SETTLE_S = 2;
const TICK_MS = 200;

// A Logger (matrix-js-sdk/lib/logger.d.ts) at warn level, to stderr.
function makeLogger(prefix = "") {
  const out =
    (level) =>
    (...msg) =>
      toStderr(`[${level}]${prefix}`, ...msg);
  const quiet = DEBUG ? out("debug") : () => {};
  return {
    trace: quiet,
    debug: quiet,
    info: quiet,
    log: quiet,
    warn: out("warn"),
    error: out("error"),
    getChild: (namespace) => makeLogger(`${prefix} ${namespace}`),
  };
}

// -- state ------------------------------------------------------------------------------

let client = null;
let crypto = null;
let me = null;
const toDeviceEvents = [];
const failureSeen = new Map(); // event id -> when a decryption failure was first seen (ms)
let changeWaiters = [];

function changed() {
  const waiters = changeWaiters;
  changeWaiters = [];
  for (const wake of waiters) wake();
}

function nextChangeOrTick() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, TICK_MS);
    changeWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Re-check `probe` after every sync, timeline, decryption or membership change (and every
// TICK_MS, for time-based conditions) until it returns something other than undefined.
async function waitFor(probe, timeoutS, what) {
  const deadline = Date.now() + (timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
  for (;;) {
    const result = await probe(Date.now() >= deadline);
    if (result !== undefined) return result;
    if (Date.now() >= deadline) {
      throw new Error(`${what} not reached within ${timeoutS ?? DEFAULT_TIMEOUT_S} s`);
    }
    await nextChangeOrTick();
  }
}

function requireClient() {
  if (!client) throw new Error("not started: send `start` first");
  return client;
}

function room(roomId) {
  const found = requireClient().getRoom(roomId);
  if (!found) throw new Error(`unknown room ${roomId}`);
  return found;
}

async function waitJoined(roomId, timeoutS) {
  return waitFor(
    () => {
      const joined = client.getRoom(roomId);
      return joined?.getMyMembership() === "join" ? joined : undefined;
    },
    timeoutS,
    `joined ${roomId}`,
  );
}

// -- events as the tests see them ---------------------------------------------------------

function enumName(enumObject, value) {
  if (value === null || value === undefined) return null;
  const name = enumObject[value]; // numeric TS enums map values back to names
  return typeof name === "string" ? name : String(value);
}

function relatesTo(ev) {
  // Decrypted content first; an undecryptable event may still carry it in the clear.
  const clear = ev.isDecryptionFailure() ? undefined : ev.getContent()["m.relates_to"];
  return clear ?? ev.getWireContent()["m.relates_to"] ?? null;
}

function decryptionPending(ev) {
  const notTried = ev.isEncrypted() && !ev.getClearContent() && !ev.isDecryptionFailure();
  return ev.isBeingDecrypted() || notTried;
}

async function describe(ev) {
  const failed = ev.isDecryptionFailure();
  const content = failed ? {} : ev.getContent();
  const relation = relatesTo(ev);
  let shield = null;
  if (ev.isEncrypted() && !failed && !decryptionPending(ev)) {
    const info = await crypto.getEncryptionInfoForEvent(ev);
    if (info) {
      shield = {
        colour: enumName(EventShieldColour, info.shieldColour),
        reason: enumName(EventShieldReason, info.shieldReason),
      };
    }
  }
  return {
    event_id: ev.getId(),
    sender: ev.getSender(),
    type: failed ? ev.getWireType() : ev.getType(),
    state_key: ev.getStateKey() ?? null,
    encrypted: ev.isEncrypted(),
    msgtype: content.msgtype ?? null,
    body: content.body ?? null,
    formatted_body: content.formatted_body ?? null,
    in_reply_to: relation?.["m.in_reply_to"]?.event_id ?? null,
    thread_root: relation?.rel_type === "m.thread" ? relation.event_id : null,
    mentions: content["m.mentions"] ?? null,
    ts: ev.getTs(),
    decryption_failure: failed
      ? String(ev.decryptionFailureReason ?? DecryptionFailureCode.UNKNOWN_ERROR)
      : null,
    shield,
  };
}

function timeline(roomId) {
  return room(roomId).getLiveTimeline().getEvents();
}

// An event ready to report: decrypted, or failed for at least `settleS` (or time is up).
function settled(ev, settleS, timeIsUp) {
  if (decryptionPending(ev)) return timeIsUp;
  if (!ev.isDecryptionFailure()) return true;
  const first = failureSeen.get(ev.getId()) ?? Date.now();
  failureSeen.set(ev.getId(), first);
  return timeIsUp || Date.now() - first >= settleS * 1000;
}

// -- commands -----------------------------------------------------------------------------

async function start({ homeserver, user_id, device_id, access_token, password }) {
  if (client) throw new Error("already started");
  client = sdk.createClient({
    baseUrl: homeserver,
    userId: user_id,
    deviceId: device_id,
    accessToken: access_token,
    logger: makeLogger(),
  });
  me = user_id;
  await client.initRustCrypto({ useIndexedDB: false });
  // initRustCrypto turns the Rust tracing layer on at debug level: lower it, so that the
  // crypto does not build debug lines that console.debug then drops.
  try {
    new rustSdk.Tracing(DEBUG ? rustSdk.LoggerLevel.Debug : rustSdk.LoggerLevel.Warn).turnOn();
  } catch (error) {
    toStderr("js-agent: could not lower the Rust tracing level:", error);
  }
  crypto = client.getCrypto();

  for (const name of [
    RoomEvent.Timeline,
    RoomEvent.MyMembership,
    ClientEvent.Room,
    ClientEvent.Sync,
    MatrixEventEvent.Decrypted,
    RoomStateEvent.Members,
    RoomMemberEvent.Membership,
  ]) {
    client.on(name, changed);
  }
  client.on(ClientEvent.ToDeviceEvent, (ev) => {
    toDeviceEvents.push({
      type: ev.getType(),
      sender: ev.getSender(),
      encrypted: ev.isEncrypted(),
      content: ev.getContent(),
    });
    changed();
  });

  // As a real user has: the account's cross-signing identity, and this device signed by it.
  // First upload of keys: no UIA on Synapse (MSC3967); replacing keys: 401, m.login.password.
  let uia = null;
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        return await makeRequest(null);
      } catch (error) {
        if (error?.httpStatus !== 401 || !error?.data?.flows) throw error;
        uia = "m.login.password";
        return makeRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: user_id },
          password,
          session: error.data.session,
        });
      }
    },
  });

  const prepared = new Promise((resolve, reject) => {
    const onSync = (state, _previous, data) => {
      if (state === "PREPARED" || state === "SYNCING") {
        client.off(ClientEvent.Sync, onSync);
        resolve();
      } else if (state === "ERROR" && data?.error?.httpStatus === 401) {
        client.off(ClientEvent.Sync, onSync);
        reject(new Error(`first sync refused: ${data.error.message}`));
      }
    };
    client.on(ClientEvent.Sync, onSync);
  });
  await client.startClient({
    initialSyncLimit: 100,
    pendingEventOrdering: PendingEventOrdering.Detached,
    lazyLoadMembers: false,
  });
  await prepared;
  return {
    device_id: client.getDeviceId(),
    cross_signing_ready: await crypto.isCrossSigningReady(),
    cross_signing_uia: uia,
  };
}

function setIsolation({ mode }) {
  requireClient();
  if (mode === "exclude") crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  else if (mode === "legacy") crypto.setDeviceIsolationMode(new AllDevicesIsolationMode(false));
  else throw new Error(`mode must be "exclude" or "legacy", not ${JSON.stringify(mode)}`);
  return { mode };
}

const ENCRYPTION_STATE = {
  type: "m.room.encryption",
  state_key: "",
  content: { algorithm: MEGOLM },
};

async function createRoomAndWait(options, encrypted, timeout) {
  const { room_id: roomId } = await requireClient().createRoom(options);
  await waitJoined(roomId, timeout);
  if (encrypted) {
    await waitFor(
      async () => ((await crypto.isEncryptionEnabledInRoom(roomId)) ? true : undefined),
      timeout,
      `encryption of ${roomId} known`,
    );
  }
  return roomId;
}

async function createDm({ user_id, encrypted = true, timeout }) {
  const roomId = await createRoomAndWait(
    {
      preset: Preset.TrustedPrivateChat,
      is_direct: true,
      invite: [user_id],
      visibility: "private",
      initial_state: encrypted ? [ENCRYPTION_STATE] : [],
    },
    encrypted,
    timeout,
  );
  // Element records its DMs in the m.direct account data: {user_id: [room_id, ...]}.
  const direct = { ...(client.getAccountData(EventType.Direct)?.getContent() ?? {}) };
  direct[user_id] = [...new Set([...(direct[user_id] ?? []), roomId])];
  await client.setAccountData(EventType.Direct, direct);
  return roomId;
}

async function createGroupRoom({ invite = [], encrypted = true, name, timeout }) {
  return createRoomAndWait(
    {
      preset: Preset.PrivateChat,
      visibility: "private",
      invite,
      ...(name ? { name } : {}),
      initial_state: encrypted ? [ENCRYPTION_STATE] : [],
    },
    encrypted,
    timeout,
  );
}

async function join({ room_id, timeout }) {
  await requireClient().joinRoom(room_id);
  await waitJoined(room_id, timeout);
  return room_id;
}

async function invite({ room_id, user_id }) {
  await requireClient().invite(room_id, user_id);
  return null;
}

async function waitMember({ room_id, user_id, membership = "join", timeout }) {
  requireClient();
  return waitFor(
    () => {
      const member = client.getRoom(room_id)?.getMember(user_id);
      return member?.membership === membership ? membership : undefined;
    },
    timeout,
    `${user_id} ${membership} in ${room_id}`,
  );
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function send({
  room_id,
  body,
  html,
  mentions = [],
  msgtype = "m.text",
  reply_to,
  thread_root,
  timeout,
}) {
  const target = await waitJoined(room_id, timeout);
  if (await crypto.isEncryptionEnabledInRoom(room_id)) {
    // Without the members' devices the room key reaches nobody: wait until each joined or
    // invited member has at least one known device (downloading them if needed).
    const others = target
      .getMembers()
      .filter((m) => m.userId !== me && (m.membership === "join" || m.membership === "invite"))
      .map((m) => m.userId);
    await waitFor(
      async () => {
        const devices = await crypto.getUserDeviceInfo(others, true);
        return others.every((user) => (devices.get(user)?.size ?? 0) > 0) ? true : undefined;
      },
      timeout,
      `devices of ${others.join(", ")}`,
    );
  }
  const content = { msgtype, body };
  let formatted = html ?? null;
  if (mentions.length) {
    // As Element's composer does for a mention autocompleted at the start: the display name
    // in `body`, a matrix.to pill in `formatted_body`, then ": ".
    const names = mentions.map((user) => target.getMember(user)?.rawDisplayName || user);
    const pills = mentions.map(
      (user, i) => `<a href="https://matrix.to/#/${user}">${escapeHtml(names[i])}</a>`,
    );
    content.body = `${names.join(" ")}: ${body}`;
    formatted = `${pills.join(" ")}: ${formatted ?? escapeHtml(body)}`;
  }
  if (formatted !== null) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = formatted;
  }
  // Element sends m.mentions on every message, empty when nobody is mentioned.
  content["m.mentions"] = mentions.length ? { user_ids: [...mentions] } : {};
  if (thread_root) {
    content["m.relates_to"] = {
      rel_type: "m.thread",
      event_id: thread_root,
      is_falling_back: !reply_to,
      "m.in_reply_to": { event_id: reply_to ?? thread_root },
    };
  } else if (reply_to) {
    content["m.relates_to"] = { "m.in_reply_to": { event_id: reply_to } };
  }
  const { event_id: eventId } = await client.sendEvent(room_id, EventType.RoomMessage, content);
  return eventId;
}

async function events({ room_id }) {
  return Promise.all(timeline(room_id).map(describe));
}

async function waitReply({ room_id, to, timeout, settle = DEFAULT_SETTLE_S }) {
  requireClient();
  const ev = await waitFor(
    (timeIsUp) => {
      const found = client
        .getRoom(room_id)
        ?.getLiveTimeline()
        .getEvents()
        .find((e) => e.getSender() !== me && relatesTo(e)?.["m.in_reply_to"]?.event_id === to);
      return found && settled(found, settle, timeIsUp) ? found : undefined;
    },
    timeout,
    `a reply to ${to} in ${room_id}`,
  );
  return describe(ev);
}

async function waitEvent({
  room_id,
  sender,
  after_ts = 0,
  type,
  timeout,
  settle = DEFAULT_SETTLE_S,
}) {
  requireClient();
  const ev = await waitFor(
    (timeIsUp) => {
      // Not state: the sender's own join would come first.
      const found = client
        .getRoom(room_id)
        ?.getLiveTimeline()
        .getEvents()
        .find(
          (e) =>
            e.getSender() === sender &&
            !e.isState() &&
            e.getTs() >= after_ts &&
            (!type || e.getType() === type || e.getWireType() === type),
        );
      return found && settled(found, settle, timeIsUp) ? found : undefined;
    },
    timeout,
    `an event from ${sender} in ${room_id}`,
  );
  return describe(ev);
}

function masterKeyOf(userId) {
  // CryptoApi has no getter for another user's master key: ask the sdk's OlmMachine (a
  // private field of RustCrypto in 37.5.0) for the identity it holds.
  const machine = crypto.olmMachine;
  if (!machine?.getIdentity) return Promise.resolve(null);
  return machine.getIdentity(new rustSdk.UserId(userId)).then((identity) => {
    if (!identity) return null;
    try {
      return Object.values(JSON.parse(identity.masterKey).keys)[0] ?? null;
    } finally {
      identity.free();
    }
  });
}

async function userIdentity({ user_id }) {
  requireClient();
  const devices = (await crypto.getUserDeviceInfo([user_id], true)).get(user_id) ?? new Map();
  const status = await crypto.getUserVerificationStatus(user_id);
  const described = [];
  for (const device of devices.values()) {
    const trust = await crypto.getDeviceVerificationStatus(user_id, device.deviceId);
    described.push({
      device_id: device.deviceId,
      signed_by_owner: Boolean(trust?.signedByOwner),
      cross_signing_verified: Boolean(trust?.crossSigningVerified),
      locally_verified: Boolean(trust?.localVerified),
      verified: Boolean(trust?.isVerified()),
    });
  }
  return {
    master_key: await masterKeyOf(user_id),
    has_cross_signing_keys: await crypto.userHasCrossSigningKeys(user_id),
    verified: {
      is_verified: status.isVerified(),
      is_cross_signing_verified: status.isCrossSigningVerified(),
      was_cross_signing_verified: status.wasCrossSigningVerified(),
      needs_user_approval: status.needsUserApproval,
    },
    devices: described,
  };
}

function receivedToDevice({ type } = {}) {
  return toDeviceEvents.filter((ev) => !type || ev.type === type);
}

async function ownIdentity() {
  requireClient();
  return {
    user_id: me,
    device_id: client.getDeviceId(),
    cross_signing_ready: await crypto.isCrossSigningReady(),
    master_key: await crypto.getCrossSigningKeyId(),
    crypto_version: crypto.getVersion(),
  };
}

async function stop() {
  client?.stopClient();
  setImmediate(() => process.exit(0));
  return null;
}

const COMMANDS = {
  start,
  set_isolation: setIsolation,
  create_dm: createDm,
  create_room: createGroupRoom,
  join,
  invite,
  wait_member: waitMember,
  send,
  events,
  wait_reply: waitReply,
  wait_event: waitEvent,
  user_identity: userIdentity,
  own_identity: ownIdentity,
  received_to_device: receivedToDevice,
  stop,
};

// -- the loop -----------------------------------------------------------------------------

function reply(message) {
  protocolOut(`${JSON.stringify(message)}\n`);
}

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    reply({ id: null, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  const { id = null, cmd, ...args } = request;
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) {
    reply({ id, ok: false, error: `unknown command ${JSON.stringify(cmd)}` });
    return;
  }
  try {
    const result = await command(args);
    reply({ id, ok: true, result: result ?? null });
  } catch (error) {
    const detail = error?.data?.errcode ? ` (${error.data.errcode})` : "";
    reply({ id, ok: false, error: `${cmd}: ${error?.message ?? String(error)}${detail}` });
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (line.trim()) handle(line);
});
// The test process went away: leave cleanly rather than linger.
lines.on("close", () => {
  client?.stopClient();
  process.exit(0);
});
