// A worker's day, end to end, by accessible names: My day shows my follow-ups (assigned
// to me, or written by me) and the team's with the switch, and marks one done; team
// names typed differently at setup are one team; search ignores case and accents and
// looks at full name, phone and municipality; "reset this device" refuses while work
// is not on the relay and erases the device after a sync; a new relay address keeps
// the device's data; the caseload reaches its last record by scrolling (only the rows
// in view are rendered); the assigned worker is picked from the team's members (new
// contact and Details); axe-core on setup, My day, caseload, employers, both new-record
// forms and settings. Screenshots 360×800: day-my-day, day-caseload, day-settings,
// day-setup, day-new-contact-worker, day-new-employer.
//
// run.mjs adds these scenarios with one line. On their own, with a bigger caseload:
//   node tests/e2e/day.mjs --base http://127.0.0.1:8080 [--artifacts DIR] [--caseload 10000]
//                          [--seeded TEAM (skip seeding: a team an earlier run seeded)] [--only REGEX]
// The caseload is seeded on the relay with paktum-load (`cargo run -p paktum-tests
// --bin paktum-load -- seed …`, or the binary named by PAKTUM_LOAD); run.mjs uses 1,000
// records (CI time), 10,000 is a manual run (see NOTES-day.md for the figures).

import { mkdirSync, readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "../..");
// A relay address nothing answers (Chromium refuses port 9 outright).
const UNREACHABLE = "ws://127.0.0.1:9/sync";

