//! A system's connector config, turned from YAML into a JSON object. Secrets may only appear as
//! references (`{env: VAR}` or `{file: /path}`): a catalog file lives in git, and the config is
//! stored, logged and shown, so a credential written into it would leak everywhere.

use serde_json::{Map, Number, Value as Json};
use serde_norway::Value;

use super::walk::{Report, describe, field_path, item_path};

/// What to write instead of a secret, in every message that refuses one.
const USE_A_REFERENCE: &str =
    "write a reference instead: `{env: VARIABLE}` or `{file: /path/to/secret}`";

/// The config at `path` as a JSON object; `None` after reporting every problem in it.
pub(super) fn connector_config(report: &mut Report, path: &str, value: &Value) -> Option<Json> {
    if !matches!(value, Value::Mapping(_)) {
        report.wrong_type(path, "a mapping", value);
        return None;
    }
    to_json(report, path, value)
}

/// Converts `value` to JSON, refusing secrets that are not references.
fn to_json(report: &mut Report, path: &str, value: &Value) -> Option<Json> {
    match value {
        Value::Null => Some(Json::Null),
        Value::Bool(flag) => Some(Json::Bool(*flag)),
        Value::Number(number) => {
            let json = if let Some(n) = number.as_u64() {
                Some(Number::from(n))
            } else if let Some(n) = number.as_i64() {
                Some(Number::from(n))
            } else {
                number.as_f64().and_then(Number::from_f64)
            };
            if json.is_none() {
                report.error(path, format!("number `{number}` cannot be stored as json"));
            }
            json.map(Json::Number)
        }
        Value::String(text) => {
            if url_has_password(text) {
                report.error(
                    path,
                    format!("a url must not carry a password; {USE_A_REFERENCE}"),
                );
                return None;
            }
            Some(Json::String(text.clone()))
        }
        Value::Sequence(items) => {
            let items: Vec<Option<Json>> = items
                .iter()
                .enumerate()
                .map(|(index, item)| to_json(report, &item_path(path, index), item))
                .collect();
            items
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Json::Array)
        }
        Value::Mapping(mapping) => {
            let mut object = Map::new();
            let mut ok = true;
            for (key, value) in mapping {
                let Value::String(key) = key else {
                    report.error(
                        path,
                        format!("config keys must be strings, found {}", describe(key)),
                    );
                    ok = false;
                    continue;
                };
                let key_path = field_path(path, key);
                let converted = if names_a_secret(key) {
                    secret(report, &key_path, value)
                } else {
                    to_json(report, &key_path, value)
                };
                match converted {
                    Some(json) => {
                        object.insert(key.clone(), json);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Json::Object(object))
        }
        Value::Tagged(_) => {
            report.wrong_type(path, "a plain value", value);
            None
        }
    }
}

/// The value of a secret-named key: nothing, a flag, or a reference. The refusal never quotes
/// the value, which may be the very secret it refuses.
fn secret(report: &mut Report, path: &str, value: &Value) -> Option<Json> {
    match value {
        Value::Null => Some(Json::Null),
        Value::Bool(flag) => Some(Json::Bool(*flag)),
        Value::Mapping(_) => match secret_ref(value) {
            Some(reference) => Some(reference),
            None => {
                report.error(
                    path,
                    format!("expected a secret reference; {USE_A_REFERENCE}"),
                );
                None
            }
        },
        _ => {
            report.error(
                path,
                format!("a secret must not be written in the catalog; {USE_A_REFERENCE}"),
            );
            None
        }
    }
}

/// `{env: VAR}` or `{file: /path}` with a usable name, as JSON; `None` for anything else.
fn secret_ref(value: &Value) -> Option<Json> {
    let Value::Mapping(mapping) = value else {
        return None;
    };
    let mut entries = mapping.iter();
    let (Some((Value::String(kind), Value::String(target))), None) =
        (entries.next(), entries.next())
    else {
        return None;
    };
    let usable = match kind.as_str() {
        "env" => !target.is_empty() && !target.contains(['=', '\0']),
        "file" => !target.trim().is_empty() && !target.contains('\0'),
        _ => false,
    };
    usable.then(|| {
        let mut object = Map::new();
        object.insert(kind.clone(), Json::String(target.clone()));
        Json::Object(object)
    })
}

/// Whether a config key names a secret: its last word (split at punctuation and camel case) is
/// a password, secret, token or key. The last word says what the value is, so
/// `admin_password` and `apiKey` are secrets while `token_url` and `key_file` are not.
fn names_a_secret(key: &str) -> bool {
    let last_word = words(key).pop().unwrap_or_default();
    const ENDINGS: [&str; 7] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "credentials",
    ];
    ENDINGS.iter().any(|ending| last_word.ends_with(ending))
        || matches!(last_word.as_str(), "key" | "apikey" | "privatekey" | "pwd")
}

