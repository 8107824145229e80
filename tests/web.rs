//! `-http`: the web UI's server, over HTTP. Each view answers with the
//! same numbers as the CLI's report for the same options (Top = `-top`,
//! Peek = `-peek`, Source = `-list` and `-disasm`, Disassemble =
//! `-disasm`), bad requests get a page saying what
//! is wrong and the server keeps serving, profile strings stay text, and
//! snapshots of a URL source can be compared.

use crate::common;
use crate::http_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `rprof -http=127.0.0.1:0 -no_browser ARGS`, killed when dropped.
pub struct Web {
    child: Child,
    pub port: u16,
}

impl Web {
    pub fn start(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Web {
        let mut c = Command::new(common::rprof_bin());
        c.arg("-http=127.0.0.1:0")
            .arg("-no_browser")
            .args(args)
            .current_dir(cwd)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("start rprof -http");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("rprof -http exited before serving: {seen:?}");
            };
            if let Some(url) = line.strip_prefix("Serving web UI on http://") {
                let port = url.rsplit(':').next().and_then(|p| p.parse().ok());
                break port.expect("port in the URL");
            }
            seen.push(line);
        };
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Web { child, port }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None)
    }

    pub fn request(&self, method: &str, path: &str, host: Option<&str>) -> Resp {
        let host = host.map_or(format!("127.0.0.1:{}", self.port), str::to_string);
        let head = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n");
        raw(self.port, head.as_bytes())
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes and reads the whole answer.
pub fn raw(port: u16, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    s.write_all(request).expect("send");
    // Nothing more comes: a truncated request ends here, not at a timeout.
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text between `start` (after it) and the next `end`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let a = s.find(start)? + start.len();
    let b = s[a..].find(end)?;
    Some(&s[a..a + b])
}

fn rprof_out(cwd: &Path, args: &[&str]) -> String {
    let out = common::run_in(cwd, args);
    assert!(
        out.status.success(),
        "rprof {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The rows of the CLI's `-top` table: the fields after the header.
fn cli_top_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("flat  flat%"))
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let mut row: Vec<String> = f[..5].iter().map(|s| s.to_string()).collect();
            row.push(f[5..].join(" "));
            row
        })
        .collect()
}

/// The rows of the web Top table, in the same form.
fn web_top_rows(html: &str) -> Vec<Vec<String>> {
    let tbody = between(html, "<tbody>", "</tbody>").expect("top table");
    tbody
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td")
                .skip(1)
                .map(|c| {
                    let v = between(c, ">", "</td>").unwrap_or("");
                    unescape(v)
                })
                .collect();
            let mut r: Vec<String> = cells[..6].to_vec();
            // The CLI appends (inline) to the name.
            if !cells[6].is_empty() {
                r[5] = format!("{} {}", r[5], cells[6]);
            }
            r
        })
        .collect()
}

/// The text of the page's `<pre id="report">`.
fn pre(html: &str) -> String {
    unescape(between(html, "<pre id=\"report\" class=\"report\">", "</pre>").expect("pre"))
}

