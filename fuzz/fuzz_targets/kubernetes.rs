//! Kubernetes objects: JSON and YAML lists of events and pods, `kubectl get events` tables,
//! `kubectl describe` text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::k8s;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let captured = Some((1_763_630_000_000, "--captured-at"));
    let _ = k8s::parse(&text);
    if k8s::is_event_table(&text) {
        let _ = k8s::parse_event_table(&text, captured);
    }
    if k8s::describe::is_describe(&text) {
        let _ = k8s::describe::parse_describe(&text, captured);
    }
    let _ = k8s::parse_age(&text);
});
