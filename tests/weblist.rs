//! `-weblist`: the HTML page's structure and numbers, without a browser:
//! each source line's flat and cum are those `-list` prints, each
//! instruction's those `-disasm` prints, everything escaped, nothing
//! fetched. (tests/browser.rs opens it in Chromium.)

use crate::common;

use std::collections::HashMap;
use std::path::PathBuf;

fn dir() -> PathBuf {
    common::fixtures().join("godisasm")
}

fn run(args: &[&str]) -> String {
    let out = common::run_in(&dir(), args);
    assert!(
        out.status.success(),
        "rprof {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The page of `-weblist=RE` (written to stdout with `-output=/dev/stdout`
/// would need a tty check; `-output` to a file is what scripts use).
pub fn weblist_page(re: &str) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("page.html");
    let arg = format!("-weblist={re}");
    let o = format!("-output={}", out.display());
    run(&[
        &arg,
        "-source_path=../../tests/data",
        &o,
        "hello_w",
        "cpu.pb.gz",
    ]);
    std::fs::read_to_string(out).expect("page written")
}

/// HTML entities back to text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// (line number, flat, cum, text) of each source line of the page.
pub fn source_lines(page: &str) -> Vec<(i64, String, String, String)> {
    let re = regex::Regex::new(
        r#"<span class="line"> *(\d+)</span> <span class="(?:livesrc|nop)">  ( *\S+) ( *\S+) {11}(.*?) </span>"#,
    )
    .expect("regex");
    re.captures_iter(page)
        .map(|c| {
            (
                c[1].parse().expect("line number"),
                c[2].to_string(),
                c[3].to_string(),
                unescape(&c[4]),
            )
        })
        .collect()
}

#[test]
fn line_values_are_lists_and_instruction_values_disasms() {
    let page = weblist_page("main\\.(hashLoop|sortLoop)");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    // Self-contained: no script, style or image from elsewhere.
    for bad in ["src=", "href=", "http:", "https:", "@import"] {
        assert!(!page.contains(bad), "page references {bad}");
    }
    assert!(page.contains("<div class=\"legend\">File: hello_w<br>"));
    // The total as -list prints it (its first line).
    let list_total = run(&["-list=main.hashLoop", "hello_w", "cpu.pb.gz"]);
    let total = list_total.lines().next().expect("Total line");
    assert!(page.contains(&format!("{total}</div>")), "{total}");
    // The source is escaped: `i < n` appears as text.
    assert!(page.contains("for i := 0; i &lt; n; i++ {"));

    // Line values: as -list prints them, in the same order.
    let list = run(&[
        "-list=main\\.(hashLoop|sortLoop)",
        "-source_path=../../tests/data",
        "hello_w",
        "cpu.pb.gz",
    ]);
    let want = list_lines(&list);
    // -list itself prints what go tool pprof printed.
    let golden = std::fs::read_to_string(common::fixtures().join("expected/godisasm_list.txt"))
        .expect("golden");
    assert_eq!(list, golden, "{}", common::first_difference(&golden, &list));
    let got = source_lines(&page);
    assert!(want.len() > 20, "{list}");
    assert_eq!(got, want);
    // Function totals as -list's.
    for (name, file) in [
        ("main.hashLoop", "gostripped/main.go"),
        ("main.sortLoop", "gostripped/main.go"),
    ] {
        assert!(page.contains(&format!("<h2>{name}</h2><p class=\"filename\">{file}</p>")));
    }
    let totals: Vec<&str> = list.lines().filter(|l| l.contains("(flat, cum)")).collect();
    for t in totals {
        let (values, pct) = t.split_once(" (flat, cum) ").expect("totals");
        let pct = pct.trim_end_matches(" of Total");
        assert!(
            page.contains(&format!("  Total:  {values} (flat, cum) {pct}\n")),
            "{t}"
        );
    }

    // Instruction values: as -disasm prints them for the same addresses.
    let disasm = run(&["-disasm=main\\.(hashLoop|sortLoop)", "hello_w", "cpu.pb.gz"]);
    let mut by_addr: HashMap<String, (String, String)> = HashMap::new();
    for l in disasm.lines() {
        if l.len() > 34 && &l[32..34] == ": " {
            by_addr.insert(
                l[22..32].trim().to_string(),
                (l[..10].trim().to_string(), l[11..21].trim().to_string()),
            );
        }
    }
    let asm = regex::Regex::new(r"(?m)^ {10}( *\S+) ( *\S+) +([0-9a-f]+): ").expect("regex");
    let mut n = 0;
    for c in asm.captures_iter(&page) {
        // weblist lists a function's last byte too (disasm, as pprof's,
        // does not): an unsampled `ret`.
        let Some(want) = by_addr.get(&c[3]) else {
            assert_eq!(
                (c[1].trim(), c[2].trim()),
                (".", "."),
                "{} not in disasm",
                &c[3]
            );
            continue;
        };
        assert_eq!(
            (c[1].trim(), c[2].trim()),
            (want.0.as_str(), want.1.as_str()),
            "{}",
            &c[3]
        );
        n += 1;
    }
    assert!(n > 20, "{n} instructions");
    // Sampled lines have their assembly; the hot multiply is there.
    assert!(page.contains("<span class=\"asm\">"));
    assert!(page.contains("imul   %rsi,%rdx"));
}

/// (line number, flat, cum, text) of each source line `-list` printed.
pub fn list_lines(list: &str) -> Vec<(i64, String, String, String)> {
    list.lines()
        .filter(|l| l.len() >= 29 && l.as_bytes()[28] == b':')
        .map(|l| {
            (
                l[22..28].trim().parse().expect("line number"),
                l[..10].to_string(),
                l[11..21].to_string(),
                l[29..].to_string(),
            )
        })
        .collect()
}

/// A recursive function (`fib` calls itself twice on one line): the line
/// counts once per sample in its cum, as in `-list`, not once per address.
#[test]
fn recursive_lines_are_lists() {
    let wd = common::fixtures().join("producers");
    let tmp = tempfile::tempdir().expect("tempdir");
    let page = tmp.path().join("fib.html");
    let o = format!("-output={}", page.display());
    let args = ["-source_path=src", "gperf/burn-pie", "gperf/burn-pie.prof"];
    let out = common::run_in(&wd, &[&["-weblist=^fib$", &o], &args[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(page).expect("page");
    let list = common::run_in(&wd, &[&["-list=^fib$"], &args[..]].concat());
    let list = String::from_utf8_lossy(&list.stdout);
    let want = list_lines(&list);
    assert!(want.iter().any(|l| l.3.contains("fib(n - 1) + fib(n - 2)")));
    assert_eq!(source_lines(&page), want);
    // The recursive call has its assembly, and the page its total.
    assert!(page.contains("call   fib"), "{page}");
    assert!(page.contains("  Total:       135ms      265ms (flat, cum) 26.50%\n"));
}

#[test]
fn no_match_and_no_binary() {
    let out = common::run_in(
        &dir(),
        &[
            "-weblist=nomatch",
            "-output=/dev/null",
            "hello_w",
            "cpu.pb.gz",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no matches found for regexp: nomatch"),
        "{err}"
    );
}

#[test]
fn profile_strings_are_escaped() {
    use rprof::report::weblist::{escape, page};
    let p = page("<x>", "<p>body</p>");
    assert!(p.contains("<title>&lt;x&gt;</title>"));
    assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&#34;&#39;");
}

/// Markup in function and file names (and in the source) stays text.
#[test]
fn markup_in_the_profile_is_escaped() {
    use prost::Message;
    use std::io::Read;
    let gz = std::fs::read(dir().join("cpu.pb.gz")).expect("fixture");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut p = rprof::pb::Profile::decode(raw.as_slice()).expect("decode");
    for s in p.string_table.iter_mut() {
        if s == "main.hashLoop" {
            *s = "main.hashLoop<script>alert(1)</script>&amp;".to_string();
        } else if s == "gostripped/main.go" {
            *s = "gostripped/<b>main</b>.go".to_string();
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("hostile.pb"), p.encode_to_vec()).expect("write");
    std::fs::copy(dir().join("hello_w"), tmp.path().join("hello_w")).expect("copy");
    let page = tmp.path().join("page.html");
    let o = format!("-output={}", page.display());
    let out = common::run_in(
        tmp.path(),
        &["-weblist=hashLoop", &o, "hello_w", "hostile.pb"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(page).expect("page");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    assert!(
        page.contains("<h2>main.hashLoop&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;</h2>"),
        "{page}"
    );
    assert!(
        page.contains("gostripped/&lt;b&gt;main&lt;/b&gt;.go"),
        "{page}"
    );
}
