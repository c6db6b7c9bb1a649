//! Long lists drawn a slice a frame: the first slice at once, each next
//! one in the frame after, so that no one task draws thousands of rows
//! and every row is still on the page soon after.

use std::ops::Range;

use leptos::prelude::*;

/// Rows one frame draws. An invoice's row (ten cells, two attributes that
/// follow the selection) took about 0.45 ms to draw in the page's bench:
/// 150 at once held a frame for 67 ms; 30 leave most of a frame free.
pub const ROWS_A_FRAME: usize = 30;

/// The rows of slice `index` of `total`.
pub fn slice(index: usize, total: usize) -> Range<usize> {
    let start = (index * ROWS_A_FRAME).min(total);
    start..(start + ROWS_A_FRAME).min(total)
}

/// How many slices of `total` rows are drawn: one at once, then one more
/// each frame until all are, or until the list is gone.
pub fn drawn_slices(total: usize) -> ReadSignal<usize> {
    let all = total.div_ceil(ROWS_A_FRAME);
    let drawn = RwSignal::new(all.min(1));
    if all > 1 {
        draw_next(drawn, all);
    }
    drawn.read_only()
}

fn draw_next(drawn: RwSignal<usize>, all: usize) {
    request_animation_frame(move || {
        let now = drawn.try_update(|drawn| {
            *drawn += 1;
            *drawn
        });
        if now.is_some_and(|now| now < all) {
            draw_next(drawn, all);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slices_cover_every_row_once_in_order() {
        for total in [0, 1, ROWS_A_FRAME - 1, ROWS_A_FRAME, ROWS_A_FRAME + 1, 5 * ROWS_A_FRAME + 7] {
            let rows: Vec<usize> =
                (0..total.div_ceil(ROWS_A_FRAME)).flat_map(|index| slice(index, total)).collect();
            assert_eq!(rows, (0..total).collect::<Vec<_>>(), "{total} rows");
        }
        assert_eq!(slice(3, 2 * ROWS_A_FRAME), 2 * ROWS_A_FRAME..2 * ROWS_A_FRAME, "past the end: none");
    }
}
