// End-to-end scenarios for Paktum's field app, driven through Debian's Chromium with
// playwright-core against the app served by the real relay (which must be running).
//
//   node tests/e2e/run.mjs --base http://127.0.0.1:8080 [--artifacts tests/artifacts] [--seed 150]
//                          [--dist dist] [--secure-base URL --code CODE] [--only REGEX]
//
// With --dist (the directory the relay serves), a last scenario simulates a new
// deployment by touching sw.js there (and restoring it) to check the update offer.
//
// With --secure-base (a relay that asks for device tokens) and --code (a one-time
// enrolment code its admin CLI printed, for member "Ella"), a scenario enrols a
// device through the invite link and checks that the code cannot be used twice.
//
// Every page runs under the relay's Content-Security-Policy; any violation fails, and
// so does any console error a scenario does not cause on purpose (see `expectedError`).
//
// Without --dist, or without --secure-base and --code, scenarios 5 and 6 are skipped,
// loudly; under CI (the environment variable CI set, as .ci/run does) a skip fails.
//
// Each device is a separate browser context (its own IndexedDB and service worker).
// Every run uses a fresh team name, so runs never see each other's data.
// Exits non-zero when any scenario fails; screenshots (360×800) go to --artifacts.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const BASE = (args.base || process.env.PAKTUM_BASE || "http://127.0.0.1:8080").replace(/\/$/, "");
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const SEED = Number(args.seed || 150);
const DIST = args.dist ? resolve(args.dist) : null;
const SECURE = args["secure-base"] ? args["secure-base"].replace(/\/$/, "") : null;
const CODE = args.code || null;
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const TEAM = `e2e-${Date.now().toString(36)}`;
const T = 30_000;
const IN_CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);
// A relay address no device can reach (scenario 4's failed state): Chromium refuses
// port 9 outright (net::ERR_UNSAFE_PORT), so nothing on the machine can answer.
const UNREACHABLE = "ws://127.0.0.1:9/sync";
// The sync sockets of the relays under test, with or without a device token.
const RELAY_SOCKETS = [BASE, SECURE].filter(Boolean).map((b) => `${b.replace(/^http/, "ws")}/sync`);

mkdirSync(ARTIFACTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
});

const problems = [];
const skipped = [];

// Whether a console error is one the scenarios cause on purpose. Only these pass; a
// 401, a missing asset or any other failed request fails the run.
function expectedError(d, text) {
  // Only Chromium's offline emulation (context.setOffline) produces this error.
  if (text === "Failed to load resource: net::ERR_INTERNET_DISCONNECTED") return true;
  const socket = /^WebSocket connection to '([^']+)' failed:\s*(.*)$/.exec(text);
  if (socket) {
    const [, url, reason] = socket;
    if (url === UNREACHABLE) return /^(Error in connection establishment: )?net::ERR_UNSAFE_PORT$/.test(reason);
    const ours = RELAY_SOCKETS.some((s) => url === s || url.startsWith(`${s}?token=`));
    if (!ours) return false;
    if (/^(Error in connection establishment: )?net::ERR_INTERNET_DISCONNECTED$/.test(reason)) return true;
    // Chromium may give no reason for a network failure: expected only while this
    // device is offline or coming back (until it is up to date again). A refused
    // handshake (401) states its response code and is never expected.
    return reason === "" && (d.offline || d.reconnecting);
  }
  return d.expect.some((pattern) => pattern.test(text));
}

