//! The interactive shell: pprof's `(pprof)` prompt with line editing,
//! history and completion on a terminal, or a script read from stdin.
//!
//! Reports go to stdout and everything else (greeting, errors, help,
//! options) to stderr, as in pprof, so a piped script's stdout is the same
//! as `go tool pprof`'s.

pub mod commands;
pub mod complete;
mod help;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use commands::{expand_shortcuts, parse_line, Action};
use complete::{Completions, ShellHelper};

use crate::driver::{self, Command, Error, PrepClass, StderrUi};
use crate::options::{Config, Sort};
use crate::profile::Profile;
use crate::report::Report;
use crate::ui::escape_controls;

/// The longest input line read from a script.
const MAX_LINE: usize = 1 << 20;

/// The prompt: pprof's, so transcripts and scripts carry over.
pub const PROMPT: &str = "(pprof) ";

/// A prepared report (filtered and aggregated profile), kept for the next
/// command that needs the same samples.
struct Cached {
    key: String,
    report: Report,
    warnings: Vec<String>,
}

/// How many prepared reports the shell keeps (each holds a copy of the
/// profile's tables; samples are shared).
const CACHED_PREPARATIONS: usize = 4;

pub struct Shell {
    /// Shared with the thread that computes a report.
    profile: Arc<Profile>,
    /// Set by Ctrl-C while a report runs (terminal sessions only).
    interrupt: Option<Arc<AtomicBool>>,
    config: Config,
    /// Prepared reports of the last few preparation keys, most recent
    /// first: going back to `top` after `flame` or `list` reuses its work.
    cache: Vec<Cached>,
    /// The last report's text, keyed by its command and full options: the
    /// same command again is answered without recomputing.
    last_output: Option<(String, driver::Output)>,
}

/// The part of a command's configuration that decides which samples and
/// frames a report sees; options outside it only shape the output.
pub fn preparation_key(cmd: &Command, cfg: &Config) -> String {
    let mut c = cmd.spec.configure(cfg);
    c.output.clear();
    c.nodecount = 0;
    c.sort = Sort::Flat;
    c.unit.clear();
    c.divide_by = 1.0;
    c.nodefraction = 0.0;
    c.edgefraction = 0.0;
    c.compact_labels = false;
    // Reports of one class prepare their samples alike, so one preparation
    // serves all of them (top, then peek, then dot...); the command's
    // regexp only picks what to print.
    let class = match cmd.spec.class {
        PrepClass::Graph => "graph",
        PrepClass::List => "list",
        PrepClass::Own => cmd.spec.name,
    };
    format!("{class}|{c:?}")
}

/// Prepares (or reuses) and renders a report: the shell's work for one
/// command, run on its own thread. Returns the preparation to keep, the
/// warnings to show and the output.
fn compute(
    profile: &Profile,
    cache: Option<Cached>,
    key: String,
    cmd: &Command,
    cfg: &Config,
) -> (Option<Cached>, Vec<String>, Result<driver::Output, Error>) {
    let mut warnings = Vec::new();
    let mut cached = match cache {
        Some(c) => {
            warnings.extend(c.warnings.iter().cloned());
            c
        }
        None => {
            let mut ui: Vec<String> = Vec::new();
            let report = driver::prepare_report(profile, cmd, cfg, &mut ui);
            warnings.extend(ui.iter().cloned());
            match report {
                Ok(report) => Cached {
                    key,
                    report,
                    warnings: ui,
                },
                Err(e) => return (None, warnings, Err(e)),
            }
        }
    };
    match cmd.spec.class {
        PrepClass::Graph => cached.report.prime(),
        // A listing reads a few functions' samples; the whole graph, for
        // the next reports, is made meanwhile.
        PrepClass::List => cached.report.prime_later(),
        PrepClass::Own => {}
    }
    let mut rpt = cached.report.clone();
    let mut ui: Vec<String> = Vec::new();
    let result = driver::set_output_options(&mut rpt, cmd, cfg)
        .and_then(|()| driver::render(&mut rpt, cmd, &mut ui));
    warnings.extend(ui);
    (Some(cached), warnings, result)
}

/// Runs `job` on a thread and waits for it, unless `interrupt` is set
/// (Ctrl-C) first: then returns None at once and the job's result, when it
/// comes, is dropped. None too when no thread can be started.
fn run_cancellable<T: Send + 'static>(
    interrupt: &Arc<AtomicBool>,
    job: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    use std::sync::mpsc;
    interrupt.store(false, Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("report".into())
        .spawn(move || {
            let _ = tx.send(job());
        })
        .ok()?;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(v) => return Some(v),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if interrupt.swap(false, Ordering::SeqCst) {
                    return None;
                }
            }
            // The job panicked: a bug, reported like a cancellation.
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

