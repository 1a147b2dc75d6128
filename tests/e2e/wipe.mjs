// Remote wipe in the browser (issue 16): a worker's device enrols on a relay with
// device tokens and syncs a contact; offline, it creates a second contact (pending);
// the admin withdraws it with the real CLI (`admin revoke --device N --wipe
// --quarantine`); back online, the app hands in the pending contact and is wiped: the
// withdrawal screen says why (in English, then in French after a switch), no record
// text is in the page, every IndexedDB store is empty, localStorage holds nothing but
// the reason's code and the language, a reload still shows why, and `admin
// quarantine list` names the offline contact's id (nothing personal).
//
//   node tests/e2e/wipe.mjs --base URL --code WORKER_CODE --binary RELAY_BINARY --data-dir DIR
//        [--artifacts tests/artifacts]
//
// Its own step (xtask test): it runs the admin CLI on the relay's data directory.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const BASE = (args.base || "").replace(/\/$/, "");
const CODE = args.code;
const BINARY = args.binary && resolve(args.binary);
const DATA_DIR = args["data-dir"] && resolve(args["data-dir"]);
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const T = 30_000;

if (!BASE || !CODE || !BINARY || !DATA_DIR) {
  console.log("usage: wipe.mjs --base URL --code WORKER_CODE --binary RELAY_BINARY --data-dir DIR");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const admin = (...a) => execFileSync(BINARY, ["--data-dir", DATA_DIR, "admin", ...a], { encoding: "utf8" });

async function newContact(page, name) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "+ Contact" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Save contact" }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  return decodeURIComponent(page.url().match(/contacts\/([^/?#]+)/)[1]);
}

// Every IndexedDB store of every database the page's origin has, with its row count.
const idbRows = (page) =>
  page.evaluate(async () => {
    const out = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      for (const store of db.objectStoreNames) {
        out[`${name}/${store}`] = await new Promise((ok, fail) => {
          const r = db.transaction(store).objectStore(store).count();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
      }
      db.close();
    }
    return out;
  });

mkdirSync(ARTIFACTS, { recursive: true });
const problems = [];
let failed = false;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
const page = await context.newPage();
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("console", (m) => {
  // Chromium logs the refused sync while the device is offline; nothing else may fail.
  if (m.type() === "error" && !/WebSocket connection to .* failed/.test(m.text())) problems.push(`console error: ${m.text()}`);
});
try {
  await page.goto(`${BASE}/#/enrol?code=${encodeURIComponent(CODE)}`);
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByRole("heading", { name: /^My day/ }).waitFor({ timeout: T });
  const synced = "Wilma Offerhaus";
  await newContact(page, synced);
  await page.locator('.sync[data-sync-state="up-to-date"]').waitFor({ timeout: T });

  await context.setOffline(true);
  await page.locator('.sync[data-sync-state="offline"]').waitFor({ timeout: T });
  const offlineName = "Odilon Vanderstraeten";
  const offlineId = await newContact(page, offlineName);
  const before = await idbRows(page);
  check(Object.values(before).some((n) => n > 0), `the store holds the records before: ${JSON.stringify(before)}`);

  // The admin withdraws the device with the real CLI.
  const line = admin("devices").split("\n").find((l) => /\bWim\b/.test(l) && /\bactive\b/.test(l));
  check(line, "the enrolled device is listed");
  const deviceId = line.trim().split(/\s+/)[0];
  const revoked = admin("revoke", "--device", deviceId, "--wipe", "--quarantine");
  check(/to be wiped/.test(revoked), `admin revoke answered: ${revoked}`);

  await context.setOffline(false);
  await page.getByRole("heading", { level: 1, name: "This device was withdrawn" }).waitFor({ timeout: T });
  await page.waitForFunction(() => performance.getEntriesByName("paktum:wiped").length > 0, null, { timeout: T });
  const reason = await page.locator("#withdrawn-reason").innerText();
  check(/kept apart until your coordinator has checked them/.test(reason), `the reason in words: ${reason}`);
  const text = await page.locator("body").innerText();
  check(!text.includes(synced) && !text.includes(offlineName), "no record text in the page");
  const after = await idbRows(page);
  check(Object.keys(after).length > 0 && Object.values(after).every((n) => n === 0), `IndexedDB is empty: ${JSON.stringify(after)}`);
  const kept = await page.evaluate(() => Object.keys(localStorage).sort());
  check(kept.every((k) => k === "paktum-withdrawn" || k === "paktum-locale"), `localStorage: ${kept}`);
  await page.screenshot({ path: resolve(ARTIFACTS, "wipe-withdrawn.png") });

  // After a reload the screen still says why; in French after a switch.
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "This device was withdrawn" }).waitFor({ timeout: T });
  await page.evaluate(() => localStorage.setItem("paktum-locale", "fr"));
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Cet appareil a été retiré" }).waitFor({ timeout: T });
  const fr = await page.locator("#withdrawn-reason").innerText();
  check(/mises de côté jusqu’à|mises de côté jusqu'à/.test(fr), `the reason in French: ${fr}`);
  check(Object.values(await idbRows(page)).every((n) => n === 0), "still empty after the reloads");

  // What the device handed in waits in the quarantine: ids, device and time only.
  const listed = admin("quarantine", "list");
  check(listed.includes(offlineId), `the offline contact is quarantined:\n${listed}`);
  check(!listed.includes(offlineName) && !listed.includes(synced), "the quarantine list shows no names");
  check(problems.length === 0, `the page reported errors:\n     ${problems.join("\n     ")}`);
  console.log("ok   wipe: handed in, quarantined, IndexedDB empty, the reason shown in words after reloads");
} catch (e) {
  failed = true;
  console.log(`FAIL wipe\n     ${String(e && e.message).split("\n").join("\n     ")}`);
  await page.screenshot({ path: resolve(ARTIFACTS, "failure-wipe.png") }).catch(() => {});
} finally {
  await browser.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
