// The pact's languages, end to end: the browser's language on first start, the picker
// (named "Language" in each language, remembered over a reload, <html lang>), a switch
// that keeps a half-typed note, sorting and accent-free search, and for each of the
// five languages the main screens at 360×800: no horizontal overflow, no English text
// left where the catalogue has a translation; screenshots to
// <artifacts>/i18n-<lang>-<screen>.png.
//
// run.mjs adds these scenarios with one line. For a quick run on its own:
//   node tests/e2e/languages.mjs --base http://127.0.0.1:8080 [--artifacts tests/artifacts]

import { readFileSync, mkdirSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const LANGS = ["en", "hu", "nl", "fr", "de"];
const SCREENS = ["day", "caseload", "contact", "employers", "new-contact"];

/** Every catalogue, flattened: plural groups become `key.one` / `key.other`. */
function catalogues() {
  const flat = (obj, prefix = "", out = {}) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (typeof v === "string") out[key] = v;
      else flat(v, key, out);
    }
    return out;
  };
  return Object.fromEntries(
    LANGS.map((l) => [l, flat(JSON.parse(readFileSync(resolve(here, `../../app/locales/${l}.json`), "utf8")))]),
  );
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A catalogue text as a pattern for a whole piece of text: `{{ x }}` stands for anything. */
const pattern = (text) => new RegExp(`^${text.split(/\{\{[^}]*\}\}/).map(escape).join(".+")}$`);

/** English texts that must not show in `lang`: those the catalogue translates differently
 *  (and that are not also words of `lang`, such as "Online" or "Status"). */
function leftoversFor(cat, lang) {
  if (lang === "en") return [];
  const own = new Set(Object.values(cat[lang]));
  return Object.entries(cat.en)
    .filter(([key, text]) => cat[lang][key] !== text && !own.has(text))
    .map(([key, text]) => ({ key, text, re: pattern(text) }));
}

/** What a person sees or hears on the page: each leaf element's text (also split at
 *  " · ", the separator of the meta lines), option texts, placeholders, labels, titles. */
async function visibleTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const push = (t) => {
      const s = (t || "").replace(/\s+/g, " ").trim();
      if (!s) return;
      out.push(s);
      if (s.includes(" · ")) out.push(...s.split(" · ").map((p) => p.trim()).filter(Boolean));
    };
    for (const el of document.body.querySelectorAll("*")) {
      if (["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName)) continue;
      if (el.tagName === "OPTION") {
        push(el.textContent);
        continue;
      }
      if (el.getClientRects().length === 0) continue;
      if (el.children.length === 0) push(el.textContent);
      for (const attr of ["placeholder", "aria-label"]) push(el.getAttribute(attr));
      if (el.tagName !== "OPTION") push(el.getAttribute("title"));
    }
    return out;
  });
}

