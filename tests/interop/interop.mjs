// Interop check for Paktum's relay with the stock automerge-repo JS client.
//   node interop.mjs create <ws-url>        creates a contact, waits until the relay
//                                           confirms it, prints {"documentId": ...}
//   node interop.mjs read <ws-url> <docId>  fetches a document, prints it as JSON
// Exits non-zero with a message on any failure or after 30 s.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import * as A from "@automerge/automerge";

const [cmd, url, docId] = process.argv.slice(2);
if (!cmd || !url) {
  console.error("usage: node interop.mjs create|read <ws-url> [documentId]");
  process.exit(2);
}
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

try {
  if (cmd === "create") {
    const now = Date.now();
    // A Paktum contact as documented in ARCHITECTURE.md ("Documents").
    const handle = repo.create({
      schema: 1,
      kind: S("contact"),
      team: S("interop"),
      display_name: S("Noor (from automerge-repo JS)"),
      assigned_worker: S("Interop Bot"),
      status: S("engaged"),
      first_contact: { date: S("2026-11-24"), channel: S("online") },
      status_history: [{ status: S("engaged"), by: S("Interop Bot"), at: new Date(now) }],
      consent: {},
      tags: { interop: true },
      notes: {
        n1: { id: S("n1"), date: S("2026-11-24"), author: S("Interop Bot"), text: "Written by a stock JS client", tags: {}, done: false, created_at: new Date(now) },
      },
      referrals: {},
      created_at: new Date(now),
      updated_at: new Date(now),
    });
    // Wait until the relay reports our heads: it has the document, durably.
    await new Promise((resolve) => {
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
    console.log(JSON.stringify({ documentId: handle.documentId }));
  } else if (cmd === "read") {
    const handle = await repo.find(docId.startsWith("automerge:") ? docId : `automerge:${docId}`);
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
