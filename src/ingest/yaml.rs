//! YAML documents (one, or a `---` stream) read with serde-saphyr (serde_yaml is deprecated)
//! into JSON values, for the readers of Kubernetes objects and rules files, with the line a
//! malformed document fails at.

use serde_json::Value;

/// Why a YAML text could not be read: the parser's first line, and the line it names.
#[derive(Debug)]
pub struct YamlError {
    /// `malformed YAML: <what the parser said>`.
    pub message: String,
    pub line: Option<u64>,
}

/// Every document of `text`.
pub fn documents(text: &str) -> Result<Vec<Value>, YamlError> {
    serde_saphyr::from_multiple::<Value>(text).map_err(|e| {
        let message = e.to_string();
        YamlError {
            line: error_line(&message),
            message: format!(
                "malformed YAML: {}",
                message.lines().next().unwrap_or("").trim()
            ),
        }
    })
}

/// serde-saphyr's messages carry `line N` (or `N:M`); the first number after "line" is taken.
fn error_line(message: &str) -> Option<u64> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_the_line_of_an_error() {
        assert_eq!(documents("a: 1\n---\nb: 2\n").unwrap().len(), 2);
        let e = documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.message.starts_with("malformed YAML: "), "{}", e.message);
        assert!(e.line.is_some(), "{e:?}");
    }
}
