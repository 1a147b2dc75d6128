use super::*;

fn id(n: u8) -> DocumentId {
    DocumentId::from_slice(&[n; 16]).expect("16 bytes")
}

fn person(n: u8, name: &str) -> Person {
    Person {
        id: Some(id(n)),
        display_name: name.into(),
        ..Person::default()
    }
}

fn probe(name: &str) -> Person {
    Person {
        display_name: name.into(),
        ..Person::default()
    }
}

#[test]
fn word_order_case_and_accents_make_the_same_name() {
    let caseload = Caseload::new(&[person(1, "Kovács Anna"), person(2, "Nagy Péter")]);
    let found = caseload.find(&probe("anna KOVACS"), 10);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, id(1));
    assert_eq!(found[0].reasons, vec![Reason::SameName]);
    for name in ["Straße Jörg", "jorg strasse", "JÖRG STRASSE"] {
        let c = Caseload::new(&[person(3, "Jörg Straße")]);
        assert_eq!(c.find(&probe(name), 10)[0].reasons, vec![Reason::SameName]);
    }
    // French, Dutch and Hungarian long accents.
    let c = Caseload::new(&[person(4, "Hélène Çelik"), person(5, "Őrsi Zsűrné")]);
    assert_eq!(c.find(&probe("celik helene"), 10)[0].id, id(4));
    assert_eq!(c.find(&probe("zsurne orsi"), 10)[0].id, id(5));
}

#[test]
fn one_typo_per_word_is_a_similar_name_and_short_words_must_match() {
    let c = Caseload::new(&[person(1, "Anna Kovács")]);
    for typo in ["Ana Kovacs", "Anna Kovasc", "Anna Kovach", "Anna Kovacsz"] {
        let found = c.find(&probe(typo), 10);
        let expected = if typo.starts_with("Ana ") {
            // "ana" has 3 letters: no typo allowed there, and no part matches.
            vec![]
        } else {
            vec![Reason::SimilarName]
        };
        assert_eq!(
            found.first().map(|f| f.reasons.clone()).unwrap_or_default(),
            expected,
            "{typo}"
        );
    }
    // Three words against two: only a part match counts, which "kovats" is not.
    assert!(c.find(&probe("Anna Kovats Bela"), 10).is_empty());
    assert!(
        c.find(&probe("Anna Kovács Béla"), 10).is_empty(),
        "a part alone"
    );
    assert!(
        c.find(&probe("Anna Lovasz"), 10).is_empty(),
        "two typos in a word"
    );
}

#[test]
fn a_first_name_alone_needs_more_than_the_name() {
    let mut anna = person(1, "Anna Kovács");
    anna.birth_year = Some(2007);
    anna.municipality = Some("Kőszeg".into());
    let c = Caseload::new(&[anna]);
    assert!(c.find(&probe("Anna"), 10).is_empty(), "a first name alone");
    let mut more = probe("Anna");
    more.birth_year = Some(2007);
    let found = c.find(&more, 10);
    assert_eq!(
        found[0].reasons,
        vec![Reason::PartOfName, Reason::SameBirthYear]
    );
    more.municipality = Some("koszeg".into());
    assert_eq!(
        c.find(&more, 10)[0].reasons,
        vec![
            Reason::PartOfName,
            Reason::SameBirthYear,
            Reason::SameMunicipality
        ]
    );
    // Another birth year counts against: a common name born another year is another
    // person (60 - 30), unless something else agrees too.
    let mut other_year = probe("anna kovacs");
    other_year.birth_year = Some(1999);
    assert!(c.find(&other_year, 10).is_empty());
    other_year.municipality = Some("Kőszeg".into());
    assert_eq!(c.find(&other_year, 10)[0].score, 60 + 10 - 30);
    other_year.display_name = "Anna".into();
    assert!(c.find(&other_year, 10).is_empty());
}