// `expect`: console errors this device causes on purpose (exact patterns).
async function device(name, { expect = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, hasTouch: true, serviceWorkers: "allow" });
  const page = await context.newPage();
  const d = { name, context, page, expect, offline: false, reconnecting: false };
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !expectedError(d, m.text())) {
      problems.push(`${name}: console error: ${m.text()}`);
    }
  });
  // Keeps every text the sync status line showed, to prove progress was reported.
  await page.exposeFunction("__cspViolation", (what) => problems.push(`${name}: CSP violation: ${what}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`),
    );
    window.__statusLog = [];
    new MutationObserver(() => {
      const el = document.querySelector(".sync p");
      const text = el && el.textContent;
      if (text && window.__statusLog[window.__statusLog.length - 1] !== text) window.__statusLog.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return d;
}

async function goOffline(d) {
  d.offline = true;
  await d.context.setOffline(true);
}

async function goOnline(d) {
  await d.context.setOffline(false);
  d.reconnecting = true;
  d.offline = false;
}

async function setUp(d, worker, relay) {
  const { page } = d;
  await page.goto(BASE + "/");
  await page.getByLabel("Your name").fill(worker);
  await page.getByLabel("Your team").fill(TEAM);
  if (relay) await page.getByLabel("Relay address").fill(relay);
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByRole("heading", { name: `My day, ${worker}` }).waitFor({ timeout: T });
}

const syncState = (page) => page.locator(".sync").getAttribute("data-sync-state");

async function waitState(d, state, timeout = T) {
  await d.page.locator(`.sync[data-sync-state="${state}"]`).waitFor({ timeout });
  if (state === "up-to-date") d.reconnecting = false;
}

// Holds the relay's messages to this device after the first `after` of them, so its
// first sync stops midway until the returned `release()` is called: the progress can
// be checked and shot without racing the sync.
async function holdSyncAfter(d, after) {
  let passed = 0;
  let holding = true;
  const held = [];
  await d.page.routeWebSocket(/\/sync(\?|$)/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (holding && passed >= after) held.push([ws, message]);
      else {
        passed++;
        ws.send(message);
      }
    });
  });
  return () => {
    holding = false;
    for (const [ws, message] of held.splice(0)) ws.send(message);
  };
}

