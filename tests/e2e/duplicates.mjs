// Duplicates in the browser (issue 15): a worker's device W enrols and adds a contact
// A with a note; a coordinator's device C enrols, syncs it, and adds the same young
// person again as B, written another way (words swapped, no accents): the new-contact
// form suggests A with its reason ("same name") while the name is typed. B is saved
// with a note of its own. On A's page "Possible duplicates" lists B; the worker's device
// offers no merge (a hint says a coordinator merges), the coordinator's does: the
// confirmation says what will happen, then "Merge and erase". Afterwards A shows both
// notes on both devices, B is gone from both caseloads and from C's IndexedDB (no chunk
// of B's id in the `chunks` store). Before the merge, identifying A with B's name as
// its full name suggests B in the step, with the coordinator's merge. axe-core on the
// suggestion box and the confirmation; screenshots at 360×800 in English and Hungarian.
//
//   node tests/e2e/duplicates.mjs --base URL --codes WORKER,COORDINATOR [--artifacts tests/artifacts] [--seed 15]
//
// Its own step (`cargo xtask test`): a relay with device tokens, one worker and one
// coordinator invited to the same team (admin invite).

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { axeFindings } from "./axe.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const BASE = (args.base || "").replace(/\/$/, "");
const CODES = (args.codes || "").split(",").filter(Boolean);
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const SEED = Number(args.seed || 15);
const T = 30_000;
const HU = JSON.parse(readFileSync(resolve(here, "../../app/locales/hu.json"), "utf8"));

if (!BASE || CODES.length < 2) {
  console.log("usage: duplicates.mjs --base URL --codes WORKER,COORDINATOR");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// Synthetic names from the seed: an accented first and last name, and the same
// person written another way (last name first, no accents, lower case).
const FIRST = ["Réka", "Zsófia", "Bálint", "Hélène", "Jörg"];
const LAST = ["Szabó", "Kovács", "Tóth", "Lefèvre", "Schäfer"];
const first = FIRST[SEED % FIRST.length];
const last = LAST[Math.floor(SEED / FIRST.length) % LAST.length];
const A_NAME = `${first} ${last}`;
const B_NAME = `${last} ${first}`
  .normalize("NFD")
  .replace(/[\u0300-\u036f]/g, "")
  .toLowerCase();

const problems = [];
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });

async function device(name) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, locale: "en-GB" });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${name}: console error: ${m.text()}`);
  });
  return { name, context, page };
}

async function enrol(d, code) {
  await d.page.goto(`${BASE}/#/enrol?code=${encodeURIComponent(code)}`);
  await d.page.getByRole("button", { name: "Start" }).click();
  await d.page.getByRole("heading", { name: /^My day/ }).waitFor({ timeout: T });
}

const nav = (d, link) => d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link }).click();
const upToDate = (d) => d.page.locator('.sync[data-sync-state="up-to-date"]').waitFor({ timeout: T });

async function addNote(d, text) {
  await d.page.getByRole("button", { name: "Add note" }).click();
  await d.page.getByLabel("Note", { exact: true }).fill(text);
  await d.page.getByRole("button", { name: "Save note" }).click();
  await d.page.getByText("Note saved on this phone.").waitFor({ timeout: T });
}

async function listed(d, name) {
  await nav(d, "Caseload");
  await d.page.getByRole("searchbox").fill(name);
  return d.page.getByRole("link", { name: new RegExp(`^${name}`) });
}

async function open(d, name) {
  await (await listed(d, name)).click();
  await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
}

async function shotAt(d, locator, file) {
  await locator.evaluate((el) => el.scrollIntoView({ block: "center" }));
  await d.page.screenshot({ path: resolve(ARTIFACTS, `${file}.png`) });
}

// axe-core through the DevTools protocol: no serious or critical violation.
async function audited(d, what) {
  const { violations, passed } = await axeFindings(d.page);
  for (const rule of ["button-name", "color-contrast", "link-name"]) check(passed.includes(rule), `axe on ${what}: rule ${rule} was not checked`);
  check(violations.length === 0, `axe on ${what}: ${violations.join("; ")}`);
}

