// How every browser script here launches Debian's Chromium: headless, quiet (no
// background traffic, updates or sync), and without QUIC so loopback stays simple.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];
