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
        let arg = c.arg.map_or(String::new(), |a| format!(" <{a}>"));
        let usage = format!(
            "{}{arg} [n] [-cum] [focus_regex]* [-ignore_regex]* [>file]",
            c.name
        );
        return Ok(format!("{}\nUsage:\n  {usage}\n", c.help));
    }
    if let Some(f) = options::field(topic) {
        let h = if f.name == topic {
            f.help
        } else {
            options::choice_help(topic)
        };
        return Ok(format!("{h}\n"));
    }
    Err(format!("Unknown command: {topic}"))
}
