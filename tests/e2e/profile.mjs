// What a look at a browser profile on disk finds (erasure.mjs, lock.mjs).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Every file under `dir` holding `needle` as UTF-8 or UTF-16LE, with the count. */
export function occurrences(dir, needle) {
  const needles = [Buffer.from(needle, "utf8"), Buffer.from(needle, "utf16le")];
  const hits = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        let bytes;
        try {
          bytes = readFileSync(path);
        } catch {
          continue; // a socket or a file that vanished meanwhile
        }
        let count = 0;
        for (const n of needles) {
          for (let at = bytes.indexOf(n); at !== -1; at = bytes.indexOf(n, at + 1)) count++;
        }
        if (count) hits.push(`${path.slice(dir.length + 1)} (${count})`);
      }
    }
  };
  walk(dir);
  return hits;
}
