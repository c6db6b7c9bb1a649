//! One hand-written fixture per endpoint of the contract, read field by
//! field; where the endpoint speaks XML too, both formats must give the same
//! model.

use billing::{
    InvoiceDocument, json,
    matching::match_documents,
    model::{LocalisedName, SubscriptionDetails},
    scalars::Id,
    totals::{Discrepancy, TotalField, check, sales_extended_price, totals_by_currency},
    xml,
};
use rust_decimal::Decimal;

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn from_json(bytes: &[u8]) -> InvoiceDocument {
    json::parse_invoices(bytes).unwrap_or_else(|error| panic!("{error}"))
}

/// The JSON fixture's model, after checking the XML fixture gives the same.
fn both_formats(json_bytes: &[u8], xml_bytes: &[u8]) -> InvoiceDocument {
    let from_json = from_json(json_bytes);
    let from_xml = xml::parse_invoices(xml_bytes).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(from_xml, from_json);
    from_json
}

fn purchases() -> InvoiceDocument {
    from_json(include_bytes!("fixtures/invoices.json"))
}

fn customer_invoices() -> InvoiceDocument {
    both_formats(
        include_bytes!("fixtures/customerinvoices.json"),
        include_bytes!("fixtures/customerinvoices.xml"),
    )
}

#[test]
fn customerinvoices_reads_the_resellers_sales_invoices() {
    let document = customer_invoices();
    let [bakery, brewery] = &document.invoices[..] else { panic!("two invoices") };
    assert_eq!(bakery.sender.company_name.as_deref(), Some("Reseller & Zonen B.V."));
    assert_eq!(bakery.receiver.contact_middle_name.as_deref(), Some("de"));
    let subscription = &bakery.customers[0].subscriptions[0];
    assert_eq!(subscription.plan_id, Some(Id::Number(301)));
    assert_eq!(subscription.subscription_po_number, None, "an empty value is absent");
    let credit = &subscription.price_lines[1];
    assert_eq!(credit.charge_type.as_deref(), Some("Correction"));
    assert_eq!((credit.extended_price, credit.vat), (Some(decimal("-12.00")), Some(decimal("-2.52"))));
    let reverse_charged = &brewery.customers[0].subscriptions[0].price_lines[0];
    assert_eq!(reverse_charged.vat, Some(Decimal::ZERO));
    assert_eq!(reverse_charged.tax_zone_id, Some(Id::Text("EU reverse charge".to_owned())));
    assert_eq!(reverse_charged.quantity, Some(decimal("512.5")));
    assert_eq!(check(&document), []);
    let (invoices, eur) = totals_by_currency(&document)["EUR"];
    assert_eq!((invoices, eur.excluding_vat, eur.vat), (2, decimal("128.00"), decimal("22.68")));
}

#[test]
fn customerinvoices_join_the_purchase_invoices_on_the_row_hash() {
    let (purchases, sales) = (purchases(), customer_invoices());
    let report = match_documents(&purchases, &sales);
    let matched: Vec<_> = report
        .matched
        .iter()
        .map(|pair| (pair.sale.line.invoice_row_hash.as_deref().unwrap(), pair.margin.margin()))
        .collect();
    assert_eq!(matched, [("a1b2c3", decimal("20.00")), ("d4e5f6", decimal("-2.00"))]);
    let sale_only: Vec<_> = report.sale_only.iter().map(|row| row.line.invoice_row_hash.as_deref()).collect();
    assert_eq!(sale_only, [Some("b7c8d9")]);
    let purchase_only: Vec<_> =
        report.purchase_only.iter().map(|row| row.line.description.as_deref()).collect();
    assert_eq!(purchase_only, [Some("SIP trunk")], "a line without a hash is never matched");
}

#[test]
fn consolidatedinvoices_pairs_purchase_and_sales_prices_and_its_duplicates_show() {
    let document = both_formats(
        include_bytes!("fixtures/consolidatedinvoices.json"),
        include_bytes!("fixtures/consolidatedinvoices.xml"),
    );
    let customer = &document.invoices[0].customers[0];
    assert_eq!(customer.cost_centre(), Some("IT"), "CustomerCostCenter is the cost centre");
    assert!(
        String::from_utf8(json::write_invoices(&document)).unwrap().contains(r#""CustomerCostCenter":"IT""#)
    );
    let line = &customer.subscriptions[0].price_lines[0];
    assert_eq!((line.purchase_price, line.sales_price), (Some(decimal("10.00")), Some(decimal("12.00"))));
    assert_eq!(line.unit_price, None);
    assert_eq!(sales_extended_price(line), Some(decimal("120.00")));
    // The vendor's best effort listed the correction twice: the lines are
    // checked against their purchase prices, and the totals disagree.
    assert_eq!(
        check(&document),
        [
            Discrepancy::InvoiceTotal {
                invoice: 0,
                field: TotalField::ExcludingVat,
                computed: decimal("80.00"),
                stated: decimal("90.00"),
            },
            Discrepancy::InvoiceTotal {
                invoice: 0,
                field: TotalField::IncludingVat,
                computed: decimal("101.00"),
                stated: decimal("111.00"),
            },
        ]
    );
}

#[test]
fn the_current_api_sends_ids_as_strings_and_customer_specifications_without_vat() {
    let invoices = from_json(include_bytes!("fixtures/current-invoices.json"));
    let header = &invoices.invoices[0].header;
    assert_eq!(
        header.invoice_id,
        Some(Id::Number(20260101)),
        "\"20260101\" is the number the legacy API sends"
    );
    assert_eq!(invoices.invoices[0].customers[0].customer_number, Some(Id::Text("007003".to_owned())));
    assert_eq!(check(&invoices), []);

    let specifications = from_json(include_bytes!("fixtures/customer-specifications.json"));
    let lines = &specifications.invoices[0].customers[0].subscriptions[0].price_lines;
    assert!(lines.iter().all(|line| line.vat.is_none()));
    assert_eq!(specifications.invoices[0].totals.total_vat, None);
    assert_eq!(check(&specifications), []);

    let report = match_documents(&invoices, &specifications);
    let margins: Vec<_> = report.matched.iter().map(|pair| pair.margin.margin()).collect();
    assert_eq!(margins, [decimal("3.60"), decimal("15.00")]);
    let customer = &report.per_customer[&("Hoogeveen Logistiek".to_owned(), "USD".to_owned())];
    assert_eq!((customer.cost, customer.sale), (decimal("63.00"), decimal("81.60")));
}

#[test]
fn example_invoices_arrive_as_a_bare_list_with_defaults_left_out() {
    let document = from_json(include_bytes!("fixtures/example-invoices.json"));
    let lines = &document.invoices[0].customers[0].subscriptions[0].price_lines;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].duration, None);
    assert_eq!(check(&document), [], "a missing duration counts as 1 and a missing discount as 0");
}