async function shot(d, name) {
  await d.page.evaluate(() => window.scrollTo(0, 0));
  await d.page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`) });
}

async function nav(d, label) {
  await d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label }).click();
}

async function newContact(d, name, place = "Market square") {
  await nav(d, "+ Contact");
  await d.page.getByLabel("Name", { exact: true }).fill(name);
  await d.page.getByLabel("Where (optional)").fill(place);
  await d.page.getByRole("button", { name: "Save contact" }).click();
  await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
}

async function addNote(d, text, followUp) {
  await d.page.getByRole("button", { name: "Add note" }).click();
  await d.page.getByLabel("Note", { exact: true }).fill(text);
  if (followUp) await d.page.getByLabel("Follow-up date (optional)").fill(followUp);
  await d.page.getByRole("button", { name: "Save note" }).click();
  await d.page.getByText("Note saved on this phone.").waitFor({ timeout: T });
}

async function setPhone(d, phone) {
  await d.page.getByRole("button", { name: "Edit details" }).click();
  await d.page.getByLabel("Phone number").fill(phone);
  await d.page.getByRole("button", { name: "Save details" }).click();
  await d.page.getByText(phone, { exact: true }).waitFor({ timeout: T });
}

async function openContact(d, name) {
  await nav(d, "Caseload");
  await d.page.getByRole("searchbox").fill(name);
  await d.page.getByRole("link", { name: new RegExp(`^${name}`) }).click();
  await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
}

async function serviceWorkerControls(d) {
  await d.page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: T });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// A scenario that cannot run with the arguments given: said loudly, and a failure under CI.
function skip(name, why) {
  skipped.push(`${name}: ${why}`);
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

let A, B;

scenario("1. offline: create a contact and a note, reload offline, all still there", async () => {
  A = await device("A");
  await setUp(A, "Anna");
  await waitState(A, "up-to-date");
  await shot(A, "sync-up-to-date");
  await serviceWorkerControls(A);
  await goOffline(A);
  await waitState(A, "offline");
  await newContact(A, "Lotte");
  await addNote(A, "Met at the market, wants to be a cook.");
  check((await A.page.locator(".sync p").textContent()).includes("Waiting to sync: 2 changes in 1 record"), "offline status counts the changes and the records");
  await shot(A, "sync-offline");
  await A.page.reload();
  await A.page.getByRole("heading", { level: 1, name: "Lotte" }).waitFor({ timeout: T });
  await A.page.getByText("Met at the market, wants to be a cook.").waitFor({ timeout: T });
  await waitState(A, "offline");
  await nav(A, "Caseload");
  await A.page.getByRole("link", { name: /^Lotte/ }).getByText("Not synced").waitFor({ timeout: T });
  await goOnline(A);
  await waitState(A, "up-to-date");
  check((await A.page.getByText("Not synced").count()) === 0, "after sync nothing is marked as not synced");
});

scenario("2. two devices edit offline and converge, with a visible 'changed by both'", async () => {
  B = await device("B");
  await setUp(B, "Bram");
  await waitState(B, "up-to-date");
  await newContact(A, "Milan");
  await setPhone(A, "0470 11 22 33");
  await waitState(A, "up-to-date");
  await openContact(B, "Milan");
  await B.page.getByText("0470 11 22 33", { exact: true }).waitFor({ timeout: T });
  await waitState(B, "up-to-date");

  await goOffline(A);
  await goOffline(B);
  await waitState(A, "offline");
  await waitState(B, "offline");
  const today = await A.page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  });
  await addNote(A, "Anna: called him about the welding course.", today);
  await setPhone(A, "0470 00 00 01");
  await B.page.getByLabel("New status").selectOption({ label: "Engaged" });
  await B.page.getByRole("button", { name: "Change status" }).click();
  await B.page.getByText("Saved on this phone.", { exact: true }).waitFor({ timeout: T });
  await addNote(B, "Bram: he came by the youth centre.");
  await setPhone(B, "0470 00 00 02");

  await goOnline(A);
  await goOnline(B);
  for (const d of [A, B]) {
    await d.page.getByRole("heading", { name: "Changed by both: Phone number" }).waitFor({ timeout: T });
    await d.page.getByText("Anna: called him about the welding course.").waitFor({ timeout: T });
    await d.page.getByText("Bram: he came by the youth centre.").waitFor({ timeout: T });
    await d.page.locator(".record-head .chip", { hasText: "Engaged" }).waitFor({ timeout: T });
    const conflict = d.page.locator(".conflict");
    await conflict.getByRole("button", { name: "Keep 0470 00 00 01" }).waitFor({ timeout: T });
    await conflict.getByRole("button", { name: "Keep 0470 00 00 02" }).waitFor({ timeout: T });
    await waitState(d, "up-to-date");
  }
  await shot(B, "contact-changed-by-both");
  await B.page.getByRole("link", { name: "History" }).click();
  await B.page.getByText("status: engaged").waitFor({ timeout: T });
  await B.page.getByText("note added").first().waitFor({ timeout: T });
  await B.page.goBack();

  await A.page.getByRole("button", { name: "Keep 0470 00 00 02" }).click();
  for (const d of [A, B]) {
    await d.page.locator(".conflict").waitFor({ state: "detached", timeout: T });
    await d.page.locator("dd", { hasText: "0470 00 00 02" }).waitFor({ timeout: T });
  }
  await waitState(A, "up-to-date");
  await shot(A, "contact");
});

scenario("employer with a visit", async () => {
  await nav(A, "Employers");
  await A.page.getByRole("link", { name: "New employer" }).click();
  await A.page.getByLabel("Employer name").fill("Bakkerij De Zon");
  await A.page.getByRole("button", { name: "Save employer" }).click();
  await A.page.getByRole("heading", { level: 1, name: "Bakkerij De Zon" }).waitFor({ timeout: T });
  await A.page.getByRole("button", { name: "Add visit" }).click();
  await A.page.getByLabel("Purpose").fill("First visit");
  await A.page.getByLabel("What came out of it").fill("Two openings for bakery assistants; open to young people without a diploma.");
  await A.page.getByLabel("Job title").fill("Bakery assistant");
  await A.page.getByLabel("How many").fill("2");
  await A.page.getByLabel("Inclusive-hiring commitment").selectOption({ label: "Committed as employer" });
  await A.page.getByRole("button", { name: "Save visit" }).click();
  await A.page.getByText("Visit saved on this phone.").waitFor({ timeout: T });
  await A.page.getByText("Openings found: 2").waitFor({ timeout: T });
  const committed = (d) => d.page.locator(".record-head .chip", { hasText: "Committed as employer" });
  await committed(A).waitFor({ timeout: T });
  await waitState(A, "up-to-date");
  await shot(A, "employer");
  // Saved, not just shown: after a reload from this phone's store, and in the list.
  await A.page.reload();
  await A.page.getByRole("heading", { level: 1, name: "Bakkerij De Zon" }).waitFor({ timeout: T });
  await committed(A).waitFor({ timeout: T });
  await A.page.getByText("Openings found: 2").waitFor({ timeout: T });
  await nav(A, "Employers");
  await A.page.getByRole("link", { name: /^Bakkerij De Zon/ }).getByText("Committed as employer").waitFor({ timeout: T });
  // And synced: the other device shows it too.
  await nav(B, "Employers");
  await B.page.getByRole("link", { name: /^Bakkerij De Zon/ }).click();
  await B.page.getByRole("heading", { level: 1, name: "Bakkerij De Zon" }).waitFor({ timeout: T });
  await committed(B).waitFor({ timeout: T });
  await waitState(A, "up-to-date");
});

scenario("3. a fresh device receives the whole caseload, with progress", async () => {
  // Enough records that the first sync takes visible time.
  for (let i = 0; i < SEED; i++) {
    await nav(A, "+ Contact");
    const name = `Seed ${String(i).padStart(3, "0")}`;
    await A.page.getByLabel("Name", { exact: true }).fill(name);
    await A.page.getByRole("button", { name: "Save contact" }).click();
    await A.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  }
  await waitState(A, "up-to-date", 120_000);
  await nav(A, "Caseload");
  // The list renders only the rows in view; each says its place and the list's size.
  const listed = async (d) => Number(await d.page.locator("ul.rows > li").first().getAttribute("aria-setsize"));
  const expected = await listed(A);
  check(expected >= SEED, `device A lists ${expected} contacts, at least the ${SEED} seeded`);

  const C = await device("C");
  await setUp(C, "Chris");
  await waitState(C, "up-to-date", 120_000);
  const log = await C.page.evaluate(() => window.__statusLog);
  const progress = log.filter((t) => /Syncing… [\d,]+ of [\d,]+ records/.test(t));
  check(progress.length > 0, `progress was shown during the first sync (saw: ${JSON.stringify(log.slice(0, 8))})`);
  await nav(C, "Caseload");
  await C.page.locator(`ul.rows > li[aria-setsize="${expected}"]`).first().waitFor({ timeout: T });
  const got = await listed(C);
  check(got === expected, `device C lists ${got} contacts, device A ${expected}`);
  await openContact(C, "Milan");
  await C.page.getByText("Bram: he came by the youth centre.").waitFor({ timeout: T });
  console.log(`   first sync on C showed: ${progress.slice(0, 3).join(" | ")}`);
  await C.context.close();
});

scenario("4. screenshots of the screens and the sync states (360×800)", async () => {
  await nav(A, "My day");
  await A.page.getByRole("heading", { name: /^My day/ }).waitFor();
  await A.page.locator("section", { hasText: "Follow-ups due" }).getByRole("link", { name: /Milan.*Due today/ }).waitFor({ timeout: T });
  await shot(A, "my-day");
  await nav(A, "Caseload");
  await shot(A, "caseload");
  // Syncing with progress: a fresh device whose first sync is held a third of the way
  // through the seeded caseload (scenario 3), so the progress is there to be shot.
  const D = await device("D");
  const release = await holdSyncAfter(D, Math.max(3, Math.floor(SEED / 3)));
  await setUp(D, "Dana");
  await D.page.locator(".sync p", { hasText: /Syncing… [\d,]+ of [\d,]+ records/ }).waitFor({ timeout: T });
  await shot(D, "sync-syncing");
  release();
  await waitState(D, "up-to-date", 120_000);
  await D.context.close();
  // Failed: a device whose relay cannot be reached.
  // The app asks the unreachable relay's /healthz whether it is there at all.
  const E = await device("E", { expect: [/^Failed to load resource: net::ERR_UNSAFE_PORT$/] });
  await setUp(E, "Eli", UNREACHABLE);
  await waitState(E, "failed");
  check((await E.page.locator(".sync p").textContent()).includes("cannot be reached"), "failure is said in words");
  await shot(E, "sync-failed");
  await E.context.close();
});

if (DIST) {
  scenario("5. a new deployment is offered, not forced, and reloading picks it up", async () => {
    const U = await device("U");
    await setUp(U, "Uma");
    await serviceWorkerControls(U);
    const file = resolve(DIST, "sw.js");
    const original = readFileSync(file, "utf8");
    try {
      writeFileSync(file, `${original}\n// e2e: a new deployment ${Date.now()}\n`);
      await U.page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r && r.update()));
      await U.page.getByText("A new version of Paktum is ready.").waitFor({ timeout: T });
      await shot(U, "update-offered");
      await Promise.all([U.page.waitForEvent("load", { timeout: T }), U.page.getByRole("button", { name: "Reload now" }).click()]);
      await U.page.getByRole("heading", { name: "My day, Uma" }).waitFor({ timeout: T });
      check((await U.page.getByText("A new version of Paktum is ready.").count()) === 0, "no offer after the reload");
    } finally {
      writeFileSync(file, original);
    }
    await U.context.close();
  });
} else {
  skip("5. a new deployment is offered", "needs --dist (the directory the relay serves)");
}

