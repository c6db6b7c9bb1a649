//! The worker's answers on the fixtures of crates/billing, computed here by
//! hand or by crates/billing directly.

use analysis::{MOST_ROWS, Reading, Reply, Workspace};
use billing::{
    Endpoint, Format,
    lines::{GroupBy, LineFilter},
    publisher::Publishers,
    xml,
};
use worker_protocol::{
    Answer, Cell, Column, DownloadFile, LineWindow, Opened, Question, Slot, invoice_file_name,
};

mod support;

const CUSTOMER_XML: &[u8] = include_bytes!("../../billing/tests/fixtures/customerinvoices.xml");
const PURCHASES_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/invoices.json");
const SALES_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/customerinvoices.json");
const CONSOLIDATED_XML: &[u8] = include_bytes!("../../billing/tests/fixtures/consolidatedinvoices.xml");
const CONSOLIDATED_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/consolidatedinvoices.json");
const DETAILS_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/subscriptiondetails.json");

/// `bytes` read as the worker reads them, in the chunks a transfer brings.
fn reading(slot: Slot, endpoint: Endpoint, format: Format, bytes: &[u8]) -> Reading {
    let mut reading = Reading::new(slot, support::request(endpoint, format), Publishers::default());
    for chunk in bytes.chunks(1000) {
        reading.feed(chunk);
    }
    reading
}

fn main_document(endpoint: Endpoint, format: Format, bytes: &[u8]) -> Reading {
    reading(Slot::Main, endpoint, format, bytes)
}

fn opened(workspace: &mut Workspace, endpoint: Endpoint, format: Format, bytes: &[u8]) -> Opened {
    workspace.open(main_document(endpoint, format, bytes)).unwrap()
}

fn ask(workspace: &mut Workspace, question: Question) -> Answer {
    workspace.answer(&question).unwrap().answer
}

fn file(workspace: &mut Workspace, question: Question) -> (String, String, Vec<u8>) {
    let Reply { answer: Answer::Download { file_name, media }, file: Some(bytes) } =
        workspace.answer(&question).unwrap()
    else {
        panic!("a download")
    };
    (file_name, media, bytes)
}

fn lines(
    workspace: &mut Workspace,
    filter: LineFilter,
    sort: Option<(Column, bool)>,
    first: u32,
    count: u32,
) -> LineWindow {
    let columns = vec![Column::Customer, Column::Amount, Column::Margin];
    match ask(workspace, Question::Lines { filter, sort, first, count, columns }) {
        Answer::Lines(window) => window,
        other => panic!("lines, not {other:?}"),
    }
}

fn texts(window: &LineWindow, column: usize) -> Vec<String> {
    window
        .rows
        .iter()
        .map(|row| match &row.cells[column] {
            Cell::Text(text) | Cell::Money(text) | Cell::Number(text) => text.clone(),
            Cell::Empty => String::new(),
        })
        .collect()
}

#[test]
fn a_document_is_summarised_and_converted_both_ways() {
    let mut workspace = Workspace::new("en".into());
    let Opened::Invoices(overview) =
        opened(&mut workspace, Endpoint::CustomerInvoices, Format::Xml, CUSTOMER_XML)
    else {
        panic!("invoices")
    };
    let summary = &overview.summary;
    assert_eq!((summary.invoices, summary.customers, summary.lines), (2, 2, 3));
    let euro = &summary.per_currency[0];
    assert_eq!((euro.currency.as_str(), euro.invoices), ("EUR", 2));
    assert_eq!((euro.excluding_vat.as_str(), euro.vat.as_str()), ("128.00", "22.68"));
    assert_eq!(overview.announcement, "Loaded 2 invoices with 3 lines.");
    assert_eq!(overview.invoices.len(), 2);
    assert_eq!(overview.currencies, ["EUR"]);

    let (name, media, json) = file(&mut workspace, Question::Download { file: DownloadFile::OtherFormat });
    assert_eq!(
        (name.as_str(), media.as_str()),
        ("customerinvoices_v3_2026-01-01_2026-03-31.json", "application/json")
    );
    let mut back = Workspace::new("en".into());
    let Opened::Invoices(again) = opened(&mut back, Endpoint::CustomerInvoices, Format::Json, &json) else {
        panic!("invoices")
    };
    assert_eq!(again, overview);

    let (name, media, single) = file(&mut workspace, Question::InvoiceFile { index: 1 });
    assert_eq!((name.as_str(), media.as_str()), ("invoice_880002.xml", "application/xml"));
    let whole = xml::parse_invoices(CUSTOMER_XML).unwrap();
    assert_eq!(xml::parse_invoices(&single).unwrap().invoices, [whole.invoices[1].clone()]);
    assert_eq!(invoice_file_name("88/0002", Format::Json), "invoice_88_0002.json");
}

