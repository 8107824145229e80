//! Filters: the focus/ignore/hide/show/show_from/prune_from regexps and the
//! tag filters compiled from the options and applied to a profile copy, then
//! aggregation at the chosen granularity.

use std::collections::HashMap;

use regex::Regex;

use super::Error;
use crate::options::{Config, Granularity};
use crate::profile::filter::TagFilter;
use crate::profile::Profile;
use crate::ui::Ui;

/// Compiles an option's regexp (none when empty).
pub(super) fn compile(name: &'static str, value: &str) -> Result<Option<Regex>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    Regex::new(value).map(Some).map_err(|e| Error::Regexp {
        what: name,
        reason: last_line(&e.to_string()),
    })
}

/// The regex crate's message ends with the reason on its last line.
pub(super) fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// Compiles a tag filter option (none when empty); says so when its value
/// is read as a numeric range, as pprof does.
pub(super) fn compile_tag(
    name: &'static str,
    value: &str,
    units: &HashMap<String, String>,
    ui: &mut dyn Ui,
) -> Result<Option<TagFilter>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    let (f, is_range) = TagFilter::compile(value, units).map_err(|e| Error::Regexp {
        what: name,
        reason: last_line(&e.to_string()),
    })?;
    if is_range {
        let v = value.split_once('=').map_or(value, |(_, v)| v);
        ui.warn(&format!("{name}:Interpreted '{v}' as range, not regexp"));
    }
    Ok(Some(f))
}

pub(super) fn warn_no_match(matched: bool, what: &str, ui: &mut dyn Ui) {
    if !matched {
        ui.warn(&format!("{what} expression matched no samples"));
    }
}

/// Applies focus/ignore/hide/show/show_from/tag filters to the profile.
pub(super) fn apply_focus(
    p: &mut Profile,
    units: &HashMap<String, String>,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    let focus = compile("focus", &cfg.focus)?;
    let ignore = compile("ignore", &cfg.ignore)?;
    let hide = compile("hide", &cfg.hide)?;
    let show = compile("show", &cfg.show)?;
    let show_from = compile("show_from", &cfg.show_from)?;
    let tagfocus = compile_tag("tagfocus", &cfg.tagfocus, units, ui)?;
    let tagignore = compile_tag("tagignore", &cfg.tagignore, units, ui)?;
    let prune_from = compile("prune_from", &cfg.prune_from)?;

    let (fm, im, hm, hnm) = p.filter_samples_by_name(
        focus.as_ref(),
        ignore.as_ref(),
        hide.as_ref(),
        show.as_ref(),
    );
    warn_no_match(focus.is_none() || fm, "Focus", ui);
    warn_no_match(ignore.is_none() || im, "Ignore", ui);
    warn_no_match(hide.is_none() || hm, "Hide", ui);
    warn_no_match(show.is_none() || hnm, "Show", ui);
    if let Some(re) = &show_from {
        let m = p.show_from(re);
        warn_no_match(m, "ShowFrom", ui);
    }
    let (tfm, tim) = p.filter_samples_by_tag(tagfocus.as_ref(), tagignore.as_ref());
    warn_no_match(tagfocus.is_none() || tfm, "TagFocus", ui);
    warn_no_match(tagignore.is_none() || tim, "TagIgnore", ui);
    let tagshow = compile("tagshow", &cfg.tagshow)?;
    let taghide = compile("taghide", &cfg.taghide)?;
    if tagshow.is_some() || taghide.is_some() {
        let (tns, tnh) = p.filter_tags_by_name(tagshow.as_ref(), taghide.as_ref());
        warn_no_match(tagshow.is_none() || tns, "TagShow", ui);
        warn_no_match(taghide.is_none() || tnh, "TagHide", ui);
    }
    if let Some(re) = &prune_from {
        p.prune_from(re);
    }
    Ok(())
}

/// Merges locations into the report's nodes: by function, file, line or
/// address (addresses with inlines need nothing).
pub(super) fn aggregate(p: &mut Profile, cfg: &Config) {
    let inlines = !cfg.noinlines;
    let (function, filename, linenumber, address) = match cfg.granularity {
        Granularity::Addresses if inlines => return,
        Granularity::Addresses => (true, true, true, true),
        Granularity::Lines => (true, true, true, false),
        Granularity::Files => (false, true, false, false),
        Granularity::Functions => (true, false, false, false),
        Granularity::FileFunctions => (true, true, false, false),
    };
    p.aggregate(inlines, function, filename, linenumber, address);
}
