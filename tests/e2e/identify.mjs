// Progressive identification (issue 15) on a phone: a contact started anonymous (a
// nickname and a description) is listed with its description; it is given a first name
// and a phone; identifying it is refused with the reason and a link to the consent
// while no consent is recorded; once consent is recorded it is identified (full name,
// date of birth, the form saying a year alone is enough), Details show the date and not
// the year beside it, and all of it survives a reload offline; stepping back removes
// full name and date of birth, and the history names both steps and the date removed. While each step is filled in, the
// contact already in the caseload that the typed phone and full name belong to is
// suggested with why (the contact itself never), before the step is saved; a worker
// gets the hint that a coordinator merges. axe-core on the new-contact
// form and the identify step. Screenshots (360×800): tests/artifacts/identify-*.png,
// in English and Hungarian.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { axeFindings } from "./axe.mjs";

const LOCALES = resolve(dirname(fileURLToPath(import.meta.url)), "../../app/locales");
const en = JSON.parse(readFileSync(resolve(LOCALES, "en.json"), "utf8"));
const hu = JSON.parse(readFileSync(resolve(LOCALES, "hu.json"), "utf8"));

export function identifyScenarios(h) {
  const { scenario, device, setUp, waitState, goOffline, nav, check, T } = h;

  async function shot(d, name, locator) {
    // The section's top just below the sticky status line.
    if (locator) await locator.evaluate((el) => window.scrollBy(0, el.getBoundingClientRect().top - 110));
    else await d.page.evaluate(() => window.scrollTo(0, 0));
    await d.page.screenshot({ path: `${h.ARTIFACTS}/${name}.png` });
  }

  // axe-core on the page as it is: no serious or critical violation, and the rules that
  // matter on a form were checked (as records.mjs does).
  async function audited(d, what) {
    const { violations, passed } = await axeFindings(d.page);
    for (const rule of ["button-name", "color-contrast", "target-size", "label"]) {
      check(passed.includes(rule), `axe on ${what}: rule ${rule} was not checked`);
    }
    check(violations.length === 0, `axe on ${what}: ${violations.join("; ")}`);
  }

  const section = (d, name) => d.page.getByRole("region", { name });
  const detail = (d, label) =>
    d.page.evaluate((label) => {
      const dt = [...document.querySelectorAll("dl.details dt")].find((e) => e.textContent.trim() === label);
      return dt ? dt.nextElementSibling.textContent.replace(/\s+/g, " ").trim() : null;
    }, label);

  scenario("identify: anonymous, then a first name, refused without consent, identified with it, kept offline", async () => {
    const I = await device("identify-I");
    await setUp(I, "Ines");
    await waitState(I, "up-to-date");
    const { page } = I;

    // Already in the caseload: the same young person met earlier, last name first, an
    // accent, the phone written internationally.
    const EARLIER = "Verhoeven Rubén";
    await nav(I, "+ Contact");
    await page.getByLabel(en.field_display_name, { exact: true }).fill(EARLIER);
    await page.getByLabel(en.field_phone_optional).fill("+32 470 12 34 56");
    await page.getByRole("button", { name: en.new_contact_save }).click();
    await page.getByRole("heading", { level: 1, name: EARLIER }).waitFor({ timeout: T });

    // The form starts with a first name; anonymous asks a nickname and a description
    // and no phone.
    await nav(I, "+ Contact");
    const firstName = page.getByRole("radio", { name: en.new_contact_stage_pseudonymous });
    check(await firstName.isChecked(), "a new contact starts with a first name by default");
    check((await page.getByLabel(en.field_phone_optional).count()) === 1, "a phone is asked with a first name");
    // Another name with the earlier contact's phone, written the national way: the
    // form suggests it by the phone, with why; as anonymous (no phone kept) it does not.
    await page.getByLabel(en.field_display_name, { exact: true }).fill("Robbe");
    await page.getByLabel(en.field_phone_optional).fill("0470/12.34.56");
    const byPhone = section(I, en.duplicates_new_title).getByRole("listitem").filter({ hasText: EARLIER });
    await byPhone.waitFor({ timeout: T });
    const phoneWhy = await byPhone.textContent();
    check(phoneWhy.includes(en.duplicate_same_phone), `the new-contact form suggests by the phone: ${phoneWhy}`);
    await shot(I, "identify-new-same-phone", section(I, en.duplicates_new_title));
    await page.getByRole("radio", { name: en.new_contact_stage_anonymous }).check();
    await page.getByLabel(en.field_description, { exact: true }).waitFor({ timeout: T });
    await byPhone.waitFor({ state: "detached", timeout: T });
    check((await page.getByLabel(en.field_phone_optional).count()) === 0, "no phone asked for an anonymous contact");
    check((await page.getByLabel(en.field_full_name).count()) === 0, "no full name asked at first");
    await page.getByLabel(en.field_nickname, { exact: true }).fill("Red cap");
    await page.getByLabel(en.field_description, { exact: true }).fill("tall, red cap, skate park");
    await page.getByLabel("Where (optional)").fill("Skate park");
    await audited(I, "the new-contact form, anonymous");
    await shot(I, "identify-new-anonymous");
    await page.getByRole("button", { name: "Save contact" }).click();
    await page.getByRole("heading", { level: 1, name: "Red cap" }).waitFor({ timeout: T });
    const stage = section(I, en.stage_title);
    await stage.getByText(en.stage_says_anonymous).waitFor({ timeout: T });

    // Listed with its description, so the team knows who "Red cap" is.
    await nav(I, "Caseload");
    const row = page.getByRole("link", { name: /^Red cap · tall, red cap, skate park/ });
    await row.waitFor({ timeout: T });
    await shot(I, "identify-caseload");
    await row.click();
    await page.getByRole("heading", { level: 1, name: "Red cap" }).waitFor({ timeout: T });

    // A first name and a phone.
    await stage.getByRole("button", { name: en.stage_to_pseudonymous }).click();
    const name = page.getByLabel(en.field_display_name, { exact: true });
    check((await name.inputValue()) === "Red cap", "the nickname is offered as the name");
    await name.fill("Ruben");
    await page.getByLabel(en.field_phone_optional).fill("0470 12 34 56");
    // Before it is saved: the phone typed is the earlier contact's, so it is suggested,
    // with why and a link; a worker's device offers no merge but the hint.
    const suggested = stage.getByRole("region", { name: en.duplicates_new_title });
    const earlier = suggested.getByRole("listitem").filter({ hasText: EARLIER });
    await earlier.waitFor({ timeout: T });
    const why = await earlier.textContent();
    check(why.includes(en.duplicate_same_phone), `the suggestion says why: ${why}`);
    check((await earlier.getByRole("link", { name: EARLIER }).count()) === 1, "the suggestion links to the contact");
    check((await suggested.getByRole("button", { name: /^Merge/ }).count()) === 0, "a worker's device offers no merge");
    await suggested.getByText(en.duplicates_worker_hint).waitFor({ timeout: T });
    await shot(I, "identify-duplicates-first-name", stage);
    await stage.getByRole("button", { name: en.stage_save }).click();
    await page.getByRole("heading", { level: 1, name: "Ruben" }).waitFor({ timeout: T });
    await stage.getByText(en.stage_says_pseudonymous).waitFor({ timeout: T });
    check((await detail(I, en.field_phone)) === "0470 12 34 56", "the phone is kept");
    check((await detail(I, en.field_full_name)) === null, "no full name in Details before identification");

    // Identified needs consent: refused with the reason, and a link to the consent.
    await stage.getByRole("button", { name: en.stage_to_identified }).click();
    const refusal = stage.getByRole("alert");
    await refusal.getByText(en.stage_needs_consent).waitFor({ timeout: T });
    check((await page.getByLabel(en.field_full_name).count()) === 0, "no full name asked without consent");
    await shot(I, "identify-needs-consent", stage);
    await refusal.getByRole("link", { name: en.stage_consent_link }).click();
    const consent = section(I, "Consent");
    await page.waitForFunction(() => {
      const r = document.getElementById("consent").getBoundingClientRect();
      return r.top >= 0 && r.top < window.innerHeight;
    }, null, { timeout: T });
    await consent.getByRole("button", { name: "Consent given today" }).click();
    await consent.getByRole("button", { name: "Withdraw consent" }).waitFor({ timeout: T });

    // With consent: full name and date of birth; the form says the year is enough.
    await stage.getByRole("button", { name: en.stage_to_identified }).click();
    await page.getByLabel(en.field_full_name).fill("Ruben Verhoeven");
    await page.getByLabel(en.field_birth_date_optional).fill("2008-05-14");
    await stage.getByText(en.stage_birth_hint).waitFor({ timeout: T });
    check((await page.getByLabel(en.field_birth_year_optional).count()) === 1, "a year alone can be given instead");
    // The full name typed is the earlier contact's name, words swapped, no accent.
    await earlier.getByText(`${en.duplicate_same_phone} · ${en.duplicate_same_name}`).waitFor({ timeout: T });
    const self = decodeURIComponent(page.url().match(/contacts\/([^/?#]+)/)[1]);
    const own = await suggested.evaluate((box, self) => [...box.querySelectorAll("a")].filter((a) => decodeURIComponent(a.getAttribute("href")).endsWith(self)).length, self);
    check(own === 0, "the contact being identified is never suggested as its own duplicate");
    await audited(I, "the identify step with a suggestion");
    await shot(I, "identify-step", stage);
    await stage.getByRole("button", { name: en.stage_save }).click();
    await stage.getByText(en.stage_says_identified).waitFor({ timeout: T });
    check((await detail(I, en.field_full_name)) === "Ruben Verhoeven", "the full name is kept");
    check((await detail(I, en.field_birth_date)) === "14 May 2008", `the date of birth is shown: ${await detail(I, en.field_birth_date)}`);
    check((await detail(I, en.field_birth_year)) === null, "the date where known, not the year beside it");
    await shot(I, "identify-contact-birth-date", section(I, en.details_title));
    await waitState(I, "up-to-date");

    // Kept on the device: a reload offline shows it all, from the service worker and
    // IndexedDB.
    const url = page.url();
    await goOffline(I);
    await page.reload();
    check(page.url() === url, "the same page after the reload");
    await page.getByRole("heading", { level: 1, name: "Ruben" }).waitFor({ timeout: T });
    await stage.getByText(en.stage_says_identified).waitFor({ timeout: T });
    check((await detail(I, en.field_full_name)) === "Ruben Verhoeven", "the full name after a reload offline");
    check((await detail(I, en.field_phone)) === "0470 12 34 56", "the phone after a reload offline");
    check((await detail(I, en.field_birth_date)) === "14 May 2008", "the date of birth after a reload offline");

    // Back a stage (still offline): full name and date of birth leave the record, the
    // phone stays; the history says so.
    await stage.getByText(en.stage_down_title).click();
    await stage.getByRole("button", { name: en.stage_down_pseudonymous }).click();
    await stage.getByText(en.stage_says_pseudonymous).waitFor({ timeout: T });
    check((await detail(I, en.field_full_name)) === null, "no full name after stepping back");
    check((await detail(I, en.field_birth_date)) === null && (await detail(I, en.field_birth_year)) === null, "no date or year of birth after stepping back");
    check((await detail(I, en.field_phone)) === "0470 12 34 56", "the phone stays after stepping back");
    await page.getByRole("link", { name: "History" }).click();
    await page.getByText(`Identification: ${en.stage_pseudonymous}`).first().waitFor({ timeout: T });
    await page.getByText(`Identification: ${en.stage_identified}`).first().waitFor({ timeout: T });
    // The step back's change removed the date (and its year) from the record.
    await page.getByText(`${en.field_birth_date}: 14 May 2008 → —`).first().waitFor({ timeout: T });
    await page.getByText(`${en.field_birth_year}: 2008 → —`).first().waitFor({ timeout: T });
    await I.context.close();
  });

  scenario("identify: the new-contact form and the identify step in Hungarian", async () => {
    const H = await device("identify-H");
    await setUp(H, "Hanna");
    await waitState(H, "up-to-date");
    const { page } = H;
    await page.getByRole("combobox", { name: en.language_label, exact: true }).first().selectOption("hu");
    await page.waitForFunction(() => document.documentElement.lang === "hu", null, { timeout: T });
    await page.getByRole("link", { name: hu.nav_new_contact, exact: true }).click();
    await page.getByRole("radio", { name: hu.new_contact_stage_anonymous }).check();
    await page.getByLabel(hu.field_nickname, { exact: true }).fill("Zöld kapucni");
    await page.getByLabel(hu.field_description, { exact: true }).fill("alacsony, zöld kapucnis pulóver, buszmegálló");
    await shot(H, "identify-new-anonymous-hu");
    await page.getByRole("button", { name: hu.new_contact_save }).click();
    await page.getByRole("heading", { level: 1, name: "Zöld kapucni" }).waitFor({ timeout: T });
    const stage = section(H, hu.stage_title);
    await stage.getByRole("button", { name: hu.stage_to_pseudonymous }).click();
    await page.getByLabel(hu.field_display_name, { exact: true }).fill("Bence");
    await stage.getByRole("button", { name: hu.stage_save }).click();
    await page.getByRole("heading", { level: 1, name: "Bence" }).waitFor({ timeout: T });
    await stage.getByRole("button", { name: hu.stage_to_identified }).click();
    await stage.getByRole("alert").getByText(hu.stage_needs_consent).waitFor({ timeout: T });
    await shot(H, "identify-needs-consent-hu", stage);
    await stage.getByRole("link", { name: hu.stage_consent_link }).click();
    await section(H, hu.consent_title).getByRole("button", { name: hu.consent_give }).click();
    await section(H, hu.consent_title).getByRole("button", { name: hu.consent_withdraw }).waitFor({ timeout: T });
    await stage.getByRole("button", { name: hu.stage_to_identified }).click();
    await page.getByLabel(hu.field_full_name).fill("Kovács Bence");
    await shot(H, "identify-step-hu", stage);
    await stage.getByRole("button", { name: hu.stage_save }).click();
    await stage.getByText(hu.stage_says_identified).waitFor({ timeout: T });
    await H.context.close();
  });
}
