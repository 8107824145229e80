//! Report options: one struct for the command line (`-nodecount=5`) and the
//! shell (`nodecount=5`), set through one parser so both validate alike.
//!
//! Every option is declared once, in the `options!` table below: its field,
//! type, default and help. Parsing, display (`o`), reset and completion all
//! come from that one line. Choice options (`sort`, `granularity`) are
//! enums whose words are also boolean flags of their own (`-cum`, `lines`).

use std::fmt;

/// What is wrong with an option assignment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unrecognized option {0:?}")]
    Unknown(String),
    #[error("invalid boolean value {value:?} for {name}")]
    Bool { name: String, value: String },
    #[error("invalid integer value {value:?} for {name}")]
    Int { name: String, value: String },
    #[error("invalid float value {value:?} for {name}")]
    Float { name: String, value: String },
    #[error("invalid {name:?} value {value:?}")]
    Choice { name: &'static str, value: String },
}

/// The type of an option's value, for help, completion and flag parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Str,
    /// One of fixed words; each word is also a boolean flag of its own.
    Choice(&'static [&'static str]),
}

/// A value an option can hold: how it is parsed from and shown as text.
pub trait OptionValue: Sized {
    const KIND: Kind;
    fn parse(name: &str, text: &str) -> Result<Self, OptionError>;
    fn show(&self) -> String;
}

