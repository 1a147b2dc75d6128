// The coordinator's screens (issue 14) in the built app: two workers of two teams of
// one pact create contacts; a coordinator's device syncs both teams' records, shows
// the indicators, lists exactly the records behind a figure (drill-down), filters
// the merged table (the filter lives in the URL and survives a reload; by stage of
// identification too), downloads
// it as CSV (the file's rows are the table's rows) and the indicators as CSV;
// screenshots of the dashboard at 1280×800 and 768×1024; axe-core on each screen.
// The coordinator's screens are a page of their own (/pact, dist/pact/, its own wasm):
// the worker's phone never requests a file of it nor caches it, the coordinator's
// "Pact" link loads it, and it opens offline from the service worker afterwards.
//
//   node tests/e2e/pact.mjs --base URL --codes WORKER_A,WORKER_B,COORDINATOR
//        [--teams enrolled,west] [--artifacts tests/artifacts]
//
// The codes are one-time enrolment codes (admin invite): a worker of the first team,
// a worker of the second team of the same pact, and a coordinator of the first team.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { axeFindings } from "./axe.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const BASE = (args.base || "").replace(/\/$/, "");
const CODES = (args.codes || "").split(",").filter(Boolean);
const [TEAM_A, TEAM_B] = (args.teams || "enrolled,west").split(",");
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const T = 30_000;

if (!BASE || CODES.length < 3) {
  console.log("usage: pact.mjs --base URL --codes WORKER_A,WORKER_B,COORDINATOR");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const problems = [];
const started = Date.now();
mkdirSync(ARTIFACTS, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });

async function device(name, viewport) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const d = { name, context, page, offline: false, requested: [] };
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    // Chromium's offline emulation (context.setOffline) causes these, nothing else.
    const offline = d.offline && /ERR_INTERNET_DISCONNECTED|^WebSocket connection to '[^']+' failed:\s*$/.test(m.text());
    if (m.type() === "error" && !offline) problems.push(`${name}: console error: ${m.text()}`);
  });
  // Every path this device asks the relay for, the service worker's requests included.
  context.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin === new URL(BASE).origin) d.requested.push(url.pathname);
  });
  return d;
}

/** Whether the service worker's cache holds the coordinator's page. */
async function pactCached(d) {
  return d.page.evaluate(async () => {
    for (const key of await caches.keys()) if (await (await caches.open(key)).match("/pact/index.html")) return true;
    return false;
  });
}

async function enrol(d, code) {
  await d.page.goto(`${BASE}/#/enrol?code=${encodeURIComponent(code)}`);
  await d.page.getByRole("button", { name: "Start" }).click();
  await d.page.getByRole("heading", { name: /^My day/ }).waitFor({ timeout: T });
}

async function upToDate(d) {
  await d.page.locator('.sync[data-sync-state="up-to-date"]').waitFor({ timeout: T });
}

const nav = (d, name) => d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

/** A contact made on the worker's phone; optionally with a municipality, a status, and
 *  consent to share it with the pact's partners (without it, another team's coordinator
 *  never receives it: issue 15). */
async function contact(d, name, { municipality, status, share } = {}) {
  await nav(d, "+ Contact");
  await d.page.getByLabel("Name", { exact: true }).fill(name);
  await d.page.getByLabel("Where (optional)").fill("Youth centre");
  await d.page.getByRole("button", { name: "Save contact" }).click();
  await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  if (municipality) {
    await d.page.getByRole("button", { name: "Edit details" }).click();
    await d.page.getByLabel("Municipality").fill(municipality);
    await d.page.getByRole("button", { name: "Save details" }).click();
    await d.page.getByText(municipality, { exact: true }).waitFor({ timeout: T });
  }
  if (share) {
    const consent = d.page.getByRole("region", { name: "Consent" });
    await consent.getByRole("radio", { name: "Shared with the partner organisations of the pact" }).check();
    await consent.getByRole("button", { name: "Consent given today" }).click();
    await consent.getByRole("button", { name: "Withdraw consent" }).waitFor({ timeout: T });
  }
  if (status) {
    await d.page.getByLabel("New status").selectOption({ label: status });
    await d.page.getByRole("button", { name: "Change status" }).click();
    await d.page.getByText(`“${status}”`).first().waitFor({ timeout: T }).catch(() => {});
  }
}

