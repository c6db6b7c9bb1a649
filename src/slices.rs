//! Work spread over frames: a count moved on a step a frame, and with it
//! long lists drawn a slice a frame (the first slice at once, each next one
//! in the frame after), so that no one task draws thousands of rows and
//! every row is still on the page soon after.

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
    drawn_slices_up_to(Memo::new(move |_| all))
}

/// How many slices are drawn of a list shown `wanted` slices at a time
/// (more after each "Show more"): one at once, then one more each frame
/// until the wanted are, and on from there whenever more are wanted.
pub fn drawn_slices_up_to(wanted: Memo<usize>) -> ReadSignal<usize> {
    let drawn = RwSignal::new(wanted.get_untracked().min(1));
    Effect::new(move |before: Option<usize>| {
        let now = wanted.get();
        // A count still under way reads the new wanted in its next frame.
        let under_way = before.is_some_and(|before| drawn.get_untracked() < before);
        if !under_way {
            count_a_frame(drawn, move || wanted.get_untracked(), |_| {});
        }
        now
    });
    drawn.read_only()
}

/// Adds one to `count` in each frame until it reaches `last()` or its owner
/// is gone, telling `each` every new count.
pub fn count_a_frame(count: RwSignal<usize>, last: impl Fn() -> usize + Copy + 'static, each: fn(usize)) {
    if count.try_get_untracked().is_some_and(|now| now < last()) {
        count_in_next_frame(count, last, each);
    }
}

fn count_in_next_frame(count: RwSignal<usize>, last: impl Fn() -> usize + Copy + 'static, each: fn(usize)) {
    request_animation_frame(move || {
        let Some(now) = count.try_update(|count| {
            *count += 1;
            *count
        }) else {
            return;
        };
        each(now);
        if now < last() {
            count_in_next_frame(count, last, each);
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
