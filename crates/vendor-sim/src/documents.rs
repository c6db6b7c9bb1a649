//! The documents the emulated vendor answers with, built from the invented
//! reseller one invoice (and within it one customer) at a time, so a
//! document of any size streams out without being held in memory.

use std::ops::ControlFlow;

use billing::{
    model::{
        Customer, Header, Localised, LocalisedName, PriceLine, Receiver, Resource, ResourceRate, Sender,
        ServicePlan, ServicePlanPeriod, Subscription, SubscriptionDetail, SubscriptionDetails,
        SubscriptionTerms, Totals,
    },
    scalars::Id,
    text::Text,
    writer::InvoiceWriter,
};
use chrono::{Datelike, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{
    catalogue::{PUBLISHERS, Pricing, translations},
    config::DataSpec,
    reseller::{EndCustomer, Reseller, Sub, invoice_date},
};

/// Which of the vendor's invoice-shaped documents to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    /// `invoices`: the distributor's invoices to the reseller, one per publisher per run.
    Purchase,
    /// `customerinvoices`: the reseller's invoices to each end customer, one per publisher per run.
    Sales,
    /// `consolidatedinvoices`: purchase lines with the sales price beside them, best effort.
    Consolidated,
    /// The current API's `invoices`: ids as strings.
    CurrentPurchase,
    /// `customer-specifications`: the sales side without VAT, ids as strings.
    CustomerSpecifications,
}

impl DocumentKind {
    fn per_customer(self) -> bool {
        matches!(self, Self::Sales | Self::CustomerSpecifications)
    }

    fn ids_as_text(self) -> bool {
        matches!(self, Self::CurrentPurchase | Self::CustomerSpecifications)
    }

    fn sells(self) -> bool {
        self.per_customer()
    }
}

/// One invoice the document will hold: a publisher's run, and for the sales
/// side, the customer it is addressed to.
#[derive(Clone, Copy, Debug)]
pub struct Planned {
    pub month: NaiveDate,
    pub publisher: usize,
    pub date: NaiveDate,
    pub customer: Option<usize>,
}

pub struct Documents {
    reseller: Reseller,
    reissued: bool,
}

const DISTRIBUTOR: &str = "Cloudwise Distribution B.V.";
const VAT_RATE: Decimal = Decimal::from_parts(21, 0, 0, false, 2);
const FULL_RATE_ZONE: u64 = 1;
const TELECOM_REVERSE_CHARGE: &str = "Reverse charge (telecom)";
const EU_REVERSE_CHARGE: &str = "EU reverse charge (intra-community)";

impl Documents {
    pub fn new(spec: DataSpec) -> Self {
        Self { reseller: Reseller::generate(spec), reissued: false }
    }

    /// The same reseller's documents as the vendor re-issues them after a
    /// correction: the first subscription active in each service month is
    /// charged one unit more on its first charge, and every total follows.
    pub fn reissued(spec: DataSpec) -> Self {
        Self { reissued: true, ..Self::new(spec) }
    }

    pub fn reseller(&self) -> &Reseller {
        &self.reseller
    }