#[test]
fn views_answer_with_the_cli_numbers() {
    let wd = common::Workdir::new();
    let go = wd.go();
    let web = Web::start(&go, &["cpu.pb.gz"], &[]);
    // The graph: pprof's call graph SVG inline, without its own script.
    let r = web.get("/ui/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.header("Content-Security-Policy").is_some());
    assert!(r.body.contains("class=\"node\"") && r.body.contains("id=\"viewport\""));
    assert!(r.body.contains("crypto/sha256.block"));
    assert_eq!(r.body.matches("<script").count(), 2, "data and ui.js only");
    // pprof's redirects.
    let r = web.get("/?f=main");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("/ui/?f=main"));

    // Top = -top (with pprof's web nodecount, 500).
    for (query, args) in [
        ("", vec!["-top", "-nodecount=500"]),
        (
            "?si=samples",
            vec!["-top", "-nodecount=500", "-sample_index=samples"],
        ),
        (
            "?f=json&h=runtime",
            vec!["-top", "-nodecount=500", "-focus=json", "-hide=runtime"],
        ),
        (
            "?g=lines&sort=cum",
            vec!["-top", "-nodecount=500", "-lines", "-cum"],
        ),
        // Filtered views derived from the unfiltered ones prepared above.
        ("?i=json", vec!["-top", "-nodecount=500", "-ignore=json"]),
        (
            "?h=sha256&i=Less",
            vec!["-top", "-nodecount=500", "-hide=sha256", "-ignore=Less"],
        ),
        (
            "?si=0&i=sort",
            vec!["-top", "-nodecount=500", "-sample_index=0", "-ignore=sort"],
        ),
    ] {
        let r = web.get(&format!("/ui/top{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        let mut a = args.clone();
        a.push("cpu.pb.gz");
        let cli = cli_top_rows(&rprof_out(&go, &a));
        let webrows = web_top_rows(&r.body);
        assert!(!cli.is_empty());
        assert_eq!(webrows, cli, "top{query}");
    }

    // Peek = -peek (with pprof's web options: f is also the focus, lines).
    let r = web.get("/ui/peek?f=sort%5C.Sort");
    assert_eq!(r.status, 200);
    let cli = rprof_out(
        &go,
        &[
            "-peek=sort\\.Sort",
            "-focus=sort\\.Sort",
            "-lines",
            "cpu.pb.gz",
        ],
    );
    assert_eq!(pre(&r.body), cli);

    // A later page of it: the nodes from the second on, with links back
    // to the first page, and menus that lead to first pages.
    let cli = rprof_out(&go, &["-peek=sort", "-focus=sort", "-lines", "cpu.pb.gz"]);
    let seps = |t: &str| t.lines().filter(|l| l.starts_with("-----")).count();
    let matched = seps(&cli) - 2;
    assert!(matched >= 2, "{cli}");
    let r = web.get("/ui/peek?f=sort&start=1");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(&format!(
            "id=\"peek-page\">Matches 2-{matched} of {matched}."
        )),
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("id=\"peek-first\" href=\"/ui/peek?f=sort&amp;start=0\""));
    assert!(!r.body.contains("id=\"peek-next\""));
    assert!(r
        .body
        .contains("id=\"view-top\" class=\"\" href=\"/ui/top?f=sort\""));
    let page = pre(&r.body);
    assert_eq!(seps(&page), matched + 1);
    let first_node_end = cli.match_indices("\n-----").nth(2).expect("second node").0;
    let legend_end = cli.match_indices("\n-----").nth(1).expect("first node").0;
    assert_eq!(
        page,
        format!("{}{}", &cli[..legend_end], &cli[first_node_end..])
    );

    // Source = -list (its text: there is no binary for its assembly).
    let r = web.get("/ui/source?f=main%5C.burn");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"no-assembly\""), "{}", r.body);
    assert!(r.body.contains("binary could not be read"));
    let cli = rprof_out(
        &go,
        &["-list=main\\.burn", "-focus=main\\.burn", "cpu.pb.gz"],
    );
    assert_eq!(pre(&r.body), cli);

    // The flame graph's total is the profile's.
    let r = web.get("/ui/flamegraph");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"total\":7740000000,"), "flame total");
    assert!(r.body.contains("\"unit\":\"nanoseconds\""));
    // Every node's value is its self, its pruned callees and its callees.
    let json = between(
        &r.body,
        "<script type=\"application/json\" id=\"data\">",
        "</script>",
    )
    .expect("flame data");
    let data: serde_json::Value = serde_json::from_str(json).expect("flame JSON");
    assert_eq!(data["root"][1], data["total"]);
    assert!(check_flame_node(&data["root"]) > 50);

    // Assets come from the binary.
    let r = web.get("/ui/assets/ui.js");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    let r = web.get("/ui/assets/ui.css");
    assert_eq!(r.header("Content-Type"), Some("text/css; charset=utf-8"));
}

