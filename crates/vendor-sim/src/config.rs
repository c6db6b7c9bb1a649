//! What the emulated vendor is configured with: its API keys, each with the
//! restrictions the real vendor puts on a key, and the data it serves.

use std::{net::IpAddr, time::Duration};

use axum::http::HeaderName;
use billing::{Endpoint, api::vendor::DEFAULT_KEY_HEADER};
use chrono::NaiveDate;
use ipnet::IpNet;
use secrecy::SecretString;

pub struct Config {
    pub keys: Vec<ApiKey>,
    pub key_header: HeaderName,
    pub data: DataSpec,
    /// The vendor's idea of today: the end of the default window and the
    /// last day an invoice can be dated. `None` is the real date.
    pub today: Option<NaiveDate>,
}

impl Config {
    /// A vendor that accepts exactly one key, from loopback, for everything.
    pub fn single_key(name: &str, secret: SecretString) -> Self {
        Self {
            keys: vec![ApiKey::new(name, secret)],
            key_header: HeaderName::from_static(DEFAULT_KEY_HEADER),
            data: DataSpec::default(),
            today: None,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| chrono::Local::now().date_naive())
    }
}

/// One API key as the vendor's support portal issues it.
pub struct ApiKey {
    pub name: String,
    pub secret: SecretString,
    /// The vendor environment the key belongs to, e.g. `PRODUCTION`.
    pub environment: String,
    /// The last day the key works.
    pub expires: Option<NaiveDate>,
    pub permission: Permission,
    /// Callers allowed to use the key. Empty refuses everyone, as the vendor
    /// does until an address is registered.
    pub whitelist: Vec<IpNet>,
    /// Faults applied to every answer for this key, for tests.
    pub faults: Vec<Fault>,
}

impl ApiKey {
    /// A key for everything, usable from loopback, never expiring.
    pub fn new(name: &str, secret: SecretString) -> Self {
        Self {
            name: name.to_owned(),
            secret,
            environment: "PRODUCTION".to_owned(),
            expires: None,
            permission: Permission::All,
            whitelist: loopback(),
            faults: Vec::new(),
        }
    }

    pub fn admits(&self, caller: IpAddr) -> bool {
        let caller = caller.to_canonical();
        self.whitelist.iter().any(|net| net.contains(&caller))
    }
}

/// IPv4 and IPv6 loopback.
pub fn loopback() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"].iter().map(|net| net.parse().expect("a valid network")).collect()
}

/// What a key may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    All,
    Only(Endpoint),
}

impl Permission {
    pub fn allows(self, endpoint: Endpoint) -> bool {
        match self {
            Self::All => true,
            Self::Only(allowed) => allowed == endpoint,
        }
    }
}

/// Which reseller the emulator invents: the same seed and size give the
/// same documents, byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataSpec {
    pub seed: u64,
    /// End customers of the reseller; documents grow in proportion.
    pub customers: usize,
    /// Gives the first customer a name full of markup, to test that
    /// clients show it as text.
    pub hostile_names: bool,
}

impl Default for DataSpec {
    fn default() -> Self {
        Self { seed: 2026, customers: 40, hostile_names: false }
    }
}

/// A way for the emulated vendor to misbehave, per key or per request (the
/// `X-Sim-Fault` header, comma-separated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `latency=MS`: wait before answering.
    Latency(Duration),
    /// `drip=BYTES:MS`: send the body in pieces of BYTES every MS.
    Drip { bytes: usize, every: Duration },
    /// `drop`: break the connection halfway through the body.
    DropMidway,
    /// `status500`: a 500 with a JSON error.
    ServerError,
    /// `status500=N`: the key's first N requests get the 500, later ones
    /// their answer: a vendor that fails and then recovers.
    ServerErrorFirst { requests: u32 },
    /// `html200`: an HTML error page with status 200, as a proxy in front of
    /// the vendor might send.
    HtmlWithOk,
    /// `truncate`: end the body cleanly halfway through the document.
    Truncate,
    /// `malformed`: break the document's syntax after its first invoice.
    Malformed,
    /// `reissue=N`: the key's first N documents are as first issued, every
    /// later one as the vendor re-issued them: one line of each service
    /// month changed (see [`crate::documents::Documents::reissued`]).
    Reissue { after: u32 },
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let millis = |value: &str| {
            value.parse().map(Duration::from_millis).map_err(|_| format!("`{value}` is not milliseconds"))
        };
        Ok(match text.trim().split_once('=') {
            None if text.trim() == "drop" => Self::DropMidway,
            None if text.trim() == "status500" => Self::ServerError,
            None if text.trim() == "html200" => Self::HtmlWithOk,
            None if text.trim() == "truncate" => Self::Truncate,
            None if text.trim() == "malformed" => Self::Malformed,
            Some(("latency", value)) => Self::Latency(millis(value)?),
            Some(("status500", value)) => Self::ServerErrorFirst {
                requests: value
                    .parse()
                    .map_err(|_| format!("status500's `{value}` is not a count of requests"))?,
            },
            Some(("reissue", value)) => Self::Reissue {
                after: value
                    .parse()
                    .map_err(|_| format!("reissue's `{value}` is not a count of documents"))?,
            },
            Some(("drip", value)) => {
                let (bytes, every) = value.split_once(':').ok_or("drip is BYTES:MS")?;
                let bytes =
                    bytes.parse().ok().filter(|bytes| *bytes > 0).ok_or("drip's BYTES must be positive")?;
                Self::Drip { bytes, every: millis(every)? }
            }
            _ => return Err(format!("unknown fault `{}`", text.trim())),
        })
    }
}
