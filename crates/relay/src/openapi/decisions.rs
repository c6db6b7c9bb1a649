//! The shared decisions' routes and schemas in the description: settings,
//! reviews, sign-off, their histories and the events, with the 409 that
//! carries what is kept now. Enumerations come from crates/billing.

use billing::{
    Endpoint,
    api::{ErrorCode, decisions::ReviewStatus},
    exceptions::ExceptionKind,
};
use serde_json::{Map, Value, json};

use super::{Served, error_response, responses};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn profile_parameter() -> Value {
    json!({ "name": "profile", "in": "path", "required": true, "description": "A profile the caller may use", "schema": { "type": "string" } })
}

fn month_parameter() -> Value {
    json!({ "name": "month", "in": "path", "required": true, "description": "The invoice month, YYYY-MM", "schema": { "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "examples": ["2026-09"] } })
}

/// What every decisions route may answer besides its own.
fn reading(ok: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("200", ok),
        ("400", error_response("The month is not YYYY-MM", &[ErrorCode::BadParameter])),
        (
            "403",
            error_response(
                "The client is not on the allowlist, or the caller's access rules do not name the profile",
                &[ErrorCode::NotAllowlisted, ErrorCode::ProfileForbidden],
            ),
        ),
        (
            "404",
            error_response("No profile has this name", &[ErrorCode::UnknownProfile, ErrorCode::UnknownRoute]),
        ),
        ("503", error_response("The relay's database cannot be reached", &[ErrorCode::DecisionsUnavailable])),
    ]
}

/// A change's answers: the reading ones, the role and site refusals, and
/// the conflict with what is kept now.
fn changing(ok: Value, needs: &str, conflict: &str, signed_off: bool) -> Vec<(&'static str, Value)> {
    let mut answers = reading(ok);
    answers.retain(|(status, _)| *status != "400" && *status != "403");
    answers.push((
        "400",
        error_response(
            "The body is not JSON with Content-Type application/json, not the change this route takes, or \
             says something the relay does not keep (a threshold outside 0–100, an empty correction, a note \
             over 2,000 characters, a reopening without a reason)",
            &[ErrorCode::BadParameter],
        ),
    ));
    answers.push((
        "403",
        error_response(
            &format!(
                "Not on the allowlist, no access to the profile, a role without {needs}, or a browser request from another site"
            ),
            &[
                ErrorCode::NotAllowlisted,
                ErrorCode::ProfileForbidden,
                ErrorCode::RoleForbidden,
                ErrorCode::CrossSiteRequest,
            ],
        ),
    ));
    let codes: &[ErrorCode] = if signed_off {
        &[ErrorCode::DecisionConflict, ErrorCode::MonthSignedOff]
    } else {
        &[ErrorCode::DecisionConflict]
    };
    answers.push(("409", error_response(conflict, codes)));
    answers
}

fn put(served: Served, summary: &str, body: Value, own: Vec<(&str, Value)>) -> Value {
    json!({
        "summary": summary,
        "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
        "responses": responses(served, own)
    })
}

fn get(served: Served, summary: &str, own: Vec<(&str, Value)>) -> Value {
    json!({ "summary": summary, "responses": responses(served, own) })
}

pub fn paths(served: Served, paths: &mut Map<String, Value>) {
    let profile = profile_parameter();
    let month = month_parameter();
    paths.insert(
        "/api/profiles/{profile}/settings".to_owned(),
        json!({
            "parameters": [profile],
            "get": get(served, "The profile's shared settings: publisher corrections and the low-margin threshold, their version, and who changed them last", reading(answer("The settings; version 0 and no `changed` while nobody has changed them", schema("SharedSettings")))),
            "put": put(served, "Replaces the settings; needs the review role", schema("SettingsChange"), changing(answer("The settings as now kept", schema("SharedSettings")), "review", "The change was made on an older version: `current` is the SharedSettings kept now", false)),
        }),
    );
    paths.insert(
        "/api/profiles/{profile}/settings/history".to_owned(),
        json!({
            "parameters": [profile],
            "get": get(served, "Each change of the settings, newest first, with before and after", reading(answer("The changes", json!({ "type": "array", "items": schema("SettingsHistoryEntry") })))),
        }),
    );
    paths.insert(
        "/api/profiles/{profile}/reviews/{month}".to_owned(),
        json!({
            "parameters": [profile, month],
            "get": get(served, "The month's marks, the latest earlier mark of other items from the twelve months before, and the month's sign-offs", reading(answer("The month's decisions", schema("MonthDecisions")))),
            "put": put(served, "Marks one item; needs the review role, and the month not signed off", schema("ReviewChange"), changing(answer("The mark as now kept", schema("Review")), "review", "The mark was made on an older version (`current`: the Review kept now, or null), or the month is signed off (`current`: the SignOff)", true)),
        }),
    );
    paths.insert(
        "/api/profiles/{profile}/reviews/{month}/history".to_owned(),
        json!({
            "parameters": [profile, month],
            "get": get(served, "Each change of the month's marks, newest first, with before and after", reading(answer("The changes", json!({ "type": "array", "items": schema("ReviewHistoryEntry") })))),
        }),
    );
    paths.insert(
        "/api/profiles/{profile}/sign-off/{month}".to_owned(),
        json!({
            "parameters": [profile, month],
            "put": put(served, "Signs the month's run of an endpoint off, pinning its archived documents and the decisions as they stand, or reopens it with a reason; needs the approve role", schema("SignOffChange"), changing(answer("The sign-off as now kept", schema("SignOff")), "approve", "The change was made on an older version: `current` is the SignOff kept now (or null)", false)),
        }),
    );
    paths.insert(
        "/api/profiles/{profile}/events".to_owned(),
        json!({
            "parameters": [profile],
            "get": get(served, "Server-sent events: `open` at once, `decision` (a DecisionEvent) after each change of the profile's decisions through any relay, `resync` when some may have been missed; the stream ends after five minutes and the browser reconnects", reading(json!({ "description": "An event stream", "content": { "text/event-stream": { "schema": schema("DecisionEvent") } } }))),
        }),
    );
}

pub fn schemas() -> Map<String, Value> {
    let kinds: Vec<String> = ExceptionKind::ALL.iter().map(|kind| format!("{kind:?}")).collect();
    let statuses: Vec<&str> = ReviewStatus::ALL.iter().map(|status| status.name()).collect();
    let endpoints: Vec<&str> = Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect();
    let month = json!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$" });
    let version = json!({ "type": "integer", "minimum": 0 });
    let schemas = json!({
        "Stamp": {
            "type": "object", "required": ["by", "at"],
            "properties": { "by": { "type": "string", "description": "The account; `you` without sign-in" }, "at": { "type": "string", "format": "date-time" } }
        },
        "Settings": {
            "type": "object", "required": ["low_margin_percent", "corrections"],
            "properties": {
                "low_margin_percent": { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "description": "A decimal from 0 to 100, as text" },
                "corrections": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Product to publisher" }
            }
        },
        "SharedSettings": {
            "type": "object", "required": ["settings", "version"],
            "properties": { "settings": schema("Settings"), "version": version, "changed": { "oneOf": [schema("Stamp"), { "type": "null" }] } }
        },
        "SettingsChange": {
            "type": "object", "required": ["base_version", "settings"],
            "properties": { "base_version": version, "settings": schema("Settings") }
        },
        "SettingsHistoryEntry": {
            "type": "object", "required": ["version", "before", "after", "changed"],
            "properties": { "version": version, "before": schema("Settings"), "after": schema("Settings"), "changed": schema("Stamp") }
        },
        "ItemId": {
            "type": "object", "required": ["kind", "line"],
            "properties": {
                "kind": { "type": "string", "enum": kinds },
                "line": { "oneOf": [
                    { "type": "object", "required": ["row_hash"], "properties": { "row_hash": { "type": "string" } }, "additionalProperties": false },
                    { "type": "object", "required": ["invoice_line"], "properties": { "invoice_line": { "type": "object", "required": ["invoice", "line"], "properties": { "invoice": { "type": "string" }, "line": { "type": "integer", "minimum": 1 } } } }, "additionalProperties": false }
                ] }
            }
        },
        "Mark": {
            "type": "object", "required": ["status", "note"],
            "properties": { "status": { "type": "string", "enum": statuses }, "note": { "type": "string", "maxLength": 2000 } }
        },
        "Review": {
            "type": "object", "required": ["item", "month", "mark", "version", "changed"],
            "properties": { "item": schema("ItemId"), "month": month, "mark": schema("Mark"), "version": version, "changed": schema("Stamp") }
        },
        "ReviewChange": {
            "type": "object", "required": ["item", "base_version", "mark"],
            "properties": { "item": schema("ItemId"), "base_version": version, "mark": schema("Mark") }
        },
        "ReviewHistoryEntry": {
            "type": "object", "required": ["item", "version", "after", "changed"],
            "properties": { "item": schema("ItemId"), "version": version, "before": { "oneOf": [schema("Mark"), { "type": "null" }] }, "after": schema("Mark"), "changed": schema("Stamp") }
        },
        "PinnedDocument": {
            "type": "object", "required": ["id", "endpoint", "sha256", "fetched_at"],
            "properties": { "id": { "type": "integer" }, "endpoint": { "type": "string", "enum": endpoints }, "sha256": { "type": "string" }, "fetched_at": { "type": "string", "format": "date-time" } }
        },
        "SignOff": {
            "type": "object", "required": ["endpoint", "month", "version", "state", "changed"],
            "description": "state signed_off carries documents, reviews and settings as they stood; reopened carries the reason",
            "properties": {
                "endpoint": { "type": "string", "enum": endpoints }, "month": month, "version": version,
                "state": { "type": "string", "enum": ["signed_off", "reopened"] },
                "documents": { "type": "array", "items": schema("PinnedDocument") },
                "reviews": { "type": "array", "items": schema("Review") },
                "settings": schema("Settings"),
                "reason": { "type": "string" },
                "changed": schema("Stamp")
            }
        },
        "SignOffChange": {
            "type": "object", "required": ["endpoint", "base_version", "action"],
            "description": "action sign_off names the archived documents (ids) it holds to, the run's own among them; reopen gives a reason",
            "properties": {
                "endpoint": { "type": "string", "enum": endpoints }, "base_version": version,
                "action": { "type": "string", "enum": ["sign_off", "reopen"] },
                "documents": { "type": "array", "items": { "type": "integer" }, "minItems": 1, "maxItems": 16 },
                "reason": { "type": "string", "minLength": 1 }
            }
        },
        "MonthDecisions": {
            "type": "object", "required": ["month", "reviews", "earlier", "sign_offs"],
            "properties": {
                "month": month,
                "reviews": { "type": "array", "items": schema("Review") },
                "earlier": { "type": "array", "items": schema("Review"), "description": "For items not marked this month: their latest mark in the twelve months before" },
                "sign_offs": { "type": "array", "items": schema("SignOff") }
            }
        },
        "DecisionEvent": {
            "type": "object", "required": ["topic", "version"],
            "properties": {
                "topic": { "type": "string", "enum": ["settings", "review", "sign_off"] },
                "month": month,
                "endpoint": { "type": "string", "enum": endpoints },
                "version": version
            }
        }
    });
    match schemas {
        Value::Object(schemas) => schemas,
        _ => Map::new(),
    }
}