#[test]
fn bad_requests_get_a_message_and_the_server_keeps_serving() {
    let wd = common::Workdir::new();
    let web = Web::start(&wd.go(), &["cpu.pb.gz"], &[]);
    for (path, status, says) in [
        ("/ui/top?f=(", 400, "parsing focus regexp"),
        ("/ui/?i=%5B", 400, "parsing ignore regexp"),
        ("/ui/peek?f=a%28", 400, "regexp"),
        ("/ui/top?n=abc", 400, "invalid integer value"),
        ("/ui/top?si=bogus", 400, "bogus"),
        ("/ui/top?g=sideways", 400, "granularity"),
        ("/ui/top?snap=7", 400, "no snapshot"),
        ("/ui/top?%ff%fe=%00%01", 200, "Flat"),
        ("/ui/nothing/here", 404, "Not found"),
        ("/ui/../../etc/passwd", 404, "Not found"),
        ("/ui/snapshot", 405, "POST"),
        ("/ui/disasm", 200, "regexp"),
        ("/ui/peek", 200, "regexp"),
    ] {
        let r = web.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(r.body.contains(says), "{path}: no {says:?} in {}", r.body);
    }
    // The error text is escaped.
    let r = web.get("/ui/top?f=%3Cscript%3E(");
    assert!(!r.body.contains("<script>("), "{}", r.body);
    assert!(r.body.contains("f=&lt;script&gt;("));
    // Requests that are no HTTP, a huge target, another Host.
    let _ = raw(web.port, b"\x00\x01\x02garbage\r\n\r\n");
    let _ = raw(web.port, b"GET /ui/top");
    let long = format!("/ui/top?f={}", "a".repeat(40_000));
    let r = web.get(&long);
    assert!(r.status >= 400, "long target: {}", r.status);
    let r = web.request("GET", "/ui/top", Some("evil.example:80"));
    assert_eq!(r.status, 403);
    let r = web.request("DELETE", "/ui/top", None);
    assert_eq!(r.status, 405);
    // Still serving.
    let r = web.get("/ui/top");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("crypto/sha256.block"));
}

/// `rprof ARGS` in fixtures/godisasm (the Go binary and its profile).
fn godisasm_out(args: &[&str]) -> String {
    rprof_out(&common::fixtures().join("godisasm"), args)
}

