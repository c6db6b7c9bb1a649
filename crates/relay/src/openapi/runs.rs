//! The scheduled runs' route and schemas in the description. Enumerations
//! come from crates/billing.

use billing::{Endpoint, api::ErrorCode, exceptions::ExceptionKind};
use serde_json::{Map, Value, json};

use super::{Served, error_response, responses};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub fn paths(served: Served, paths: &mut Map<String, Value>) {
    let own = vec![
        (
            "200",
            json!({ "description": "The runs of the profiles the caller may use, newest first", "content": { "application/json": { "schema": schema("RunsPage") } } }),
        ),
        ("400", error_response("A parameter is unknown or malformed", &[ErrorCode::BadParameter])),
        ("503", error_response("The relay's database cannot be reached", &[ErrorCode::RunsUnavailable])),
    ];
    paths.insert(
        billing::api::routes::RUNS.to_owned(),
        json!({
            "get": {
                "summary": "The scheduled runs: when, how they went, and what they found",
                "parameters": [
                    { "name": "profile", "in": "query", "required": false, "description": "Only this profile's runs", "schema": { "type": "string" } },
                    { "name": "job", "in": "query", "required": false, "description": "Only this job's runs", "schema": { "type": "string" } },
                    { "name": "limit", "in": "query", "required": false, "description": "At most this many (default 50)", "schema": { "type": "integer", "minimum": 1, "maximum": billing::api::runs::RunsQuery::MOST } }
                ],
                "responses": responses(served, own)
            }
        }),
    );
}

/// What the relay posts to a `[[webhook]]` of shape `json`.
pub fn webhooks() -> Value {
    json!({
        "runEnded": {
            "post": {
                "summary": "A scheduled run ended (succeeded or failed) and its job's alert rule tells of it",
                "requestBody": { "required": true, "content": { "application/json": { "schema": schema("RunNotice") } } },
                "responses": { "2XX": { "description": "Received; any other status is tried again at the relay's next check" } }
            }
        }
    })
}

pub fn schemas() -> Map<String, Value> {
    let kinds: Vec<String> = ExceptionKind::ALL.iter().map(|kind| format!("{kind:?}")).collect();
    let endpoints: Vec<&str> = Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect();
    let decimal =
        json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "A decimal, as text" });
    let month = json!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$" });
    let schemas = json!({
        "CurrencyTotal": {
            "type": "object", "required": ["currency", "invoices", "lines", "excluding_vat", "vat", "including_vat"],
            "properties": {
                "currency": { "type": "string" }, "invoices": { "type": "integer" }, "lines": { "type": "integer" },
                "excluding_vat": decimal, "vat": decimal, "including_vat": decimal
            }
        },
        "CurrencyChange": {
            "type": "object", "required": ["currency", "before", "after", "difference"],
            "properties": {
                "currency": { "type": "string" }, "before": decimal, "after": decimal, "difference": decimal,
                "percent": { "oneOf": [decimal, { "type": "null" }], "description": "Of before, to one decimal; null when there was nothing before" }
            }
        },
        "MonthChange": {
            "type": "object", "required": ["earlier_month", "earlier_document", "per_currency", "charges_changed", "charges_unchanged"],
            "properties": {
                "earlier_month": month, "earlier_document": { "type": "integer", "description": "The archived copy compared with" },
                "per_currency": { "type": "array", "items": schema("CurrencyChange") },
                "charges_changed": { "type": "integer" }, "charges_unchanged": { "type": "integer" }
            }
        },
        "KindCount": {
            "type": "object", "required": ["lines", "at_stake"],
            "properties": { "lines": { "type": "integer" }, "at_stake": { "type": "object", "additionalProperties": decimal, "description": "Per currency" } }
        },
        "Findings": {
            "type": "object", "required": ["totals", "exceptions", "joined", "low_margin_percent"],
            "properties": {
                "totals": { "type": "array", "items": schema("CurrencyTotal") },
                "change": { "oneOf": [schema("MonthChange"), { "type": "null" }] },
                "exceptions": { "type": "object", "propertyNames": { "enum": kinds }, "additionalProperties": schema("KindCount") },
                "joined": { "type": "boolean", "description": "Whether the other side was fetched for the worklist" },
                "low_margin_percent": decimal
            }
        },
        "RunRecord": {
            "type": "object",
            "required": ["id", "job", "profile", "endpoint", "slot", "month", "window", "status", "attempts", "started_at", "documents"],
            "properties": {
                "id": { "type": "integer" }, "job": { "type": "string" }, "profile": { "type": "string" },
                "endpoint": { "type": "string", "enum": endpoints },
                "slot": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}(-[0-9]{2}T[0-9]{2}:[0-9]{2})?$", "description": "What makes it one run of its job: the month, or a cron rule's time (local)" },
                "month": month,
                "window": { "type": "array", "items": { "type": "string", "format": "date" }, "minItems": 2, "maxItems": 2 },
                "status": { "type": "string", "enum": ["running", "not_yet_published", "succeeded", "failed"] },
                "attempts": { "type": "integer" },
                "started_at": { "type": "string", "format": "date-time" },
                "finished_at": { "type": ["string", "null"], "format": "date-time" },
                "documents": { "type": "array", "items": { "type": "integer" }, "description": "The archived copies fetched" },
                "findings": { "oneOf": [schema("Findings"), { "type": "null" }] },
                "error": { "type": ["string", "null"] },
                "told": { "type": "array", "items": { "type": "string", "pattern": "^(email|webhook:.+)$" }, "description": "The channels told of the run so far" }
            }
        },
        "RunNotice": {
            "type": "object", "required": ["event", "subject", "summary", "link", "run"],
            "description": "What a webhook of shape json receives when a run ends",
            "properties": {
                "event": { "const": billing::api::runs::RunNotice::EVENT },
                "subject": { "type": "string", "description": "One line: the job's month and how it went" },
                "summary": { "type": "string", "description": "The totals, the change and the worklist in a few lines of text" },
                "link": { "type": "string", "format": "uri", "description": "Opens the run's month in the portal" },
                "run": schema("RunRecord")
            }
        },
        "RunsPage": {
            "type": "object", "required": ["runs"],
            "properties": { "runs": { "type": "array", "items": schema("RunRecord") } }
        }
    });
    let Value::Object(mut schemas) = schemas else { unreachable!("a JSON object") };
    // A field the relay sends is a field described: receivers can rely on
    // the description being whole.
    for schema in schemas.values_mut() {
        if let Some(object) = schema.as_object_mut().filter(|object| object.contains_key("properties")) {
            object.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
    }
    schemas
}
