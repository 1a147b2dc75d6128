//! The app's translation catalogues (`app/locales/*.json`) stay in step with English.
//!
//! `load_locales!` falls back to English for a missing key only with a warning, and
//! happily compiles a translation that drops `{{ count }}`; users would see English
//! or a sentence without its number. These tests make `cargo test -p xtask` (run by
//! `cargo xtask test`, hence CI) fail instead. Every `*.json` in the folder is
//! checked, so a new language is covered the day its file lands.
#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

const REFERENCE: &str = "en";

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../app")
}

/// Every catalogue in `dir`, by locale (file stem), parsed.
fn catalogues(dir: &Path) -> Result<BTreeMap<String, Value>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let locale = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .with_context(|| format!("a locale name from {}", path.display()))?
            .to_owned();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as JSON", path.display()))?;
        found.insert(locale, value);
    }
    Ok(found)
}

/// Flattens a catalogue into `key -> text`; nested objects (leptos_i18n subkeys)
/// become `outer.inner`. Anything but strings and objects is reported: the app
/// uses neither ranges nor other value kinds, and this check would not understand them.
fn flatten(
    value: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    match value {
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(inner, &path, out, problems);
            }
        }
        other => problems.push(format!("`{prefix}` is not a string or an object: {other}")),
    }
}

/// The variable names a text interpolates: `{{ count }}` and `{{ day, date }}` give
/// `count` and `day`. An unclosed `{{` is returned as-is so it shows up as a mismatch.
fn variables(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let inside = &after[..end];
                let name = inside.split(',').next().unwrap_or_default().trim();
                names.insert(name.to_owned());
                rest = &after[end + 2..];
            }
            None => {
                names.insert(format!("unclosed `{{{{{after}`"));
                break;
            }
        }
    }
    names
}

/// Everything wrong with `translation` (locale `locale`) measured against `reference`.
fn compare(reference: &Value, locale: &str, translation: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut want, mut have) = (BTreeMap::new(), BTreeMap::new());
    flatten(reference, "", &mut want, &mut problems);
    flatten(translation, "", &mut have, &mut problems);
    for key in want.keys().filter(|key| !have.contains_key(*key)) {
        problems.push(format!("{locale}: missing `{key}`"));
    }
    for key in have.keys().filter(|key| !want.contains_key(*key)) {
        problems.push(format!("{locale}: `{key}` is not in {REFERENCE}.json"));
    }
    for (key, text) in &have {
        if text.trim().is_empty() {
            problems.push(format!("{locale}: `{key}` is empty"));
        }
        if let Some(original) = want.get(key) {
            let (expected, got) = (variables(original), variables(text));
            if expected != got {
                problems.push(format!(
                    "{locale}: `{key}` interpolates {got:?}, {REFERENCE} interpolates {expected:?}"
                ));
            }
        }
    }
    problems
}

/// Plural forms (the app's scheme, see NOTES-ui.md): a key whose value is an object
/// of CLDR category names (`one`, `other`, …) is one message in several forms, picked
/// in Rust by `paktum_shared::language::plural`. The five languages use `one` and
/// `other` only, so a group must have both, nothing else, and every form must say
/// `{{ count }}` (French `one` covers 0 and 1, so "1" cannot be written into it).
fn plural_problems(value: &Value, locale: &str) -> Vec<String> {
    const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];
    let mut problems = Vec::new();
    let Value::Object(map) = value else {
        return problems;
    };
    for (key, inner) in map {
        let Value::Object(forms) = inner else {
            continue;
        };
        if !forms.keys().any(|k| CATEGORIES.contains(&k.as_str())) {
            problems.extend(plural_problems(inner, locale));
            continue;
        }
        let names: BTreeSet<&str> = forms.keys().map(String::as_str).collect();
        if names != BTreeSet::from(["one", "other"]) {
            problems.push(format!(
                "{locale}: plural `{key}` has forms {names:?}, the app picks `one` and `other`"
            ));
        }
        for (form, text) in forms {
            let says_count = text
                .as_str()
                .is_some_and(|t| variables(t).contains("count"));
            if !says_count {
                problems.push(format!(
                    "{locale}: `{key}.{form}` does not say {{{{ count }}}}"
                ));
            }
        }
    }
    problems
}

