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

/** A name found nowhere else: `length` random letters from the seed (mulberry32) after `prefix`. */
export function uniqueName(seed, prefix, length) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let s = prefix;
  for (let i = 0; i < length; i++) s += String.fromCharCode(97 + Math.floor(next() * 26));
  return s;
}