#[test]
fn a_broken_document_says_where_and_leaves_nothing_open() {
    let mut workspace = Workspace::new("en".into());
    let error = workspace
        .open(main_document(Endpoint::CustomerInvoices, Format::Xml, &CUSTOMER_XML[..CUSTOMER_XML.len() / 2]))
        .unwrap_err();
    assert!(error.starts_with("XML line"), "{error}");
    let refused = workspace.answer(&Question::Charts { currency: "EUR".into() }).err().unwrap();
    assert_eq!(refused, "no document is open; fetch one first");
}

#[test]
fn discrepancies_are_counted_per_invoice_and_told_in_words() {
    let mut workspace = Workspace::new("en".into());
    let Opened::Invoices(overview) =
        opened(&mut workspace, Endpoint::ConsolidatedInvoices, Format::Xml, CONSOLIDATED_XML)
    else {
        panic!("invoices")
    };
    assert_eq!(overview.invoices.iter().map(|row| row.discrepancies).collect::<Vec<_>>(), [2]);
    let Answer::Invoice(invoice) = ask(&mut workspace, Question::Invoice { index: 0 }) else {
        panic!("invoice")
    };
    assert_eq!(
        invoice.discrepancies,
        [
            "TotalExcludingVAT is 90.00, but the lines add up to 80.00.",
            "TotalIncludingVAT is 111.00, but the lines add up to 101.00."
        ]
    );
    assert!(invoice.consolidated);
    assert!(
        invoice
            .customers
            .iter()
            .flat_map(|c| &c.subscriptions)
            .all(|s| s.lines.iter().all(|l| l.cells.len() == 9))
    );
    let missing = workspace.answer(&Question::Invoice { index: 1 }).err().unwrap();
    assert_eq!(missing, "the document has no invoice number 2");
}

#[test]
fn a_window_of_lines_is_filtered_sorted_and_cut_where_asked() {
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    let everything = lines(&mut workspace, LineFilter::default(), None, 0, 60);
    let document = billing::json::parse_invoices(PURCHASES_JSON).unwrap();
    let expected = billing::rows::rows(&document).count();
    assert_eq!((everything.shown, everything.rows.len(), everything.first), (expected, expected, 0));

    let ascending = lines(&mut workspace, LineFilter::default(), Some((Column::Amount, false)), 0, 60);
    let amounts: Vec<rust_decimal::Decimal> =
        texts(&ascending, 1).iter().map(|amount| amount.parse().unwrap()).collect();
    assert!(amounts.is_sorted(), "{amounts:?}");
    let descending = lines(&mut workspace, LineFilter::default(), Some((Column::Amount, true)), 0, 60);
    assert_eq!(texts(&descending, 1).into_iter().rev().collect::<Vec<_>>(), texts(&ascending, 1));
    assert!(ascending.rows.iter().all(|row| row.negative == texts_of(row, 1).starts_with('-')));

    let later = lines(&mut workspace, LineFilter::default(), Some((Column::Amount, false)), 1, 1);
    assert_eq!((later.first, texts(&later, 1)), (1, vec![texts(&ascending, 1)[1].clone()]));
    let beyond = lines(&mut workspace, LineFilter::default(), None, 10_000, 60);
    assert_eq!((beyond.first, beyond.rows.len(), beyond.shown), (expected, 0, expected));

    let customer = texts(&everything, 0)[0].clone();
    let filter = LineFilter { customer: Some(customer.clone()), ..LineFilter::default() };
    let one = lines(&mut workspace, filter.clone(), None, 0, 60);
    assert!(one.shown < expected && texts(&one, 0).iter().all(|name| *name == customer));
    let Answer::Groups { groups } = ask(&mut workspace, Question::Groups { filter, by: GroupBy::Customer })
    else {
        panic!("groups")
    };
    assert_eq!(groups.iter().map(|group| group.lines).sum::<usize>(), one.shown);
    assert!(groups.iter().all(|group| group.key == customer));
    assert_eq!(MOST_ROWS, 1_000);
}

