//! What the user asks for: the query panel's choices as typed, the date
//! presets, and the document request they make. Pure, so it is tested
//! natively; the request's own rules (defaults, ids, windows, the relay's
//! URL, file names) are billing's.

use billing::{
    Endpoint, Format, Generation, ProfileSummary,
    api::{
        DateWindow, DocumentRequest, RequestError, Scope, SubscriptionId,
        request::{decode_query, encode_query},
    },
};
use chrono::{Datelike, Months, NaiveDate};

pub use billing::api::request::parse_iso_date;

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
    /// The vendor's own defaults for `profile` (billing's
    /// [`DocumentRequest::default_for`]), as the panel shows them.
    pub fn default_for(profile: &ProfileSummary, today: NaiveDate) -> Self {
        let request = DocumentRequest::default_for(profile, today);
        let window = request.window().unwrap_or_else(|| DateWindow::default_on(today));
        Self {
            profile: request.profile().to_owned(),
            version: request.version().to_owned(),
            endpoint: request.endpoint(),
            format: request.format(),
            start: window.start(),
            end: window.end(),
            subscription: String::new(),
        }
    }

    /// The panel showing exactly `request`; a subscription keeps the
    /// default window beside it.
    pub fn from_request(request: &DocumentRequest, today: NaiveDate) -> Self {
        let (window, subscription) = match request.scope() {
            Scope::Window(window) => (*window, String::new()),
            Scope::Subscription(id) => (DateWindow::default_on(today), id.as_str().to_owned()),
        };
        Self {
            profile: request.profile().to_owned(),
            version: request.version().to_owned(),
            endpoint: request.endpoint(),
            format: request.format(),
            start: window.start(),
            end: window.end(),
            subscription,
        }
    }

    /// One line for the folded panel: profile, endpoint, window or
    /// subscription, format.
    pub fn summary(&self) -> String {
        let scope = if self.endpoint == Endpoint::SubscriptionDetails {
            format!("subscription {}", self.subscription.trim())
        } else {
            format!("{} to {}", self.start, self.end)
        };
        format!("{} · {} {} · {} · {}", self.profile, self.endpoint.path(), self.version, scope, self.format)
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
        encode_query(&pairs)
    }

    /// Reads a query back from a URL's search string; missing or bad parts
    /// are `None`, so a shared link with a typo still opens the page.
    pub fn from_search(search: &str, profiles: &[ProfileSummary], today: NaiveDate) -> Option<Self> {
        let pairs = decode_query(search);
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

    /// The document this query asks for; the id is trimmed of what a
    /// paste brings along.
    pub fn request(&self) -> Result<DocumentRequest, RequestError> {
        let scope = if self.endpoint == Endpoint::SubscriptionDetails {
            Scope::Subscription(SubscriptionId::parse(self.subscription.trim())?)
        } else {
            Scope::Window(DateWindow::new(self.start, self.end)?)
        };
        DocumentRequest::new(self.profile.clone(), self.version.clone(), self.endpoint, self.format, scope)
    }

    /// Why the query cannot be fetched as it is, in the order a person
    /// would fix them; empty when it can.
    pub fn problems(&self, today: NaiveDate) -> Vec<String> {
        let mut problems = Vec::new();
        match self.request() {
            Err(RequestError::MissingSubscription) => problems.push("Enter the subscription id.".to_owned()),
            Err(RequestError::BadSubscription(_)) => {
                problems.push(format!("A subscription id is a number, not “{}”.", self.subscription.trim()));
            }
            Err(RequestError::Reversed(reversed)) => problems
                .push(format!("The start date {} is after the end date {}.", reversed.start, reversed.end)),
            // The panel offers only what the profile has; the relay's own
            // wording of the rest stays out of the page's download.
            Err(_) => problems.push("The relay would refuse this query; reload the page.".to_owned()),
            Ok(_) => {}
        }
        if self.endpoint != Endpoint::SubscriptionDetails && self.start > today {
            problems.push(format!(
                "The window starts in the future ({}): the vendor has no invoices dated after today.",
                self.start
            ));
        }
        problems
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
            Self::LastThreeMonths => {
                let window = DateWindow::default_on(today);
                (window.start(), window.end())
            }
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

    use billing::Role;

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
            role: Role::Read,
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
        let request = query.request().unwrap();
        assert_eq!(
            request.relay_path(true),
            "/api/documents/demo%20prod/v3/customerinvoices?format=json&start=2026-08-25&end=2026-11-25&download=1"
        );
        assert_eq!(request.file_stem(), "customerinvoices_v3_2026-08-25_2026-11-25");
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
    fn a_link_crates_billing_makes_opens_its_document() {
        let today = date("2026-11-25");
        let request = Query::default_for(&legacy(), today).request().unwrap();
        let opened = Query::from_search(&request.page_path()[1..], &[legacy()], today).unwrap();
        assert_eq!(opened.request().unwrap(), request);
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
            query.request().unwrap().relay_path(false),
            "/api/documents/demo%20prod/v3/subscriptiondetails?format=xml&subscription=123456"
        );
        query.subscription = " 007 ".to_owned();
        assert_eq!(query.request().unwrap().file_stem(), "subscriptiondetails_v3_007", "leading zeros kept");
    }
}
