//! Sorting names the way each language's readers expect, and searching that ignores
//! case and accents.
//!
//! Sorting builds a key per name (primary letters, then accents, then case, then the
//! text itself so the order is total): German puts Ä with A, Ö with O, ß as ss
//! (DIN 5007-1); Hungarian has Cs, Dz, Dzs, Gy, Ly, Ny, Sz, Ty, Zs as letters of
//! their own after C, D, G, L, N, S, T, Z, Ö/Ő after O and Ü/Ű after U, with the
//! long accent after the short one; French and Dutch sort accented letters with
//! their base letter (ç with c, ĳ as i + j). Punctuation (O'Brien, Anne-Marie) is
//! ignored; a space sorts before any letter ("Anna B" before "Annabel").

use std::cmp::Ordering;

use super::Lang;

/// How to sort one name in one language; compare keys, not names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey {
    primary: Vec<u32>,
    secondary: Vec<u8>,
    tertiary: Vec<u8>,
    text: String,
}

/// Orders two names as `lang`'s readers expect.
pub fn compare(lang: Lang, a: &str, b: &str) -> Ordering {
    sort_key(lang, a).cmp(&sort_key(lang, b))
}

/// A character as letters without accents (`ß` is `ss`), with its accent's rank (0: none).
/// Accent ranks follow the order the languages sort them in: Hungarian ö (4) before ő (5).
fn decompose(c: char) -> (&'static str, u8) {
    match c {
        'à' => ("a", 2),
        'á' => ("a", 1),
        'â' => ("a", 3),
        'ã' => ("a", 6),
        'ä' => ("a", 4),
        'å' => ("a", 7),
        'ā' => ("a", 11),
        'ă' => ("a", 10),
        'ą' => ("a", 12),
        'ç' => ("c", 8),
        'ć' => ("c", 1),
        'č' => ("c", 9),
        'ĉ' => ("c", 3),
        'ċ' => ("c", 13),
        'ď' => ("d", 9),
        'đ' => ("d", 14),
        'è' => ("e", 2),
        'é' => ("e", 1),
        'ê' => ("e", 3),
        'ë' => ("e", 4),
        'ē' => ("e", 11),
        'ė' => ("e", 13),
        'ę' => ("e", 12),
        'ě' => ("e", 9),
        'ğ' => ("g", 10),
        'ì' => ("i", 2),
        'í' => ("i", 1),
        'î' => ("i", 3),
        'ï' => ("i", 4),
        'ī' => ("i", 11),
        'į' => ("i", 12),
        'ı' => ("i", 14),
        'ĺ' => ("l", 1),
        'ľ' => ("l", 9),
        'ł' => ("l", 14),
        'ñ' => ("n", 6),
        'ń' => ("n", 1),
        'ň' => ("n", 9),
        'ņ' => ("n", 8),
        'ò' => ("o", 2),
        'ó' => ("o", 1),
        'ô' => ("o", 3),
        'õ' => ("o", 6),
        'ö' => ("o", 4),
        'ø' => ("o", 14),
        'ō' => ("o", 11),
        'ő' => ("o", 5),
        'ŕ' => ("r", 1),
        'ř' => ("r", 9),
        'ś' => ("s", 1),
        'š' => ("s", 9),
        'ş' | 'ș' => ("s", 8),
        'ť' => ("t", 9),
        'ţ' | 'ț' => ("t", 8),
        'ù' => ("u", 2),
        'ú' => ("u", 1),
        'û' => ("u", 3),
        'ü' => ("u", 4),
        'ū' => ("u", 11),
        'ů' => ("u", 7),
        'ű' => ("u", 5),
        'ų' => ("u", 12),
        'ý' => ("y", 1),
        'ÿ' => ("y", 4),
        'ź' => ("z", 1),
        'ž' => ("z", 9),
        'ż' => ("z", 13),
        'ß' => ("ss", 0),
        'æ' => ("ae", 0),
        'œ' => ("oe", 0),
        'ĳ' => ("ij", 0),
        'þ' => ("th", 0),
        _ => ("", 0),
    }
}

/// Combining accents (text typed or pasted in decomposed form).
fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// A name for searching: lower case, accents dropped, `ß` as `ss`, `ĳ` as `ij`.
/// "Kőszeg" gives "koszeg", "Straße" "strasse", "Çelik" "celik".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if is_combining(c) {
            continue;
        }
        match decompose(c) {
            ("", _) => out.push(c),
            (base, _) => out.push_str(base),
        }
    }
    out
}

/// Whether `name` contains what was typed, ignoring case and accents in any language.
/// `query` is folded here; an empty query matches everything.
pub fn matches(folded_query: &str, name: &str) -> bool {
    folded_query.is_empty() || fold(name).contains(folded_query)
}

/// One letter for sorting: base letters, accent rank, upper case.
struct Letter {
    base: char,
    accent: u8,
    upper: bool,
}

