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
                    { "name": "job", "in": "query", "required": false, "description": "Only this job's runs", "schema": { "type": "string" } },
                    { "name": "limit", "in": "query", "required": false, "description": "At most this many (default 50)", "schema": { "type": "integer", "minimum": 1, "maximum": billing::api::runs::RunsQuery::MOST } }
                ],
                "responses": responses(served, own)
            }
        }),
    );
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
            "required": ["id", "job", "profile", "endpoint", "month", "window", "status", "attempts", "started_at", "documents"],
            "properties": {
                "id": { "type": "integer" }, "job": { "type": "string" }, "profile": { "type": "string" },
                "endpoint": { "type": "string", "enum": endpoints }, "month": month,
                "window": { "type": "array", "items": { "type": "string", "format": "date" }, "minItems": 2, "maxItems": 2 },
                "status": { "type": "string", "enum": ["running", "not_yet_published", "succeeded", "failed"] },
                "attempts": { "type": "integer" },
                "started_at": { "type": "string", "format": "date-time" },
                "finished_at": { "type": ["string", "null"], "format": "date-time" },
                "documents": { "type": "array", "items": { "type": "integer" }, "description": "The archived copies fetched" },
                "findings": { "oneOf": [schema("Findings"), { "type": "null" }] },
                "error": { "type": ["string", "null"] }
            }
        },
        "RunsPage": {
            "type": "object", "required": ["runs"],
            "properties": { "runs": { "type": "array", "items": schema("RunRecord") } }
        }
    });
    match schemas {
        Value::Object(schemas) => schemas,
        _ => unreachable!("a JSON object"),
    }
}
