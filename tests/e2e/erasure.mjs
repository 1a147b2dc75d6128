// Erasure leaves no trace in a browser (issue 15): two devices, each a real Chromium
// profile on disk (launchPersistentContext), enrol on a relay with device tokens, one
// creates a contact with a unique name and both sync it; the name is then found in
// both profile directories. A worker's device offers no "Erase"; a coordinator's
// device (a third profile, C) erases it through the contact page's button, typing the
// name to confirm; all three devices delete it at their next sync; the receipt (asked
// over HTTP with a second coordinator's token) counts their confirmations; the
// browsers close and every file of the three profiles (and of the relay's data
// directory, with --data-dir) is searched for the name, as UTF-8 and UTF-16LE: zero
// hits, or the run fails.
//
//   node tests/e2e/erasure.mjs --base URL --codes WORKER1,WORKER2,COORDINATOR --coordinator-code CODE
//        [--data-dir RELAY_DATA_DIR] [--profiles target/e2e-profiles] [--artifacts tests/artifacts]
//
// Its own step (not a run.mjs scenario): each persistent profile is its own browser.
// The codes are one-time enrolment codes for the same team (admin invite; the
// third of --codes and --coordinator-code with --role coordinator).

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { occurrences, uniqueName as makeName } from "./profile.mjs";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { resolve, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const BASE = (args.base || "").replace(/\/$/, "");
const CODES = (args.codes || "").split(",").filter(Boolean);
const COORDINATOR = args["coordinator-code"];
const DATA_DIR = args["data-dir"] ? resolve(args["data-dir"]) : null;
const PROFILES = resolve(args.profiles || resolve(here, "../../target/e2e-profiles"));
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const SEED = Number(args.seed || 15);
const T = 30_000;

if (!BASE || CODES.length < 3 || !COORDINATOR) {
  console.log("usage: erasure.mjs --base URL --codes WORKER1,WORKER2,COORDINATOR --coordinator-code CODE");
  process.exit(2);
}

const uniqueName = (seed) => makeName(seed, "Zq", 22);

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const problems = [];

async function device(name) {
  const dir = join(PROFILES, name);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 360, height: 800 },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${name}: console error: ${m.text()}`);
  });
  return { name, dir, context, page };
}

async function enrol(d, code) {
  await d.page.goto(`${BASE}/#/enrol?code=${encodeURIComponent(code)}`);
  await d.page.getByRole("button", { name: "Start" }).click();
  await d.page.getByRole("heading", { name: /^My day/ }).waitFor({ timeout: T });
}

async function upToDate(d) {
  await d.page.locator('.sync[data-sync-state="up-to-date"]').waitFor({ timeout: T });
}

async function listed(d, name) {
  await d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Caseload" }).click();
  await d.page.getByRole("searchbox").fill(name);
  return d.page.getByRole("link", { name: new RegExp(`^${name}`) });
}

async function json(response) {
  const body = await response.text();
  check(response.ok, `${response.url}: ${response.status} ${body}`);
  return JSON.parse(body);
}

