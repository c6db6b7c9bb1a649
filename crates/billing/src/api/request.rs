//! One document request, the same from the query panel to the vendor: the
//! page builds one, the worker carries it, the relay parses one from its
//! route and applies the profile's rules, and the emulator reads the
//! vendor's side with the same rules. Its parts are checked once, when it
//! is made; after that each form (the relay's path and query, the vendor's,
//! the file name) is written from it.

use std::fmt;

use chrono::{Months, NaiveDate};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{Endpoint, ErrorCode, Generation, ProfileSummary, routes, vendor};
use crate::Format;

/// Echoed text is cut to this many characters: it comes from the client.
const ECHOED_CHARS: usize = 64;
/// The longest subscription id the vendor issues, in digits.
pub const SUBSCRIPTION_ID_MAX_DIGITS: usize = 20;
/// Everything but RFC 3986's unreserved characters is percent-encoded.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Why a request cannot be made as asked. The wording is the relay's; the
/// page words the few a person meets in the panel its own way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("profile {profile} does not offer API version `{version}`")]
    UnknownVersion { profile: String, version: String },
    #[error("profile {profile} does not offer the endpoint `{endpoint}`")]
    UnknownEndpoint { profile: String, endpoint: String },
    #[error("unknown parameter `{0}`; a document takes start, end, format, subscription and download")]
    UnknownParameter(String),
    #[error("{0} is given more than once")]
    RepeatedParameter(&'static str),
    #[error("format must be xml or json, not `{0}`")]
    BadFormat(String),
    #[error("format: the current API answers in JSON only")]
    JsonOnly,
    #[error("download must be 1 or 0, not `{0}`")]
    BadDownload(String),
    #[error("subscriptiondetails takes a subscription, not dates")]
    DatesForSubscription,
    #[error("subscription: subscriptiondetails needs a subscription id")]
    MissingSubscription,
    #[error("subscription must be a number, not `{0}`")]
    BadSubscription(String),
    #[error("{} takes no subscription", .0.path())]
    SubscriptionForWindow(Endpoint),
    #[error("{name} must be a date written YYYY-MM-DD, not `{text}`")]
    BadDate { name: &'static str, text: String },
    #[error(transparent)]
    Reversed(#[from] ReversedWindow),
}

/// A window whose start is after its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("start {start} is after end {end}")]
pub struct ReversedWindow {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl RequestError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownVersion { .. } => ErrorCode::UnknownVersion,
            Self::UnknownEndpoint { .. } => ErrorCode::UnknownEndpoint,
            _ => ErrorCode::BadParameter,
        }
    }
}

/// Client text as an error repeats it: cut short.
pub fn echoed(text: &str) -> String {
    text.chars().take(ECHOED_CHARS).collect()
}

/// A subscription as the vendor numbers it, kept as the text given: `007`
/// stays `007` in the relay's query, the vendor's and the file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubscriptionId(String);

