//! Command-line flags, parsed the way Go's flag package parses pprof's:
//! `-flag` and `--flag`, `-flag=value` and `-flag value`, booleans as
//! `-flag` or `-flag=false`. Flags may also follow the profiles.

use crate::driver::{self, Command, Error, Sources, COMMANDS};
use crate::options::{self, Config, Kind};

/// What the command line asks for.
#[derive(Debug, Default)]
pub struct Invocation {
    pub sources: Sources,
    pub config: Config,
    /// The output command (`-top`, `-list=re`); none means interactive.
    pub command: Option<Command>,
    pub help: bool,
    pub version: bool,
    pub symbolize: String,
    pub seconds: i64,
    pub timeout: i64,
    pub http: String,
    /// `-no_browser`: serve the web UI without opening a browser.
    pub no_browser: bool,
    /// Warnings about the flags, for the caller to show.
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagType {
    Bool,
    Value,
}

/// Flags that are not report options.
const SOURCE_FLAGS: &[(&str, FlagType, &str)] = &[
    (
        "base",
        FlagType::Value,
        "Source of base profile for profile subtraction (repeatable)",
    ),
    (
        "diff_base",
        FlagType::Value,
        "Source of base profile for comparison (repeatable)",
    ),
    (
        "symbolize",
        FlagType::Value,
        "Symbolization: local (default: from the binaries) or none",
    ),
    (
        "buildid",
        FlagType::Value,
        "Override build id for first mapping",
    ),
    (
        "timeout",
        FlagType::Value,
        "Timeout in seconds for fetching a profile",
    ),
    (
        "seconds",
        FlagType::Value,
        "Length of time for dynamic profiles",
    ),
    (
        "add_comment",
        FlagType::Value,
        "Annotation string to record in the profile",
    ),
    (
        "tools",
        FlagType::Value,
        "Path for object tool pathnames (ignored)",
    ),
    (
        "http",
        FlagType::Value,
        "Serve a web UI on [host]:port (host defaults to localhost, port 0 picks a free one)",
    ),
    ("no_browser", FlagType::Bool, "Skip opening a browser (with -http)"),
    (
        "inuse_space",
        FlagType::Bool,
        "Same as -sample_index=inuse_space",
    ),
    (
        "inuse_objects",
        FlagType::Bool,
        "Same as -sample_index=inuse_objects",
    ),
    (
        "alloc_space",
        FlagType::Bool,
        "Same as -sample_index=alloc_space",
    ),
    (
        "alloc_objects",
        FlagType::Bool,
        "Same as -sample_index=alloc_objects",
    ),
    ("total_delay", FlagType::Bool, "Same as -sample_index=delay"),
    (
        "contentions",
        FlagType::Bool,
        "Same as -sample_index=contentions",
    ),
    (
        "mean_delay",
        FlagType::Bool,
        "Same as -mean -sample_index=delay",
    ),
    (
        "max_decompressed_mb",
        FlagType::Value,
        "Refuse profiles of more MB than this once decompressed (default 4096)",
    ),
    (
        "max_memory_mb",
        FlagType::Value,
        "Refuse profiles that need more MB of memory than this to load (default a quarter of physical memory, at most 16384)",
    ),
    (
        "max_samples",
        FlagType::Value,
        "Refuse profiles with more samples than this (default 100000000)",
    ),
    ("help", FlagType::Bool, "Show this help"),
    ("version", FlagType::Bool, "Print rprof's version"),
    ("h", FlagType::Bool, "Show this help"),
];

fn flag_type(name: &str) -> Option<FlagType> {
    if let Some((_, t, _)) = SOURCE_FLAGS.iter().find(|(n, _, _)| *n == name) {
        return Some(*t);
    }
    if let Some(c) = driver::lookup(name) {
        return Some(if c.arg.is_some() {
            FlagType::Value
        } else {
            FlagType::Bool
        });
    }
    let f = options::field(name)?;
    Some(match f.kind {
        Kind::Bool => FlagType::Bool,
        Kind::Choice(_) if f.name != name => FlagType::Bool,
        _ => FlagType::Value,
    })
}

/// The error of a command line without profiles; `main` prints the usage
/// before it, as pprof does.
pub const NO_SOURCE: &str = "no profile source specified";

/// Parses arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Invocation, Error> {
    parse_flags(args).map_err(Error::Usage)
}

