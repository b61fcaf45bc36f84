//! Horizontal bar charts drawn server-side as SVG: the template draws what is computed here,
//! so the dashboard needs no JavaScript.

/// The width of a bar chart's drawing area, in SVG units.
const WIDTH: f64 = 360.0;

/// One bar.
pub(crate) struct Bar {
    /// What it counts.
    pub label: String,
    /// The value, as shown.
    pub value: String,
    /// Its length in SVG units.
    pub length: u32,
    /// Its top in SVG units.
    pub y: u32,
}

/// A bar chart.
pub(crate) struct Bars {
    /// Its title (also the SVG's accessible name).
    pub title: String,
    /// The bars, in order.
    pub bars: Vec<Bar>,
    /// The drawing's height.
    pub height: u32,
}

/// How tall a bar and its gap are.
const ROW: u32 = 28;

impl Bars {
    /// A chart of `rows` (label, value, shown value), scaled to the largest value.
    pub fn of(title: &str, rows: Vec<(String, f64, String)>) -> Self {
        let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
        let bars: Vec<Bar> = rows
            .into_iter()
            .zip(0u32..)
            .map(|((label, value, shown), i)| Bar {
                label,
                value: shown,
                // Lengths are bounded by WIDTH, so the cast cannot truncate meaningfully.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                length: if max > 0.0 {
                    ((value / max) * WIDTH).round().max(2.0) as u32
                } else {
                    0
                },
                y: i * ROW,
            })
            .collect();
        let height = u32::try_from(bars.len()).unwrap_or(0).max(1) * ROW;
        Self {
            title: title.to_string(),
            bars,
            height,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_value_fills_the_width() {
        let bars = Bars::of(
            "t",
            vec![("a".into(), 2.0, "2".into()), ("b".into(), 4.0, "4".into())],
        );
        assert_eq!(bars.bars[1].length, 360);
        assert_eq!(bars.bars[0].length, 180);
        assert_eq!(bars.bars[1].y, ROW);
    }

    #[test]
    fn nothing_to_draw_draws_nothing() {
        let bars = Bars::of("t", vec![("a".into(), 0.0, "0".into())]);
        assert_eq!(bars.bars[0].length, 0);
    }
}
