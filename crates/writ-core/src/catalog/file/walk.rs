//! Walking a generic YAML tree by hand: every step knows its path in the file
//! (`entitlements[3].max_ttl`), and every problem is recorded instead of stopping the walk, so a
//! bad file gets all its errors at once.

use serde_norway::Value;
use writ_domain::ParseError;

use super::FileError;

/// The problems found so far in one file.
pub(super) struct Report {
    file: String,
    errors: Vec<FileError>,
}

impl Report {
    /// An empty report for `file`.
    pub(super) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            errors: Vec::new(),
        }
    }

    /// The name of the file being read.
    pub(super) fn file(&self) -> &str {
        &self.file
    }

    /// Records a problem at `path`.
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FileError {
            file: self.file.clone(),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Records that `value` at `path` is not the `expected` sort of value.
    pub(super) fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        let found = describe(value);
        let hint = match (expected, value) {
            ("a string", Value::Number(_) | Value::Bool(_)) => "; quote it to use it as text",
            _ => "",
        };
        self.error(path, format!("expected {expected}, found {found}{hint}"));
    }

    /// The problems, in the order they were found.
    pub(super) fn into_errors(self) -> Vec<FileError> {
        self.errors
    }
}

/// What sort of YAML value `value` is, for messages.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The path of field `key` inside `path`.
pub(super) fn field_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The path of item `index` of the list at `path`.
pub(super) fn item_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// Parses the string at `path` with `parse`, reporting a value of another type or a refusal.
pub(super) fn text<T>(
    report: &mut Report,
    path: &str,
    value: &Value,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Option<T> {
    match value {
        Value::String(text) => match parse(text) {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                report.error(path, err.to_string());
                None
            }
        },
        other => {
            report.wrong_type(path, "a string", other);
            None
        }
    }
}

/// Parses each item of the list at `path` with `each`; `None` when the value is no list or any
/// item failed (every failure is reported).
pub(super) fn list<'v, T>(
    report: &mut Report,
    path: &str,
    value: &'v Value,
    mut each: impl FnMut(&mut Report, &str, &'v Value) -> Option<T>,
) -> Option<Vec<T>> {
    let Value::Sequence(items) = value else {
        report.wrong_type(path, "a list", value);
        return None;
    };
    let parsed: Vec<Option<T>> = items
        .iter()
        .enumerate()
        .map(|(index, item)| each(report, &item_path(path, index), item))
        .collect();
    parsed.into_iter().collect()
}

/// Refuses blank text and trims the rest; for free text with no stronger type.
pub(super) fn non_blank(what: &'static str, text: &str) -> Result<String, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(ParseError::new(what, text, "must not be empty"))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// The fields of one YAML mapping, whose keys were checked against the allowed ones.
pub(super) struct Fields<'v> {
    path: String,
    entries: Vec<(&'v str, &'v Value)>,
}

impl<'v> Fields<'v> {
    /// Opens the mapping at `path`, reporting a value that is no mapping, a key that is not a
    /// string and every key not in `allowed`.
    pub(super) fn open(
        report: &mut Report,
        path: &str,
        value: &'v Value,
        allowed: &[&str],
    ) -> Option<Self> {
        let Value::Mapping(mapping) = value else {
            report.wrong_type(path, "a mapping", value);
            return None;
        };
        let mut entries = Vec::with_capacity(mapping.len());
        for (key, value) in mapping {
            match key {
                Value::String(key) if allowed.contains(&key.as_str()) => {
                    entries.push((key.as_str(), value));
                }
                Value::String(key) => report.error(
                    &field_path(path, key),
                    format!("unknown field; expected one of `{}`", allowed.join("`, `")),
                ),
                other => report.error(
                    path,
                    format!("field names must be strings, found {}", describe(other)),
                ),
            }
        }
        Some(Self {
            path: path.to_owned(),
            entries,
        })
    }

    /// The path of field `key`.
    pub(super) fn path(&self, key: &str) -> String {
        field_path(&self.path, key)
    }