impl SubscriptionId {
    /// Digits only, one to twenty of them; the panel trims what was typed
    /// before it asks.
    pub fn parse(text: &str) -> Result<Self, RequestError> {
        if text.is_empty() {
            return Err(RequestError::MissingSubscription);
        }
        if text.len() > SUBSCRIPTION_ID_MAX_DIGITS || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(RequestError::BadSubscription(echoed(text)));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SubscriptionId {
    type Error = RequestError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<SubscriptionId> for String {
    fn from(id: SubscriptionId) -> Self {
        id.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Invoice dates from `start` to `end`, both included; never reversed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "(NaiveDate, NaiveDate)", into = "(NaiveDate, NaiveDate)")]
pub struct DateWindow {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateWindow {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, ReversedWindow> {
        if start > end {
            return Err(ReversedWindow { start, end });
        }
        Ok(Self { start, end })
    }

    /// The vendor's default: the three months up to today.
    pub fn default_on(today: NaiveDate) -> Self {
        Self::from_bounds(None, None, today).expect("three months back is before today")
    }

    /// The window with the bounds given; a missing end is today, a missing
    /// start three months before the end, as the vendor reads them.
    pub fn from_bounds(
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, ReversedWindow> {
        let end = end.unwrap_or(today);
        let start = start.unwrap_or_else(|| end.checked_sub_months(Months::new(3)).unwrap_or(end));
        Self::new(start, end)
    }

    pub fn start(self) -> NaiveDate {
        self.start
    }

    pub fn end(self) -> NaiveDate {
        self.end
    }
}

impl TryFrom<(NaiveDate, NaiveDate)> for DateWindow {
    type Error = ReversedWindow;

    fn try_from((start, end): (NaiveDate, NaiveDate)) -> Result<Self, Self::Error> {
        Self::new(start, end)
    }
}

impl From<DateWindow> for (NaiveDate, NaiveDate) {
    fn from(window: DateWindow) -> Self {
        (window.start, window.end)
    }
}

/// What a document covers: a window of invoice dates, or one subscription.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Window(DateWindow),
    Subscription(SubscriptionId),
}

/// One document of one profile, as the vendor serves it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Parts", into = "Parts")]
pub struct DocumentRequest {
    profile: String,
    version: String,
    endpoint: Endpoint,
    format: Format,
    scope: Scope,
}

/// A request's parts before they are known to fit together.
#[derive(Serialize, Deserialize)]
struct Parts {
    profile: String,
    version: String,
    endpoint: Endpoint,
    format: Format,
    scope: Scope,
}

impl TryFrom<Parts> for DocumentRequest {
    type Error = RequestError;

    fn try_from(parts: Parts) -> Result<Self, Self::Error> {
        Self::new(parts.profile, parts.version, parts.endpoint, parts.format, parts.scope)
    }
}

impl From<DocumentRequest> for Parts {
    fn from(request: DocumentRequest) -> Self {
        let DocumentRequest { profile, version, endpoint, format, scope } = request;
        Self { profile, version, endpoint, format, scope }
    }
}

impl DocumentRequest {
    /// A request whose scope fits its endpoint: a subscription for
    /// `subscriptiondetails`, a window for every other.
    pub fn new(
        profile: impl Into<String>,
        version: impl Into<String>,
        endpoint: Endpoint,
        format: Format,
        scope: Scope,
    ) -> Result<Self, RequestError> {
        match (&scope, endpoint) {
            (Scope::Window(_), Endpoint::SubscriptionDetails) => {
                return Err(RequestError::MissingSubscription);
            }
            (Scope::Subscription(_), endpoint) if endpoint != Endpoint::SubscriptionDetails => {
                return Err(RequestError::SubscriptionForWindow(endpoint));
            }
            _ => {}
        }
        Ok(Self { profile: profile.into(), version: version.into(), endpoint, format, scope })
    }

    /// The vendor's defaults for `profile` on `today`: its newest version,
    /// its first endpoint, its generation's format, the last three months.
    pub fn default_for(profile: &ProfileSummary, today: NaiveDate) -> Self {
        let endpoint = profile
            .endpoints
            .iter()
            .copied()
            .find(|endpoint| *endpoint != Endpoint::SubscriptionDetails)
            .unwrap_or(Endpoint::Invoices);
        Self {
            profile: profile.name.clone(),
            version: profile.versions.last().cloned().unwrap_or_default(),
            endpoint,
            format: profile.generation.default_format(),
            scope: Scope::Window(DateWindow::default_on(today)),
        }
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn window(&self) -> Option<DateWindow> {
        match self.scope {
            Scope::Window(window) => Some(window),
            Scope::Subscription(_) => None,
        }
    }

    /// The same window of another endpoint; `None` for a subscription's.
    pub fn with_endpoint(&self, endpoint: Endpoint) -> Option<Self> {
        Self::new(self.profile.clone(), self.version.clone(), endpoint, self.format, self.scope.clone()).ok()
    }

    /// The other side of the margin in the same window: the customer
    /// document for purchase invoices and the other way round, as far as
    /// `offered` goes.
    pub fn other_side(&self, offered: &[Endpoint]) -> Option<Self> {
        let candidates: &[Endpoint] = match self.endpoint {
            Endpoint::Invoices => &[Endpoint::CustomerInvoices, Endpoint::CustomerSpecifications],
            Endpoint::CustomerInvoices | Endpoint::CustomerSpecifications => &[Endpoint::Invoices],
            _ => &[],
        };
        let endpoint = candidates.iter().copied().find(|endpoint| offered.contains(endpoint))?;
        self.with_endpoint(endpoint)
    }

    /// The same documents for another window; `None` for a subscription's.
    pub fn with_window(&self, window: DateWindow) -> Option<Self> {
        self.window().map(|_| Self { scope: Scope::Window(window), ..self.clone() })
    }

    /// The page's own address for this document, `/?profile=…&version=…&
    /// endpoint=…&format=…&start=…&end=…`: opened, the page fetches it (or
    /// offers the archive's copy).
    pub fn page_path(&self) -> String {
        let mut pairs = vec![
            ("profile", self.profile.clone()),
            ("version", self.version.clone()),
            ("endpoint", self.endpoint.path().to_owned()),
            ("format", self.format.extension().to_owned()),
        ];
        match &self.scope {
            Scope::Window(window) => {
                pairs.push(("start", window.start.to_string()));
                pairs.push(("end", window.end.to_string()));
            }
            Scope::Subscription(id) => pairs.push(("subscription", id.to_string())),
        }
        format!("/?{}", encode_query(&pairs))
    }

    /// The relay's route for this document: `/api/documents/{profile}/
    /// {version}/{endpoint}?format=…&start=…&end=…`; `download` asks for a
    /// file.
    pub fn relay_path(&self, download: bool) -> String {
        let mut pairs = vec![("format", self.format.extension().to_owned())];
        match &self.scope {
            Scope::Window(window) => {
                pairs.push(("start", window.start.to_string()));
                pairs.push(("end", window.end.to_string()));
            }
            Scope::Subscription(id) => pairs.push(("subscription", id.to_string())),
        }
        if download {
            pairs.push(("download", "1".to_owned()));
        }
        format!(
            "{}/{}/{}/{}?{}",
            routes::DOCUMENTS,
            encode(&self.profile),
            encode(&self.version),
            self.endpoint.path(),
            encode_query(&pairs)
        )
    }

    /// The relay's route read back: the path's segments (decoded) and its
    /// query, against what `profile` offers, on `today`.
    pub fn from_relay(
        profile: &ProfileSummary,
        version: &str,
        endpoint: &str,
        query: &RelayQuery,
        today: NaiveDate,
    ) -> Result<Self, RequestError> {
        if !profile.versions.iter().any(|offered| offered == version) {
            return Err(RequestError::UnknownVersion {
                profile: profile.name.clone(),
                version: echoed(version),
            });
        }
        let Some(endpoint) =
            Endpoint::from_path(endpoint).filter(|endpoint| profile.endpoints.contains(endpoint))
        else {
            return Err(RequestError::UnknownEndpoint {
                profile: profile.name.clone(),
                endpoint: echoed(endpoint),
            });
        };
        let format = match (query.format.as_deref(), profile.generation) {
            (None, generation) => generation.default_format(),
            (Some("xml"), Generation::Legacy) => Format::Xml,
            (Some("json"), _) => Format::Json,
            (Some("xml"), Generation::Current) => return Err(RequestError::JsonOnly),
            (Some(other), _) => return Err(RequestError::BadFormat(echoed(other))),
        };
        let scope = if endpoint == Endpoint::SubscriptionDetails {
            if query.start.is_some() || query.end.is_some() {
                return Err(RequestError::DatesForSubscription);
            }
            let Some(id) = query.subscription.as_deref() else {
                return Err(RequestError::MissingSubscription);
            };
            Scope::Subscription(SubscriptionId::parse(id)?)
        } else {
            if query.subscription.is_some() {
                return Err(RequestError::SubscriptionForWindow(endpoint));
            }
            let date = |name: &'static str, text: Option<&str>| {
                text.map(|text| {
                    parse_iso_date(text).ok_or_else(|| RequestError::BadDate { name, text: echoed(text) })
                })
                .transpose()
            };
            let (start, end) = (date("start", query.start.as_deref())?, date("end", query.end.as_deref())?);
            Scope::Window(DateWindow::from_bounds(start, end, today)?)
        };
        Self::new(profile.name.clone(), version, endpoint, format, scope)
    }

    /// The vendor's path for this document on a profile of `generation`.
    pub fn vendor_path(&self, generation: Generation) -> String {
        vendor::path(generation, &self.version, self.endpoint)
    }

    /// The vendor's query parameters for this document, as the emulator
    /// reads them back.
    pub fn vendor_query(&self) -> Vec<(&'static str, String)> {
        match &self.scope {
            Scope::Window(window) => vec![
                (vendor::START_DATE, vendor::format_date(window.start)),
                (vendor::END_DATE, vendor::format_date(window.end)),
            ],
            Scope::Subscription(id) => vec![(vendor::SUBSCRIPTION_ID, id.to_string())],
        }
    }

    /// The name of the raw file without its extension, and the stem of
    /// every download made from it: `invoices_v3_2026-01-01_2026-03-31`,
    /// `subscriptiondetails_v3_007`.
    pub fn file_stem(&self) -> String {
        let what = match &self.scope {
            Scope::Window(window) => format!("{}_{}", window.start, window.end),
            Scope::Subscription(id) => id.to_string(),
        };
        let version: String = self
            .version
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
            .collect();
        format!("{}_{version}_{what}", self.endpoint.path())
    }

    /// The raw file's name: `invoices_v3_2026-01-01_2026-03-31.xml`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.file_stem(), self.format.extension())
    }

    /// The media type the document comes in.
    pub fn media_type(&self) -> &'static str {
        self.format.media_type()
    }
}

/// The relay's document query as sent, each parameter at most once and
/// no other; its values are read against a profile by
/// [`DocumentRequest::from_relay`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayQuery {
    start: Option<String>,
    end: Option<String>,
    format: Option<String>,
    subscription: Option<String>,
    /// Whether the answer is to be a file download.
    pub download: bool,
}

impl RelayQuery {
    /// Reads `start`, `end`, `format`, `subscription` and `download` from
    /// a query string (without its `?`).
    pub fn parse(query: &str) -> Result<Self, RequestError> {
        let mut parsed = Self::default();
        let mut download = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (slot, name) = match name.as_ref() {
                "start" => (&mut parsed.start, "start"),
                "end" => (&mut parsed.end, "end"),
                "format" => (&mut parsed.format, "format"),
                "subscription" => (&mut parsed.subscription, "subscription"),
                "download" => (&mut download, "download"),
                other => return Err(RequestError::UnknownParameter(echoed(other))),
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(RequestError::RepeatedParameter(name));
            }
        }
        parsed.download = match download.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => return Err(RequestError::BadDownload(echoed(other))),
        };
        Ok(parsed)
    }
}

