//! Profiles fetched over HTTP from a real server on 127.0.0.1 (see
//! `http_server`): reports equal go tool pprof's on the same files, the
//! URL rules and `-seconds` reach the server, the saved profile works as
//! the next `-base`, and each failure is one line and exit status 1.

use crate::common;
use crate::http_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use http_server::Server;

const HEAP_SAVED: &str = "pprof.goapp.alloc_objects.alloc_space.inuse_objects.inuse_space.";

/// A scratch fixture dir, a `PPROF_TMPDIR` and a `HOME` for one test.
struct Env {
    wd: common::Workdir,
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            wd: common::Workdir::new(),
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn saved_dir(&self) -> PathBuf {
        self.tmp.path().join("saved")
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(common::rprof_bin());
        c.args(args)
            .current_dir(self.wd.go())
            .env("TZ", "UTC")
            .env("HOME", self.home())
            .env("PPROF_TMPDIR", self.saved_dir())
            .env_remove("PPROF_BINARY_PATH")
            .env_remove("GOROOT");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run rprof")
    }

    /// Files saved so far, sorted.
    fn saved(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn expected(case: &str) -> String {
    std::fs::read_to_string(
        common::fixtures()
            .join("expected")
            .join(format!("{case}.txt")),
    )
    .expect("expected output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}, stderr:\n{}",
        o.status.code(),
        stderr(o)
    );
}

#[test]
fn heap_by_url_is_reported_and_saved() {
    let server = Server::start();
    let env = Env::new();
    let url = server.url("/debug/pprof/heap");
    let out = env.run(&["-top", &url]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("heap_nobinary"));
    let saved = env.saved_dir().join(format!("{HEAP_SAVED}001.pb.gz"));
    assert_eq!(
        stderr(&out),
        format!(
            "Fetching profile over HTTP from {url}\nSaved profile in {}\n",
            saved.display()
        )
    );
    assert_eq!(server.requests(), vec!["/debug/pprof/heap"]);

    // The saved profile reads back to the same report, with nothing fetched.
    let again = env.run(&["-top", &saved.display().to_string()]);
    assert_ok(&again);
    assert_eq!(stdout(&again), expected("heap_nobinary"));
    assert_eq!(stderr(&again), "");

    // A second fetch takes the next number.
    assert_ok(&env.run(&["-top", &url]));
    assert_eq!(
        env.saved(&env.saved_dir()),
        vec![
            format!("{HEAP_SAVED}001.pb.gz"),
            format!("{HEAP_SAVED}002.pb.gz")
        ]
    );
}

#[test]
fn host_port_fetches_the_cpu_profile() {
    let server = Server::start();
    let env = Env::new();
    let out = env.run(&["-top", &server.host_port()]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("cpu_nobinary"));
    assert_eq!(server.requests(), vec!["/debug/pprof/profile"]);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "Fetching profile over HTTP from http://{}/debug/pprof/profile\nSaved profile in ",
            server.host_port()
        )),
        "{err}"
    );
    assert_eq!(
        env.saved(&env.saved_dir()),
        vec!["pprof.goapp.samples.cpu.001.pb.gz"]
    );
}

#[test]
fn seconds_go_into_the_query() {
    let server = Server::start();
    let env = Env::new();
    let out = env.run(&["-top", "-seconds", "3", &server.host_port()]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("cpu_nobinary"));
    let lines: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines[..2],
        [
            format!(
                "Fetching profile over HTTP from http://{}/debug/pprof/profile?seconds=3",
                server.host_port()
            ),
            "Please wait... (3s)".to_string()
        ]
    );
    // -seconds replaces the URL's own; the query comes out sorted, as Go's.
    let url = server.url("/debug/pprof/profile?seconds=30&gc=1");
    assert_ok(&env.run(&["-top", "-seconds=2", &url]));
    // A URL's own seconds are kept when -seconds is not given.
    assert_ok(&env.run(&["-top", &server.url("/debug/pprof/allocs?seconds=1")]));
    assert_eq!(
        server.requests(),
        vec![
            "/debug/pprof/profile?seconds=3",
            "/debug/pprof/profile?gc=1&seconds=2",
            "/debug/pprof/allocs?seconds=1"
        ]
    );
}

