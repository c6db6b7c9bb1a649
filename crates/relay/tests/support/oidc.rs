//! A real OpenID Connect provider (npm's oidc-provider, through
//! `xtask/oidc/provider.mjs`) on 127.0.0.1, and a person signing in through
//! it with a cookie jar, one redirect at a time.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use reqwest::{StatusCode, Url, cookie::Jar, header};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const CLIENT_ID: &str = "billing-relay-test";
pub const CLIENT_SECRET: &str = "relay-client-secret-6c1e0f9b3a";
/// A month-end job, admitted by its client id.
pub const EXPORT_CLIENT: &str = "month-end-export";
/// A reporting job in the account managers' group.
pub const REPORTING_CLIENT: &str = "reporting-robot";
pub const SERVICE_SECRET: &str = "service-secret-0b7d4e2a91";

pub struct OidcProvider {
    pub issuer: String,
    /// Everything the provider wrote on stderr, a line per request among it.
    said: Arc<std::sync::Mutex<String>>,
    _process: Child,
}

fn node_modules() -> PathBuf {
    if let Some(dir) = std::env::var_os("BILLING_OIDC_PROVIDER_MODULES") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").expect("HOME or BILLING_OIDC_PROVIDER_MODULES");
    Path::new(&home).join(".cache/billing-portal/tools/node_modules")
}

/// The test users: who they are at the provider.
pub fn users() -> Value {
    json!({
        "alice": { "name": "Alice Finance", "email": "alice@corp.example", "email_verified": true, "groups": ["finance"] },
        "bob": { "name": "Bob Accounts", "email": "bob@corp.example", "email_verified": true, "groups": ["account-managers"] },
        "carol": { "name": "Carol Unverified", "email": "carol@corp.example", "email_verified": false, "groups": [] },
        "dave": { "name": "Dave Nogroups", "email": "dave@corp.example", "email_verified": true },
        "erin": { "name": "Erin Contractor", "email": "erin@corp.example", "email_verified": true, "groups": ["finance", "contractors"] },
        "frank": { "name": "Frank Verified", "email": "frank@corp.example", "email_verified": true, "groups": [] },
    })
}

impl OidcProvider {
    /// Starts the provider with the relay at `relay_public_url` as its one
    /// client. Node now and then stalls at start on a busy machine (once in
    /// some dozens of starts, inside its crypto); such a start is abandoned
    /// for a new one.
    pub async fn start(relay_public_url: &str) -> Self {
        let mut said = String::new();
        for _ in 0..3 {
            match Self::try_start(relay_public_url).await {
                Ok(provider) => return provider,
                Err(stalled) => said.push_str(&stalled),
            }
        }
        panic!("the provider did not start three times: {said}");
    }

    async fn try_start(relay_public_url: &str) -> Result<Self, String> {
        // The relay's tests and the app's browser tests both use this file.
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("xtask/oidc/provider.mjs"))
            .find(|script| script.is_file())
            .expect("xtask/oidc/provider.mjs in the workspace");
        let modules = node_modules();
        assert!(
            modules.join("oidc-provider").is_dir(),
            "oidc-provider is not installed in {}: run `cargo xtask test`",
            modules.display()
        );
        let config = json!({
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{relay_public_url}/auth/callback")],
                "post_logout_redirect_uris": [format!("{relay_public_url}/auth/signed-out")],
                "backchannel_logout_uri": format!("{relay_public_url}/auth/backchannel-logout"),
                "backchannel_logout_session_required": true,
            }, {
                "client_id": EXPORT_CLIENT,
                "client_secret": SERVICE_SECRET,
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "response_types": [],
            }, {
                "client_id": REPORTING_CLIENT,
                "client_secret": SERVICE_SECRET,
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "response_types": [],
                "groups": ["account-managers"],
            }],
            "users": users(),
        });
        let mut process = Command::new("node")
            .arg(&script)
            .env("OIDC_PROVIDER_MODULES", &modules)
            .env("OIDC_PROVIDER_CONFIG", config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the provider");
        let said = Arc::new(std::sync::Mutex::new(String::new()));
        let mut errors = BufReader::new(process.stderr.take().unwrap()).lines();
        let heard = said.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                heard.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(issuer) = line.strip_prefix("oidc-provider listening on ") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(issuer)) = issuer else {
            return Err(said.lock().unwrap().clone());
        };
        Ok(Self { issuer, said, _process: process })
    }
}

impl OidcProvider {
    /// What the provider logged so far, every request's method and URL among it.
    pub fn logs(&self) -> String {
        self.said.lock().unwrap().clone()
    }

    /// Ends every session `account` has at the provider, as an
    /// administrator would; the provider tells each relay by back-channel.
    /// Returns how many sessions it ended.
    pub async fn end_sessions_of(&self, account: &str) -> u64 {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = http
            .post(format!("{}/admin/end-sessions", self.issuer))
            .form(&[("account", account)])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["ended"].as_u64().unwrap()
    }

