// The app over HTTPS from the relay itself, as a phone meets a pact's server: a name
// that is not loopback (pact.example, mapped to 127.0.0.1 by Chromium's resolver
// rules), a certificate from the test's own CA, the service worker in control, a
// reload offline that still shows the app, and sync over wss that reaches another
// device through the relay.
//
//   node tests/e2e/https.mjs --base https://pact.example:PORT --ca DIR/ca.pem [--artifacts tests/artifacts]
//
// The relay must listen on 127.0.0.1:PORT with --tls-cert/--tls-key holding a leaf for
// pact.example signed by the CA in --ca (`paktum-test-ca` makes both; `cargo xtask test`
// does all of this).
//
// How the CA is trusted: Chromium on Linux trusts CAs from an NSS database, which only
// `certutil` (package libnss3-tools) can write. Instead Chromium gets
// --ignore-certificate-errors-spki-list with the SHA-256 of the CA's public key: a
// chain that does not validate is accepted only if one of its certificates has that
// key (the relay sends leaf + CA). Nothing else is accepted: a first check opens the
// page in a browser without the flag and expects the certificate to be refused.
//
// Without --base or --ca the scenario is skipped, loudly; under CI (CI set) a skip fails.

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const IN_CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);
const BASE = args.base ? args.base.replace(/\/$/, "") : null;
const CA = args.ca || null;
const ARTIFACTS = resolve(args.artifacts || resolve(here, "../artifacts"));
const CHROMIUM = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const TEAM = `https-${Date.now().toString(36)}`;
const T = 30_000;

if (!BASE || !CA) {
  console.log(`${IN_CI ? "FAIL" : "SKIPPED"} https: needs --base https://NAME:PORT and --ca (see the header)`);
  process.exit(IN_CI ? 1 : 0);
}
const url = new URL(BASE);
if (url.protocol !== "https:" || /^(127\.|localhost$|\[::1\]$)/.test(url.hostname)) {
  console.log(`FAIL https: --base must be https:// with a name that is not loopback, got ${BASE}`);
  process.exit(1);
}
const SOCKET = `wss://${url.host}/sync`;
mkdirSync(ARTIFACTS, { recursive: true });

// base64(SHA-256(SubjectPublicKeyInfo)) of the CA, the form Chromium's flag takes.
const caKey = new X509Certificate(readFileSync(CA)).publicKey.export({ type: "spki", format: "der" });
const SPKI = createHash("sha256").update(caKey).digest("base64");
const RESOLVE = `--host-resolver-rules=MAP ${url.hostname} 127.0.0.1`;

const problems = [];
function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Only what going offline on purpose causes is expected in the console.
function expectedError(d, text) {
  if (text === "Failed to load resource: net::ERR_INTERNET_DISCONNECTED") return true;
  const socket = /^WebSocket connection to '([^']+)' failed:\s*(.*)$/.exec(text);
  if (!socket || socket[1] !== SOCKET) return false;
  return /^(Error in connection establishment: )?net::ERR_INTERNET_DISCONNECTED$/.test(socket[2]) || (socket[2] === "" && d.offline);
}

async function device(browser, name) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, hasTouch: true, serviceWorkers: "allow" });
  const page = await context.newPage();
  const d = { name, context, page, offline: false, sockets: [] };
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !expectedError(d, m.text())) problems.push(`${name}: console error: ${m.text()}`);
  });
  page.on("websocket", (ws) => d.sockets.push(ws.url()));
  return d;
}

const waitState = (d, state, timeout = T) => d.page.locator(`.sync[data-sync-state="${state}"]`).waitFor({ timeout });

async function setUp(d, worker) {
  await d.page.goto(BASE + "/");
  await d.page.getByLabel("Your name").fill(worker);
  await d.page.getByLabel("Your team").fill(TEAM);
  await d.page.getByRole("button", { name: "Start" }).click();
  await d.page.getByRole("heading", { name: `My day, ${worker}` }).waitFor({ timeout: T });
}

async function nav(d, label) {
  await d.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label }).click();
}

async function shot(d, name) {
  await d.page.evaluate(() => window.scrollTo(0, 0));
  await d.page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`) });
}

let failed = 0;
async function scenario(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e && e.message).split("\n").join("\n     ")}`);
  }
}

await scenario("https: without the test CA's key, Chromium refuses the relay's certificate", async () => {
  const untrusting = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, RESOLVE] });
  try {
    const page = await (await untrusting.newContext()).newPage();
    const error = await page.goto(BASE + "/").then(
      () => null,
      (e) => e.message,
    );
    check(error && /ERR_CERT_AUTHORITY_INVALID/.test(error), `expected the certificate to be refused, got: ${error}`);
  } finally {
    await untrusting.close();
  }
});

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [...CHROMIUM_ARGS, RESOLVE, `--ignore-certificate-errors-spki-list=${SPKI}`],
});

await scenario(`https: the app from ${url.host}, the service worker in control, offline after a reload, sync over wss`, async () => {
  const A = await device(browser, "A");
  await setUp(A, "Hanna");
  check(await A.page.evaluate(() => window.isSecureContext && location.protocol === "https:"), "the page is a secure context over https");
  await A.page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: T });
  await waitState(A, "up-to-date");
  check(A.sockets.some((s) => s === SOCKET), `the app syncs over ${SOCKET} (saw: ${JSON.stringify(A.sockets)})`);
  await shot(A, "https-up-to-date");

  await nav(A, "+ Contact");
  await A.page.getByLabel("Name", { exact: true }).fill("Hanna Secure");
  await A.page.getByRole("button", { name: "Save contact" }).click();
  await A.page.getByRole("heading", { level: 1, name: "Hanna Secure" }).waitFor({ timeout: T });
  await waitState(A, "up-to-date");

  // Reached the relay: a second device of the team, its own storage and socket, gets it.
  const B = await device(browser, "B");
  await setUp(B, "Ivo");
  await waitState(B, "up-to-date");
  await nav(B, "Caseload");
  await B.page.getByRole("link", { name: /^Hanna Secure/ }).waitFor({ timeout: T });
  check(B.sockets.some((s) => s === SOCKET), "the second device syncs over wss too");
  await B.context.close();

  // Offline: the service worker serves the app, the store still has the contact.
  A.offline = true;
  await A.context.setOffline(true);
  await waitState(A, "offline");
  await A.page.reload();
  await A.page.getByRole("heading", { level: 1, name: "Hanna Secure" }).waitFor({ timeout: T });
  await waitState(A, "offline");
  await nav(A, "Caseload");
  await A.page.getByRole("link", { name: /^Hanna Secure/ }).waitFor({ timeout: T });
  await shot(A, "https-offline");
  // Back online: a socket failing while it reconnects is still "offline" here.
  await A.context.setOffline(false);
  await waitState(A, "up-to-date");
  A.offline = false;
  await A.context.close();
});

await browser.close();
if (problems.length) {
  failed++;
  console.log(`FAIL the pages reported errors:\n     ${problems.join("\n     ")}`);
}
console.log(failed ? `${failed} failed` : `all passed (https, team ${TEAM}, screenshots in ${ARTIFACTS})`);
process.exit(failed ? 1 : 0);