    /// The value of `key`; an explicit `null` counts as absent.
    pub(super) fn get(&self, key: &str) -> Option<&'v Value> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| *value)
            .filter(|value| !value.is_null())
    }

    /// The value of `key` built by `build`, reporting it when absent.
    pub(super) fn required_with<T>(
        &self,
        report: &mut Report,
        key: &str,
        build: impl FnOnce(&mut Report, &str, &'v Value) -> Option<T>,
    ) -> Option<T> {
        let path = self.path(key);
        match self.get(key) {
            Some(value) => build(report, &path, value),
            None => {
                report.error(&path, "missing required field");
                None
            }
        }
    }

    /// The value of `key` built by `build`: `Some(None)` when absent, `None` when it failed.
    pub(super) fn optional_with<T>(
        &self,
        report: &mut Report,
        key: &str,
        build: impl FnOnce(&mut Report, &str, &'v Value) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.get(key) {
            Some(value) => build(report, &self.path(key), value).map(Some),
            None => Some(None),
        }
    }

    /// The string value of `key` parsed by `parse`, reporting it when absent.
    pub(super) fn required<T>(
        &self,
        report: &mut Report,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        self.required_with(report, key, |report, path, value| {
            text(report, path, value, parse)
        })
    }

    /// The string value of `key` parsed by `parse`: `Some(None)` when absent, `None` when it
    /// failed.
    pub(super) fn optional<T>(
        &self,
        report: &mut Report,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<Option<T>> {
        self.optional_with(report, key, |report, path, value| {
            text(report, path, value, parse)
        })
    }

    /// The boolean value of `key`, `default` when absent.
    pub(super) fn flag(&self, report: &mut Report, key: &str, default: bool) -> Option<bool> {
        let built = self.optional_with(report, key, |report, path, value| match value {
            Value::Bool(flag) => Some(*flag),
            other => {
                report.wrong_type(path, "a boolean (`true` or `false`)", other);
                None
            }
        })?;
        Some(built.unwrap_or(default))
    }

    /// The list value of `key`, each item built by `each`; empty when absent.
    pub(super) fn list<T>(
        &self,
        report: &mut Report,
        key: &str,
        each: impl FnMut(&mut Report, &str, &'v Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        let built = self.optional_with(report, key, |report, path, value| {
            list(report, path, value, each)
        })?;
        Some(built.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn unknown_fields_are_reported_with_the_allowed_ones() {
        let value = yaml("name: a\nonwer: b\n");
        let mut report = Report::new("c.yaml");
        let fields = Fields::open(&mut report, "systems[0]", &value, &["name", "owner"]);
        assert!(fields.is_some());
        let errors = report.into_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "systems[0].onwer");
        assert_eq!(
            errors[0].message,
            "unknown field; expected one of `name`, `owner`"
        );
    }

    #[test]
    fn a_null_field_counts_as_absent() {
        let value = yaml("team: ~\n");
        let mut report = Report::new("c.yaml");
        let fields = Fields::open(&mut report, "x", &value, &["team"]).unwrap();
        assert_eq!(
            fields.optional(&mut report, "team", |t| non_blank("team", t)),
            Some(None)
        );
        assert!(
            fields
                .required(&mut report, "team", |t| non_blank("team", t))
                .is_none()
        );
        assert_eq!(report.into_errors()[0].message, "missing required field");
    }

    #[test]
    fn a_number_where_text_is_expected_suggests_quoting() {
        let value = yaml("external_id: 12345\n");
        let mut report = Report::new("c.yaml");
        let fields = Fields::open(&mut report, "principals[0]", &value, &["external_id"]).unwrap();
        assert!(
            fields
                .required(&mut report, "external_id", |t| non_blank("id", t))
                .is_none()
        );
        let errors = report.into_errors();
        assert_eq!(errors[0].path, "principals[0].external_id");
        assert_eq!(
            errors[0].message,
            "expected a string, found a number; quote it to use it as text"
        );
    }

    #[test]
    fn every_bad_item_of_a_list_is_reported() {
        let value = yaml("[ok, 1, true]\n");
        let mut report = Report::new("c.yaml");
        let parsed = list(&mut report, "groups", &value, |report, path, value| {
            text(report, path, value, |t| non_blank("group", t))
        });
        assert!(parsed.is_none());
        let paths: Vec<String> = report.into_errors().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["groups[1]", "groups[2]"]);
    }
}
