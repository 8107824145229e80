//! Report options: one struct for the command line (`-nodecount=5`) and the
//! shell (`nodecount=5`), set through one parser so both validate alike.

/// The report configuration, with pprof's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub output: String,
    pub call_tree: bool,
    pub relative_percentages: bool,
    pub unit: String,
    pub compact_labels: bool,
    pub source_path: String,
    pub trim_path: String,
    pub intel_syntax: bool,
    pub mean: bool,
    pub sample_index: String,
    pub divide_by: f64,
    pub normalize: bool,
    /// "flat" or "cum".
    pub sort: String,
    pub tagroot: String,
    pub tagleaf: String,
    pub drop_negative: bool,
    /// -1 means the report's default (all for text, 80 for graphs).
    pub nodecount: i64,
    pub nodefraction: f64,
    pub edgefraction: f64,
    pub trim: bool,
    pub focus: String,
    pub ignore: String,
    pub prune_from: String,
    pub hide: String,
    pub show: String,
    pub show_from: String,
    pub tagfocus: String,
    pub tagignore: String,
    pub tagshow: String,
    pub taghide: String,
    pub noinlines: bool,
    /// functions, filefunctions, files, lines or addresses.
    pub granularity: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            output: String::new(),
            call_tree: false,
            relative_percentages: false,
            unit: "minimum".into(),
            compact_labels: false,
            source_path: String::new(),
            trim_path: String::new(),
            intel_syntax: false,
            mean: false,
            sample_index: String::new(),
            divide_by: 1.0,
            normalize: false,
            sort: "flat".into(),
            tagroot: String::new(),
            tagleaf: String::new(),
            drop_negative: false,
            nodecount: -1,
            nodefraction: 0.005,
            edgefraction: 0.001,
            trim: true,
            focus: String::new(),
            ignore: String::new(),
            prune_from: String::new(),
            hide: String::new(),
            show: String::new(),
            show_from: String::new(),
            tagfocus: String::new(),
            tagignore: String::new(),
            tagshow: String::new(),
            taghide: String::new(),
            noinlines: false,
            granularity: "functions".into(),
        }
    }
}

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Str,
    /// One of fixed words; each word is also a boolean flag of its own.
    Choice(&'static [&'static str]),
}

/// One option: its name, type and help line.
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

pub const SORT_CHOICES: &[&str] = &["cum", "flat"];
pub const GRANULARITIES: &[&str] = &["functions", "filefunctions", "files", "lines", "addresses"];

/// Every report option, in pprof's order.
pub const FIELDS: &[Field] = &[
    Field {
        name: "output",
        kind: Kind::Str,
        help: "Output filename for file-based outputs",
    },
    Field {
        name: "call_tree",
        kind: Kind::Bool,
        help: "Create a context-sensitive call tree",
    },
    Field {
        name: "relative_percentages",
        kind: Kind::Bool,
        help: "Show percentages relative to focused subgraph",
    },
    Field {
        name: "unit",
        kind: Kind::Str,
        help: "Measurement units to display",
    },
    Field {
        name: "compact_labels",
        kind: Kind::Bool,
        help: "Show minimal headers",
    },
    Field {
        name: "source_path",
        kind: Kind::Str,
        help: "Search path for source files",
    },
    Field {
        name: "trim_path",
        kind: Kind::Str,
        help: "Path to trim from source paths before search",
    },
    Field {
        name: "intel_syntax",
        kind: Kind::Bool,
        help: "Show assembly in Intel syntax",
    },
    Field {
        name: "mean",
        kind: Kind::Bool,
        help: "Average sample value over first value (count)",
    },
    Field {
        name: "sample_index",
        kind: Kind::Str,
        help: "Sample value to report (0-based index or name)",
    },
    Field {
        name: "divide_by",
        kind: Kind::Float,
        help: "Ratio to divide all samples before visualization",
    },
    Field {
        name: "normalize",
        kind: Kind::Bool,
        help: "Scales profile based on the base profile.",
    },
    Field {
        name: "sort",
        kind: Kind::Choice(SORT_CHOICES),
        help: "Sort entries by cum or flat value",
    },
    Field {
        name: "tagroot",
        kind: Kind::Str,
        help: "Adds pseudo stack frames for labels key/value pairs at the callstack root.",
    },
    Field {
        name: "tagleaf",
        kind: Kind::Str,
        help: "Adds pseudo stack frames for labels key/value pairs at the callstack leaf.",
    },
    Field {
        name: "drop_negative",
        kind: Kind::Bool,
        help: "Ignore negative differences",
    },
    Field {
        name: "nodecount",
        kind: Kind::Int,
        help: "Max number of nodes to show",
    },
    Field {
        name: "nodefraction",
        kind: Kind::Float,
        help: "Hide nodes below <f>*total",
    },
    Field {
        name: "edgefraction",
        kind: Kind::Float,
        help: "Hide edges below <f>*total",
    },
    Field {
        name: "trim",
        kind: Kind::Bool,
        help: "Honor nodefraction/edgefraction/nodecount defaults",
    },
    Field {
        name: "focus",
        kind: Kind::Str,
        help: "Restricts to samples going through a node matching regexp",
    },
    Field {
        name: "ignore",
        kind: Kind::Str,
        help: "Skips paths going through any nodes matching regexp",
    },
    Field {
        name: "prune_from",
        kind: Kind::Str,
        help: "Drops any functions below the matched frame.",
    },
    Field {
        name: "hide",
        kind: Kind::Str,
        help: "Skips nodes matching regexp",
    },
    Field {
        name: "show",
        kind: Kind::Str,
        help: "Only show nodes matching regexp",
    },
    Field {
        name: "show_from",
        kind: Kind::Str,
        help: "Drops functions above the highest matched frame.",
    },
    Field {
        name: "tagfocus",
        kind: Kind::Str,
        help: "Restricts to samples with tags in range or matched by regexp",
    },
    Field {
        name: "tagignore",
        kind: Kind::Str,
        help: "Discard samples with tags in range or matched by regexp",
    },
    Field {
        name: "tagshow",
        kind: Kind::Str,
        help: "Only consider tags matching this regexp",
    },
    Field {
        name: "taghide",
        kind: Kind::Str,
        help: "Skip tags matching this regexp",
    },
    Field {
        name: "noinlines",
        kind: Kind::Bool,
        help: "Ignore inlines.",
    },
    Field {
        name: "granularity",
        kind: Kind::Choice(GRANULARITIES),
        help: "Granularity of the report",
    },
];

