//! The OpenAPI description of the relay's own API as configured, served at
//! `/api/openapi.json`: every route it answers and every answer it gives
//! (sign-in's only with sign-in on, `/metrics` only where it is served),
//! with one path per document endpoint so that a generated client sends
//! each endpoint exactly the parameters the relay accepts. Its enumerations
//! come from crates/billing, so they follow the code.

mod decisions;
mod runs;

use billing::{Endpoint, Generation, Role, api::ErrorCode, api::routes};
use serde_json::{Map, Value, json};

fn error_response(description: &str, codes: &[ErrorCode]) -> Value {
    let codes: Vec<&str> = codes.iter().map(|code| code.name()).collect();
    json!({
        "description": format!("{description} (code {})", codes.join(" or ")),
        "content": { "application/json": { "schema": {
            "allOf": [{ "$ref": "#/components/schemas/Error" }, { "properties": { "code": { "enum": codes } } }]
        } } }
    })
}

/// Every route's answer to a request sent to a name that is not the relay's.
fn misdirected() -> Value {
    error_response(
        "The Host header, HTTP/2 :authority or request target names a host that is not the relay's: \
         its address, loopback, the public URL's host or a name in allowed_hosts",
        &[ErrorCode::HostNotAllowed],
    )
}

/// What this relay serves, as configured.
#[derive(Clone, Copy, Debug)]
pub struct Served {
    pub sign_in: bool,
    /// `/metrics` on the relay's own address.
    pub metrics_here: bool,
}

/// The answers every `/api` route may give besides its own.
fn api_refusals(served: Served) -> Vec<(&'static str, Value)> {
    let mut refusals = vec![
        (
            "401",
            error_response(
                "Sign-in is on and the request has neither a live session nor an accepted bearer token; \
                 a refused token comes with WWW-Authenticate: Bearer error=\"invalid_token\"",
                &[ErrorCode::SignInRequired, ErrorCode::TokenInvalid],
            ),
        ),
        (
            "403",
            error_response(
                "The client's address is not on the relay's allowlist",
                &[ErrorCode::NotAllowlisted],
            ),
        ),
        ("404", error_response("No such API route", &[ErrorCode::UnknownRoute])),
        ("421", misdirected()),
        (
            "503",
            error_response(
                "The relay cannot check sign-ins now: its session store or the provider's keys are out of reach",
                &[ErrorCode::SignInUnavailable],
            ),
        ),
    ];
    if !served.sign_in {
        refusals.retain(|(status, _)| !matches!(*status, "401" | "503"));
    }
    refusals
}

