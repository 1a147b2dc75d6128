//! The invariants ARCHITECTURE.md states about the code's shape, checked on the source
//! files (a test each, run by `cargo test -p xtask`): who may touch IndexedDB and the
//! WebSocket, that `shared` has no import circle, and that no file outgrows a reader.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace")
            .to_path_buf()
    }

    /// Every `.rs` file under `dir`, relative to the workspace root.
    fn sources(dir: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![root().join(dir)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("readable source");
                    let rel = path
                        .strip_prefix(root())
                        .expect("under the root")
                        .to_string_lossy()
                        .into_owned();
                    out.push((rel, text));
                }
            }
        }
        out.sort();
        out
    }

    /// The files of `dir` that mention `needle` outside comments, but for those whose
    /// path starts with one of `allowed`.
    fn offenders(dir: &str, needle: &str, allowed: &[&str]) -> Vec<String> {
        sources(dir)
            .into_iter()
            .filter(|(path, _)| !allowed.iter().any(|a| path.starts_with(a)))
            .filter(|(_, text)| {
                text.lines()
                    .map(str::trim_start)
                    .filter(|l| !l.starts_with("//"))
                    .any(|l| l.contains(needle))
            })
            .map(|(path, _)| path)
            .collect()
    }

    #[test]
    fn only_the_store_touches_indexeddb() {
        let found = offenders("app/src", "rexie", &["app/src/store.rs", "app/src/store/"]);
        assert!(
            found.is_empty(),
            "rexie used outside app/src/store: {found:?}"
        );
    }

    #[test]
    fn only_sync_touches_the_websocket() {
        let found = offenders(
            "app/src",
            "WebSocket",
            &["app/src/sync.rs", "app/src/sync/"],
        );
        assert!(
            found.is_empty(),
            "WebSocket used outside app/src/sync: {found:?}"
        );
    }

    #[test]
    fn the_shared_core_does_no_io() {
        for needle in [
            "web_sys",
            "js_sys",
            "std::fs",
            "std::net",
            "tokio",
            "Instant::now",
        ] {
            let found = offenders("shared/src", needle, &[]);
            assert!(found.is_empty(), "{needle} in shared: {found:?}");
        }
    }

    #[test]
    fn automerge_reads_bytes_only_through_the_untrusted_door() {
        for dir in ["shared/src", "sync-server/src", "app/src"] {
            for needle in [
                "Automerge::load(",
                ".load_incremental(",
                "sync::Message::decode(",
                "sync::State::decode(",
            ] {
                let found: Vec<String> = offenders(
                    dir,
                    needle,
                    // The in-memory relay for tests is built only for tests.
                    &["shared/src/untrusted.rs", "shared/src/testing.rs"],
                )
                .into_iter()
                // Tests may load what they just wrote.
                .filter(|path| {
                    let text = std::fs::read_to_string(root().join(path)).unwrap_or_default();
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    code.lines()
                        .map(str::trim_start)
                        .filter(|l| !l.starts_with("//"))
                        .any(|l| l.contains(needle) && !l.contains("protocol::Message"))
                })
                .filter(|path| !path.ends_with("tests.rs"))
                .collect();
                assert!(found.is_empty(), "{needle} outside untrusted: {found:?}");
            }
        }
    }

    /// `crate::<module>` references of each top-level module of `shared`.
    fn shared_imports() -> BTreeMap<String, BTreeSet<String>> {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, text) in sources("shared/src") {
            let rel = path.trim_start_matches("shared/src/");
            let module = rel.split(['/', '.']).next().unwrap_or_default().to_string();
            if module == "lib" {
                continue;
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let deps = graph.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name != module && !name.is_empty() && name.chars().all(|c| !c.is_uppercase()) {
                    deps.insert(name);
                }
            }
        }
        graph
    }

    #[test]
    fn shared_has_no_import_circle() {
        let graph = shared_imports();
        assert!(
            graph.get("contact").is_some_and(|d| d.contains("record")),
            "the scan sees imports: {graph:?}"
        );
        // Depth-first search for a back edge.
        fn visit<'a>(
            node: &'a str,
            graph: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|n| *n == node) {
                let mut circle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
                circle.push(node.to_string());
                return Some(circle);
            }
            if !done.insert(node) {
                return None;
            }
            path.push(node);
            for dep in graph.get(node).into_iter().flatten() {
                if let Some(circle) = visit(dep, graph, path, done) {
                    return Some(circle);
                }
            }
            path.pop();
            None
        }
        let mut done = BTreeSet::new();
        for node in graph.keys() {
            let circle = visit(node, &graph, &mut Vec::new(), &mut done);
            assert!(circle.is_none(), "import circle in shared: {circle:?}");
        }
    }

    #[test]
    fn no_source_file_outside_tests_is_over_700_lines() {
        let mut long = Vec::new();
        for dir in ["shared/src", "app/src", "sync-server/src", "xtask/src"] {
            for (path, text) in sources(dir) {
                let lines = text.lines().count();
                if lines > 700 && !path.ends_with("tests.rs") {
                    long.push(format!("{path}: {lines}"));
                }
            }
        }
        assert!(long.is_empty(), "over 700 lines: {long:?}");
    }
}
