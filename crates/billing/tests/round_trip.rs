//! For any document: parse(write(doc)) == doc in both formats, and XML →
//! model → JSON → model gives the same model.

use billing::text::Text;
use billing::{
    InvoiceDocument, json,
    model::{
        Customer, Header, Invoice, Localised, LocalisedName, PriceLine, Receiver, Resource, ResourceRate,
        Sender, ServicePlan, ServicePlanPeriod, Subscription, SubscriptionDetail, SubscriptionDetails,
        SubscriptionTerms, Totals,
    },
    scalars::Id,
    xml,
};
use chrono::NaiveDate;
use proptest::{collection::vec, option, prelude::*};
use rust_decimal::Decimal;

fn amount() -> impl Strategy<Value = Option<Decimal>> {
    option::of(
        (-10_000_000_000i64..10_000_000_000, 0u32..6)
            .prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
    )
}

fn date() -> impl Strategy<Value = Option<NaiveDate>> {
    option::of(
        (1990i32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap()),
    )
}

/// Text as the vendor writes it: markup characters and non-ASCII included,
/// never empty or blank (those read as absent).
fn text() -> impl Strategy<Value = Option<String>> {
    option::of("[A-Za-z0-9&<>\"'é€ß., -]{0,12}[A-Za-z0-9&<>\"'é€ß]")
}

fn id() -> impl Strategy<Value = Option<Id>> {
    option::of(prop_oneof![any::<u64>().prop_map(Id::Number), "[A-Z]{1,3}-[0-9]{1,6}".prop_map(Id::Text)])
}

fn price_line() -> impl Strategy<Value = PriceLine> {
    (
        (id(), text(), amount(), amount(), amount(), amount(), amount(), amount()),
        (date(), date(), text(), text(), amount(), amount()),
    )
        .prop_map(
            |(
                (line_id, description, quantity, unit_price, discount, duration, extended_price, vat),
                (start_date, end_date, charge_type, invoice_row_hash, purchase_price, sales_price),
            )| PriceLine {
                line_id,
                description: description.map(Text::from),
                quantity,
                unit_price,
                discount,
                duration,
                extended_price,
                vat,
                start_date,
                end_date,
                charge_type: charge_type.map(Text::from),
                invoice_row_hash: invoice_row_hash.map(Text::from),
                purchase_price,
                sales_price,
                ..PriceLine::default()
            },
        )
}

fn subscription() -> impl Strategy<Value = Subscription> {
    (id(), text(), date(), vec((text(), text(), option::of(any::<bool>())), 0..3), vec(price_line(), 0..4))
        .prop_map(|(subscription_id, subscription_name, start_date, details, price_lines)| Subscription {
            subscription_id,
            subscription_name: subscription_name.map(Text::from),
            start_date,
            subscription_details: details
                .into_iter()
                .map(|(attribute, attribute_value, no_show)| SubscriptionDetail {
                    attribute: attribute.map(Text::from),
                    attribute_value: attribute_value.map(Text::from),
                    no_show,
                    ..SubscriptionDetail::default()
                })
                .collect(),
            price_lines,
            ..Subscription::default()
        })
}

fn invoice() -> impl Strategy<Value = Invoice> {
    (
        (id(), date(), text(), text()),
        (id(), text()),
        vec((id(), text(), text(), vec(subscription(), 0..3)), 0..3),
        (amount(), amount(), amount()),
    )
        .prop_map(
            |((invoice_id, date, currency, description), (receiver_id, receiver_name), customers, totals)| {
                Invoice {
                    header: Header {
                        invoice_id,
                        date,
                        currency: currency.map(Text::from),
                        description: description.map(Text::from),
                        ..Header::default()
                    },
                    sender: Sender::default(),
                    receiver: Receiver {
                        account_id: receiver_id,
                        company_name: receiver_name.map(Text::from),
                        ..Receiver::default()
                    },
                    customers: customers
                        .into_iter()
                        .map(|(customer_number, company_name, cost_center, subscriptions)| Customer {
                            customer_number,
                            company_name: company_name.map(Text::from),
                            cost_center: cost_center.map(Text::from),
                            subscriptions,
                            ..Customer::default()
                        })
                        .collect(),
                    totals: Totals {
                        total_excluding_vat: totals.0,
                        total_vat: totals.1,
                        total_including_vat: totals.2,
                    },
                }
            },
        )
}

fn document() -> impl Strategy<Value = InvoiceDocument> {
    vec(invoice(), 0..4).prop_map(|invoices| InvoiceDocument { invoices })
}

fn localised() -> impl Strategy<Value = Localised> {
    vec((text(), text()), 0..3).prop_map(|names| {
        Localised(
            names
                .into_iter()
                .map(|(name, value)| LocalisedName {
                    name: name.map(Text::from),
                    value: value.map(Text::from),
                })
                .collect(),
        )
    })
}

fn resource() -> impl Strategy<Value = Resource> {
    ((id(), localised(), amount(), amount(), text(), text()), (amount(), amount(), amount())).prop_map(
        |((resource_id, resource_name, included_value, amount, manufacturer, measure_unit), rate)| Resource {
            resource_id,
            resource_name,
            included_value,
            amount,
            manufacturer: manufacturer.map(Text::from),
            measure_unit: measure_unit.map(Text::from),
            resource_rate: ResourceRate { setup_fee: rate.0, recurring_fee: rate.1, overuse_fee: rate.2 },
            ..Resource::default()
        },
    )
}

fn subscription_details() -> impl Strategy<Value = SubscriptionDetails> {
    (
        (id(), date(), date(), amount(), text()),
        (id(), localised(), id(), localised()),
        (amount(), text(), option::of(any::<bool>()), amount()),
        vec(resource(), 0..4),
    )
        .prop_map(
            |(
                (subscription_id, start_date, expiration_date, period, period_type),
                (plan_id, plan_name, plan_category_id, plan_category_name),
                (plan_period, plan_period_type, trial, recurring_fee),
                resources,
            )| SubscriptionDetails {
                subscription: SubscriptionTerms {
                    subscription_id,
                    start_date,
                    expiration_date,
                    period,
                    period_type: period_type.map(Text::from),
                    ..SubscriptionTerms::default()
                },
                service_plan: ServicePlan { plan_id, plan_name, plan_category_id, plan_category_name },
                service_plan_period: ServicePlanPeriod {
                    period: plan_period,
                    period_type: plan_period_type.map(Text::from),
                    trial,
                    recurring_fee,
                    ..ServicePlanPeriod::default()
                },
                resources,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_round_trips(document in document()) {
        prop_assert_eq!(json::parse_invoices(&json::write_invoices(&document)).unwrap(), document);
    }

    #[test]
    fn xml_round_trips(document in document()) {
        prop_assert_eq!(xml::parse_invoices(&xml::write_invoices(&document)).unwrap(), document);
    }

    #[test]
    fn xml_to_model_to_json_to_model_is_the_same(document in document()) {
        let from_xml = xml::parse_invoices(&xml::write_invoices(&document)).unwrap();
        let through_json = json::parse_invoices(&json::write_invoices(&from_xml)).unwrap();
        prop_assert_eq!(through_json, from_xml);
    }

    #[test]
    fn subscription_details_round_trip_in_both_formats(details in subscription_details()) {
        let from_xml = xml::parse_subscription_details(&xml::write_subscription_details(&details)).unwrap();
        prop_assert_eq!(&from_xml, &details);
        let through_json = json::parse_subscription_details(&json::write_subscription_details(&from_xml)).unwrap();
        prop_assert_eq!(through_json, details);
    }
}