export function dayScenarios({ scenario, browser, problems, BASE, ARTIFACTS, TEAM, T, check, caseload = 1000, seededTeam = null }) {
  const SOCKET = `${BASE.replace(/^http/, "ws")}/sync`;

  // A device: its own browser context; console errors fail the run unless this device
  // caused them on purpose (offline, or the unreachable relay).
  async function device(name) {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, hasTouch: true, serviceWorkers: "allow" });
    const page = await context.newPage();
    const d = { name, context, page, offline: false, unreachable: false };
    page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const text = m.text();
      if (text === "Failed to load resource: net::ERR_INTERNET_DISCONNECTED") return;
      if (d.unreachable && /ERR_UNSAFE_PORT/.test(text)) return;
      const socket = /^WebSocket connection to '([^']+)' failed:\s*(.*)$/.exec(text);
      if (socket && socket[1].startsWith(SOCKET) && (d.offline || /ERR_INTERNET_DISCONNECTED/.test(socket[2]))) return;
      problems.push(`${name}: console error: ${text}`);
    });
    return d;
  }

  async function setUp(d, worker, team) {
    await d.page.goto(BASE + "/");
    await d.page.getByLabel("Your name").fill(worker);
    await d.page.getByLabel("Your team").fill(team);
    await d.page.getByRole("button", { name: "Start" }).click();
    await d.page.getByRole("heading", { name: `My day, ${worker}` }).waitFor({ timeout: T });
  }
  const state = (d, s, timeout = T) => d.page.locator(`.sync[data-sync-state="${s}"]`).waitFor({ timeout });
  const nav = (d, label) => d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
  async function newContact(d, name) {
    await nav(d, "+ Contact");
    await d.page.getByLabel("Name", { exact: true }).fill(name);
    await d.page.getByRole("button", { name: "Save contact" }).click();
    await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  }
  async function addNote(d, text, followUp) {
    await d.page.getByRole("button", { name: "Add note" }).click();
    await d.page.getByLabel("Note", { exact: true }).fill(text);
    await d.page.getByLabel("Follow-up date (optional)").fill(followUp);
    await d.page.getByRole("button", { name: "Save note" }).click();
    await d.page.getByText("Note saved on this phone.").waitFor({ timeout: T });
  }
  const dayFrom = (page, offset) =>
    page.evaluate((offset) => {
      const d = new Date(Date.now() + offset * 86_400_000);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    }, offset);
  const shot = async (d, name) => {
    await d.page.evaluate(() => window.scrollTo(0, 0));
    await d.page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`) });
  };
  const dueRow = (d, name) => d.page.locator("section[aria-labelledby=due] li").filter({ has: d.page.getByRole("link", { name: new RegExp(`^${name}`) }) });

  let A = null;
  const team = `${TEAM}-Day`;

  scenario("day: my follow-ups by default, the team's with the switch, one marked done; 'Team-x' and 'team-x' are one team", async () => {
    A = await device("day-A");
    const B = await device("day-B");
    await setUp(A, "Anna", team);
    // Typed another way: development mode must still give Bram Anna's caseload.
    await setUp(B, "Bram", ` ${team.toUpperCase()} `);
    const [today, yesterday, soon] = [await dayFrom(A.page, 0), await dayFrom(A.page, -1), await dayFrom(A.page, 3)];
    await newContact(A, "Ada Mine");
    await addNote(A, "Call about the welding course.", today);
    await newContact(B, "Bruno Theirs");
    await addNote(B, "Visit at the youth centre.", soon);
    // An employer of Bram's with a follow-up due yesterday.
    await nav(B, "Employers");
    await B.page.getByRole("link", { name: "New employer" }).click();
    await B.page.getByLabel("Employer name").fill("Bakkerij Overdue");
    await B.page.getByRole("button", { name: "Save employer" }).click();
    await B.page.getByRole("heading", { level: 1, name: "Bakkerij Overdue" }).waitFor({ timeout: T });
    await B.page.getByRole("button", { name: "Add visit" }).click();
    await B.page.getByLabel("Date of the visit").fill(yesterday);
    await B.page.getByLabel("Purpose").fill("First visit");
    await B.page.getByLabel("Follow-up date (optional)").fill(yesterday);
    await B.page.getByRole("button", { name: "Save visit" }).click();
    await B.page.getByText("Visit saved on this phone.").waitFor({ timeout: T });
    await state(A, "up-to-date");
    await state(B, "up-to-date");

    await nav(A, "My day");
    await dueRow(A, "Ada Mine").waitFor({ timeout: T });
    await A.page.getByRole("heading", { name: /^Due today \(1\)/ }).waitFor({ timeout: T });
    check((await dueRow(A, "Bruno Theirs").count()) === 0, "a colleague's follow-up is not in my day");
    check((await dueRow(A, "Bakkerij Overdue").count()) === 0, "nor a colleague's employer");
    await shot(A, "day-my-day");
    await A.page.getByRole("switch", { name: "Show the whole team's follow-ups" }).check();
    await dueRow(A, "Bruno Theirs").waitFor({ timeout: T });
    await A.page.getByRole("heading", { name: /^Overdue \(1\)/ }).waitFor({ timeout: T });
    await A.page.getByRole("heading", { name: /^Next 7 days \(1\)/ }).waitFor({ timeout: T });
    check(A.page.url().includes("whose=team"), "the switch is in the URL");
    await shot(A, "day-my-day-team");

    // Bram's own day: the overdue employer first; marking it done, like a note.
    await nav(B, "My day");
    const names = await B.page.locator("section[aria-labelledby=due] li .name").allTextContents();
    check(JSON.stringify(names) === JSON.stringify(["Bakkerij Overdue", "Bruno Theirs"]), `overdue first, then the coming week (got ${names})`);
    await B.page.getByRole("button", { name: "Mark done: Bakkerij Overdue" }).click();
    await B.page.getByText("Follow-up marked done on this phone.").waitFor({ timeout: T });
    await dueRow(B, "Bakkerij Overdue").waitFor({ state: "detached", timeout: T });
    await state(B, "up-to-date");
    // Gone from the team's day on Anna's phone too, once synced.
    await dueRow(A, "Bakkerij Overdue").waitFor({ state: "detached", timeout: T });
    await B.context.close();
  });

  scenario("day: the assigned worker is picked from the team's members, on a new contact and in Details", async () => {
    // Development mode: the relay keeps no member list, so the choice is among the
    // workers the caseload names (Anna; Bram, who made "Bruno Theirs") and this device's.
    // Named by its label only, not also by the chosen name ("Assigned worker Anna"):
    // the label names the select through aria-labelledby (issue 13).
    const worker = A.page.getByRole("combobox", { name: "Assigned worker", exact: true });
    const options = async () => (await worker.locator("option").allTextContents()).map((t) => t.trim());
    const assigned = A.page.locator('dl.details dt:text-is("Assigned worker") + dd');
    await nav(A, "+ Contact");
    await A.page.getByLabel("Name", { exact: true }).fill("Pia Picked");
    check((await worker.evaluate((el) => el.tagName)) === "SELECT", "the assigned worker is a select, not typed");
    check(JSON.stringify(await options()) === JSON.stringify(["Anna", "Bram"]), `the team's workers to choose from (got ${await options()})`);
    check((await worker.inputValue()) === "Anna", `a new contact is the creator's by default (got ${await worker.inputValue()})`);
    await worker.selectOption("Bram");
    await shot(A, "day-new-contact-worker");
    await A.page.getByRole("button", { name: "Save contact" }).click();
    await A.page.getByRole("heading", { level: 1, name: "Pia Picked" }).waitFor({ timeout: T });
    check((await assigned.textContent()).trim() === "Bram", `assigned to the member picked (got ${await assigned.textContent()})`);
    // Reassigned in Details: the same select, the present value chosen.
    await A.page.getByRole("button", { name: "Edit details" }).click();
    check((await worker.inputValue()) === "Bram", "Details selects the present worker");
    check(JSON.stringify(await options()) === JSON.stringify(["Anna", "Bram"]), `Details offers the same members (got ${await options()})`);
    await worker.selectOption("Anna");
    await A.page.getByRole("button", { name: "Save details" }).click();
    await A.page.waitForFunction(() => {
      const dt = [...document.querySelectorAll("dl.details dt")].find((e) => e.textContent.trim() === "Assigned worker");
      return dt && dt.nextElementSibling.textContent.trim() === "Anna";
    }, null, { timeout: T });
    await state(A, "up-to-date");
  });

  scenario("day: search finds a contact by full name, phone or municipality, ignoring case and accents", async () => {
    await newContact(A, "Zsófi");
    // A full name is kept once the contact is identified, which needs consent (issue 15).
    await A.page.getByRole("button", { name: "Consent given today" }).click();
    await A.page.getByRole("button", { name: "Withdraw consent" }).waitFor({ timeout: T });
    await A.page.getByRole("button", { name: "Identify: full name and date of birth" }).click();
    await A.page.getByLabel("Full name").fill("Straßer Zsófia");
    await A.page.getByRole("button", { name: "Save identification" }).click();
    await A.page.getByText("Straßer Zsófia", { exact: true }).waitFor({ timeout: T });
    await A.page.getByRole("button", { name: "Edit details" }).click();
    await A.page.getByLabel("Phone number").fill("+36 30 123 4567");
    await A.page.getByLabel("Municipality").fill("Kőszeg");
    await A.page.getByRole("button", { name: "Save details" }).click();
    await A.page.getByText("Kőszeg", { exact: true }).waitFor({ timeout: T });
    await nav(A, "Caseload");
    const search = A.page.getByRole("searchbox", { name: "Search: name, phone, place" });
    for (const q of ["koszeg", "KŐSZEG", "strasser", "zsofia", "30 123", "301234567"]) {
      await search.fill(q);
      await A.page.getByRole("link", { name: /^Zsófi/ }).waitFor({ timeout: T });
      check((await A.page.getByRole("link", { name: /^Ada Mine/ }).count()) === 0, `"${q}" finds only Zsófi`);
    }
    await search.fill("csepreg");
    await A.page.getByText("No contacts match.").waitFor({ timeout: T });
    await search.fill("");
  });

  scenario("day: reset refuses while work is not on the relay, and erases the device after a sync", async () => {
    const R = await device("day-R");
    await setUp(R, "Rita", team);
    await state(R, "up-to-date");
    R.offline = true;
    await R.context.setOffline(true);
    await state(R, "offline");
    await newContact(R, "Rosa Unsynced");
    await nav(R, "Settings");
    await R.page.getByRole("heading", { level: 1, name: "Settings" }).waitFor({ timeout: T });
    await R.page.getByRole("button", { name: "Reset this device" }).click();
    await R.page.getByRole("alert").filter({ hasText: "Not reset: some changes are not yet on the relay" }).waitFor({ timeout: T });
    check((await R.page.getByRole("button", { name: "Erase this device" }).count()) === 0, "no erase offered");
    await shot(R, "day-settings-refused");
    await R.context.setOffline(false);
    R.offline = false;
    await R.page.getByRole("main").getByRole("button", { name: "Sync now" }).click();
    await state(R, "up-to-date");
    await R.page.getByRole("button", { name: "Reset this device" }).click();
    await R.page.getByRole("button", { name: "Erase this device" }).click();
    await R.page.getByRole("heading", { name: "Welcome to Paktum" }).waitFor({ timeout: T });
    await R.page.reload();
    await R.page.getByRole("heading", { name: "Welcome to Paktum" }).waitFor({ timeout: T });
    // What was on the relay is still there: set up again, the contact comes back.
    await setUp(R, "Rita", team);
    await state(R, "up-to-date");
    await nav(R, "Caseload");
    await R.page.getByRole("searchbox").fill("Rosa");
    await R.page.getByRole("link", { name: /^Rosa Unsynced/ }).waitFor({ timeout: T });
    await R.context.close();
  });

  scenario("day: a new relay address keeps the device's data and syncs with it", async () => {
    const S = await device("day-S");
    await setUp(S, "Sami", team);
    await state(S, "up-to-date");
    await nav(S, "Settings");
    const address = S.page.getByLabel("Relay address");
    check((await address.inputValue()) === SOCKET, `the current address is shown (${await address.inputValue()})`);
    await shot(S, "day-settings");
    // A typo: the app reloads against it; nothing on the device is lost.
    S.unreachable = true;
    await address.fill(UNREACHABLE);
    await S.page.getByRole("button", { name: "Change relay address" }).click();
    await state(S, "failed");
    await newContact(S, "Sven Kept");
    await nav(S, "Settings");
    await S.page.getByLabel("Relay address").fill(BASE);
    await S.page.getByRole("button", { name: "Change relay address" }).click();
    await state(S, "up-to-date");
    S.unreachable = false;
    await nav(S, "Caseload");
    await S.page.getByRole("searchbox").fill("Sven");
    const confirmed = S.page.getByRole("link", { name: /^Sven Kept/ }).getByText(/^On the relay since \d\d:\d\d$/);
    await confirmed.waitFor({ timeout: T });
    const since = await confirmed.textContent();
    // Kept on the device: after a reload, offline (so no new confirmation comes), the
    // row still says when the relay confirmed it. The idle housekeeping stores it.
    const seen = await S.page.evaluate(() => performance.now());
    await S.page.waitForFunction(
      (t) => performance.getEntriesByName("paktum:tidied", "mark").some((m) => m.startTime > t),
      seen, { timeout: T, polling: 100 });
    await S.context.setOffline(true);
    S.offline = true;
    await S.page.reload();
    await S.page.getByRole("searchbox").fill("Sven");
    await S.page.getByRole("link", { name: /^Sven Kept/ }).getByText(since, { exact: true }).waitFor({ timeout: T });
    await S.context.setOffline(false);
    S.offline = false;
    // And the relay has it: Anna's device lists it.
    await nav(A, "Caseload");
    await A.page.getByRole("searchbox").fill("Sven");
    await A.page.getByRole("link", { name: /^Sven Kept/ }).waitFor({ timeout: T });
    await A.page.getByRole("searchbox").fill("");
    await S.context.close();
  });

  // axe-core on the page as it is: a serious or critical violation fails. Evaluated
  // through the DevTools protocol: the page's CSP (no inline scripts) stays on.
  const AXE = readFileSync(resolve(here, "node_modules/axe-core/axe.min.js"), "utf8");
  async function audit(d, label, found) {
    if (!(await d.page.evaluate(() => Boolean(window.axe)))) await d.page.evaluate(AXE);
    const violations = await d.page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
    });
    for (const v of violations) {
      const line = `${label}: ${v.impact} ${v.id} at ${v.nodes.join(", ")}`;
      if (v.impact === "serious" || v.impact === "critical") found.push(line);
      else console.log(`   axe (${v.impact}, not failing): ${line}`);
    }
    // A select is named by its label alone: a label wrapping it also lent it the chosen
    // option ("Assigned worker Anna"), which axe does not flag (issue 13).
    for (const box of await d.page.getByRole("combobox").all()) {
      const name = /^- combobox "((?:[^"\\]|\\.)*)"/.exec(await box.ariaSnapshot())?.[1] ?? "";
      const chosen = (await box.evaluate((el) => el.selectedOptions[0]?.textContent ?? "")).trim();
      if (!name) found.push(`${label}: a select without a name`);
      else if (chosen && name.includes(chosen)) found.push(`${label}: the select "${name}" is named by its chosen option`);
    }
  }

  scenario("day: axe-core finds no serious or critical violation on setup, My day, the caseload, employers, the new-record forms and settings", async () => {
    const found = [];
    // The setup screen, on a device not yet set up.
    const N = await device("day-N");
    await N.page.goto(BASE + "/");
    await N.page.getByRole("heading", { level: 1, name: "Welcome to Paktum" }).waitFor({ timeout: T });
    await audit(N, "Setup", found);
    await shot(N, "day-setup");
    await N.context.close();
    for (const [label, heading] of [["My day", "My day, Anna"], ["Caseload", "Caseload"], ["Employers", "Employers"], ["+ Contact", "New contact"], ["Settings", "Settings"]]) {
      await nav(A, label);
      await A.page.getByRole("heading", { level: 1, name: heading }).waitFor({ timeout: T });
      await audit(A, label, found);
    }
    await nav(A, "Employers");
    await A.page.getByRole("link", { name: "New employer" }).click();
    await A.page.getByRole("heading", { level: 1, name: "New employer" }).waitFor({ timeout: T });
    await audit(A, "New employer", found);
    await shot(A, "day-new-employer");
    check(found.length === 0, `axe violations:\n${found.join("\n")}`);
  });

  scenario(`day: the caseload reaches record ${caseload.toLocaleString("en")} by scrolling`, async () => {
    // --seeded TEAM: a team seeded by an earlier run (the seeding is most of the time).
    const big = seededTeam || `${TEAM}-big`;
    const started = Date.now();
    const seed = ["seed", "--url", SOCKET, "--team", big, "--contacts", String(caseload), "--employers", "0", "--seed", "13"];
    // PAKTUM_LOAD: a built paktum-load (a release build seeds 10,000 much faster).
    const [cmd, argv] = process.env.PAKTUM_LOAD
      ? [process.env.PAKTUM_LOAD, seed]
      : ["cargo", ["run", "-q", "-p", "paktum-tests", "--bin", "paktum-load", "--", ...seed]];
    if (!seededTeam) {
      const seeded = spawnSync(cmd, argv, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      check(seeded.status === 0, `paktum-load seed failed: ${seeded.stdout}`);
    }
    const seedSecs = (Date.now() - started) / 1000;
    const V = await device("day-V");
    await setUp(V, "Vera", big);
    const syncStart = Date.now();
    await state(V, "up-to-date", 600_000);
    const syncSecs = (Date.now() - syncStart) / 1000;
    await nav(V, "Caseload");
    const rows = V.page.locator("ul.rows > li");
    await V.page.locator(`ul.rows > li[aria-setsize="${caseload}"]`).first().waitFor({ timeout: T });
    const rendered = await rows.count();
    check(rendered < 60, `only the rows in view are rendered (${rendered})`);
    await shot(V, "day-caseload");
    // Scroll by wheel on a 4× throttled CPU (a mid-range phone), measuring the longest
    // gap between frames meanwhile.
    const cdp = await V.context.newCDPSession(V.page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await V.page.evaluate(() => {
      window.__frames = { last: performance.now(), longest: 0, count: 0 };
      const tick = (t) => {
        const f = window.__frames;
        f.longest = Math.max(f.longest, t - f.last);
        f.last = t;
        f.count++;
        if (!f.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await V.page.mouse.move(180, 500);
    for (let i = 0; i < 40; i++) await V.page.mouse.wheel(0, 1600);
    const midway = Number(await rows.last().getAttribute("aria-posinset"));
    check(midway > 40, `wheel scrolling moves the window (last rendered row ${midway})`);
    const scrollStart = Date.now();
    await V.page.keyboard.press("End");
    const last = V.page.locator(`ul.rows > li[aria-posinset="${caseload}"]`);
    await last.waitFor({ timeout: T });
    const toEnd = Date.now() - scrollStart;
    check(await last.isVisible(), `record ${caseload} is on screen`);
    const frames = await V.page.evaluate(() => ((window.__frames.stop = true), window.__frames));
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    check((await rows.count()) < 60, "still only the rows in view");
    await V.page.screenshot({ path: resolve(ARTIFACTS, "day-caseload-end.png") });
    // A search no name matches: the answer by name at once (the keystroke never waits
    // for records), the records' other fields read in slices meanwhile, the first time.
    const searchMs = [];
    let readAt = null;
    for (const q of ["qqqx", "qqqy"]) {
      const t0 = Date.now();
      await V.page.getByRole("searchbox").fill(q);
      await V.page.getByText("No contacts match.").waitFor({ timeout: T });
      const answered = Date.now() - t0;
      await V.page.getByText(/reading the records for full names/).waitFor({ state: "detached", timeout: 600_000 });
      readAt ??= await V.page.evaluate(() => performance.now());
      searchMs.push(`${answered} ms by name, all fields read after ${Date.now() - t0} ms`);
      await V.page.getByRole("searchbox").fill("");
      await V.page.locator("ul.rows > li[aria-posinset]").first().waitFor({ timeout: T });
    }
    // What was read for searching is kept on the device (in the index snapshot, at the
    // next quiet moment): after a reload the first search reads no unchanged record.
    await V.page.waitForFunction(
      (t) => performance.getEntriesByName("paktum:tidied", "mark").some((m) => m.startTime > t),
      readAt, { timeout: 120_000, polling: 100 });
    await V.page.reload();
    await V.page.waitForFunction(() => performance.getEntriesByName("paktum:records-loaded").length > 0, null, { timeout: 600_000, polling: 100 });
    const t0 = Date.now();
    await V.page.getByRole("searchbox").fill("qqqz");
    await V.page.getByText("No contacts match.").waitFor({ timeout: T });
    const answered = Date.now() - t0;
    await V.page.getByText(/reading the records for full names/).waitFor({ state: "detached", timeout: 600_000 });
    const reloadedMs = Date.now() - t0;
    const firstMs = Number(/after (\d+) ms/.exec(searchMs[0])[1]);
    check(reloadedMs < firstMs, `after a reload the first search reads no record again (${reloadedMs} ms, first ever ${firstMs} ms)`);
    console.log(
      `   ${caseload} records (team ${big}): seeded in ${seedSecs.toFixed(1)} s, first sync ${syncSecs.toFixed(1)} s, ` +
        `${rendered} rows rendered; on a 4× throttled CPU: End to row ${caseload} ${toEnd} ms, longest frame while scrolling ${frames.longest.toFixed(0)} ms (${frames.count} frames); ` +
        `a search no name matches: first ${searchMs[0]}; next ${searchMs[1]}; first after a reload ${answered} ms by name, all fields read after ${reloadedMs} ms`,
    );
    await V.context.close();
    await A.context.close();
  });
}

// On its own: one browser, these scenarios, a fresh team.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { chromium } = await import("playwright-core");
  const { CHROMIUM_ARGS } = await import("../chromium.mjs");
  const args = Object.fromEntries(
    process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
  );
  const BASE = (args.base || "http://127.0.0.1:8080").replace(/\/$/, "");
  const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: args.chromium || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  const problems = [];
  const list = [];
  dayScenarios({
    scenario: (name, fn) => list.push({ name, fn }),
    browser,
    problems,
    BASE,
    ARTIFACTS,
    TEAM: `day-${Date.now().toString(36)}`,
    T: 30_000,
    check: (c, m) => {
      if (!c) throw new Error(m);
    },
    caseload: Number(args.caseload || 1000),
    seededTeam: args.seeded || null,
  });
  const only = args.only ? new RegExp(args.only) : null;
  let failed = 0;
  for (const { name, fn } of list.filter((s) => !only || only.test(s.name) || s.name.startsWith("day: my follow-ups"))) {
    const started = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n     ${String(e && e.message).split("\n").join("\n     ")}`);
      for (const page of browser.contexts().flatMap((c) => c.pages())) {
        await page.screenshot({ path: resolve(ARTIFACTS, `failure-day-${Date.now()}.png`) }).catch(() => {});
      }
    }
  }
  if (problems.length) {
    failed++;
    console.log(`FAIL the pages reported errors:\n     ${problems.join("\n     ")}`);
  }
  await browser.close();
  process.exit(failed ? 1 : 0);
}
