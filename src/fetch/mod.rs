//! Profiles from a running service: sources that look like URLs are
//! fetched over HTTP(S) the way `go tool pprof` fetches them, and the
//! profile built from them is saved so it can be read again later (say as
//! the next `-base`).
//!
//! What counts as a URL, the URL that is requested, the timeout and the
//! messages on stderr follow `go tool pprof` (its own fetcher, which runs
//! before pprof's generic one): `host:port` means the CPU profile
//! endpoint, `-seconds` goes into the query, the timeout defaults to 1.5 ×
//! the duration (or 60 s) and bounds the wait for the response headers,
//! plus 5 s of slack.

pub mod url;

use crate::ui::Ui;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::profile::{encode, Profile};

/// The endpoint a bare `host:port` means (Go's CPU profile handler).
const CPU_PROFILE_PATH: &str = "/debug/pprof/profile";

/// The longest wait (ten years): absurd `-seconds`/`-timeout` values are
/// capped rather than overflowing the clock arithmetic (Go's would wrap).
const MAX_WAIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// How many bytes of an error response body are shown.
const ERROR_BODY_LIMIT: u64 = 4096;

/// A source recognised as a URL, with what pprof derives from it.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: url::Url,
    /// Profile length asked for with `-seconds` (0 when not).
    pub seconds: i64,
    /// How long to wait for the response headers, before pprof's 5 s slack.
    pub timeout: Duration,
}

/// pprof's `adjustURL`: the URL to fetch for a source, or `None` when the
/// source is a file. `seconds` and `timeout` are the flags (≤ 0: unset).
pub fn adjust_url(source: &str, seconds: i64, timeout: i64) -> Option<Target> {
    // "host:port/path" parses as scheme "host": try again as http.
    let u = match url::parse(source) {
        Some(u) if u.has_host() || u.scheme.is_empty() || u.scheme == "file" => Some(u),
        _ => url::parse(&format!("http://{source}")),
    };
    let mut u = u.filter(url::Url::has_host)?;
    if u.path().is_empty() || u.path() == b"/" {
        u.set_path(CPU_PROFILE_PATH);
    }
    let mut values = url::parse_query(&u.raw_query);
    let mut duration = Duration::ZERO;
    if seconds > 0 {
        values.insert(b"seconds".to_vec(), vec![seconds.to_string().into_bytes()]);
        duration = Duration::from_secs(seconds as u64).min(MAX_WAIT);
    } else if let Some(s) = values.get(&b"seconds"[..]).and_then(|v| v.first()) {
        // The URL's own seconds set the default timeout (Go: a 32-bit int).
        if let Some(n) = std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
        {
            duration = Duration::from_secs(n.max(0) as u64);
        }
    }
    let timeout = if timeout > 0 {
        Duration::from_secs(timeout as u64).min(MAX_WAIT)
    } else if !duration.is_zero() {
        duration.saturating_add(duration / 2).min(MAX_WAIT)
    } else {
        Duration::from_secs(60)
    };
    u.raw_query = url::encode_query(&values);
    Some(Target {
        url: u,
        seconds: seconds.max(0),
        timeout,
    })
}

/// Whether a source names a URL (so the profile gets saved after fetching).
pub fn is_url(source: &str) -> bool {
    adjust_url(source, 0, 0).is_some()
}

/// Why fetching failed. Shown after the source: `rprof: host:port: ...`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No response: refused, unreachable, timed out, TLS, bad URL...
    #[error("Get \"{url}\": {reason}")]
    Request { url: String, reason: String },
    /// A response other than 200 OK, with the message of a Go pprof
    /// handler when it sent one.
    #[error("server response: {status}")]
    Status { status: String },
    #[error("Get \"{url}\": reading the response: {reason}")]
    Body { url: String, reason: String },
}

/// Go's `time.Duration` text for whole seconds: `30s`, `1m30s`, `1h0m0s`.
fn go_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn describe(e: &ureq::Error, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match e {
        ureq::Error::Timeout(ureq::Timeout::RecvResponse) => format!(
            "timeout awaiting response headers (after {})",
            go_duration(timeout.as_secs() as i64)
        ),
        ureq::Error::Timeout(t) => format!("timeout ({t})"),
        ureq::Error::HostNotFound => "no such host".into(),
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".into(),
            ErrorKind::ConnectionReset => "connection reset by peer".into(),
            ErrorKind::UnexpectedEof => "server closed the connection".into(),
            _ => io.to_string(),
        },
        other => other.to_string(),
    }
}