// The chunks IndexedDB holds for a document id (real IndexedDB, read in the page).
function chunksOf(d, id) {
  return d.page.evaluate(
    (doc) =>
      new Promise((done, fail) => {
        const req = indexedDB.open("paktum");
        req.onerror = () => fail(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction("chunks", "readonly");
          const count = tx.objectStore("chunks").count(IDBKeyRange.bound([doc, -Infinity], [doc, Infinity]));
          count.onsuccess = () => {
            req.result.close();
            done(count.result);
          };
          count.onerror = () => fail(count.error);
        };
      }),
    id,
  );
}

async function switchTo(d, lang, name) {
  await d.page.getByRole("combobox", { name, exact: true }).first().selectOption(lang);
  await d.page.waitForFunction((l) => document.documentElement.lang === l, lang, { timeout: T });
}

mkdirSync(ARTIFACTS, { recursive: true });
let failed = false;
const devices = [];
try {
  const W = await device("W");
  const C = await device("C");
  devices.push(W, C);
  await enrol(W, CODES[0]);
  await enrol(C, CODES[1]);

  // The worker adds A with a note.
  await nav(W, "+ Contact");
  await W.page.getByLabel("Name", { exact: true }).fill(A_NAME);
  await W.page.getByRole("button", { name: "Save contact" }).click();
  await W.page.getByRole("heading", { level: 1, name: A_NAME }).waitFor({ timeout: T });
  const aId = decodeURIComponent(W.page.url().match(/contacts\/([^/?#]+)/)[1]);
  await addNote(W, "Met at the skate park.");
  await upToDate(W);
  await (await listed(C, A_NAME)).waitFor({ timeout: T });
  await upToDate(C);

  // The coordinator types the same person another way: A is suggested, with why.
  await nav(C, "+ Contact");
  await C.page.getByLabel("Name", { exact: true }).fill(B_NAME);
  const suggested = C.page.getByRole("region", { name: "Already in the caseload?" });
  await suggested.waitFor({ timeout: T });
  const item = suggested.getByRole("listitem").filter({ hasText: A_NAME });
  await item.waitFor({ timeout: T });
  check((await item.textContent()).includes("same name"), `the suggestion says why: ${await item.textContent()}`);
  await shotAt(C, suggested, "duplicates-suggested-en");
  await audited(C, "the new-contact form with a suggestion");
  // A name that is nobody's suggests nothing.
  await C.page.getByLabel("Name", { exact: true }).fill("Qx Nobody");
  await suggested.waitFor({ state: "detached", timeout: T });
  await C.page.getByLabel("Name", { exact: true }).fill(B_NAME);
  await suggested.waitFor({ timeout: T });
  await switchTo(C, "hu", "Language");
  const suggestedHu = C.page.getByRole("region", { name: HU.duplicates_new_title });
  await suggestedHu.getByText(HU.duplicate_same_name).waitFor({ timeout: T });
  await shotAt(C, suggestedHu, "duplicates-suggested-hu");
  await switchTo(C, "en", HU.language_label);
  await C.page.getByRole("button", { name: "Save contact" }).click();
  await C.page.getByRole("heading", { level: 1, name: B_NAME }).waitFor({ timeout: T });
  const bId = decodeURIComponent(C.page.url().match(/contacts\/([^/?#]+)/)[1]);
  await addNote(C, "Came to the youth centre.");
  await upToDate(C);
  check((await chunksOf(C, bId)) > 0, "B is in C's IndexedDB before, or the test proves nothing");

  // The worker sees B among A's possible duplicates, and no merge.
  await (await listed(W, B_NAME)).waitFor({ timeout: T });
  await upToDate(W);
  await open(W, A_NAME);
  const wBox = W.page.getByRole("region", { name: "Possible duplicates" });
  await wBox.getByRole("listitem").filter({ hasText: B_NAME }).waitFor({ timeout: T });
  check((await wBox.getByRole("button", { name: /^Merge/ }).count()) === 0, "a worker's device must not offer a merge");
  await wBox.getByText("Only a coordinator can merge two contacts.", { exact: false }).waitFor({ timeout: T });

  // Identifying A, the coordinator types the full name as B was written: B is suggested
  // in the step, before it is saved, with the merge a coordinator's device offers.
  await open(C, A_NAME);
  const consent = C.page.getByRole("region", { name: "Consent" });
  await consent.getByRole("button", { name: "Consent given today" }).click();
  await consent.getByRole("button", { name: "Withdraw consent" }).waitFor({ timeout: T });
  const stage = C.page.getByRole("region", { name: "Identification" });
  await stage.getByRole("button", { name: "Identify: full name and date of birth" }).click();
  await C.page.getByLabel("Full name").fill(B_NAME);
  const step = stage.getByRole("region", { name: "Already in the caseload?" });
  const stepRow = step.getByRole("listitem").filter({ hasText: B_NAME });
  await stepRow.getByRole("button", { name: "Merge into this contact…" }).waitFor({ timeout: T });
  check((await stepRow.textContent()).includes("same name"), `the step's suggestion says why: ${await stepRow.textContent()}`);
  check((await step.getByText("Only a coordinator can merge", { exact: false }).count()) === 0, "no worker's hint on a coordinator's device");
  await shotAt(C, step, "duplicates-identify-step-coordinator-en");
  await stage.getByRole("button", { name: "Cancel" }).click();
  await step.waitFor({ state: "detached", timeout: T });

  // The coordinator merges B into A, after a confirmation that says what happens.
  const box = C.page.getByRole("region", { name: "Possible duplicates" });
  const row = box.getByRole("listitem").filter({ hasText: B_NAME });
  await row.waitFor({ timeout: T });
  check((await row.textContent()).includes("same name"), `the reason is shown: ${await row.textContent()}`);
  await row.getByRole("button", { name: "Merge into this contact…" }).click();
  const confirm = row.getByRole("group");
  await confirm.waitFor({ timeout: T });
  const said = await confirm.textContent();
  check(said.includes(`Merge “${B_NAME}” into “${A_NAME}”`) && said.includes("erased"), `the confirmation says what happens: ${said}`);
  await shotAt(C, confirm, "duplicates-confirm-en");
  await audited(C, "the merge confirmation");
  await switchTo(C, "hu", "Language");
  const rowHu = C.page.getByRole("region", { name: HU.duplicates_title }).getByRole("listitem").filter({ hasText: B_NAME });
  await rowHu.getByRole("button", { name: HU.duplicates_confirm_button }).waitFor({ timeout: T });
  await shotAt(C, rowHu.getByRole("group"), "duplicates-confirm-hu");
  await switchTo(C, "en", HU.language_label);
  await row.getByRole("button", { name: "Merge and erase" }).click();
  await C.page.getByRole("status").filter({ hasText: `Merged. “${B_NAME}” was erased` }).waitFor({ timeout: T });

  // Both devices: A holds both notes; B is gone from the list, and from C's IndexedDB.
  for (const d of [C, W]) {
    await (await listed(d, B_NAME)).waitFor({ state: "detached", timeout: T });
    await upToDate(d);
    await open(d, A_NAME);
    const notes = d.page.getByRole("list", { name: "Notes" });
    for (const text of ["Met at the skate park.", "Came to the youth centre."]) {
      await notes.getByRole("listitem").filter({ hasText: text }).waitFor({ timeout: T });
    }
    check((await d.page.getByRole("region", { name: "Possible duplicates" }).count()) === 0, `${d.name}: no duplicate left`);
    const mergedFrom = d.page.getByText(`Merged from “${B_NAME}” by`, { exact: false });
    await mergedFrom.waitFor({ timeout: T });
    if (d === C) await shotAt(d, mergedFrom, "duplicates-merged-en");
  }
  for (const d of [C, W]) {
    for (let i = 0; i < 100 && (await chunksOf(d, bId)) > 0; i++) await new Promise((r) => setTimeout(r, 100)); // polling the store, not guessing a time
    check((await chunksOf(d, bId)) === 0, `${d.name}: B's chunks are still in IndexedDB`);
    check((await chunksOf(d, aId)) > 0, `${d.name}: A's chunks are in IndexedDB`);
  }
  check(problems.length === 0, `the pages reported errors:\n     ${problems.join("\n     ")}`);
  console.log("ok   duplicates: suggested with its reason, merged by the coordinator, both notes on A, B gone from both devices");
} catch (e) {
  failed = true;
  console.log(`FAIL duplicates\n     ${String(e && e.message).split("\n").join("\n     ")}`);
  for (const d of devices) await d.page.screenshot({ path: resolve(ARTIFACTS, `failure-duplicates-${d.name}.png`) }).catch(() => {});
} finally {
  for (const d of devices) await d.context.close().catch(() => {});
  await browser.close();
}
process.exit(failed ? 1 : 0);