fn letters(text: &str) -> Vec<Letter> {
    let mut out: Vec<Letter> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if is_combining(c) {
            // Decomposed input: the mark belongs to the letter before it.
            if let Some(last) = out.last_mut() {
                last.accent = match c {
                    '\u{301}' => 1,
                    '\u{300}' => 2,
                    '\u{302}' => 3,
                    '\u{308}' => 4,
                    '\u{30b}' => 5,
                    '\u{303}' => 6,
                    '\u{327}' => 8,
                    _ => 15,
                };
            }
            continue;
        }
        let upper = c.is_uppercase();
        for lower in c.to_lowercase() {
            match decompose(lower) {
                ("", _) => out.push(Letter {
                    base: lower,
                    accent: 0,
                    upper,
                }),
                (base, accent) => out.extend(base.chars().map(|b| Letter {
                    base: b,
                    accent,
                    upper,
                })),
            }
        }
    }
    out
}

/// Hungarian two- and three-letter letters: the letter they follow and their place after it.
const HU_DIGRAPHS: [(&str, u32); 9] = [
    ("cs", 5),
    ("dz", 3),
    ("dzs", 6),
    ("gy", 5),
    ("ly", 5),
    ("ny", 5),
    ("sz", 5),
    ("ty", 5),
    ("zs", 5),
];

fn letter_weight(c: char) -> Option<u32> {
    match c {
        'a'..='z' => Some(100 + (c as u32 - 'a' as u32) * 10),
        '0'..='9' => Some(10 + (c as u32 - '0' as u32)),
        _ => None,
    }
}

/// The Hungarian letter at the start of `rest` (bases only): its length in `rest`,
/// how many letters it counts as (a doubled "ssz" is two "sz"), and its weight.
fn hungarian_letter(rest: &[char]) -> Option<(usize, usize, u32)> {
    let at = |i: usize| rest.get(i).copied();
    for len in [3, 2] {
        for (graph, place) in HU_DIGRAPHS.iter().filter(|(g, _)| g.len() == len) {
            let g: Vec<char> = graph.chars().collect();
            let weight = letter_weight(g[0])? + place;
            if rest.starts_with(&g) {
                return Some((len, 1, weight));
            }
            // A long consonant doubles only the first letter: "ssz" = "sz" + "sz".
            if at(0) == Some(g[0]) && rest.get(1..).is_some_and(|r| r.starts_with(&g)) {
                return Some((len + 1, 2, weight));
            }
        }
    }
    None
}

