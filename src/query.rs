//! What the user asks for: the query panel's choices, their validation, the
//! date presets, and the relay URL and file name they lead to. Pure, so it
//! is tested natively.

use billing::{Endpoint, Format, Generation, ProfileSummary};
use chrono::{Datelike, Months, NaiveDate};

/// Everything the query panel chooses. It lives in the page's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub profile: String,
    pub version: String,
    pub endpoint: Endpoint,
    pub format: Format,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Only for `subscriptiondetails`; kept as typed so it can be checked.
    pub subscription: String,
}

impl Query {
    /// The vendor's own default: the three months up to today, purchase
    /// invoices, XML on the legacy API.
    pub fn default_for(profile: &ProfileSummary, today: NaiveDate) -> Self {
        let (start, end) = Preset::LastThreeMonths.window(today);
        let generation = profile.generation;
        Self {
            profile: profile.name.clone(),
            version: profile.versions.last().cloned().unwrap_or_default(),
            endpoint: profile.endpoints.first().copied().unwrap_or(Endpoint::Invoices),
            format: default_format(generation),
            start,
            end,
            subscription: String::new(),
        }
    }

    /// The query string of the page's own URL and of the relay's document
    /// route share these names.
    pub fn to_search(&self) -> String {
        let mut pairs = vec![
            ("profile", self.profile.clone()),
            ("version", self.version.clone()),
            ("endpoint", self.endpoint.path().to_owned()),
            ("format", self.format.extension().to_owned()),
        ];
        if self.endpoint == Endpoint::SubscriptionDetails {
            pairs.push(("subscription", self.subscription.clone()));
        } else {
            pairs.push(("start", self.start.to_string()));
            pairs.push(("end", self.end.to_string()));
        }
        encode_pairs(&pairs)
    }

    /// Reads a query back from a URL's search string; missing or bad parts
    /// are `None`, so a shared link with a typo still opens the page.
    pub fn from_search(search: &str, profiles: &[ProfileSummary], today: NaiveDate) -> Option<Self> {
        let pairs = decode_pairs(search);
        let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let profile = profiles.iter().find(|profile| Some(profile.name.as_str()) == get("profile"))?;
        let mut query = Self::default_for(profile, today);
        if let Some(version) = get("version").filter(|version| profile.versions.iter().any(|v| v == version))
        {
            query.version = version.to_owned();
        }
        if let Some(endpoint) =
            get("endpoint").and_then(Endpoint::from_path).filter(|e| profile.endpoints.contains(e))
        {
            query.endpoint = endpoint;
        }
        query.format = match get("format") {
            Some("json") => Format::Json,
            Some("xml") if profile.generation == Generation::Legacy => Format::Xml,
            _ => query.format,
        };
        let date = |name: &str| get(name).and_then(parse_iso_date);
        query.start = date("start").unwrap_or(query.start);
        query.end = date("end").unwrap_or(query.end);
        query.subscription = get("subscription").unwrap_or_default().to_owned();
        Some(query)
    }

    /// The relay URL that answers this query; `download` asks for a file.
    pub fn relay_path(&self, download: bool) -> String {
        let mut pairs = vec![("format", self.format.extension().to_owned())];
        if self.endpoint == Endpoint::SubscriptionDetails {
            pairs.push(("subscription", self.subscription.trim().to_owned()));
        } else {
            pairs.push(("start", self.start.to_string()));
            pairs.push(("end", self.end.to_string()));
        }
        if download {
            pairs.push(("download", "1".to_owned()));
        }
        format!(
            "/api/documents/{}/{}/{}?{}",
            encode(&self.profile),
            encode(&self.version),
            self.endpoint.path(),
            encode_pairs(&pairs)
        )
    }

    /// The name the relay gives the raw file, and the stem of every other
    /// download: `invoices_v3_2026-01-01_2026-03-31`.
    pub fn file_stem(&self) -> String {
        let what = if self.endpoint == Endpoint::SubscriptionDetails {
            self.subscription.trim().to_owned()
        } else {
            format!("{}_{}", self.start, self.end)
        };
        format!("{}_{}_{what}", self.endpoint.path(), self.version)
    }

