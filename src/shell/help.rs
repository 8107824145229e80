//! `help` and `o`: tables pprof has no fixed layout for, drawn with
//! comfy-table.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table};

use crate::driver::COMMANDS;
use crate::options::{self, Config, Kind};
use crate::profile::Profile;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// `o`: every option with its current value and allowed values.
pub fn options_table(p: &Profile, cfg: &Config) -> String {
    let mut t = table(&["option", "value", "choices / help"]);
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for f in options::FIELDS {
        let mut value = cfg.get(f.name).unwrap_or_default();
        let note = match f.kind {
            Kind::Choice(words) => {
                let mut w = words.to_vec();
                w.sort();
                format!("[{}]", w.join(" | "))
            }
            _ if f.name == "sample_index" => {
                let names = p.sample_type_names();
                if value.is_empty() {
                    let i = p.sample_index("").unwrap_or(0);
                    value = names.get(i).map_or(String::new(), |s| s.to_string());
                }
                format!("[{}]", names.join(" | "))
            }
            _ if f.name == "nodecount" && value == "-1" => "default".to_string(),
            _ => f.help.to_string(),
        };
        if value.is_empty() {
            value = "\"\"".into();
        }
        rows.push((f.name.to_string(), value, note));
    }
    rows.sort();
    for (n, v, c) in rows {
        t.add_row(vec![n, v, c]);
    }
    format!("{t}\n")
}

/// `help` (all commands and options), `help <command>` or `help <option>`.
pub fn help(topic: &str) -> Result<String, String> {
    if topic.is_empty() {
        let mut cmds = table(&["command", "description"]);
        for c in COMMANDS {
            let n = match c.arg {
                Some(arg) => format!("{} <{arg}>", c.name),
                None => c.name.to_string(),
            };
            cmds.add_row(vec![n, c.help.to_string()]);
        }
        cmds.add_row(vec!["o/options", "List options and their current values"]);
        cmds.add_row(vec!["q/quit/exit/^D", "Exit rprof"]);
        cmds.add_row(vec![":", "Clear focus/ignore/hide/tagfocus/tagignore"]);
        let mut opts = table(&["option", "help"]);
        for f in options::FIELDS {
            match f.kind {
                Kind::Choice(words) => {
                    for w in words {
                        opts.add_row(vec![
                            format!("{w}  ({}={w})", f.name),
                            options::choice_help(w).to_string(),
                        ]);
                    }
                }
                _ => {
                    opts.add_row(vec![f.name.to_string(), f.help.to_string()]);
                }
            }
        }
        return Ok(format!(
            "{cmds}\n{opts}\n  Reports take a node count, -cum, focus regexps, -ignore regexps and > file:\n    top 20 -cum main -runtime > top.txt\n  Set options with name=value, reset with name=; Tab completes.\n  type \"help <cmd|option>\" for more information\n"
        ));
    }
    if let Some(c) = crate::driver::lookup(topic) {
        return Ok(command_help(c));
    }
    if let Some(f) = options::field(topic) {
        return Ok(option_help(f, topic));
    }
    Err(format!("Unknown command: {topic}"))
}

/// `help <command>`: what it shows, its usage and each argument.
fn command_help(c: &crate::driver::CommandSpec) -> String {
    let arg = c.arg.map_or(String::new(), |a| format!(" <{a}>"));
    let mut out = format!(
        "{}\n  Usage:\n    {}{arg} [n] [focus_regex]* [-ignore_regex]* [-cum] [>file]\n",
        c.help, c.name
    );
    out.push_str(&wrap(c.detail, "  "));
    if let Some(a) = c.arg {
        out.push_str(&format!(
            "    <{a}>{}selects the functions to show (by name)\n",
            pad(a.len() + 2)
        ));
    }
    let (focus, ignore) = if c.filters_tags {
        (
            "keep only samples with a label matching it (tagfocus)",
            "drop samples with a label matching it (tagignore)",
        )
    } else {
        (
            "keep only samples through a frame matching it (focus)",
            "drop samples through a frame matching it (ignore)",
        )
    };
    for (name, what) in [
        ("n", "show at most n nodes (nodecount)"),
        ("focus_regex", focus),
        ("-ignore_regex", ignore),
        ("-cum", "sort by cumulative value (sort=cum)"),
        (">file", "write the report to file instead of the screen"),
    ] {
        out.push_str(&format!("    {name}{}{what}\n", pad(name.len())));
    }
    out
}

/// `help <option>` (or a choice word): its help, what it does, its
/// default and its choices.
fn option_help(f: &options::Field, topic: &str) -> String {
    if f.name != topic {
        return format!(
            "{}\n  Same as {}={topic}.\n",
            options::choice_help(topic),
            f.name
        );
    }
    let mut out = format!("{}\n", f.help);
    out.push_str(&wrap(f.detail, "  "));
    let default = Config::default().get(f.name).unwrap_or_default();
    let default = if default.is_empty() {
        "\"\"".to_string()
    } else {
        default
    };
    out.push_str(&format!("  Default: {}={default}\n", f.name));
    if let Kind::Choice(words) = f.kind {
        out.push_str(&format!("  Choices: {}\n", words.join(" ")));
    }
    out
}

/// Spaces that line argument descriptions up after a name of `len` chars.
fn pad(len: usize) -> String {
    " ".repeat(16usize.saturating_sub(len).max(1))
}

/// Wraps text at 78 columns, each line indented.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > 78 {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and option has help beyond its one line.
    #[test]
    fn every_topic_has_detail() {
        for c in COMMANDS {
            let h = help(c.name).unwrap();
            assert!(
                h.contains("Usage:") && h.lines().count() >= 8,
                "{}: {h}",
                c.name
            );
        }
        for f in options::FIELDS {
            let h = help(f.name).unwrap();
            assert!(h.lines().count() >= 3, "{}: {h}", f.name);
            assert!(h.contains("Default:"), "{}: {h}", f.name);
        }
        assert_eq!(
            help("lines").unwrap(),
            "Aggregate at the source code line level.\n  Same as granularity=lines.\n"
        );
        assert!(help("bogus").is_err());
    }
}
