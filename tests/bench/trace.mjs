// Where a first sync spends its time: a Chromium performance trace of the page's main
// thread between two user-timing marks, summarised by kind of work, beside the app's
// own sums per phase (`paktum:phase:NAME` measures, app/src/timing.rs).
//
//   summarise(trace, { from: "bench:submitted", to: "bench:synced" })
//     -> { wallMs, busyMs, byKind: { script, rendering, gc, other } }
//
// tracedSync runs one first sync (browser.mjs's) under the trace and adds the rows.
//
// Self time is counted: an event's duration less the events it encloses on the same
// thread, so a FunctionCall inside an EventDispatch inside a RunTask counts once.

/** Trace categories the summary needs (small enough for a 10,000-record sync). */
export const CATEGORIES = ["toplevel", "devtools.timeline", "blink.user_timing", "v8.execute", "disabled-by-default-devtools.timeline"];

const RENDERING = /^(Layout|UpdateLayoutTree|RecalculateStyles|Paint|PrePaint|PaintImage|Layerize|UpdateLayer|UpdateLayerTree|CompositeLayers|Commit|HitTest|ParseHTML|ParseAuthorStyleSheet|ScheduleStyleRecalculation|InvalidateLayout|IntersectionObserverController::computeIntersections|LocalFrameView::.*|PaintArtifactCompositor::.*|Document::.*|BeginMainThreadFrame|UpdateLifecycle.*)$/;
const GC = /GC|Sweep|Mark|Scavenge/;
const SCRIPT = /^(FunctionCall|EvaluateScript|EventDispatch|TimerFire|FireAnimationFrame|FireIdleCallback|RunMicrotasks|XHRReadyStateChange|ParseScript|CompileScript|CompileCode|WebSocket.*|v8\..*|V8\..*|wasm.*|Wasm.*)$/;

export function kindOf(name) {
  if (GC.test(name)) return "gc";
  if (RENDERING.test(name)) return "rendering";
  if (SCRIPT.test(name)) return "script";
  return "other";
}

/** `trace`: Chromium's JSON trace ({traceEvents} or an array). */
export function summarise(trace, { from, to }) {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const mark = (name) => events.find((e) => e.name === name && (e.cat || "").includes("blink.user_timing"));
  const start = mark(from);
  const end = mark(to);
  if (!start || !end) throw new Error(`trace: marks ${from}/${to} not found`);
  const [t0, t1] = [start.ts, end.ts];
  // The thread that ran the marks: the page's main thread.
  const main = events.filter((e) => e.pid === start.pid && e.tid === start.tid && e.ph === "X" && e.dur > 0);
  // Clipped to the window, sorted outermost first.
  const spans = main
    .map((e) => ({ name: e.name, s: Math.max(e.ts, t0), e: Math.min(e.ts + e.dur, t1) }))
    .filter((x) => x.e > x.s)
    .sort((a, b) => a.s - b.s || b.e - a.e);
  const byKind = { script: 0, rendering: 0, gc: 0, other: 0 };
  const byName = new Map();
  let busy = 0;
  const stack = [];
  const close = (until) => {
    while (stack.length && stack[stack.length - 1].e <= until) {
      const done = stack.pop();
      const self = done.e - done.s - done.children;
      byKind[kindOf(done.name)] += self;
      byName.set(done.name, (byName.get(done.name) || 0) + self);
    }
  };
  for (const span of spans) {
    close(span.s);
    const parent = stack[stack.length - 1];
    if (parent) {
      // A child that outlasts its parent (clock rounding) is cut to it.
      span.e = Math.min(span.e, parent.e);
      parent.children += span.e - span.s;
    } else {
      busy += span.e - span.s;
    }
    stack.push({ ...span, children: 0 });
  }
  close(Infinity);
  const ms = (us) => us / 1000;
  return {
    wallMs: ms(t1 - t0),
    busyMs: ms(busy),
    byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, ms(v)])),
    top: [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, v]) => [n, ms(v)]),
  };
}

// One first sync under a Chromium trace: the page's main thread between the submit and
// the end of the sync, by kind of work (trace.mjs), beside the app's own sums per
// phase (its `paktum:phase:NAME` measures, published when it tidies up after the sync,
// so they include that housekeeping). Information rows, no target.
export async function tracedSync({ browser, firstSync, row, log }) {
  await browser.startTracing(undefined, { categories: CATEGORIES });
  let synced;
  let trace;
  try {
    synced = await firstSync("traced");
  } finally {
    trace = await browser.stopTracing();
  }
  const t = summarise(JSON.parse(trace.toString()), { from: "bench:submitted", to: "bench:synced" });
  log(`trace: ${(trace.length / 1e6).toFixed(1)} MB; heaviest events by self time: ${t.top.map(([n, ms]) => `${n} ${Math.round(ms)} ms`).join(", ")}`);
  const phases = await synced.page.evaluate(() =>
    Object.fromEntries(
      performance
        .getEntriesByType("measure")
        .filter((m) => m.name.startsWith("paktum:phase:"))
        .map((m) => [m.name.slice("paktum:phase:".length), m.duration]),
    ),
  );
  await synced.context.close();
  const one = (key, name, ms) => row(`trace_${key}`, `first sync traced: ${name}`, ms, "ms", [ms]);
  one("wall", "from the submit until every record is stored", t.wallMs);
  one("busy", "main thread busy", t.busyMs);
  one("idle", "main thread idle (waiting on the network and IndexedDB)", t.wallMs - t.busyMs);
  for (const kind of ["script", "rendering", "gc", "other"]) one(kind, `main thread: ${kind}`, t.byKind[kind]);
  const named = {
    decode: "app: decoding the relay's frames",
    core: "app: device core (Automerge sync, index rows)",
    queue: "app: queueing writes",
    notify: "app: telling the UI",
    send: "app: sending replies once written",
    "store-in-flight": "app: an IndexedDB transaction in flight (wall, overlaps the rest)",
  };
  for (const [key, name] of Object.entries(named)) {
    if (phases[key] !== undefined) one(`app_${key.replace(/-/g, "_")}`, name, phases[key]);
  }
}
