// Browser benchmarks of Paktum's field app against a running relay that serves the
// built app and already holds the team's caseload (seeded by `paktum-load seed`):
//
//   node tests/bench/browser.mjs --base http://127.0.0.1:8080 --team T --expect 10000
//        [--expect-docs D] [--runs 3] [--notes 30] [--json out.json] [--chromium /usr/bin/chromium]
//        [--only first-sync]  (only the first syncs, --runs times, with the peer's and
//                          the floor's under --peer 1)
//        [--only scroll]   (one first sync, then only the caseload scroll, --runs times)
//        [--only encryption]  (first sync, warm start and note saves without a PIN, then
//                          the same with a PIN set at setup: encryption at rest, each
//                          start unlocked by the bench; rows side by side with the ratio
//                          against the 1.3x target)
//        [--only indicators] (one first sync, then only the coordinator's page)
//        [--only trace]    (one first sync under a Chromium performance trace: where
//                          its time goes, by kind of work and by the app's phases)
//        [--peer 1]        (beside each measure, the stock automerge-repo client: peer/)
//
// Needs `npm ci` (or `npm install`) in tests/bench once, and Chromium at --chromium.
// Measures, in headless Chromium (playwright-core):
//   first sync   a fresh browser set up as a worker of team T: from "Start" until the
//                status line says up to date, the caseload counts --expect contacts, and
//                IndexedDB holds --expect-docs documents (default expect + 1, the index;
//                add the employers); plus the WebSocket payload bytes, both ways.
//   app start    from navigation until the caseload list shows its first rows, cold
//                (no HTTP cache, no service worker, the records in IndexedDB) and warm
//                (service worker, records in IndexedDB), each also with CPU throttling
//                4x (CDP Emulation.setCPUThrottlingRate); plus, for warm starts, until
//                the app has loaded every record (its `paktum:records-loaded` measure);
//                and the app shell's bytes on a cold start, on the wire (Resource
//                Timing transferSize; the relay serves precompressed copies) and decoded.
//   caseload scroll  on a CPU 4x slower (CDP Emulation.setCPUThrottlingRate), the
//                caseload (windowed) scrolled by 40 wheel steps of 1,600 px: the longest
//                gap between frames meanwhile; then End: ms until contact --expect is on
//                screen. Both timed in the page; medians over --runs.
//   indicators   (--only indicators) the coordinator's page (/pact, its own wasm) opened
//                on the synced device at 1280×800: the first read of the pact's records
//                for the figures and the first computation (the app's
//                `paktum:pact-records` and `paktum:indicators` measures), then every
//                indicator recomputed --runs times (the grouping switched: the same
//                `compute_all` pass a change of a record triggers, after reading only
//                that record again); median.
//   note save    --notes saves on one contact: from the submit to the end of the app's
//                `paktum:edit` performance measure, which ends when the IndexedDB
//                transaction has committed (app/src/ui.rs, Field::edit); p50 and p95.
//
// With --peer 1, the browser peer (peer/peer.js: @automerge/automerge-repo with its
// IndexedDB and WebSocket adapters, bundled by esbuild, served on its own port) does
// the same against the same relay, run for run, alternating with the app: its first
// sync (the index, then every record it names, until all are flushed to IndexedDB),
// its warm start (no relay; from navigation until every record is loaded) and --notes
// saves (a change until its IndexedDB flush). Those rows carry the peer's figure as
// `reference`. Beside them the floor (peer.js `floor`): the same requests over the same
// WebSocket, every answer's bytes written to IndexedDB, no Automerge work.
//
// Prints a table; --json writes {team, expect, runs, machine, chromium, complete, rows}
// with rows [{key, name, value, unit, runs, target?, met?}]: values are medians over
// --runs (first sync, app start) or percentiles over all saves; `met` compares with
// the target where it has one. Exit 0 when everything was measured, 1 when a
// measurement failed or timed out (the rows so far are still written), 2 on bad
// arguments. Every wait is bounded; the browser is always closed.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { writeFileSync } from "node:fs";
import { hostname, cpus } from "node:os";
import { startPeer } from "./peer/drive.mjs";
import { tracedSync } from "./trace.mjs";