/// Source with the binary at hand is weblist's listing: each line's flat
/// and cum are `-list`'s, each instruction's (under its line, hidden
/// until clicked) `-disasm`'s; Disassemble is `-disasm`'s text. `f` is
/// also the focus, as in pprof's UI.
#[test]
fn source_and_disassemble_have_the_cli_numbers() {
    let dir = common::fixtures().join("godisasm");
    let src = "-source_path=../../tests/data";
    let web = Web::start(&dir, &[src, "hello_w", "cpu.pb.gz"], &[]);
    let re = "main\\.(hashLoop|sortLoop)";
    let f = "main%5C.(hashLoop%7CsortLoop)";
    let focus = format!("-focus={re}");

    let r = web.get(&format!("/ui/source?f={f}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    let csp = r.header("Content-Security-Policy").expect("CSP");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let b = &r.body;
    // The UI's page (menus, header) around weblist's listing, whose
    // toggling is ui.js's: no inline script or handler.
    assert!(b.contains("id=\"view-disasm\"") && b.contains("id=\"header\""));
    assert!(b.contains("<div id=\"weblist\" class=\"weblist\">"), "{b}");
    assert!(!b.contains("no-assembly"));
    assert_eq!(b.matches("<script").count(), 1, "ui.js only");
    assert!(!b.contains("onclick") && !b.contains("rprofToggleAsm"));
    // Line values: -list's, in its order.
    let list = godisasm_out(&[&format!("-list={re}"), &focus, src, "hello_w", "cpu.pb.gz"]);
    let want = crate::weblist::list_lines(&list);
    assert!(want.len() > 20, "{list}");
    assert_eq!(crate::weblist::source_lines(b), want);
    assert!(b.contains("<div class=\"legend\">Total: 1.32s</div>"));
    for t in list.lines().filter(|l| l.contains("(flat, cum)")) {
        let (values, pct) = t.split_once(" (flat, cum) ").expect("totals");
        let pct = pct.trim_end_matches(" of Total");
        assert!(
            b.contains(&format!("  Total:  {values} (flat, cum) {pct}\n")),
            "{t}"
        );
    }
    // Instruction values: -disasm's for the same addresses.
    let disasm = godisasm_out(&[&format!("-disasm={re}"), &focus, "hello_w", "cpu.pb.gz"]);
    let mut by_addr = std::collections::HashMap::new();
    for l in disasm.lines() {
        if l.len() > 34 && &l[32..34] == ": " {
            let values = (l[..10].trim().to_string(), l[11..21].trim().to_string());
            by_addr.insert(l[22..32].trim().to_string(), values);
        }
    }
    let asm = regex::Regex::new(r"(?m)^ {10}( *\S+) ( *\S+) +([0-9a-f]+): ").expect("regex");
    let mut n = 0;
    for c in asm.captures_iter(b) {
        let got = (c[1].trim().to_string(), c[2].trim().to_string());
        match by_addr.get(&c[3]) {
            Some(want) => {
                assert_eq!(&got, want, "{}", &c[3]);
                n += 1;
            }
            // A function's last byte, which disasm (as pprof's) leaves out.
            None => assert_eq!(got, (".".into(), ".".into()), "{}", &c[3]),
        }
    }
    assert!(n > 20, "{n} instructions");
    assert!(b.contains("<span class=\"asm\">") && b.contains("imul   %rsi,%rdx"));

    // Disassemble = -disasm, AT&T or (intel=1) Intel syntax.
    let r = web.get(&format!("/ui/disasm?f={f}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.body.contains("id=\"view-disasm\" class=\"current"));
    assert_eq!(pre(&r.body), disasm);
    let r = web.get(&format!("/ui/disasm?f={f}&intel=true"));
    assert_eq!(r.status, 200, "{}", r.body);
    let intel = godisasm_out(&[
        &format!("-disasm={re}"),
        &focus,
        "-intel_syntax",
        "hello_w",
        "cpu.pb.gz",
    ]);
    assert_ne!(intel, disasm);
    assert_eq!(pre(&r.body), intel);
    // Without a match: pprof's error, and the server goes on.
    let r = web.get("/ui/disasm?f=nomatch");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("no matches found for regexp: nomatch"));
    let r = web.get("/ui/source?f=nomatch");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("no matches found for regexp: nomatch"));
    drop(web);

    // The binary but no source files: list's text (its error), saying why.
    let web = Web::start(&dir, &["hello_w", "cpu.pb.gz"], &[]);
    let r = web.get(&format!("/ui/source?f={f}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("source files were not found"), "{}", r.body);
    let list = godisasm_out(&[&format!("-list={re}"), &focus, "hello_w", "cpu.pb.gz"]);
    assert!(list.contains("Error: could not find file"), "{list}");
    assert_eq!(pre(&r.body), list);
}

/// fixtures/godisasm's profile with main.hashLoop's name made markup,
/// written in `dir`.
pub fn hostile_godisasm(dir: &Path) -> std::path::PathBuf {
    use prost::Message;
    let gz = std::fs::read(common::fixtures().join("godisasm/cpu.pb.gz")).expect("fixture");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut p = rprof::pb::Profile::decode(raw.as_slice()).expect("decode");
    for s in p.string_table.iter_mut() {
        if s == "main.hashLoop" {
            *s = "main.hashLoop</pre><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">".into();
        }
    }
    let path = dir.join("hostile.pb");
    std::fs::write(&path, p.encode_to_vec()).expect("write");
    path
}

/// A hostile function name stays text in the Source (weblist's listing,
/// with the binary) and Disassemble views.
#[test]
fn hostile_names_stay_text_in_source_and_disassemble() {
    let dir = common::fixtures().join("godisasm");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = hostile_godisasm(tmp.path());
    let args = [
        "-source_path=../../tests/data",
        "hello_w",
        path.to_str().expect("utf-8"),
    ];
    let web = Web::start(&dir, &args, &[]);
    for view in ["/ui/source?f=hashLoop", "/ui/disasm?f=hashLoop"] {
        let r = web.get(view);
        assert_eq!(r.status, 200, "{view}: {}", r.body);
        let b = &r.body;
        for bad in ["<script>window", "<img src=x", "</pre><script"] {
            assert!(!b.contains(bad), "{view}: {bad:?} unescaped");
        }
        assert!(
            b.contains("window.pwned=1"),
            "{view}: the name is not shown"
        );
        assert_eq!(b.matches("<script").count(), 1, "{view}: ui.js only");
    }
    // The listing, with its assembly, names the function as text.
    let r = web.get("/ui/source?f=hashLoop");
    assert!(r.body.contains("id=\"weblist\"") && r.body.contains("<span class=\"asm\">"));
    assert!(r
        .body
        .contains("<h2>main.hashLoop&lt;/pre&gt;&lt;script&gt;window.pwned=1"));
}

/// A profile whose names try to break out of every context they enter.
pub fn hostile_profile(dir: &Path) -> std::path::PathBuf {
    use prost::Message;
    let gz = std::fs::read(common::fixtures().join("go/cpu.pb.gz")).expect("fixture");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut p = rprof::pb::Profile::decode(raw.as_slice()).expect("decode");
    for s in p.string_table.iter_mut() {
        if s.starts_with("main.") {
            *s = format!(
                "{s}</script><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">\u{2028}\"'\u{1b}[2J"
            );
        } else if s.starts_with("crypto/sha256.block") {
            *s = "javascript:window.pwned=3//\"><svg onload=window.pwned=4>".into();
        } else if s.starts_with("sort.partition") {
            *s = "sort.partition]]><script>window.pwned=5</script><!--".into();
        }
    }
    let name = p.string_table.len() as i64;
    p.string_table
        .push("/srv/</title><script>window.pwned=6</script>\\app".into());
    for m in &mut p.mapping {
        m.filename = name;
    }
    let path = dir.join("hostile.pb");
    std::fs::write(&path, p.encode_to_vec()).expect("write");
    path
}

#[test]
fn hostile_strings_stay_text_in_every_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = hostile_profile(dir.path());
    let web = Web::start(dir.path(), &[path.to_str().expect("utf-8")], &[]);
    for view in [
        "/ui/",
        "/ui/top",
        "/ui/flamegraph",
        "/ui/peek?f=main",
        "/ui/source?f=main",
        "/ui/?f=main.*script",
        "/ui/?si=samples",
    ] {
        let r = web.get(view);
        assert_eq!(r.status, 200, "{view}: {}", r.body);
        let b = &r.body;
        for bad in [
            "<script>window",
            "<img src=x",
            "<svg onload",
            "</title><script",
            "]]><script",
        ] {
            assert!(!b.contains(bad), "{view}: {bad:?} unescaped");
        }
        // Our scripts only: ui.js, and the JSON data where there is some.
        let scripts = b.matches("<script").count();
        assert!(scripts <= 2, "{view}: {scripts} script elements");
        assert!(
            b.contains("window.pwned"),
            "{view}: the hostile names are not shown at all"
        );
    }
}

#[test]
fn snapshots_of_a_url_source_compare_like_base() {
    let server = http_server::Server::start();
    let wd = common::Workdir::new();
    let go = wd.go();
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmpdir = tmp.path().to_str().expect("utf-8");
    let url = server.url("/grow/debug/pprof/heap");
    let web = Web::start(&go, &[&url], &[("PPROF_TMPDIR", tmpdir)]);
    let r = web.get("/ui/top");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("New snapshot"));
    // The first fetch was base.heap.
    let cli = cli_top_rows(&rprof_out(&go, &["-top", "-nodecount=500", "base.heap"]));
    assert_eq!(web_top_rows(&r.body), cli);
    // A new snapshot fetches again (current.heap) and saves it.
    let r = web.request("POST", "/ui/snapshot", None);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("Location"), Some("/ui/snapshots?new=1"));
    let r = web.get("/ui/snapshots");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("snapshot 1"), "{}", r.body);
    let saved = std::fs::read_dir(tmp.path()).expect("PPROF_TMPDIR").count();
    assert_eq!(saved, 2, "both fetches saved");
    // Snapshot 1 alone, and compared with snapshot 0 as -base does.
    let r = web.get("/ui/top?snap=1");
    let cli = cli_top_rows(&rprof_out(&go, &["-top", "-nodecount=500", "current.heap"]));
    assert_eq!(web_top_rows(&r.body), cli);
    let r = web.get("/ui/top?snap=1&base=0");
    assert_eq!(r.status, 200, "{}", r.body);
    let cli = cli_top_rows(&rprof_out(
        &go,
        &[
            "-top",
            "-nodecount=500",
            "-base",
            "base.heap",
            "current.heap",
        ],
    ));
    assert_eq!(web_top_rows(&r.body), cli);
    // The differential flame graph.
    let r = web.get("/ui/flamegraph?snap=1&base=0");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"diff\":true"));
}

