//! The invented reseller: its end customers and their subscriptions, drawn
//! once from the seed.

use chrono::{Datelike, Months, NaiveDate};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::{
    catalogue::{PRODUCTS, PUBLISHERS, Product},
    config::DataSpec,
    names,
};

pub struct Reseller {
    pub seed: u64,
    pub name: String,
    pub customers: Vec<EndCustomer>,
}

pub struct EndCustomer {
    pub account_id: u64,
    pub number: u64,
    pub name: String,
    pub cost_centre: Option<&'static str>,
    pub belgian: bool,
    pub address: String,
    pub postal_code: &'static str,
    pub city: &'static str,
    pub vat_number: String,
    pub contact: (&'static str, &'static str),
    pub email: String,
    /// What the reseller charges over its cost, e.g. 1.18.
    pub markup: Decimal,
    pub subscriptions: Vec<Sub>,
}

pub struct Sub {
    pub id: u64,
    pub product: &'static Product,
    pub seats: u32,
    /// First day of the first month billed.
    pub start: NaiveDate,
    /// First day of the last month billed, if cancelled.
    pub end: Option<NaiveDate>,
    pub po_number: Option<String>,
    pub tenant: String,
}

impl Sub {
    pub fn active_in(&self, month: NaiveDate) -> bool {
        self.start <= month && self.end.is_none_or(|end| month <= end)
    }

    pub fn publisher(&self) -> usize {
        self.product.publisher
    }
}

/// A company name that runs script wherever it is not treated as text.
pub const HOSTILE_NAME: &str =
    "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> & Zonen B.V.";

/// Subscriptions start between these months, so any window from 2021 on
/// finds a business that grew over the years.
const FIRST_START: NaiveDate = NaiveDate::from_ymd_opt(2021, 1, 1).expect("a real date");
const START_MONTHS: u32 = 7 * 12;

impl Reseller {
    pub fn generate(spec: DataSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let reseller_surname = names::SURNAMES.choose(&mut rng).expect("names");
        let mut next_subscription = 100_000 + rng.random_range(0..100_000u64) * 10;
        let customers = (0..spec.customers as u64)
            .map(|index| {
                let surname = names::SURNAMES.choose(&mut rng).expect("names");
                let trade = names::TRADES.choose(&mut rng).expect("names");
                let belgian = rng.random_ratio(1, 4);
                let (city, postal_code) = if belgian {
                    *names::BELGIAN_TOWNS.choose(&mut rng).expect("towns")
                } else {
                    *names::DUTCH_TOWNS.choose(&mut rng).expect("towns")
                };
                let legal_form = match (belgian, rng.random_range(0..3)) {
                    (true, 0) => "NV",
                    (true, _) => "BV",
                    (false, 0) => "V.O.F.",
                    (false, _) => "B.V.",
                };
                let name = if spec.hostile_names && index == 0 {
                    HOSTILE_NAME.to_owned()
                } else {
                    format!("{trade} {surname} {legal_form}")
                };
                let number = 10_000 + index;
                let vat_number = if belgian {
                    format!("BE0{:09}", rng.random_range(100_000_000..999_999_999u64))
                } else {
                    format!("NL{:09}B01", rng.random_range(100_000_000..999_999_999u64))
                };
                let slug: String =
                    format!("{trade}{surname}").chars().filter(char::is_ascii_alphanumeric).collect();
                let slug = slug.to_lowercase();
                let subscriptions = (0..rng.random_range(1..=6))
                    .map(|_| {
                        next_subscription += 1 + rng.random_range(0..7);
                        let product = PRODUCTS.choose(&mut rng).expect("products");
                        let start = FIRST_START
                            .checked_add_months(Months::new(rng.random_range(0..START_MONTHS)))
                            .expect("in range");
                        let end = rng.random_ratio(1, 8).then(|| {
                            start.checked_add_months(Months::new(rng.random_range(3..36))).expect("in range")
                        });
                        Sub {
                            id: next_subscription,
                            product,
                            seats: if rng.random_ratio(1, 10) {
                                rng.random_range(25..250)
                            } else {
                                rng.random_range(1..25)
                            },
                            start,
                            end,
                            po_number: rng
                                .random_ratio(1, 5)
                                .then(|| format!("PO-{}", rng.random_range(1000..9999))),
                            tenant: format!("{slug}.onmicrosoft.com"),
                        }
                    })
                    .collect();
                EndCustomer {
                    account_id: 700_000 + number,
                    number,
                    name,
                    cost_centre: rng
                        .random_ratio(1, 3)
                        .then(|| *names::COST_CENTRES.choose(&mut rng).expect("names")),
                    belgian,
                    address: format!(
                        "{} {}",
                        names::STREETS.choose(&mut rng).expect("names"),
                        rng.random_range(1..200)
                    ),
                    postal_code,
                    city,
                    vat_number,
                    contact: (
                        names::FIRST_NAMES.choose(&mut rng).expect("names"),
                        names::SURNAMES.choose(&mut rng).expect("names"),
                    ),
                    email: format!("administratie@{slug}.example"),
                    markup: Decimal::new(rng.random_range(108..=130), 2),
                    subscriptions,
                }
            })
            .collect();
        Self {
            seed: spec.seed,
            name: format!("{} ICT Solutions B.V.", capitalise(reseller_surname)),
            customers,
        }
    }

    pub fn subscription(&self, id: u64) -> Option<(&EndCustomer, &Sub)> {
        self.customers.iter().find_map(|customer| {
            customer.subscriptions.iter().find(|sub| sub.id == id).map(|sub| (customer, sub))
        })
    }
}

fn capitalise(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The date a vendor's run for service month `month` is invoiced: around
/// the 23rd of the next month.
pub fn invoice_date(month: NaiveDate, publisher: usize) -> NaiveDate {
    let next = month.checked_add_months(Months::new(1)).expect("in range");
    let the_23rd = NaiveDate::from_ymd_opt(next.year(), next.month(), 23).expect("a real date");
    the_23rd + chrono::Duration::days(PUBLISHERS[publisher].day_offset)
}