#[test]
fn base_and_diff_base_from_urls() {
    let server = Server::start();
    let env = Env::new();
    let base = server.url("/fixtures/base.heap");
    let out = env.run(&["-top", "-base", &base, "goapp", "current.heap"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("seed_base"));
    let out = env.run(&["-top", "-diff_base", &base, "goapp", "current.heap"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("heap_diff_base"));
    // Both a source and a base over HTTP.
    let current = server.url("/debug/pprof/heap");
    let out = env.run(&["-top", "-base", &base, "goapp", &current]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("seed_base"));
    // A remote base is enough for the combined profile to be saved.
    assert_eq!(env.saved(&env.saved_dir()).len(), 3);
}

#[test]
fn saved_profile_serves_as_the_next_base() {
    let server = Server::start();
    let env = Env::new();
    // Snapshot the base from the service...
    let out = env.run(&["-top", &server.url("/fixtures/base.heap")]);
    assert_ok(&out);
    let saved = env.saved_dir().join(format!("{HEAP_SAVED}001.pb.gz"));
    assert!(stderr(&out).ends_with(&format!("Saved profile in {}\n", saved.display())));
    // ...and later compare the current heap with it.
    let saved = saved.display().to_string();
    let out = env.run(&["-top", "-base", &saved, "goapp", "current.heap"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("seed_base"));
    let out = env.run(&["-top", "-diff_base", &saved, "goapp", "current.heap"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("heap_diff_base"));

    // The saved -base profile is the difference, and reads back as such.
    let out = env.run(&[
        "-top",
        "-base",
        "base.heap",
        "goapp",
        &server.url("/debug/pprof/heap"),
    ]);
    assert_ok(&out);
    let diff = env.saved_dir().join(format!("{HEAP_SAVED}002.pb.gz"));
    let out = env.run(&["-top", "goapp", &diff.display().to_string()]);
    assert_ok(&out);
    assert_eq!(stdout(&out), expected("seed_base"));
}

#[test]
fn profiles_are_saved_under_home_pprof_by_default() {
    let server = Server::start();
    let env = Env::new();
    let out = env
        .command(&["-top", &server.url("/debug/pprof/heap")])
        .env_remove("PPROF_TMPDIR")
        .output()
        .expect("run rprof");
    assert_ok(&out);
    assert_eq!(
        env.saved(&env.home().join("pprof")),
        vec![format!("{HEAP_SAVED}001.pb.gz")]
    );
    // A PPROF_TMPDIR that cannot be made is reported, and HOME used instead.
    let file = env.tmp.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let bad = file.join("saved");
    let out = env
        .command(&["-top", &server.url("/debug/pprof/heap")])
        .env("PPROF_TMPDIR", &bad)
        .output()
        .expect("run rprof");
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Could not use temp dir {}: ", bad.display())),
        "{err}"
    );
    assert_eq!(env.saved(&env.home().join("pprof")).len(), 2);
}

/// Runs a failing fetch: exit 1, nothing on stdout, nothing saved, and
/// stderr is pprof's "Fetching" line then one error line; returns that.
fn failure(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(env.saved(&env.saved_dir()).is_empty());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("Fetching profile over HTTP from "),
        "{err}"
    );
    assert!(lines[1].starts_with("rprof: "), "{err}");
    lines[1].to_string()
}

#[test]
fn refused_connection_is_one_line() {
    // A port that was just free: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let env = Env::new();
    let source = format!("127.0.0.1:{port}");
    assert_eq!(
        failure(&env, &["-top", &source]),
        format!("rprof: {source}: Get \"http://{source}/debug/pprof/profile\": connection refused")
    );
}

#[test]
fn http_errors_are_one_line() {
    let server = Server::start();
    let env = Env::new();
    let missing = server.url("/nothere");
    assert_eq!(
        failure(&env, &["-top", &missing]),
        format!("rprof: {missing}: server response: 404 Not Found")
    );
    // A Go pprof handler's own message is shown.
    let unknown = server.url("/debug/pprof/unknown");
    assert_eq!(
        failure(&env, &["-top", &unknown]),
        format!("rprof: {unknown}: server response: 404 Not Found - Unknown profile")
    );
    // A base fails the same way.
    assert_eq!(
        failure(&env, &["-top", "-base", &missing, "current.heap"]),
        format!("rprof: {missing}: server response: 404 Not Found")
    );
    let cmdline = server.url("/debug/pprof/cmdline");
    let line = failure(&env, &["-top", &cmdline]);
    assert!(
        line.starts_with(&format!("rprof: {cmdline}: not a profile")),
        "{line}"
    );
}

#[test]
fn size_limit_applies_to_fetched_bodies() {
    let server = Server::start();
    let env = Env::new();
    let big = server.url("/big");
    let line = failure(&env, &["-top", "-max_decompressed_mb=1", &big]);
    assert!(
        line.starts_with(&format!("rprof: {big}: profile too large")),
        "{line}"
    );
}

#[test]
fn slow_server_times_out() {
    let server = Server::start();
    let env = Env::new();
    let slow = server.url("/slow");
    let start = Instant::now();
    // -timeout=1 waits 1 s plus pprof's 5 s of slack for the headers.
    assert_eq!(
        failure(&env, &["-top", "-timeout=1", &slow]),
        format!("rprof: {slow}: Get \"{slow}\": timeout awaiting response headers (after 6s)")
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(6) && took < Duration::from_secs(18),
        "{took:?}"
    );
}

/// A server that sends its headers, then one byte a second: `-timeout`
/// bounds the whole fetch, body included.
#[test]
fn trickling_body_times_out() {
    let server = Server::start();
    let env = Env::new();
    let url = server.url("/trickle");
    let start = Instant::now();
    let msg = failure(&env, &["-top", "-timeout=1", &url]);
    let took = start.elapsed();
    assert!(msg.starts_with(&format!("rprof: {url}: ")), "{msg}");
    assert!(msg.contains("timeout"), "{msg}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(12),
        "{took:?}"
    );
}

/// Redirects: each hop is checked and a failure names what failed; a
/// relative redirect from a server that then closes works every time.
#[test]
fn redirects() {
    let server = Server::start();
    let env = Env::new();
    let to_file = server.url("/redirect-file");
    assert_eq!(
        failure(&env, &["-top", &to_file]),
        format!(
            "rprof: {to_file}: Get \"{to_file}\": redirected to file:///etc/passwd: unsupported protocol scheme \"file\""
        )
    );
    let to_closed = server.url("/redirect-closed");
    assert_eq!(
        failure(&env, &["-top", &to_closed]),
        format!(
            "rprof: {to_closed}: Get \"http://127.0.0.1:1/debug/pprof/heap\": connection refused"
        )
    );
    let relative = server.url("/debug/redirect-heap");
    for _ in 0..10 {
        let out = env.run(&["-top", &relative]);
        assert_ok(&out);
        assert_eq!(stdout(&out), expected("heap_default"));
    }
}