/// Fetches the bytes at a target (at most `max_bytes` of them), printing
/// pprof's progress messages.
pub fn get(target: &Target, max_bytes: u64, ui: &mut dyn Ui) -> Result<Vec<u8>, FetchError> {
    ui.warn(&format!("Fetching profile over HTTP from {}", target.url));
    if target.seconds > 0 {
        ui.warn(&format!("Please wait... ({})", go_duration(target.seconds)));
    }
    let mut u = target.url.clone();
    // pprof's scheme for self-signed services: https without verification.
    let insecure = u.scheme == "https+insecure";
    if insecure {
        u.scheme = "https".into();
    }
    let first = u.redacted();
    let wait = target
        .timeout
        .saturating_add(Duration::from_secs(5))
        .min(MAX_WAIT);
    // Redirects are followed here, not by ureq, so that each hop is checked
    // (http and https only) and a failure names the URL that failed.
    for _ in 0..=MAX_REDIRECTS {
        let request_error = |reason: String| FetchError::Request {
            url: u.redacted(),
            reason,
        };
        if u.scheme != "http" && u.scheme != "https" {
            let reason = format!("unsupported protocol scheme \"{}\"", u.scheme);
            if u.redacted() == first {
                return Err(request_error(reason));
            }
            return Err(FetchError::Request {
                url: first,
                reason: format!("redirected to {}: {reason}", u.redacted()),
            });
        }
        let call = || agent(&u, insecure, wait).get(u.request_target()).call();
        // A server that closes a kept-alive connection without saying so
        // (as after some redirects) gets one more try on a fresh one.
        let response = match call() {
            Err(ureq::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                call()
            }
            other => other,
        }
        .map_err(|e| request_error(describe(&e, wait)))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("Location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            u = resolve(&u, location)
                .ok_or_else(|| request_error(format!("bad redirect location {location:?}")))?;
            continue;
        }
        if status != ureq::http::StatusCode::OK {
            return Err(status_error(response));
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_bytes)
            .read_to_end(&mut body)
            .map_err(|e| FetchError::Body {
                url: u.redacted(),
                reason: e.to_string(),
            })?;
        return Ok(body);
    }
    Err(FetchError::Request {
        url: first,
        reason: format!("stopped after {MAX_REDIRECTS} redirects"),
    })
}

/// Redirects followed at most (as Go's http client).
const MAX_REDIRECTS: usize = 10;

/// A fresh agent for one request: no pooled connections, no redirects
/// followed by ureq, timeouts for the connection, the headers and the
/// whole exchange.
fn agent(u: &url::Url, insecure: bool, wait: Duration) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(wait))
        .timeout_recv_response(Some(wait))
        // The whole fetch, body included: a server trickling its body
        // cannot hold rprof past the timeout (a second later than the
        // headers' own timeout, which keeps its clearer message).
        .timeout_global(Some(wait.saturating_add(Duration::from_secs(1))));
    // Like Go's ProxyFromEnvironment, never send loopback traffic to a proxy.
    if is_loopback(&u.hostname()) {
        config = config.proxy(None);
    }
    if insecure {
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .disable_verification(true)
                .build(),
        );
    }
    config.build().into()
}

/// The URL a `Location` header points to from `base`: absolute, scheme-
/// relative (`//host/p`), host-relative (`/p`) or path-relative (`p`).
fn resolve(base: &url::Url, location: &str) -> Option<url::Url> {
    let location = location.trim();
    if location.is_empty() {
        return None;
    }
    if let Some(u) = url::parse(location).filter(|u| !u.scheme.is_empty()) {
        return Some(u);
    }
    let base = base.to_string();
    let (scheme, rest) = base.split_once("://")?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let joined = if let Some(l) = location.strip_prefix("//") {
        format!("{scheme}://{l}")
    } else if location.starts_with('/') {
        format!("{scheme}://{host}{location}")
    } else {
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{host}{dir}{location}")
    };
    url::parse(&joined)
}

/// `404 Not Found`, plus the message a Go pprof handler put in the body
/// (it marks those with an `X-Go-Pprof` header), on the same line.
fn status_error(response: ureq::http::Response<ureq::Body>) -> FetchError {
    let code = response.status();
    let mut status = match code.canonical_reason() {
        Some(reason) => format!("{} {reason}", code.as_u16()),
        None => code.as_u16().to_string(),
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if !header("X-Go-Pprof").is_empty() && header("Content-Type").contains("text/plain") {
        let mut body = Vec::new();
        let read = response
            .into_body()
            .into_reader()
            .take(ERROR_BODY_LIMIT)
            .read_to_end(&mut body);
        let text = String::from_utf8_lossy(&body);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if read.is_ok() && !text.is_empty() {
            status = format!("{status} - {text}");
        }
    }
    FetchError::Status { status }
}

/// Why a fetched profile could not be saved at all.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("failed to identify temp dir")]
    NoTempDir,
}

