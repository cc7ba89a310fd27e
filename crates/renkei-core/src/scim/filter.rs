//! SCIM filters renkei answers: one attribute compared with `eq` to a string, which is what
//! Entra ID and Okta send before creating a user or group. A work e-mail is matched like a
//! `userName` (login or e-mail address).

use super::Fault;

/// The attribute a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    UserName,
    ExternalId,
    DisplayName,
    Id,
}

/// `attribute eq "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub attribute: Attribute,
    pub value: String,
}

/// Parses `userName eq "x"`, `externalId eq "x"`, `displayName eq "x"` or `id eq "x"`
/// (attribute and operator in any case); anything else is `invalidFilter`.
pub fn parse(text: &str) -> Result<Filter, Fault> {
    let text = text.trim();
    let unsupported = || {
        Fault::filter(
            "only `userName`, `externalId`, `displayName`, `id` or a work e-mail eq \"value\"",
        )
    };
    // Entra ID may match on `emails[type eq "work"].value`: an e-mail is matched like a userName.
    let work_email = r#"emails[type eq "work"].value"#;
    let (attribute, rest) = match text.get(..work_email.len()) {
        Some(head) if head.eq_ignore_ascii_case(work_email) => {
            ("username", &text[work_email.len()..])
        }
        _ => text
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?,
    };
    let (operator, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let attribute = match attribute.to_ascii_lowercase().as_str() {
        "username" | "emails.value" => Attribute::UserName,
        "externalid" => Attribute::ExternalId,
        "displayname" => Attribute::DisplayName,
        "id" => Attribute::Id,
        _ => return Err(unsupported()),
    };
    let value: String = serde_json::from_str(value.trim())
        .map_err(|_| Fault::filter("the value must be a quoted string"))?;
    Ok(Filter { attribute, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_identity_providers_send_are_understood() {
        assert_eq!(
            parse(r#"userName eq "Tanaka@Hospital.example""#),
            Ok(Filter {
                attribute: Attribute::UserName,
                value: "Tanaka@Hospital.example".into()
            })
        );
        assert_eq!(
            parse(r#"externalId EQ "a \"quoted\" id""#).unwrap().value,
            "a \"quoted\" id"
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "t@h.example""#),
            Ok(Filter {
                attribute: Attribute::UserName,
                value: "t@h.example".into()
            })
        );
        assert_eq!(
            parse(r#"displayName eq "循環器内科""#).unwrap().attribute,
            Attribute::DisplayName
        );
    }

    #[test]
    fn other_filters_are_refused_as_invalid_filters() {
        for bad in [
            r#"userName sw "t""#,
            r#"name.familyName eq "x""#,
            "userName eq tanaka",
            "userName",
            r#"userName eq "a" and active eq true"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().scim_type, "invalidFilter", "{bad}");
        }
    }
}