impl Shell {
    pub fn new(profile: Profile, mut config: Config) -> Shell {
        // The shell shows reports without the profile header, as pprof's.
        config.compact_labels = true;
        Shell {
            profile: Arc::new(profile),
            interrupt: None,
            config,
            cache: Vec::new(),
            last_output: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The lines printed before the first prompt.
    pub fn greeting(&self) -> String {
        let mut out = String::new();
        let mut quiet: Vec<String> = Vec::new();
        let rpt = Command::new("top", None)
            .and_then(|cmd| driver::prepare_report(&self.profile, &cmd, &self.config, &mut quiet));
        if let Ok(rpt) = rpt {
            for l in rpt.profile_labels() {
                out.push_str(&l);
                out.push('\n');
            }
            if rpt.total == 0 && self.profile.sample_types.len() > 1 {
                out.push_str("No samples were found with the default sample value type.\n");
                out.push_str(
                    "Try \"sample_index\" command to analyze different sample values.\n\n",
                );
            }
        }
        out.push_str("Entering interactive mode (type \"help\" for commands, \"o\" for options)\n");
        out
    }

    /// Runs one input line. Returns false when the shell should exit.
    pub fn execute(&mut self, line: &str) -> bool {
        for input in expand_shortcuts(&self.profile, line) {
            match parse_line(&self.profile, &self.config, &input) {
                Ok(Action::Nothing) => {}
                Ok(Action::Quit) => return false,
                Ok(Action::Options) => {
                    eprint!(
                        "{}",
                        escape_controls(&help::options_table(&self.profile, &self.config))
                    )
                }
                Ok(Action::Help(topic)) => match help::help(&topic) {
                    Ok(text) => eprint!("{text}"),
                    Err(e) => eprintln!("{}", escape_controls(&e)),
                },
                Ok(Action::Set { name, value }) => {
                    let r = if value.is_empty() {
                        self.config.reset(&name)
                    } else {
                        self.config.set(&name, &value)
                    };
                    if let Err(e) = r {
                        eprintln!("{e}");
                    }
                }
                Ok(Action::Report { command, config }) => {
                    match self.timed_report(&command, &config) {
                        Ok(text) => {
                            let delivered = driver::deliver(
                                &command,
                                &text,
                                &config.output,
                                true,
                                &mut StderrUi,
                            );
                            if let Err(e) = delivered {
                                eprintln!("{}", escape_controls(&driver::error_chain(&e)));
                            }
                        }
                        Err(e) => eprintln!("{}", escape_controls(&driver::error_chain(&e))),
                    }
                }
                Err(e) => eprintln!("{}", escape_controls(&e)),
            }
        }
        true
    }

    /// [`Shell::report`], printing how long it took when `RPROF_TIMINGS` is set.
    fn timed_report(&mut self, cmd: &Command, cfg: &Config) -> Result<driver::Output, Error> {
        let start = std::time::Instant::now();
        let result = self.report(cmd, cfg);
        if std::env::var_os("RPROF_TIMINGS").is_some() {
            eprintln!("rprof: {} took {:?}", cmd.name(), start.elapsed());
        }
        result
    }

    /// Generates a report, reusing the prepared samples of the previous
    /// command when the options that select them did not change. On a
    /// terminal the work runs on its own thread, so that Ctrl-C returns to
    /// the prompt at once.
    pub fn report(&mut self, cmd: &Command, cfg: &Config) -> Result<driver::Output, Error> {
        let key = preparation_key(cmd, cfg);
        // The command too: reports of one class share a preparation, not
        // their output (`dot` then `svg`, `png` then `pdf`).
        let full_key = format!("{key}|{}|{:?}|{cfg:?}", cmd.name(), cmd.arg);
        if let (Some(c), Some((k, text))) = (self.cache.first(), &self.last_output) {
            if *k == full_key && c.key == key {
                for w in &c.warnings {
                    eprintln!("{}", escape_controls(w));
                }
                return Ok(text.clone());
            }
        }
        let cache = self
            .cache
            .iter()
            .position(|c| c.key == key)
            .map(|i| self.cache.remove(i));
        let profile = Arc::clone(&self.profile);
        let (command, config) = (cmd.clone(), cfg.clone());
        let job = move || compute(&profile, cache, key, &command, &config);
        let (cache, warnings, result) = match &self.interrupt {
            Some(flag) => run_cancellable(flag, job).ok_or(Error::Cancelled)?,
            None => job(),
        };
        for w in &warnings {
            eprintln!("{}", escape_controls(w));
        }
        if let Some(c) = cache {
            self.cache.insert(0, c);
            self.cache.truncate(CACHED_PREPARATIONS);
        }
        let text = result?;
        self.last_output = Some((full_key, text.clone()));
        Ok(text)
    }

    fn completions(&self) -> Completions {
        let mut functions: Vec<String> = self
            .profile
            .functions
            .iter()
            .map(|f| self.profile.str(f.name).to_string())
            .filter(|n| !n.is_empty())
            .collect();
        functions.sort();
        functions.dedup();
        Completions {
            functions,
            sample_types: self
                .profile
                .sample_type_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// Runs the shell on the terminal (line editing) or on a script from
    /// stdin, until `quit` or end of input.
    pub fn run(mut self) -> Result<(), Error> {
        eprint!("{}", escape_controls(&self.greeting()));
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            self.run_terminal()
        } else {
            self.run_script()
        }
    }

    fn run_script(&mut self) -> Result<(), Error> {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock();
        let mut line = Vec::new();
        loop {
            print!("{PROMPT}");
            let _ = std::io::stdout().flush();
            line.clear();
            // A line at most MAX_LINE long; bytes, so that invalid UTF-8
            // is one unrecognized command (as in pprof), not the end.
            match std::io::Read::take(&mut lines, MAX_LINE as u64).read_until(b'\n', &mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(Error::Input(e)),
            }
            if line.len() == MAX_LINE && line.last() != Some(&b'\n') {
                // Skip the rest of an overlong line.
                let mut sink = Vec::new();
                let _ = lines.read_until(b'\n', &mut sink);
                eprintln!("input line longer than {MAX_LINE} bytes ignored");
                continue;
            }
            if !self.execute(&String::from_utf8_lossy(&line)) {
                return Ok(());
            }
        }
    }

    fn run_terminal(&mut self) -> Result<(), Error> {
        use rustyline::error::ReadlineError;
        let config = rustyline::Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .auto_add_history(true)
            .max_history_size(10_000)
            .map_err(|e| Error::Input(std::io::Error::other(e)))?
            .build();
        let mut rl: rustyline::Editor<ShellHelper, rustyline::history::DefaultHistory> =
            rustyline::Editor::with_config(config)
                .map_err(|e| Error::Input(std::io::Error::other(e)))?;
        rl.set_helper(Some(ShellHelper {
            completions: self.completions(),
        }));
        // While a report runs, Ctrl-C sets this flag instead of killing
        // rprof (at the prompt the terminal is raw and rustyline reads it).
        let flag = Arc::new(AtomicBool::new(false));
        if signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&flag)).is_ok() {
            self.interrupt = Some(flag);
        }
        let history = history_path().filter(|h| match usable_history(h) {
            Ok(()) => true,
            Err(why) => {
                eprintln!("rprof: not using history file {}: {why}", h.display());
                false
            }
        });
        if let Some(h) = &history {
            // A missing history file is normal on first use.
            let _ = rl.load_history(h);
        }
        let mut save_failed = false;
        let result = loop {
            match rl.readline(PROMPT) {
                Ok(line) => {
                    // Saved as each command is entered, so that nothing is
                    // lost if rprof is killed during a long report.
                    if let (Some(h), false) = (&history, save_failed) {
                        if let Err(e) = rl.save_history(h) {
                            eprintln!("rprof: could not save history to {}: {e}", h.display());
                            save_failed = true;
                        }
                    }
                    if !self.execute(&line) {
                        break Ok(());
                    }
                }
                // Ctrl-C cancels the line being typed.
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break Ok(()),
                Err(e) => break Err(Error::Input(std::io::Error::other(e))),
            }
        };
        result
    }
}

/// The largest history file read.
const MAX_HISTORY_BYTES: u64 = 4 << 20;

/// Whether a history file can be read and written back: missing (first
/// use), or a regular file of reasonable size (not `/dev/zero`, a FIFO...).
fn usable_history(path: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(m) if !m.is_file() => Err("not a regular file".into()),
        Ok(m) if m.len() > MAX_HISTORY_BYTES => {
            Err(format!("larger than {} MiB", MAX_HISTORY_BYTES >> 20))
        }
        Ok(_) => Ok(()),
    }
}

/// `$RPROF_HISTORY`, else `~/.rprof_history`.
fn history_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("RPROF_HISTORY") {
        return Some(p.into());
    }
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".rprof_history"))
}