fn texts_of(row: &worker_protocol::LineCells, column: usize) -> String {
    match &row.cells[column] {
        Cell::Money(text) => text.clone(),
        _ => String::new(),
    }
}

#[test]
fn joining_the_other_side_fills_the_margin_and_the_comparison() {
    let mut workspace = Workspace::new("en".into());
    let consolidated =
        || reading(Slot::Consolidated, Endpoint::ConsolidatedInvoices, Format::Json, CONSOLIDATED_JSON);
    let other = || reading(Slot::OtherSide, Endpoint::CustomerInvoices, Format::Json, SALES_JSON);
    assert_eq!(workspace.open(other()).unwrap_err(), "no document is open; fetch one first");
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    assert_eq!(workspace.open(consolidated()).unwrap_err(), "load the other side of the margin first");
    let before = lines(&mut workspace, LineFilter::default(), None, 0, 60);
    assert!(texts(&before, 2).iter().all(String::is_empty), "no margin before the join");

    let Opened::Margin(margin) = workspace.open(other()).unwrap() else { panic!("margin") };
    assert_eq!(margin.matched, 2);
    let bakery = margin.per_customer.iter().find(|row| row.customer == "Bakkerij de Vries").unwrap();
    assert_eq!(
        (bakery.cost.as_str(), bakery.sale.as_str(), bakery.margin.as_str()),
        ("90.00", "108.00", "18.00")
    );
    assert_eq!(margin.sale_only.total, 1);
    assert_eq!(bakery.percent.as_deref(), Some("16.7 %"));
    let after = lines(&mut workspace, LineFilter::default(), Some((Column::Margin, true)), 0, 60);
    assert_eq!(texts(&after, 2)[..2], ["20.00".to_owned(), "-2.00".to_owned()]);
    let Answer::Charts(charts) = ask(&mut workspace, Question::Charts { currency: "EUR".into() }) else {
        panic!("charts")
    };
    assert!(charts.margins.is_some_and(|bars| !bars.is_empty()));
    let (name, media, csv) = file(
        &mut workspace,
        Question::Download { file: DownloadFile::ShownLines { filter: LineFilter::default(), sort: None } },
    );
    assert_eq!((name.as_str(), media.as_str()), ("invoices_v3_2026-01-01_2026-03-31_lines.csv", "text/csv"));
    assert!(String::from_utf8(csv).unwrap().lines().next().unwrap().contains("Margin"));

    let Opened::Comparison(comparison) = workspace.open(consolidated()).unwrap() else {
        panic!("comparison")
    };
    let told = comparison.missing.total + comparison.duplicated.total + comparison.differing.total;
    assert!(comparison.agreeing + told + comparison.unknown > 0);
}

#[test]
fn subscription_details_are_shown_in_the_readers_language() {
    let mut workspace = Workspace::new("nl-BE".into());
    let Opened::SubscriptionDetails(details) =
        opened(&mut workspace, Endpoint::SubscriptionDetails, Format::Json, DETAILS_JSON)
    else {
        panic!("details")
    };
    let model = billing::json::parse_subscription_details(DETAILS_JSON).unwrap();
    assert_eq!(details.plan_name, model.service_plan.plan_name.best_for("nl-BE").unwrap_or_default());
    assert_eq!(details.resources.len(), model.resources.len());
    let (name, _, xml_bytes) = file(&mut workspace, Question::Download { file: DownloadFile::OtherFormat });
    assert_eq!(name, "subscriptiondetails_v3_007.xml", "the id as the vendor wrote it");
    assert_eq!(billing::xml::parse_subscription_details(&xml_bytes).unwrap(), model);
    let refused = workspace.answer(&Question::Invoice { index: 0 }).err().unwrap();
    assert_eq!(refused, "the open document has no invoices");
}

#[test]
fn the_filters_offer_each_value_once_in_order() {
    let mut workspace = Workspace::new("en".into());
    let mut purchases = billing::json::parse_invoices(PURCHASES_JSON).unwrap();
    let lines = &mut purchases.invoices[0].customers[0].subscriptions[0].price_lines;
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    (lines[0].start_date, lines[1].start_date) = (Some(date("2025-12-01")), Some(date("2025-11-15")));
    let written = billing::json::write_invoices(&purchases);
    let Opened::Invoices(overview) = opened(&mut workspace, Endpoint::Invoices, Format::Json, &written)
    else {
        panic!("invoices")
    };
    let choices = &overview.choices;
    assert_eq!(choices.charge_types, ["Correction", "Cycle Fee", "Usage Fee"]);
    assert_eq!(choices.customers, ["Bakkerij de Vries", "Telecom Ltd"]);
    assert_eq!(choices.invoices, ["20260101", "INV-GBP-7"]);
    assert_eq!(choices.service_months, [date("2025-11-01"), date("2025-12-01")]);
    assert_eq!(overview.currencies, ["EUR", "GBP"], "the currency of most lines first");
}

