// The browser peer: what Paktum's app does on a first sync, a warm start and a save,
// done by the stock automerge-repo client (IndexedDB storage, WebSocket network). The
// bench bundles this file with esbuild and drives it through `window.peer`; timings
// are taken here with performance.now() and returned.

import { Repo, cbor, initializeBase64Wasm, stringifyAutomergeUrl } from "@automerge/automerge-repo/slim";
import * as Automerge from "@automerge/automerge/slim";
import { automergeWasmBase64 } from "@automerge/automerge/automerge.wasm.base64";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const wasm = initializeBase64Wasm(automergeWasmBase64);
const DATABASE = "peer-bench";

/// The team's caseload index: the same derived id as `CaseloadDoc::id_for_team`
/// (SHA-256 of "paktum-caseload", a zero byte and the team; the first 16 bytes).
async function indexUrl(team) {
  const bytes = new TextEncoder().encode(`paktum-caseload\0${team}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return stringifyAutomergeUrl(digest.slice(0, 16));
}

function openRepo(relay) {
  return new Repo({
    storage: new IndexedDBStorageAdapter(DATABASE),
    network: relay ? [new BrowserWebSocketClientAdapter(relay)] : [],
  });
}

const rowIds = (index) => Object.keys(index.doc()?.records ?? {});

/// Waits until the index lists at least `expect` records (it may arrive in parts).
function listed(index, expect, timeout) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (rowIds(index).length >= expect) {
        index.off("change", check);
        clearTimeout(timer);
        resolve(rowIds(index));
      }
    };
    const timer = setTimeout(() => {
      index.off("change", check);
      reject(new Error(`the index lists ${rowIds(index).length} of ${expect} records`));
    }, timeout);
    index.on("change", check);
    check();
  });
}

/// Finds in flight at once. The stock client gives up on a document not ready 60 s
/// after it was asked for (DocHandle's timeoutDelay), and asked for all 10,000
/// records at once it took minutes to take them in, so the later ones were given up
/// on; an app built on it has to ask in windows like this.
const WINDOW = 256;

/// Every record the index names, found (from storage or the relay) and ready.
async function findAll(repo, ids) {
  const handles = new Array(ids.length);
  let next = 0;
  const finder = async () => {
    while (next < ids.length) {
      const i = next++;
      handles[i] = await repo.find(stringifyAutomergeUrl(ids[i]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, ids.length) }, finder));
  for (const h of handles) if (!h.doc()) throw new Error(`record ${h.documentId} has no document`);
  return handles;
}

let repo = null;
let handles = [];

/// The floor's store: every sync message's bytes, as received, under its document.
function openFloorStore() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("floor-bench", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("messages", { autoIncrement: true });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

window.peer = {
  /// From nothing to every document of the team stored in IndexedDB.
  async firstSync({ relay, team, expect, timeout }) {
    await wasm;
    const started = performance.now();
    repo = openRepo(relay);
    const index = await repo.find(await indexUrl(team));
    const ids = await listed(index, expect, timeout);
    handles = await findAll(repo, ids);
    await repo.flush();
    return { ms: performance.now() - started, docs: ids.length + 1 };
  },

  /// With everything stored and no relay: until every record is loaded (the list
  /// could be drawn).
  async warmStart({ team, expect, timeout }) {
    await wasm;
    repo = openRepo(null);
    const index = await repo.find(await indexUrl(team));
    const ids = await listed(index, expect, timeout);
    const listedAt = performance.now();
    handles = await findAll(repo, ids);
    // performance.now() counts from the navigation: the page and bundle load are in.
    return { at: performance.now(), listedAt, docs: ids.length + 1 };
  },

  /// The floor a first sync pays: the same requests over the same WebSocket, every
  /// answer's bytes written to IndexedDB as they come (batched per task), and no
  /// Automerge work at all. The record ids are given (the peer read them from the
  /// index); the one Automerge call, the empty document's first sync message, is made
  /// before the clock starts.
  async floor({ relay, team, ids, timeout }) {
    await wasm;
    const [, hello] = Automerge.generateSyncMessage(Automerge.init(), Automerge.initSyncState());
    const wanted = [(await indexUrl(team)).slice("automerge:".length), ...ids];
    const db = await openFloorStore();
    const started = performance.now();
    const me = `floor-${Math.random().toString(36).slice(2)}`;
    const socket = new WebSocket(relay);
    socket.binaryType = "arraybuffer";
    const waiting = new Set(wanted);
    let queue = [];
    let writes = [];
    const flush = () => {
      if (!queue.length) return;
      const tx = db.transaction("messages", "readwrite");
      const store = tx.objectStore("messages");
      for (const m of queue) store.add(m);
      queue = [];
      writes.push(committed(tx));
    };
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`floor: ${waiting.size} of ${wanted.length} documents unanswered`)), timeout);
      socket.onerror = () => reject(new Error("floor: the WebSocket failed"));
      socket.onopen = () => socket.send(cbor.encode({ type: "join", senderId: me, peerMetadata: {}, supportedProtocolVersions: ["1"] }));
      socket.onmessage = (e) => {
        const m = cbor.decode(new Uint8Array(e.data));
        if (m.type === "peer") {
          for (const documentId of wanted) {
            socket.send(cbor.encode({ type: "request", senderId: me, targetId: m.senderId, documentId, data: hello }));
          }
        } else if (m.type === "sync" && m.data) {
          if (!queue.length) setTimeout(flush, 0);
          queue.push({ doc: m.documentId, data: m.data });
          waiting.delete(m.documentId);
          if (!waiting.size) {
            clearTimeout(timer);
            resolve();
          }
        } else if (m.type === "doc-unavailable" || m.type === "error") {
          clearTimeout(timer);
          reject(new Error(`floor: the relay answered ${m.type} (${m.message ?? m.documentId})`));
        }
      };
    });
    flush();
    await Promise.all(writes);
    const ms = performance.now() - started;
    socket.close();
    db.close();
    return { ms, docs: wanted.length };
  },

  /// The record ids the peer's index lists (after a first sync).
  ids() {
    return handles.map((h) => h.documentId);
  },

  /// `count` small changes to one record, each timed until its IndexedDB commit.
  async saves({ count }) {
    const handle = handles[0];
    if (!handle) throw new Error("no record to change: run a sync or a start first");
    const times = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      handle.change((d) => {
        d.bench_note = `note ${i}`;
      });
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`save ${i + 1}: not flushed to IndexedDB within 10 s`)), 10_000);
      });
      await Promise.race([repo.flush([handle.documentId]), late]).finally(() => clearTimeout(timer));
      times.push(performance.now() - started);
    }
    return times;
  },
};
