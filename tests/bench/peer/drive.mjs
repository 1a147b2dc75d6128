// Drives the browser peer (peer.js: stock automerge-repo in the page) for the browser
// bench: bundles it with esbuild, serves it on a loopback port, and runs its first
// sync, warm start and saves in Chromium. Used by ../browser.mjs --peer.

import { build } from "esbuild";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const HERE = dirname(fileURLToPath(import.meta.url));

/// Counts WebSocket payload bytes both ways inside the page (as the app's bench does).
function countWebSocket() {
  window.__ws = { bytes: 0, frames: 0 };
  const size = (d) => (typeof d === "string" ? new TextEncoder().encode(d).length : d.byteLength ?? d.size ?? 0);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        window.__ws.bytes += size(e.data);
        window.__ws.frames++;
      });
    }
    send(data) {
      window.__ws.bytes += size(data);
      window.__ws.frames++;
      return super.send(data);
    }
  };
}

/// Bundles the peer and serves it; `close()` when done.
export async function startPeer({ browser, relay, team, records, timeout, log }) {
  const bundled = await build({
    entryPoints: [join(HERE, "peer.js")],
    bundle: true,
    format: "esm",
    platform: "browser",
    minify: true,
    write: false,
    logLevel: "error",
  });
  const js = bundled.outputFiles[0].contents;
  const html = readFileSync(join(HERE, "index.html"));
  const server = createServer((req, res) => {
    const [body, type] = req.url === "/peer.bundle.js" ? [js, "text/javascript"] : [html, "text/html"];
    // The bundle may be cached like the app's hashed assets: a warm start reads it
    // from the HTTP cache, as the app's reads its shell from the service worker.
    res.writeHead(200, { "content-type": type, "cache-control": "max-age=3600" });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  log(`browser peer: automerge-repo bundle ${Math.round(js.length / 1024)} KiB, served at ${origin}`);

  async function page(context) {
    for (const p of context.pages()) await p.close();
    const p = await context.newPage();
    await p.goto(origin + "/", { timeout });
    await p.waitForFunction(() => window.peer, null, { timeout });
    return p;
  }

  let ids = null;
  return {
    /// A fresh context: every document of the team into IndexedDB. Returns the
    /// context (for the warm starts) with seconds and WebSocket bytes.
    async firstSync(run) {
      const context = await browser.newContext();
      await context.addInitScript(countWebSocket);
      const p = await page(context);
      const r = await p.evaluate((a) => window.peer.firstSync(a), { relay, team, expect: records, timeout });
      const ws = await p.evaluate(() => window.__ws);
      ids = await p.evaluate(() => window.peer.ids());
      log(`peer first sync ${run}: ${(r.ms / 1000).toFixed(2)} s, ${r.docs} documents stored, ${ws.frames} frames, ${ws.bytes} B`);
      return { context, seconds: r.ms / 1000, bytes: ws.bytes };
    },
    /// The floor (no Automerge work; see peer.js) in a fresh context: seconds and
    /// WebSocket bytes. Needs the record ids of a peer's first sync.
    async floor(run) {
      if (!ids) throw new Error("the floor needs a peer's first sync first");
      const context = await browser.newContext();
      try {
        await context.addInitScript(countWebSocket);
        const p = await page(context);
        const r = await p.evaluate((a) => window.peer.floor(a), { relay, team, ids, timeout });
        const ws = await p.evaluate(() => window.__ws);
        log(`floor ${run}: ${(r.ms / 1000).toFixed(2)} s, ${r.docs} documents' answers stored, ${ws.frames} frames, ${ws.bytes} B`);
        return { seconds: r.ms / 1000, bytes: ws.bytes };
      } finally {
        await context.close();
      }
    },
    /// A new page in `context`, no relay: ms from navigation until every record is
    /// loaded from IndexedDB.
    async warmStart(context, run) {
      const p = await page(context);
      const r = await p.evaluate((a) => window.peer.warmStart(a), { team, expect: records, timeout });
      log(`peer warm start ${run}: index listed ${Math.round(r.listedAt)} ms, every record loaded ${Math.round(r.at)} ms after navigation`);
      return r.at;
    },
    /// `count` small changes, each until its IndexedDB commit (ms), in a page of its
    /// own (started warm, as the app's saves are made in a page just opened).
    async saves(context, count) {
      const p = await page(context);
      await p.evaluate((a) => window.peer.warmStart(a), { team, expect: records, timeout });
      return p.evaluate((c) => window.peer.saves({ count: c }), count);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        // Chromium keeps its connections open; close waits for them otherwise.
        server.closeAllConnections();
      }),
  };
}