fn subscription_details() -> SubscriptionDetails {
    let from_json = json::parse_subscription_details(include_bytes!("fixtures/subscriptiondetails.json"))
        .unwrap_or_else(|error| panic!("{error}"));
    let from_xml = xml::parse_subscription_details(include_bytes!("fixtures/subscriptiondetails.xml"))
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(from_xml, from_json);
    from_json
}

#[test]
fn subscriptiondetails_reads_plan_periods_resources_and_rates() {
    let details = subscription_details();
    assert_eq!(details.subscription.subscription_id, Some(Id::Number(9001)));
    assert_eq!(details.subscription.billing_period_type.as_deref(), Some("Month"));
    assert_eq!(details.service_plan.plan_id, Some(Id::Number(301)));
    assert_eq!(details.service_plan_period.trial, Some(false));
    assert_eq!(details.service_plan_period.recurring_fee, Some(decimal("12.00")));
    let [licences, storage] = &details.resources[..] else { panic!("two resources") };
    assert_eq!(licences.mp_number.as_deref(), Some("CFQ7TTC0LDPB:0001"));
    assert_eq!(licences.amount, Some(decimal("10")));
    assert_eq!(licences.resource_rate.overuse_fee, None);
    assert_eq!(storage.resource_rate.recurring_fee, Some(decimal("0.0199")));
    assert_eq!(storage.included_value, Some(decimal("1024")));
}

#[test]
fn localised_names_pick_the_users_language_then_english() {
    let details = subscription_details();
    let plan = &details.service_plan.plan_name;
    assert_eq!(plan.best_for("nl-BE"), Some("Microsoft 365 Business Standard (maandelijks)"));
    assert_eq!(plan.best_for("de"), Some("Microsoft 365 Business Standard (monthly)"));
    assert_eq!(details.resources[0].resource_name.best_for("fr"), Some("Licences"));
    let category = &details.service_plan.plan_category_name.0;
    assert_eq!(category, &[LocalisedName { name: None, value: Some("Microsoft 365".into()) }]);
}

#[test]
fn subscriptiondetails_round_trips_through_both_writers() {
    let details = subscription_details();
    let through_xml = xml::parse_subscription_details(&xml::write_subscription_details(&details)).unwrap();
    assert_eq!(through_xml, details);
    let through_json = json::parse_subscription_details(&json::write_subscription_details(&details)).unwrap();
    assert_eq!(through_json, details);
    let written = String::from_utf8(xml::write_subscription_details(&details)).unwrap();
    assert!(written.contains("<SubscriptionDetailsResponse xmlns:xsd="), "{written}");
    assert!(written.contains("<PlanName><LocalizedName><Name>en</Name>"), "{written}");
}

#[test]
fn a_bad_value_in_subscriptiondetails_names_its_element() {
    let xml = include_str!("fixtures/subscriptiondetails.xml")
        .replace("<Amount>1024</Amount>", "<Amount>a lot</Amount>");
    let error = xml::parse_subscription_details(xml.as_bytes()).unwrap_err();
    assert_eq!(error.path.as_deref(), Some("SubscriptionDetailsResponse/Resources/Resource[2]/Amount"));
    assert!(error.message.contains("a lot"), "{error}");
    let line = xml.lines().position(|line| line.contains("a lot")).unwrap() + 1;
    assert!(
        matches!(error.location, billing::error::Location::LineColumn { line: at, .. } if at == line),
        "{error}"
    );

    let json = include_str!("fixtures/subscriptiondetails.json")
        .replace("\"Value\": \"Licenties\"", "\"Value\": []");
    let error = json::parse_subscription_details(json.as_bytes()).unwrap_err();
    assert_eq!(error.path.as_deref(), Some("Resources[0].ResourceName[1].Value"));
}
