//! Output: rendering a prepared report with its command's renderer, and
//! delivering the text to standard output, a file, or a browser.

use std::path::Path;

use super::commands::{Command, Delivery, Render};
use super::Error;
use crate::report::Report;
use crate::ui::Ui;

/// A rendered report: text, or bytes for binary formats (`proto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Text(String),
    Binary(Vec<u8>),
}

impl Output {
    /// What is written out.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Output::Text(t) => t.as_bytes(),
            Output::Binary(b) => b,
        }
    }

    /// The text of a text report; binary output is not text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Output::Text(t) => Some(t),
            Output::Binary(_) => None,
        }
    }

    /// The text of a text report (binary output, lossily decoded).
    pub fn into_text(self) -> String {
        match self {
            Output::Text(t) => t,
            Output::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
        }
    }
}

/// Renders a prepared report with its command's renderer. Control
/// characters from the profile are escaped in every text output
/// (terminal, file or browser): see [`crate::ui::escape_controls`].
/// Binary output is left as it is.
pub fn render(rpt: &mut Report, cmd: &Command, ui: &mut dyn Ui) -> Result<Output, Error> {
    match cmd.spec.render {
        Render::Binary(f) => f(rpt, ui).map(Output::Binary),
        Render::Stream(f) => {
            let mut out = Vec::new();
            f(rpt, ui, &mut out).map_err(|source| Error::Output {
                path: "memory".into(),
                source,
            })?;
            Ok(Output::Text(String::from_utf8(out).unwrap_or_else(|e| {
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            })))
        }
        Render::Text(f) => {
            let text = f(rpt, ui)?;
            Ok(Output::Text(match crate::ui::escape_controls(&text) {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(safe) => safe,
            }))
        }
    }
}