if (SECURE && CODE) {
  scenario("6. enrolment: the invite link enrols a device, the code works once", async () => {
    const head = await fetch(SECURE + "/");
    const csp = head.headers.get("content-security-policy") || "";
    check(csp.includes("'wasm-unsafe-eval'") && !csp.includes("unsafe-inline"), `a strict CSP is sent: ${csp}`);
    const F = await device("F");
    await F.page.goto(`${SECURE}/#/enrol?code=${encodeURIComponent(CODE)}`);
    check((await F.page.getByLabel(/Enrolment code/).inputValue()) === CODE, "the code is taken from the link");
    await shot(F, "enrol");
    await F.page.getByRole("button", { name: "Start" }).click();
    // Name and team come from the relay, which knows whom the code was made for.
    await F.page.getByRole("heading", { name: "My day, Ella" }).waitFor({ timeout: T });
    await newContact(F, "Noor Enrolled", "Kempen");
    await waitState(F, "up-to-date");
    await F.context.close();

    // The used code is refused with 400, which Chromium logs for the /enrol request.
    const G = await device("G", { expect: [/^Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/] });
    await G.page.goto(`${SECURE}/#/enrol?code=${encodeURIComponent(CODE)}`);
    await G.page.getByRole("button", { name: "Start" }).click();
    await G.page.getByRole("alert").filter({ hasText: "already used" }).waitFor({ timeout: T });
    check((await G.page.getByRole("heading", { name: /My day/ }).count()) === 0, "a used code enrols nobody");
    await shot(G, "enrol-used-code");
    await G.context.close();
  });
} else {
  skip("6. enrolment through an invite link", "needs --secure-base and --code (a relay with device tokens)");
}