fn parse_flags(args: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation {
        seconds: -1,
        timeout: -1,
        ..Default::default()
    };
    let mut positional = Vec::new();
    let mut commands: Vec<Command> = Vec::new();
    let mut choice_words: Vec<(&'static str, String)> = Vec::new();
    let mut legacy_index: Vec<(&str, &str)> = Vec::new();
    let mut plain_bases = 0;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            positional.push(arg.clone());
            continue;
        };
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            if body.is_empty() {
                positional.push(arg.clone());
                continue;
            }
            return Err(format!("bad flag syntax: {arg}"));
        }
        let (name, inline_value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let ty =
            flag_type(name).ok_or_else(|| format!("flag provided but not defined: -{name}"))?;
        let value = match (ty, inline_value) {
            (_, Some(v)) => v,
            (FlagType::Bool, None) => "true".to_string(),
            (FlagType::Value, None) => {
                let v = args
                    .get(i)
                    .ok_or_else(|| format!("flag needs an argument: -{name}"))?;
                i += 1;
                v.clone()
            }
        };
        let as_bool = |v: &str| {
            options::parse_bool(v)
                .ok_or_else(|| format!("invalid boolean value {v:?} for -{name}: parse error"))
        };
        match name {
            "base" => {
                inv.sources.base.push(value);
                plain_bases += 1;
            }
            "diff_base" => {
                inv.sources.base.push(value);
                inv.sources.diff_base = true;
            }
            "symbolize" => {
                inv.sources.symbolize = value.clone();
                inv.symbolize = value;
            }
            "buildid" => inv.sources.build_id = Some(value).filter(|v| !v.is_empty()),
            "timeout" | "seconds" => {
                let n = value.parse::<i64>().map_err(|_| {
                    format!("invalid value {value:?} for flag -{name}: parse error")
                })?;
                if name == "timeout" {
                    inv.timeout = n;
                } else {
                    inv.seconds = n;
                }
            }
            "add_comment" => inv.sources.comment = Some(value).filter(|v| !v.is_empty()),
            "max_decompressed_mb" | "max_memory_mb" | "max_samples" => {
                let n = value.parse::<u64>().map_err(|_| {
                    format!("invalid value {value:?} for flag -{name}: parse error")
                })?;
                let limits = &mut inv.sources.limits;
                if name == "max_samples" {
                    limits.max_samples = usize::try_from(n).unwrap_or(usize::MAX);
                } else if name == "max_memory_mb" {
                    limits.max_memory_bytes = n.saturating_mul(1 << 20);
                    limits.max_expansion = None;
                } else {
                    limits.max_decompressed_bytes = n.saturating_mul(1 << 20);
                }
            }
            "tools" => {}
            "no_browser" => inv.no_browser = as_bool(&value)?,
            "http" => inv.http = value,
            "help" | "h" => inv.help = as_bool(&value)?,
            "version" => inv.version = as_bool(&value)?,
            "inuse_space" | "inuse_objects" | "alloc_space" | "alloc_objects" | "total_delay"
            | "contentions" | "mean_delay" => {
                if as_bool(&value)? {
                    let index = match name {
                        "total_delay" | "mean_delay" => "delay",
                        other => other,
                    };
                    legacy_index.push((index, name));
                    if name == "mean_delay" {
                        inv.config.mean = true;
                    }
                }
            }
            _ if driver::lookup(name).is_some() => {
                let Some(spec) = driver::lookup(name) else {
                    continue;
                };
                let chosen = if spec.arg.is_some() {
                    (!value.is_empty()).then_some(Some(value))
                } else {
                    as_bool(&value)?.then_some(None)
                };
                if let Some(arg) = chosen {
                    commands.retain(|c| c.spec.name != spec.name);
                    commands.push(Command { spec, arg });
                }
            }
            _ => {
                let f = options::field(name)
                    .ok_or_else(|| format!("flag provided but not defined: -{name}"))?;
                if let Kind::Choice(_) = f.kind {
                    if f.name != name {
                        if as_bool(&value)? {
                            choice_words.retain(|(_, w)| w != name);
                            choice_words.push((f.name, name.to_string()));
                        }
                        continue;
                    }
                }
                inv.config
                    .set(name, &value)
                    .map_err(|e| format!("invalid value {value:?} for flag -{name}: {e}"))?;
            }
        }
    }

    // Several words of one group (say -lines -addresses) conflict.
    for group in ["sort", "granularity"] {
        let set: Vec<&String> = choice_words
            .iter()
            .filter(|(g, _)| *g == group)
            .map(|(_, w)| w)
            .collect();
        match set.len() {
            0 => {}
            1 => inv.config.set(group, set[0]).map_err(|e| e.to_string())?,
            _ => {
                let names: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
                return Err(format!("conflicting options set: [{}]", names.join(" ")));
            }
        }
    }
    if commands.len() > 1 {
        return Err("must set at most one output format".into());
    }
    inv.command = commands.pop();
    for (index, flag) in legacy_index {
        if inv.config.sample_index.is_empty() {
            inv.config.sample_index = index.to_string();
        } else {
            inv.warnings
                .push(format!("Multiple value selections, ignoring -{flag}"));
        }
    }
    if inv.help || inv.version {
        return Ok(inv);
    }
    if positional.is_empty() {
        return Err(NO_SOURCE.into());
    }
    // The binary is recognised by its content (ELF, Mach-O, PE), so it may
    // stand anywhere among several arguments: `rprof ./yourapp current.heap`
    // and `rprof current.heap ./yourapp` alike. A first argument that is a
    // hex build id also names the binary, as in pprof.
    if positional.len() > 1 {
        if let Some(i) = positional.iter().position(|a| driver::is_object_file(a)) {
            if i != 0 {
                inv.warnings.push(format!(
                    "rprof: {} is a binary, not a profile: using it as the binary",
                    positional[i]
                ));
            }
            inv.sources.exec_name = Some(positional.remove(i));
        } else if inv.sources.build_id.is_none() && driver::is_build_id(&positional[0]) {
            inv.sources.build_id = Some(positional.remove(0));
        }
    }
    if inv.sources.diff_base && plain_bases > 0 {
        return Err("-base and -diff_base flags cannot both be specified".into());
    }
    inv.sources.sources = positional;
    inv.sources.seconds = inv.seconds;
    inv.sources.timeout = inv.timeout;
    inv.sources.normalize = inv.config.normalize;
    if inv.sources.normalize && inv.sources.base.is_empty() {
        return Err("must have base profile to normalize by".into());
    }
    Ok(inv)
}

