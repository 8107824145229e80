//! The SVGs render in a real browser: headless Chromium screenshots of the
//! call graph (Graphviz and built-in layout) and of a flame graph must show
//! a drawing, not a blank or error page.
//!
//! `tests/browser/check_svg.sh` runs Debian's `chromium`; tests install
//! nothing, so where it is missing this test says so and passes (`.ci/run`
//! installs it for CI).
//! Screenshots are left in `target/tmp/browser-check/` for a look.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-check");
    std::fs::create_dir_all(&d).expect("mkdir browser-check");
    d
}

fn rprof(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let mut c = Command::new(common::rprof_bin());
    c.args(args).current_dir(cwd).env("TZ", "UTC");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run rprof");
    assert!(
        out.status.success(),
        "rprof {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Screenshot of `svg`; None when no browser can be had here.
fn screenshot(svg: &Path, png: &Path) -> Option<()> {
    let script = common::repo().join("tests/browser/check_svg.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(svg)
        .arg(png)
        .arg("1600x1200")
        .output()
        .expect("run check_svg.sh");
    let err = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Some(()),
        Some(3) => {
            eprintln!("browser check skipped: {}", err.trim());
            None
        }
        _ => panic!("check_svg.sh failed on {}:\n{err}", svg.display()),
    }
}

/// Share of non-white pixels, and how many of them are clearly coloured
/// (not grey), in an RGB(A) PNG.
fn ink(png: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png).expect("open png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let bytes = &buf[..info.buffer_size()];
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let (mut dark, mut coloured, mut total) = (0usize, 0usize, 0usize);
    for px in bytes.chunks_exact(channels) {
        let (r, g, b) = (px[0] as i32, px[1] as i32, px[2] as i32);
        total += 1;
        if r < 240 || g < 240 || b < 240 {
            dark += 1;
        }
        if (r - g).abs() > 40 || (r - b).abs() > 40 || (g - b).abs() > 40 {
            coloured += 1;
        }
    }
    (dark as f64 / total.max(1) as f64, coloured)
}

#[test]
fn svgs_render_in_headless_chromium() {
    let wd = common::Workdir::new();
    let dir = out_dir();
    let has_dot = Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    if has_dot {
        cases.push((
            "graph-graphviz",
            rprof(&wd.go(), &["-svg", "cpu.pb.gz"], &[]),
        ));
    } else {
        eprintln!("no Graphviz: only the built-in layout is checked");
    }
    cases.push((
        "graph-builtin",
        rprof(
            &wd.go(),
            &["-svg", "cpu.pb.gz"],
            &[("RPROF_NO_GRAPHVIZ", "1")],
        ),
    ));
    cases.push(("flame", rprof(&wd.go(), &["-flame", "cpu.pb.gz"], &[])));
    cases.push((
        "flame-diff",
        rprof(
            &wd.go(),
            &["-flame", "-base", "base.heap", "current.heap"],
            &[],
        ),
    ));
    for (name, svg) in cases {
        let svg_path = dir.join(format!("{name}.svg"));
        let png_path = dir.join(format!("{name}.png"));
        std::fs::write(&svg_path, svg).expect("write svg");
        if screenshot(&svg_path, &png_path).is_none() {
            return;
        }
        let dom = std::fs::read_to_string(png_path.with_extension("dom")).expect("DOM dump");
        let want = if name.starts_with("graph") {
            "class=\"node\""
        } else {
            "id=\"frames\""
        };
        assert!(dom.contains(want), "{name}: no {want} in Chromium's DOM");
        let (dark, coloured) = ink(&png_path);
        eprintln!(
            "{name}: {:.1}% ink, {coloured} coloured pixels ({})",
            dark * 100.0,
            png_path.display()
        );
        // A blank page, or Chromium's XML error banner alone, has almost
        // no ink and no colour; graphs have coloured boxes and lines.
        assert!(dark > 0.01, "{name}: screenshot is (nearly) blank");
        assert!(coloured > 2000, "{name}: screenshot has no coloured shapes");
    }
}

/// `weblist`'s page in Chromium: a script appended to a copy of the page
/// clicks the first line that has assembly once loaded, as a user would;
/// the DOM Chromium dumps then shows that line's assembly block displayed,
/// and the screenshot has its green instructions.
#[test]
fn weblist_expands_a_line_in_headless_chromium() {
    let dir = out_dir();
    let page = crate::weblist::weblist_page("main\\.hashLoop");
    let click = r#"<script>
window.addEventListener("load", function () {
  document.querySelector(".livesrc").click();
});
</script>
</body>"#;
    assert!(page.contains("</body>"));
    let clicked = page.replacen("</body>", click, 1);
    let html = dir.join("weblist.html");
    let png = dir.join("weblist.png");
    std::fs::write(&html, clicked).expect("write page");
    if screenshot(&html, &png).is_none() {
        return;
    }
    let dom = std::fs::read_to_string(png.with_extension("dom")).expect("DOM dump");
    let shown =
        regex::Regex::new(r#"<span class="asm" style="display: block;">([^<]*)"#).expect("regex");
    let rows = shown
        .captures(&dom)
        .unwrap_or_else(|| panic!("no expanded assembly in Chromium's DOM:\n{dom}"));
    let row = regex::Regex::new(r"[0-9a-f]+: +\S").expect("regex");
    assert!(row.is_match(&rows[1]), "no instruction row: {}", &rows[1]);
    // Only the clicked line opened.
    assert_eq!(dom.matches("display: block").count(), 1);
    let (dark, coloured) = ink(&png);
    eprintln!(
        "weblist: {:.1}% ink, {coloured} coloured pixels ({})",
        dark * 100.0,
        png.display()
    );
    // The assembly is green: with it shown the page has coloured text.
    assert!(coloured > 200, "no assembly drawn");
}