(await import("./languages.mjs")).languageScenarios({ scenario, browser, problems, BASE, ARTIFACTS, TEAM, T, check });
(await import("./records.mjs")).recordScenarios({ scenario, device, setUp, waitState, goOffline, goOnline, nav, newContact, addNote, setPhone, openContact, shot, check, T, ARTIFACTS });
(await import("./day.mjs")).dayScenarios({ scenario, browser, problems, BASE, ARTIFACTS, TEAM, T, check });
(await import("./privacy.mjs")).privacyScenarios({ scenario, device, setUp, waitState, nav, shot, check, T });
(await import("./identify.mjs")).identifyScenarios({ scenario, device, setUp, waitState, goOffline, nav, check, T, ARTIFACTS });
(await import("./lock.mjs")).lockScenarios({ scenario, device, setUp, waitState, nav, newContact, setPhone, shot, check, T, problems, BASE, SEED });

let failed = 0;
// --only REGEX runs the scenarios whose name matches (the others are not run, not skipped).
const ONLY = args.only ? new RegExp(args.only) : null;
for (const { name, fn } of scenarios.filter((s) => !ONLY || ONLY.test(s.name))) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e && e.message).split("\n").join("\n     ")}`);
    for (const d of [A, B].filter(Boolean)) {
      await d.page.screenshot({ path: resolve(ARTIFACTS, `failure-${d.name}.png`) }).catch(() => {});
    }
  }
}
if (problems.length) {
  failed++;
  console.log(`FAIL the pages reported errors:\n     ${problems.join("\n     ")}`);
}
for (const s of skipped) {
  console.log(`${IN_CI ? "FAIL" : "SKIPPED"} ${s}`);
  if (IN_CI) failed++;
}
await browser.close();
const skips = skipped.length ? `; ${skipped.length} SKIPPED` : "";
console.log(failed ? `${failed} failed${skips}` : `all passed${skips} (team ${TEAM}, screenshots in ${ARTIFACTS})`);
process.exit(failed ? 1 : 0);
