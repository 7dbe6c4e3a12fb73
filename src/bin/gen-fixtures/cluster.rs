//! The example incident's cluster objects as exported at 10:30: `kubectl get events -o json`
//! and `kubectl get pods -o json`.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::incident::{A, B, C, CRASH, C_START, MIN, NS, RESTART, T0};

/// kubectl's timestamps: whole seconds (events' `eventTime` and the series' times are
/// microseconds).
fn secs(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms - ms.rem_euclid(1000))
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn micros(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Writes JSON the way kubectl does (four-space indent); returns its line count.
fn write_kubectl_json(path: &Path, v: &serde_json::Value) -> std::io::Result<u64> {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    v.serialize(&mut ser)?;
    out.push(b'\n');
    std::fs::write(path, &out)?;
    Ok(out.iter().filter(|&&b| b == b'\n').count() as u64)
}

/// A core/v1 event, as `kubectl get events -o json` lists it.
fn core_event(
    name: &str,
    (kind, object): (&str, &str),
    reason: &str,
    message: &str,
    (first, last, count): (i64, i64, u64),
    kind_of: &str,
) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "count": count,
        "eventTime": null,
        "firstTimestamp": secs(first),
        "involvedObject": {"apiVersion": "v1", "kind": kind, "name": object, "namespace": NS},
        "kind": "Event",
        "lastTimestamp": secs(last),
        "message": message,
        "metadata": {"name": name, "namespace": NS},
        "reason": reason,
        "reportingComponent": "kubelet",
        "reportingInstance": "gke-prod-pool-1-a8c2",
        "source": {"component": if kind == "Pod" { "kubelet" } else { "replicaset-controller" }, "host": "gke-prod-pool-1-a8c2"},
        "type": kind_of
    })
}

/// The cluster as exported at 10:30: `kubectl get events -o json` (core/v1 events mixed with
/// events.k8s.io/v1 ones, as a cluster with newer controllers lists them) and `kubectl get pods
/// -o json`. Pod A's container ran out of JavaScript heap at 09:58:30 (exit code 134, reason
/// `Error`: a heap abort, not a kill at the limit) after its probes had been failing (the
/// liveness probe twice, one short of the default failureThreshold of 3: no kill).
pub fn write(dir: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::create_dir_all(dir)?;
    let events = json!({
        "apiVersion": "v1",
        "items": [
            core_event(&format!("{A}.187a1f0c2b3d4e01"), ("Pod", A), "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                (T0 + 52 * MIN, CRASH - 5_000, 14), "Warning"),
            core_event(&format!("{A}.187a1f0c2b3d4e02"), ("Pod", A), "Unhealthy",
                "Liveness probe failed: Get \"http://10.52.1.17:3000/api/v1/health/live\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                (T0 + 57 * MIN + 40_000, CRASH - 10_000, 2), "Warning"),
            core_event(&format!("{A}.187a1f0c2b3d4e03"), ("Pod", A), "Pulled",
                "Container image \"ghcr.io/mcp-everything/backend:1.14.2\" already present on machine",
                (T0 - 20 * 60 * MIN + 3_000, RESTART - 1_000, 2), "Normal"),
            core_event(&format!("{A}.187a1f0c2b3d4e04"), ("Pod", A), "Started",
                "Started container backend",
                (T0 - 20 * 60 * MIN + 4_000, RESTART, 2), "Normal"),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": "mcp-backend.187a1f9d00000001", "namespace": NS},
                "eventTime": micros(C_START - 20_000),
                "reportingController": "deployment-controller",
                "reportingInstance": "",
                "action": "ScalingReplicaSet",
                "reason": "ScalingReplicaSet",
                "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "mcp-backend", "namespace": NS},
                "note": "Scaled up replica set mcp-backend-7c9d5b8f6d from 2 to 3",
                "type": "Normal"
            }),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": format!("{C}.187a1f9d00000002"), "namespace": NS},
                "eventTime": micros(C_START - 18_500),
                "reportingController": "default-scheduler",
                "reportingInstance": "default-scheduler-gke-prod",
                "action": "Binding",
                "reason": "Scheduled",
                "regarding": {"apiVersion": "v1", "kind": "Pod", "name": C, "namespace": NS},
                "note": format!("Successfully assigned {NS}/{C} to gke-prod-pool-1-f3d9"),
                "type": "Normal"
            }),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": format!("{C}.187a1f9d00000003"), "namespace": NS},
                "eventTime": micros(C_START - 15_000),
                "series": {"count": 4, "lastObservedTime": micros(C_START - 3_000)},
                "reportingController": "kubelet",
                "reportingInstance": "gke-prod-pool-1-f3d9",
                "action": "Probe",
                "reason": "Unhealthy",
                "regarding": {"apiVersion": "v1", "kind": "Pod", "name": C, "namespace": NS, "fieldPath": "spec.containers{backend}"},
                "note": "Readiness probe failed: Get \"http://10.52.2.9:3000/api/v1/health/ready\": dial tcp 10.52.2.9:3000: connect: connection refused",
                "type": "Warning"
            })
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    let container = |ready: bool, restarts: u64, started: i64, last: serde_json::Value| {
        json!({
            "containerID": "containerd://4f1c0d2e9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1",
            "image": "ghcr.io/mcp-everything/backend:1.14.2",
            "lastState": last,
            "name": "backend",
            "ready": ready,
            "restartCount": restarts,
            "started": true,
            "state": {"running": {"startedAt": secs(started)}}
        })
    };
    let pod = |name: &str, node: &str, started: i64, status: serde_json::Value| {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "creationTimestamp": secs(started - 20_000),
                "labels": {"app": "mcp-backend", "pod-template-hash": "7c9d5b8f6d"},
                "name": name,
                "namespace": NS
            },
            "spec": {
                "containers": [{
                    "image": "ghcr.io/mcp-everything/backend:1.14.2",
                    "name": "backend",
                    "ports": [{"containerPort": 3000, "protocol": "TCP"}],
                    "resources": {
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                        "requests": {"cpu": "250m", "memory": "256Mi"}
                    }
                }],
                "nodeName": node
            },
            "status": {
                "containerStatuses": [status],
                "phase": "Running",
                "startTime": secs(started - 15_000)
            }
        })
    };
    let day_before = T0 - 20 * 60 * MIN;
    let pods = json!({
        "apiVersion": "v1",
        "items": [
            pod(B, "gke-prod-pool-1-b71e", day_before, container(true, 0, day_before, json!({}))),
            pod(C, "gke-prod-pool-1-f3d9", C_START, container(true, 0, C_START, json!({}))),
            pod(A, "gke-prod-pool-1-a8c2", day_before, container(true, 1, RESTART, json!({
                "terminated": {
                    "containerID": "containerd://9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
                    "exitCode": 134,
                    "finishedAt": secs(CRASH + 1_000),
                    "reason": "Error",
                    "startedAt": secs(day_before)
                }
            })))
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    Ok((
        write_kubectl_json(&dir.join("events.json"), &events)?,
        write_kubectl_json(&dir.join("pods.json"), &pods)?,
    ))
}
