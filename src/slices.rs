//! Work spread over frames: a count moved on a step a frame, and with it
//! long lists drawn a slice a frame (the first slice at once, each next one
//! in the frame after), so that no one task draws thousands of rows and
//! every row is still on the page soon after. The steps of every count, and
//! the other draws given here, take turns: one a frame, in the order given.

use std::{cell::RefCell, collections::VecDeque, ops::Range};

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
/// is gone, telling `each` every new count. Each step takes its turn among
/// the page's other draws ([`in_a_frame_of_its_own`]).
pub fn count_a_frame(count: RwSignal<usize>, last: impl Fn() -> usize + Copy + 'static, each: fn(usize)) {
    if count.try_get_untracked().is_some_and(|now| now < last()) {
        count_in_next_frame(count, last, each);
    }
}

fn count_in_next_frame(count: RwSignal<usize>, last: impl Fn() -> usize + Copy + 'static, each: fn(usize)) {
    in_a_frame_of_its_own(move || {
        let Some(now) = count.try_update(|count| {
            *count += 1;
            *count
        }) else {
            return false;
        };
        each(now);
        if now < last() {
            count_in_next_frame(count, last, each);
        }
        true
    });
}

thread_local! {
    static TURNS: RefCell<Turns> = RefCell::default();
}

/// Runs `draw` in a coming frame in which no other draw given here runs:
/// after every draw given before it, one a frame. The parts of an opened
/// document, their slices and its first rows each draw so, and none lands
/// in the frame of another. `draw` says whether it drew: one whose view
/// has gone meanwhile draws nothing and leaves its frame to the next.
pub fn in_a_frame_of_its_own(draw: impl FnOnce() -> bool + 'static) {
    if TURNS.with_borrow_mut(|turns| turns.push(Box::new(draw))) {
        request_animation_frame(draw_the_next);
    }
}

/// The view `draw` gives, drawn in a frame of its own
/// ([`in_a_frame_of_its_own`]) and never in the frame of the task that asks
/// for it (a worker's answer, say, with its own work to lay out): its turn
/// is given as the next frame begins. Nothing until then.
pub fn drawn_in_turn<V: IntoView + 'static>(draw: impl FnOnce() -> V + 'static) -> impl IntoView {
    let turn_come = RwSignal::new(false);
    let draw = StoredValue::new_local(Some(draw));
    request_animation_frame(move || in_a_frame_of_its_own(move || turn_come.try_set(true).is_none()));
    move || turn_come.get().then(|| draw.try_update_value(Option::take).flatten().map(|draw| draw()))
}

fn draw_the_next() {
    if TURNS.with(frame_came) {
        request_animation_frame(draw_the_next);
    }
}

/// The frame asked for has come: runs the draws waiting until one draws;
/// whether another frame must be asked for those left.
fn frame_came(turns: &RefCell<Turns>) -> bool {
    loop {
        // Not borrowed while it runs: it may give more.
        let Some(draw) = turns.borrow_mut().take() else { break };
        if draw() {
            break;
        }
    }
    turns.borrow_mut().another_frame()
}

/// Draws waiting for a frame of their own, in the order given.
#[derive(Default)]
struct Turns {
    waiting: VecDeque<Box<dyn FnOnce() -> bool>>,
    /// Whether a frame is asked for and has not come yet.
    frame_asked: bool,
}

impl Turns {
    /// Adds `draw`; whether a frame must be asked for it.
    fn push(&mut self, draw: Box<dyn FnOnce() -> bool>) -> bool {
        self.waiting.push_back(draw);
        self.another_frame()
    }

    /// The draw whose frame this is, the frame asked for having come.
    fn take(&mut self) -> Option<Box<dyn FnOnce() -> bool>> {
        self.frame_asked = false;
        self.waiting.pop_front()
    }

    /// Whether a frame must be asked for the draws still waiting.
    fn another_frame(&mut self) -> bool {
        let ask = !self.frame_asked && !self.waiting.is_empty();
        self.frame_asked |= ask;
        ask
    }
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

    /// Frames as the browser gives them: each asked-for frame runs the
    /// draws waiting until one draws, and they may give more.
    #[test]
    fn draws_take_a_frame_each_in_the_order_given_and_one_frame_is_asked_at_a_time() {
        use std::{cell::Cell, rc::Rc};
        type Draw = Box<dyn FnOnce() -> bool>;
        let turns = Rc::new(RefCell::new(Turns::default()));
        let drawn = Rc::new(RefCell::new(Vec::<(usize, &str)>::new()));
        let frames_asked = Rc::new(Cell::new(0));
        let frame = Rc::new(Cell::new(0));
        let give = {
            let (turns, frames_asked) = (turns.clone(), frames_asked.clone());
            move |draw: Draw| {
                if turns.borrow_mut().push(draw) {
                    frames_asked.set(frames_asked.get() + 1);
                }
            }
        };
        let draw = |name: &'static str| {
            let (drawn, frame, give) = (drawn.clone(), frame.clone(), give.clone());
            Box::new(move || {
                // A part whose view went before its turn draws nothing.
                if name == "gone" {
                    return false;
                }
                drawn.borrow_mut().push((frame.get(), name));
                // A part that gives its second half a frame of its own.
                if name == "lines" {
                    let (drawn, frame) = (drawn.clone(), frame.clone());
                    give(Box::new(move || {
                        drawn.borrow_mut().push((frame.get(), "lines' table"));
                        true
                    }));
                }
                true
            }) as Draw
        };
        for name in ["the first part", "lines", "gone", "charts", "gone"] {
            give(draw(name));
        }
        assert_eq!(frames_asked.get(), 1, "one frame asked while others wait");
        while frames_asked.get() > 0 {
            frames_asked.set(frames_asked.get() - 1);
            frame.set(frame.get() + 1);
            if frame_came(&turns) {
                frames_asked.set(frames_asked.get() + 1);
            }
            assert!(frames_asked.get() <= 1, "never two frames asked at once");
        }
        assert_eq!(
            *drawn.borrow(),
            [(1, "the first part"), (2, "lines"), (3, "charts"), (4, "lines' table")],
            "one draw a frame, each after those given before it, none for a view gone"
        );
        assert_eq!(frame.get(), 4);
    }
}
