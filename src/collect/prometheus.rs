//! Prometheus, reached directly (`--prometheus URL`, with `--prometheus-header`s) or through
//! the API server's service proxy (`kubectl get --raw`): its version (which `--prom-compat`
//! to follow), its retention, the rules in force (written as `rules.yml`), and the raw
//! samples of every series those rules read, by range-selector instant queries split so no
//! answer is too large. Requests time out and are retried with backoff; header values are
//! never written anywhere.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::kubectl::{Kubectl, KubectlError};
use crate::model::rules::{AlertingRule, Rule, RuleGroup, RuleKind, RuleSet};
use crate::model::time::parse_prom_duration;
use crate::model::Millis;

/// Why a Prometheus request failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PromError {
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("{0}")]
    Kubectl(KubectlError),
    #[error("unreadable answer: {0}")]
    Body(String),
}

impl PromError {
    /// The server refused the query as too large (too many samples, or a body too big):
    /// split it.
    pub fn too_large(&self) -> bool {
        match self {
            PromError::Status { message, .. } => {
                let m = message.to_ascii_lowercase();
                m.contains("too many samples")
                    || m.contains("max-samples")
                    || m.contains("exceeded")
            }
            PromError::Body(m) => m.contains("larger than"),
            _ => false,
        }
    }

    fn retryable(&self) -> bool {
        match self {
            PromError::Unreachable(_) => true,
            PromError::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            PromError::Kubectl(KubectlError::Unreachable(_)) => true,
            _ => false,
        }
    }
}

/// The largest answer read for one query (larger ones are split).
pub const MAX_ANSWER_BYTES: u64 = 256 << 20;
/// Attempts per request (the first and two retries, after 0.5 s and 1 s).
const ATTEMPTS: u32 = 3;

/// Where Prometheus' HTTP API is.
pub enum Endpoint {
    Http {
        base: String,
        agent: ureq::Agent,
        headers: Vec<(String, String)>,
    },
    Proxy {
        kubectl: Kubectl,
        /// `/api/v1/namespaces/NS/services/NAME:PORT/proxy`
        prefix: String,
        service: String,
    },
}

/// `https://user:pass@host/` as `https://«credentials»@host/`: the URL as it may be written
/// down (the bundle, the report).
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://«credentials»{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// A query parameter value percent-encoded (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    /// Everything but ALPHA / DIGIT / "-" / "." / "_" / "~".
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

fn path_with(path: &str, params: &[(&str, String)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

impl Endpoint {
    pub fn http(base: &str, headers: Vec<(String, String)>) -> Endpoint {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .user_agent(concat!("postmortem/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Endpoint::Http {
            base: base.trim_end_matches('/').to_owned(),
            agent,
            headers,
        }
    }

    /// How it is reached, in words (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Endpoint::Http { base, headers, .. } => {
                let base = without_userinfo(base);
                if headers.is_empty() {
                    base.clone()
                } else {
                    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
                    format!("{base} (with header {})", names.join(", "))
                }
            }
            Endpoint::Proxy { service, .. } => {
                format!("service {service} through the API server's proxy")
            }
        }
    }

    /// The request as written in `collected.json`.
    pub fn request_text(&self, path: &str, params: &[(&str, String)]) -> String {
        match self {
            Endpoint::Http { .. } => format!("GET {}", path_with(path, params)),
            Endpoint::Proxy {
                kubectl, prefix, ..
            } => kubectl.display(
                &[
                    "get",
                    "--raw",
                    &format!("{prefix}{}", path_with(path, params)),
                ],
                false,
            ),
        }
    }

    /// GETs `path` with `params`; Prometheus' own error (`{"status":"error",...}`) is the
    /// message. Retried with backoff when the server is unreachable or overloaded.
    pub fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<u8>, PromError> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(500 << (attempt - 1)));
            }
            match self.get_once(path, params) {
                Ok(b) => return Ok(b),
                Err(e) if e.retryable() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| PromError::Unreachable("no attempt made".into())))
    }

    fn get_once(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<u8>, PromError> {
        let body = match self {
            Endpoint::Http {
                base,
                agent,
                headers,
            } => {
                let url = format!("{base}{}", path_with(path, params));
                let mut req = agent.get(&url);
                for (k, v) in headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let mut resp = req.call().map_err(|e| match e {
                    ureq::Error::Io(io) => PromError::Unreachable(io.to_string()),
                    ureq::Error::HostNotFound => PromError::Unreachable("host not found".into()),
                    ureq::Error::ConnectionFailed => {
                        PromError::Unreachable("connection failed".into())
                    }
                    ureq::Error::Timeout(t) => PromError::Unreachable(format!("timed out ({t})")),
                    other => PromError::Unreachable(other.to_string()),
                })?;
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_ANSWER_BYTES)
                    .read_to_vec()
                    .map_err(|e| match e {
                        ureq::Error::BodyExceedsLimit(_) => {
                            PromError::Body(format!("larger than {} MiB", MAX_ANSWER_BYTES >> 20))
                        }
                        other => PromError::Body(other.to_string()),
                    })?;
                if status >= 400 {
                    return Err(PromError::Status {
                        status,
                        message: api_error(&body).unwrap_or_else(|| {
                            String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
                        }),
                    });
                }
                body
            }
            Endpoint::Proxy {
                kubectl, prefix, ..
            } => {
                let raw = format!("{prefix}{}", path_with(path, params));
                kubectl
                    .output(&["get", "--raw", &raw], false)
                    .map_err(|e| match e {
                        KubectlError::Failed(m) if m.contains("(") => PromError::Status {
                            status: 0,
                            message: m,
                        },
                        other => PromError::Kubectl(other),
                    })?
            }
        };
        if let Some(m) = api_error(&body) {
            return Err(PromError::Status {
                status: 200,
                message: m,
            });
        }
        Ok(body)
    }
}

