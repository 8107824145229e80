//! The driver runs rprof's pipeline for every front end (command line,
//! shell, tests): [`load`] the sources into one profile, look the command up
//! in the [`commands`] table, [`prepare`] its report (options → filters →
//! aggregation, see [`filters`]), then render and deliver it ([`output`]).

pub mod commands;
pub mod filters;
pub mod load;
pub mod output;
pub mod prepare;

pub use crate::ui::{NoUi, StderrUi, Ui};
pub use commands::{lookup, Command, CommandSpec, Delivery, PrepClass, COMMANDS};
pub use load::{
    combine, fetch_profiles, fetch_profiles_with, is_build_id, is_object_file, normalize, Sources,
};
pub use output::{deliver, open_url, render, render_and_deliver, write_output, Output};
pub use prepare::{prepare_report, prepare_report_from, set_output_options};

use crate::options::Config;
use crate::profile::{self, Profile};

/// What can go wrong between the sources and the output. Each variant's
/// text is what follows `rprof: `; wrapped errors are their `source()`, so
/// `main` prints the chain in one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile file could not be read or parsed.
    #[error("{path}")]
    Load {
        path: String,
        #[source]
        source: profile::LoadError,
    },
    /// A profile source given as a URL could not be fetched.
    #[error("{path}")]
    Fetch {
        path: String,
        #[source]
        source: crate::fetch::FetchError,
    },
    /// A fetched profile could not be saved.
    #[error(transparent)]
    Save(#[from] crate::fetch::SaveError),
    /// The profiles cannot be merged (different sample types...).
    #[error(transparent)]
    Merge(#[from] profile::MergeError),
    /// The profile's own drop_frames regexp does not compile.
    #[error("drop_frames")]
    DropFrames(#[source] regex::Error),
    /// A wrong command line, option value or command.
    #[error("{0}")]
    Usage(String),
    /// An option's regexp (focus, ignore, tagfocus...) does not compile.
    #[error("parsing {what} regexp: {reason}")]
    Regexp { what: &'static str, reason: String },
    /// The command's regexp argument (`list RE`) does not compile.
    #[error("parsing argument regexp {arg}: {reason}")]
    Argument { arg: String, reason: String },
    /// A report failed: nothing matched its regexp, a graph or flame graph
    /// could not be drawn...
    #[error(transparent)]
    Report(#[from] crate::report::error::ReportError),
    /// The report could not be written.
    #[error("{path}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The user interrupted the command (Ctrl-C in the shell).
    #[error("interrupted: the command was cancelled")]
    Cancelled,
    /// The web UI's server could not listen on the address.
    #[error("could not serve the web UI on {addr}: {reason}")]
    Serve { addr: String, reason: String },
    /// Reading the shell's input failed.
    #[error("reading input")]
    Input(#[source] std::io::Error),
}

/// Prepares and renders a command's report.
pub fn generate(
    p: &Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Output, Error> {
    let mut rpt = prepare_report(p, cmd, cfg, ui)?;
    render(&mut rpt, cmd, ui)
}

/// An error and its sources in one line, `a: b: c`, as `main` prints it.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        // A wrapper whose text already ends with its source's adds nothing.
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
