//! The publishers and products the emulated reseller buys from its distributor (the vendor).

use rust_decimal::Decimal;

pub struct Publisher {
    pub name: &'static str,
    pub currency: &'static str,
    /// Telecom services are reverse-charged: VAT 0 with a tax zone saying so.
    pub reverse_charged: bool,
    /// Days from the 23rd that this vendor's billing run lands on.
    pub day_offset: i64,
}

pub const PUBLISHERS: [Publisher; 5] = [
    Publisher { name: "Microsoft", currency: "EUR", reverse_charged: false, day_offset: 0 },
    Publisher { name: "VMware", currency: "EUR", reverse_charged: false, day_offset: -1 },
    Publisher { name: "Acronis", currency: "USD", reverse_charged: false, day_offset: 1 },
    Publisher { name: "Dropbox", currency: "EUR", reverse_charged: false, day_offset: 0 },
    Publisher { name: "KPN Zakelijk", currency: "EUR", reverse_charged: true, day_offset: 2 },
];

pub enum Pricing {
    /// A monthly price per seat.
    Licence { monthly: Decimal },
    /// Metered: around `typical` units a month at `rate` each.
    Usage { unit: &'static str, rate: Decimal, typical: u32 },
}

pub struct Product {
    pub publisher: usize,
    pub name: &'static str,
    pub plan_id: u64,
    pub category_id: u64,
    pub category: &'static str,
    pub sku: &'static str,
    pub pricing: Pricing,
    /// A one-time setup fee charged in the first month.
    pub setup_fee: Option<Decimal>,
    /// Hardware sometimes sold with the service: name and unit price.
    pub item: Option<(&'static str, Decimal)>,
}

const fn licence(monthly: i64) -> Pricing {
    Pricing::Licence { monthly: Decimal::from_parts(monthly as u32, 0, 0, false, 2) }
}

const fn usage(unit: &'static str, rate: i64, typical: u32) -> Pricing {
    Pricing::Usage { unit, rate: Decimal::from_parts(rate as u32, 0, 0, false, 4), typical }
}

const fn cents(amount: i64) -> Decimal {
    Decimal::from_parts(amount as u32, 0, 0, false, 2)
}

pub const PRODUCTS: [Product; 13] = [
    Product {
        publisher: 0,
        name: "Microsoft 365 Business Basic",
        plan_id: 301,
        category_id: 12,
        category: "Microsoft 365",
        sku: "CFQ7TTC0LH18:0001",
        pricing: licence(510),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 0,
        name: "Microsoft 365 Business Standard",
        plan_id: 302,
        category_id: 12,
        category: "Microsoft 365",
        sku: "CFQ7TTC0LDPB:0001",
        pricing: licence(1050),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 0,
        name: "Microsoft 365 Business Premium",
        plan_id: 303,
        category_id: 12,
        category: "Microsoft 365",
        sku: "CFQ7TTC0LCHC:0002",
        pricing: licence(1860),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 0,
        name: "Exchange Online (Plan 1)",
        plan_id: 304,
        category_id: 13,
        category: "Exchange",
        sku: "CFQ7TTC0LH16:0001",
        pricing: licence(340),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 0,
        name: "Azure plan",
        plan_id: 310,
        category_id: 14,
        category: "Azure",
        sku: "DZH318Z0BPS6:0001",
        pricing: usage("compute hours", 832, 720),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 1,
        name: "VMware Cloud Director vCPU",
        plan_id: 411,
        category_id: 21,
        category: "Private cloud",
        sku: "VMW-VCD-VCPU",
        pricing: usage("vCPU hours", 125, 2880),
        setup_fee: Some(cents(15000)),
        item: None,
    },
    Product {
        publisher: 1,
        name: "VMware vSAN storage",
        plan_id: 412,
        category_id: 21,
        category: "Private cloud",
        sku: "VMW-VSAN-GB",
        pricing: usage("GB", 450, 2000),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 2,
        name: "Acronis Cyber Protect Cloud, workstation",
        plan_id: 501,
        category_id: 31,
        category: "Backup",
        sku: "ACR-CPC-WS",
        pricing: licence(325),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 2,
        name: "Acronis backup storage",
        plan_id: 502,
        category_id: 31,
        category: "Backup",
        sku: "ACR-CPC-GB",
        pricing: usage("GB", 390, 500),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 3,
        name: "Dropbox Business Standard",
        plan_id: 601,
        category_id: 41,
        category: "File sharing",
        sku: "DBX-BUS-STD",
        pricing: licence(1200),
        setup_fee: None,
        item: None,
    },
    Product {
        publisher: 4,
        name: "SIP trunk channel",
        plan_id: 701,
        category_id: 51,
        category: "Telephony",
        sku: "KPN-SIP-CH",
        pricing: licence(495),
        setup_fee: Some(cents(4900)),
        item: None,
    },
    Product {
        publisher: 4,
        name: "Hosted telephony seat",
        plan_id: 702,
        category_id: 51,
        category: "Telephony",
        sku: "KPN-HT-SEAT",
        pricing: licence(750),
        setup_fee: Some(cents(4900)),
        item: Some(("Yealink T54W desk phone", cents(18900))),
    },
    Product {
        publisher: 4,
        name: "Mobile data bundle 10 GB",
        plan_id: 703,
        category_id: 52,
        category: "Mobile",
        sku: "KPN-MOB-10",
        pricing: licence(1250),
        setup_fee: None,
        item: None,
    },
];

/// The Dutch and French names of the catalogue's words, for localised plan
/// and resource names.
pub fn translations(english: &str) -> [(&'static str, String); 2] {
    let (dutch, french) = match english {
        "Licences" => ("Licenties", "Licences"),
        "Storage" => ("Opslag", "Stockage"),
        "Usage" => ("Verbruik", "Consommation"),
        _ => return [("nl", english.to_owned()), ("fr", english.to_owned())],
    };
    [("nl", dutch.to_owned()), ("fr", french.to_owned())]
}