/// The lowercase words of `key`, split at non-alphanumerics and lower-to-upper case changes.
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether `text` is a URL whose user info holds a password (`scheme://user:pw@host`).
fn url_has_password(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((user_info, _)) = authority.rsplit_once('@') else {
        return false;
    };
    user_info
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(yaml: &str) -> (Option<Json>, Vec<(String, String)>) {
        let value: Value = serde_norway::from_str(yaml).unwrap();
        let mut report = Report::new("c.yaml");
        let json = connector_config(&mut report, "systems[0].config", &value);
        let errors = report
            .into_errors()
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect();
        (json, errors)
    }

    #[test]
    fn references_and_plain_settings_become_json() {
        let (json, errors) = convert(
            "host: db.internal\nport: 5432\nssl: true\n\
             password: {env: PG_PASSWORD}\nclient_cert_key: {file: /run/secrets/key}\n",
        );
        assert_eq!(errors, []);
        assert_eq!(
            json,
            Some(serde_json::json!({
                "host": "db.internal",
                "port": 5432,
                "ssl": true,
                "password": {"env": "PG_PASSWORD"},
                "client_cert_key": {"file": "/run/secrets/key"},
            }))
        );
    }

    #[test]
    fn a_plain_text_secret_is_refused_without_echoing_it() {
        let (json, errors) = convert("admin:\n  password: hunter2\n");
        assert_eq!(json, None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "systems[0].config.admin.password");
        assert!(errors[0].1.contains("{env: VARIABLE}"), "{}", errors[0].1);
        assert!(!errors[0].1.contains("hunter2"));
    }

    #[test]
    fn a_malformed_reference_is_refused() {
        for bad in [
            "token: {value: abc}",
            "token: {env: ''}",
            "token: {env: A, file: /b}",
        ] {
            let (json, errors) = convert(bad);
            assert_eq!(json, None, "{bad}");
            assert_eq!(errors[0].0, "systems[0].config.token", "{bad}");
        }
    }

    #[test]
    fn a_url_with_a_password_is_refused() {
        let (_, errors) = convert("dsn: postgres://admin:s3cret@db/payments\n");
        assert_eq!(errors.len(), 1);
        assert!(!errors[0].1.contains("s3cret"));
        let (_, errors) = convert("url: https://writ@ci.internal/hook\n");
        assert_eq!(errors, []);
    }

    #[test]
    fn secret_names_are_judged_by_their_last_word() {
        for secret in [
            "password",
            "admin_password",
            "apiKey",
            "api_key",
            "client-secret",
            "bearerToken",
            "PRIVATE_KEY",
            "dbpassword",
        ] {
            assert!(names_a_secret(secret), "{secret}");
        }
        for plain in [
            "token_url",
            "key_file",
            "access_key_id",
            "max_tokens",
            "monkey",
            "host",
        ] {
            assert!(!names_a_secret(plain), "{plain}");
        }
    }
}