/// The key that sorts `text` as `lang`'s readers expect.
pub fn sort_key(lang: Lang, text: &str) -> SortKey {
    let letters = letters(text);
    let bases: Vec<char> = letters.iter().map(|l| l.base).collect();
    let mut key = SortKey {
        primary: Vec::with_capacity(letters.len()),
        secondary: Vec::with_capacity(letters.len()),
        tertiary: Vec::with_capacity(letters.len()),
        text: text.to_owned(),
    };
    let mut i = 0;
    while i < letters.len() {
        let letter = &letters[i];
        if lang == Lang::Hu
            && let Some((len, count, weight)) = hungarian_letter(&bases[i..])
        {
            for _ in 0..count {
                key.primary.push(weight);
                key.secondary.push(0);
                key.tertiary.push(u8::from(letter.upper));
            }
            i += len;
            continue;
        }
        let weight = match (letter_weight(letter.base), letter.base) {
            // Hungarian ö/ő and ü/ű are letters of their own, after o and u.
            (Some(w), 'o' | 'u') if lang == Lang::Hu && matches!(letter.accent, 4 | 5) => {
                Some(w + 5)
            }
            (Some(w), _) => Some(w),
            (None, c) if c.is_whitespace() => Some(1),
            // Punctuation does not count: "O'Brien" sorts as "OBrien".
            (None, c) if !c.is_alphanumeric() => None,
            (None, c) => Some(1_000 + c as u32),
        };
        if let Some(weight) = weight {
            key.primary.push(weight);
            // Hungarian ö/ő: ő (the long one) after ö.
            let accent = if lang == Lang::Hu && weight % 10 == 5 {
                letter.accent.saturating_sub(4)
            } else {
                letter.accent
            };
            key.secondary.push(accent);
            key.tertiary.push(u8::from(letter.upper));
        }
        i += 1;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(lang: Lang, names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        names.sort_by_cached_key(|n| sort_key(lang, n));
        names
    }

    #[test]
    fn german_puts_umlauts_with_their_base_letter() {
        assert_eq!(
            sorted(
                Lang::De,
                &["Zoe", "Öl", "Bär", "Apfel", "Ober", "Äpfel", "Oz"]
            ),
            ["Apfel", "Äpfel", "Bär", "Ober", "Öl", "Oz", "Zoe"]
        );
        assert_eq!(compare(Lang::De, "Strasse", "Straße"), Ordering::Less);
        assert_eq!(
            sorted(
                Lang::De,
                &["Strassenbahn", "Straße", "Strassburg", "Strasse"]
            ),
            ["Strassburg", "Strasse", "Straße", "Strassenbahn"]
        );
    }

    #[test]
    fn hungarian_digraphs_are_letters_of_their_own() {
        assert_eq!(
            sorted(
                Lang::Hu,
                &[
                    "Csaba",
                    "Cukor",
                    "Dzsenifer",
                    "Dzurkó",
                    "Dávid",
                    "Gyula",
                    "Gusztáv",
                    "Zsófia",
                    "Zoltán"
                ]
            ),
            [
                "Cukor",
                "Csaba",
                "Dávid",
                "Dzurkó",
                "Dzsenifer",
                "Gusztáv",
                "Gyula",
                "Zoltán",
                "Zsófia"
            ]
        );
        assert_eq!(
            sorted(
                Lang::Hu,
                &[
                    "Nyitrai",
                    "Nógrádi",
                    "Lyukas",
                    "Lukács",
                    "Szabó",
                    "Sütő",
                    "Tyukodi",
                    "Tóth"
                ]
            ),
            [
                "Lukács",
                "Lyukas",
                "Nógrádi",
                "Nyitrai",
                "Sütő",
                "Szabó",
                "Tóth",
                "Tyukodi"
            ]
        );
    }

    #[test]
    fn hungarian_puts_o_umlaut_after_o_and_the_long_one_after_the_short() {
        assert_eq!(
            sorted(Lang::Hu, &["Papp", "Őt", "Ökrös", "Öt", "Orbán", "Óvári"]),
            ["Orbán", "Óvári", "Ökrös", "Öt", "Őt", "Papp"]
        );
        assert_eq!(compare(Lang::Hu, "Kovács", "Kőszeg"), Ordering::Less);
        assert_eq!(compare(Lang::De, "Kovács", "Kőszeg"), Ordering::Greater);
        assert_eq!(compare(Lang::Hu, "Ütő", "Uzsoki"), Ordering::Greater);
        assert_eq!(compare(Lang::Hu, "ű", "ü"), Ordering::Greater);
    }

    #[test]
    fn hungarian_long_consonants_count_twice() {
        // "asszony" is a-sz-sz-o-ny, "Dzsudzsák" starts with the letter dzs.
        let w = |c: char| letter_weight(c).unwrap_or_default();
        let (sz, ny) = (w('s') + 5, w('n') + 5);
        assert_eq!(
            sort_key(Lang::Hu, "asszony").primary,
            [w('a'), sz, sz, w('o'), ny]
        );
        assert_eq!(sort_key(Lang::Hu, "Dzsudzsák").primary[0], w('d') + 6);
        assert_eq!(compare(Lang::Hu, "Kossuth", "Koszorú"), Ordering::Less);
    }

    #[test]
    fn french_and_dutch_sort_accents_and_ij_with_the_base_letters() {
        assert_eq!(
            sorted(
                Lang::Fr,
                &[
                    "Fabrice", "Eric", "Élodie", "Emma", "Çelik", "Cyril", "Cédric"
                ]
            ),
            [
                "Cédric", "Çelik", "Cyril", "Élodie", "Emma", "Eric", "Fabrice"
            ]
        );
        assert_eq!(
            sorted(Lang::Nl, &["Iris", "IJsbrand", "Ilse", "Ĳzerman"]),
            ["IJsbrand", "Ĳzerman", "Ilse", "Iris"]
        );
    }

    #[test]
    fn spaces_come_first_punctuation_is_ignored_case_breaks_ties() {
        assert_eq!(
            sorted(
                Lang::En,
                &["Annabel", "Anna B", "O'Brien", "Obama", "anna b"]
            ),
            ["anna b", "Anna B", "Annabel", "Obama", "O'Brien"]
        );
    }

    #[test]
    fn decomposed_accents_sort_like_composed_ones() {
        assert_eq!(
            sort_key(Lang::Hu, "Ko\u{308}r").primary,
            sort_key(Lang::Hu, "Kör").primary
        );
        assert_eq!(fold("Ko\u{30b}szeg"), "koszeg");
    }

    #[test]
    fn search_ignores_case_and_accents_in_every_language() {
        assert_eq!(fold("Kőszeg"), "koszeg");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Çelik"), "celik");
        assert_eq!(fold("Ĳsselstein"), "ijsselstein");
        assert!(matches(&fold("koszeg"), "Kőszegi Anna"));
        assert!(matches(&fold("STRASSE"), "Hauptstraße 3"));
        assert!(matches(&fold("francois"), "François"));
        assert!(matches(&fold("muller"), "Müller"));
        assert!(matches(&fold("ÉVA"), "Kiss Éva"));
        assert!(matches("", "anything"));
        assert!(!matches(&fold("koszeg"), "Kossuth"));
    }
}