/** axe-core through the DevTools protocol: no serious or critical violation. */
async function audited(d, what) {
  const { violations, passed } = await axeFindings(d.page);
  for (const rule of ["color-contrast", "link-name"]) check(passed.includes(rule), `axe on ${what}: rule ${rule} was not checked`);
  check(violations.length === 0, `axe on ${what}: ${violations.join("; ")}`);
}

/** The names listed behind a figure, sorted. */
async function behind(d) {
  const list = d.page.getByRole("list", { name: "Records behind the figure" });
  await list.waitFor({ timeout: T });
  return (await list.getByRole("link").allInnerTexts()).map((s) => s.trim()).sort();
}

/** RFC 4180 lines of a CSV text (quotes, doubled quotes, CRLF). */
function csvLines(text, sep) {
  const lines = [];
  let line = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) { line.push(cell); cell = ""; }
    else if (ch === "\r" && text[i + 1] === "\n") { line.push(cell); lines.push(line); line = []; cell = ""; i++; }
    else cell += ch;
  }
  if (cell || line.length) { line.push(cell); lines.push(line); }
  return lines;
}

async function download(d, button) {
  const [file] = await Promise.all([d.page.waitForEvent("download", { timeout: T }), d.page.getByRole("button", { name: button }).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), path, text: readFileSync(path, "utf8") };
}