impl OptionValue for bool {
    const KIND: Kind = Kind::Bool;
    fn parse(name: &str, text: &str) -> Result<Self, OptionError> {
        parse_bool(text).ok_or_else(|| OptionError::Bool {
            name: name.into(),
            value: text.into(),
        })
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl OptionValue for i64 {
    const KIND: Kind = Kind::Int;
    fn parse(name: &str, text: &str) -> Result<Self, OptionError> {
        text.parse().map_err(|_| OptionError::Int {
            name: name.into(),
            value: text.into(),
        })
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl OptionValue for f64 {
    const KIND: Kind = Kind::Float;
    fn parse(name: &str, text: &str) -> Result<Self, OptionError> {
        text.parse().map_err(|_| OptionError::Float {
            name: name.into(),
            value: text.into(),
        })
    }
    fn show(&self) -> String {
        format_float(*self)
    }
}

impl OptionValue for String {
    const KIND: Kind = Kind::Str;
    fn parse(_: &str, text: &str) -> Result<Self, OptionError> {
        Ok(text.to_string())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

/// Declares a choice enum: its words (pprof's spelling) and their help.
macro_rules! choice {
    ($(#[$doc:meta])* $ty:ident, $opt:literal { $($variant:ident = $word:literal, $help:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $ty { $($variant),* }

        impl $ty {
            /// Every word with its value and help, in pprof's order.
            pub const WORDS: &'static [(&'static str, $ty, &'static str)] =
                &[$(($word, $ty::$variant, $help)),*];
            const NAMES: &'static [&'static str] = &[$($word),*];

            pub fn word(self) -> &'static str {
                match self { $($ty::$variant => $word),* }
            }
        }

        impl OptionValue for $ty {
            const KIND: Kind = Kind::Choice($ty::NAMES);
            fn parse(_: &str, text: &str) -> Result<Self, OptionError> {
                $ty::WORDS
                    .iter()
                    .find(|(w, _, _)| *w == text)
                    .map(|(_, v, _)| *v)
                    .ok_or_else(|| OptionError::Choice { name: $opt, value: text.into() })
            }
            fn show(&self) -> String {
                self.word().to_string()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.word())
            }
        }
    };
}

choice!(
    /// Which value orders report rows.
    Sort, "sort" {
        Cum = "cum", "Sort entries based on cumulative weight";
        Flat = "flat", "Sort entries based on own weight";
    }
);

choice!(
    /// What a report node stands for.
    Granularity, "granularity" {
        Functions = "functions", "Aggregate at the function level.";
        FileFunctions = "filefunctions", "Aggregate at the function level.";
        Files = "files", "Aggregate at the file level.";
        Lines = "lines", "Aggregate at the source code line level.";
        Addresses = "addresses", "Aggregate at the address level.";
    }
);

/// One option: its name, type and help line.
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// One line, for `o`, `help` and `-help`.
    pub help: &'static str,
    /// More, for `help <option>`.
    pub detail: &'static str,
}

/// Declares every option once: the `Config` struct, its defaults, the
/// `FIELDS` table and the by-name accessors are all generated from it.
macro_rules! options {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $default:expr, $help:literal, $detail:literal;)*) => {
        /// The report configuration, with pprof's defaults.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Config {
            $($(#[$doc])* pub $name: $ty,)*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $($name: $default,)* }
            }
        }

        /// Every report option, in pprof's order.
        pub const FIELDS: &[Field] = &[
            $(Field {
                name: stringify!($name),
                kind: <$ty as OptionValue>::KIND,
                help: $help,
                detail: $detail,
            },)*
        ];

        impl Config {
            /// Sets the option called exactly `name` (not a choice word).
            fn set_named(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
                match name {
                    $(stringify!($name) => self.$name = OptionValue::parse(name, value)?,)*
                    _ => return Err(OptionError::Unknown(name.into())),
                }
                Ok(())
            }

            /// The current value of the option called exactly `name`.
            fn get_named(&self, name: &str) -> Option<String> {
                match name {
                    $(stringify!($name) => Some(self.$name.show()),)*
                    _ => None,
                }
            }

            /// Restores the default of the option called exactly `name`.
            fn reset_named(&mut self, name: &str) -> Result<(), OptionError> {
                let d = Config::default();
                match name {
                    $(stringify!($name) => self.$name = d.$name,)*
                    _ => return Err(OptionError::Unknown(name.into())),
                }
                Ok(())
            }
        }
    };
}

options! {
    output: String = String::new(), "Output filename for file-based outputs",
        "Writes reports to this file instead of the screen (the shell's '> file' does this for one command).";
    call_tree: bool = false, "Create a context-sensitive call tree",
        "Builds graphs keeping each calling context apart: a function reached through two different paths is drawn twice.";
    relative_percentages: bool = false, "Show percentages relative to focused subgraph",
        "With focus/ignore/hide/show, percentages are of the remaining samples' total instead of the whole profile's.";
    unit: String = "minimum".into(), "Measurement units to display",
        "Scales values to this unit: minimum (the largest unit keeping values at least 1), auto, or a unit such as B, kB, MB, GB, ns, us, ms, s.";
    compact_labels: bool = false, "Show minimal headers",
        "Leaves the File/Type/Time lines out of report headers.";
    source_path: String = String::new(), "Search path for source files",
        "Directories (separated by ':') searched for source files by list, after trim_path is removed from the recorded paths.";
    trim_path: String = String::new(), "Path to trim from source paths before search",
        "A prefix removed from recorded source paths before searching source_path (for profiles built on another machine).";
    intel_syntax: bool = false, "Show assembly in Intel syntax",
        "Shows assembly in Intel syntax instead of AT&T.";
    mean: bool = false, "Average sample value over first value (count)",
        "Divides each value by the sample count (the first value): the average per event, e.g. mean delay per contention.";
    /// A sample type name or index; empty: the profile's default.
    sample_index: String = String::new(), "Sample value to report (0-based index or name)",
        "Profiles carry several values per sample (heap: alloc_objects alloc_space inuse_objects inuse_space). Select one by its 0-based index or its name; the bare name also works as a command.";
    divide_by: f64 = 1.0, "Ratio to divide all samples before visualization",
        "Divides every value by this number before showing it.";
    normalize: bool = false, "Scales profile based on the base profile.",
        "Scales the profile so that its total equals the base's before subtracting the base (-base).";
    sort: Sort = Sort::Flat, "Sort entries by cum or flat value",
        "flat orders entries by their own value, cum by the value including callees; the words cum and flat also work alone.";
    tagroot: String = String::new(), "Adds pseudo stack frames for labels key/value pairs at the callstack root.",
        "Comma-separated label keys: each sample gets a frame per key at the root of its stack, named after its values of that key (numeric values in the display unit), the first key outermost.";
    tagleaf: String = String::new(), "Adds pseudo stack frames for labels key/value pairs at the callstack leaf.",
        "Comma-separated label keys: each sample gets a frame per key at the leaf end of its stack, named after its values of that key, the last key innermost.";
    drop_negative: bool = false, "Ignore negative differences",
        "Leaves out nodes whose value is negative (shrinkage in a profile with a base subtracted).";
    /// -1 means the report's default (all for text, 80 for graphs).
    nodecount: i64 = -1, "Max number of nodes to show",
        "Keeps at most this many nodes (the heaviest); -1 means each report's default: all for top, 80 for graphs. Graphs draw dotted edges through dropped nodes.";
    nodefraction: f64 = 0.005, "Hide nodes below <f>*total",
        "Drops nodes whose value is below this fraction of the total (with trim).";
    edgefraction: f64 = 0.001, "Hide edges below <f>*total",
        "Drops edges whose value is below this fraction of the total (with trim).";
    trim: bool = true, "Honor nodefraction/edgefraction/nodecount defaults",
        "When false, nodecount, nodefraction and edgefraction are ignored and every node and edge is kept.";
    focus: String = String::new(), "Restricts to samples going through a node matching regexp",
        "Keeps only samples with a frame matching the regexp (function name, file name or binary name).";
    ignore: String = String::new(), "Skips paths going through any nodes matching regexp",
        "Drops samples with a frame matching the regexp.";
    prune_from: String = String::new(), "Drops any functions below the matched frame.",
        "Cuts every stack below the first frame matching the regexp (the callees of matching functions disappear).";
    hide: String = String::new(), "Skips nodes matching regexp",
        "Removes frames matching the regexp from stacks; their values go to their callers.";
    show: String = String::new(), "Only show nodes matching regexp",
        "Keeps only frames matching the regexp in stacks; the others' values go to the nearest shown caller.";
    show_from: String = String::new(), "Drops functions above the highest matched frame.",
        "Cuts every stack above the last (outermost) frame matching the regexp.";
    tagfocus: String = String::new(), "Restricts to samples with tags in range or matched by regexp",
        "Keeps only samples whose labels match: a regexp over values (key=regexp for one key), or a range of numeric values such as 1kB:10MB.";
    tagignore: String = String::new(), "Discard samples with tags in range or matched by regexp",
        "Drops samples whose labels match (same forms as tagfocus).";
    tagshow: String = String::new(), "Only consider tags matching this regexp",
        "Shows only label keys matching the regexp in tags and graph label boxes.";
    taghide: String = String::new(), "Skip tags matching this regexp",
        "Hides label keys matching the regexp in tags and graph label boxes.";
    noinlines: bool = false, "Ignore inlines.",
        "Attributes inlined functions to the function they were inlined into.";
    granularity: Granularity = Granularity::Functions, "Granularity of the report",
        "What a node stands for: functions, filefunctions (function and file), files, lines or addresses; each word also works alone.";
}

/// Help for the words of choice options, shown where they are listed.
pub fn choice_help(word: &str) -> &'static str {
    Sort::WORDS
        .iter()
        .map(|(w, _, h)| (*w, *h))
        .chain(Granularity::WORDS.iter().map(|(w, _, h)| (*w, *h)))
        .find(|(w, _)| *w == word)
        .map_or("", |(_, h)| h)
}