#[test]
fn a_corrected_publisher_is_told_everywhere_from_then_on() {
    let mut workspace = Workspace::new("en".into());
    let Opened::Invoices(overview) = opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON)
    else {
        panic!("invoices")
    };
    assert_eq!(overview.choices.publishers, ["KPN", "Microsoft"], "from the subscription's name and the SKU");
    let product = "Microsoft 365 Business Standard";
    let microsoft = |publisher: &str| worker_protocol::ProductRow {
        product: product.to_owned(),
        read: Some("Microsoft".to_owned()),
        publisher: Some(publisher.to_owned()),
        lines: 2,
    };
    assert_eq!(overview.products, [microsoft("Microsoft")], "the KPN line names no product to correct");

    let corrections = [(product.to_owned(), "Contoso".to_owned())].into();
    let Answer::Publishers(view) = ask(&mut workspace, Question::Publishers { corrections }) else {
        panic!("publishers")
    };
    assert_eq!(view.products, [microsoft("Contoso")]);
    assert_eq!(view.publishers, ["Contoso", "KPN"]);
    let contoso = LineFilter { publisher: Some("Contoso".to_owned()), ..LineFilter::default() };
    let window = match ask(
        &mut workspace,
        Question::Lines {
            filter: contoso,
            sort: None,
            first: 0,
            count: 10,
            columns: vec![Column::Publisher],
        },
    ) {
        Answer::Lines(window) => window,
        other => panic!("lines, not {other:?}"),
    };
    assert_eq!(texts(&window, 0), ["Contoso", "Contoso"]);
    let Answer::Groups { groups } =
        ask(&mut workspace, Question::Groups { filter: LineFilter::default(), by: GroupBy::Publisher })
    else {
        panic!("groups")
    };
    let keys: Vec<&str> = groups.iter().map(|group| group.key.as_str()).collect();
    assert_eq!(keys, ["Contoso", "KPN"]);
}