    /// A service account's access token for `audience`, by the client
    /// credentials grant, as a month-end script gets one.
    pub async fn service_token(&self, client_id: &str, audience: &str) -> String {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let discovery: Value = http
            .get(format!("{}/.well-known/openid-configuration", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = http
            .post(discovery["token_endpoint"].as_str().unwrap())
            .basic_auth(client_id, Some(SERVICE_SECRET))
            .form(&[("grant_type", "client_credentials"), ("resource", audience), ("scope", "documents")])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "the provider refused the token: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// A browser: a cookie jar and no automatic redirects.
pub struct Browser {
    pub jar: Arc<Jar>,
    pub client: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        Self { jar, client }
    }
}

pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
    response.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

pub fn query_value(url: &str, name: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

impl Browser {
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    /// Starts signing in at the relay; returns the provider's authorization URL.
    pub async fn start_sign_in(&self, relay: &str, return_to: &str) -> String {
        let url = format!("{relay}/auth/login?return={}", urlencode(return_to));
        let response = self.get(&url).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// Signs in at the provider as `login`; returns the relay callback URL
    /// the provider sends the browser back to, not yet visited.
    pub async fn log_in_at_provider(&self, authorization: &str, login: &str) -> String {
        let base = Url::parse(authorization).unwrap();
        let mut url = authorization.to_owned();
        let mut submitted = false;
        for _ in 0..10 {
            let response = self.get(&url).await;
            if response.status().is_redirection() {
                let next = base.join(&location(&response)).unwrap().to_string();
                if next.contains("/auth/callback") {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK, "at {url}");
            assert!(!submitted, "the provider showed its form twice: {}", response.text().await.unwrap());
            let form = base.join(&format!("{}/login", Url::parse(&url).unwrap().path())).unwrap();
            let posted = self.client.post(form).form(&[("login", login)]).send().await.unwrap();
            submitted = true;
            url = base.join(&location(&posted)).unwrap().to_string();
        }
        panic!("the provider never sent the browser back");
    }

    /// Whether the provider shows its login form for `authorization`
    /// rather than sending the browser straight back.
    pub async fn provider_asks_for_login(&self, authorization: &str) -> bool {
        let base = Url::parse(authorization).unwrap();
        let mut url = authorization.to_owned();
        for _ in 0..10 {
            let response = self.get(&url).await;
            if !response.status().is_redirection() {
                return response.text().await.unwrap().contains("name=\"login\"");
            }
            url = base.join(&location(&response)).unwrap().to_string();
            if url.contains("/auth/callback") {
                return false;
            }
        }
        panic!("the provider kept redirecting");
    }

    /// Signs in as `login` and comes back to `return_to`; returns where the
    /// relay sent the browser at the end.
    pub async fn sign_in(&self, relay: &str, login: &str, return_to: &str) -> String {
        let authorization = self.start_sign_in(relay, return_to).await;
        let callback = self.log_in_at_provider(&authorization, login).await;
        let response = self.get(&callback).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
        location(&response)
    }
}

/// The first form on `page`: where it posts, and its fields.
pub fn form_of(page: &str) -> (String, Vec<(String, String)>) {
    let unescape = |text: &str| {
        text.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        let marker = format!("{name}=\"");
        tag.split_once(&marker).and_then(|(_, rest)| rest.split_once('"')).map(|(value, _)| unescape(value))
    };
    let (_, form) = page.split_once("<form").unwrap_or_else(|| panic!("no form in {page}"));
    let (form, _) = form.split_once("</form>").unwrap();
    let action = attribute(form.split('>').next().unwrap(), "action").unwrap_or_default();
    let mut fields = Vec::new();
    for tag in form.split('<').filter(|tag| tag.starts_with("input") || tag.starts_with("button")) {
        if let (Some(name), value) = (attribute(tag, "name"), attribute(tag, "value")) {
            fields.push((name, value.unwrap_or_default()));
        }
    }
    (action, fields)
}

impl Browser {
    /// Signs out of `relay` as its page would, then at the provider as the
    /// page's form does, confirming there; returns the relay's final page
    /// and the provider's sign-out URL with every field the browser posted.
    pub async fn sign_out(&self, relay: &str) -> (reqwest::Response, String, Vec<(String, String)>) {
        let response = self
            .client
            .post(format!("{relay}/auth/logout"))
            .header(header::ORIGIN, relay)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let (end_session, fields) = form_of(&response.text().await.unwrap());
        let confirm = self.client.post(&end_session).form(&fields).send().await.unwrap();
        let status = confirm.status();
        let confirm_page = confirm.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "the provider refused the sign-out: {confirm_page}");
        let (confirm_action, mut confirm_fields) = form_of(&confirm_page);
        confirm_fields.retain(|(name, _)| name != "logout");
        confirm_fields.push(("logout".to_owned(), "yes".to_owned()));
        let base = Url::parse(&end_session).unwrap();
        let confirmed =
            self.client.post(base.join(&confirm_action).unwrap()).form(&confirm_fields).send().await.unwrap();
        let back = base.join(&location(&confirmed)).unwrap().to_string();
        assert!(back.starts_with(&format!("{relay}/auth/signed-out")), "{back}");
        (self.get(&back).await, end_session, fields)
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
