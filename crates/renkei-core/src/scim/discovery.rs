//! The discovery documents (RFC 7644 §4): what renkei's SCIM service supports, truthfully.

use serde_json::{Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, RENKEI_SCHEMA, USER_SCHEMA};

/// The most resources one list answer holds.
pub const MAX_RESULTS: usize = 200;

/// `/ServiceProviderConfig`: PATCH and simple filters; no bulk, sorting, ETags or password
/// changes; a bearer token.
pub fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The organization's SCIM token, created in renkei's admin console",
        }],
        "meta": {"resourceType": "ServiceProviderConfig"},
    })
}

/// `/ResourceTypes`: User (with the enterprise and renkei extensions) and Group.
pub fn resource_types(base: &str) -> Value {
    let types = vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "schema": USER_SCHEMA,
            "schemaExtensions": [
                {"schema": ENTERPRISE_SCHEMA, "required": false},
                {"schema": RENKEI_SCHEMA, "required": false},
            ],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ];
    list(types)
}

fn attribute(name: &str, kind: &str, required: bool, mutability: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "required": required,
        "caseExact": false, "mutability": mutability, "returned": "default",
        "uniqueness": if name == "userName" { "server" } else { "none" },
    })
}

/// `/Schemas`: the attributes renkei reads and returns, nothing more.
pub fn schemas() -> Value {
    let string = |n: &str| attribute(n, "string", false, "readWrite");
    let mut emails = attribute("emails", "complex", false, "readWrite");
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([
        string("value"),
        string("type"),
        attribute("primary", "boolean", false, "readWrite")
    ]);
    let mut name = attribute("name", "complex", false, "readWrite");
    name["subAttributes"] = json!([
        string("formatted"),
        string("familyName"),
        string("givenName")
    ]);
    let mut members = attribute("members", "complex", false, "readWrite");
    members["multiValued"] = json!(true);
    members["subAttributes"] = json!([string("value"), string("display")]);
    let schema = |id: &str, name: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "attributes": attributes,
            "meta": {"resourceType": "Schema"},
        })
    };
    list(vec![
        schema(
            USER_SCHEMA,
            "User",
            vec![
                attribute("userName", "string", true, "readWrite"),
                string("externalId"),
                string("displayName"),
                name,
                attribute("active", "boolean", false, "readWrite"),
                emails,
            ],
        ),
        schema(
            GROUP_SCHEMA,
            "Group",
            vec![
                attribute("displayName", "string", true, "readWrite"),
                members,
            ],
        ),
        schema(
            ENTERPRISE_SCHEMA,
            "EnterpriseUser",
            vec![string("department"), string("employeeNumber")],
        ),
        schema(
            RENKEI_SCHEMA,
            "renkei User",
            vec![string("kana"), string("profession")],
        ),
    ])
}

fn list(resources: Vec<Value>) -> Value {
    let n = resources.len();
    json!({"schemas": [LIST_SCHEMA], "totalResults": n, "startIndex": 1, "itemsPerPage": n, "Resources": resources})
}