#[test]
fn the_worklist_counts_what_crates_billing_counts_and_exports_every_line() {
    use billing::exceptions::{ExceptionKind, worklist};
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    let threshold = || "10".to_owned();
    let Answer::Exceptions(alone) =
        ask(&mut workspace, Question::Exceptions { low_margin_percent: threshold() })
    else {
        panic!("exceptions")
    };
    assert!(!alone.joined);
    let kinds: Vec<ExceptionKind> = alone.kinds.iter().map(|row| row.kind).collect();
    assert_eq!(kinds, [ExceptionKind::TotalDisagrees, ExceptionKind::NoRowHash], "only what one side shows");

    workspace.open(reading(Slot::OtherSide, Endpoint::CustomerInvoices, Format::Json, SALES_JSON)).unwrap();
    let Answer::Exceptions(joined) =
        ask(&mut workspace, Question::Exceptions { low_margin_percent: "10 %".to_owned() })
    else {
        panic!("exceptions")
    };
    assert!(joined.joined);
    assert_eq!(joined.kinds.len(), ExceptionKind::ALL.len() - 1, "the consolidated view is not loaded");
    let purchases = billing::json::parse_invoices(PURCHASES_JSON).unwrap();
    let sales = billing::json::parse_invoices(SALES_JSON).unwrap();
    let expected = worklist(Some(&purchases), Some(&sales), "10".parse().unwrap());
    let mut flagged = 0;
    for row in &joined.kinds {
        let (count, per_currency) = expected.stake(row.kind);
        let per_currency: Vec<(String, String)> =
            per_currency.into_iter().map(|(currency, amount)| (currency, amount.to_string())).collect();
        assert_eq!((row.count, &row.at_stake), (count, &per_currency), "{:?}", row.kind);
        flagged += count;
    }
    assert!(flagged > 0, "the fixtures have something on the list");

    let busiest = joined.kinds.iter().max_by_key(|row| row.count).unwrap();
    let Answer::ExceptionLines(lines) = ask(
        &mut workspace,
        Question::ExceptionLines { low_margin_percent: threshold(), kind: busiest.kind, only_open: false },
    ) else {
        panic!("exception lines")
    };
    assert_eq!((lines.total, lines.first.len()), (busiest.count, busiest.count));

    let (name, media, csv) = file(
        &mut workspace,
        Question::Download { file: DownloadFile::Exceptions { low_margin_percent: threshold() } },
    );
    assert_eq!(
        (name.as_str(), media.as_str()),
        ("invoices_v3_2026-01-01_2026-03-31_exceptions.csv", "text/csv")
    );
    let records = csv::Reader::from_reader(csv.as_slice()).records().count();
    assert_eq!(records, flagged, "one row a flagged line");

    // Once loaded, the lines the consolidated view gets wrong are listed too.
    workspace
        .open(reading(Slot::Consolidated, Endpoint::ConsolidatedInvoices, Format::Json, CONSOLIDATED_JSON))
        .unwrap();
    let Answer::Exceptions(with_consolidated) =
        ask(&mut workspace, Question::Exceptions { low_margin_percent: threshold() })
    else {
        panic!("exceptions")
    };
    let margins =
        billing::matching::MarginSummary::from(billing::matching::match_documents(&purchases, &sales));
    let consolidated = billing::json::parse_invoices(CONSOLIDATED_JSON).unwrap();
    let mut expected = billing::exceptions::Worklist::default();
    billing::exceptions::flag_consolidated(
        &mut expected,
        &purchases,
        &margins,
        &billing::matching::compare_consolidated(&margins, &consolidated),
    );
    let (count, per_currency) = expected.stake(ExceptionKind::ConsolidatedDisagrees);
    let row = with_consolidated.kinds.iter().find(|row| row.kind == ExceptionKind::ConsolidatedDisagrees);
    let per_currency: Vec<(String, String)> =
        per_currency.into_iter().map(|(currency, amount)| (currency, amount.to_string())).collect();
    assert_eq!(row.map(|row| (row.count, &row.at_stake)), Some((count, &per_currency)));
    assert!(count > 0, "the fixture's consolidated view lists a line twice");

    let refused = workspace.answer(&Question::Exceptions { low_margin_percent: "ten".to_owned() });
    assert_eq!(refused.err().as_deref(), Some("the margin threshold `ten` is not a number"));
}