/// Prometheus' error answer: `{"status":"error","errorType":"...","error":"..."}`.
fn api_error(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(256)];
    memchr::memmem::find(head, b"\"status\":\"error")?;
    let v: Value = serde_json::from_slice(body).ok()?;
    (v["status"] == "error").then(|| {
        format!(
            "{}: {}",
            v["errorType"].as_str().unwrap_or("error"),
            v["error"].as_str().unwrap_or("")
        )
    })
}

/// The server's version from `/api/v1/status/buildinfo`.
pub fn version(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["data"]["version"].as_str().map(str::to_owned)
}

/// The retention from `/api/v1/status/flags` (`None` when unlimited by time or unknown).
pub fn retention(body: &[u8]) -> Option<(String, Millis)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = v["data"]["storage.tsdb.retention.time"]
        .as_str()
        .or_else(|| v["data"]["storage.tsdb.retention"].as_str())?;
    let ms = parse_prom_duration(text)?;
    (ms > 0).then(|| (text.to_owned(), ms))
}

/// What `/api/v1/rules` says: the rules file it amounts to, and what the rules read.
pub struct RulesRead {
    pub yaml: String,
    pub rules: usize,
    pub selectors: Vec<String>,
    /// How far before the window the rules need samples: their longest look-back plus their
    /// longest `for`.
    pub lookback_ms: Millis,
    /// Rules whose expression could not be parsed (named, with why).
    pub problems: Vec<String>,
}

fn seconds(v: &Value) -> Option<Millis> {
    v.as_f64()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| (s * 1000.0).round() as Millis)
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Turns `/api/v1/rules` into a rules file (`groups:`) and the series its rules read.
pub fn rules(body: &[u8]) -> Result<RulesRead, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let groups = v["data"]["groups"]
        .as_array()
        .ok_or("no data.groups in the answer")?;
    let mut out = RuleSet::default();
    let mut selectors = Vec::new();
    let mut lookback: Millis = 0;
    let mut problems = Vec::new();
    let mut count = 0;
    for g in groups {
        let mut group = RuleGroup {
            name: g["name"].as_str().unwrap_or("unnamed").to_owned(),
            interval_ms: seconds(&g["interval"]),
            rules: Vec::new(),
        };
        for r in g["rules"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(expr) = r["query"].as_str() else {
                continue;
            };
            let name = r["name"].as_str().unwrap_or_default().to_owned();
            let alerting = r["type"] == "alerting";
            let for_ms = seconds(&r["duration"]);
            match crate::promql::reads(expr) {
                Ok((s, back)) => {
                    selectors.extend(s);
                    lookback = lookback.max(back + for_ms.unwrap_or(0));
                }
                Err(e) => problems.push(format!("rule {name}: {e}")),
            }
            count += 1;
            group.rules.push(Rule {
                kind: if alerting {
                    RuleKind::Alerting(AlertingRule {
                        alert: name,
                        for_ms: for_ms.unwrap_or(0),
                        keep_firing_for_ms: seconds(&r["keepFiringFor"]).unwrap_or(0),
                        annotations: strings(&r["annotations"]),
                    })
                } else {
                    RuleKind::Recording(name)
                },
                expr: expr.to_owned(),
                labels: strings(&r["labels"]),
            });
        }
        out.groups.push(group);
    }
    selectors.sort();
    selectors.dedup();
    let yaml = out.to_yaml()?;
    Ok(RulesRead {
        yaml,
        rules: count,
        selectors,
        lookback_ms: lookback,
        problems,
    })
}

