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

/// Where a sync's time goes, by phase: main-thread milliseconds summed per phase since
/// the page started (decoding frames, the device core's Automerge work, …) and the wall
/// time an IndexedDB transaction was in flight. Published as `paktum:phase:NAME`
/// measures (start 0, duration the sum) by [`phase::publish`]; the browser benchmark's
/// trace mode puts them beside Chromium's own account of the main thread.
pub mod phase {
    use std::cell::RefCell;

    pub const DECODE: &str = "decode";
    pub const CORE: &str = "core";
    pub const QUEUE: &str = "queue";
    pub const NOTIFY: &str = "notify";
    pub const SEND: &str = "send";
    pub const STORE_WAIT: &str = "store-in-flight";

    thread_local! {
        static SUMS: RefCell<Vec<(&'static str, f64)>> = const { RefCell::new(Vec::new()) };
    }

    /// Adds the time since `started` (a [`super::now`]) to `phase`.
    pub fn add(phase: &'static str, started: f64) {
        let ms = super::now() - started;
        SUMS.with_borrow_mut(|sums| match sums.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, sum)) => *sum += ms,
            None => sums.push((phase, ms)),
        });
    }

    /// Runs `work`, adding its time to `phase`.
    pub fn time<T>(phase: &'static str, work: impl FnOnce() -> T) -> T {
        let started = super::now();
        let out = work();
        add(phase, started);
        out
    }

    /// One `paktum:phase:NAME` measure per phase with the sum so far as its duration.
    pub fn publish() {
        use wasm_bindgen::JsCast;
        let Some(p) = super::performance() else {
            return;
        };
        let Ok(measure) = js_sys::Reflect::get(&p, &"measure".into())
            .and_then(|f| f.dyn_into::<js_sys::Function>())
        else {
            return;
        };
        SUMS.with_borrow(|sums| {
            for (phase, ms) in sums {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"start".into(), &0.0.into());
                let _ = js_sys::Reflect::set(&options, &"duration".into(), &(*ms).into());
                let _ = measure.call2(&p, &format!("paktum:phase:{phase}").into(), &options);
            }
        });
    }
}
