//! The workbook at 100,000 lines, natively: the emulator's data for the
//! bench's huge profile (2,000 customers), joined with its sales side and
//! compared with the window a month before, every column shown. The
//! samples are the workbook written again, the worklist kept.

use analysis::{Reading, Reply, Workspace};
use billing::{Endpoint, Format, lines::LineFilter, publisher::Publishers};
use criterion::{Criterion, criterion_group, criterion_main};
use vendor_sim::documents::DocumentKind;
use worker_protocol::{Answer, Column, DownloadFile, Question, Slot};

mod emulator;

use emulator::{document, documents};

fn open(workspace: &mut Workspace, slot: Slot, endpoint: Endpoint, bytes: &[u8]) {
    let mut reading = Reading::new(slot, emulator::request(endpoint, Format::Json), Publishers::default());
    reading.feed(bytes);
    workspace.open(reading).expect("the emulator's document opens");
}

fn workbook(criterion: &mut Criterion) {
    let documents = documents();
    let mut workspace = Workspace::new("en".to_owned());
    let purchases = document(&documents, DocumentKind::Purchase, Format::Json, "2025-03-01", "2026-11-24");
    open(&mut workspace, Slot::Main, Endpoint::Invoices, &purchases);
    let sales = document(&documents, DocumentKind::Sales, Format::Json, "2025-03-01", "2026-11-24");
    open(&mut workspace, Slot::OtherSide, Endpoint::CustomerInvoices, &sales);
    let earlier = document(&documents, DocumentKind::Purchase, Format::Json, "2025-02-01", "2026-10-24");
    open(&mut workspace, Slot::Earlier, Endpoint::Invoices, &earlier);
    let lines = match workspace.answer(&Question::Lines {
        filter: LineFilter::default(),
        sort: None,
        first: 0,
        count: 1,
        columns: vec![Column::Amount],
    }) {
        Ok(Reply { answer: Answer::Lines(window), .. }) => window.shown,
        _ => panic!("the lines of the document"),
    };
    let question = Question::Download {
        file: DownloadFile::Workbook {
            filter: LineFilter::default(),
            sort: Some((Column::Amount, true)),
            columns: Column::ALL.to_vec(),
            low_margin_percent: "10".to_owned(),
        },
    };
    let write = |workspace: &mut Workspace| match workspace.answer(&question) {
        Ok(Reply { file: Some(bytes), .. }) => bytes.len(),
        _ => panic!("a workbook"),
    };
    // The first workbook also finds the worklist, which is then kept.
    let started = std::time::Instant::now();
    let size = write(&mut workspace);
    let first = started.elapsed();
    println!(
        "workbook_100k: {lines} lines ({:.1} MB of JSON) make a workbook of {size} bytes ({:.1} MB); the first, with the worklist found, took {} ms",
        purchases.len() as f64 / 1e6,
        size as f64 / 1e6,
        first.as_millis()
    );
    let mut group = criterion.benchmark_group("workbook_100k");
    group.sample_size(10);
    group.bench_function("write", |bench| bench.iter(|| write(&mut workspace)));
    group.finish();
}

criterion_group!(benches, workbook);
criterion_main!(benches);
