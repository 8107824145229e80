//! Output: rendering a prepared report with its command's renderer, and
//! delivering the text to standard output, a file, or a browser.

use std::path::Path;

use super::commands::{Command, Delivery};
use super::Error;
use crate::report::Report;
use crate::ui::Ui;

/// Renders a prepared report with its command's renderer. Control
/// characters from the profile are escaped in every output (terminal,
/// file or browser): see [`crate::ui::escape_controls`].
pub fn render(rpt: &mut Report, cmd: &Command, ui: &mut dyn Ui) -> Result<String, Error> {
    let text = (cmd.spec.render)(rpt, ui)?;
    Ok(match crate::ui::escape_controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(safe) => safe,
    })
}

/// Writes a report to standard output, or to `output` when set (saying so
/// on stderr, as pprof does). A closed pipe is not an error.
pub fn write_output(text: &str, output: &str, ui: &mut dyn Ui) -> Result<(), Error> {
    use std::io::Write;
    if !output.is_empty() {
        ui.warn(&format!("Generating report in {output}"));
        return std::fs::write(output, text).map_err(|source| Error::Output {
            path: output.to_string(),
            source,
        });
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "standard output".into(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Delivers a generated report. `web` saves the SVG to a temporary file
/// and opens it in a browser; drawings (`svg`, `flame`) that would go to a
/// terminal or the shell's screen are saved to a new `profileNNN.svg` in the
/// current directory instead (as pprof does); everything else goes to
/// `output` or standard output.
pub fn deliver(
    cmd: &Command,
    text: &str,
    output: &str,
    interactive: bool,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    use std::io::IsTerminal;
    if !output.is_empty() {
        return write_output(text, output, ui);
    }
    match cmd.spec.delivery {
        Delivery::Browser => {
            // A random name, created exclusively (mode 0600): no other user
            // can predict, pre-create or swap the file the browser opens.
            let dir = std::env::temp_dir();
            let (mut file, path) = tempfile::Builder::new()
                .prefix("rprof")
                .suffix(".svg")
                .rand_bytes(12)
                .tempfile_in(&dir)
                .and_then(|t| t.keep().map_err(|e| e.error))
                .map_err(|source| Error::Output {
                    path: dir.display().to_string(),
                    source,
                })?;
            write_file(&mut file, &path, text)?;
            drop(file);
            if !open_in_browser(&path) {
                ui.warn(&format!(
                    "rprof: could not start a browser (set $BROWSER); the graph is in {}",
                    path.display()
                ));
            }
            Ok(())
        }
        Delivery::Drawing if interactive || std::io::stdout().is_terminal() => {
            let (path, mut file) = new_temp_file(Path::new(""), "profile", ".svg")?;
            ui.warn(&format!("Generating report in {}", path.display()));
            write_file(&mut file, &path, text)
        }
        Delivery::Drawing | Delivery::Stdout => write_output(text, "", ui),
    }
}

fn write_file(file: &mut std::fs::File, path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    file.write_all(text.as_bytes())
        .map_err(|source| Error::Output {
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
    use std::time::{Duration, Instant};
    let file = path.display().to_string();
    for cmd in browser_commands() {
        let Some((program, args)) = cmd.split_first() else {
            continue;
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
            continue;
        };
        // Openers like xdg-open hand the file over and exit: a quick
        // failure means try the next command; still running means started.
        let deadline = Instant::now() + Duration::from_secs(2);
        let started = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25))
                }
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if started {
            return true;
        }
    }
    false
}
