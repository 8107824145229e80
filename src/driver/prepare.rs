//! Preparing a report: the command's overrides applied to the options, a
//! copy of the profile filtered and aggregated, its total computed (in
//! pprof's order), and the options mapped onto `report::Options`.

use regex::Regex;

use super::commands::Command;
use super::filters::{aggregate, apply_focus, last_line, warn_no_match};
use super::Error;
use crate::options::{Config, Sort};
use crate::profile::Profile;
use crate::report::{self, graph::ValueSel, Format, Report};
use crate::ui::{NoUi, Ui};

/// Prepares a report for a command: copies the profile, filters and
/// aggregates it, and computes the total, in pprof's order.
pub fn prepare_report(
    p: &Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    let cfg = cmd.spec.configure(cfg);
    let base = match (&p.base, cmd.spec.format) {
        // Differential flame graphs need the base on its own, filtered
        // the same way (its warnings were given for the main profile).
        (Some(b), Format::Flame) => {
            Some(Box::new(prepare_with((**b).clone(), cmd, &cfg, &mut NoUi)?))
        }
        _ => None,
    };
    let mut rpt = prepare_with(p.clone(), cmd, &cfg, ui)?;
    rpt.base = base;
    Ok(rpt)
}

/// [`prepare_report`] on an owned copy, with the command overrides applied.
fn prepare_with(
    mut p: Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    if matches!(cmd.spec.format, Format::Raw | Format::Proto) {
        // These show the tables: numbered as pprof's merge numbers them.
        crate::profile::merge::renumber_as_merged(&mut p);
    }
    let units = p.num_label_units();
    // Before filtering, so that filters can match the new frames.
    add_label_frames(&mut p, cfg, ui);
    let relative = cfg.relative_percentages;
    if relative {
        apply_focus(&mut p, &units, cfg, ui)?;
    }
    let index = p.sample_index(&cfg.sample_index).map_err(Error::Usage)?;
    let st = p.sample_types[index];
    let mut sample_type = p.str(st.ty).to_string();
    if cfg.mean {
        sample_type = format!("mean_{sample_type}");
    }
    let sel = ValueSel {
        index,
        mean: cfg.mean,
    };
    let mut opts = report::Options {
        format: cmd.spec.format,
        cum_sort: false,
        call_tree: cfg.call_tree,
        drop_negative: cfg.drop_negative,
        compact_labels: false,
        ratio: 1.0,
        node_count: 0,
        node_fraction: 0.0,
        edge_fraction: 0.0,
        active_filters: active_filters(cfg),
        num_label_units: units.clone(),
        sample: sel,
        sample_type,
        sample_unit: p.str(st.unit).to_string(),
        output_unit: String::new(),
        source_path: cfg.source_path.clone(),
        trim_path: cfg.trim_path.clone(),
        symbol: None,
        intel_syntax: cfg.intel_syntax,
        title: p
            .mappings
            .first()
            .filter(|m| m.file != 0)
            .map_or(String::new(), |m| {
                crate::paths::base_name(p.str(m.file)).to_string()
            }),
    };
    set_output_fields(&mut opts, cmd, cfg)?;
    let total = report::compute_total(&p, sel);
    if !relative {
        apply_focus(&mut p, &units, cfg, ui)?;
    }
    aggregate(&mut p, cfg);
    Ok(Report::new(p, opts, total))
}

/// `tagroot` / `tagleaf`: pseudo-frames from label values.
fn add_label_frames(p: &mut Profile, cfg: &Config, ui: &mut dyn Ui) {
    if cfg.tagroot.is_empty() && cfg.tagleaf.is_empty() {
        return;
    }
    fn keys(s: &str) -> Vec<&str> {
        s.split(',').filter(|k| !k.is_empty()).collect()
    }
    let (rm, lm) = p.add_label_frames(&keys(&cfg.tagroot), &keys(&cfg.tagleaf), &cfg.unit);
    warn_no_match(cfg.tagroot.is_empty() || rm, "TagRoot", ui);
    warn_no_match(cfg.tagleaf.is_empty() || lm, "TagLeaf", ui);
}

/// The filters in effect, as the header's `Active filters:` lists them.
fn active_filters(cfg: &Config) -> Vec<String> {
    [
        ("focus", &cfg.focus),
        ("ignore", &cfg.ignore),
        ("hide", &cfg.hide),
        ("show", &cfg.show),
        ("show_from", &cfg.show_from),
        ("tagfocus", &cfg.tagfocus),
        ("tagignore", &cfg.tagignore),
        ("tagshow", &cfg.tagshow),
        ("taghide", &cfg.taghide),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={v}"))
    .collect()
}

/// The options that only shape the output (not which samples count), from
/// an already configured `cfg`: the one mapping shared by a fresh
/// preparation and a reused one.
fn set_output_fields(o: &mut report::Options, cmd: &Command, cfg: &Config) -> Result<(), Error> {
    if cfg.divide_by == 0.0 {
        return Err(Error::Usage("zero divisor specified".into()));
    }
    o.symbol = compile_argument(cmd)?;
    o.format = cmd.spec.format;
    o.cum_sort = cfg.sort == Sort::Cum;
    o.compact_labels = cfg.compact_labels;
    o.ratio = 1.0 / cfg.divide_by;
    o.node_count = cfg.nodecount;
    o.node_fraction = cfg.nodefraction;
    o.edge_fraction = cfg.edgefraction;
    o.output_unit = cfg.unit.clone();
    o.intel_syntax = cfg.intel_syntax;
    Ok(())
}

/// Sets a prepared report's output options for `cmd` and `cfg`, so a
/// prepared report can be reused with new ones.
pub fn set_output_options(rpt: &mut Report, cmd: &Command, cfg: &Config) -> Result<(), Error> {
    set_output_fields(&mut rpt.opts, cmd, &cmd.spec.configure(cfg))
}

/// The command's regexp argument (`list RE`, `peek RE`), compiled.
fn compile_argument(cmd: &Command) -> Result<Option<Regex>, Error> {
    cmd.arg
        .as_ref()
        .map(|a| {
            Regex::new(a).map_err(|e| Error::Argument {
                arg: a.clone(),
                reason: last_line(&e.to_string()),
            })
        })
        .transpose()
}
