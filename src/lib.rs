//! rprof: a fast re-implementation of `go tool pprof`'s analysis side.
//!
//! Data flows one way: files → [`profile`] (decode, merge, filter;
//! [`symbolize`] fills in functions from binaries) → [`report`] (graph, text reports) → output. [`driver`] runs that flow for
//! the command line ([`cli`]) and the shell; [`options`] is the one set of
//! report options both share.

pub mod cli;
pub mod driver;
pub mod fetch;
pub mod files;
pub mod markup;
pub mod options;
pub mod paths;
pub mod profile;
pub mod report;
pub mod shell;
pub mod symbolize;
pub mod ui;
pub mod units;
pub mod web;

/// Types generated from `proto/profile.proto`.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/perftools.profiles.rs"));
}