const name = uniqueName(SEED);
rmSync(PROFILES, { recursive: true, force: true });
mkdirSync(PROFILES, { recursive: true });
mkdirSync(ARTIFACTS, { recursive: true });
let failed = false;
const devices = [];
try {
  const A = await device("A");
  const B = await device("B");
  const C = await device("C");
  devices.push(A, B, C);
  await enrol(A, CODES[0]);
  await enrol(B, CODES[1]);
  await enrol(C, CODES[2]);

  // A creates the contact; both devices sync it.
  await A.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "+ Contact" }).click();
  await A.page.getByLabel("Name", { exact: true }).fill(name);
  await A.page.getByLabel("Where (optional)").fill("Skate park");
  await A.page.getByRole("button", { name: "Save contact" }).click();
  await A.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  const id = decodeURIComponent(A.page.url().match(/contacts\/([^/?#]+)/)[1]);
  await upToDate(A);
  // A worker's device offers no erasure.
  check((await A.page.getByRole("button", { name: /^Erase/ }).count()) === 0, "a worker's device must not offer Erase");
  await (await listed(B, name)).waitFor({ timeout: T });
  await upToDate(B);
  await (await listed(C, name)).waitFor({ timeout: T });
  await upToDate(C);
  for (const d of [A, B, C]) {
    const hits = occurrences(d.dir, name);
    check(hits.length > 0, `${d.name}: the name must be in the profile before, or the test proves nothing`);
    console.log(`     ${d.name} before: ${hits.join(", ")}`);
  }

  // The coordinator erases it on the contact page: a first tap, then the name typed.
  await (await listed(C, name)).click();
  await C.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  await C.page.getByRole("button", { name: "Erase…" }).click();
  const confirm = C.page.getByRole("button", { name: "Erase for good" });
  check(await confirm.isDisabled(), "erasing needs the name typed first");
  await C.page.getByLabel(/^To confirm, type the name/).fill(name.slice(0, -1));
  check(await confirm.isDisabled(), "a name typed wrong does not erase");
  await C.page.getByLabel(/^To confirm, type the name/).fill(name);
  await confirm.evaluate((el) => el.scrollIntoView({ block: "center" }));
  await C.page.screenshot({ path: resolve(ARTIFACTS, "erasure-confirm.png") });
  await confirm.click();
  await C.page.getByRole("status").filter({ hasText: "The record was erased." }).waitFor({ timeout: T });
  await C.page.screenshot({ path: resolve(ARTIFACTS, "erasure-done.png") });

  // The receipt, with a second coordinator's device token (from the relay's /enrol).
  const coordinator = await json(
    await fetch(`${BASE}/enrol`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: COORDINATOR, label: "erasure test" }),
    }),
  );
  const token = encodeURIComponent(coordinator.token);

  // Every device, online, deletes it at once; the list no longer shows it.
  for (const d of [A, B, C]) {
    const link = await listed(d, name);
    await link.waitFor({ state: "detached", timeout: T });
    await upToDate(d);
    await d.page.screenshot({ path: resolve(ARTIFACTS, `erasure-${d.name}.png`) });
  }
  let receipt;
  for (let i = 0; i < 300; i++) {
    receipt = await json(await fetch(`${BASE}/erasure?token=${token}&document=${encodeURIComponent(id)}`));
    if (receipt.confirmed >= 3) break;
    await new Promise((r) => setTimeout(r, 100)); // polling the receipt, not guessing a time
  }
  check(receipt.confirmed === 3, `all three devices confirm: ${receipt.sentence}`);
  console.log(`     ${receipt.sentence}`);

  // The app scrubs IndexedDB after an erasure (LevelDB keeps deleted values until a
  // compaction; see Store::scrub) and marks when it is done.
  for (const d of [A, B, C]) {
    await d.page.waitForFunction(() => performance.getEntriesByName("paktum:scrubbed").length > 0, null, {
      timeout: 120_000,
    });
  }
  for (const d of devices.splice(0)) await d.context.close();
  for (const d of [A, B, C]) {
    const hits = occurrences(d.dir, name);
    check(hits.length === 0, `${d.name}: the erased name is still in the profile: ${hits.join(", ")}`);
  }
  if (DATA_DIR) {
    const hits = occurrences(DATA_DIR, name);
    check(hits.length === 0, `relay: the erased name is still in the data directory: ${hits.join(", ")}`);
  }
  check(problems.length === 0, `the pages reported errors:\n     ${problems.join("\n     ")}`);
  console.log("ok   erasure: erased through the app's button; nothing of the name in any browser profile or the relay's files");
} catch (e) {
  failed = true;
  console.log(`FAIL erasure\n     ${String(e && e.message).split("\n").join("\n     ")}`);
  for (const d of devices) await d.page.screenshot({ path: resolve(ARTIFACTS, `failure-erasure-${d.name}.png`) }).catch(() => {});
} finally {
  for (const d of devices) await d.context.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