    /// Why the query cannot be fetched as it is, in the order a person
    /// would fix them; empty when it can.
    pub fn problems(&self, today: NaiveDate) -> Vec<String> {
        let mut problems = Vec::new();
        if self.endpoint == Endpoint::SubscriptionDetails {
            let id = self.subscription.trim();
            if id.is_empty() {
                problems.push("Enter the subscription id.".to_owned());
            } else if id.len() > 20 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
                problems.push(format!("A subscription id is a number, not “{id}”."));
            }
            return problems;
        }
        if self.start > self.end {
            problems.push(format!("The start date {} is after the end date {}.", self.start, self.end));
        }
        if self.start > today {
            problems.push(format!(
                "The window starts in the future ({}): the vendor has no invoices dated after today.",
                self.start
            ));
        }
        problems
    }
}

/// The query for the other side of the margin, in the same window: the
/// customer document for purchase invoices and the other way round, as far
/// as the profile offers it.
pub fn other_side(query: &Query, offered: &[Endpoint]) -> Option<Query> {
    let candidates: &[Endpoint] = match query.endpoint {
        Endpoint::Invoices => &[Endpoint::CustomerInvoices, Endpoint::CustomerSpecifications],
        Endpoint::CustomerInvoices | Endpoint::CustomerSpecifications => &[Endpoint::Invoices],
        _ => &[],
    };
    let endpoint = candidates.iter().copied().find(|endpoint| offered.contains(endpoint))?;
    Some(Query { endpoint, ..query.clone() })
}

pub fn default_format(generation: Generation) -> Format {
    match generation {
        Generation::Legacy => Format::Xml,
        Generation::Current => Format::Json,
    }
}

/// The date windows a finance person asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    LastMonth,
    LastThreeMonths,
    ThisQuarter,
    LastQuarter,
    ThisYear,
    LastYear,
}

impl Preset {
    pub const ALL: [Preset; 6] = [
        Self::LastMonth,
        Self::LastThreeMonths,
        Self::ThisQuarter,
        Self::LastQuarter,
        Self::ThisYear,
        Self::LastYear,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::LastMonth => "Last month",
            Self::LastThreeMonths => "Last three months",
            Self::ThisQuarter => "This quarter",
            Self::LastQuarter => "Last quarter",
            Self::ThisYear => "This year",
            Self::LastYear => "Last year",
        }
    }

    /// The inclusive window on `today`. "Last three months" is the vendor's
    /// default window: the three months up to today.
    pub fn window(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let month_start = first_of_month(today);
        let quarter_start = first_of_month(
            NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1).expect("a real date"),
        );
        match self {
            Self::LastMonth => {
                let start = month_start.checked_sub_months(Months::new(1)).expect("in range");
                (start, last_of_month(start))
            }
            Self::LastThreeMonths => (today.checked_sub_months(Months::new(3)).expect("in range"), today),
            Self::ThisQuarter => (quarter_start, today),
            Self::LastQuarter => {
                let start = quarter_start.checked_sub_months(Months::new(3)).expect("in range");
                (start, quarter_start.pred_opt().expect("in range"))
            }
            Self::ThisYear => (NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("a real date"), today),
            Self::LastYear => (
                NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).expect("a real date"),
                NaiveDate::from_ymd_opt(today.year() - 1, 12, 31).expect("a real date"),
            ),
        }
    }
}

/// The window that holds the invoices for service month `month` (its first
/// day): the vendor dates them around the 23rd of the next month, so the
/// window is the 16th to the last day of that month.
pub fn invoice_run_window(month: NaiveDate) -> (NaiveDate, NaiveDate, String) {
    let next = first_of_month(month).checked_add_months(Months::new(1)).expect("in range");
    let start = next.with_day(16).expect("every month has a 16th");
    let reason = format!(
        "Invoices for {} are dated around the 23rd of {}, so this window covers {} to {}.",
        month_label(month),
        month_label(next),
        start,
        last_of_month(next)
    );
    (start, last_of_month(next), reason)
}

