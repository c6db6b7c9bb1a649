//! The OpenAPI description of the relay's own API, served at
//! `/api/openapi.json`. Its enumerations come from crates/billing, so they
//! follow the code.

use billing::{Endpoint, api::ErrorCode};
use serde_json::{Value, json};

pub fn document() -> Value {
    let endpoints: Vec<&str> = Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect();
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|code| json!(code)).collect();
    let error = json!({ "$ref": "#/components/schemas/Error" });
    let error_response = |description: &str| json!({ "description": description, "content": { "application/json": { "schema": error } } });
    let query = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "billing-relay",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The relay between the billing portal and the vendor Billing API. It holds the API keys; none of its answers carries one."
        },
        "paths": {
            "/api/profiles": {
                "get": {
                    "summary": "The profiles the caller may use: name, environment, generation, versions and endpoints",
                    "responses": {
                        "200": { "description": "The profiles", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Profile" } } } } },
                        "401": error_response("Sign-in is on and the request has no live session (code sign_in_required)"),
                        "403": error_response("The client is not on the allowlist")
                    }
                }
            },
            "/api/me": {
                "get": {
                    "summary": "Whether sign-in is on, who is signed in, and the names of the profiles they may use",
                    "responses": {
                        "200": { "description": "The caller", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Me" } } } },
                        "401": error_response("Sign-in is on and the request has no live session (code sign_in_required)"),
                        "403": error_response("The client is not on the allowlist")
                    }
                }
            },
            "/api/documents/{profile}/{version}/{endpoint}": {
                "get": {
                    "summary": "A vendor document, streamed as the vendor sends it",
                    "parameters": [
                        { "name": "profile", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "version", "in": "path", "required": true, "schema": { "type": "string", "examples": ["v3"] } },
                        { "name": "endpoint", "in": "path", "required": true, "schema": { "type": "string", "enum": endpoints } },
                        query("start", "First invoice date, inclusive; defaults to three months before the end", json!({ "type": "string", "format": "date" })),
                        query("end", "Last invoice date, inclusive; defaults to today", json!({ "type": "string", "format": "date" })),
                        query("format", "xml (legacy API only) or json", json!({ "type": "string", "enum": ["xml", "json"] })),
                        query("subscription", "The subscription id, for subscriptiondetails only", json!({ "type": "string", "pattern": "^[0-9]{1,20}$" })),
                        query("download", "1 adds Content-Disposition with a descriptive file name", json!({ "type": "string", "enum": ["0", "1"] }))
                    ],
                    "responses": {
                        "200": { "description": "The document, byte for byte as the vendor sent it", "content": { "application/xml": {}, "application/json": {} } },
                        "400": error_response("A bad or reversed date, or another bad parameter"),
                        "401": error_response("Sign-in is on and the request has no live session (code sign_in_required)"),
                        "403": error_response("The client is not on the allowlist, or the signed-in person has no access to the profile (code profile_forbidden)"),
                        "404": error_response("Unknown profile, version or endpoint"),
                        "429": error_response("Too many requests from this client"),
                        "502": error_response("The vendor rejected the key, refused the relay, failed, answered in the wrong format or could not be reached"),
                        "504": error_response("The vendor was too slow")
                    }
                }
            },
            "/api/openapi.json": { "get": { "summary": "This description", "responses": { "200": { "description": "OpenAPI 3.1" } } } }
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "error", "detail"],
                    "properties": {
                        "code": { "type": "string", "enum": codes, "description": "Stable and machine-readable; match on this, not on the wording" },
                        "error": { "type": "string" },
                        "detail": { "type": "string" },
                        "sign_in_url": { "type": "string", "description": "With sign_in_required: where to sign in" }
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
                "Profile": {
                    "type": "object",
                    "required": ["name", "environment", "generation", "versions", "endpoints"],
                    "properties": {
                        "name": { "type": "string" },
                        "environment": { "type": "string" },
                        "generation": { "type": "string", "enum": ["legacy", "current"] },
                        "versions": { "type": "array", "items": { "type": "string" } },
                        "endpoints": { "type": "array", "items": { "type": "string", "enum": endpoints } }
                    }
                }
            }
        }
    })
}
