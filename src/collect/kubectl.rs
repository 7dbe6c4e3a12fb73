//! Running the real `kubectl` (so the user's kubeconfig, contexts and auth plugins just
//! work): one command per request, its output streamed to a bundle file or returned, and its
//! failure told apart (not installed, no context, unreachable, forbidden, not found) from
//! kubectl's own words.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::model::shell_quote;

/// Why a kubectl command failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KubectlError {
    #[error("kubectl is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/), or analyze exported files instead (postmortem analyze DIR)")]
    NotInstalled,
    #[error("no current kube context: {0}; choose one with `kubectl config use-context NAME` or pass --context NAME")]
    NoContext(String),
    #[error(
        "the cluster is unreachable: {0}; check the VPN or proxy, then `kubectl cluster-info`"
    )]
    Unreachable(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Failed(String),
}

/// How long one `get` may take; logs get longer.
const GET_TIMEOUT: &str = "--request-timeout=60s";
const LOGS_TIMEOUT: &str = "--request-timeout=10m";

/// The `kubectl` to run, with the context and namespace every command gets.
#[derive(Clone, Debug)]
pub struct Kubectl {
    pub program: PathBuf,
    pub context: Option<String>,
    pub namespace: String,
}

impl Kubectl {
    /// `kubectl [--context C] [-n NS] ARGS` as shown to the user and in `collected.json`.
    pub fn display(&self, args: &[&str], namespaced: bool) -> String {
        let mut parts = vec!["kubectl".to_owned()];
        parts.extend(
            self.global(namespaced)
                .iter()
                .map(|a| shell_quote(&a.to_string_lossy())),
        );
        parts.extend(args.iter().map(|a| shell_quote(a)));
        parts.join(" ")
    }

    fn global(&self, namespaced: bool) -> Vec<OsString> {
        let mut g = Vec::new();
        if let Some(c) = &self.context {
            g.push(OsString::from("--context"));
            g.push(OsString::from(c));
        }
        if namespaced {
            g.push(OsString::from("-n"));
            g.push(OsString::from(&self.namespace));
        }
        g
    }

    fn command(&self, args: &[&str], namespaced: bool) -> Command {
        let mut c = Command::new(&self.program);
        c.args(self.global(namespaced));
        c.args(args);
        let timeout = if args.first() == Some(&"logs") {
            LOGS_TIMEOUT
        } else {
            GET_TIMEOUT
        };
        if args.first() != Some(&"config") {
            c.arg(timeout);
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs a command in the namespace (or not) and returns its standard output.
    pub fn output(&self, args: &[&str], namespaced: bool) -> Result<Vec<u8>, KubectlError> {
        let out = self
            .command(args, namespaced)
            .output()
            .map_err(|e| spawn_error(&e))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(classify(&String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Runs a command with its standard output streamed into `path` (never held in memory);
    /// returns the bytes written.
    pub fn to_file(&self, args: &[&str], path: &Path) -> Result<u64, KubectlError> {
        let file = File::create(path)
            .map_err(|e| KubectlError::Failed(format!("cannot create {}: {e}", path.display())))?;
        let mut child = self
            .command(args, true)
            .stdout(Stdio::from(file))
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(&e))?;
        let mut stderr = Vec::new();
        if let Some(mut s) = child.stderr.take() {
            // Bounded: kubectl's complaints are short; a flood is cut.
            let _ = s.by_ref().take(1 << 20).read_to_end(&mut stderr);
            let _ = std::io::copy(&mut s, &mut std::io::sink());
        }
        let status = child
            .wait()
            .map_err(|e| KubectlError::Failed(format!("waiting for kubectl: {e}")))?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if status.success() {
            Ok(bytes)
        } else {
            let _ = std::fs::remove_file(path);
            Err(classify(&String::from_utf8_lossy(&stderr)))
        }
    }
}

fn spawn_error(e: &std::io::Error) -> KubectlError {
    if e.kind() == std::io::ErrorKind::NotFound {
        KubectlError::NotInstalled
    } else {
        KubectlError::Failed(format!("cannot run kubectl: {e}"))
    }
}

/// kubectl's message: its last line that is not client-go's log noise (`E1202 23:23:42 ...`).
fn message(stderr: &str) -> String {
    let klog = |l: &str| {
        let b = l.as_bytes();
        b.len() > 5 && matches!(b[0], b'E' | b'W' | b'I') && b[1..5].iter().all(u8::is_ascii_digit)
    };
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = lines
        .iter()
        .rev()
        .find(|l| !klog(l))
        .or(lines.last())
        .copied()
        .unwrap_or("kubectl failed without a message");
    let text = text
        .trim_start_matches("error: ")
        .trim_start_matches("Error from server ");
    // `(Forbidden): events is forbidden: ...`: the reason is what the message says.
    let text = match text.strip_prefix('(').and_then(|t| t.split_once("): ")) {
        Some((reason, rest)) if reason.bytes().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => text,
    };
    let mut text = text.to_owned();
    if text.len() > 400 {
        let mut cut = 400;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Tells kubectl's failures apart from its words.
pub fn classify(stderr: &str) -> KubectlError {
    let m = message(stderr);
    let all = stderr.to_ascii_lowercase();
    if all.contains("current-context is not set")
        || all.contains("no configuration has been provided")
        || all.contains("context was not found")
        || all.contains("does not exist") && all.contains("context")
    {
        KubectlError::NoContext(m)
    } else if all.contains("forbidden") {
        KubectlError::Forbidden(m)
    } else if all.contains("unable to connect to the server")
        || all.contains("connection refused")
        || all.contains("no such host")
        || all.contains("i/o timeout")
        || all.contains("dial tcp")
        || all.contains("tls handshake timeout")
        || all.contains("was refused")
    {
        KubectlError::Unreachable(m)
    } else if all.contains("(notfound)") || all.contains(" not found") {
        KubectlError::NotFound(m)
    } else {
        KubectlError::Failed(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_told_apart() {
        assert!(matches!(
            classify("error: current-context is not set\n"),
            KubectlError::NoContext(_)
        ));
        assert!(matches!(
            classify("E1202 23:23:42.6 memcache.go:265] couldn't get\nThe connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n"),
            KubectlError::Unreachable(m) if m.starts_with("The connection")
        ));
        assert!(matches!(
            classify("Error from server (Forbidden): events is forbidden: User \"dev\" cannot list resource \"events\""),
            KubectlError::Forbidden(m) if m.starts_with("events is forbidden")
        ));
        assert!(matches!(
            classify("Error from server (NotFound): deployments.apps \"x\" not found"),
            KubectlError::NotFound(_)
        ));
        assert!(matches!(classify("boom"), KubectlError::Failed(m) if m == "boom"));
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("app=mcp-backend"), "app=mcp-backend");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
