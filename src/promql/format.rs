//! Printing results: the text `promtool query instant|range` prints (Prometheus' `model`
//! package `String()` forms: `name{a="1", b="2"} => 0.5 @[1700000000]`) and the JSON of
//! Prometheus' HTTP API (`{"status":"success","data":{"resultType":..,"result":[..]}}`, values
//! as strings such as `"NaN"` and `"+Inf"`, times as Unix seconds).

use serde_json::{json, Map, Number};

use super::Value;
use crate::model::labels::{self, Labels};
use crate::model::metrics::MetricSeries;

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, no
/// exponent, `NaN`, `+Inf`, `-Inf`.
pub(crate) fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Milliseconds as Prometheus' `model.Time.String()`: seconds, with the fraction only when
/// there is one (`1700000000`, `1700000000.5`).
fn seconds(t_ms: i64) -> String {
    go_float(t_ms as f64 / 1000.0)
}

/// The text `promtool query` prints for `v`, evaluated at `t_ms` (the time printed for
/// instant vectors, scalars and strings; a range vector's samples carry their own).
pub fn format_promtool(v: &Value, t_ms: i64) -> String {
    match v {
        Value::Scalar(x) => format!("scalar: {} @[{}]", go_float(*x), seconds(t_ms)),
        Value::String(s) => s.clone(),
        Value::Vector(v) => v
            .iter()
            .map(|(l, x)| {
                format!(
                    "{} => {} @[{}]",
                    labels::metric(l),
                    go_float(*x),
                    seconds(t_ms)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Matrix(m) => format_matrix(m),
    }
}

/// The text `promtool query range` prints for a range result.
pub fn format_promtool_range(m: &[MetricSeries]) -> String {
    format_matrix(m)
}

fn format_matrix(m: &[MetricSeries]) -> String {
    m.iter()
        .map(|s| {
            let vals: Vec<String> = s
                .samples
                .iter()
                .map(|p| format!("{} @[{}]", go_float(p.v), seconds(p.t_ms)))
                .collect();
            format!("{} =>\n{}", labels::metric(&s.labels), vals.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A time as the API writes it: Unix seconds, a number.
fn json_time(t_ms: i64) -> serde_json::Value {
    if t_ms % 1000 == 0 {
        json!(t_ms / 1000)
    } else {
        Number::from_f64(t_ms as f64 / 1000.0).map_or(serde_json::Value::Null, Into::into)
    }
}

fn json_labels(l: &Labels) -> serde_json::Value {
    serde_json::Value::Object(
        l.iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn json_matrix(m: &[MetricSeries]) -> serde_json::Value {
    serde_json::Value::Array(
        m.iter()
            .map(|s| {
                json!({
                    "metric": json_labels(&s.labels),
                    "values": s.samples.iter()
                        .map(|p| json!([json_time(p.t_ms), go_float(p.v)]))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// `v`, evaluated at `t_ms`, in the shape of Prometheus' `/api/v1/query` response.
pub fn to_api_json(v: &Value, t_ms: i64) -> serde_json::Value {
    let (kind, result) = match v {
        Value::Scalar(x) => ("scalar", json!([json_time(t_ms), go_float(*x)])),
        Value::String(s) => ("string", json!([json_time(t_ms), s])),
        Value::Vector(v) => (
            "vector",
            serde_json::Value::Array(
                v.iter()
                    .map(|(l, x)| {
                        json!({"metric": json_labels(l), "value": [json_time(t_ms), go_float(*x)]})
                    })
                    .collect(),
            ),
        ),
        Value::Matrix(m) => ("matrix", json_matrix(m)),
    };
    json!({"status": "success", "data": {"resultType": kind, "result": result}})
}

/// A range result in the shape of Prometheus' `/api/v1/query_range` response.
pub fn range_to_api_json(m: &[MetricSeries]) -> serde_json::Value {
    json!({"status": "success", "data": {"resultType": "matrix", "result": json_matrix(m)}})
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::labels::from_pairs as labels;

    #[test]
    fn promtool_text() {
        let v = Value::Vector(vec![
            (
                labels(&[("__name__", "up"), ("job", "a\"b"), ("b", "1")]),
                1.0,
            ),
            (labels(&[]), f64::INFINITY),
            (labels(&[("__name__", "x")]), 0.1),
        ]);
        assert_eq!(
            format_promtool(&v, 1_700_000_000_500),
            "up{b=\"1\", job=\"a\\\"b\"} => 1 @[1700000000.5]\n{} => +Inf @[1700000000.5]\nx => 0.1 @[1700000000.5]"
        );
        assert_eq!(
            format_promtool(&Value::Scalar(f64::NAN), 3_000),
            "scalar: NaN @[3]"
        );
        assert_eq!(go_float(1e21), "1000000000000000000000");
        assert_eq!(go_float(1e-7), "0.0000001");
    }

    #[test]
    fn api_json() {
        let v = Value::Vector(vec![(labels(&[("a", "1")]), f64::NEG_INFINITY)]);
        assert_eq!(
            to_api_json(&v, 1_500).to_string(),
            r#"{"data":{"result":[{"metric":{"a":"1"},"value":[1.5,"-Inf"]}],"resultType":"vector"},"status":"success"}"#
        );
        assert_eq!(
            to_api_json(&Value::Scalar(2.0), 2_000).to_string(),
            r#"{"data":{"result":[2,"2"],"resultType":"scalar"},"status":"success"}"#
        );
    }
}
