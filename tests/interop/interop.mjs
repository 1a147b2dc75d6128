// Interop check for Paktum's relay with the stock automerge-repo JS client.
//   node interop.mjs create <ws-url> [team]  adds a contact to the team's caseload as
//                                            the app does (the contact document, then
//                                            its row in the team's index), waits until
//                                            the relay confirms both, prints
//                                            {"documentId", "indexId", "index": "found"|"imported"}
//   node interop.mjs read <ws-url> <docId>   fetches a document, prints it as JSON
// Exits non-zero with a message on any failure or after 30 s.
//
// Documents as ARCHITECTURE.md ("Documents") describes them: every change's message
// is "<worker>\t<what>" and its time is in milliseconds.
import { createHash } from "node:crypto";
import { Repo, generateAutomergeUrl, parseAutomergeUrl, stringifyAutomergeUrl } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import * as A from "@automerge/automerge";

const [cmd, url, arg] = process.argv.slice(2);
if (!cmd || !url) {
  console.error("usage: node interop.mjs create <ws-url> [team] | read <ws-url> <documentId>");
  process.exit(2);
}
const WORKER = "Interop Bot";
const timer = setTimeout(() => {
  console.error(`interop ${cmd}: no answer from ${url} within 30 s`);
  process.exit(1);
}, 30_000);

const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
const S = (s) => new A.ImmutableString(s);

// Automerge values to plain JSON (one-line strings arrive as ImmutableString).
function plain(v) {
  if (v instanceof A.ImmutableString) return v.val;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Date) return v.getTime();
  if (typeof v === "bigint") return Number(v);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

// A change as Paktum writes one: who and what in the message, the time in milliseconds
// (automerge-js would write seconds).
const by = (what, time) => ({ message: `${WORKER}\t${what}`, time });

// The team's caseload index id: the first 16 bytes of SHA-256("paktum-caseload" 0x00 team).
function indexIdOf(team) {
  const digest = createHash("sha256").update("paktum-caseload").update(Buffer.from([0])).update(team).digest();
  return new Uint8Array(digest.subarray(0, 16));
}

// The index's first change, byte for byte the one every Paktum device starts a team
// with: actor = the id's bytes, time 0, no message, schema, kind, team, records in
// that order. Devices and this client then share the root objects, so rows written
// by any of them land in the same `records` map.
function firstIndexChange(team, idBytes) {
  const actor = Buffer.from(idBytes).toString("hex");
  return A.change(A.init({ actor }), { time: 0 }, (d) => {
    d.schema = 1;
    d.kind = S("caseload");
    d.team = S(team);
    d.records = {};
  });
}

// The team's index: from the relay when it has one. A relay that has none yet answers
// `find` with unavailable; then the client imports the deterministic first change
// under the index's own id (`repo.create` would pick a random id, and a root made any
// other way would not merge with the devices' roots).
async function teamIndex(team) {
  const idBytes = indexIdOf(team);
  const indexUrl = stringifyAutomergeUrl(idBytes);
  try {
    return { handle: await repo.find(indexUrl), how: "found" };
  } catch (e) {
    if (!/unavailable/.test(String(e?.message))) throw e;
    const { documentId } = parseAutomergeUrl(indexUrl);
    const handle = repo.import(A.save(firstIndexChange(team, idBytes)), { docId: documentId });
    return { handle, how: "imported" };
  }
}

// Resolves once the relay reports our heads of `handle`: it has the document, durably.
function confirmed(handle) {
  return new Promise((resolve) => {
    const check = () => {
      const want = JSON.stringify([...handle.heads()].sort());
      for (const p of repo.peers) {
        const info = repo.getStorageIdOfPeer?.(p);
        const theirs = info && handle.getRemoteHeads(info);
        if (theirs && JSON.stringify([...theirs].sort()) === want) return resolve();
      }
    };
    handle.on("remote-heads", check);
    check();
  });
}

try {
  if (cmd === "create") {
    const team = arg || "interop";
    const now = Date.now();
    const name = "Noor (from automerge-repo JS)";
    // The contact document under an id chosen first, so it can carry its own id.
    const { documentId } = parseAutomergeUrl(generateAutomergeUrl());
    const contact = A.change(A.init(), by("created", now), (d) => {
      Object.assign(d, {
        schema: 1,
        kind: S("contact"),
        id: S(documentId),
        team: S(team),
        display_name: S(name),
        assigned_worker: S(WORKER),
        status: S("engaged"),
        first_contact: { date: S("2026-11-24"), channel: S("online") },
        status_history: [{ status: S("engaged"), by: S(WORKER), at: new Date(now) }],
        consent: {},
        tags: { interop: true },
        notes: {},
        referrals: {},
        created_at: new Date(now),
        updated_at: new Date(now),
      });
    });
    const handle = repo.import(A.save(contact), { docId: documentId });
    handle.change((d) => {
      d.notes.n1 = { id: S("n1"), date: S("2026-11-24"), author: S(WORKER), text: "Written by a stock JS client", tags: {}, done: false, created_at: new Date(now + 1) };
      d.updated_at = new Date(now + 1);
    }, by("note added", now + 1));
    // Its row in the team's index, with the heads just written: devices list it, and
    // pull it because the index names changes they lack.
    const index = await teamIndex(team);
    index.handle.change((d) => {
      d.records[documentId] = {
        kind: S("contact"),
        name: S(name),
        status: S("engaged"),
        worker: S(WORKER),
        updated_at: new Date(now + 1),
        // The record's change hashes in hex, sorted, comma-separated.
        heads: S([...A.getHeads(handle.doc())].sort().join(",")),
      };
    }, by("index: 1 rows", now + 2));
    await Promise.all([confirmed(handle), confirmed(index.handle)]);
    console.log(JSON.stringify({ documentId, indexId: index.handle.documentId, index: index.how }));
  } else if (cmd === "read") {
    const handle = await repo.find(arg.startsWith("automerge:") ? arg : `automerge:${arg}`);
    console.log(JSON.stringify(plain(handle.doc())));
  } else {
    console.error(`unknown command ${cmd}`);
    process.exit(2);
  }
  clearTimeout(timer);
  await repo.shutdown();
  process.exit(0);
} catch (e) {
  console.error(`interop ${cmd} failed: ${e?.message ?? e}`);
  process.exit(1);
}
