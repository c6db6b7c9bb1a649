//! Parse throughput on a document of at least 50 MB, XML and JSON, each
//! beside its floor over the same bytes: the bare quick-xml event loop, and
//! serde_json into `IgnoredAny`. A model is freed outside the timing: the
//! floors free nothing, and freeing a document is not reading it.
//! `cargo xtask bench` reads the results and
//! prints MB/s and the ratio to the floor. A second group times the lines
//! table's index, search, sort and grouping at 100,000 lines.

use billing::{
    Format, InvoiceDocument, charts, json,
    lines::{GroupBy, LineFilter, LineTable, SortColumn},
    model::{Customer, Header, Invoice, PriceLine, Receiver, Sender, Subscription, Totals},
    scalars::Id,
    streaming::InvoiceStream,
    xml,
};
use std::sync::Arc;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

/// The relay reads archived documents natively for its runs, on mimalloc:
/// the reader is timed on the allocator it runs on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AT_LEAST_BYTES: usize = 50 * 1024 * 1024;
const CHARGE_TYPES: [&str; 6] =
    ["Purchase Fee", "Cycle Fee", "Correction", "Usage Fee", "One Time Fee", "Item Fee"];

/// A synthetic but vendor-shaped invoice: every line field filled, amounts
/// with cents, a correction now and then.
fn invoice(number: u64) -> Invoice {
    let date = NaiveDate::from_ymd_opt(2026, 1, 23).expect("a real date");
    let customers = (0..20)
        .map(|customer| {
            let subscriptions = (0..5)
                .map(|subscription| {
                    let price_lines = (0..10u64)
                        .map(|line| {
                            let seed = number * 1000 + customer * 50 + subscription * 10 + line;
                            let charge_type = CHARGE_TYPES[(seed % 6) as usize];
                            let sign = if charge_type == "Correction" { -1 } else { 1 };
                            let quantity = Decimal::from(1 + seed % 40);
                            let unit_price = Decimal::new(sign * (150 + (seed * 37 % 9000) as i64), 2);
                            let extended_price = quantity * unit_price;
                            PriceLine {
                                line_id: Some(Id::Number(line + 1)),
                                uid: Some(format!("{seed:016x}").into()),
                                description: Some(
                                    format!("Licence {line} of subscription {subscription}").into(),
                                ),
                                quantity: Some(quantity),
                                quantity_type: Some("Licenses".into()),
                                unit_price: Some(unit_price),
                                discount: Some(Decimal::ZERO),
                                duration: Some(Decimal::ONE),
                                duration_type: Some("Month".into()),
                                billing_frequency: Some("Monthly".into()),
                                extended_price: Some(extended_price),
                                vat: Some((extended_price * Decimal::new(21, 2)).round_dp(2)),
                                tax_percentage: Some(Decimal::from(21)),
                                tax_zone_id: Some(Id::Number(1)),
                                start_date: Some(date),
                                end_date: Some(date),
                                sku: Some(format!("CFQ7TTC0{:04}:0001", seed % 9999).into()),
                                consumer_company_name: Some(format!("Klant {customer} B.V.").into()),
                                consumer_company_number: Some(Id::Number(7000 + customer)),
                                rate_period_id: Some(Id::Number(seed % 12)),
                                sub_po_number: None,
                                charge_type: Some(charge_type.into()),
                                invoice_row_hash: Some(
                                    format!("{:032x}", u128::from(seed) * 0x9e37_79b9_7f4a_7c15).into(),
                                ),
                                ..PriceLine::default()
                            }
                        })
                        .collect();
                    Subscription {
                        subscription_id: Some(Id::Number(90_000 + subscription)),
                        subscription_name: Some("Microsoft 365 Business Standard".into()),
                        start_date: Some(date),
                        price_lines,
                        ..Subscription::default()
                    }
                })
                .collect();
            Customer {
                account_id: Some(Id::Number(7000 + customer)),
                customer_number: Some(Id::Number(7000 + customer)),
                company_name: Some(format!("Klant {customer} B.V.").into()),
                cost_center: Some("IT".into()),
                customer_cost_center: None,
                subscriptions,
            }
        })
        .collect();
    Invoice {
        header: Header {
            invoice_id: Some(Id::Number(20_260_000 + number)),
            date: Some(date),
            currency: Some("EUR".into()),
            ..Header::default()
        },
        sender: Sender { company_name: Some("Distributor B.V.".into()), ..Sender::default() },
        receiver: Receiver { company_name: Some("Reseller & Zonen B.V.".into()), ..Receiver::default() },
        customers,
        totals: Totals::default(),
    }
}

/// Subscriptions of several publishers, as a reseller's are: one named by
/// its first word, one further in, one by a product, and two by nothing.
const SUBSCRIPTION_NAMES: [&str; 5] = [
    "Microsoft 365 Business Standard",
    "Cyber Protect Cloud by Acronis",
    "Exchange Online (Plan 1)",
    "Hosted telephony seat",
    "Private cloud storage, per GB",
];