/// Help for the words of choice options, shown where they are listed.
pub fn choice_help(word: &str) -> &'static str {
    match word {
        "cum" => "Sort entries based on cumulative weight",
        "flat" => "Sort entries based on own weight",
        "functions" => "Aggregate at the function level.",
        "filefunctions" => "Aggregate at the function level.",
        "files" => "Aggregate at the file level.",
        "lines" => "Aggregate at the source code line level.",
        "addresses" => "Aggregate at the address level.",
        _ => "",
    }
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
    /// Sets an option from text; the error says what is wrong with it.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let f = field(name).ok_or_else(|| format!("unrecognized option {name:?}"))?;
        if let Kind::Choice(words) = f.kind {
            // `granularity=lines`, or the word itself as a flag: `lines=true`.
            let word = if f.name == name {
                value
            } else {
                match parse_bool(value) {
                    Some(true) => name,
                    Some(false) => return Ok(()),
                    None => return Err(format!("invalid boolean value {value:?} for {name}")),
                }
            };
            if !words.contains(&word) {
                return Err(format!("invalid {:?} value {word:?}", f.name));
            }
            *self.str_mut(f.name) = word.to_string();
            return Ok(());
        }
        match f.kind {
            Kind::Bool => {
                let b = parse_bool(value)
                    .ok_or_else(|| format!("invalid boolean value {value:?} for {name}"))?;
                *self.bool_mut(name) = b;
            }
            Kind::Int => {
                let v = value
                    .parse::<i64>()
                    .map_err(|_| format!("invalid integer value {value:?} for {name}"))?;
                self.nodecount = v;
            }
            Kind::Float => {
                let v = value
                    .parse::<f64>()
                    .map_err(|_| format!("invalid float value {value:?} for {name}"))?;
                match name {
                    "divide_by" => self.divide_by = v,
                    "nodefraction" => self.nodefraction = v,
                    _ => self.edgefraction = v,
                }
            }
            Kind::Str => *self.str_mut(name) = value.to_string(),
            Kind::Choice(_) => {}
        }
        Ok(())
    }

    /// The current value of an option as text.
    pub fn get(&self, name: &str) -> String {
        let Some(f) = field(name) else {
            return String::new();
        };
        match f.kind {
            // The setters' field tables serve reads too, on a copy.
            Kind::Bool => self.clone().bool_mut(f.name).to_string(),
            Kind::Int => self.nodecount.to_string(),
            Kind::Float => format_float(match f.name {
                "divide_by" => self.divide_by,
                "nodefraction" => self.nodefraction,
                _ => self.edgefraction,
            }),
            Kind::Str | Kind::Choice(_) => self.clone().str_mut(f.name).clone(),
        }
    }

    /// Restores an option's default.
    pub fn reset(&mut self, name: &str) -> Result<(), String> {
        let f = field(name).ok_or_else(|| format!("unrecognized option {name:?}"))?;
        let def = Config::default().get(f.name);
        self.set(f.name, &def)
    }

    fn bool_mut(&mut self, name: &str) -> &mut bool {
        match name {
            "call_tree" => &mut self.call_tree,
            "relative_percentages" => &mut self.relative_percentages,
            "compact_labels" => &mut self.compact_labels,
            "intel_syntax" => &mut self.intel_syntax,
            "mean" => &mut self.mean,
            "normalize" => &mut self.normalize,
            "drop_negative" => &mut self.drop_negative,
            "trim" => &mut self.trim,
            _ => &mut self.noinlines,
        }
    }

    fn str_mut(&mut self, name: &str) -> &mut String {
        match name {
            "output" => &mut self.output,
            "unit" => &mut self.unit,
            "source_path" => &mut self.source_path,
            "trim_path" => &mut self.trim_path,
            "sample_index" => &mut self.sample_index,
            "sort" => &mut self.sort,
            "tagroot" => &mut self.tagroot,
            "tagleaf" => &mut self.tagleaf,
            "focus" => &mut self.focus,
            "ignore" => &mut self.ignore,
            "prune_from" => &mut self.prune_from,
            "hide" => &mut self.hide,
            "show" => &mut self.show,
            "show_from" => &mut self.show_from,
            "tagfocus" => &mut self.tagfocus,
            "tagignore" => &mut self.tagignore,
            "tagshow" => &mut self.tagshow,
            "taghide" => &mut self.taghide,
            _ => &mut self.granularity,
        }
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
        assert_eq!(c.granularity, "lines");
        assert_eq!(c.sort, "cum");
        assert_eq!(c.get("nodefraction"), "0.005");
        assert!(c.set("granularity", "bogus").is_err());
        assert!(c.set("nodecount", "x").is_err());
        c.reset("focus").unwrap();
        assert_eq!(c.focus, "");
        assert_eq!(format_float(1e-6), "1e-06");
    }
}
