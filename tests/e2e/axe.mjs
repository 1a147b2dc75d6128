// axe-core run in a page (injected through Playwright, so the app's CSP does not
// apply): the serious and critical violations, the minor ones, and the rules that
// passed, each violation worded with up to three of its elements.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** WCAG 2.2 AA and best practice on the page as it is now. */
export async function axeFindings(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    const worded = (v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`;
    const grave = (v) => v.impact === "serious" || v.impact === "critical";
    return {
      violations: result.violations.filter(grave).map(worded),
      minor: result.violations.filter((v) => !grave(v)).map(worded),
      passed: result.passes.map((p) => p.id),
    };
  });
}