    /// Every invoice dated within `from..=to`, never after `today`, in date
    /// order, publishers in catalogue order.
    pub fn plan(&self, kind: DocumentKind, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<Planned> {
        let mut planned = Vec::new();
        let to = to.min(today);
        if from > to {
            return planned;
        }
        // Runs are dated in the month after the service month.
        let mut month = first_of_month(from).checked_sub_months(Months::new(2)).expect("in range");
        while month <= to {
            let mut runs: Vec<_> = (0..PUBLISHERS.len())
                .map(|publisher| (invoice_date(month, publisher), publisher))
                .filter(|(date, _)| (from..=to).contains(date))
                .collect();
            runs.sort();
            for (date, publisher) in runs {
                let buying = |customer: &EndCustomer| {
                    customer
                        .subscriptions
                        .iter()
                        .any(|sub| sub.publisher() == publisher && sub.active_in(month))
                };
                if kind.per_customer() {
                    planned.extend(
                        self.reseller
                            .customers
                            .iter()
                            .enumerate()
                            .filter(|(_, customer)| buying(customer))
                            .map(|(index, _)| Planned { month, publisher, date, customer: Some(index) }),
                    );
                } else if self.reseller.customers.iter().any(buying) {
                    planned.push(Planned { month, publisher, date, customer: None });
                }
            }
            month = month.checked_add_months(Months::new(1)).expect("in range");
        }
        planned
    }

    /// Writes one planned invoice through `writer`, a customer at a time,
    /// handing each piece to `out` until it says stop.
    pub fn write_invoice(
        &self,
        kind: DocumentKind,
        planned: &Planned,
        writer: &mut InvoiceWriter,
        out: &mut dyn FnMut(String) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let id =
            |number: u64| if kind.ids_as_text() { Id::Text(number.to_string()) } else { Id::Number(number) };
        let publisher = &PUBLISHERS[planned.publisher];
        let month_number =
            u64::from(planned.month.year().unsigned_abs()) * 100 + u64::from(planned.month.month());
        let addressee = planned.customer.map(|index| &self.reseller.customers[index]);
        let (invoice_number, terms) = match addressee {
            Some(customer) => {
                (month_number * 10_000_000 + customer.number * 10 + planned.publisher as u64, 14)
            }
            None => (month_number * 1000 + planned.publisher as u64 + 1, 30),
        };
        let header = Header {
            invoice_id: Some(id(invoice_number)),
            date: Some(planned.date),
            expiration_date: Some(planned.date + chrono::Duration::days(terms)),
            currency: Some(publisher.currency.into()),
            terms_of_payment_days: Some(Decimal::from(terms)),
            r#type: Some("Invoice".into()),
            type_identifier: Some("F".into()),
            // As the vendor's current platform writes it: the description
            // never names the publisher.
            description: Some("Invoice".into()),
            language_code: Some("nl".into()),
            language: Some("Nederlands".into()),
        };
        let (sender, receiver) = match addressee {
            Some(customer) => (self.reseller_as_sender(&id), receiver_for(customer, &id)),
            None => (distributor(&id), self.reseller_as_receiver(&id)),
        };
        out(writer.open_invoice(&header, &sender, &receiver))?;
        let (mut excluding_vat, mut vat) = (Decimal::ZERO, Decimal::ZERO);
        let customers: Box<dyn Iterator<Item = &EndCustomer>> = match addressee {
            Some(customer) => Box::new(std::iter::once(customer)),
            None => Box::new(self.reseller.customers.iter()),
        };
        for customer in customers {
            let subscriptions: Vec<_> = customer
                .subscriptions
                .iter()
                .filter(|sub| sub.publisher() == planned.publisher && sub.active_in(planned.month))
                .map(|sub| self.subscription(kind, customer, sub, planned.month, &id))
                .collect();
            if subscriptions.is_empty() {
                continue;
            }
            for line in subscriptions.iter().flat_map(|subscription| &subscription.price_lines) {
                excluding_vat += line.extended_price.unwrap_or_default();
                vat += line.vat.unwrap_or_default();
            }
            let cost_centre = customer.cost_centre.map(Text::from);
            let consolidated = kind == DocumentKind::Consolidated;
            out(writer.customer(&Customer {
                account_id: Some(id(customer.account_id)),
                customer_number: Some(id(customer.number)),
                company_name: Some(customer.name.as_str().into()),
                cost_center: if consolidated { None } else { cost_centre.clone() },
                customer_cost_center: if consolidated { cost_centre } else { None },
                subscriptions,
            }))?;
        }
        let totals = if kind == DocumentKind::CustomerSpecifications {
            Totals { total_excluding_vat: Some(excluding_vat), ..Totals::default() }
        } else {
            Totals {
                total_excluding_vat: Some(excluding_vat),
                total_vat: Some(vat),
                total_including_vat: Some(excluding_vat + vat),
            }
        };
        out(writer.close_invoice(&totals))
    }

    fn subscription(
        &self,
        kind: DocumentKind,
        customer: &EndCustomer,
        sub: &Sub,
        month: NaiveDate,
        id: &dyn Fn(u64) -> Id,
    ) -> Subscription {
        let product = sub.product;
        let publisher = &PUBLISHERS[product.publisher];
        let price_lines = self
            .charges(sub, month)
            .into_iter()
            .enumerate()
            .flat_map(|(index, charge)| {
                let copies = match (kind, charge.quirk) {
                    (DocumentKind::Consolidated, 0) => 0,
                    (DocumentKind::Consolidated, 1) => 2,
                    _ => 1,
                };
                let line = self.price_line(kind, customer, publisher.reverse_charged, index, &charge, id);
                std::iter::repeat_n(line, copies)
            })
            .collect();
        let details = match product.publisher {
            0 => vec![
                detail("Domain", &sub.tenant, "Microsoft tenant domain", false),
                detail("TenantId", &tenant_id(sub.id), "Microsoft tenant id", true),
            ],
            4 => vec![detail(
                "PhoneNumber",
                &format!("+31 30 {:07}", sub.id % 10_000_000),
                "Main number",
                false,
            )],
            _ => Vec::new(),
        };
        Subscription {
            subscription_id: Some(id(sub.id)),
            subscription_name: Some(product.name.into()),
            billing_model: Some(
                match product.pricing {
                    Pricing::Licence { .. } => "Licence based",
                    Pricing::Usage { .. } => "Usage based",
                }
                .into(),
            ),
            plan_id: Some(id(product.plan_id)),
            plan_name: Some(format!("{} (monthly)", product.name).into()),
            plan_category_name: Some(product.category.into()),
            start_date: Some(sub.start),
            subscription_po_number: sub.po_number.as_deref().map(Text::from),
            subscription_details: details,
            price_lines,
        }
    }

    /// What one subscription is charged for one service month, drawn from
    /// the seed, the subscription and the month alone, so every document and
    /// every window that includes it agrees.
    fn charges(&self, sub: &Sub, month: NaiveDate) -> Vec<Charge> {
        let month_index = u64::from(month.year().unsigned_abs()) * 12 + u64::from(month.month0());
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.reseller.seed, mix(sub.id, month_index)));
        let product = sub.product;
        let first_month = sub.start == month;
        let period = (month, last_of_month(month));
        let mut charges = Vec::new();
        let mut add = |rng: &mut ChaCha8Rng, charge: ChargeSpec| {
            let index = charges.len() as u64;
            let hash = (mix(self.reseller.seed ^ sub.id, month_index), mix(month_index ^ sub.id, index + 1));
            charges.push(Charge {
                spec: charge,
                row_hash: format!("{:016x}{:016x}", hash.0, hash.1),
                uid: format!("{:08x}-{:04x}", hash.0 >> 32, hash.1 & 0xffff),
                quirk: rng.random_range(0..60u32),
                period,
            });
        };
        match product.pricing {
            Pricing::Licence { monthly } => {
                let seats = Decimal::from(sub.seats);
                let gross = seats * monthly;
                let discount =
                    if sub.seats >= 25 { money(gross * Decimal::new(5, 2)) } else { Decimal::ZERO };
                add(
                    &mut rng,
                    ChargeSpec {
                        charge_type: if first_month { "Purchase Fee" } else { "Cycle Fee" },
                        description: format!("{}, {}", product.name, month.format("%B %Y")),
                        quantity: seats,
                        quantity_type: "Licenses",
                        unit_cost: monthly,
                        discount,
                        duration: Decimal::ONE,
                        sku: product.sku,
                    },
                );
                if !first_month && rng.random_ratio(1, 14) {
                    let removed = rng.random_range(1..=sub.seats.min(3));
                    add(
                        &mut rng,
                        ChargeSpec {
                            charge_type: "Correction",
                            description: format!(
                                "Correction: {removed} licence(s) of {} removed mid-month, pro-rated",
                                product.name
                            ),
                            quantity: Decimal::from(removed),
                            quantity_type: "Licenses",
                            unit_cost: -monthly,
                            discount: Decimal::ZERO,
                            duration: Decimal::new(5, 1),
                            sku: product.sku,
                        },
                    );
                }
            }
            Pricing::Usage { unit, rate, typical } => {
                let used = rng.random_range(u64::from(typical) * 300..u64::from(typical) * 1700);
                add(
                    &mut rng,
                    ChargeSpec {
                        charge_type: "Usage Fee",
                        description: format!("{}, {} in {}", product.name, unit, month.format("%B %Y")),
                        quantity: Decimal::new(used as i64, 3),
                        quantity_type: unit,
                        unit_cost: rate,
                        discount: Decimal::ZERO,
                        duration: Decimal::ONE,
                        sku: product.sku,
                    },
                );
            }
        }
        if let (true, Some(fee)) = (first_month, product.setup_fee) {
            add(
                &mut rng,
                ChargeSpec {
                    charge_type: "One Time Fee",
                    description: format!("Setup of {}", product.name),
                    quantity: Decimal::ONE,
                    quantity_type: "Each",
                    unit_cost: fee,
                    discount: Decimal::ZERO,
                    duration: Decimal::ONE,
                    sku: product.sku,
                },
            );
        }
        if let Some((item, price)) = product.item
            && rng.random_ratio(1, 20)
        {
            let quantity = Decimal::from(rng.random_range(1..=5));
            add(
                &mut rng,
                ChargeSpec {
                    charge_type: "Item Fee",
                    description: item.to_owned(),
                    quantity,
                    quantity_type: "Each",
                    unit_cost: price,
                    discount: Decimal::ZERO,
                    duration: Decimal::ONE,
                    sku: product.sku,
                },
            );
        }
        if self.reissued && self.first_active(month) == Some(sub.id) {
            charges[0].spec.quantity += Decimal::ONE;
        }
        charges
    }

    /// The reseller's first subscription active in `month`.
    fn first_active(&self, month: NaiveDate) -> Option<u64> {
        let mut subscriptions = self.reseller.customers.iter().flat_map(|customer| &customer.subscriptions);
        subscriptions.find(|sub| sub.active_in(month)).map(|sub| sub.id)
    }

    fn price_line(
        &self,
        kind: DocumentKind,
        customer: &EndCustomer,
        reverse_charged: bool,
        index: usize,
        charge: &Charge,
        id: &dyn Fn(u64) -> Id,
    ) -> PriceLine {
        let spec = &charge.spec;
        let sale_unit = (spec.unit_cost * customer.markup)
            .round_dp_with_strategy(spec.unit_cost.scale(), RoundingStrategy::MidpointAwayFromZero);
        let (unit, discount) =
            if kind.sells() { (sale_unit, Decimal::ZERO) } else { (spec.unit_cost, spec.discount) };
        let extended_price = money((spec.quantity * unit - discount) * spec.duration);
        let zero_rated = if reverse_charged {
            Some(TELECOM_REVERSE_CHARGE)
        } else if kind.sells() && customer.belgian {
            Some(EU_REVERSE_CHARGE)
        } else {
            None
        };
        let (vat, tax_percentage, tax_zone) = match (kind, zero_rated) {
            (DocumentKind::CustomerSpecifications, _) => (None, None, None),
            (_, Some(zone)) => {
                (Some(money(Decimal::ZERO)), Some(Decimal::ZERO), Some(Id::Text(zone.to_owned())))
            }
            (_, None) => (
                Some(money(extended_price * VAT_RATE)),
                Some(Decimal::from(21)),
                Some(Id::Number(FULL_RATE_ZONE)),
            ),
        };
        let consolidated = kind == DocumentKind::Consolidated;
        PriceLine {
            line_id: Some(id(index as u64 + 1)),
            uid: Some(charge.uid.as_str().into()),
            description: Some(spec.description.as_str().into()),
            quantity: Some(spec.quantity),
            quantity_type: Some(spec.quantity_type.into()),
            unit_price: (!consolidated).then_some(unit),
            discount: (!consolidated).then_some(discount),
            duration: Some(spec.duration),
            duration_type: Some("Month".into()),
            billing_frequency: Some("Monthly".into()),
            extended_price: Some(extended_price),
            vat,
            tax_percentage,
            tax_zone_id: tax_zone,
            start_date: Some(charge.period.0),
            end_date: Some(charge.period.1),
            sku: Some(spec.sku.into()),
            consumer_company_name: Some(customer.name.as_str().into()),
            consumer_company_number: Some(id(customer.number)),
            rate_period_id: Some(id(1)),
            sub_po_number: None,
            charge_type: Some(spec.charge_type.into()),
            invoice_row_hash: Some(charge.row_hash.as_str().into()),
            purchase_price: consolidated.then_some(spec.unit_cost),
            purchase_discount: consolidated.then_some(spec.discount),
            sales_price: consolidated.then_some(sale_unit),
            sales_discount: consolidated.then_some(Decimal::ZERO),
        }
    }

    /// The `subscriptiondetails` answer for one subscription.
    pub fn subscription_details(&self, subscription_id: u64) -> Option<SubscriptionDetails> {
        let (_, sub) = self.reseller.subscription(subscription_id)?;
        let product = sub.product;
        let expiration = match sub.end {
            Some(end) => last_of_month(end),
            None => {
                sub.start.checked_add_months(Months::new(12)).expect("in range") - chrono::Duration::days(1)
            }
        };
        let (resource_name, measure_unit, included, rate) = match product.pricing {
            Pricing::Licence { monthly } => (
                "Licences",
                "licence",
                Decimal::from(sub.seats),
                ResourceRate {
                    setup_fee: Some(money(Decimal::ZERO)),
                    recurring_fee: Some(monthly),
                    overuse_fee: None,
                },
            ),
            Pricing::Usage { unit, rate, typical } => (
                "Usage",
                unit,
                Decimal::from(typical),
                ResourceRate { setup_fee: None, recurring_fee: None, overuse_fee: Some(rate) },
            ),
        };
        let recurring = match product.pricing {
            Pricing::Licence { monthly } => monthly * Decimal::from(sub.seats),
            Pricing::Usage { .. } => Decimal::ZERO,
        };
        Some(SubscriptionDetails {
            subscription: SubscriptionTerms {
                subscription_id: Some(Id::Number(sub.id)),
                start_date: Some(sub.start),
                expiration_date: Some(expiration),
                period: Some(Decimal::ONE),
                period_type: Some("Year".into()),
                billing_period: Some(Decimal::ONE),
                billing_period_type: Some("Month".into()),
            },
            service_plan: ServicePlan {
                plan_id: Some(Id::Number(product.plan_id)),
                plan_name: Localised(vec![
                    localised("en", format!("{} (monthly)", product.name)),
                    localised("nl", format!("{} (maandelijks)", product.name)),
                    localised("fr", format!("{} (mensuel)", product.name)),
                ]),
                plan_category_id: Some(Id::Number(product.category_id)),
                plan_category_name: Localised(vec![localised("en", product.category.to_owned())]),
            },
            service_plan_period: ServicePlanPeriod {
                period: Some(Decimal::ONE),
                period_type: Some("Year".into()),
                trial: Some(false),
                setup_fee: Some(product.setup_fee.unwrap_or(money(Decimal::ZERO))),
                recurring_fee: Some(money(recurring)),
                renewal_fee: Some(money(Decimal::ZERO)),
            },
            resources: vec![Resource {
                resource_id: Some(Id::Number(product.plan_id * 10 + 1)),
                resource_name: Localised(
                    std::iter::once(localised("en", resource_name.to_owned()))
                        .chain(translations(resource_name).map(|(language, name)| localised(language, name)))
                        .collect(),
                ),
                included_value: Some(Decimal::ZERO),
                amount: Some(included),
                manufacturer: Some(PUBLISHERS[product.publisher].name.into()),
                mp_number: Some(product.sku.into()),
                measure_unit: Some(measure_unit.into()),
                resource_rate: rate,
            }],
        })
    }

    fn reseller_as_sender(&self, id: &dyn Fn(u64) -> Id) -> Sender {
        Sender {
            account_id: Some(id(5001)),
            company_name: Some(self.reseller.name.as_str().into()),
            address: Some("Stationsplein 12".into()),
            postal_code: Some("3511 ED".into()),
            city: Some("Utrecht".into()),
            country_code: Some("NL".into()),
            country: Some("Nederland".into()),
            telephone: Some("+31 30 123 4567".into()),
            vat_number: Some("NL001234567B01".into()),
            iban: Some("NL02RABO0123456789".into()),
            bic: Some("RABONL2U".into()),
            ..Sender::default()
        }
    }

    fn reseller_as_receiver(&self, id: &dyn Fn(u64) -> Id) -> Receiver {
        Receiver {
            account_id: Some(id(5001)),
            customer_number: Some(Id::Text("R-5001".to_owned())),
            company_name: Some(self.reseller.name.as_str().into()),
            vat_number: Some("NL001234567B01".into()),
            address: Some("Stationsplein 12".into()),
            zip: Some("3511 ED".into()),
            city: Some("Utrecht".into()),
            country: Some("Nederland".into()),
            country_code: Some("NL".into()),
            r#type: Some("Reseller".into()),
            ..Receiver::default()
        }
    }
}

