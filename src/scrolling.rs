//! Which of the lines the table asks the worker for as it scrolls: a
//! window a little larger than the view, asked again only once the rows
//! about to be shown are no longer in it; and which of those it shows.
//! Pure, so it is tested natively.

use std::ops::Range;

/// Rows are this tall (CSS keeps them so); only those in view are rendered.
/// Pixels are whole numbers, so no float is ever formatted.
pub const ROW_PIXELS: usize = 32;
/// The view's height as style/main.css sets it, in pixels of a 16-pixel
/// rem: 70 % of the window's height, within 20 and 48 rem.
pub fn viewport_pixels_in(window_pixels: usize) -> usize {
    const REM: usize = 16;
    (window_pixels * 70 / 100).clamp(20 * REM, 48 * REM)
}

/// Windows start at multiples of this many rows and reach this far beyond
/// the view on each side.
pub const BLOCK: usize = 30;
/// Rows rendered beyond the view on each side, of those the worker sent.
pub const OVERSCAN: usize = 8;

/// The first row and the number of rows to ask for, with `top` the first
/// row in view and `in_view` how many fit. The window asked before is kept
/// while it still holds the rows in view and their overscan, so a newly
/// measured view, a resize or a small scroll asks nothing.
pub fn window_to_ask(asked: Option<(usize, usize)>, top: usize, in_view: usize) -> (usize, usize) {
    let needed = (top.saturating_sub(OVERSCAN), top + in_view + OVERSCAN);
    match asked {
        Some((first, count)) if first <= needed.0 && needed.1 <= first + count => (first, count),
        _ => ((top / BLOCK).saturating_sub(1) * BLOCK, in_view + 3 * BLOCK),
    }
}

/// The rows the table shows, of the `shown` that pass the filter: those
/// in view and their overscan that are among the rows the worker `sent`
/// (none while a window far from the last one is on its way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowsShown {
    pub rows: Range<usize>,
    /// Rows above and below those, drawn as empty space of their height.
    pub above: usize,
    pub below: usize,
}

impl RowsShown {
    pub fn of(top: usize, in_view: usize, sent: Range<usize>, shown: usize) -> Self {
        let start = top.saturating_sub(OVERSCAN).clamp(sent.start, sent.end);
        let end = (top + in_view + OVERSCAN).clamp(start, sent.end);
        Self { rows: start..end, above: start, below: shown.saturating_sub(end) }
    }
}

/// The row elements a view of `in_view` rows keeps, of `shown` lines: its
/// rows and their overscan on both sides, each element reused for whichever
/// row is at its place as the view moves.
pub fn places(in_view: usize, shown: usize) -> usize {
    (in_view + 2 * OVERSCAN).min(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_is_most_of_the_window_within_its_bounds() {
        assert_eq!(viewport_pixels_in(900), 630);
        assert_eq!(viewport_pixels_in(300), 320, "never under 20 rem");
        assert_eq!(viewport_pixels_in(2000), 768, "never over 48 rem");
        assert_eq!(viewport_pixels_in(0), 320, "a window not measured");
    }

    #[test]
    fn the_rows_shown_are_the_view_and_its_overscan_among_those_sent() {
        let shown = RowsShown::of(100, 15, 60..165, 1_000);
        assert_eq!(shown, RowsShown { rows: 92..123, above: 92, below: 877 });
        assert!(shown.rows.len() <= places(15, 1_000));
        assert_eq!(
            RowsShown::of(0, 15, 0..3, 3),
            RowsShown { rows: 0..3, above: 0, below: 0 },
            "a short table"
        );
        let last = RowsShown::of(990, 15, 960..1_000, 1_000);
        assert_eq!(last, RowsShown { rows: 982..1_000, above: 982, below: 0 }, "the end of the table");
    }

    #[test]
    fn a_view_beyond_the_rows_sent_shows_none_until_its_window_comes() {
        let waiting = RowsShown::of(5_000, 15, 60..165, 10_000);
        assert!(waiting.rows.is_empty(), "{waiting:?}");
        assert_eq!(waiting.above + waiting.below, 10_000, "the table keeps its height, so the scroll stays");
    }

    #[test]
    fn the_places_are_the_view_and_its_overscan_at_most_the_lines() {
        assert_eq!(places(15, 100_000), 15 + 2 * OVERSCAN);
        assert_eq!(places(15, 3), 3);
        assert_eq!(places(15, 0), 0);
    }

    #[test]
    fn the_first_window_reaches_a_block_beyond_the_view() {
        assert_eq!(window_to_ask(None, 0, 15), (0, 105));
        assert_eq!(window_to_ask(None, 100, 15), (60, 105));
    }

    #[test]
    fn a_window_that_still_holds_the_view_is_kept() {
        let first = window_to_ask(None, 0, 15);
        assert_eq!(window_to_ask(Some(first), 0, 17), first, "a view measured a little taller");
        assert_eq!(window_to_ask(Some(first), 40, 15), first, "a scroll within the window");
        assert_eq!(window_to_ask(Some(first), 82, 15), first, "its last rows in view, with overscan");
    }

    #[test]
    fn a_view_leaving_the_window_asks_for_one_around_it() {
        let first = window_to_ask(None, 0, 15);
        let next = window_to_ask(Some(first), 83, 15);
        assert_eq!(next, (30, 105));
        let (start, count) = next;
        assert!(start + OVERSCAN <= 83 && 83 + 15 + OVERSCAN <= start + count);
        assert_eq!(window_to_ask(Some(first), 0, 200), (0, 290), "a much taller view");
    }
}