/// An XLSX file's shared strings and how many rows its first sheet has (Python's
/// zipfile reads the archive; a spreadsheet is a zip of XML parts).
function xlsxContents(path) {
  const read = (part) =>
    execFileSync("python3", ["-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())", path, part], { encoding: "utf8" });
  const unescape = (t) => t.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  const strings = [...read("xl/sharedStrings.xml").matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((m) => unescape(m[1]));
  const rows = (read("xl/worksheets/sheet1.xml").match(/<row /g) ?? []).length;
  return { strings, rows };
}

let failed = false;
try {
  const A = await device("A", { width: 360, height: 800 });
  const B = await device("B", { width: 360, height: 800 });
  const C = await device("C", { width: 1280, height: 800 });
  await enrol(A, CODES[0]);
  await enrol(B, CODES[1]);
  // The two phones work side by side.
  await Promise.all([
    (async () => {
      await contact(A, "Lotte Aerts", { municipality: "Geel", status: "Engaged" });
      await contact(A, "Bram Claes", { municipality: "Geel" });
      await contact(A, "Mila Dirks");
    })(),
    (async () => {
      await contact(B, "Jef Peeters", { municipality: "Mol", status: "Engaged", share: true });
      await contact(B, "Noor Janssens", { share: true });
    })(),
  ]);
  // Noor (team west) becomes an ESF+ participant on her team's phone (her consent,
  // shared with the pact, was recorded as she was added).
  const esfB = B.page.getByRole("region", { name: "ESF+ participant" });
  await esfB.getByRole("button", { name: "Record entry" }).waitFor({ timeout: T });
  await esfB.getByLabel("Labour-market status at entry").selectOption({ label: "Long-term unemployed" });
  await esfB.getByLabel("Highest education completed").selectOption({ label: "Upper secondary or post-secondary (ISCED 3–4)" });
  await esfB.getByLabel("Gender").selectOption({ label: "Non-binary" });
  await esfB.getByRole("button", { name: "Record entry" }).click();
  await esfB.getByText("Long-term unemployed", { exact: true }).waitFor({ timeout: T });
  await upToDate(A);
  await upToDate(B);
  console.log(`     two workers made 5 contacts in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The coordinator's device follows both teams: every record arrives.
  await enrol(C, CODES[2]);
  await nav(C, "Pact");
  await C.page.getByRole("heading", { level: 1, name: "The pact" }).waitFor({ timeout: T });
  // A page load of its own: the coordinator's wasm from /pact/.
  check(new URL(C.page.url()).pathname === "/pact", `the Pact link opens /pact: ${C.page.url()}`);
  const pactWasm = await C.page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((p) => /^\/pact\/paktum-pact-.*\.wasm$/.test(p)));
  check(pactWasm.length === 1, `the coordinator's page runs its own wasm: ${pactWasm}`);
  await C.page.getByText("On this device: 5 of 5 records, from 2 of 2 team lists.").waitFor({ timeout: T });
  const reached = C.page.getByRole("link", { name: "Young people reached (new contacts) – Whole pact: 5" });
  await reached.waitFor({ timeout: T });
  await upToDate(C);
  await C.page.screenshot({ path: resolve(ARTIFACTS, "pact-dashboard-1280x800.png"), fullPage: false });
  await C.page.screenshot({ path: resolve(ARTIFACTS, "pact-dashboard-1280-full.png"), fullPage: true });
  await audited(C, "the dashboard at 1280×800");

  // Drill-down: exactly the records behind a figure.
  await reached.click();
  check(
    JSON.stringify(await behind(C)) === JSON.stringify(["Bram Claes", "Jef Peeters", "Lotte Aerts", "Mila Dirks", "Noor Janssens"]),
    `reached: ${await behind(C)}`,
  );
  await C.page.getByText("Figure: 5. Records behind it: 5.").waitFor({ timeout: T });
  await audited(C, "the records behind a figure");
  await C.page.getByRole("link", { name: "Back to the indicators" }).click();
  await C.page.getByRole("link", { name: "Entered “Engaged” – Whole pact: 2" }).click();
  const engaged = await behind(C);
  check(JSON.stringify(engaged) === JSON.stringify(["Jef Peeters", "Lotte Aerts"]), `engaged: ${engaged}`);
  await C.page.getByRole("link", { name: "Back to the indicators" }).click();

  // Per team: each team's figure and its records.
  await C.page.getByLabel("Figures per").selectOption({ label: "Team" });
  await C.page.getByRole("link", { name: `Young people reached (new contacts) – ${TEAM_A}: 3` }).waitFor({ timeout: T });
  await C.page.getByRole("link", { name: `Young people reached (new contacts) – ${TEAM_B}: 2` }).click();
  const west = await behind(C);
  check(JSON.stringify(west) === JSON.stringify(["Jef Peeters", "Noor Janssens"]), `${TEAM_B}: ${west}`);
  await C.page.getByRole("link", { name: "Back to the indicators" }).click();
  check(C.page.url().includes("by=team"), `the grouping stays in the URL: ${C.page.url()}`);

  // The indicators as CSV: title, period, one line per group and row with its records.
  const indicators = await download(C, "Download indicators (CSV)");
  check(indicators.name.startsWith("paktum-indicators-"), indicators.name);
  const ilines = csvLines(indicators.text.replace(/^\uFEFF/, ""), ",");
  check(ilines[0][0] === "Paktum indicators", `title: ${ilines[0]}`);
  const reachedLines = ilines.filter((l) => l[1] === "Young people reached (new contacts)");
  check(
    JSON.stringify(reachedLines.map((l) => [l[0], l[2], l[3], l[4].split(" ").length])) ===
      JSON.stringify([[TEAM_A, "Entrants, each counted once", "3", 3], [TEAM_B, "Entrants, each counted once", "2", 2]]),
    `indicators CSV: ${JSON.stringify(reachedLines)}`,
  );

  // The tablet: the same dashboard at 768×1024.
  await C.page.setViewportSize({ width: 768, height: 1024 });
  await C.page.screenshot({ path: resolve(ARTIFACTS, "pact-dashboard-768x1024.png"), fullPage: false });
  const wide = await C.page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 768, `the dashboard is ${wide} px wide at 768 px`);
  await audited(C, "the dashboard at 768×1024");
  await C.page.setViewportSize({ width: 1280, height: 800 });

  // The merged table: filter, the URL, a reload, the CSV.
  await C.page.getByRole("link", { name: "Caseload table" }).click();
  await C.page.getByText("5 of 5 young people").waitFor({ timeout: T });
  await C.page.getByLabel("Municipality").selectOption("Geel");
  await C.page.getByText("2 of 5 young people").waitFor({ timeout: T });
  check(C.page.url().includes("municipality=Geel"), `the filter is in the URL: ${C.page.url()}`);
  await C.page.reload();
  await C.page.getByText("2 of 5 young people").waitFor({ timeout: T });
  // By name at first; a click on the column sorted by turns the order round.
  check((await C.page.locator('th[aria-sort="ascending"]').innerText()).trim() === "Name", "sorted by name at first");
  await C.page.getByRole("button", { name: "Name" }).click();
  await C.page.locator('th[aria-sort="descending"]').waitFor({ timeout: T });
  const table = C.page.getByRole("table", { name: "The pact's caseload" });
  const shown = await table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("th, td")].map((c) => c.textContent.trim())),
  );
  check(JSON.stringify(shown.map((r) => r[0])) === JSON.stringify(["Lotte Aerts", "Bram Claes"]), `sorted by name, descending: ${shown}`);
  await C.page.screenshot({ path: resolve(ARTIFACTS, "pact-table-1280x800.png") });
  await audited(C, "the merged table");
  const file = await download(C, "Download table (CSV)");
  const lines = csvLines(file.text.replace(/^\uFEFF/, ""), ",");
  const blank = lines.findIndex((l) => l.length === 1 && l[0] === "");
  check(blank > 0, `a header, then an empty line: ${JSON.stringify(lines.slice(0, 6))}`);
  check(lines.some((l, i) => i < blank && l[0] === "Municipality" && l[1] === "Geel"), "the header states the filter");
  const headings = await table.locator("thead th").allInnerTexts();
  check(JSON.stringify(lines[blank + 1]) === JSON.stringify(headings.map((h) => h.trim())), `columns: ${lines[blank + 1]} vs ${headings}`);
  const rows = lines.slice(blank + 2);
  check(JSON.stringify(rows) === JSON.stringify(shown), `the file's rows are the table's: ${JSON.stringify(rows)} vs ${JSON.stringify(shown)}`);
  // The same lines as a spreadsheet: every line but the empty one is a row, and every
  // name and heading is there.
  const sheet = await download(C, "Download table (Excel)");
  check(sheet.name.endsWith(".xlsx"), `a spreadsheet's name: ${sheet.name}`);
  const xlsx = xlsxContents(sheet.path);
  check(xlsx.rows === lines.length - 1, `the spreadsheet has ${xlsx.rows} rows, the CSV ${lines.length - 1} lines with cells`);
  for (const cell of [...shown.map((r) => r[0]), ...headings.map((h) => h.trim()), "Geel"]) {
    check(xlsx.strings.includes(cell), `the spreadsheet holds "${cell}"`);
  }

  // The stage of identification: a column and a filter kept in the URL. Every contact
  // here was made with a first name (the new-contact form's default stage).
  const stageColumn = headings.findIndex((h) => h.trim() === "Identification");
  check(stageColumn > 0 && shown.every((r) => r[stageColumn] === "First name known"), `the stage column: ${JSON.stringify(shown)}`);
  await C.page.getByLabel("Identification").selectOption({ label: "Anonymous" });
  await C.page.getByText("0 of 5 young people").waitFor({ timeout: T });
  check(C.page.url().includes("stage=anonymous"), `the stage filter is in the URL: ${C.page.url()}`);
  await C.page.getByLabel("Identification").selectOption({ label: "First name known" });
  await C.page.getByText("2 of 5 young people").waitFor({ timeout: T });

  // The review queue.
  await C.page.getByRole("link", { name: "Review queue" }).click();
  await C.page.getByRole("heading", { level: 2, name: "Review queue" }).waitFor({ timeout: T });
  await audited(C, "the review queue");

  // Another team's record opens read-only from the table (a coordinator's change to it
  // was refused by the relay and stayed pending for good); the own team's can be changed.
  await nav(C, "Pact");
  await C.page.getByRole("link", { name: "Caseload table" }).click();
  await C.page.getByLabel("Municipality").selectOption("Mol");
  await C.page.getByText("1 of 5 young people").waitFor({ timeout: T });
  await table.getByRole("link", { name: "Jef Peeters" }).click();
  await C.page.getByRole("heading", { level: 1, name: "Jef Peeters" }).waitFor({ timeout: T });
  await C.page
    .getByText(`This record belongs to another team (${TEAM_B}). You can read it here, but only that team can change it.`)
    .waitFor({ timeout: T });
  await C.page.getByText("Mol", { exact: true }).waitFor({ timeout: T });
  // Its ESF+ section, read-only too.
  await C.page.getByRole("heading", { level: 2, name: "ESF+ participant" }).waitFor({ timeout: T });
  await C.page.getByText("Not an ESF+ participant.").waitFor({ timeout: T });
  const record = C.page.locator("article.record");
  for (const name of [/save/i, /edit/i, /remove/i, /add/i, "Change status", "Consent given today"]) {
    check((await C.page.getByRole("button", { name }).count()) === 0, `another team's record offers a “${name}” button`);
  }
  check((await record.getByRole("button").count()) === 0, "another team's record offers no button at all");
  check((await record.locator("input, textarea, select").count()) === 0, "another team's record offers no field to fill");
  await audited(C, "another team's record, read-only");
  await C.page.goBack();
  // Another team's participant: the ESF+ facts, read-only.
  await C.page.getByRole("link", { name: "Clear filters" }).click();
  await C.page.getByText("5 of 5 young people").waitFor({ timeout: T });
  await table.getByRole("link", { name: "Noor Janssens" }).click();
  await C.page.getByRole("heading", { level: 1, name: "Noor Janssens" }).waitFor({ timeout: T });
  const esfC = C.page.getByRole("region", { name: "ESF+ participant" });
  for (const fact of ["Long-term unemployed", "Upper secondary or post-secondary (ISCED 3–4)", "Non-binary"]) {
    await esfC.getByText(fact, { exact: true }).waitFor({ timeout: T });
  }
  check((await C.page.locator("article.record").getByRole("button").count()) === 0, "another team's participant offers no button");
  check((await C.page.locator("article.record").locator("input, textarea, select").count()) === 0, "another team's participant offers no field");
  await C.page.locator("article.record").screenshot({ path: resolve(ARTIFACTS, "pact-read-only-participant.png") });
  await audited(C, "another team's participant, read-only");
  await C.page.goBack();
  await C.page.getByLabel("Municipality").selectOption("Geel");
  await C.page.getByText("2 of 5 young people").waitFor({ timeout: T });
  await table.getByRole("link", { name: "Lotte Aerts" }).click();
  await C.page.getByRole("heading", { level: 1, name: "Lotte Aerts" }).waitFor({ timeout: T });
  for (const name of ["Edit details", "Change status", "Add note"]) {
    await C.page.getByRole("button", { name, exact: true }).waitFor({ timeout: T });
  }
  check((await C.page.getByText(/belongs to another team/).count()) === 0, "the own team's record is not read-only");

  // A worker's phone has no pact view, and never downloaded or cached it.
  check((await A.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pact" }).count()) === 0, "a worker has no Pact link");
  for (const d of [A, B]) {
    const pact = d.requested.filter((p) => p.startsWith("/pact") && p !== "/pact/teams");
    check(pact.length === 0, `${d.name}, a worker's phone, requested the coordinator's page: ${pact}`);
    check(!(await pactCached(d)), `${d.name}, a worker's phone, cached the coordinator's page`);
    check(d.requested.some((p) => /^\/paktum-app-.*\.wasm$/.test(p)), `${d.name} loaded the field app: ${d.requested}`);
  }

  // The coordinator's page offline: from the service worker's cache, the records from
  // IndexedDB.
  await C.page.waitForFunction(async () => {
    for (const key of await caches.keys()) if (await (await caches.open(key)).match("/pact/index.html")) return true;
    return false;
  }, null, { timeout: T, polling: 200 });
  C.offline = true;
  await C.context.setOffline(true);
  await C.page.goto(`${BASE}/pact/table`);
  await C.page.getByRole("heading", { level: 1, name: "The pact" }).waitFor({ timeout: T });
  await C.page.getByText("5 of 5 young people").waitFor({ timeout: T });
  await C.page.screenshot({ path: resolve(ARTIFACTS, "pact-table-offline-1280x800.png") });
  // The coordinator changed nothing: nothing may be said to wait for the relay (the
  // sync states were once saved under the token's URL and never found at start-up).
  const offlineStatus = await C.page.locator(".sync").innerText({ timeout: T });
  check(!/Waiting to sync/.test(offlineStatus), `the coordinator, who changed nothing, reads "${offlineStatus}" offline`);
  await C.context.setOffline(false);
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.stack || e}`);
} finally {
  await browser.close();
}
if (problems.length) {
  failed = true;
  console.error(`FAIL: ${problems.join("\n")}`);
}
console.log(`${failed ? "FAILED" : "ok"}: the coordinator's screens (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed ? 1 : 0);