/// pprof's directory for fetched profiles: `$PPROF_TMPDIR`, else
/// `$HOME/pprof`, else the system temp dir; the first that can be created.
fn tmp_dir(ui: &mut dyn Ui) -> Result<PathBuf, SaveError> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("PPROF_TMPDIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        dirs.push(Path::new(&h).join("pprof"));
    }
    dirs.push(std::env::temp_dir());
    for dir in dirs {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o755);
        match b.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => ui.warn(&format!("Could not use temp dir {}: {e}", dir.display())),
        }
    }
    Err(SaveError::NoTempDir)
}

/// `pprof.<binary>.<type>.<type>...`: what the saved file is named after.
/// The names come from the profile (untrusted): each is made safe as one
/// file name component by [`name_component`].
fn file_prefix(p: &Profile) -> String {
    let mut prefix = String::from("pprof.");
    if let Some(m) = p.mappings.first().filter(|m| m.file != 0) {
        prefix.push_str(&name_component(crate::paths::base_name(p.str(m.file))));
        prefix.push('.');
    }
    for t in p.sample_types.iter().take(MAX_TYPES_IN_NAME) {
        prefix.push_str(&name_component(p.str(t.ty)));
        prefix.push('.');
    }
    prefix
}

/// Sample types named in a saved file's name at most (a file name is at
/// most 255 bytes).
const MAX_TYPES_IN_NAME: usize = 6;
/// Bytes of one name in a saved file's name at most.
const MAX_NAME_BYTES: usize = 32;

/// A profile string as part of a file name: letters, digits, `_`, `-` and
/// `+` kept (so usual names are unchanged), anything else (`/`, `.`, control
/// characters, spaces) becomes `_`, at most [`MAX_NAME_BYTES`] bytes. No
/// result can be empty, `.`, `..` or contain a separator.
fn name_component(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' | '+' => c,
            _ => '_',
        })
        .take(MAX_NAME_BYTES)
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Creates the first free `<prefix>NNN<suffix>` in `dir` (001 to 9999).
fn new_file(dir: &Path, prefix: &str, suffix: &str) -> std::io::Result<(std::fs::File, PathBuf)> {
    for n in 1..10000 {
        let path = dir.join(format!("{prefix}{n:03}{suffix}"));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "could not create file of the form {prefix}001{suffix}"
    )))
}

