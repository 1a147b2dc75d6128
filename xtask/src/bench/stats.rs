//! The bench's statistics: medians over repeated runs, Paktum/reference ratios, and
//! whether a row meets its target.

/// The median of the finite values (a failed run's NaN is left out); `None` when no
/// run gave one. With an even count it is the upper of the two middle values: always
/// a figure some run measured, never an average of two.
pub(super) fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    Some(xs[xs.len() / 2])
}

/// Paktum / reference, when both were measured and the reference is not zero.
pub(super) fn ratio(paktum: Option<f64>, reference: Option<f64>) -> Option<f64> {
    match (paktum, reference) {
        (Some(p), Some(q)) if q != 0.0 => Some(p / q),
        _ => None,
    }
}

/// What a row must show to be "met".
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Target {
    /// Paktum / reference at least this (higher is better).
    RatioAtLeast(f64),
    /// Paktum / reference at most this (lower is better).
    RatioAtMost(f64),
    /// Paktum's value at most this.
    AtMost(f64),
}

impl Target {
    /// Whether the figures meet the target; `None` when a figure it needs is missing.
    /// A reference of zero makes the ratio infinite: met by "at least", not by "at most".
    pub(super) fn met(self, paktum: Option<f64>, reference: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtLeast(r) => Some(paktum? / reference? >= r),
            Target::RatioAtMost(r) => Some(paktum? / reference? <= r),
            Target::AtMost(v) => Some(paktum? <= v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_odd_count_is_the_middle_value() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![7.5]), Some(7.5));
    }

    #[test]
    fn median_of_an_even_count_is_the_upper_middle_value() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(median(vec![10.0, 20.0]), Some(20.0));
    }

    #[test]
    fn median_leaves_out_failed_runs() {
        assert_eq!(
            median(vec![f64::NAN, 5.0, f64::INFINITY, 1.0, 3.0]),
            Some(3.0)
        );
        assert_eq!(median(vec![f64::NAN, f64::NAN]), None);
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn ratio_needs_both_figures_and_a_nonzero_reference() {
        assert_eq!(ratio(Some(900.0), Some(100.0)), Some(9.0));
        assert_eq!(ratio(Some(25.0), Some(100.0)), Some(0.25));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
        assert_eq!(ratio(Some(1.0), None), None);
    }

    #[test]
    fn ratio_at_least_is_met_at_and_above_the_factor() {
        let t = Target::RatioAtLeast(5.0);
        assert_eq!(t.met(Some(500.0), Some(100.0)), Some(true));
        assert_eq!(t.met(Some(900.0), Some(100.0)), Some(true));
        assert_eq!(t.met(Some(499.0), Some(100.0)), Some(false));
        // A reference that moved nothing: Paktum is infinitely faster.
        assert_eq!(t.met(Some(1.0), Some(0.0)), Some(true));
    }

    #[test]
    fn ratio_at_most_is_met_at_and_below_the_factor() {
        let t = Target::RatioAtMost(0.25);
        assert_eq!(t.met(Some(25.0), Some(100.0)), Some(true));
        assert_eq!(t.met(Some(10.0), Some(100.0)), Some(true));
        assert_eq!(t.met(Some(26.0), Some(100.0)), Some(false));
        assert_eq!(t.met(Some(1.0), Some(0.0)), Some(false));
    }

    #[test]
    fn at_most_looks_at_paktum_alone() {
        let t = Target::AtMost(450.0);
        assert_eq!(t.met(Some(450.0), None), Some(true));
        assert_eq!(t.met(Some(450.1), None), Some(false));
        assert_eq!(t.met(Some(100.0), Some(1.0)), Some(true));
        // A failed measurement (NaN) never meets a target.
        assert_eq!(t.met(Some(f64::NAN), None), Some(false));
    }

    #[test]
    fn a_missing_figure_is_neither_met_nor_not_met() {
        assert_eq!(Target::AtMost(1.0).met(None, Some(1.0)), None);
        assert_eq!(Target::RatioAtLeast(5.0).met(Some(1.0), None), None);
        assert_eq!(Target::RatioAtMost(0.25).met(None, None), None);
    }
}