fn many_publishers(mut invoice: Invoice) -> Invoice {
    let subscriptions = invoice.customers.iter_mut().flat_map(|customer| &mut customer.subscriptions);
    for (subscription, name) in subscriptions.zip(SUBSCRIPTION_NAMES.iter().cycle()) {
        subscription.subscription_name = Some((*name).into());
    }
    invoice
}

/// Enough invoices that the smaller of the two formats, JSON, passes the size.
fn document() -> InvoiceDocument {
    let mut document = InvoiceDocument::default();
    let per_invoice = json::write_invoices(&InvoiceDocument { invoices: vec![invoice(0)] }).len();
    let count = AT_LEAST_BYTES.div_ceil(per_invoice) as u64;
    document.invoices = (0..count).map(invoice).collect();
    document
}

fn quick_xml_events(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut events = 0;
    loop {
        match reader.read_event().expect("the benchmark's XML is well formed") {
            quick_xml::events::Event::Eof => return events,
            _ => events += 1,
        }
    }
}

/// Read as the worker reads a transfer: in chunks of the size a browser's
/// stream hands out.
fn streamed(format: Format, bytes: &[u8]) -> InvoiceDocument {
    let mut stream = InvoiceStream::new(format);
    for chunk in bytes.chunks(64 * 1024) {
        stream.feed(chunk);
    }
    stream.finish().expect("valid")
}

fn parse(criterion: &mut Criterion) {
    let document = document();
    let xml_bytes = xml::write_invoices(&document);
    let json_bytes = json::write_invoices(&document);
    assert!(json_bytes.len() >= AT_LEAST_BYTES && xml_bytes.len() >= AT_LEAST_BYTES);
    drop(document);

    let mut group = criterion.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(xml_bytes.len() as u64));
    group.bench_function("xml_model", |bench| {
        bench.iter_with_large_drop(|| xml::parse_invoices(&xml_bytes).expect("valid"))
    });
    group.bench_function("xml_streamed", |bench| {
        bench.iter_with_large_drop(|| streamed(Format::Xml, &xml_bytes))
    });
    let xml_text = std::str::from_utf8(&xml_bytes).expect("UTF-8");
    group.bench_function("xml_floor", |bench| bench.iter(|| quick_xml_events(xml_text)));
    group.throughput(Throughput::Bytes(json_bytes.len() as u64));
    group.bench_function("json_model", |bench| {
        bench.iter_with_large_drop(|| json::parse_invoices(&json_bytes).expect("valid"))
    });
    group.bench_function("json_streamed", |bench| {
        bench.iter_with_large_drop(|| streamed(Format::Json, &json_bytes))
    });
    group.bench_function("json_floor", |bench| {
        bench.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(&json_bytes).expect("valid"))
    });
    group.finish();
}

/// The table's work at 100,000 lines: indexing once, ranking the rows by a
/// column at its first sort, then each keystroke's search, a sort again and
/// a grouping.
fn lines(criterion: &mut Criterion) {
    let document =
        Arc::new(InvoiceDocument { invoices: (0..100).map(invoice).map(many_publishers).collect() });
    let mut group = criterion.benchmark_group("lines_100k");
    group.sample_size(10);
    group.bench_function("index", |bench| bench.iter(|| LineTable::new(document.clone()).len()));
    let all: Vec<usize> = (0..100_000).collect();
    group.bench_function("first sort by a column", |bench| {
        bench.iter_batched(
            || (LineTable::new(document.clone()), all.clone()),
            |(table, mut indexes)| {
                table.sort(&mut indexes, SortColumn::Customer, false);
                indexes.len()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    let table = LineTable::new(document.clone());
    assert_eq!(table.len(), 100_000);
    let search = LineFilter { text: "klant 7 b.v.".to_owned(), ..LineFilter::default() };
    group.bench_function("search", |bench| bench.iter(|| table.filter(&search).len()));
    group.bench_function("sort again", |bench| {
        bench.iter(|| {
            let mut indexes = all.clone();
            table.sort(&mut indexes, SortColumn::ExtendedPrice, true);
            indexes.len()
        })
    });
    group.bench_function("group", |bench| bench.iter(|| table.group(&all, GroupBy::Customer).len()));
    // Changes: this window against one of the same size a month before,
    // most charges matched. Exceptions: the document joined with itself as
    // purchases and sales, every line matched, each margin checked.
    let earlier = InvoiceDocument { invoices: (1..101).map(invoice).collect() };
    group.bench_function("changes", |bench| {
        bench.iter(|| billing::changes::compare(&earlier, &document).changes.len())
    });
    group.bench_function("exceptions", |bench| {
        bench.iter(|| {
            billing::exceptions::worklist(Some(&document), Some(&document), Decimal::TEN).kinds.len()
        })
    });
    group.bench_function("charts", |bench| {
        bench.iter(|| {
            let currency = charts::main_currency(&table, &all).unwrap_or_default();
            charts::by_invoice_month(&table, &all, &currency).len()
                + charts::top_customers(&table, &all, &currency, 10).len()
                + charts::by_charge_type(&table, &all, &currency).len()
                + charts::by_publisher(&table, &all, &currency).len()
        })
    });
    group.finish();
}

criterion_group!(benches, parse, lines);
criterion_main!(benches);
