//! `-png`, `-gif`, `-pdf`, `-ps`, `-eps` and the viewers `eog`, `evince`,
//! `gv`: images through Graphviz when it is installed (skipped, saying
//! so, when it is not), and PNG and PDF from the built-in layout with
//! `RPROF_NO_GRAPHVIZ=1`. Viewers are fake programs on PATH.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs rprof in `cwd` with no desktop session, Graphviz allowed unless
/// `env` says otherwise.
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(common::rprof_bin());
    c.args(args)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("PPROF_BINARY_PATH")
        .env_remove("RPROF_NO_GRAPHVIZ")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run rprof")
}

fn go() -> PathBuf {
    common::fixtures().join("go")
}

const NO_GRAPHVIZ: &[(&str, &str)] = &[("RPROF_NO_GRAPHVIZ", "1")];

/// `rprof -<format> cpu.pb.gz` piped: the bytes on stdout.
fn image(format: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let out = run(&go(), &[&format!("-{format}"), "cpu.pb.gz"], env);
    assert!(
        out.status.success(),
        "-{format} {env:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "-{format} {env:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn graphviz_or_skip(test: &str) -> bool {
    let ok = common::have_graphviz();
    if !ok {
        eprintln!("{test}: skipped, Graphviz (dot) is not installed");
    }
    ok
}

/// A decoded PNG: width, height and its pixels' luma (0 black, 255 white;
/// transparent pixels count as white, as a viewer shows them on paper).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(bytes);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    let buf = &buf[..info.buffer_size()];
    let luma = |r: u8, g: u8, b: u8, a: u8| {
        let l = (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000;
        (255 - (255 - l) * a as u32 / 255) as u8
    };
    let pixels = match info.color_type {
        png::ColorType::Rgba => buf
            .chunks_exact(4)
            .map(|p| luma(p[0], p[1], p[2], p[3]))
            .collect(),
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .map(|p| luma(p[0], p[1], p[2], 255))
            .collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .map(|p| luma(p[0], p[0], p[0], p[1]))
            .collect(),
        png::ColorType::Grayscale => buf.to_vec(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width, info.height, pixels)
}

/// A graph image: big enough, mostly white, with dark strokes and text.
fn check_png(bytes: &[u8], what: &str) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{what}: not a PNG");
    let (w, h, luma) = decode_png(bytes);
    assert!(w > 100 && h > 100, "{what}: {w}x{h}");
    assert_eq!(luma.len(), (w * h) as usize, "{what}");
    let white = luma.iter().filter(|&&l| l >= 250).count();
    let dark = luma.iter().filter(|&&l| l < 80).count();
    let colored = luma.iter().filter(|&&l| l < 250).count();
    assert!(white > luma.len() / 2, "{what}: background not white");
    assert!(colored > 1000, "{what}: blank ({colored} non-white pixels)");
    assert!(dark > 500, "{what}: no text or lines ({dark} dark pixels)");
}

/// A PDF's structure: header, a cross-reference that `startxref` points
/// at, a trailer naming the catalog, at least one page, `%%EOF`.
fn check_pdf(bytes: &[u8], what: &str) -> String {
    assert!(bytes.starts_with(b"%PDF-1."), "{what}: no PDF header");
    let text = String::from_utf8_lossy(bytes).into_owned();
    assert!(text.trim_end().ends_with("%%EOF"), "{what}: no %%EOF");
    let (_, tail) = text.rsplit_once("startxref").expect("startxref");
    let offset: usize = tail
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what}: startxref offset"));
    let at = &bytes[offset.min(bytes.len())..];
    // A classic table, or a cross-reference stream object.
    assert!(
        at.starts_with(b"xref") || at.iter().take(20).any(|&b| b == b'o'),
        "{what}: startxref {offset} points at no cross-reference"
    );
    assert!(text.contains("/Root"), "{what}: no catalog");
    let pages = text
        .match_indices("/Type /Page")
        .filter(|(i, _)| !text[i + "/Type /Page".len()..].starts_with('s'))
        .count();
    assert!(pages >= 1, "{what}: no page");
    text
}

#[test]
fn png_with_graphviz() {
    if graphviz_or_skip("png_with_graphviz") {
        check_png(&image("png", &[]), "-png (Graphviz)");
    }
}

#[test]
fn png_without_graphviz() {
    check_png(&image("png", NO_GRAPHVIZ), "-png (built-in)");
}

#[test]
fn pdf_with_graphviz() {
    if graphviz_or_skip("pdf_with_graphviz") {
        check_pdf(&image("pdf", &[]), "-pdf (Graphviz)");
    }
}

#[test]
fn pdf_without_graphviz_embeds_its_font() {
    let text = check_pdf(&image("pdf", NO_GRAPHVIZ), "-pdf (built-in)");
    assert!(text.contains("/FontFile2"), "the font is embedded");
    assert!(text.contains("DejaVuSans"), "DejaVu Sans");
}

#[test]
fn gif_ps_eps_with_graphviz() {
    if !graphviz_or_skip("gif_ps_eps_with_graphviz") {
        return;
    }
    for (format, magic) in [
        ("gif", &b"GIF8"[..]),
        ("ps", b"%!PS"),
        ("eps", b"%!PS-Adobe-3.0 EPSF"),
    ] {
        let bytes = image(format, &[]);
        assert!(bytes.starts_with(magic), "-{format}");
        assert!(bytes.len() > 1000, "-{format}: {} bytes", bytes.len());
    }
}

#[test]
fn gif_ps_eps_without_graphviz_say_what_is_needed() {
    for format in ["gif", "ps", "eps"] {
        let out = run(&go(), &[&format!("-{format}"), "cpu.pb.gz"], NO_GRAPHVIZ);
        assert_eq!(out.status.code(), Some(1), "-{format}");
        assert!(out.stdout.is_empty(), "-{format}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("rprof: install Graphviz (dot) for {format} output, or use png/pdf/svg\n")
        );
    }
}

/// `-output` writes the same image; in the shell, `png` goes to a new
/// profileNNN.png rather than the screen.
#[test]
fn png_to_a_file_and_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let profile = go().join("cpu.pb.gz");
    let profile = profile.to_str().unwrap();
    let out = run(
        dir.path(),
        &["-png", "-output", "out.png", profile],
        NO_GRAPHVIZ,
    );
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Generating report in out.png\n"
    );
    check_png(
        &std::fs::read(dir.path().join("out.png")).unwrap(),
        "-output",
    );

    let out = common::run_script_in(
        dir.path(),
        &[profile],
        &[("RPROF_NO_GRAPHVIZ", "1")],
        b"png\npdf\nquit\n",
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Generating report in profile001.png"), "{err}");
    assert!(err.contains("Generating report in profile001.pdf"), "{err}");
    check_png(
        &std::fs::read(dir.path().join("profile001.png")).unwrap(),
        "shell png",
    );
    check_pdf(
        &std::fs::read(dir.path().join("profile001.pdf")).unwrap(),
        "shell pdf",
    );
    // Binary output is not on the screen.
    assert!(!out.stdout.starts_with(b"\x89PNG"));
}

/// A directory holding a fake viewer `name` that copies the file it is
/// given (its last argument) to `opened` and its arguments to `args`
/// there. Written by a child shell: a file this multi-threaded test
/// process wrote could still be open for writing in another test's forked
/// child, and executing it would fail (ETXTBSY).
fn fake_viewer(dir: &Path, name: &str) {
    let script = dir.join(name);
    let body = format!(
        "#!/bin/sh\nfor a; do f=$a; done\necho \"$@\" > '{args}'\nexec /bin/cp \"$f\" '{opened}'\n",
        args = dir.join("args").display(),
        opened = dir.join("opened").display()
    );
    common::write_script(&script, &body);
}

/// Runs `rprof -<viewer> cpu.pb.gz` with a fake viewer first on PATH
/// (Graphviz still found after it, unless disabled): the file it opened
/// and its arguments.
fn view(viewer: &str, env: &[(&str, &str)]) -> (Vec<u8>, String) {
    let bin = tempfile::tempdir().unwrap();
    fake_viewer(bin.path(), viewer);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = env.to_vec();
    env.push(("PATH", &path));
    let out = run(&go(), &[&format!("-{viewer}"), "cpu.pb.gz"], &env);
    assert!(
        out.status.success(),
        "-{viewer}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "-{viewer}");
    let opened =
        std::fs::read(bin.path().join("opened")).unwrap_or_else(|_| panic!("{viewer} did not run"));
    let args = std::fs::read_to_string(bin.path().join("args")).unwrap();
    (opened, args)
}

#[test]
fn eog_opens_an_svg() {
    let mut envs = vec![NO_GRAPHVIZ];
    if graphviz_or_skip("eog_opens_an_svg (Graphviz)") {
        envs.push(&[]);
    }
    for env in envs {
        let (opened, args) = view("eog", env);
        let svg = String::from_utf8(opened).expect("SVG text");
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
        // An image, not the browser page: a size of its own, no script.
        assert!(!svg.contains("<script"), "{env:?}");
        assert!(!svg.contains("width=\"100%\""), "{env:?}");
        assert!(svg.contains("main"), "{env:?}");
        let file = args.trim();
        assert!(file.ends_with(".svg"), "{file}");
        let _ = std::fs::remove_file(file);
    }
}

#[test]
fn evince_opens_a_pdf() {
    let mut envs = vec![NO_GRAPHVIZ];
    if graphviz_or_skip("evince_opens_a_pdf (Graphviz)") {
        envs.push(&[]);
    }
    for env in envs {
        let (opened, args) = view("evince", env);
        check_pdf(&opened, "evince");
        let file = args.trim();
        assert!(file.ends_with(".pdf"), "{file}");
        let _ = std::fs::remove_file(file);
    }
}

#[test]
fn gv_opens_postscript_without_antialiasing() {
    if !graphviz_or_skip("gv_opens_postscript_without_antialiasing") {
        return;
    }
    let (opened, args) = view("gv", &[]);
    assert!(opened.starts_with(b"%!PS"));
    let (flag, file) = args.trim().split_once(' ').expect("two arguments");
    assert_eq!(flag, "--noantialias");
    assert!(file.ends_with(".ps"), "{file}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn evince_missing_says_where_the_pdf_is() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let out = run(
        &go(),
        &["-evince", "cpu.pb.gz"],
        &[("PATH", path), ("RPROF_NO_GRAPHVIZ", "1")],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let file = err
        .trim()
        .strip_prefix("rprof: could not start evince; the report is in ")
        .unwrap_or_else(|| panic!("no file named: {err}"))
        .to_string();
    assert!(file.ends_with(".pdf"), "{file}");
    let written = std::fs::read(&file).expect("report file");
    let _ = std::fs::remove_file(&file);
    check_pdf(&written, "evince's file");
}