/// A file name for a selector's answers: its metric name (or a hash of the selector), safe
/// on every file system.
pub fn slug(selector: &str) -> String {
    let name: String = selector
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .map(|c| if c == ':' { '_' } else { c })
        .collect();
    let hash = xxhash_rust::xxh3::xxh3_64(selector.as_bytes()) & 0xffff_ffff;
    if name.is_empty() {
        format!("series-{hash:08x}")
    } else if name.len() == selector.len() {
        name.chars().take(80).collect()
    } else {
        format!("{}-{hash:08x}", name.chars().take(80).collect::<String>())
    }
}

/// Whether a query answer holds any series.
pub fn has_series(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        data: Data<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        result: Vec<&'a serde_json::value::RawValue>,
    }
    serde_json::from_slice::<Answer<'_>>(body).is_ok_and(|a| !a.data.result.is_empty())
}

/// The answer with the query that produced it beside `status` (a saved request's envelope),
/// so a reader knows its samples are raw scrapes (a range selector), not re-sampled, even
/// when they sit on a grid (ALERTS are written at the evaluation instants).
pub fn with_query(body: &[u8], query: &str) -> Vec<u8> {
    let start = body.iter().position(|&c| c == b'{');
    match start {
        Some(i) => {
            let mut out = Vec::with_capacity(body.len() + query.len() + 16);
            out.extend_from_slice(&body[..=i]);
            out.extend_from_slice(b"\"query\":");
            out.extend_from_slice(serde_json::to_string(query).unwrap_or_default().as_bytes());
            out.push(b',');
            out.extend_from_slice(&body[i + 1..]);
            out
        }
        None => body.to_vec(),
    }
}

