//! The web UI in a real browser: headless Chromium, driven through the
//! DevTools protocol over a pipe (`--remote-debugging-pipe`: no port, no
//! websocket), goes through every view: loads the graph, clicks a node,
//! refines by focus, switches the sample index, sorts Top, searches and
//! zooms the flame graph, opens Peek and Source from a selection, takes a
//! snapshot from a test server and compares two, and checks that a
//! profile with hostile names runs no script. With a binary
//! (fixtures/godisasm), Source expands a line to its assembly and the
//! View menu opens Disassemble. Screenshots are left in
//! `target/tmp/web-browser/` for a look.
//!
//! Tests install nothing: without `chromium` this test says so and
//! passes (`.ci/run` installs it).

use crate::common;
use crate::http_server;
use crate::web::Web;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A headless Chromium and one page (DevTools session) in it.
struct Browser {
    child: std::process::Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &Path) -> Browser {
        use std::os::unix::io::FromRawFd;
        use std::os::unix::process::CommandExt;
        let profile = tempfile::tempdir().expect("tempdir");
        // fd 3: what Chromium reads; fd 4: what it writes.
        let mut a = [0i32; 2];
        let mut b = [0i32; 2];
        // SAFETY: plain pipe(2) calls on valid arrays.
        unsafe {
            assert_eq!(libc::pipe(a.as_mut_ptr()), 0);
            assert_eq!(libc::pipe(b.as_mut_ptr()), 0);
        }
        let (child_in, to_child, from_child, child_out) = (a[0], a[1], b[0], b[1]);
        let mut cmd = std::process::Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        // SAFETY: only async-signal-safe dup2/close between fork and exec.
        unsafe {
            // Our ends are not inherited.
            libc::fcntl(to_child, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(from_child, libc::F_SETFD, libc::FD_CLOEXEC);
            cmd.pre_exec(move || {
                // Out of the way of 3 and 4 first: a pipe end may be 3 or 4.
                let i = libc::fcntl(child_in, libc::F_DUPFD, 10);
                let o = libc::fcntl(child_out, libc::F_DUPFD, 10);
                if i < 0 || o < 0 || libc::dup2(i, 3) < 0 || libc::dup2(o, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        // SAFETY: these fds are ours, each wrapped once.
        let (to, from) = unsafe {
            libc::close(child_in);
            libc::close(child_out);
            (
                std::fs::File::from_raw_fd(to_child),
                std::fs::File::from_raw_fd(from_child),
            )
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from);
            loop {
                let mut msg = Vec::new();
                match r.read_until(0, &mut msg) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        msg.pop();
                        if let Ok(v) = serde_json::from_slice::<Value>(&msg) {
                            if tx.send(v).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
        let mut br = Browser {
            child,
            to,
            from: rx,
            next: 0,
            session: String::new(),
            _profile: profile,
        };
        let t = br.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = t["targetId"].as_str().expect("targetId").to_string();
        let s = br.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        br.session = s["sessionId"].as_str().expect("sessionId").to_string();
        br.call("Page.enable", json!({}));
        br.call("Runtime.enable", json!({}));
        br.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        br
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// [`Browser::call`], with chromium's error as Err (an evaluation during
    /// a navigation finds no page to run in).
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("chromium did not answer {method}"));
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(e.clone());
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// Evaluates an expression (promises awaited), returning its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    fn wait_for(&mut self, what: &str, expr: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            // Until the page has loaded, there may be nothing to evaluate in.
            let r = self.try_call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
            );
            if r.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what} ({expr})");
    }

    /// Goes to `url` and waits for the page to load.
    fn open(&mut self, url: &str) {
        self.eval("window.__old = true");
        self.call("Page.navigate", json!({"url": url}));
        self.settle();
    }

    /// Waits for a navigation started by the page (a click) to finish.
    fn settle(&mut self) {
        self.wait_for(
            "the page to load",
            "!window.__old && document.readyState === 'complete'",
        );
    }

    /// Runs `js`, which navigates, and waits for the new page.
    fn navigate_by(&mut self, js: &str) {
        self.eval("window.__old = true");
        self.eval(js);
        self.settle();
    }

    fn screenshot(&mut self, name: &str) -> PathBuf {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let data = base64(r["data"].as_str().expect("png data"));
        let path = out_dir().join(format!("{name}.png"));
        std::fs::write(&path, data).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-browser");
    std::fs::create_dir_all(&d).expect("mkdir web-browser");
    d
}

fn click(selector: &str) -> String {
    format!(
        "(function(){{var e=document.querySelector({sel});if(!e)throw new Error('no '+{sel});\
         e.dispatchEvent(new MouseEvent('click',{{bubbles:true,cancelable:true}}));\
         if(e.tagName==='A'&&!e.hasAttribute('data-param')&&!e.hasAttribute('data-needs-f'))location.href=e.href;\
         return true}})()",
        sel = serde_json::to_string(selector).expect("json")
    )
}

#[test]
fn every_view_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "web browser test skipped: no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    let wd = common::Workdir::new();
    let go = wd.go();
    let web = Web::start(&go, &["cpu.pb.gz"], &[]);
    let base = format!("http://127.0.0.1:{}", web.port);
    let mut b = Browser::start(&chromium);

    // Graph: nodes drawn, a click selects one.
    b.open(&format!("{base}/ui/"));
    let nodes = b.eval("document.querySelectorAll('#graph g.node[data-name]').length");
    assert!(nodes.as_u64().unwrap_or(0) > 20, "graph nodes: {nodes}");
    b.eval(&click("#graph g.node[data-name*='sha256.block']"));
    assert_eq!(
        b.eval("document.querySelectorAll('#graph g.node.selected').length"),
        json!(1)
    );
    assert_eq!(
        b.eval("document.getElementById('status').textContent"),
        json!("1 selected")
    );
    b.screenshot("graph-selected");

    // Refine > Focus on the selection.
    b.navigate_by(&click("#refine-f"));
    let search = b.eval("decodeURIComponent(location.search)");
    assert_eq!(search, json!("?f=crypto/sha256\\.block"), "focus URL");
    let focused = b.eval("document.querySelectorAll('#graph g.node[data-name]').length");
    assert!(focused.as_u64().unwrap_or(99) < nodes.as_u64().unwrap_or(0));
    assert!(b
        .eval("document.querySelector('.filters').textContent")
        .as_str()
        .is_some_and(|t| t.contains("sha256")));
    b.screenshot("graph-focused");
    // Reset.
    b.navigate_by(&click("#refine-reset"));
    assert_eq!(b.eval("location.search"), json!(""));

    // Sample index: the Sample menu switches to `samples`.
    b.navigate_by(&click("a.sample:not(.current)"));
    assert_eq!(b.eval("location.search"), json!("?si=samples"));
    assert!(b
        .eval("document.getElementById('header').textContent")
        .as_str()
        .is_some_and(|t| t.contains("Type: samples")));

    // Top: rows, sorting, selection → Peek.
    b.open(&format!("{base}/ui/top"));
    let rows = b.eval("document.querySelectorAll('#toptable tbody tr').length");
    assert!(rows.as_u64().unwrap_or(0) > 10, "top rows {rows}");
    let first = b.eval("document.querySelector('#toptable tbody tr td.name').textContent");
    assert_eq!(first, json!("crypto/sha256.block"));
    b.eval(&click("#toptable th[data-col='5']"));
    let sorted = b.eval("document.querySelector('#toptable tbody tr td.name').textContent");
    assert_ne!(sorted, first, "sorting by name changed the first row");
    b.screenshot("top-sorted-by-name");
    b.eval(&click("#toptable tbody tr:last-child"));
    let chosen = b.eval("document.querySelector('#toptable tr.selected td.name').textContent");
    b.navigate_by(&click("#view-peek"));
    assert!(b.eval("location.pathname") == json!("/ui/peek"));
    let text = b.eval("document.getElementById('report').textContent");
    let chosen = chosen.as_str().unwrap_or("?").to_string();
    assert!(
        text.as_str().is_some_and(|t| t.contains(&chosen)),
        "peek of {chosen}: {text}"
    );
    b.screenshot("peek");
    // A later page of a peek links back to the first; the View menu leads
    // to first pages.
    b.open(&format!("{base}/ui/peek?f=sort&start=1"));
    let note = b.eval("document.getElementById('peek-page').textContent");
    assert!(
        note.as_str().is_some_and(|t| t.starts_with("Matches 2-")),
        "{note}"
    );
    let later = b.eval("document.getElementById('report').textContent");
    b.navigate_by(&click("#peek-first"));
    assert_eq!(b.eval("location.search"), json!("?f=sort&start=0"));
    let first_page = b.eval("document.getElementById('report').textContent");
    assert_ne!(first_page, later);
    assert_eq!(b.eval("document.getElementById('peek-page')"), json!(null));
    assert_eq!(
        b.eval("document.getElementById('view-top').getAttribute('href')"),
        json!("/ui/top?f=sort")
    );
    // Source of main.burn: list's text, there being no binary.
    b.open(&format!("{base}/ui/source?f=main%5C.burn"));
    assert!(b
        .eval("document.getElementById('report').textContent")
        .as_str()
        .is_some_and(|t| t.contains("ROUTINE") && t.contains("main.burn")));
    assert_eq!(
        b.eval("document.getElementById('no-assembly') !== null"),
        json!(true)
    );
    b.screenshot("source");

    // Flame graph: search highlights, a click zooms, pivot.
    b.open(&format!("{base}/ui/flamegraph"));
    let frames = b.eval("document.querySelectorAll('#flame .frame').length");
    assert!(frames.as_u64().unwrap_or(0) > 50, "flame frames {frames}");
    b.eval(
        "(function(){var s=document.getElementById('search');s.value='sha256';\
         s.dispatchEvent(new Event('input'));return true})()",
    );
    b.wait_for(
        "search highlight",
        "document.querySelectorAll('#flame .frame.match').length > 0",
    );
    let matched = b.eval("document.getElementById('matched').textContent");
    assert!(
        matched.as_str().is_some_and(|m| m.contains("Matched: 2.4")),
        "{matched}"
    );
    b.screenshot("flame-search");
    let before = b.eval("document.querySelector('#flame .frame[data-name=\"main.burn\"]').getBoundingClientRect().width");
    b.eval(&click("#flame .frame[data-name=\"main.burn\"]"));
    let after = b.eval("document.querySelector('#flame .frame[data-name=\"main.burn\"]:not(.ancestor)').getBoundingClientRect().width");
    assert!(
        after.as_f64().unwrap_or(0.0) > before.as_f64().unwrap_or(0.0) * 2.0,
        "zoom: {before} -> {after}"
    );
    b.screenshot("flame-zoomed");
    b.eval(&click("#pivot"));
    assert_eq!(
        b.eval("document.querySelectorAll('#flame .frame')[1].getAttribute('data-name')"),
        json!("main.burn")
    );
    b.screenshot("flame-pivot");

    // A bad regexp: a message in the page.
    b.open(&format!("{base}/ui/top?f=%28"));
    assert!(b
        .eval("document.querySelector('.error').textContent")
        .as_str()
        .is_some_and(|t| t.contains("parsing focus regexp")));
    drop(web);

    // Snapshots from a live source.
    let server = http_server::Server::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = server.url("/grow/debug/pprof/heap");
    let live = Web::start(
        &go,
        &[&url],
        &[("PPROF_TMPDIR", tmp.path().to_str().expect("utf-8"))],
    );
    let base = format!("http://127.0.0.1:{}", live.port);
    b.open(&format!("{base}/ui/top"));
    b.navigate_by(&click("#new-snapshot"));
    assert_eq!(b.eval("location.pathname"), json!("/ui/snapshots"));
    assert_eq!(
        b.eval("document.querySelectorAll('#snaptable tbody tr').length"),
        json!(2)
    );
    b.screenshot("snapshots");
    b.navigate_by("document.getElementById('compare').submit()");
    assert_eq!(b.eval("location.search"), json!("?snap=1&base=0"));
    assert!(
        b.eval("document.querySelectorAll('#flame .frame').length")
            .as_u64()
            .unwrap_or(0)
            > 5
    );
    b.screenshot("flame-diff");
    drop(live);

    // Hostile names: shown as text, never run.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = crate::web::hostile_profile(dir.path());
    let hostile = Web::start(dir.path(), &[path.to_str().expect("utf-8")], &[]);
    let base = format!("http://127.0.0.1:{}", hostile.port);
    for view in [
        "/ui/",
        "/ui/top",
        "/ui/flamegraph",
        "/ui/peek?f=main",
        "/ui/source?f=main",
    ] {
        b.open(&format!("{base}{view}"));
        assert_eq!(b.eval("typeof window.pwned"), json!("undefined"), "{view}");
        assert_eq!(
            b.eval(
                "document.querySelectorAll('main script:not(#data), main img, main iframe').length"
            ),
            json!(0),
            "{view}"
        );
        let shown = b.eval("document.body.textContent.includes('window.pwned=1') || document.getElementById('data') !== null");
        assert_eq!(shown, json!(true), "{view}: hostile names not shown");
    }
    b.open(&format!("{base}/ui/flamegraph"));
    b.eval(&click("#flame .frame[data-name^='main.']"));
    assert_eq!(b.eval("typeof window.pwned"), json!("undefined"));
    b.screenshot("hostile-flame");
    eprintln!("screenshots in {}", out_dir().display());
}

/// Source with the binary: weblist's listing in the UI's page; a click on
/// a line shows its assembly rows (ui.js, under the page's CSP), another
/// hides them; the View menu opens Disassemble for the same regexp. A
/// hostile function name runs nothing there.
#[test]
fn source_assembly_and_disassemble_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        eprintln!("web browser test skipped: no chromium on PATH");
        return;
    };
    let dir = common::fixtures().join("godisasm");
    let src = "-source_path=../../tests/data";
    let web = Web::start(&dir, &[src, "hello_w", "cpu.pb.gz"], &[]);
    let base = format!("http://127.0.0.1:{}", web.port);
    let mut b = Browser::start(&chromium);
    b.open(&format!("{base}/ui/source?f=main%5C.hashLoop"));
    let lines = b.eval("document.querySelectorAll('#weblist .livesrc').length");
    assert!(
        lines.as_u64().unwrap_or(0) >= 4,
        "lines with assembly: {lines}"
    );
    // Assembly hidden until asked for.
    let shown = "Array.prototype.filter.call(document.querySelectorAll('#weblist .asm'), \
                 function (e) { return getComputedStyle(e).display !== 'none'; }).length";
    assert_eq!(b.eval(shown), json!(0));
    // The line of the multiply: click, and its instructions show.
    let line = "Array.prototype.find.call(document.querySelectorAll('#weblist .livesrc'), \
                function (e) { return e.nextElementSibling.textContent.indexOf('imul') >= 0; })";
    b.eval(&format!("{line}.click(), true"));
    assert_eq!(b.eval(shown), json!(1));
    let rows = b.eval(&format!(
        "{line}.nextElementSibling.innerText.split('\\n').filter(function (l) {{ \
         return /^ +\\S+ +\\S+ +[0-9a-f]+: /.test(l); }}).length"
    ));
    assert!(rows.as_u64().unwrap_or(0) >= 2, "assembly rows: {rows}");
    let height = b.eval(&format!(
        "{line}.nextElementSibling.getBoundingClientRect().height"
    ));
    assert!(height.as_f64().unwrap_or(0.0) > 20.0, "{height}");
    let png = b.screenshot("source-assembly");
    assert!(std::fs::metadata(png).map(|m| m.len()).unwrap_or(0) > 10_000);
    b.eval(&format!("{line}.click(), true"));
    assert_eq!(b.eval(shown), json!(0));
    b.eval(&format!("{line}.click(), true"));

    // View > Disassemble, for the regexp in the search box.
    b.navigate_by(&click("#view-disasm"));
    assert_eq!(b.eval("location.pathname"), json!("/ui/disasm"));
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('f')"),
        json!("main\\.hashLoop")
    );
    let text = b.eval("document.getElementById('report').textContent");
    assert!(
        text.as_str().is_some_and(
            |t| t.contains("ROUTINE ======================== main.hashLoop") && t.contains("imul")
        ),
        "{text}"
    );
    b.screenshot("disasm");
    drop(web);

    // A hostile name: text in the listing and the disassembly.
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = crate::web::hostile_godisasm(tmp.path());
    let args = [src, "hello_w", path.to_str().expect("utf-8")];
    let hostile = Web::start(&dir, &args, &[]);
    let base = format!("http://127.0.0.1:{}", hostile.port);
    for view in ["/ui/source?f=hashLoop", "/ui/disasm?f=hashLoop"] {
        b.open(&format!("{base}{view}"));
        if view.starts_with("/ui/source") {
            b.eval(&format!("{line}.click(), true"));
            b.screenshot("hostile-source");
        }
        assert_eq!(b.eval("typeof window.pwned"), json!("undefined"), "{view}");
        assert_eq!(
            b.eval("document.querySelectorAll('main script, main img').length"),
            json!(0),
            "{view}"
        );
        assert_eq!(
            b.eval("document.getElementById('main').textContent.includes('window.pwned=1')"),
            json!(true),
            "{view}"
        );
    }
    eprintln!("screenshots in {}", out_dir().display());
}