#[test]
fn decisions_close_items_this_month_show_earlier_ones_and_go_into_the_files() {
    use billing::api::decisions::{
        Decided, InvoiceMonth, ItemId, Mark, MonthDecisions, PinnedDocument, Review, ReviewStatus, Settings,
        SignOff, SignOffState, Stamp,
    };
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    workspace.open(reading(Slot::OtherSide, Endpoint::CustomerInvoices, Format::Json, SALES_JSON)).unwrap();
    let threshold = || "10".to_owned();
    let Answer::Exceptions(before) =
        ask(&mut workspace, Question::Exceptions { low_margin_percent: threshold() })
    else {
        panic!("exceptions")
    };
    assert!(before.kinds.iter().all(|row| row.open == row.count), "nothing decided yet");
    let flagged: Vec<_> = before.kinds.iter().filter(|row| row.count > 0).cloned().collect();
    assert!(flagged.len() >= 2, "the fixtures flag lines of two kinds: {flagged:?}");
    let (explained_kind, carried_kind) = (flagged[0].clone(), flagged[1].clone());
    let lines_of = |workspace: &mut Workspace, kind, only_open| match ask(
        workspace,
        Question::ExceptionLines { low_margin_percent: threshold(), kind, only_open },
    ) {
        Answer::ExceptionLines(lines) => lines,
        other => panic!("exception lines, not {other:?}"),
    };
    let items: Vec<ItemId> = [&explained_kind, &carried_kind]
        .into_iter()
        .map(|row| lines_of(&mut workspace, row.kind, false).first[0].item.clone())
        .collect();
    assert_eq!((items[0].kind, items[1].kind), (explained_kind.kind, carried_kind.kind));
    let month: InvoiceMonth = "2026-03".parse().unwrap();
    let stamp = Stamp { by: "bob@corp.example".to_owned(), at: "2026-04-03T10:00:00Z".parse().unwrap() };
    let review = |item: &ItemId, month: InvoiceMonth, status| Review {
        item: item.clone(),
        month,
        mark: Mark { status, note: "=SUM(A1)".to_owned() },
        version: 1,
        changed: stamp.clone(),
    };
    let sign_off = SignOff {
        endpoint: Endpoint::Invoices,
        month,
        version: 1,
        state: SignOffState::SignedOff {
            documents: vec![PinnedDocument {
                id: 7,
                endpoint: Endpoint::Invoices,
                sha256: "ab".repeat(32),
                fetched_at: stamp.at,
            }],
            reviews: Vec::new(),
            settings: Settings::default(),
        },
        changed: Stamp { by: "alice@corp.example".to_owned(), ..stamp.clone() },
    };
    let decisions = MonthDecisions {
        month,
        reviews: vec![review(&items[0], month, ReviewStatus::Explained)],
        earlier: vec![review(&items[1], month.back(1), ReviewStatus::Accepted)],
        sign_offs: vec![sign_off],
    };
    let signed_off = decisions.sign_offs[0].statement();
    let question = Question::Decisions { decided: Box::new(Decided::new(&decisions)), signed_off };
    // As the page sends it: through the protocol's encoding, which must carry it.
    let question: Question = worker_protocol::decode(&worker_protocol::encode(&question)).unwrap();
    assert_eq!(ask(&mut workspace, question), Answer::Decided { reviews: 1 });
    let Answer::Exceptions(after) =
        ask(&mut workspace, Question::Exceptions { low_margin_percent: threshold() })
    else {
        panic!("exceptions")
    };
    let open_of = |kind| after.kinds.iter().find(|row| row.kind == kind).map(|row| (row.count, row.open));
    assert_eq!(open_of(explained_kind.kind), Some((explained_kind.count, explained_kind.count - 1)));
    assert_eq!(
        open_of(carried_kind.kind),
        Some((carried_kind.count, carried_kind.count)),
        "shown, not taken"
    );
    let open = lines_of(&mut workspace, explained_kind.kind, true);
    assert_eq!(open.total, explained_kind.count - 1);
    assert!(!open.first.iter().any(|line| line.item == items[0]), "the explained one is filtered out");
    let all = lines_of(&mut workspace, explained_kind.kind, false);
    assert_eq!(
        all.first[0].review.as_ref().map(|review| review.changed.by.as_str()),
        Some("bob@corp.example")
    );
    let carried = lines_of(&mut workspace, carried_kind.kind, true);
    let carried = carried.first.iter().find(|line| line.item == items[1]).unwrap();
    assert_eq!(carried.earlier.as_ref().map(|review| review.mark.status), Some(ReviewStatus::Accepted));
    assert_eq!(carried.review, None);

    let (_, _, csv) = file(
        &mut workspace,
        Question::Download { file: DownloadFile::Exceptions { low_margin_percent: threshold() } },
    );
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let statuses: Vec<&str> = records.iter().map(|record| &record[column("Status")]).collect();
    assert!(statuses.contains(&"Explained") && statuses.contains(&"Accepted (in 2026-02)"), "{statuses:?}");
    assert!(statuses.contains(&"Open"));
    let explained = records.iter().find(|record| &record[column("Status")] == "Explained").unwrap();
    assert_eq!(&explained[column("Note")], "'=SUM(A1)", "a note is never a formula");
    assert_eq!(&explained[column("DecidedBy")], "bob@corp.example");
    assert_eq!(&explained[column("DecidedAt")], "2026-04-03 10:00 UTC");

    let (_, _, workbook) = file(
        &mut workspace,
        Question::Download {
            file: DownloadFile::Workbook {
                filter: LineFilter::default(),
                sort: None,
                columns: vec![Column::Description],
                low_margin_percent: threshold(),
            },
        },
    );
    let sheet = sheet_text(&workbook, "Exceptions");
    assert!(sheet.contains("2026-03 signed off by alice@corp.example on 2026-04-03 10:00 UTC"), "{sheet}");
    assert!(sheet.contains(&"ab".repeat(32)), "the pinned document's hash");
    for cell in ["Status", "Decided by", "Explained", "Accepted (in 2026-02)", "bob@corp.example"] {
        assert!(sheet.contains(cell), "{cell} in {sheet}");
    }
}