/// Saves a profile built from fetched sources, as pprof does, and says
/// where. Only a missing temp dir is an error; a failed write is reported
/// and the report goes on.
pub fn save(p: &Profile, ui: &mut dyn Ui) -> Result<Option<PathBuf>, SaveError> {
    let dir = tmp_dir(ui)?;
    let written = new_file(&dir, &file_prefix(p), ".pb.gz").and_then(|(f, path)| {
        let mut f = encode::write_gzip(p, std::io::BufWriter::new(f))?;
        std::io::Write::flush(&mut f)?;
        Ok(path)
    });
    match written {
        Ok(path) => {
            ui.warn(&format!("Saved profile in {}", path.display()));
            Ok(Some(path))
        }
        Err(e) => {
            ui.warn(&format!("Could not save profile: {e}"));
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile names in a profile cannot steer where it is saved.
    #[test]
    fn saved_names_stay_in_the_directory() {
        let mut p = Profile::default();
        for name in [
            "/../../../../../../tmp/escaped/owned",
            "..",
            "",
            "a\u{1b}[2Jb",
            &"x".repeat(300),
            "inuse_space",
        ] {
            let ty = p.strings.intern(name);
            p.sample_types
                .push(crate::profile::ValueType { ty, unit: 0 });
        }
        let file = p.strings.intern("/usr/bin/../my app");
        p.mappings.push(crate::profile::Mapping {
            id: 1,
            file,
            ..Default::default()
        });
        let prefix = file_prefix(&p);
        assert_eq!(
            prefix,
            format!(
                "pprof.my_app.___________________tmp_escaped_o.__._.a__2Jb.{}.inuse_space.",
                "x".repeat(32)
            )
        );
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = new_file(dir.path(), &prefix, ".pb.gz").unwrap();
        assert_eq!(path.parent(), Some(dir.path()));
        assert!(path.file_name().unwrap().len() < 255);
        // Usual names are kept as pprof writes them.
        let mut q = Profile::default();
        for t in ["alloc_objects", "alloc_space"] {
            let ty = q.strings.intern(t);
            q.sample_types
                .push(crate::profile::ValueType { ty, unit: 0 });
        }
        assert_eq!(file_prefix(&q), "pprof.alloc_objects.alloc_space.");
    }

    fn adjusted(source: &str, seconds: i64, timeout: i64) -> Option<(String, u64)> {
        adjust_url(source, seconds, timeout)
            .map(|t| (t.url.to_string(), t.timeout.as_millis() as u64))
    }

    /// URLs printed by `go tool pprof` 1.19 ("Fetching profile over HTTP
    /// from ...") for these arguments; `None` where it opened a file.
    #[test]
    fn urls_and_files_as_go_tool_pprof_tells_them() {
        let cpu = "http://127.0.0.1:1/debug/pprof/profile";
        for (source, want) in [
            ("current.heap", None),
            ("/tmp/x.pb.gz", None),
            ("a:b", None),
            ("dir/with:colon", None),
            ("file:///tmp/x", None),
            ("localhost", None),
            ("127.0.0.1:1", Some(cpu)),
            ("127.0.0.1:1/", Some(cpu)),
            ("http://127.0.0.1:1", Some(cpu)),
            (
                "localhost:1",
                Some("http://localhost:1/debug/pprof/profile"),
            ),
            (
                "127.0.0.1:1/debug/pprof/heap",
                Some("http://127.0.0.1:1/debug/pprof/heap"),
            ),
            (
                "http://127.0.0.1:1/debug/pprof/heap?seconds=5",
                Some("http://127.0.0.1:1/debug/pprof/heap?seconds=5"),
            ),
            (
                "http://127.0.0.1:1/x?b=2&a=1&a=0&c",
                Some("http://127.0.0.1:1/x?a=1&a=0&b=2&c="),
            ),
            ("http://127.0.0.1:1/x?", Some("http://127.0.0.1:1/x?")),
            (
                "http://127.0.0.1:1/x?q=a+b%2Fc&r=%zz&s=1;2",
                Some("http://127.0.0.1:1/x?q=a+b%2Fc"),
            ),
            (
                "http://127.0.0.1:1/a%2fb/c d",
                Some("http://127.0.0.1:1/a/b/c%20d"),
            ),
            ("//127.0.0.1:1/x", Some("//127.0.0.1:1/x")),
            ("ftp://127.0.0.1:1/x", Some("ftp://127.0.0.1:1/x")),
            (
                "https+insecure://127.0.0.1:1/x",
                Some("https+insecure://127.0.0.1:1/x"),
            ),
            (
                "HTTP://User:p%40ss@127.0.0.1:1/x#frag%20x",
                Some("http://User:p%40ss@127.0.0.1:1/x#frag%20x"),
            ),
            ("x.heap:1", Some("http://x.heap:1/debug/pprof/profile")),
            (
                "127.0.0.1:1?seconds=7",
                Some("http://127.0.0.1:1/debug/pprof/profile?seconds=7"),
            ),
            ("http://[::1]:1/x", Some("http://[::1]:1/x")),
        ] {
            assert_eq!(
                adjusted(source, -1, -1).map(|(u, _)| u).as_deref(),
                want,
                "{source}"
            );
        }
    }

    #[test]
    fn seconds_and_timeouts() {
        // -seconds goes into the query, replacing the URL's own.
        assert_eq!(
            adjusted("h:1/debug/pprof/profile?seconds=30&gc=1", 5, -1),
            Some(("http://h:1/debug/pprof/profile?gc=1&seconds=5".into(), 7500))
        );
        // The URL's seconds set the default timeout, +50%.
        assert_eq!(adjusted("h:1?seconds=3", -1, 0).map(|(_, t)| t), Some(4500));
        assert_eq!(
            adjusted("h:1?seconds=x", -1, 0).map(|(_, t)| t),
            Some(60000)
        );
        assert_eq!(adjusted("h:1", 0, -1).map(|(_, t)| t), Some(60000));
        assert_eq!(adjusted("h:1", 10, 2).map(|(_, t)| t), Some(2000));
        let t = adjust_url("h:1", 90, -1).unwrap();
        assert_eq!((t.seconds, go_duration(t.seconds)), (90, "1m30s".into()));
        assert_eq!(go_duration(3600), "1h0m0s");
        assert_eq!(go_duration(30), "30s");
        // Absurd values are capped, not overflowed.
        assert_eq!(
            adjust_url("h:1", i64::MAX, -1).map(|t| t.timeout),
            Some(MAX_WAIT)
        );
        assert_eq!(
            adjust_url("h:1", -1, i64::MAX).map(|t| t.timeout),
            Some(MAX_WAIT)
        );
    }

    #[test]
    fn saved_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let (_, a) = new_file(dir.path(), "pprof.x.", ".pb.gz").unwrap();
        let (_, b) = new_file(dir.path(), "pprof.x.", ".pb.gz").unwrap();
        assert_eq!(a.file_name().unwrap(), "pprof.x.001.pb.gz");
        assert_eq!(b.file_name().unwrap(), "pprof.x.002.pb.gz");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/go");
        let p = crate::profile::load(&root.join("current.heap")).unwrap();
        assert_eq!(
            file_prefix(&p),
            "pprof.goapp.alloc_objects.alloc_space.inuse_objects.inuse_space."
        );
        assert_eq!(file_prefix(&Profile::default()), "pprof.");
    }
}
