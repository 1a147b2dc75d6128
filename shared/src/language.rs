//! How the pact's languages (en, hu, nl, fr, de) write what the app shows and how
//! people of each language expect lists to sort and searches to match: plural
//! categories, dates, times and numbers written by hand (no ICU data in the bundle),
//! collation and search folding. Pure functions, tested natively.

mod calendar;
mod collation;

pub use calendar::{Due, day, day_and_time, due, grouped, written};
pub use collation::{SortKey, compare, fold, matches, sort_key};

/// A language the app is translated into. Anything else is written as English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Hu,
    Nl,
    Fr,
    De,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Hu, Lang::Nl, Lang::Fr, Lang::De];

    /// The language of a BCP 47 tag: `nl-BE` is Dutch, `de-AT` German; others English.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "hu" => Lang::Hu,
            "nl" => Lang::Nl,
            "fr" => Lang::Fr,
            "de" => Lang::De,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hu => "hu",
            Lang::Nl => "nl",
            Lang::Fr => "fr",
            Lang::De => "de",
        }
    }
}

/// The plural category a count takes (CLDR cardinal rules for whole numbers). All five
/// languages have just these two for the counts the app shows; Hungarian puts the
/// singular noun after every number ("3 nap"), so its two forms read alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plural {
    One,
    Other,
}

pub fn plural(lang: Lang, n: u64) -> Plural {
    let one = match lang {
        // French: "0 jour", "1 jour", "2 jours".
        Lang::Fr => n <= 1,
        Lang::En | Lang::Hu | Lang::Nl | Lang::De => n == 1,
    };
    if one { Plural::One } else { Plural::Other }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_the_language_and_anything_else_is_english() {
        assert_eq!(Lang::from_tag("nl-BE"), Lang::Nl);
        assert_eq!(Lang::from_tag("fr_BE"), Lang::Fr);
        assert_eq!(Lang::from_tag("DE"), Lang::De);
        assert_eq!(Lang::from_tag("hu"), Lang::Hu);
        assert_eq!(Lang::from_tag("pl-PL"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.code()), lang);
        }
    }

    #[test]
    fn french_counts_zero_as_one_the_others_only_one() {
        assert_eq!(plural(Lang::Fr, 0), Plural::One);
        assert_eq!(plural(Lang::Fr, 1), Plural::One);
        assert_eq!(plural(Lang::Fr, 2), Plural::Other);
        for lang in [Lang::En, Lang::Hu, Lang::Nl, Lang::De] {
            assert_eq!(plural(lang, 0), Plural::Other, "{lang:?}");
            assert_eq!(plural(lang, 1), Plural::One, "{lang:?}");
            assert_eq!(plural(lang, 2), Plural::Other, "{lang:?}");
            assert_eq!(plural(lang, 21), Plural::Other, "{lang:?}");
        }
    }
}
