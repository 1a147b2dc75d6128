// The device lock (issue 16), by accessible names: a device set up without a PIN gets
// one in Settings (what it holds is encrypted then); with the inactivity time shortened
// through the test hook (localStorage "paktum-lock-after-ms", honoured only when
// shorter than the policy's 5 minutes), the app locks while a note is half-typed; the
// lock screen shows and no record text is in the page; wrong PINs make the worker wait
// longer each time; the right PIN brings the same page back with the half-typed note;
// the PIN is changed in Settings (a wrong current PIN refused), and then only the new
// PIN unlocks.
// The grep test: a device on a real Chromium profile on disk (launchPersistentContext)
// saves a contact with a name and phone, which are then found in the profile; a PIN
// is set (what was there is encrypted, and the old values are scrubbed from LevelDB:
// Store::scrub), a second contact is saved, the app locks, the browser closes, and no
// file of the profile holds either name or the phone, as UTF-8 or UTF-16LE.
// Screenshot (360×800): tests/artifacts/lock-screen.png.
//
// run.mjs adds these scenarios with one line.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { mkdirSync, rmSync } from "node:fs";
import { resolve, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { occurrences, uniqueName as makeName } from "./profile.mjs";

const here = dirname(fileURLToPath(import.meta.url));

export function lockScenarios(h) {
  const { scenario, device, setUp, waitState, nav, newContact, setPhone, shot, check, T, problems, BASE, SEED } = h;
  const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
  const PIN = "258036";
  const unlockButton = (d) => d.page.getByRole("button", { name: "Unlock" });

  async function tryPin(d, pin) {
    await unlockButton(d).waitFor({ timeout: T });
    await d.page.waitForFunction(() => {
      const b = [...document.querySelectorAll("button")].find((b) => b.textContent.includes("Unlock"));
      return b && !b.disabled;
    }, null, { timeout: T });
    const input = d.page.getByLabel("PIN", { exact: true });
    await input.fill(pin);
    await unlockButton(d).click();
    // The field is emptied once the try is answered.
    await d.page.waitForFunction(() => {
      const input = document.querySelector("main.lock input[type=password]");
      return !input || input.value === "";
    }, null, { timeout: T });
  }

  // The seconds the lock screen asks to wait after a wrong PIN (0: none).
  async function waitAsked(d) {
    const status = d.page.getByRole("status").filter({ hasText: /^Wrong PIN/ });
    await status.waitFor({ timeout: T });
    const text = await status.innerText();
    const m = /try again in (\d+) s/.exec(text);
    return m ? Number(m[1]) : 0;
  }

  async function setPin(d) {
    await nav(d, "Settings");
    await d.page.getByLabel("New PIN or passphrase").fill(PIN);
    await d.page.getByLabel("Repeat the PIN").fill(PIN);
    await d.page.getByRole("button", { name: "Set PIN" }).click();
    await d.page.getByText("PIN set. The data on this device is now encrypted.").waitFor({ timeout: T });
  }

  scenario("lock: a PIN set in Settings, locked on inactivity, nothing in the page; wrong PINs wait longer; the half-typed note survives", async () => {
    const L = await device("L");
    await setUp(L, "Lena");
    await waitState(L, "up-to-date");
    const name = "Quirina Vandermolen";
    const draft = "Half-typed: meets the employer on Tuesday at";
    await newContact(L, name);
    await waitState(L, "up-to-date");

    await setPin(L);
    await L.page.getByRole("button", { name: "Lock now" }).waitFor({ timeout: T });

    await nav(L, "Caseload");
    await L.page.getByRole("link", { name: new RegExp(`^${name}`) }).click();
    await L.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
    await L.page.getByRole("button", { name: "Add note" }).click();
    await L.page.getByLabel("Note", { exact: true }).fill(draft);

    // Three seconds without a touch, then the lock.
    await L.page.evaluate(() => localStorage.setItem("paktum-lock-after-ms", "3000"));
    await L.page.getByRole("heading", { name: "Paktum is locked" }).waitFor({ timeout: T });
    await L.page.evaluate(() => localStorage.removeItem("paktum-lock-after-ms"));
    const html = await L.page.content();
    for (const text of [name, "Quirina", draft, "meets the employer", "Lena"]) {
      check(!html.includes(text), `no record text in the page while locked: found "${text}"`);
    }
    await shot(L, "lock-screen");

    // Two free tries, then waits that grow.
    const asked = [];
    for (let i = 0; i < 4; i++) {
      await tryPin(L, "000000");
      asked.push(await waitAsked(L));
    }
    check(asked[0] === 0 && asked[1] === 0, `the first two wrong PINs cost no wait: ${asked}`);
    check(asked[2] >= 1 && asked[3] > asked[2], `the waits grow: ${asked}`);
    check(await unlockButton(L).isDisabled(), "Unlock is disabled while the wait runs");

    await tryPin(L, PIN);
    await L.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
    check((await L.page.getByLabel("Note", { exact: true }).inputValue()) === draft, "the half-typed note is back");
    const unlockMs = await L.page.evaluate(() => performance.getEntriesByName("paktum:unlock").map((e) => e.duration));
    console.log(`     unlock with 600,000 PBKDF2 iterations: ${unlockMs.map((ms) => ms.toFixed(0)).join(", ")} ms`);

    // Changing the PIN in Settings: a wrong current PIN is refused (and counted); then
    // the old PIN no longer opens the device and the new one does.
    const NEW_PIN = "741852";
    await nav(L, "Settings");
    const changePin = async (current) => {
      await L.page.getByLabel("Current PIN").fill(current);
      await L.page.getByLabel("New PIN or passphrase").fill(NEW_PIN);
      await L.page.getByLabel("Repeat the PIN").fill(NEW_PIN);
      await L.page.getByRole("button", { name: "Change PIN" }).click();
    };
    await changePin("111111");
    await L.page.getByText(/^The current PIN is wrong/).waitFor({ timeout: T });
    await changePin(PIN);
    await L.page.getByText(/^PIN changed/).waitFor({ timeout: T });
    await L.page.getByRole("button", { name: "Lock now" }).click();
    await tryPin(L, PIN);
    check((await waitAsked(L)) === 0, "the old PIN is refused (a free try)");
    await tryPin(L, NEW_PIN);
    await L.page.getByRole("heading", { level: 1, name: "Settings" }).waitFor({ timeout: T });
    await L.context.close();
  });

  const uniqueName = (seed) => makeName(seed, "Zk", 16);

  scenario("lock: with a PIN set, the browser profile on disk holds no contact's name or phone", async () => {
    const dir = resolve(here, `../../target/e2e-profiles/lock-${Date.now().toString(36)}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 360, height: 800 },
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (e) => problems.push(`P: page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`P: console error: ${m.text()}`);
    });
    const P = { name: "P", context, page, expect: [], offline: false, reconnecting: false };
    try {
      const before = uniqueName(SEED * 7 + 1);
      const after = uniqueName(SEED * 7 + 2);
      const phone = `0471 ${String(SEED % 100).padStart(2, "0")} 93 57`;
      await setUp(P, "Pia");
      await waitState(P, "up-to-date");
      await newContact(P, before);
      await setPhone(P, phone);
      await waitState(P, "up-to-date");
      for (const needle of [before, phone]) {
        check(occurrences(dir, needle).length > 0, `"${needle}" is first found in the profile (the search works)`);
      }

      await setPin(P);
      // The values from before the PIN leave LevelDB's files with the scrub.
      await page.waitForFunction(() => performance.getEntriesByName("paktum:pin-scrubbed").length > 0, null, { timeout: 120_000 });
      await newContact(P, after);
      await waitState(P, "up-to-date");
      await nav(P, "Settings");
      await page.getByRole("button", { name: "Lock now" }).click();
      await page.getByRole("heading", { name: "Paktum is locked" }).waitFor({ timeout: T });
      const html = await page.content();
      check(![before, after, phone].some((t) => html.includes(t)), "no record text in the page while locked");
    } finally {
      await context.close();
    }
    for (const needle of [uniqueName(SEED * 7 + 1), uniqueName(SEED * 7 + 2), `0471 ${String(SEED % 100).padStart(2, "0")} 93 57`]) {
      const hits = occurrences(dir, needle);
      check(hits.length === 0, `"${needle}" is in the profile on disk: ${hits.join(", ")}`);
    }
    rmSync(dir, { recursive: true, force: true });
  });
}
