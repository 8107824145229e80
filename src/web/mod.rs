//! `-http`: the web UI. A small local HTTP server (tiny_http, a few
//! threads) answers pprof's paths (`/ui/`, `/ui/top`, `/ui/flamegraph`,
//! `/ui/peek`, `/ui/source`, `/ui/disasm`) with pages built from the
//! command table's reports: each view is a command (`svg`, `top`, `flame`,
//! `peek`, `weblist` — `list` where there is no assembly —, `disasm`)
//! prepared and rendered by the driver, with URL parameters mapped onto the
//! same [`Config`] the shell uses (pprof's names: `f`, `i`, `h`, `s`, `sf`,
//! `si`, `g`, `n`...). Prepared reports are cached by the options that
//! select samples, as the shell caches them, and rendered pages by URL.
//!
//! - `server.rs`: listening, routing, parameters, caches, snapshots.
//! - `views.rs`: the pages (header, menus, each view's body).
//! - `flame.rs`: the flame graph's pruned call tree as JSON.
//! - `escape.rs`: HTML, JSON and URL escaping of every profile string.
//! - `assets/`: the page's script and style sheet, embedded in the binary.

pub mod escape;
pub mod flame;
pub mod server;
pub mod views;

pub use server::{parse_address, serve, WebOptions};
