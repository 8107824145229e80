//! Parsing what the user types at the prompt, the way pprof's shell does:
//! `name=value` option assignments, shortcuts (`:`, sample type names),
//! and report commands with their arguments (`top5 -cum main > out.txt`).

use crate::driver::{self, Command};
use crate::options::{self, Config, Kind, Sort};
use crate::profile::Profile;

/// What one input line asks for.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Nothing (an empty line, or a handled assignment).
    Nothing,
    /// Set (or reset, when the value is empty) an option.
    Set { name: String, value: String },
    /// Show the options.
    Options,
    /// Leave the shell.
    Quit,
    /// Help, on everything or on one command or option.
    Help(String),
    /// Generate a report with a one-off copy of the configuration.
    Report {
        command: Command,
        config: Box<Config>,
    },
}

/// Expands shortcuts: `:` clears the filters; a sample type name selects
/// it, `mean_<type>`/`total_<type>` also set `mean`.
pub fn expand_shortcuts(p: &Profile, input: &str) -> Vec<String> {
    let input = input.trim();
    if input == ":" {
        return ["focus=", "ignore=", "hide=", "tagfocus=", "tagignore="]
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    for t in p.sample_type_names() {
        let select = format!("sample_index={t}");
        if input == t {
            return vec![select];
        }
        if input.strip_prefix("total_") == Some(t) {
            return vec!["mean=0".into(), select];
        }
        if input.strip_prefix("mean_") == Some(t) {
            return vec!["mean=1".into(), select];
        }
    }
    vec![input.to_string()]
}

/// Whether a name is an option (or a choice word) the shell can set.
pub fn is_configurable(name: &str) -> bool {
    options::field(name).is_some()
}

fn is_bool_config(name: &str) -> bool {
    options::field(name).is_some_and(|f| match f.kind {
        Kind::Bool => true,
        Kind::Choice(_) => f.name != name,
        _ => false,
    })
}

/// Parses one (shortcut-expanded) line. Errors are the one-line messages
/// the shell prints before going on.
pub fn parse_line(p: &Profile, cfg: &Config, input: &str) -> Result<Action, String> {
    let (name, value) = match input.split_once('=') {
        Some((n, v)) => {
            // `//:` starts a comment, as in `o`'s listing.
            let v = v.rfind("//:").map_or(v, |c| &v[..c]);
            (n.trim(), Some(v.trim()))
        }
        None => (input.trim(), None),
    };
    if is_configurable(name) {
        if value.is_none() && !is_bool_config(name) {
            return Err(format!("please specify a value, e.g. {name}=<val>"));
        }
        let mut value = value.unwrap_or("true").to_string();
        if name == "sample_index" {
            // Stored by type name, so it stays right if indexes differ.
            let i = p.sample_index(&value)?;
            value = p.str(p.sample_types[i].ty).to_string();
        }
        return Ok(Action::Set {
            name: name.to_string(),
            value,
        });
    }
    let tokens: Vec<&str> = input.split_whitespace().collect();
    let Some(&first) = tokens.first() else {
        return Ok(Action::Nothing);
    };
    match first {
        "o" | "options" => return Ok(Action::Options),
        "exit" | "quit" | "q" => return Ok(Action::Quit),
        "help" => return Ok(Action::Help(tokens[1..].join(" "))),
        _ => {}
    }
    parse_command(cfg, &tokens)
}

/// A report command and its arguments: a node count (`top 5` or `top5`),
/// `-cum`, `> file`, focus regexes and `-`ignore regexes.
fn parse_command(cfg: &Config, tokens: &[&str]) -> Result<Action, String> {
    let mut name = tokens[0].to_string();
    let mut args: Vec<String> = tokens[1..].iter().map(|s| s.to_string()).collect();
    let mut found = driver::lookup(&name);
    if found.is_none() {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && digits < name.len() {
            let d = name.split_off(name.len() - digits);
            args.insert(0, d);
            found = driver::lookup(&name);
        }
    }
    let Some(spec) = found else {
        if is_configurable(&name) {
            let value = args.first().map_or("<val>", |s| s.as_str());
            return Err(format!("did you mean: {name}={value}"));
        }
        return Err(format!("unrecognized command: {name:?}"));
    };
    let mut arg = None;
    if spec.arg.is_some() {
        if args.is_empty() {
            return Err(format!("command {} requires an argument", spec.name));
        }
        arg = Some(args.remove(0));
    }
    let mut config = cfg.clone();
    let (mut focus, mut ignore) = (String::new(), String::new());
    let mut i = 0;
    while i < args.len() {
        let t = &args[i];
        i += 1;
        if let Ok(n) = t.parse::<i32>() {
            config.nodecount = n as i64;
            continue;
        }
        if let Some(file) = t.strip_prefix('>') {
            let file = if file.is_empty() {
                let f = args.get(i).ok_or("unexpected end of line after >")?;
                i += 1;
                f.clone()
            } else {
                file.to_string()
            };
            config.output = file;
        } else if let Some(rest) = t.strip_prefix('-') {
            if t == "-cum" || t == "--cum" {
                config.sort = Sort::Cum;
                continue;
            }
            cat_regex(&mut ignore, rest);
        } else {
            cat_regex(&mut focus, t);
        }
    }
    if spec.filters_tags {
        if !focus.is_empty() {
            config.tagfocus = focus;
        }
        if !ignore.is_empty() {
            config.tagignore = ignore;
        }
    } else {
        if !focus.is_empty() {
            config.focus = focus;
        }
        if !ignore.is_empty() {
            config.ignore = ignore;
        }
    }
    if let (-1, Some(n)) = (config.nodecount, spec.shell_nodecount) {
        config.nodecount = n;
    }
    Ok(Action::Report {
        command: Command { spec, arg },
        config: Box::new(config),
    })
}

fn cat_regex(acc: &mut String, re: &str) {
    if !acc.is_empty() && !re.is_empty() {
        acc.push('|');
    }
    acc.push_str(re);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let mut p = Profile::default();
        let ty = p.strings.intern("inuse_space");
        let unit = p.strings.intern("bytes");
        p.sample_types.push(crate::profile::ValueType { ty, unit });
        p
    }

    fn report(line: &str) -> (Command, Config) {
        match parse_line(&profile(), &Config::default(), line) {
            Ok(Action::Report { command, config }) => (command, *config),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn top_forms() {
        let (c, cfg) = report("top");
        assert_eq!(c.name(), "top");
        assert_eq!(cfg.nodecount, 10);
        let (_, cfg) = report("top5 -cum");
        assert_eq!((cfg.nodecount, cfg.sort), (5, Sort::Cum));
        let (_, cfg) = report("top 3 main -runtime >out.txt");
        assert_eq!(cfg.nodecount, 3);
        assert_eq!(cfg.focus, "main");
        assert_eq!(cfg.ignore, "runtime");
        assert_eq!(cfg.output, "out.txt");
        let (c, _) = report("list main.handle");
        assert_eq!(c.arg.as_deref(), Some("main.handle"));
    }

    #[test]
    fn assignments_and_errors() {
        let p = profile();
        let cfg = Config::default();
        assert_eq!(
            parse_line(&p, &cfg, "nodecount = 5"),
            Ok(Action::Set {
                name: "nodecount".into(),
                value: "5".into()
            })
        );
        assert_eq!(
            parse_line(&p, &cfg, "cum"),
            Ok(Action::Set {
                name: "cum".into(),
                value: "true".into()
            })
        );
        assert_eq!(
            parse_line(&p, &cfg, "nodecount"),
            Err("please specify a value, e.g. nodecount=<val>".into())
        );
        assert_eq!(
            parse_line(&p, &cfg, "bogus"),
            Err("unrecognized command: \"bogus\"".into())
        );
        assert_eq!(
            parse_line(&p, &cfg, "list"),
            Err("command list requires an argument".into())
        );
        assert!(parse_line(&p, &cfg, "sample_index=7").is_err());
        assert_eq!(expand_shortcuts(&p, ":").len(), 5);
        assert_eq!(
            expand_shortcuts(&p, "inuse_space"),
            vec!["sample_index=inuse_space"]
        );
    }
}
