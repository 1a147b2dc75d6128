// Privacy on the contact page (issue 15): a contact first met 15 days ago with no
// consent recorded is flagged to the worker (the notice goes once consent is given);
// one met today is not; a worker's device shows no "Erase" (a coordinator erasing
// through the button is in erasure.mjs, which has device tokens and roles).
// The consent form is audited by axe-core, filled (pact chosen) and once given.
// Screenshots (360×800): tests/artifacts/privacy-*.png.

import { axeFindings } from "./axe.mjs";

export function privacyScenarios(h) {
  const { scenario, device, setUp, waitState, nav, shot, check, T } = h;

  // A day as the date input takes it, `offset` days from today on the device.
  const isoDay = (d, offset) =>
    d.page.evaluate((offset) => {
      const t = new Date();
      t.setDate(t.getDate() + offset);
      return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, "0")}-${String(t.getDate()).padStart(2, "0")}`;
    }, offset);

  async function metOn(d, name, offset) {
    await nav(d, "+ Contact");
    await d.page.getByLabel("Name", { exact: true }).fill(name);
    await d.page.getByLabel("When").fill(await isoDay(d, offset));
    await d.page.getByRole("button", { name: "Save contact" }).click();
    await d.page.getByRole("heading", { level: 1, name }).waitFor({ timeout: T });
  }

  // axe-core on the page as it is: the rules that matter here ran and passed, and
  // no serious or critical violation.
  async function audited(d, what, rules) {
    const { violations, minor, passed } = await axeFindings(d.page);
    for (const rule of rules) check(passed.includes(rule), `axe on ${what}: rule ${rule} was not checked`);
    check(violations.length === 0, `axe on ${what}: ${violations.join("; ")}`);
    if (minor.length) console.log(`     axe on ${what}, minor: ${minor.join("; ")}`);
  }

  const flag = (d) => d.page.getByRole("status").filter({ hasText: /^No consent recorded, \d+ days after the first meeting/ });

  scenario("privacy: no consent 15 days after the first meeting is flagged; a worker sees no Erase", async () => {
    const W = await device("W");
    await setUp(W, "Wout");
    await waitState(W, "up-to-date");

    await metOn(W, "Fenna Today", 0);
    check((await flag(W).count()) === 0, "a contact met today must not be flagged");
    check((await W.page.getByRole("button", { name: /^Erase/ }).count()) === 0, "a worker's device must not offer Erase");
    check((await W.page.getByRole("heading", { name: "Erase this record" }).count()) === 0, "no erase section for a worker");

    await metOn(W, "Gijs Late", -15);
    await flag(W).waitFor({ timeout: T });
    const said = await flag(W).innerText();
    check(said.includes("15 days"), `the flag counts the days: ${said}`);
    await shot(W, "privacy-consent-flag");

    // The team only is chosen unless the worker shares it with the pact (issue 15).
    check(await W.page.getByRole("radio", { name: "Stored by our team only" }).isChecked(), "the team only by default");
    const pact = W.page.getByRole("radio", { name: "Shared with the partner organisations of the pact" });
    await pact.check();
    check(await pact.isChecked(), "the pact scope is chosen");
    await audited(W, "the consent form, filled", ["label", "button-name", "color-contrast", "target-size"]);
    await W.page.getByRole("button", { name: "Consent given today" }).click();
    await flag(W).waitFor({ state: "detached", timeout: T });
    const consent = W.page.getByRole("region", { name: "Consent" });
    await consent.getByText(/Shared with the partner organisations of the pact/).waitFor({ timeout: T });
    await audited(W, "a consent given", ["button-name", "color-contrast", "target-size"]);
    await W.context.close();
  });
}