struct ChargeSpec {
    charge_type: &'static str,
    description: String,
    quantity: Decimal,
    quantity_type: &'static str,
    unit_cost: Decimal,
    discount: Decimal,
    duration: Decimal,
    sku: &'static str,
}

struct Charge {
    spec: ChargeSpec,
    row_hash: String,
    uid: String,
    /// Below 2, the consolidated view gets this line wrong on purpose.
    quirk: u32,
    period: (NaiveDate, NaiveDate),
}

fn distributor(id: &dyn Fn(u64) -> Id) -> Sender {
    Sender {
        account_id: Some(id(1)),
        company_name: Some(DISTRIBUTOR.into()),
        address: Some("Zuidas 100".into()),
        postal_code: Some("1082 MA".into()),
        city: Some("Amsterdam".into()),
        country_code: Some("NL".into()),
        country: Some("Nederland".into()),
        telephone: Some("+31 20 765 4321".into()),
        fax: None,
        chamber_of_commerce: Some("12345678".into()),
        bank_account: Some("0417164300".into()),
        iban: Some("NL91ABNA0417164300".into()),
        bic: Some("ABNANL2A".into()),
        vat_number: Some("NL123456789B01".into()),
        website: Some("https://cloudwise.example".into()),
    }
}

fn receiver_for(customer: &EndCustomer, id: &dyn Fn(u64) -> Id) -> Receiver {
    let (country, code) = if customer.belgian { ("België", "BE") } else { ("Nederland", "NL") };
    Receiver {
        account_id: Some(id(customer.account_id)),
        customer_number: Some(id(customer.number)),
        company_name: Some(customer.name.as_str().into()),
        vat_number: Some(customer.vat_number.as_str().into()),
        contact_first_name: Some(customer.contact.0.into()),
        contact_last_name: Some(customer.contact.1.into()),
        address: Some(customer.address.as_str().into()),
        zip: Some(customer.postal_code.into()),
        city: Some(customer.city.into()),
        country: Some(country.into()),
        country_code: Some(code.into()),
        email: Some(customer.email.as_str().into()),
        r#type: Some("Customer".into()),
        ..Receiver::default()
    }
}

fn detail(attribute: &str, value: &str, description: &str, no_show: bool) -> SubscriptionDetail {
    SubscriptionDetail {
        attribute: Some(attribute.into()),
        attribute_value: Some(value.into()),
        attribute_description: Some(description.into()),
        no_show: Some(no_show),
    }
}

fn localised(language: &str, value: String) -> LocalisedName {
    LocalisedName { name: Some(language.into()), value: Some(value.into()) }
}

fn tenant_id(subscription: u64) -> String {
    let (high, low) = (mix(subscription, 1), mix(subscription, 2));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// Cents, written with both decimals as the vendor does.
fn money(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

fn last_of_month(month: NaiveDate) -> NaiveDate {
    month.checked_add_months(Months::new(1)).expect("in range") - chrono::Duration::days(1)
}

/// SplitMix64 of two numbers: stable ids and hashes from the seed.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_add(0x6a09_e667_f3bc_c909);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
