//! Which of the lines the table asks the worker for as it scrolls: a
//! window a little larger than the view, asked again only once the rows
//! about to be shown are no longer in it. Pure, so it is tested natively.

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

#[cfg(test)]
mod tests {
    use super::*;

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