/// `2026-03-31` as the browser's date inputs write it; chrono's own parser
/// would add its whole format machinery to the app.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits =
        |part: &str, length: usize| part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `December 2026`.
pub fn month_label(date: NaiveDate) -> String {
    format!("{} {}", MONTHS[date.month0() as usize], date.year())
}

/// The window just before `start`..=`end`, of the same length: a window
/// ending on a month's last day moves by whole months (the invoice run for
/// month M becomes the run for month M−1, a quarter the quarter before);
/// any other by its number of days.
pub fn earlier_window(start: NaiveDate, end: NaiveDate) -> (NaiveDate, NaiveDate) {
    if end == last_of_month(end) {
        let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32 + 1;
        let back = Months::new(months.max(1) as u32);
        if let (Some(earlier_start), Some(earlier_end)) =
            (start.checked_sub_months(back), end.checked_sub_months(back))
        {
            return (earlier_start, last_of_month(earlier_end));
        }
    }
    let days = (end - start).num_days() + 1;
    let earlier_end = start.pred_opt().unwrap_or(start);
    (earlier_end - chrono::Duration::days(days - 1), earlier_end)
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

fn last_of_month(date: NaiveDate) -> NaiveDate {
    first_of_month(date).checked_add_months(Months::new(1)).expect("in range").pred_opt().expect("in range")
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn encode_pairs(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(key, value)| format!("{key}={}", encode(value))).collect::<Vec<_>>().join("&")
}

pub(crate) fn decode_pairs(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_earlier_window_is_the_one_just_before_of_the_same_length() {
        let date = |text: &str| text.parse::<NaiveDate>().unwrap();
        let (run_start, run_end, _) = invoice_run_window(date("2026-10-01"));
        let (earlier_start, earlier_end, _) = invoice_run_window(date("2026-09-01"));
        assert_eq!(
            earlier_window(run_start, run_end),
            (earlier_start, earlier_end),
            "the run of the month before"
        );
        assert_eq!(
            earlier_window(date("2026-07-01"), date("2026-09-30")),
            (date("2026-04-01"), date("2026-06-30"))
        );
        assert_eq!(
            earlier_window(date("2026-03-01"), date("2026-03-31")),
            (date("2026-02-01"), date("2026-02-28"))
        );
        assert_eq!(
            earlier_window(date("2026-08-25"), date("2026-11-25")),
            (date("2026-05-24"), date("2026-08-24")),
            "93 days before"
        );
    }

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn legacy() -> ProfileSummary {
        ProfileSummary {
            name: "demo prod".to_owned(),
            environment: "DEMO".to_owned(),
            generation: Generation::Legacy,
            versions: vec!["v1".into(), "v2".into(), "v3".into()],
            endpoints: Generation::Legacy.endpoints().to_vec(),
        }
    }

    #[test]
    fn presets_give_the_windows_a_finance_person_means() {
        let today = date("2026-11-25");
        let windows: Vec<_> = Preset::ALL.iter().map(|preset| preset.window(today)).collect();
        assert_eq!(
            windows,
            [
                (date("2026-10-01"), date("2026-10-31")),
                (date("2026-08-25"), date("2026-11-25")),
                (date("2026-10-01"), date("2026-11-25")),
                (date("2026-07-01"), date("2026-09-30")),
                (date("2026-01-01"), date("2026-11-25")),
                (date("2025-01-01"), date("2025-12-31")),
            ]
        );
        assert_eq!(Preset::LastQuarter.window(date("2026-01-15")), (date("2025-10-01"), date("2025-12-31")));
        assert_eq!(Preset::LastMonth.window(date("2026-03-31")), (date("2026-02-01"), date("2026-02-28")));
    }

    #[test]
    fn an_invoice_run_window_surrounds_the_23rd_of_the_next_month_and_says_why() {
        let (start, end, reason) = invoice_run_window(date("2026-12-01"));
        assert_eq!((start, end), (date("2027-01-16"), date("2027-01-31")));
        assert!(reason.contains("December 2026") && reason.contains("23rd of January 2027"), "{reason}");
    }

    #[test]
    fn the_query_survives_the_url_and_builds_the_relay_path() {
        let profile = legacy();
        let mut query = Query::default_for(&profile, date("2026-11-25"));
        assert_eq!(
            (query.version.as_str(), query.format, query.endpoint),
            ("v3", Format::Xml, Endpoint::Invoices)
        );
        query.format = Format::Json;
        query.endpoint = Endpoint::CustomerInvoices;
        let search = query.to_search();
        assert_eq!(
            search,
            "profile=demo%20prod&version=v3&endpoint=customerinvoices&format=json&start=2026-08-25&end=2026-11-25"
        );
        assert_eq!(
            Query::from_search(&format!("?{search}"), std::slice::from_ref(&profile), date("2026-11-25")),
            Some(query.clone())
        );
        assert_eq!(
            query.relay_path(true),
            "/api/documents/demo%20prod/v3/customerinvoices?format=json&start=2026-08-25&end=2026-11-25&download=1"
        );
        assert_eq!(query.file_stem(), "customerinvoices_v3_2026-08-25_2026-11-25");
        assert_eq!(Query::from_search("profile=nobody", &[profile], date("2026-11-25")), None);
    }

    #[test]
    fn a_link_with_bad_parts_keeps_the_good_ones() {
        let search =
            "profile=demo%20prod&version=v9&endpoint=nothing&format=csv&start=2026-02-30&end=2026-03-31";
        let query = Query::from_search(search, &[legacy()], date("2026-11-25")).unwrap();
        assert_eq!(
            (query.version.as_str(), query.endpoint, query.format),
            ("v3", Endpoint::Invoices, Format::Xml)
        );
        assert_eq!((query.start, query.end), (date("2026-08-25"), date("2026-03-31")));
    }

    #[test]
    fn the_other_side_of_the_margin_is_what_the_generation_offers() {
        let today = date("2026-11-25");
        let legacy_query = Query::default_for(&legacy(), today);
        let other = other_side(&legacy_query, Generation::Legacy.endpoints()).unwrap();
        assert_eq!(
            (other.endpoint, other.start, other.end),
            (Endpoint::CustomerInvoices, legacy_query.start, legacy_query.end)
        );
        let current = other_side(&legacy_query, Generation::Current.endpoints()).unwrap();
        assert_eq!(current.endpoint, Endpoint::CustomerSpecifications);
        assert_eq!(other_side(&other, Generation::Legacy.endpoints()).unwrap().endpoint, Endpoint::Invoices);
        let consolidated = Query { endpoint: Endpoint::ConsolidatedInvoices, ..legacy_query };
        assert_eq!(other_side(&consolidated, Generation::Legacy.endpoints()), None);
    }

    #[test]
    fn iso_dates_are_read_strictly() {
        assert_eq!(parse_iso_date("2026-02-28"), Some(date("2026-02-28")));
        for bad in ["2026-02-30", "2026-2-28", "20260228", "2026-02-28x", "", "2026-02"] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
        assert_eq!(month_label(date("2026-12-05")), "December 2026");
    }

    #[test]
    fn problems_name_reversed_and_future_windows_and_bad_ids() {
        let today = date("2026-11-25");
        let mut query = Query::default_for(&legacy(), today);
        assert!(query.problems(today).is_empty());
        (query.start, query.end) = (date("2026-12-01"), date("2026-11-01"));
        assert_eq!(
            query.problems(today),
            [
                "The start date 2026-12-01 is after the end date 2026-11-01.",
                "The window starts in the future (2026-12-01): the vendor has no invoices dated after today."
            ]
        );
        query.endpoint = Endpoint::SubscriptionDetails;
        assert_eq!(query.problems(today), ["Enter the subscription id."]);
        query.subscription = "12a".to_owned();
        assert_eq!(query.problems(today), ["A subscription id is a number, not “12a”."]);
        query.subscription = " 123456 ".to_owned();
        assert!(query.problems(today).is_empty());
        assert_eq!(
            query.relay_path(false),
            "/api/documents/demo%20prod/v3/subscriptiondetails?format=xml&subscription=123456"
        );
    }
}