#[test]
fn the_full_name_counts_as_well_as_the_display_name() {
    let mut skater = person(1, "Red cap");
    skater.full_name = Some("Bálint Szabó".into());
    let c = Caseload::new(&[skater]);
    let found = c.find(&probe("Szabo Balint"), 10);
    assert_eq!(found[0].reasons, vec![Reason::SameName]);
}

#[test]
fn the_same_phone_written_another_way_is_enough() {
    assert_eq!(
        national_number("+36 30 123 4567").as_deref(),
        Some("301234567")
    );
    assert_eq!(
        national_number("06 30 123 4567").as_deref(),
        Some("301234567")
    );
    assert_eq!(
        national_number("0036-30-123-4567").as_deref(),
        Some("301234567")
    );
    assert_eq!(
        national_number("0470 12 34 56").as_deref(),
        Some("470123456")
    );
    assert_eq!(
        national_number("+32 470 12 34 56").as_deref(),
        Some("470123456")
    );
    assert_eq!(
        national_number("+49 151 1234 5678").as_deref(),
        Some("15112345678")
    );
    assert_eq!(
        national_number("0151 1234 5678").as_deref(),
        Some("15112345678")
    );
    // A Belgian landline starting 06 keeps its 6.
    assert_eq!(national_number("065 12 34 56").as_deref(), Some("65123456"));
    assert_eq!(national_number("112"), None);
    let mut known = person(1, "Kovács Anna");
    known.phone = Some("06 30 123 4567".into());
    let c = Caseload::new(&[known]);
    let mut typed = probe("Nickname");
    typed.phone = Some("+36301234567".into());
    let found = c.find(&typed, 10);
    assert_eq!(found[0].reasons, vec![Reason::SamePhone]);
}

#[test]
fn the_probe_is_left_out_and_the_best_comes_first() {
    let mut a = person(1, "Anna Kovács");
    a.birth_year = Some(2007);
    let b = person(2, "Kovacs Anna");
    let c = person(3, "Anna Kovach");
    let caseload = Caseload::new(&[a.clone(), b, c]);
    let found = caseload.find(&a, 10);
    let ids: Vec<_> = found.iter().map(|f| f.id).collect();
    assert_eq!(ids, vec![id(2), id(3)]);
    assert_eq!(caseload.find(&a, 1).len(), 1);
    assert!(caseload.find(&probe("  "), 10).is_empty());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn accented(word: &str, mask: u32) -> String {
        word.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask & (1 << (i % 32)) == 0 {
                    return c;
                }
                match c {
                    'a' => 'á',
                    'e' => 'é',
                    'o' => 'ő',
                    'u' => 'ű',
                    'i' => 'í',
                    'c' => 'ç',
                    _ => c.to_ascii_uppercase(),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Word order, accents and case never change a candidate's score or reasons.
        #[test]
        fn order_and_accents_never_change_the_score(
            words in prop::collection::vec("[a-z]{2,8}", 1..4),
            others in prop::collection::vec(prop::collection::vec("[a-z]{2,8}", 1..4), 1..6),
            mask in any::<u32>(),
            rotate in 0usize..4,
            year in prop::option::of(2000i64..2010),
        ) {
            let mut caseload: Vec<Person> = others
                .iter()
                .enumerate()
                .map(|(i, w)| Person { birth_year: year, ..person(i as u8 + 1, &w.join(" ")) })
                .collect();
            caseload.push(person(99, &words.join(" ")));
            let caseload = Caseload::new(&caseload);
            let plain = Person { birth_year: year, ..probe(&words.join(" ")) };
            let mut turned = words.clone();
            let n = turned.len();
            turned.rotate_left(rotate % n);
            let turned: Vec<String> = turned.iter().map(|w| accented(w, mask)).collect();
            let changed = Person { birth_year: year, ..probe(&turned.join("  ")) };
            let a = caseload.find(&plain, 100);
            let b = caseload.find(&changed, 100);
            prop_assert_eq!(&a, &b);
            prop_assert!(a.iter().any(|c| c.id == id(99) && c.reasons.contains(&Reason::SameName)));
        }
    }
}