#[test]
fn http_flag_values() {
    let wd = common::Workdir::new();
    for (flag, says) in [
        ("-http=nonsense", "invalid -http value"),
        ("-http=:99999", "invalid -http value"),
        ("-http=256.1.1.1:0", "could not serve the web UI"),
    ] {
        let out = common::run_in(&wd.go(), &[flag, "-no_browser", "cpu.pb.gz"]);
        assert!(!out.status.success(), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flag}: {err}");
    }
    let out = common::run_in(&wd.go(), &["-http=:0", "-top", "cpu.pb.gz"]);
    assert!(!out.status.success());
}

/// Checks that a flame graph node's value is its self, its pruned callees
/// and its callees, below it too; returns the nodes.
fn check_flame_node(n: &serde_json::Value) -> usize {
    let v = |i: usize| n[i].as_i64().expect("number");
    let kids = n[5].as_array().expect("children");
    let sum: i64 = kids.iter().map(|k| k[1].as_i64().expect("value")).sum();
    assert_eq!(v(1), v(2) + v(3) + sum, "node {n:.80}");
    1 + kids.iter().map(check_flame_node).sum::<usize>()
}

/// Narrow roots are pruned before the flame tree is made: the totals stay
/// exact, in a profile of unrelated stacks (most roots narrow) and in one
/// of shared paths (most of the value under wide roots).
#[test]
fn flame_graph_prunes_narrow_roots_and_keeps_totals() {
    use crate::synthetic;
    use rprof::driver::{prepare_report, Command as Cmd, NoUi};
    use rprof::options::Config;
    for (p, wide) in [
        (synthetic::random_stacks_profile(30_000, 4_000, 7), false),
        (synthetic::cpu_profile(30_000, 500), true),
    ] {
        let p = rprof::profile::parse(&synthetic::gzipped(&p)).expect("parse");
        let total: i64 = (0..p.samples.len()).map(|i| p.samples.values(i)[1]).sum();
        let cmd = Cmd::new("flame", None).expect("flame");
        let mut rpt = prepare_report(&p, &cmd, &Config::default(), &mut NoUi).expect("report");
        let f = rprof::web::flame::flame_json(&mut rpt);
        let data: serde_json::Value = serde_json::from_str(&f.json).expect("JSON");
        assert_eq!(data["total"].as_i64(), Some(total));
        assert_eq!(data["root"][1].as_i64(), Some(total));
        let nodes = check_flame_node(&data["root"]);
        assert_eq!(nodes, f.sent);
        let root_pruned = data["root"][3].as_i64().expect("pruned");
        if wide {
            assert!(
                nodes > 20 && root_pruned < total / 2,
                "{nodes} {root_pruned}"
            );
        } else {
            assert!(root_pruned > total / 2, "{nodes} {root_pruned}");
        }
    }
}