impl Generation {
    /// The format a request gets when it names none: the vendor's own
    /// default, XML on the legacy API.
    pub fn default_format(self) -> Format {
        match self {
            Self::Legacy => Format::Xml,
            Self::Current => Format::Json,
        }
    }
}

/// Why the vendor refuses a request's parameters, in the vendor's words
/// (its 400 bodies).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VendorParameterError {
    #[error("{name} must be a date written YYYYMMDD, not `{text}`")]
    BadDate { name: &'static str, text: String },
    #[error("startDate {} is after endDate {}", vendor::format_date(*.start), vendor::format_date(*.end))]
    Reversed { start: NaiveDate, end: NaiveDate },
    #[error("subscriptionId is required")]
    MissingSubscription,
    #[error("subscriptionId must be a number, not `{0}`")]
    BadSubscription(String),
}

/// What a request to `endpoint` covers, read from the vendor's parameters
/// (`parameter` looks one up by name) on `today`, by the same rules as
/// the relay's: the default window, no reversed dates, ids kept as text.
pub fn read_vendor_scope<'a>(
    endpoint: Endpoint,
    parameter: impl Fn(&str) -> Option<&'a str>,
    today: NaiveDate,
) -> Result<Scope, VendorParameterError> {
    if endpoint == Endpoint::SubscriptionDetails {
        let text = parameter(vendor::SUBSCRIPTION_ID).ok_or(VendorParameterError::MissingSubscription)?;
        return SubscriptionId::parse(text)
            .map(Scope::Subscription)
            .map_err(|_| VendorParameterError::BadSubscription(text.to_owned()));
    }
    let date = |name: &'static str| {
        parameter(name)
            .map(|text| {
                vendor::parse_date(text)
                    .ok_or_else(|| VendorParameterError::BadDate { name, text: text.to_owned() })
            })
            .transpose()
    };
    let (start, end) = (date(vendor::START_DATE)?, date(vendor::END_DATE)?);
    DateWindow::from_bounds(start, end, today)
        .map(Scope::Window)
        .map_err(|ReversedWindow { start, end }| VendorParameterError::Reversed { start, end })
}