/// Seconds with milliseconds, as Prometheus reads `time=`.
pub fn prom_time(ms: Millis) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_answer_becomes_a_rules_file() {
        let body = br#"{"status":"success","data":{"groups":[{"name":"mcp-everything.generation","file":"/etc/prometheus/rules/a.yaml","interval":15,"rules":[
            {"state":"inactive","name":"HighGenerationErrorRate","query":"rate(mcp_generation_errors_total[5m]) > 0.1","duration":300,"keepFiringFor":0,"labels":{"severity":"critical"},"annotations":{"summary":"High error rate: {{ $value }}"},"alerts":[],"health":"ok","type":"alerting"},
            {"name":"job:errors:rate5m","query":"sum by (job) (rate(mcp_generation_errors_total[5m]))","labels":{},"health":"ok","type":"recording"},
            {"name":"NoGenerations","query":"sum(rate(mcp_generation_total[1h])) == 0","duration":3600,"labels":{},"annotations":{},"type":"alerting"}]}]}}"#;
        let r = rules(body).unwrap();
        assert_eq!(r.rules, 3);
        assert_eq!(
            r.selectors,
            vec!["mcp_generation_errors_total", "mcp_generation_total"]
        );
        assert_eq!(r.lookback_ms, 2 * 3_600_000);
        let set = crate::ingest::rules::parse(&r.yaml).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let alerts: Vec<_> = set
            .alerting_rules()
            .map(|(g, _, a)| (g.interval_ms, a.alert.clone(), a.for_ms))
            .collect();
        assert_eq!(
            alerts,
            vec![
                (Some(15_000), "HighGenerationErrorRate".to_owned(), 300_000),
                (Some(15_000), "NoGenerations".to_owned(), 3_600_000)
            ]
        );
    }

    #[test]
    fn errors_and_names() {
        assert_eq!(
            api_error(br#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#).as_deref(),
            Some("execution: query processing would load too many samples into memory in query execution")
        );
        assert_eq!(slug("ALERTS"), "ALERTS");
        assert_eq!(
            without_userinfo("https://admin:s3cret@prom.example.com/prometheus"),
            "https://«credentials»@prom.example.com/prometheus"
        );
        assert_eq!(
            without_userinfo("http://localhost:9090"),
            "http://localhost:9090"
        );
        assert!(slug("container_memory_working_set_bytes{namespace=\"x\"}")
            .starts_with("container_memory_working_set_bytes-"));
        assert!(slug("{__name__=~\"a.*\"}").starts_with("series-"));
        assert_eq!(prom_time(1_795_168_114_287), "1795168114.287");
        assert_eq!(
            with_query(br#"{"status":"success","data":{}}"#, "ALERTS[1h]"),
            br#"{"query":"ALERTS[1h]","status":"success","data":{}}"#.to_vec()
        );
        assert_eq!(encode("a b{c=\"d\"}[5m]"), "a%20b%7Bc%3D%22d%22%7D%5B5m%5D");
    }
}

/// Prometheus' side of a live collection.
pub mod run {
    use super::*;
    use crate::collect::{parallel, Bundle, Journal};
    use crate::config::LiveSettings;
    use crate::model::collection::{Collection, GapKind, PrometheusInfo};
    use crate::model::time::{format_rfc3339, format_short};
    use crate::promql::PromCompat;

    /// Samples are asked for in spans of at most this much (halved when too large).
    const CHUNK: Millis = 3_600_000;
    const MIN_CHUNK: Millis = 60_000;

    /// Runs one request and journals it (and the file it was saved to).
    fn request(
        ep: &Endpoint,
        j: &Journal,
        what: String,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<u8>, PromError> {
        j.run(
            what,
            ep.request_text(path, params),
            || ep.get(path, params),
            |b| Ok((b.len() as u64, None)),
        )
    }

    /// One span of one selector's raw samples.
    struct Span {
        selector: String,
        from: Millis,
        to: Millis,
    }

    /// `sel[range]` at `to`, split in halves while the server (or our limit) says it is too large.
    fn samples(ep: &Endpoint, j: &Journal, b: &Bundle, span: Span) -> Result<Vec<String>, String> {
        let mut pending = vec![(span.from, span.to)];
        let mut files = Vec::new();
        while let Some((from, to)) = pending.pop() {
            let q = format!("{}[{}ms]", span.selector, to - from);
            let what = format!(
                "samples of {} {}..{}",
                span.selector,
                format_short(from),
                format_short(to)
            );
            match request(
                ep,
                j,
                what,
                "/api/v1/query",
                &[("query", q.clone()), ("time", prom_time(to))],
            ) {
                Ok(body) => {
                    if has_series(&body) {
                        let stamp = format_rfc3339(from)
                            .replace([':', '-'], "")
                            .replace(".000", "");
                        let file = format!("metrics/{}-{stamp}.json", slug(&span.selector));
                        b.write(&file, &with_query(&body, &q))?;
                        files.push(file);
                    }
                }
                Err(e) if e.too_large() && to - from > MIN_CHUNK => {
                    let mid = from + (to - from) / 2;
                    pending.push((mid, to));
                    pending.push((from, mid));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(files)
    }

    pub fn collect(
        s: &LiveSettings,
        ep: &Endpoint,
        b: &Bundle,
        j: &Journal,
        record: &mut Collection,
    ) {
        let mut info = PrometheusInfo {
            via: ep.describe(),
            ..PrometheusInfo::default()
        };
        let unreachable = |j: &Journal, e: &PromError| {
            j.gap(
                GapKind::NoPrometheus,
                "metrics",
                format!("Prometheus ({}) did not answer: {e}", ep.describe()),
                "check --prometheus (e.g. kubectl port-forward svc/prometheus 9090, then --prometheus http://localhost:9090) and --prometheus-header; the alert is reconstructed from the logs meanwhile",
            )
        };
        match request(
            ep,
            j,
            "Prometheus version".into(),
            "/api/v1/status/buildinfo",
            &[],
        ) {
            Ok(body) => info.version = version(&body),
            Err(e) => {
                unreachable(j, &e);
                record.prometheus = Some(info);
                return;
            }
        }
        let (compat, from) = match (s.compat, &info.version) {
            (Some(c), _) => (c, "--prom-compat".to_owned()),
            (None, Some(v)) if v.starts_with("3.") => {
                (PromCompat::V3, format!("the server's version {v}"))
            }
            (None, Some(v)) => (PromCompat::V2, format!("the server's version {v}")),
            (None, None) => (
                PromCompat::V2,
                "the default (the server did not say its version)".to_owned(),
            ),
        };
        info.compat = match compat {
            PromCompat::V2 => "2",
            PromCompat::V3 => "3",
        }
        .to_owned();
        info.compat_from = from;
        let retention_ms = match request(
            ep,
            j,
            "Prometheus retention".into(),
            "/api/v1/status/flags",
            &[],
        ) {
            Ok(body) => retention(&body).map(|(text, ms)| {
                info.retention = Some(text);
                ms
            }),
            Err(_) => None,
        };
        let mut selectors = Vec::new();
        let mut lookback: Millis = 5 * 60_000;
        match request(ep, j, "alerting rules".into(), "/api/v1/rules", &[]) {
            Ok(body) => match rules(&body) {
                Ok(r) => {
                    info.rules = r.rules;
                    lookback = lookback.max(r.lookback_ms);
                    selectors.extend(r.selectors);
                    for p in &r.problems {
                        j.gap(
                            GapKind::RequestFailed,
                            "a rule's series",
                            p.clone(),
                            "its series are not collected",
                        );
                    }
                    if r.rules > 0 {
                        if let Err(e) = b.write("rules.yml", r.yaml.as_bytes()) {
                            j.gap(GapKind::RequestFailed, "rules", e, "pass --rules FILE");
                        }
                    }
                }
                Err(e) => j.gap(
                    GapKind::RequestFailed,
                    "rules",
                    e,
                    "pass --rules FILE to evaluate the rules in force",
                ),
            },
            Err(e) => j.gap(
                GapKind::RequestFailed,
                "rules",
                e.to_string(),
                "pass --rules FILE to evaluate the rules in force",
            ),
        }
        // The runbook's alert's series, what Prometheus recorded, and the memory charts'.
        if let Ok((builtin, back)) = crate::promql::reads("rate(mcp_generation_errors_total[5m])") {
            selectors.extend(builtin);
            lookback = lookback.max(back + 5 * 60_000);
        }
        let ns = serde_json::to_string(&s.namespace).unwrap_or_default();
        selectors.extend([
            "ALERTS".to_owned(),
            "ALERTS_FOR_STATE".to_owned(),
            format!("container_memory_working_set_bytes{{container!=\"\",container!=\"POD\",namespace={ns}}}"),
            format!("kube_pod_container_resource_limits{{namespace={ns},resource=\"memory\"}}"),
        ]);
        selectors.sort();
        selectors.dedup();
        info.selectors = selectors.clone();
        let start = s.since - lookback;
        if let Some(keep) = retention_ms {
            let now = chrono::Utc::now().timestamp_millis();
            if now - keep > start {
                j.gap(
                    GapKind::RetentionTooShort,
                    "metric samples",
                    format!(
                        "Prometheus keeps {} of history, so nothing before {} is left, but the window and the rules' look-back begin at {}",
                        info.retention.clone().unwrap_or_default(),
                        format_short(now - keep),
                        format_short(start)
                    ),
                    "analyze a shorter --since, or read older samples from long-term storage (Thanos, Mimir) with --prometheus",
                );
            }
        }
        let mut spans = Vec::new();
        for sel in &selectors {
            let mut from = start;
            while from < s.as_of {
                let to = (from + CHUNK).min(s.as_of);
                spans.push(Span {
                    selector: sel.clone(),
                    from,
                    to,
                });
                from = to;
            }
        }
        let results = parallel(spans, s.max_requests, |span| {
            let sel = span.selector.clone();
            (sel, samples(ep, j, b, span))
        });
        let mut failed: BTreeMap<String, String> = BTreeMap::new();
        for (sel, r) in results {
            if let Err(e) = r {
                failed.entry(sel).or_insert(e);
            }
        }
        for (sel, e) in failed {
            j.gap(
                GapKind::RequestFailed,
                format!("samples of {sel}"),
                e,
                "the rules reading it are evaluated on what was collected",
            );
        }
        record.prometheus = Some(info);
    }
}
