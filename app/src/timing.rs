//! User Timing marks and measures (`performance.mark`/`measure`) at the moments that
//! matter to a worker: start-up phases and edits reaching the disk. DevTools shows
//! them; the browser benchmark (tests/bench/browser.mjs) reads them. Cheap, and silent
//! where the browser has no Performance API.

/// Marks a moment.
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// Measures from the latest mark `start` until now, as `name`.
pub fn measure(name: &str, start: &str) {
    if let Some(p) = performance() {
        let _ = p.measure_with_start_mark(name, start);
    }
}

/// Milliseconds since the page started, for slicing long work.
pub fn now() -> f64 {
    performance()
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}
