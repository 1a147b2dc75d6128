//! Closed sets of values stored as fixed strings (statuses, channels, outcomes, …).

/// Declares an enum stored as fixed strings, from one list: the enum, `ALL` (every
/// value, in the order forms offer them), `as_str` (what is stored) and `FromStr`
/// (an unknown string is the given [`crate::error::ModelError`], never a panic).
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident unknown($s:ident) => $unknown:expr;
        { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            pub const ALL: [$name; $crate::words::stored_enum!(@count $($variant)+)] =
                [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ModelError;
            fn from_str($s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == $s)
                    .ok_or_else(|| $unknown)
            }
        }
    };
    (@count) => { 0usize };
    (@count $head:ident $($tail:ident)*) => { 1usize + $crate::words::stored_enum!(@count $($tail)*) };
}

pub(crate) use stored_enum;

/// The first 40 characters of an unknown value, for an error message.
pub(crate) fn shown(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use crate::contact::{Channel, Outcome, Status};
    use crate::employer::{Commitment, SizeBand};
    use crate::error::ModelError;

    fn round_trips<T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr>(
        all: &[T],
        text: fn(T) -> &'static str,
    ) {
        let mut seen = std::collections::HashSet::new();
        for v in all {
            assert!(seen.insert(text(*v)), "{} stored twice", text(*v));
            assert_eq!(text(*v).parse::<T>().ok(), Some(*v));
        }
    }

    #[test]
    fn every_value_reads_back_and_unknown_ones_are_errors() {
        round_trips(&Status::ALL, Status::as_str);
        round_trips(&Channel::ALL, Channel::as_str);
        round_trips(&Outcome::ALL, Outcome::as_str);
        round_trips(&Commitment::ALL, Commitment::as_str);
        round_trips(&SizeBand::ALL, SizeBand::as_str);
        use crate::contact::{Education, Gender, LabourStatus, ParticipantResult};
        round_trips(&LabourStatus::ALL, LabourStatus::as_str);
        round_trips(&Education::ALL, Education::as_str);
        round_trips(&Gender::ALL, Gender::as_str);
        round_trips(&ParticipantResult::ALL, ParticipantResult::as_str);
        assert_eq!(Status::ALL.len(), 6);
        let long = "x".repeat(100);
        assert!(matches!(
            long.parse::<Channel>(),
            Err(ModelError::Invalid { field: "channel", value }) if value.len() == 40
        ));
        assert!(matches!(
            "hired!".parse::<Status>(),
            Err(ModelError::UnknownStatus(v)) if v == "hired!"
        ));
    }
}