#[test]
fn an_earlier_window_is_compared_and_each_change_opens_its_lines() {
    let mut workspace = Workspace::new("en".into());
    let earlier = || reading(Slot::Earlier, Endpoint::Invoices, Format::Json, SALES_JSON);
    assert_eq!(workspace.open(earlier()).unwrap_err(), "no document is open; fetch one first");
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    assert_eq!(
        workspace.answer(&Question::ChangeLines { index: 0 }).err().as_deref(),
        Some("fetch an earlier window to compare with first")
    );
    let Opened::Changes(changes) = workspace.open(earlier()).unwrap() else { panic!("changes") };
    let (before, after) = (
        billing::json::parse_invoices(SALES_JSON).unwrap(),
        billing::json::parse_invoices(PURCHASES_JSON).unwrap(),
    );
    let expected = billing::changes::compare(&before, &after);
    assert_eq!((changes.changes.total, changes.unchanged), (expected.changes.len(), expected.unchanged));
    let totals: Vec<(String, String, String)> = changes
        .per_currency
        .iter()
        .map(|row| (row.currency.clone(), row.before.clone(), row.after.clone()))
        .collect();
    let expected_totals: Vec<(String, String, String)> = expected
        .per_currency
        .iter()
        .map(|(currency, amounts)| (currency.clone(), amounts.before.to_string(), amounts.after.to_string()))
        .collect();
    assert_eq!(totals, expected_totals);
    let differences: Vec<rust_decimal::Decimal> = changes
        .changes
        .first
        .iter()
        .map(|change| change.difference.parse::<rust_decimal::Decimal>().unwrap().abs())
        .collect();
    assert!(
        differences.windows(2).all(|pair| pair[0] >= pair[1]),
        "the largest difference first: {differences:?}"
    );

    let largest = &changes.changes.first[0];
    let Answer::ChangeLines { before, after } = ask(&mut workspace, Question::ChangeLines { index: 0 })
    else {
        panic!("change lines")
    };
    let sum = |lines: &[worker_protocol::WindowLine]| -> rust_decimal::Decimal {
        lines.iter().map(|line| line.amount.parse::<rust_decimal::Decimal>().unwrap()).sum()
    };
    let amount =
        |text: &str| if text.is_empty() { rust_decimal::Decimal::ZERO } else { text.parse().unwrap() };
    assert_eq!(sum(&before), amount(&largest.before_amount), "the earlier window's lines of the charge");
    assert_eq!(sum(&after), amount(&largest.after_amount), "this window's lines of the charge");
}

#[test]
fn the_changes_come_in_the_order_asked_and_each_keeps_its_lines() {
    use worker_protocol::ChangeOrder;
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    assert_eq!(
        workspace.answer(&Question::Changes { order: ChangeOrder::Customer }).err().as_deref(),
        Some("fetch an earlier window to compare with first")
    );
    workspace.open(reading(Slot::Earlier, Endpoint::Invoices, Format::Json, SALES_JSON)).unwrap();
    let decimal = |text: &str| -> rust_decimal::Decimal {
        if text.is_empty() { 0.into() } else { text.parse().unwrap() }
    };
    let mut seen = Vec::new();
    for order in ChangeOrder::ALL {
        let Answer::Changes(changes) = ask(&mut workspace, Question::Changes { order }) else {
            panic!("changes")
        };
        let charges = &changes.changes.first;
        assert!(charges.len() > 1, "the fixtures change more than one charge");
        let ordered = |key: &dyn Fn(&worker_protocol::ChargeChange) -> rust_decimal::Decimal| {
            charges.windows(2).all(|pair| key(&pair[0]) >= key(&pair[1]))
        };
        match order {
            ChangeOrder::Difference => assert!(ordered(&|change| decimal(&change.difference).abs())),
            ChangeOrder::Customer => {
                assert!(charges.windows(2).all(|pair| pair[0].customer <= pair[1].customer));
                assert!(changes.per_customer.windows(2).all(|pair| pair[0].customer <= pair[1].customer));
            }
            ChangeOrder::Before => {
                assert!(ordered(&|change| decimal(&change.before_amount)));
                assert!(
                    changes
                        .per_customer
                        .windows(2)
                        .all(|pair| decimal(&pair[0].before) >= decimal(&pair[1].before))
                );
            }
            ChangeOrder::After => assert!(ordered(&|change| decimal(&change.after_amount))),
        }
        // A change's number still opens its own lines.
        let last = charges.last().unwrap();
        let Answer::ChangeLines { after, .. } =
            ask(&mut workspace, Question::ChangeLines { index: last.index })
        else {
            panic!("change lines")
        };
        let sum: rust_decimal::Decimal = after.iter().map(|line| decimal(&line.amount)).sum();
        assert_eq!(sum, decimal(&last.after_amount), "{order:?}");
        let mut indexes: Vec<u32> = charges.iter().map(|change| change.index).collect();
        indexes.sort_unstable();
        seen.push(indexes);
    }
    assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "every order lists the same changes");
}

