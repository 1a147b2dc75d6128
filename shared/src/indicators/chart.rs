//! The geometry of the dashboard's SVG charts (no canvas), as plain numbers the
//! app puts into `<rect>`, `<polyline>` and `<line>` elements: the pathway funnel,
//! the monthly trend, and the inclusive-employer share against the goal. Labels
//! are the app's (the rows and numbers are given back, not words).

use super::{Indicators, Period, Row};
use crate::contact::Status;

/// The pathway's steps, in the funnel's order.
pub const FUNNEL: [Row; 5] = [
    Row::Reached,
    Row::Entered(Status::Engaged),
    Row::Entered(Status::InGuidance),
    Row::Entered(Status::InTraining),
    Row::Entered(Status::InWork),
];

/// A bar in chart units (SVG user space, y grows downwards).
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub row: Row,
    pub count: u64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The funnel: one centred bar per step, its width in proportion to the largest.
pub fn funnel(figures: &Indicators, width: f64, height: f64) -> Vec<Bar> {
    let counts: Vec<u64> = FUNNEL.iter().map(|r| figures.get(r).count).collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = height / FUNNEL.len() as f64;
    FUNNEL
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (row, count))| {
            let w = width * count as f64 / max;
            Bar {
                row: row.clone(),
                count,
                x: (width - w) / 2.0,
                y: i as f64 * step,
                width: w,
                height: step * 0.8,
            }
        })
        .collect()
}

/// The smallest 1, 2 or 5 times a power of ten at or above `n` (at least 1): the top
/// of a chart's scale, so its grid lines fall on round numbers.
pub fn nice_ceiling(n: u64) -> u64 {
    let mut power = 1u64;
    loop {
        for m in [1, 2, 5] {
            match power.checked_mul(m) {
                Some(top) if top >= n => return top,
                Some(_) => {}
                None => return u64::MAX,
            }
        }
        match power.checked_mul(10) {
            Some(p) => power = p,
            None => return u64::MAX,
        }
    }
}

/// One line of the trend: its row and its points (x, y), one per month.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub row: Row,
    pub points: Vec<(f64, f64)>,
}

impl Line {
    /// The points as an SVG `points` attribute ("x,y x,y …", one decimal).
    pub fn svg_points(&self) -> String {
        self.points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The monthly trend of some rows (e.g. reached and entered work), on one scale
/// from 0 (bottom) to [`nice_ceiling`] of the largest value (top); the months
/// spread evenly from x = 0 to `width`. Returns the lines and the scale's top.
pub fn trend(
    months: &[(Period, Indicators)],
    rows: &[Row],
    width: f64,
    height: f64,
) -> (Vec<Line>, u64) {
    let value = |f: &Indicators, r: &Row| f.get(r).count;
    let max = months
        .iter()
        .flat_map(|(_, f)| rows.iter().map(move |r| value(f, r)))
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(max);
    let dx = if months.len() > 1 {
        width / (months.len() - 1) as f64
    } else {
        0.0
    };
    let lines = rows
        .iter()
        .map(|row| Line {
            row: row.clone(),
            points: months
                .iter()
                .enumerate()
                .map(|(i, (_, f))| {
                    let y = height - height * value(f, row) as f64 / top as f64;
                    (i as f64 * dx, y)
                })
                .collect(),
        })
        .collect();
    (lines, top)
}

/// The share bar: the width filled by a share in tenths of a percent, and where the
/// goal's mark stands, on a bar `width` long.
pub fn share_bar(per_mille: u64, goal_percent: u32, width: f64) -> (f64, f64) {
    let filled = width * per_mille.min(1000) as f64 / 1000.0;
    let goal = width * f64::from(goal_percent.min(100)) / 100.0;
    (filled, goal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::DocumentId;

    fn figures(counts: &[(Row, u64)]) -> Indicators {
        let mut f = Indicators::default();
        for (row, n) in counts {
            for i in 0..*n {
                f.add(row.clone(), DocumentId::derived("chart", &i.to_string()), 1);
            }
        }
        f
    }

    #[test]
    fn scales_end_on_round_numbers() {
        let tops: Vec<u64> = [0, 1, 2, 3, 6, 10, 11, 49, 51, 200, 201, 9_999]
            .into_iter()
            .map(nice_ceiling)
            .collect();
        assert_eq!(tops, [1, 1, 2, 5, 10, 10, 20, 50, 100, 200, 500, 10_000]);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
    }

    #[test]
    fn funnel_bars_are_centred_and_in_proportion() {
        let f = figures(&[
            (Row::Reached, 40),
            (Row::Entered(Status::Engaged), 20),
            (Row::Entered(Status::InWork), 10),
        ]);
        let bars = funnel(&f, 400.0, 100.0);
        let shape: Vec<(u64, f64, f64, f64)> =
            bars.iter().map(|b| (b.count, b.x, b.y, b.width)).collect();
        assert_eq!(
            shape,
            [
                (40, 0.0, 0.0, 400.0),
                (20, 100.0, 20.0, 200.0),
                (0, 200.0, 40.0, 0.0),
                (0, 200.0, 60.0, 0.0),
                (10, 150.0, 80.0, 100.0),
            ]
        );
        assert!(
            funnel(&Indicators::default(), 400.0, 100.0)
                .iter()
                .all(|b| b.width == 0.0)
        );
    }

    #[test]
    fn trend_points_run_from_the_bottom_to_the_scale_top() {
        let month = |m| Period::Month {
            year: 2026,
            month: m,
        };
        let months = vec![
            (month(1), figures(&[(Row::Reached, 3)])),
            (
                month(2),
                figures(&[(Row::Reached, 7), (Row::Entered(Status::InWork), 1)]),
            ),
            (month(3), figures(&[])),
        ];
        let rows = [Row::Reached, Row::Entered(Status::InWork)];
        let (lines, top) = trend(&months, &rows, 200.0, 100.0);
        assert_eq!(top, 10);
        assert_eq!(lines[0].svg_points(), "0.0,70.0 100.0,30.0 200.0,100.0");
        assert_eq!(lines[1].svg_points(), "0.0,100.0 100.0,90.0 200.0,100.0");
        assert_eq!(share_bar(500, 50, 300.0), (150.0, 150.0));
        assert_eq!(share_bar(1_200, 150, 300.0), (300.0, 300.0));
    }
}