/// Renders a prepared report and delivers it ([`render`], [`deliver`]);
/// a streamed report going to standard output or `output` is written as it
/// is made, never held whole.
pub fn render_and_deliver(
    rpt: &mut Report,
    cmd: &Command,
    output: &str,
    interactive: bool,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    use std::io::Write;
    let Render::Stream(f) = cmd.spec.render else {
        let out = render(rpt, cmd, ui)?;
        return deliver(cmd, &out, output, interactive, ui);
    };
    if !matches!(cmd.spec.delivery, Delivery::Stdout) {
        let out = render(rpt, cmd, ui)?;
        return deliver(cmd, &out, output, interactive, ui);
    }
    if !output.is_empty() {
        ui.warn(&format!("Generating report in {output}"));
        let err = |source| Error::Output {
            path: output.to_string(),
            source,
        };
        let file = std::fs::File::create(output).map_err(err)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        return f(rpt, ui, &mut w).and_then(|_| w.flush()).map_err(err);
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match f(rpt, ui, &mut w).and_then(|_| w.flush()) {
        Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "standard output".into(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Writes a report to standard output, or to `output` when set (saying so
/// on stderr, as pprof does). A closed pipe is not an error.
pub fn write_output(text: &[u8], output: &str, ui: &mut dyn Ui) -> Result<(), Error> {
    use std::io::Write;
    if !output.is_empty() {
        ui.warn(&format!("Generating report in {output}"));
        return std::fs::write(output, text).map_err(|source| Error::Output {
            path: output.to_string(),
            source,
        });
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|_| stdout.flush()) {
        Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "standard output".into(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Delivers a generated report. `web` saves the SVG to a temporary file
/// and opens it in a browser, `kcachegrind` its callgrind file in
/// KCachegrind; files for programs (`svg`, `flame`, `proto`, `callgrind`)
/// that would go to a terminal or the shell's screen are saved to a new
/// `profileNNN<suffix>` in the current directory instead (as pprof does);
/// everything else goes to `output` or standard output.
pub fn deliver(
    cmd: &Command,
    out: &Output,
    output: &str,
    interactive: bool,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    use std::io::IsTerminal;
    let data = out.as_bytes();
    if !output.is_empty() {
        return write_output(data, output, ui);
    }
    match cmd.spec.delivery {
        Delivery::Browser => {
            let (suffix, what) = if cmd.spec.format == crate::report::Format::WebList {
                (".html", "listing")
            } else {
                (".svg", "graph")
            };
            let path = private_temp_file(suffix, data)?;
            if !open_in_browser(&path) {
                ui.warn(&format!(
                    "rprof: could not start a browser (set $BROWSER); the {what} is in {}",
                    path.display()
                ));
            }
            Ok(())
        }
        Delivery::Viewer { program, suffix } => {
            let path = private_temp_file(suffix, data)?;
            // The program may come with options (`gv --noantialias`).
            let cmd: Vec<String> = program.split_whitespace().map(str::to_string).collect();
            if !open_with(&cmd, &path) {
                ui.warn(&format!(
                    "rprof: could not start {}; the report is in {}",
                    cmd.first().map_or(program, String::as_str),
                    path.display()
                ));
            }
            Ok(())
        }
        Delivery::AwayFromTty(suffix) if interactive || std::io::stdout().is_terminal() => {
            let (path, mut file) = new_temp_file(Path::new(""), "profile", suffix)?;
            ui.warn(&format!("Generating report in {}", path.display()));
            write_file(&mut file, &path, data)
        }
        Delivery::AwayFromTty(_) | Delivery::Stdout => write_output(data, "", ui),
    }
}

/// Writes `data` to a new file in the temporary directory with a random
/// name, created exclusively (mode 0600): no other user can predict,
/// pre-create or swap the file a viewer opens. The file is kept.
fn private_temp_file(suffix: &str, data: &[u8]) -> Result<std::path::PathBuf, Error> {
    let dir = std::env::temp_dir();
    let (mut file, path) = tempfile::Builder::new()
        .prefix("rprof")
        .suffix(suffix)
        .rand_bytes(12)
        .tempfile_in(&dir)
        .and_then(|t| t.keep().map_err(|e| e.error))
        .map_err(|source| Error::Output {
            path: dir.display().to_string(),
            source,
        })?;
    write_file(&mut file, &path, data)?;
    Ok(path)
}

fn write_file(file: &mut std::fs::File, path: &Path, data: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    file.write_all(data).map_err(|source| Error::Output {
        path: path.display().to_string(),
        source,
    })
}

/// Creates `dir/<prefix>NNN<suffix>` with the first free number.
fn new_temp_file(
    dir: &Path,
    prefix: &str,
    suffix: &str,
) -> Result<(std::path::PathBuf, std::fs::File), Error> {
    let mut last = format!("{prefix}001{suffix} to {prefix}9999{suffix} all exist");
    for i in 1..10000 {
        let path = dir.join(format!("{prefix}{i:03}{suffix}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => last = e.to_string(),
        }
    }
    Err(Error::Output {
        path: dir
            .join(format!("{prefix}NNN{suffix}"))
            .display()
            .to_string(),
        source: std::io::Error::other(format!("could not make a temporary file: {last}")),
    })
}

/// The commands tried to show a file: `$BROWSER` (a `:`-separated list,
/// `%s` standing for the file), then the desktop's opener.
fn browser_commands() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    if let Ok(b) = std::env::var("BROWSER") {
        for c in b.split(':').filter(|c| !c.trim().is_empty()) {
            cmds.push(c.split_whitespace().map(str::to_string).collect());
        }
    }
    if cfg!(target_os = "macos") {
        cmds.push(vec!["/usr/bin/open".into()]);
    } else if cfg!(windows) {
        cmds.push(vec!["cmd".into(), "/c".into(), "start".into()]);
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        // xdg-open only makes sense in a desktop session.
        cmds.push(vec!["xdg-open".into()]);
    }
    cmds
}

/// Opens `path` with the first browser command that starts and does not
/// fail right away. Browsers keep running after rprof exits.
fn open_in_browser(path: &Path) -> bool {
    browser_commands().iter().any(|cmd| open_with(cmd, path))
}

/// Opens a URL (the web UI's) in the first browser command that starts.
pub fn open_url(url: &str) -> bool {
    browser_commands()
        .iter()
        .any(|cmd| open_with(cmd, Path::new(url)))
}

/// Opens `path` with one command (`%s` standing for the file, else it is
/// the last argument): true when it starts and does not fail right away.
fn open_with(cmd: &[String], path: &Path) -> bool {
    use std::time::{Duration, Instant};
    let file = path.display().to_string();
    let Some((program, args)) = cmd.split_first() else {
        return false;
    };
    let mut args: Vec<String> = args.iter().map(|a| a.replace("%s", &file)).collect();
    if !cmd.iter().any(|a| a.contains("%s")) {
        args.push(file.clone());
    }
    let child = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    // Openers like xdg-open hand the file over and exit: a quick
    // failure means try the next command; still running means started.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(25)),
            Ok(None) => break true,
            Err(_) => break false,
        }
    }
}