const USAGE =
  "usage: node tests/bench/browser.mjs --base http://127.0.0.1:P --team T --expect N " +
  "[--expect-docs D] [--runs K] [--notes K] [--json out.json] [--chromium PATH] [--only scroll|encryption|indicators] [--peer 1]";

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${a} needs a value`);
    out[a.slice(2)] = value;
    i++;
  }
  return out;
}

function positive(name, value, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

let opts;
try {
  const args = parseArgs(process.argv.slice(2));
  if (!args.base || !args.team || !args.expect) throw new Error("--base, --team and --expect are required");
  const expect = positive("expect", args.expect);
  opts = {
    base: args.base.replace(/\/$/, ""),
    team: args.team,
    expect,
    expectDocs: positive("expect-docs", args["expect-docs"], expect + 1),
    runs: positive("runs", args.runs, 3),
    notes: positive("notes", args.notes, 30),
    json: args.json,
    chromium: args.chromium || process.env.CHROMIUM || "/usr/bin/chromium",
    only: args.only,
    peer: args.peer === "1",
  };
  if (opts.only !== undefined && !["first-sync", "scroll", "encryption", "indicators", "trace"].includes(opts.only)) {
    throw new Error(`--only takes "first-sync", "scroll", "encryption", "indicators" or "trace", got ${opts.only}`);
  }
} catch (e) {
  console.error(`browser bench: ${e.message}\n${USAGE}`);
  process.exit(2);
}

const ORIGIN = new URL(opts.base).origin;
const RELAY = `${ORIGIN.replace(/^http/, "ws")}/sync`;
// Generous bounds: a 2-core VM at 4x throttling is slow, but nothing may hang forever.
const T_PAGE = 60_000;
const T_SYNC = Math.max(120_000, opts.expect * 30);
const T_SAVE = 15_000;

const rows = [];
const log = (...a) => console.error("[bench]", ...a);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Nearest-rank percentile.
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/// One result row; `max` is the target (met when value <= max), if it has one;
/// `peer` the browser peer's runs of the same measure, when it ran.
function row(key, name, value, unit, runs, max, peer) {
  const r = { key, name, value: round(value), unit, runs: runs.map((x) => round(x)) };
  if (max !== undefined) Object.assign(r, { target: `<= ${max} ${unit}`, met: value <= max });
  if (peer?.length) Object.assign(r, { reference: round(peer.value ?? median(peer)), reference_runs: peer.map((x) => round(x)) });
  rows.push(r);
}

/// Runs `fn` but fails with `what` after `ms`.
async function bounded(what, ms, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: CHROMIUM_ARGS,
});

const problems = [];
const peer = opts.peer
  ? await startPeer({ browser, relay: RELAY, team: opts.team, records: opts.expectDocs - 1, timeout: T_SYNC, log })
  : null;

// Records, inside the page, when the caseload list first shows a record and when the
// setup form was submitted (ms since navigation start, performance.now()), and the
// WebSocket payload bytes both ways. Counting in the page costs next to nothing;
// Playwright's frame events would ship every payload over CDP and slow the sync.
function instrument() {
  window.__bench = { listedAt: null, submittedAt: null, wsBytes: 0, wsFrames: 0 };
  // How many contacts the caseload says it lists ("… of 10,000"), else the rows shown.
  // Defined here, not passed as a string: the app's CSP forbids evaluating strings.
  window.__bench.listed = () => {
    const hint = document.querySelector("p.hint");
    const m = hint && hint.textContent.match(/of\s+([\d.,\s\u202f]+)/);
    if (m) return Number(m[1].replace(/\D/g, ""));
    return document.querySelectorAll("ul.rows li a").length;
  };
  const size = (data) => (typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength ?? data.size ?? 0);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        window.__bench.wsBytes += size(e.data);
        window.__bench.wsFrames++;
      });
    }
    send(data) {
      window.__bench.wsBytes += size(data);
      window.__bench.wsFrames++;
      return super.send(data);
    }
  };
  document.addEventListener("submit", () => {
    if (window.__bench.submittedAt === null) {
      window.__bench.submittedAt = performance.now();
      performance.mark("bench:submitted");
    }
  }, true);
  const seen = () => {
    if (window.__bench.listedAt === null && document.querySelector("ul.rows li a")) {
      window.__bench.listedAt = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(seen);
  observer.observe(document, { subtree: true, childList: true });
}

// Set while measuring with encryption at rest: typed at setup and at every start.
let PIN = null;

/// With a PIN set, a start shows the lock screen: the bench types the PIN at once (the
/// measured start includes the unlock, PBKDF2 and all).
async function unlockIfLocked(page) {
  if (!PIN) return;
  const input = page.getByLabel("PIN", { exact: true });
  await input.waitFor({ timeout: T_PAGE });
  await input.fill(PIN);
  await page.getByRole("button", { name: "Unlock" }).click();
}

async function newContext() {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, serviceWorkers: "allow" });
  await context.addInitScript(instrument);
  return context;
}

async function newPage(context, label) {
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`${label}: page error: ${e.message}`));
  return page;
}

/// Documents (distinct ids) in the app's IndexedDB chunk store.
async function storedDocs(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("paktum");
        open.onerror = () => reject(new Error("cannot open IndexedDB 'paktum'"));
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction("chunks", "readonly").objectStore("chunks").getAllKeys();
          req.onerror = () => reject(new Error("cannot read the chunk store"));
          req.onsuccess = () => {
            db.close();
            resolve(new Set(req.result.map((k) => k[0])).size);
          };
        };
      }),
  );
}

/// How many contacts the caseload page counts: its "Showing 200 of N" hint, or its rows.

async function waitUpToDate(page, timeout) {
  await page.locator('.sync[data-sync-state="up-to-date"]').waitFor({ timeout });
}

/// Up to date, then the app's idle-time housekeeping (compactions, the index snapshot
/// for the next start) on disk: a worker keeps the app open that long, and a page
/// closed sooner would leave the next start to measure an unfinished device.
async function settled(page, timeout, upToDateAt = null) {
  await waitUpToDate(page, timeout);
  // The housekeeping runs 2 s after the last redraw, which up to date was.
  const since = upToDateAt ?? (await page.evaluate(() => performance.now()));
  await page.waitForFunction(
    (t) => performance.getEntriesByName("paktum:tidied", "mark").some((m) => m.startTime > t),
    since,
    { timeout, polling: 100 },
  );
}

/// First sync into a fresh browser; returns the context (set up, synced) for reuse.
async function firstSync(run) {
  const context = await newContext();
  const page = await newPage(context, `first sync ${run}`);
  await page.goto(opts.base + "/caseload", { timeout: T_PAGE });
  await page.getByLabel("Your name").fill(`Bench ${run}`, { timeout: T_PAGE });
  await page.getByLabel("Your team").fill(opts.team);
  await page.getByLabel("Relay address").fill(RELAY);
  if (PIN) {
    await page.getByLabel("New PIN or passphrase").fill(PIN);
    await page.getByLabel("Repeat the PIN").fill(PIN);
  }
  await page.getByRole("button", { name: "Start" }).click();
  await page.locator(".sync").waitFor({ timeout: T_PAGE });
  const caseload = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Caseload" });
  if (!(await page.locator("ul.rows").count())) await caseload.click({ timeout: T_PAGE });
  // The UI's verdict: up to date and every contact listed. Polled inside the page.
  const uiDone = await page.waitForFunction(
    (expect) =>
      document.querySelector('.sync[data-sync-state="up-to-date"]') && window.__bench.listed() >= expect && performance.now(),
    opts.expect,
    { timeout: T_SYNC, polling: 50 },
  );
  const upToDateAt = await uiDone.jsonValue();
  let doneAt = upToDateAt;
  // The disk's verdict: every document in IndexedDB (the outbox may still be writing).
  const deadline = Date.now() + T_SYNC;
  let docs = await storedDocs(page);
  while (docs < opts.expectDocs) {
    if (Date.now() > deadline) throw new Error(`first sync: IndexedDB holds ${docs} of ${opts.expectDocs} documents`);
    await page.waitForTimeout(100);
    docs = await storedDocs(page);
    doneAt = await page.evaluate(() => performance.now());
  }
  await page.evaluate(() => performance.mark("bench:synced"));
  const { submittedAt, wsBytes, wsFrames: frames } = await page.evaluate(() => window.__bench);
  const listed = await page.evaluate(() => window.__bench.listed());
  log(`first sync ${run}: ${round((doneAt - submittedAt) / 1000, 2)} s, ${listed} listed, ${docs} documents stored, ${frames} frames, ${wsBytes} B`);
  await settled(page, T_PAGE, upToDateAt);
  return { context, page, seconds: (doneAt - submittedAt) / 1000, bytes: wsBytes };
}

/// Removes the HTTP cache, the service worker and its cache; IndexedDB stays.
async function forgetAppShell(cdp) {
  await cdp.send("Storage.clearDataForOrigin", { origin: ORIGIN, storageTypes: "service_workers,cache_storage" });
  await cdp.send("Network.clearBrowserCache");
}

/// One app start in `context`: a new page, optionally with the HTTP cache and service
/// worker removed first, optionally CPU-throttled. Returns ms from navigation start
/// until the caseload list showed a record, and until the app had loaded every record.
async function appStart(context, { cold, rate, label }) {
  for (const p of context.pages()) await p.close();
  const page = await newPage(context, label);
  const cdp = await context.newCDPSession(page);
  if (cold) await forgetAppShell(cdp);
  if (rate > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  const response = await page.goto(opts.base + "/caseload", { timeout: T_PAGE, waitUntil: "commit" });
  await unlockIfLocked(page);
  const at = await page.waitForFunction(() => window.__bench && window.__bench.listedAt, null, {
    timeout: T_PAGE * Math.max(1, rate),
    polling: 50,
  });
  const ms = await at.jsonValue();
  // The page itself must come from the service worker exactly when warm (a cold page
  // registers a new worker, which then claims it; that is fine).
  if (response.fromServiceWorker() === cold) {
    throw new Error(`${label}: the page was ${cold ? "" : "not "}served by the service worker`);
  }
  // Let the start-up finish (sync, housekeeping) so the next run starts from rest.
  if (rate > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  await settled(page, T_PAGE * Math.max(1, rate));
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The app loads the records after showing the index (app/src/ui.rs, Field::begin).
  const [indexShown, indexDoc, recordsLoaded] = await page.evaluate(() =>
    ["paktum:index-loaded", "paktum:index-doc-loaded", "paktum:records-loaded"].map((name) => {
      const m = performance.getEntriesByName(name, "measure")[0];
      return m ? m.startTime + m.duration : null;
    }),
  );
  // What the app shell cost on the wire (a cold start fetched it all; the relay
  // serves the brotli copies), against its size once decoded.
  const [wire, decoded] = await page.evaluate(() => {
    const shell = performance
      .getEntriesByType("resource")
      .filter((e) => /\.(wasm|js|css)$/.test(new URL(e.name).pathname) && !e.name.endsWith("/sw.js"));
    return [shell.reduce((n, e) => n + e.transferSize, 0), shell.reduce((n, e) => n + e.decodedBodySize, 0)];
  });
  // With a PIN: the unlock's own time (PIN typed → data key in memory, PBKDF2 and all).
  const [unlock, opened] = await page.evaluate(() =>
    ["paktum:unlock", "paktum:index-loaded"].map((name) => {
      const m = performance.getEntriesByName(name, "measure")[0];
      return m ? m.duration : null;
    }),
  );
  await cdp.detach();
  const shown = (t) => (t === null ? "?" : round(t));
  log(
    `${label}: list ${round(ms)} ms (index rows ${shown(indexShown)}, index document ${shown(indexDoc)}), records loaded ${shown(recordsLoaded)} ms`,
  );
  return { listed: ms, recordsLoaded, wire, decoded, unlock, opened };
}

/// Saves notes on one contact; returns ms from each submit to the commit in IndexedDB.
async function noteSaves(context) {
  for (const p of context.pages()) await p.close();
  const page = await newPage(context, "note save");
  await page.goto(opts.base + "/caseload", { timeout: T_PAGE });
  await unlockIfLocked(page);
  await page.locator("ul.rows li a").first().click({ timeout: T_PAGE });
  await page.getByRole("button", { name: "Add note" }).waitFor({ timeout: T_PAGE });
  await waitUpToDate(page, T_PAGE);
  const times = [];
  // Each save's device core part (`paktum:edit-core`: the Automerge change, the index
  // row, the messages); the rest is queueing, the IndexedDB transaction and sending.
  const core = [];
  for (let i = 0; i < opts.notes; i++) {
    await page.getByRole("button", { name: "Add note" }).click({ timeout: T_SAVE });
    await page.getByLabel("Note", { exact: true }).fill(`Benchmark note ${i}: met at the youth centre, talked about training.`);
    const save = page.getByRole("button", { name: "Save note" });
    await save.waitFor({ timeout: T_SAVE });
    const before = await page.evaluate(() => performance.getEntriesByName("paktum:edit", "measure").length);
    const submitted = await save.evaluate((button) => {
      const t = performance.now();
      button.click();
      return t;
    });
    const end = await page.waitForFunction(
      (n) => {
        const m = performance.getEntriesByName("paktum:edit", "measure");
        return m.length > n ? m[m.length - 1].startTime + m[m.length - 1].duration : false;
      },
      before,
      { timeout: T_SAVE, polling: "raf" },
    );
    times.push((await end.jsonValue()) - submitted);
    core.push(await page.evaluate(() => performance.getEntriesByName("paktum:edit-core", "measure").at(-1)?.duration ?? NaN));
    await page.getByRole("button", { name: "Add note" }).waitFor({ timeout: T_SAVE });
  }
  log(`note saves: ${times.map((t) => round(t)).join(" ")} ms`);
  log(`  of which the device core: ${core.map((t) => round(t)).join(" ")} ms`);
  return Object.assign(times, { core });
}

/// Scrolls the caseload (every contact, windowed) on a CPU 4x slower: 40 wheel steps
/// of 1,600 px, then End. Returns the longest gap between two frames during the wheel
/// steps and ms from End until the last contact is on screen, both timed in the page.
async function caseloadScroll(context, run) {
  for (const p of context.pages()) await p.close();
  const page = await newPage(context, `caseload scroll ${run}`);
  await page.goto(opts.base + "/caseload", { timeout: T_PAGE });
  const rows = page.locator("ul.rows > li[aria-posinset]");
  await page.locator(`ul.rows > li[aria-setsize="${opts.expect}"]`).first().waitFor({ timeout: T_PAGE });
  await settled(page, T_PAGE);
  await page.evaluate(() => window.scrollTo(0, 0));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  try {
    await page.evaluate(() => {
      window.__frames = { last: performance.now(), longest: 0, count: 0, stop: false };
      const tick = (t) => {
        const f = window.__frames;
        f.longest = Math.max(f.longest, t - f.last);
        f.last = t;
        f.count++;
        if (!f.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.mouse.move(180, 500);
    for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 1600);
    const frames = await page.evaluate(() => ((window.__frames.stop = true), window.__frames));
    const midway = Number(await rows.last().getAttribute("aria-posinset"));
    if (!(midway > Math.min(40, opts.expect - 1))) throw new Error(`caseload scroll: the wheel did not move the list (last row ${midway})`);
    const rendered = await rows.count();
    const pressedAt = await page.evaluate(() => performance.now());
    await page.keyboard.press("End");
    const shownAt = await page.waitForFunction(
      (n) => {
        const li = document.querySelector(`ul.rows > li[aria-posinset="${n}"]`);
        if (!li) return false;
        const r = li.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight && performance.now();
      },
      opts.expect,
      { timeout: T_PAGE * 4, polling: "raf" },
    );
    const toEnd = (await shownAt.jsonValue()) - pressedAt;
    log(`caseload scroll ${run}: longest frame ${round(frames.longest)} ms (${frames.count} frames), End to row ${opts.expect} ${round(toEnd)} ms, ${rendered} rows in the DOM`);
    return { longest: frames.longest, toEnd };
  } finally {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 }).catch(() => {});
    await cdp.detach().catch(() => {});
  }
}

/// First sync, warm start and note saves without a PIN, then with one, in one run;
/// each pair with its ratio (the limit: encryption costs at most 1.3x).
async function encryptionRows() {
  const measured = {};
  for (const pin of [null, "258036"]) {
    PIN = pin;
    const tag = pin ? "_pin" : "";
    const words = pin ? ", encryption on (PIN)" : ", encryption off";
    const syncs = [];
    let kept;
    for (let run = 1; run <= opts.runs; run++) {
      const r = await firstSync(run);
      syncs.push(r);
      if (kept) await kept.close();
      kept = r.context;
    }
    const secs = syncs.map((s) => s.seconds);
    row(`first_sync${tag}`, `first sync${words}`, median(secs), "s", secs);
    await appStart(kept, { cold: false, rate: 1, label: `warm-up${words}` });
    const warm = [];
    for (let run = 1; run <= opts.runs; run++) warm.push(await appStart(kept, { cold: false, rate: 1, label: `warm start${words} ${run}` }));
    const listed = warm.map((x) => x.listed);
    row(`start_warm${tag}`, `app start warm${words}${pin ? ", unlock typed at once" : ""}`, median(listed), "ms", listed);
    const unlocks = warm.map((x) => x.unlock).filter((x) => x !== null);
    if (pin && unlocks.length) row("unlock", "  of which the unlock (PBKDF2, 600,000 iterations)", median(unlocks), "ms", unlocks);
    // What reading the data costs once the key is there (decrypting included): from
    // opening the device's data (after the unlock) until the list shows.
    const opened = warm.map((x) => x.opened).filter((x) => x !== null);
    row(`start_warm_opened${tag}`, `  warm start from opening the data until the list${words}`, median(opened), "ms", opened);
    const loaded = warm.map((x) => x.recordsLoaded).filter((x) => x !== null);
    if (loaded.length) row(`start_warm_records${tag}`, `  warm start until every record is loaded${words}`, median(loaded), "ms", loaded);
    const saves = await noteSaves(kept);
    row(`save_p95${tag}`, `note save p95${words} (${saves.length} saves)`, percentile(saves, 95), "ms", saves);
    await kept.close();
    measured[pin ? "on" : "off"] = {
      first_sync: median(secs),
      start_warm: median(listed),
      start_warm_opened: median(opened),
      save_p95: percentile(saves, 95),
    };
  }
  PIN = null;
  for (const key of ["first_sync", "start_warm", "start_warm_opened", "save_p95"]) {
    const ratio = measured.on[key] / measured.off[key];
    const r = { key: `${key}_ratio`, name: `  ${key}: encryption on / off`, value: Math.round(ratio * 100) / 100, unit: "x", runs: [] };
    Object.assign(r, { target: "<= 1.3 x", met: ratio <= 1.3 });
    rows.push(r);
  }
}

/// The durations of the app's performance measure `name` so far, in order.
async function measures(page, name) {
  return page.evaluate((n) => performance.getEntriesByName(n, "measure").map((m) => m.duration), name);
}

/// The coordinator's page on the synced device: the first read and computation, then
/// --runs recomputations of every indicator, each a grouping switch.
async function indicators(context) {
  const page = await newPage(context, "indicators");
  await page.setViewportSize({ width: 1280, height: 800 });
  const opened = Date.now();
  await page.goto(opts.base + "/pact", { timeout: T_PAGE });
  await page.getByRole("heading", { level: 1, name: "The pact" }).waitFor({ timeout: T_SYNC });
  // Every record on the device counted: "On this device: N of N records, …".
  await page.waitForFunction(
    (expect) => {
      const m = document.querySelector(".pact-head p.hint")?.textContent.match(/([\d,]+) of ([\d,]+) records/);
      const n = (x) => Number(x.replace(/\D/g, ""));
      return m && n(m[1]) === n(m[2]) && n(m[1]) >= expect;
    },
    opts.expect,
    { timeout: T_SYNC, polling: 100 },
  );
  await settled(page, T_SYNC);
  const read = await measures(page, "paktum:pact-records");
  const first = await measures(page, "paktum:indicators");
  log(`indicators: the page showed every record after ${round((Date.now() - opened) / 1000, 1)} s; ${first.length} computations meanwhile`);
  const grouping = page.getByLabel("Figures per");
  const options = ["Team", "Municipality", "Whole pact only"];
  const times = [];
  for (let run = 0; run < opts.runs; run++) {
    const before = (await measures(page, "paktum:indicators")).length;
    await grouping.selectOption({ label: options[run % options.length] });
    await page.waitForFunction(
      (n) => performance.getEntriesByName("paktum:indicators", "measure").length > n,
      before,
      { timeout: T_PAGE, polling: 50 },
    );
    const all = await measures(page, "paktum:indicators");
    times.push(all[all.length - 1]);
    log(`indicators recomputed ${run + 1}: ${round(times[run])} ms`);
  }
  await page.close();
  return { read: read[read.length - 1], first: first[first.length - 1], times };
}

let failed = null;
const version = browser.version();
try {
  await bounded("browser benchmark", T_SYNC * opts.runs + (30 + 6 * opts.runs) * T_PAGE + opts.notes * T_SAVE, async () => {
    if (opts.only === "encryption") return encryptionRows();
    if (opts.only === "trace") return tracedSync({ browser, firstSync, row, log });
    // First sync, --runs times, each in a fresh browser context; the last one is kept.
    const syncs = [];
    const peerSyncs = [];
    const floors = [];
    let kept;
    let peerKept;
    // Other --only modes need one synced browser; --only first-sync is the runs.
    const single = opts.only && opts.only !== "first-sync";
    for (let run = 1; run <= (single ? 1 : opts.runs); run++) {
      const r = await firstSync(run);
      syncs.push(r);
      if (kept) await kept.close();
      kept = r.context;
      if (!peer || single) continue;
      const p = await peer.firstSync(run);
      peerSyncs.push(p);
      floors.push(await peer.floor(run));
      if (peerKept) await peerKept.close();
      peerKept = p.context;
    }
    if (opts.only === "indicators") {
      const r = await indicators(kept);
      row("pact_records", "coordinator's page: read the pact's records for the figures (last read)", r.read, "ms", [r.read]);
      row("indicators_recompute", `coordinator's page: every indicator recomputed, median of ${r.times.length}`, median(r.times), "ms", r.times);
      return;
    }
    const secs = syncs.map((s) => s.seconds);
    const kib = syncs.map((s) => s.bytes / 1024);
    const peerSecs = peerSyncs.map((s) => s.seconds);
    const peerKib = peerSyncs.map((s) => s.bytes / 1024);
    row("first_sync", "first sync: all records stored and listed", median(secs), "s", secs, 10, peerSecs);
    row("first_sync_bytes", "first sync: WebSocket payload bytes", median(kib), "KiB", kib, undefined, peerKib);
    if (floors.length) {
      const floorSecs = floors.map((f) => f.seconds);
      const floorKib = floors.map((f) => f.bytes / 1024);
      row("floor_sync", "first sync floor: the same requests, answers to IndexedDB, no Automerge", median(floorSecs), "s", floorSecs);
      row("floor_sync_bytes", "first sync floor: WebSocket payload bytes", median(floorKib), "KiB", floorKib);
      const times = secs.map((x, i) => x / floorSecs[i]);
      row("floor_ratio", "first sync: Paktum's time ÷ the floor's (same run)", median(times), "×", times, 3);
    }
    if (opts.only === "first-sync") return;

    for (const rate of opts.only ? [] : [1, 4]) {
      const suffix = rate > 1 ? `, CPU ${rate}x slower` : "";
      const tag = rate > 1 ? `_cpu${rate}x` : "";
      const cold = [];
      for (let run = 1; run <= opts.runs; run++) cold.push(await appStart(kept, { cold: true, rate, label: `cold start${suffix} ${run}` }));
      // A first load after the cold ones installs the service worker's cache again.
      await appStart(kept, { cold: false, rate: 1, label: "warm-up" });
      const warm = [];
      const peerWarm = [];
      for (let run = 1; run <= opts.runs; run++) {
        warm.push(await appStart(kept, { cold: false, rate, label: `warm start${suffix} ${run}` }));
        if (peer && rate === 1) peerWarm.push(await peer.warmStart(peerKept, run));
      }
      const listed = (xs) => xs.map((x) => x.listed);
      row(`start_cold${tag}`, `app start cold (no cache, records stored)${suffix}`, median(listed(cold)), "ms", listed(cold));
      if (rate === 1) {
        const kb = (field) => cold.map((x) => x[field] / 1000);
        row("shell_wire", "cold start: app shell over HTTP (wasm + JS + CSS as served)", median(kb("wire")), "KB", kb("wire"));
        row("shell_decoded", "cold start: app shell decoded", median(kb("decoded")), "KB", kb("decoded"));
      }
      row(`start_warm${tag}`, `app start warm (service worker, records stored)${suffix}`, median(listed(warm)), "ms", listed(warm), rate > 1 ? 3000 : 1000, peerWarm);
      const loaded = warm.map((x) => x.recordsLoaded).filter((x) => x !== null);
      if (loaded.length) {
        row(`start_warm_records${tag}`, `  warm start until every record is loaded${suffix}`, median(loaded), "ms", loaded);
      }
    }

    const scrolls = [];
    for (let run = 1; run <= opts.runs; run++) scrolls.push(await caseloadScroll(kept, run));
    const longest = scrolls.map((x) => x.longest);
    const toEnd = scrolls.map((x) => x.toEnd);
    row("scroll_frame_cpu4x", "caseload scroll: longest frame, 40 wheel steps, CPU 4x slower", median(longest), "ms", longest);
    row("scroll_end_cpu4x", "caseload scroll: End until the last contact is on screen, CPU 4x slower", median(toEnd), "ms", toEnd);

    if (opts.only) return;
    const saves = await noteSaves(kept);
    // The peer's saves are reported, never a hang or a failure of the app's rows.
    const peerSaves = peer
      ? await bounded("peer saves", opts.notes * T_SAVE, () => peer.saves(peerKept, opts.notes)).catch((e) => {
          log(`peer saves: ${e.message}`);
          return [];
        })
      : [];
    const at = (xs, p) => Object.assign([...xs], { value: percentile(xs, p) });
    row("save_p50", `note save to IndexedDB commit p50 (${saves.length} saves)`, percentile(saves, 50), "ms", saves, undefined, at(peerSaves, 50));
    row("save_p95", `note save to IndexedDB commit p95 (${saves.length} saves)`, percentile(saves, 95), "ms", saves, 16, at(peerSaves, 95));
    row("save_core_p50", "  of which the device core (Automerge change, index row, messages), p50", percentile(saves.core, 50), "ms", saves.core);
  });
  if (problems.length) throw new Error(problems.join("\n"));
} catch (e) {
  failed = e;
} finally {
  await peer?.close();
  await browser.close().catch(() => {});
}

const width = Math.max(...rows.map((r) => r.name.length), 10);
for (const r of rows) {
  const beside = r.reference === undefined ? "" : `   peer ${String(r.reference).padStart(9)} ${r.unit}   Paktum/peer ${round(r.value / r.reference, 3)}`;
  console.log(`${r.name.padEnd(width)}  ${String(r.value).padStart(9)} ${r.unit}${beside}`);
}
if (opts.json) {
  const report = {
    team: opts.team,
    expect: opts.expect,
    runs: opts.runs,
    machine: { host: hostname(), cpus: cpus().length },
    chromium: version,
    complete: !failed,
    rows,
  };
  writeFileSync(opts.json, JSON.stringify(report, null, 2) + "\n");
}
if (failed) {
  console.error(`browser bench failed: ${failed.message}`);
  process.exit(1);
}
