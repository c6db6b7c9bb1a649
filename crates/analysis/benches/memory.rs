//! What the worker holds for the 100,087-line document, natively: the
//! bytes its allocations ask for once the document is read as the worker
//! reads a transfer (64 KiB chunks) and opened (the model, the line index,
//! the overview), beside the document's size, in JSON and in XML.
//! A counting allocator sees every allocation; the browser's allocator
//! adds its own bookkeeping on top, so the page's figure is a little higher.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
};

use analysis::{Reading, Workspace};
use billing::{Endpoint, Format, publisher::Publishers};
use vendor_sim::documents::DocumentKind;
use worker_protocol::Slot;

mod emulator;

struct Counting;

static HELD_BYTES: AtomicUsize = AtomicUsize::new(0);
static HELD_BLOCKS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        HELD_BLOCKS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's promises about `layout` are the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        HELD_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        HELD_BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD_BYTES.fetch_add(new_size, Ordering::Relaxed);
        HELD_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> (usize, usize) {
    (HELD_BYTES.load(Ordering::Relaxed), HELD_BLOCKS.load(Ordering::Relaxed))
}

fn main() {
    let documents = emulator::documents();
    for format in [Format::Json, Format::Xml] {
        let bytes =
            emulator::document(&documents, DocumentKind::Purchase, format, "2025-03-01", "2026-11-24");
        let (bytes_before, blocks_before) = held();
        let mut workspace = Workspace::new("en".to_owned());
        let mut reading =
            Reading::new(Slot::Main, emulator::request(Endpoint::Invoices, format), Publishers::default());
        for chunk in bytes.chunks(64 * 1024) {
            reading.feed(chunk);
        }
        workspace.open(reading).expect("the emulator's document opens");
        let (bytes_after, blocks_after) = held();
        let worker = bytes_after - bytes_before;
        println!(
            "memory: the worker holds the {:.1} MB {format:?} document ({} customers) in {:.1} MB, {:.2}× its size, in {} allocations",
            bytes.len() as f64 / 1e6,
            emulator::CUSTOMERS,
            worker as f64 / 1e6,
            worker as f64 / bytes.len() as f64,
            blocks_after - blocks_before,
        );
        drop(workspace);
    }
}