/// The `locales = [...]` list of `[package.metadata.leptos-i18n]` in the app's Cargo.toml.
fn registered_locales(cargo_toml: &str) -> Result<BTreeSet<String>> {
    let section = cargo_toml
        .split_once("[package.metadata.leptos-i18n]")
        .context("no [package.metadata.leptos-i18n] section")?
        .1;
    let line = section
        .lines()
        .find(|line| line.trim_start().starts_with("locales"))
        .context("no `locales = [...]` line in [package.metadata.leptos-i18n]")?;
    let list = line
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .context("`locales` is not a one-line array")?
        .0;
    Ok(list
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

fn all_problems(app: &Path) -> Result<Vec<String>> {
    let found = catalogues(&app.join("locales"))?;
    let Some(reference) = found.get(REFERENCE) else {
        bail!("no {REFERENCE}.json in {}", app.join("locales").display());
    };
    let mut problems = compare(reference, REFERENCE, reference);
    for (locale, translation) in found.iter().filter(|(locale, _)| *locale != REFERENCE) {
        problems.extend(compare(reference, locale, translation));
    }
    for (locale, catalogue) in &found {
        problems.extend(plural_problems(catalogue, locale));
    }
    let toml_path = app.join("Cargo.toml");
    let toml = std::fs::read_to_string(&toml_path)
        .with_context(|| format!("reading {}", toml_path.display()))?;
    let registered = registered_locales(&toml)?;
    let files: BTreeSet<String> = found.keys().cloned().collect();
    for locale in files.difference(&registered) {
        problems.push(format!(
            "{locale}.json exists but app/Cargo.toml's `locales` lacks \"{locale}\""
        ));
    }
    for locale in registered.difference(&files) {
        problems.push(format!(
            "app/Cargo.toml's `locales` lists \"{locale}\" but there is no {locale}.json"
        ));
    }
    Ok(problems)
}

#[test]
fn every_catalogue_matches_english() -> Result<()> {
    let problems = all_problems(&app_dir())?;
    assert!(
        problems.is_empty(),
        "translation catalogues out of step:\n{}",
        problems.join("\n")
    );
    Ok(())
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("test JSON")
}

#[test]
fn a_missing_an_extra_and_an_empty_key_are_reported() {
    let en = json(r#"{"a": "A", "b": "B"}"#);
    let problems = compare(&en, "xx", &json(r#"{"a": " ", "c": "C"}"#));
    assert_eq!(
        problems,
        [
            "xx: missing `b`",
            "xx: `c` is not in en.json",
            "xx: `a` is empty",
        ]
    );
}

#[test]
fn a_dropped_or_renamed_variable_is_reported() {
    let en = json(r#"{"n": "Waiting: {{ count }}", "d": "{{ done }} of {{ total }}"}"#);
    let dropped = compare(
        &en,
        "xx",
        &json(r#"{"n": "Wartend", "d": "{{done}}/{{ total }}"}"#),
    );
    assert_eq!(
        dropped,
        [r#"xx: `n` interpolates {}, en interpolates {"count"}"#]
    );
    let renamed = compare(
        &en,
        "xx",
        &json(r#"{"n": "{{ anzahl }}", "d": "{{ total }} {{ done }}"}"#),
    );
    assert_eq!(
        renamed,
        [r#"xx: `n` interpolates {"anzahl"}, en interpolates {"count"}"#]
    );
}

#[test]
fn a_plural_group_needs_one_and_other_and_the_count_in_each() {
    let ok = json(r#"{"due": {"one": "{{ count }} day", "other": "{{ count }} days"}, "x": "X"}"#);
    assert!(plural_problems(&ok, "xx").is_empty());
    let bad =
        json(r#"{"due": {"one": "1 day", "other": "{{ count }} days", "many": "{{ count }}"}}"#);
    assert_eq!(
        plural_problems(&bad, "xx"),
        [
            r#"xx: plural `due` has forms {"many", "one", "other"}, the app picks `one` and `other`"#,
            "xx: `due.one` does not say {{ count }}",
        ]
    );
}

#[test]
fn variables_ignore_spacing_and_formatters() {
    let names = variables("{{count}} on {{ day, date(date_length: short) }}, {{ unclosed");
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["count", "day", "unclosed `{{ unclosed`"]
    );
}

#[test]
fn registered_locales_are_read_from_the_metadata_section() -> Result<()> {
    let toml = "[package]\nname = \"x\"\n\n[package.metadata.leptos-i18n]\ndefault = \"en\"\nlocales = [\"en\", \"hu\"]\n";
    let found = registered_locales(toml)?;
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["en", "hu"]);
    Ok(())
}