/// Finds an option by name, or by one of its choice words.
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|f| f.name == name || matches!(f.kind, Kind::Choice(words) if words.contains(&name)))
}

/// Parses a boolean the way Go's strconv.ParseBool does.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl Config {
    /// Sets an option from text: `granularity=lines`, or a choice word as a
    /// boolean flag (`lines=true`; `lines=false` changes nothing).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
        let f = field(name).ok_or_else(|| OptionError::Unknown(name.into()))?;
        if f.name == name {
            return self.set_named(name, value);
        }
        match bool::parse(name, value)? {
            true => self.set_named(f.name, name),
            false => Ok(()),
        }
    }

    /// The current value of an option (or of a choice word's option) as text.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_named(field(name)?.name)
    }

    /// Restores an option's default.
    pub fn reset(&mut self, name: &str) -> Result<(), OptionError> {
        let f = field(name).ok_or_else(|| OptionError::Unknown(name.into()))?;
        self.reset_named(f.name)
    }
}

/// Go's `fmt.Sprint` of a float64 (`0.005`, `1`, `1e-06`).
pub fn format_float(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e21) {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", e.abs());
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_get() {
        let mut c = Config::default();
        c.set("nodecount", "5").unwrap();
        c.set("lines", "true").unwrap();
        c.set("cum", "true").unwrap();
        c.set("focus", "main").unwrap();
        assert_eq!(c.nodecount, 5);
        assert_eq!(c.granularity, Granularity::Lines);
        assert_eq!(c.sort, Sort::Cum);
        assert_eq!(c.get("nodefraction").as_deref(), Some("0.005"));
        assert_eq!(c.get("lines").as_deref(), Some("lines"));
        assert!(c.set("granularity", "bogus").is_err());
        assert!(c.set("nodecount", "x").is_err());
        c.reset("focus").unwrap();
        assert_eq!(c.focus, "");
        assert_eq!(format_float(1e-6), "1e-06");
    }

    /// Each option writes its own field and no other.
    #[test]
    fn every_option_sets_only_itself() {
        for f in FIELDS {
            let value = match f.kind {
                Kind::Bool => "true",
                Kind::Int => "7",
                Kind::Float => "0.25",
                Kind::Str => "xyz",
                Kind::Choice(words) => words[words.len() - 1],
            };
            let mut c = Config::default();
            // Defaults equal to the probe value would hide a wrong write.
            if c.get(f.name).as_deref() == Some(value) {
                continue;
            }
            c.set(f.name, value).unwrap();
            for g in FIELDS {
                let changed = c.get(g.name) != Config::default().get(g.name);
                assert_eq!(
                    changed,
                    g.name == f.name,
                    "setting {} changed {}",
                    f.name,
                    g.name
                );
            }
            c.reset(f.name).unwrap();
            assert_eq!(c, Config::default(), "reset {}", f.name);
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        let mut c = Config::default();
        assert_eq!(
            c.set("bogus", "1"),
            Err(OptionError::Unknown("bogus".into()))
        );
        assert!(c.reset("bogus").is_err());
        assert_eq!(c.get("bogus"), None);
    }
}