/// The answer to a client over its rate: only what reaches the vendor or
/// the provider is rationed.
fn rate_limited() -> Value {
    json!({
        "description": "Too many vendor fetches from this address (code rate_limited)",
        "headers": { "Retry-After": { "description": "Seconds to wait", "schema": { "type": "integer" } } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

/// An operation's answers: its own, then every `/api` route's refusals.
fn responses(served: Served, own: Vec<(&str, Value)>) -> Map<String, Value> {
    let mut responses = Map::new();
    for (status, response) in own.into_iter().chain(api_refusals(served)) {
        responses.entry(status.to_owned()).or_insert(response);
    }
    responses
}

fn operation(served: Served, summary: &str, own: Vec<(&str, Value)>) -> Value {
    json!({ "get": { "summary": summary, "responses": responses(served, own) } })
}

fn query(name: &str, required: bool, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": description, "schema": schema })
}

fn document_path(served: Served, endpoint: Endpoint) -> Value {
    let generations: Vec<&str> = [Generation::Legacy, Generation::Current]
        .into_iter()
        .filter(|generation| generation.endpoints().contains(&endpoint))
        .map(|generation| generation.label())
        .collect();
    let versions: Vec<&str> = [Generation::Legacy, Generation::Current]
        .into_iter()
        .filter(|generation| generation.endpoints().contains(&endpoint))
        .flat_map(|generation| generation.versions().iter().copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut parameters = vec![
        json!({ "name": "profile", "in": "path", "required": true, "description": "A profile the caller may use (GET /api/profiles)", "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]+$" } }),
        json!({ "name": "version", "in": "path", "required": true, "description": "One of the profile's versions", "schema": { "type": "string", "enum": versions } }),
    ];
    if endpoint == Endpoint::SubscriptionDetails {
        parameters.push(query(
            "subscription",
            true,
            "The subscription id, digits only; kept as typed, leading zeros included, in the request to the vendor and the file name",
            json!({ "type": "string", "pattern": "^[0-9]{1,20}$", "examples": ["1234567"] }),
        ));
    } else {
        parameters.push(query(
            "start",
            false,
            "First invoice date, inclusive; not after end (a reversed window is refused with bad_parameter); defaults to three months before the end",
            json!({ "type": "string", "format": "date", "examples": ["2026-06-01"] }),
        ));
        parameters.push(query(
            "end",
            false,
            "Last invoice date, inclusive, not before start; defaults to today",
            json!({ "type": "string", "format": "date", "examples": ["2026-09-30"] }),
        ));
    }
    parameters.push(query(
        "format",
        false,
        "xml (the legacy API only, and its default) or json",
        json!({ "type": "string", "enum": ["xml", "json"] }),
    ));
    parameters.push(query(
        "download",
        false,
        "1 adds Content-Disposition with a descriptive file name",
        json!({ "type": "string", "enum": ["0", "1"] }),
    ));
    let mut path = operation(
        served,
        &format!("{}. Streamed byte for byte as the vendor sends it", endpoint.explanation()),
        vec![
            (
                "200",
                json!({ "description": "The document, byte for byte as the vendor sent it; a body that ends in a transport error was cut off by the vendor and is not complete", "content": { "application/xml": {}, "application/json": {} } }),
            ),
            (
                "400",
                error_response(
                    "A bad or reversed date, a parameter this endpoint does not take, or a query over 256 bytes",
                    &[ErrorCode::BadParameter],
                ),
            ),
            (
                "403",
                error_response(
                    "The client is not on the allowlist, or the caller's access rules do not name the profile",
                    &[ErrorCode::NotAllowlisted, ErrorCode::ProfileForbidden],
                ),
            ),
            (
                "404",
                error_response(
                    "Unknown profile, a version or endpoint the profile does not offer, or a subscription the vendor does not know",
                    &[
                        ErrorCode::UnknownProfile,
                        ErrorCode::UnknownVersion,
                        ErrorCode::UnknownEndpoint,
                        ErrorCode::UnknownSubscription,
                    ],
                ),
            ),
            (
                "502",
                error_response(
                    "The vendor rejected the key, refused the relay, failed, answered in the wrong format or could not be reached",
                    &[
                        ErrorCode::VendorRejectedKey,
                        ErrorCode::VendorRefusedRelay,
                        ErrorCode::VendorFailed,
                        ErrorCode::VendorWrongFormat,
                        ErrorCode::VendorUnreachable,
                    ],
                ),
            ),
            ("504", error_response("The vendor was too slow", &[ErrorCode::VendorTooSlow])),
            ("429", rate_limited()),
        ],
    );
    path["get"]["operationId"] = json!(format!("get_{}", endpoint.path().replace('-', "_")));
    path["get"]["description"] = json!(format!("Offered by the {} API.", generations.join(" and the ")));
    path["get"]["parameters"] = json!(parameters);
    path
}

/// The archive's three routes: the list, a document's bytes, a receipt.
fn archive_paths(served: Served, paths: &mut Map<String, Value>) {
    let unavailable = || {
        error_response(
            "The archive's database or store cannot be reached, or archiving is off",
            &[ErrorCode::ArchiveUnavailable],
        )
    };
    let not_found = |what: &str| error_response(what, &[ErrorCode::ArchivedDocumentNotFound]);
    let date = json!({ "type": "string", "format": "date" });
    let mut list = operation(
        served,
        "The archived documents the caller may see, newest first, a page at a time",
        vec![
            (
                "200",
                json!({ "description": "A page; `next` is the query for the following one, null on the last", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ArchivePage" } } } }),
            ),
            (
                "400",
                error_response(
                    "A parameter is unknown, repeated or malformed, or from is after to",
                    &[ErrorCode::BadParameter],
                ),
            ),
            (
                "403",
                error_response(
                    "The caller's access rules do not name this profile",
                    &[ErrorCode::ProfileForbidden],
                ),
            ),
            ("503", unavailable()),
        ],
    );
    list["get"]["parameters"] = json!([
        query(
            "profile",
            false,
            "Only this profile; without it, every profile the caller may use",
            json!({ "type": "string" })
        ),
        query(
            "endpoint",
            false,
            "Only this endpoint",
            json!({ "type": "string", "enum": Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect::<Vec<_>>() })
        ),
        query("from", false, "Only windows starting on or after this day", date.clone()),
        query("to", false, "Only windows ending on or before this day", date),
        query(
            "before",
            false,
            "Only documents with a lower id (the next page)",
            json!({ "type": "integer", "minimum": 1 })
        ),
        query(
            "limit",
            false,
            "At most this many (default 50)",
            json!({ "type": "integer", "minimum": 1, "maximum": 1000 })
        ),
    ]);
    paths.insert(routes::ARCHIVE.to_owned(), list);
    let mut open = operation(
        served,
        "An archived document's exact bytes, checked against their SHA-256 before they are sent",
        vec![
            (
                "200",
                json!({
                    "description": "The bytes as the vendor sent them, with the vendor's Content-Type",
                    "headers": {
                        "ETag": { "description": "The SHA-256 of the bytes, quoted", "schema": { "type": "string" } },
                        "Last-Modified": { "description": "When it was fetched", "schema": { "type": "string" } },
                        "Billing-Fetched-At": { "description": "When it was fetched, RFC 3339", "schema": { "type": "string" } },
                        "Content-Disposition": { "description": "With download=1: attachment and the file name", "schema": { "type": "string" } }
                    },
                    "content": { "application/xml": {}, "application/json": {} }
                }),
            ),
            ("400", error_response("A query other than download=1", &[ErrorCode::BadParameter])),
            ("404", not_found("No archived document with this id that the caller may see")),
            (
                "500",
                error_response(
                    "The stored bytes no longer match their SHA-256; they are not sent",
                    &[ErrorCode::ArchivedDocumentDamaged],
                ),
            ),
            ("503", unavailable()),
        ],
    );
    open["get"]["parameters"] = json!([
        { "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } },
        query("download", false, "1: as a file download", json!({ "type": "string", "enum": ["0", "1"] })),
    ]);
    paths.insert(format!("{}/{{id}}", routes::ARCHIVE), open);
    let mut receipt = operation(
        served,
        "Whether the document this relay sent under an X-Request-Id was archived; waits up to 10 s while it is being written",
        vec![
            (
                "200",
                json!({ "description": "archived with its id, not_archived with the reason, or still pending", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ArchiveReceipt" } } } }),
            ),
            ("404", not_found("This relay sent no such document to the caller in the last 15 minutes")),
            ("503", unavailable()),
        ],
    );
    receipt["get"]["parameters"] =
        json!([{ "name": "request_id", "in": "path", "required": true, "schema": { "type": "integer" } }]);
    paths.insert(format!("{}/receipts/{{request_id}}", routes::ARCHIVE), receipt);
}

pub fn document(served: Served) -> Value {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.name()).collect();
    let redirect = |description: &str| json!({ "description": description, "headers": { "Location": { "schema": { "type": "string" } } } });
    let page = |description: &str| json!({ "description": description, "content": { "text/html": {} } });
    let mut paths = Map::new();
    paths.insert(
        routes::PROFILES.to_owned(),
        operation(
            served,
            "The profiles the caller may use: name, environment, generation, versions, endpoints and the caller's role",
            vec![("200", json!({ "description": "The profiles", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Profile" } } } } }))],
        ),
    );
    paths.insert(
        routes::ME.to_owned(),
        operation(
            served,
            "Whether sign-in is on, who is signed in, and the names of the profiles they may use",
            vec![("200", json!({ "description": "The caller", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Me" } } } }))],
        ),
    );
    for endpoint in Endpoint::ALL {
        paths.insert(
            format!("{}/{{profile}}/{{version}}/{}", routes::DOCUMENTS, endpoint.path()),
            document_path(served, endpoint),
        );
    }
    archive_paths(served, &mut paths);
    decisions::paths(served, &mut paths);
    runs::paths(served, &mut paths);
    paths.insert(
        "/api/openapi.json".to_owned(),
        operation(
            served,
            "This description",
            vec![("200", json!({ "description": "OpenAPI 3.1", "content": { "application/json": {} } }))],
        ),
    );
    let public = json!([{}]);
    if served.sign_in {
        paths.insert(routes::SIGN_IN.to_owned(), json!({ "get": {
            "summary": "Starts signing in at the OpenID Connect provider (sign-in on only)",
            "security": public,
            "parameters": [query("return", false, "A path on the relay to come back to", json!({ "type": "string" }))],
            "responses": {
                "303": redirect("To the provider (with prompt=login when always_ask is set)"),
                "421": misdirected(),
                "503": page("The provider or the session store cannot be reached")
            }
        } }));
        paths.insert(routes::SIGN_IN_CALLBACK.to_owned(), json!({ "get": {
            "summary": "Where the provider sends the browser back",
            "security": public,
            "responses": {
                "303": redirect("Signed in: to the return path"),
                "400": page("The sign-in was not started here, was spent, took too long, or its tokens did not verify"),
                "421": misdirected(),
                "503": page("The provider or the session store cannot be reached")
            }
        } }));
        paths.insert(
            routes::SIGN_OUT.to_owned(),
            json!({ "post": {
            "summary": "Ends the session on every relay, then at the provider; from the relay's own pages only",
            "responses": {
                "200": page("A page whose form posts id_token_hint, client_id, post_logout_redirect_uri and state to the provider's end-session endpoint (RP-Initiated Logout 1.0), under a Content-Security-Policy of its own; or, for a provider without one, a page that says its session may still be open"),
                "403": error_response("The request came from another site", &[ErrorCode::CrossSiteRequest]),
                "421": misdirected(),
                "503": page("The session store cannot be reached")
            }
        } }),
        );
        paths.insert(routes::SIGNED_OUT.to_owned(), json!({ "get": {
            "summary": "Where the provider sends the browser back after signing out (the post-logout redirect URI)",
            "security": public,
            "parameters": [query("state", true, "The state the relay sent with the sign-out", json!({ "type": "string" }))],
            "responses": {
                "200": page("You are signed out, with a Sign in button that asks the provider again"),
                "400": page("No sign-out was started in this browser, or it took too long"),
                "421": misdirected()
            }
        } }));
        paths.insert(routes::BACK_CHANNEL_LOGOUT.to_owned(), json!({ "post": {
            "summary": "The provider ends a person's sessions on every relay (OpenID Connect Back-Channel Logout 1.0); outside the allowlist, acted on only for a logout token the provider signed",
            "security": public,
            "requestBody": { "required": true, "content": { "application/x-www-form-urlencoded": { "schema": {
                "type": "object", "required": ["logout_token"],
                "properties": { "logout_token": { "type": "string", "description": "A JWT: the provider's keys, iss, aud = the client id, the back-channel logout event, iat, jti, sub or sid, no nonce" } }
            } } } },
            "responses": {
                "200": { "description": "The sessions it names are ended" },
                "400": error_response("The logout token is not accepted (or was already used); nothing was ended", &[ErrorCode::TokenInvalid]),
                "421": misdirected(),
                "503": error_response("The session store or the provider's keys cannot be reached", &[ErrorCode::SignInUnavailable])
            }
        } }));
    }
    paths.insert("/healthz".to_owned(), json!({ "get": { "summary": "The process answers", "security": public, "responses": { "200": { "description": "ok" }, "421": misdirected() } } }));
    paths.insert(
        "/readyz".to_owned(),
        json!({ "get": { "summary": "Every profile's vendor host resolves", "security": public, "responses": {
        "200": { "description": "Ready" },
        "421": misdirected(),
        "503": { "description": "Some vendor hosts do not resolve", "content": { "application/json": {} } }
    } } }),
    );
    if served.metrics_here {
        paths.insert("/metrics".to_owned(), json!({ "get": {
            "summary": "Prometheus metrics (OpenMetrics text), to the metrics allowlist",
            "security": public,
            "responses": {
                "200": { "description": "The metrics", "content": { "application/openmetrics-text": {} } },
                "403": error_response("The scraper is not on the metrics allowlist", &[ErrorCode::NotAllowlisted]),
                "421": misdirected()
            }
        } }));
    }
    // Without sign-in the relay asks for neither (one person on loopback).
    let security =
        if served.sign_in { json!([{ "session": [] }, { "bearerToken": [] }]) } else { json!([{}]) };
    let mut description = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "billing-relay",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The relay between the billing portal and the vendor Billing API. It holds the API keys; none of its answers carries one. With sign-in on, every /api route needs a session (a browser signed in at /auth/login) or a bearer access token from the same OpenID Connect provider; with sign-in off (one person on loopback) neither is asked for."
        },
        "security": security,
        "paths": paths,
        "webhooks": runs::webhooks(),
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "__Host-billing_session", "description": "The session cookie set at sign-in (billing_session on plain http)" },
                "bearerToken": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An RFC 9068 access token from the relay's OpenID Connect provider (client credentials grant for a service account) with the relay as its audience" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "error", "detail"],
                    "properties": {
                        "code": { "type": "string", "enum": codes, "description": "Stable and machine-readable; match on this, not on the wording" },
                        "error": { "type": "string" },
                        "detail": { "type": "string" },
                        "sign_in_url": { "type": "string", "description": "With sign_in_required: where to sign in" },
                        "current": { "description": "With decision_conflict: the decision as the relay keeps it now, as its GET or PUT answers it (null for one never made); with month_signed_off: the SignOff in force" }
                    }
                },
                "Me": {
                    "type": "object",
                    "required": ["sign_in_enabled", "profiles"],
                    "properties": {
                        "sign_in_enabled": { "type": "boolean" },
                        "person": { "type": ["object", "null"], "properties": { "name": { "type": ["string", "null"] }, "email": { "type": ["string", "null"] } } },
                        "profiles": { "type": "array", "items": { "type": "string" } },
                        "access_contact": { "type": ["string", "null"] }
                    }
                },
                "ArchivedDocument": {
                    "type": "object",
                    "required": ["id", "request", "vendor_status", "content_type", "bytes", "sha256", "fetched_at", "request_id"],
                    "properties": {
                        "id": { "type": "integer" },
                        "request": { "type": "object", "description": "profile, version, endpoint, format, and scope: {\"Window\": [start, end]} or {\"Subscription\": id}" },
                        "vendor_status": { "type": "integer" },
                        "content_type": { "type": "string" },
                        "bytes": { "type": "integer" },
                        "sha256": { "type": "string" },
                        "fetched_by": { "type": ["string", "null"] },
                        "fetched_at": { "type": "string", "format": "date-time" },
                        "request_id": { "type": "integer" }
                    }
                },
                "ArchivePage": {
                    "type": "object",
                    "required": ["documents"],
                    "properties": {
                        "documents": { "type": "array", "items": { "$ref": "#/components/schemas/ArchivedDocument" } },
                        "next": { "type": ["object", "null"] }
                    }
                },
                "ArchiveReceipt": {
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": { "type": "string", "enum": ["archived", "not_archived", "pending"] },
                        "id": { "type": "integer" },
                        "reason": { "type": "string" }
                    }
                },
                "Profile": {
                    "type": "object",
                    "required": ["name", "environment", "generation", "versions", "endpoints", "role"],
                    "properties": {
                        "name": { "type": "string" },
                        "environment": { "type": "string" },
                        "generation": { "type": "string", "enum": ["legacy", "current"] },
                        "versions": { "type": "array", "items": { "type": "string" } },
                        "endpoints": { "type": "array", "items": { "type": "string", "enum": Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect::<Vec<_>>() } },
                        "role": {
                            "type": "string",
                            "enum": Role::ALL.map(Role::name),
                            "description": "What the caller may do with the profile: read, review (also marks and notes) or approve (also sign-off); without sign-in, approve"
                        }
                    }
                }
            }
        }
    });
    if let Some(schemas) = description["components"]["schemas"].as_object_mut() {
        schemas.extend(decisions::schemas());
        schemas.extend(runs::schemas());
    }
    description
}