/// `rprof -help`.
pub fn usage() -> String {
    let mut out = String::from(
        "usage:\n\n\
         Produce output in the specified format.\n\n   \
         rprof <format> [options] [binary] <source> ...\n\n\
         Omit the format to get an interactive shell whose commands can be used\n\
         to generate various views of a profile.\n\n   \
         rprof [options] [binary] <source> ...\n\n\
         Flags are written -flag or --flag, with values as -flag=value or -flag value.\n\n  \
         Output formats (select at most one):\n",
    );
    for c in COMMANDS {
        let n = match c.arg {
            Some(arg) => format!("-{}={arg}", c.name),
            None => format!("-{}", c.name),
        };
        out.push_str(&format!("    {n:<22}{}\n", c.help));
    }
    out.push_str("\n  Options:\n");
    for f in options::FIELDS {
        match f.kind {
            Kind::Choice(words) => {
                for w in words {
                    out.push_str(&format!("    -{w:<21}{}\n", options::choice_help(w)));
                }
            }
            _ => out.push_str(&format!("    -{:<21}{}\n", f.name, f.help)),
        }
    }
    out.push_str("\n  Source options:\n");
    for (name, _, help) in SOURCE_FLAGS {
        out.push_str(&format!("    -{name:<21}{help}\n"));
    }
    out.push_str(
        "\n  Environment:\n    \
         PPROF_BINARY_PATH    Search path for local binary files\n                      default: $HOME/pprof/binaries\n",
    );
    out.push_str("    PPROF_TMPDIR         Location for saved profiles (default $HOME/pprof)\n");
    out.push_str(
        "    RPROF_NO_GRAPHVIZ    Set to 1 to draw svg/web/png/pdf graphs without Graphviz's dot\n    \
         BROWSER              Browser command(s) for web, `:`-separated\n",
    );
    out.push_str(
        "\n  A source is a profile file or a URL (http://host:port/debug/pprof/heap);\n  \
         host:port alone fetches the CPU profile. Fetched profiles are saved.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn go_flag_spellings() {
        for line in [
            "-top -nodecount=5 a.pb",
            "--top --nodecount 5 a.pb",
            "-top -nodecount 5 a.pb",
            "a.pb --top -nodecount=5",
        ] {
            let inv = parse(&args(line)).expect(line);
            assert_eq!(inv.command.as_ref().map(|c| c.name()), Some("top"));
            assert_eq!(inv.config.nodecount, 5, "{line}");
            assert_eq!(inv.sources.sources, vec!["a.pb"]);
        }
    }

    #[test]
    fn bases_and_choices() {
        let inv = parse(&args(
            "-top -base b1 --base=b2 -cum -lines -inuse_objects c",
        ))
        .unwrap();
        assert_eq!(inv.sources.base, vec!["b1", "b2"]);
        assert_eq!(inv.config.sort, options::Sort::Cum);
        assert_eq!(inv.config.granularity, options::Granularity::Lines);
        assert_eq!(inv.config.sample_index, "inuse_objects");
        assert!(parse(&args("-top -lines -addresses c")).is_err());
        assert!(parse(&args("-top -list=x c")).is_err());
        assert!(parse(&args("-bogus c")).is_err());
        let inv = parse(&args("-list main c")).unwrap();
        assert_eq!(inv.command.unwrap().arg.as_deref(), Some("main"));
    }
}