export function languageScenarios({ scenario, browser, problems, BASE, ARTIFACTS, TEAM, T, check }) {
  const cat = catalogues();
  let L = null; // the device
  let contactUrl = null;
  const say = (lang, key, vars = {}) =>
    Object.entries(vars).reduce((t, [k, v]) => t.replace(new RegExp(`\\{\\{\\s*${k}\\s*\\}\\}`), v), cat[lang][key]);

  const picker = (lang) => L.page.getByRole("combobox", { name: cat[lang].language_label, exact: true });
  async function switchTo(from, to) {
    await picker(from).first().selectOption(to);
    await L.page.waitForFunction((l) => document.documentElement.lang === l, to, { timeout: T });
  }
  const navLink = (n) => L.page.locator("nav.bottom a").nth(n);
  const h1 = () => L.page.locator("h1").first();

  scenario("languages: first start in the browser's language, pick another, keep what was typed", async () => {
    const context = await browser.newContext({
      viewport: { width: 360, height: 800 },
      hasTouch: true,
      locale: "de-DE",
      serviceWorkers: "allow",
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`L: page error: ${e.message}`));
    L = { name: "L", context, page };
    await page.goto(BASE + "/");
    await page.getByRole("heading", { name: cat.de.setup_title }).waitFor({ timeout: T });
    check((await page.evaluate(() => document.documentElement.lang)) === "de", "<html lang> follows the browser (de)");
    await page.getByLabel(cat.de.setup_worker).fill("Lena");
    await page.getByLabel(cat.de.setup_team).fill(TEAM);
    await page.getByRole("button", { name: cat.de.setup_start }).click();
    await page.getByRole("heading", { name: say("de", "day_title", { worker: "Lena" }) }).waitFor({ timeout: T });

    // A contact with an overdue follow-up (My day says "3 days overdue" in words).
    const threeDaysAgo = await page.evaluate(() => {
      const d = new Date(Date.now() - 3 * 86_400_000);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    });
    for (const name of ["Kőszegi Zsófia", "Csaba Zöld", "Cukor Zöld"]) {
      await navLink(3).click();
      await page.getByLabel(cat.de.field_display_name, { exact: true }).fill(name);
      await page.getByRole("button", { name: cat.de.new_contact_save }).click();
      await page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
    }
    await navLink(1).click();
    await page.getByRole("searchbox").fill("koszeg");
    await page.getByRole("link", { name: /^Kőszegi Zsófia/ }).click();
    await page.getByRole("heading", { level: 1, name: "Kőszegi Zsófia" }).waitFor({ timeout: T });
    contactUrl = page.url();
    await page.getByRole("button", { name: cat.de.note_add }).click();
    await page.getByLabel(cat.de.note_text, { exact: true }).fill("Ruft nächste Woche zurück.");
    await page.getByLabel(cat.de.note_follow_up).fill(threeDaysAgo);
    await page.getByRole("button", { name: cat.de.note_save }).click();
    await page.getByText(cat.de.note_saved).waitFor({ timeout: T });

    await navLink(2).click();
    await page.getByRole("link", { name: cat.de.employer_new }).click();
    await page.getByLabel(cat.de.employer_name).fill("Bäckerei Müller GmbH & Co. KG Worms-Hochheim");
    await page.getByRole("button", { name: cat.de.employer_save }).click();
    await page.getByRole("heading", { level: 1, name: "Bäckerei Müller GmbH & Co. KG Worms-Hochheim" }).waitFor({ timeout: T });

    // Switching while a note is half typed: the words change, the typing stays.
    await page.goto(contactUrl);
    await page.getByRole("heading", { level: 1, name: "Kőszegi Zsófia" }).waitFor({ timeout: T });
    await page.getByRole("button", { name: cat.de.note_add }).click();
    const half = "Halb geschrieben, noch nicht gespeichert";
    await page.getByLabel(cat.de.note_text, { exact: true }).fill(half);
    await switchTo("de", "hu");
    await page.getByRole("heading", { name: cat.hu.notes_title, exact: true }).waitFor({ timeout: T });
    await page.getByRole("button", { name: cat.hu.note_save }).waitFor({ timeout: T });
    const kept = await page.getByLabel(cat.hu.note_text, { exact: true }).inputValue();
    check(kept === half, `the half-typed note survives the switch (got ${JSON.stringify(kept)})`);
    await page.getByRole("button", { name: cat.hu.cancel }).click();

    // Remembered on this device: a reload stays Hungarian although the browser says German.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Kőszegi Zsófia" }).waitFor({ timeout: T });
    await page.getByRole("heading", { name: cat.hu.notes_title, exact: true }).waitFor({ timeout: T });
    check((await page.evaluate(() => document.documentElement.lang)) === "hu", "<html lang> is hu after a reload");
  });

  scenario("languages: sorting and search follow the language", async () => {
    const order = async () => {
      await L.page.getByRole("link", { name: /^Csaba Zöld/ }).waitFor({ timeout: T });
      return L.page.locator("ul.rows > li .name").allTextContents();
    };
    await navLink(1).click();
    await L.page.getByRole("searchbox").fill("ZOLD");
    const hu = await order();
    check(JSON.stringify(hu) === JSON.stringify(["Cukor Zöld", "Csaba Zöld"]), `hu sorts Cs after C: ${hu}`);
    await switchTo("hu", "en");
    await L.page.getByRole("heading", { level: 1, name: cat.en.caseload_title }).waitFor({ timeout: T });
    const en = await order();
    check(JSON.stringify(en) === JSON.stringify(["Csaba Zöld", "Cukor Zöld"]), `en sorts letter by letter: ${en}`);
    await L.page.getByRole("searchbox").fill("");
  });

  scenario("languages: every main screen in every language fits 360 px and has no English left", async () => {
    let current = "en";
    const found = [];
    for (const lang of LANGS) {
      await switchTo(current, lang);
      current = lang;
      const leftovers = leftoversFor(cat, lang);
      for (const screen of SCREENS) {
        if (screen === "day") {
          await navLink(0).click();
          await h1().filter({ hasText: "Lena" }).waitFor({ timeout: T });
          // The overdue follow-up, in the language's plural form.
          const overdue = say(lang, "due_overdue.other", { count: "3" });
          await L.page.getByText(overdue, { exact: true }).first().waitFor({ timeout: T });
        } else if (screen === "caseload") {
          await navLink(1).click();
          await h1().filter({ hasText: cat[lang].caseload_title }).waitFor({ timeout: T });
        } else if (screen === "contact") {
          await L.page.goto(contactUrl);
          await L.page.getByRole("heading", { level: 1, name: "Kőszegi Zsófia" }).waitFor({ timeout: T });
          await L.page.getByRole("heading", { name: cat[lang].notes_title, exact: true }).waitFor({ timeout: T });
        } else if (screen === "employers") {
          await navLink(2).click();
          await h1().filter({ hasText: cat[lang].employers_title }).waitFor({ timeout: T });
        } else {
          await navLink(3).click();
          await h1().filter({ hasText: cat[lang].new_contact }).waitFor({ timeout: T });
        }
        const lang_ = await L.page.evaluate(() => document.documentElement.lang);
        check(lang_ === lang, `<html lang> is ${lang} on ${screen} (got ${lang_})`);
        const width = await L.page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 360) found.push(`${lang}/${screen}: the page is ${width} px wide`);
        for (const text of await visibleTexts(L.page)) {
          const hit = leftovers.find((l) => l.re.test(text));
          if (hit) found.push(`${lang}/${screen}: "${text}" is English (${hit.key})`);
        }
        await L.page.evaluate(() => window.scrollTo(0, 0));
        await L.page.screenshot({ path: resolve(ARTIFACTS, `i18n-${lang}-${screen}.png`) });
      }
    }
    check(found.length === 0, `language problems:\n${[...new Set(found)].join("\n")}`);
    await L.context.close();
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
  languageScenarios({
    scenario: (name, fn) => list.push({ name, fn }),
    browser,
    problems,
    BASE,
    ARTIFACTS,
    TEAM: `i18n-${Date.now().toString(36)}`,
    T: 30_000,
    check: (c, m) => {
      if (!c) throw new Error(m);
    },
  });
  let failed = 0;
  for (const { name, fn } of list) {
    try {
      await fn();
      console.log(`ok   ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n     ${String(e && e.message).split("\n").join("\n     ")}`);
      for (const page of browser.contexts().flatMap((c) => c.pages())) {
        await page.screenshot({ path: resolve(ARTIFACTS, "failure-languages.png") }).catch(() => {});
      }
      break;
    }
  }
  if (problems.length) {
    failed++;
    console.log(`FAIL the pages reported errors:\n     ${problems.join("\n     ")}`);
  }
  await browser.close();
  process.exit(failed ? 1 : 0);
}