#[test]
fn with_the_earlier_windows_other_side_a_moved_margin_is_a_change() {
    use billing::changes::{ChangeKind, compare_joined};
    use billing::matching::{MarginSummary, match_documents};
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    // The same purchases both months; the seat sold at 110.00 the month
    // before instead of 120.00.
    let earlier_sales = std::str::from_utf8(SALES_JSON).unwrap().replacen(
        r#""ExtendedPrice": 120.00"#,
        r#""ExtendedPrice": 110.00"#,
        1,
    );
    let earlier_other = || {
        reading(Slot::EarlierOtherSide, Endpoint::CustomerInvoices, Format::Json, earlier_sales.as_bytes())
    };
    workspace.open(reading(Slot::Earlier, Endpoint::Invoices, Format::Json, PURCHASES_JSON)).unwrap();
    assert_eq!(workspace.open(earlier_other()).unwrap_err(), "load the other side of the margin first");
    workspace.open(reading(Slot::OtherSide, Endpoint::CustomerInvoices, Format::Json, SALES_JSON)).unwrap();
    let Opened::Changes(changes) = workspace.open(earlier_other()).unwrap() else { panic!("changes") };

    let purchases = billing::json::parse_invoices(PURCHASES_JSON).unwrap();
    let (sales, before_sales) = (
        billing::json::parse_invoices(SALES_JSON).unwrap(),
        billing::json::parse_invoices(earlier_sales.as_bytes()).unwrap(),
    );
    let (now, before) = (
        MarginSummary::from(match_documents(&purchases, &sales)),
        MarginSummary::from(match_documents(&purchases, &before_sales)),
    );
    let expected = compare_joined(&purchases, Some(&before), &purchases, Some(&now));
    assert!(changes.joined && expected.joined);
    assert_eq!((changes.changes.total, changes.unchanged), (expected.changes.len(), expected.unchanged));
    let kinds: Vec<Vec<ChangeKind>> =
        changes.changes.first.iter().map(|change| change.kinds.clone()).collect();
    assert_eq!(kinds, [vec![ChangeKind::MarginChanged]], "only the seat's margin moved");
}

#[test]
fn a_customers_lines_in_both_windows_add_up_to_its_totals() {
    let mut workspace = Workspace::new("en".into());
    opened(&mut workspace, Endpoint::Invoices, Format::Json, PURCHASES_JSON);
    let question = |customer: &str, currency: &str| Question::CustomerChangeLines {
        customer: customer.to_owned(),
        currency: currency.to_owned(),
    };
    assert_eq!(
        workspace.answer(&question("Bakkerij de Vries", "EUR")).err().as_deref(),
        Some("fetch an earlier window to compare with first")
    );
    let Opened::Changes(changes) =
        workspace.open(reading(Slot::Earlier, Endpoint::Invoices, Format::Json, SALES_JSON)).unwrap()
    else {
        panic!("changes")
    };
    assert!(!changes.per_customer.is_empty());
    let decimal = |text: &str| -> rust_decimal::Decimal { text.parse().unwrap() };
    for customer in &changes.per_customer {
        let Answer::ChangeLines { before, after } =
            ask(&mut workspace, question(&customer.customer, &customer.currency))
        else {
            panic!("change lines")
        };
        let sum = |lines: &[worker_protocol::WindowLine]| -> rust_decimal::Decimal {
            lines.iter().map(|line| decimal(&line.amount)).sum()
        };
        assert_eq!(sum(&before), decimal(&customer.before), "{}", customer.customer);
        assert_eq!(sum(&after), decimal(&customer.after), "{}", customer.customer);
    }
}

/// Every cell of a workbook's sheet as text, tab apart.
fn sheet_text(bytes: &[u8], name: &str) -> String {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};
    let mut workbook: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range(name).unwrap();
    range.rows().flatten().map(ToString::to_string).collect::<Vec<_>>().join("\t")
}