/// `2026-03-31`, strictly: four, two and two digits of a real day.
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

/// A path segment or query value, percent-encoded but for unreserved
/// characters.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODED).to_string()
}

/// `name=value&…`, each value encoded.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect::<Vec<_>>().join("&")
}

/// A query string's pairs, decoded; a leading `?` is skipped.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::api::Role;

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_other_side_of_the_margin_is_what_the_generation_offers() {
        let window = Scope::Window(DateWindow::new(date("2026-08-01"), date("2026-08-31")).unwrap());
        let purchases = DocumentRequest::new("p", "v3", Endpoint::Invoices, Format::Xml, window).unwrap();
        let other = purchases.other_side(Generation::Legacy.endpoints()).unwrap();
        assert_eq!((other.endpoint(), other.window()), (Endpoint::CustomerInvoices, purchases.window()));
        let current = purchases.other_side(Generation::Current.endpoints()).unwrap();
        assert_eq!(current.endpoint(), Endpoint::CustomerSpecifications);
        assert_eq!(other.other_side(Generation::Legacy.endpoints()).unwrap().endpoint(), Endpoint::Invoices);
        let consolidated = purchases.with_endpoint(Endpoint::ConsolidatedInvoices).unwrap();
        assert_eq!(consolidated.other_side(Generation::Legacy.endpoints()), None);
    }

    fn profile(name: &str, generation: Generation) -> ProfileSummary {
        ProfileSummary {
            name: name.to_owned(),
            environment: "TEST".to_owned(),
            generation,
            versions: generation.versions().iter().map(|version| (*version).to_owned()).collect(),
            endpoints: generation.endpoints().to_vec(),
            role: Role::Read,
        }
    }

    /// The relay's reading of `path`: its segments decoded as axum decodes
    /// them, its query parsed.
    fn read_relay_path(path: &str, profile: &ProfileSummary, today: NaiveDate) -> (DocumentRequest, bool) {
        let (path, query) = path.split_once('?').unwrap();
        let segments: Vec<String> = path
            .strip_prefix(routes::DOCUMENTS)
            .unwrap()
            .split('/')
            .skip(1)
            .map(|segment| percent_encoding::percent_decode_str(segment).decode_utf8().unwrap().into_owned())
            .collect();
        assert_eq!(segments[0], profile.name, "the profile survives the path");
        let query = RelayQuery::parse(query).unwrap();
        let request =
            DocumentRequest::from_relay(profile, &segments[1], &segments[2], &query, today).unwrap();
        (request, query.download)
    }

    fn requests() -> impl Strategy<Value = (DocumentRequest, Generation)> {
        let generation = prop_oneof![Just(Generation::Legacy), Just(Generation::Current)];
        (generation, "\\PC{1,24}", 0usize..4, 0usize..4, any::<bool>(), 0u32..20000, 0u32..800, "[0-9]{1,20}")
            .prop_map(|(generation, name, version, endpoint, json, start, length, id)| {
                let version = generation.versions()[version % generation.versions().len()];
                let endpoint = generation.endpoints()[endpoint % generation.endpoints().len()];
                let format =
                    if json || generation == Generation::Current { Format::Json } else { Format::Xml };
                let start = date("2000-01-01") + chrono::Duration::days(start.into());
                let scope = if endpoint == Endpoint::SubscriptionDetails {
                    Scope::Subscription(SubscriptionId::parse(&id).unwrap())
                } else {
                    Scope::Window(
                        DateWindow::new(start, start + chrono::Duration::days(length.into())).unwrap(),
                    )
                };
                (DocumentRequest::new(name, version, endpoint, format, scope).unwrap(), generation)
            })
    }

    proptest! {
        #[test]
        fn a_request_survives_the_relays_route_the_vendors_query_and_the_worker(
            (request, generation) in requests(),
            download in any::<bool>(),
        ) {
            let summary = profile(request.profile(), generation);
            let today = date("2030-01-01");
            let (read, asked_download) = read_relay_path(&request.relay_path(download), &summary, today);
            prop_assert_eq!(&read, &request);
            prop_assert_eq!(asked_download, download);

            let pairs = request.vendor_query();
            let lookup = |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str());
            prop_assert_eq!(&read_vendor_scope(request.endpoint(), lookup, today).unwrap(), request.scope());
            prop_assert!(request.vendor_path(generation).ends_with(request.endpoint().path()));

            let json = serde_json::to_string(&request).unwrap();
            prop_assert_eq!(serde_json::from_str::<DocumentRequest>(&json).unwrap(), request.clone());

            let name = request.file_name();
            prop_assert!(name.is_ascii() && !name.contains(['/', '"', '\\', ' ']), "{}", name);
            if let Scope::Subscription(id) = request.scope() {
                prop_assert!(name.ends_with(&format!("_{id}.{}", request.format().extension())), "{}", name);
            }
        }
    }

    #[test]
    fn identifiers_are_kept_as_typed_with_their_leading_zeros() {
        let summary = profile("Zürich prod", Generation::Legacy);
        let query = RelayQuery::parse("subscription=007&format=json").unwrap();
        let request =
            DocumentRequest::from_relay(&summary, "v3", "subscriptiondetails", &query, date("2026-11-25"))
                .unwrap();
        assert_eq!(request.file_name(), "subscriptiondetails_v3_007.json");
        assert_eq!(request.vendor_query(), [("subscriptionId", "007".to_owned())]);
        assert_eq!(
            request.relay_path(true),
            "/api/documents/Z%C3%BCrich%20prod/v3/subscriptiondetails?format=json&subscription=007&download=1"
        );
        assert_eq!(request.media_type(), "application/json");
    }

    #[test]
    fn defaults_are_the_vendors_three_months_and_its_generations_format() {
        let today = date("2026-11-25");
        let summary = profile("p", Generation::Legacy);
        let request =
            DocumentRequest::from_relay(&summary, "v3", "invoices", &RelayQuery::default(), today).unwrap();
        assert_eq!(request, DocumentRequest::default_for(&summary, today));
        assert_eq!(request.window(), Some(DateWindow::new(date("2026-08-25"), today).unwrap()));
        assert_eq!(request.format(), Format::Xml);
        assert_eq!(request.file_name(), "invoices_v3_2026-08-25_2026-11-25.xml");
        let only_end = RelayQuery::parse("end=2026-03-31").unwrap();
        let request = DocumentRequest::from_relay(&summary, "v3", "invoices", &only_end, today).unwrap();
        assert_eq!(request.window(), Some(DateWindow::new(date("2025-12-31"), date("2026-03-31")).unwrap()));
        let current = profile("c", Generation::Current);
        let request =
            DocumentRequest::from_relay(&current, "v1", "invoices", &RelayQuery::default(), today).unwrap();
        assert_eq!(
            (request.format(), request.vendor_path(Generation::Current)),
            (Format::Json, "/api/v1/invoices".to_owned())
        );
    }

    #[test]
    fn every_bad_input_is_refused_with_the_relays_code_and_words() {
        let today = date("2026-11-25");
        let legacy = profile("p", Generation::Legacy);
        let current = profile("c", Generation::Current);
        let refused = |profile: &ProfileSummary, version: &str, endpoint: &str, query: &str| {
            RelayQuery::parse(query)
                .and_then(|query| DocumentRequest::from_relay(profile, version, endpoint, &query, today))
                .unwrap_err()
        };
        let long = "9".repeat(300);
        let cases: Vec<(RequestError, ErrorCode, String)> = vec![
            (
                refused(&legacy, "v9", "invoices", ""),
                ErrorCode::UnknownVersion,
                "profile p does not offer API version `v9`".into(),
            ),
            (
                refused(&legacy, "v3", "customer-specifications", ""),
                ErrorCode::UnknownEndpoint,
                "profile p does not offer the endpoint `customer-specifications`".into(),
            ),
            (
                refused(&legacy, "v3", "../admin", ""),
                ErrorCode::UnknownEndpoint,
                "profile p does not offer the endpoint `../admin`".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "endDate=20260101"),
                ErrorCode::BadParameter,
                "unknown parameter `endDate`; a document takes start, end, format, subscription and download"
                    .into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "format=xml&format=json"),
                ErrorCode::BadParameter,
                "format is given more than once".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "format=xml%00"),
                ErrorCode::BadParameter,
                "format must be xml or json, not `xml\0`".into(),
            ),
            (
                refused(&current, "v1", "invoices", "format=xml"),
                ErrorCode::BadParameter,
                "format: the current API answers in JSON only".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "download=yes"),
                ErrorCode::BadParameter,
                "download must be 1 or 0, not `yes`".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "subscription=1"),
                ErrorCode::BadParameter,
                "invoices takes no subscription".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", "subscription=1&start=2026-01-01"),
                ErrorCode::BadParameter,
                "subscriptiondetails takes a subscription, not dates".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", ""),
                ErrorCode::BadParameter,
                "subscription: subscriptiondetails needs a subscription id".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", "subscription=1%26startDate%3D1"),
                ErrorCode::BadParameter,
                "subscription must be a number, not `1&startDate=1`".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", "subscription=%20007"),
                ErrorCode::BadParameter,
                "subscription must be a number, not ` 007`".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", "subscription=%E4%B8%80"),
                ErrorCode::BadParameter,
                "subscription must be a number, not `一`".into(),
            ),
            (
                refused(&legacy, "v3", "subscriptiondetails", &format!("subscription={}", "1".repeat(21))),
                ErrorCode::BadParameter,
                format!("subscription must be a number, not `{}`", "1".repeat(21)),
            ),
            (
                refused(&legacy, "v3", "invoices", "start=2026-1-5"),
                ErrorCode::BadParameter,
                "start must be a date written YYYY-MM-DD, not `2026-1-5`".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "end=20260105"),
                ErrorCode::BadParameter,
                "end must be a date written YYYY-MM-DD, not `20260105`".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", "start=2026-02-30"),
                ErrorCode::BadParameter,
                "start must be a date written YYYY-MM-DD, not `2026-02-30`".into(),
            ),
            (
                refused(&legacy, "v3", "invoices", &format!("start={long}")),
                ErrorCode::BadParameter,
                format!("start must be a date written YYYY-MM-DD, not `{}`", &long[..64]),
            ),
            (
                refused(&legacy, "v3", "invoices", "start=2026-03-01&end=2026-02-01"),
                ErrorCode::BadParameter,
                "start 2026-03-01 is after end 2026-02-01".into(),
            ),
        ];
        for (error, code, words) in cases {
            assert_eq!((error.code(), error.to_string()), (code, words));
        }
    }

    #[test]
    fn a_request_that_does_not_fit_together_cannot_be_made_or_read() {
        let window = Scope::Window(DateWindow::default_on(date("2026-11-25")));
        let id = Scope::Subscription(SubscriptionId::parse("12").unwrap());
        assert_eq!(
            DocumentRequest::new("p", "v3", Endpoint::SubscriptionDetails, Format::Xml, window.clone()),
            Err(RequestError::MissingSubscription)
        );
        assert_eq!(
            DocumentRequest::new("p", "v3", Endpoint::Invoices, Format::Xml, id),
            Err(RequestError::SubscriptionForWindow(Endpoint::Invoices))
        );
        let forged = r#"{"profile":"p","version":"v3","endpoint":"subscriptiondetails","format":"xml","scope":{"Window":["2026-01-01","2026-02-01"]}}"#;
        assert!(serde_json::from_str::<DocumentRequest>(forged).is_err());
        let reversed = r#"{"Window":["2026-03-01","2026-02-01"]}"#;
        assert!(serde_json::from_str::<Scope>(reversed).is_err());
        assert!(serde_json::from_str::<SubscriptionId>(r#""12a""#).is_err());
        let request = DocumentRequest::new("p", "v3", Endpoint::Invoices, Format::Xml, window).unwrap();
        assert_eq!(request.with_endpoint(Endpoint::SubscriptionDetails), None);
        assert_eq!(
            request.with_endpoint(Endpoint::CustomerInvoices).unwrap().endpoint(),
            Endpoint::CustomerInvoices
        );
    }

    #[test]
    fn the_vendor_refuses_in_its_own_words_by_the_same_rules() {
        let today = date("2026-11-25");
        let read = |endpoint: Endpoint, pairs: &[(&str, &str)]| {
            let pairs = pairs.to_vec();
            read_vendor_scope(
                endpoint,
                |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| *value),
                today,
            )
        };
        assert_eq!(read(Endpoint::Invoices, &[]), Ok(Scope::Window(DateWindow::default_on(today))));
        let said = |result: Result<Scope, VendorParameterError>| result.unwrap_err().to_string();
        assert_eq!(
            said(read(Endpoint::Invoices, &[("startDate", "2026-01-01")])),
            "startDate must be a date written YYYYMMDD, not `2026-01-01`"
        );
        assert_eq!(
            said(read(Endpoint::Invoices, &[("startDate", "20260301"), ("endDate", "20260201")])),
            "startDate 20260301 is after endDate 20260201"
        );
        assert_eq!(said(read(Endpoint::SubscriptionDetails, &[])), "subscriptionId is required");
        assert_eq!(
            said(read(Endpoint::SubscriptionDetails, &[("subscriptionId", "x1")])),
            "subscriptionId must be a number, not `x1`"
        );
        assert_eq!(
            read(Endpoint::SubscriptionDetails, &[("subscriptionId", "007")]),
            Ok(Scope::Subscription(SubscriptionId::parse("007").unwrap()))
        );
    }
}
