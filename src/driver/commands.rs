//! The command table: every report command (`top`, `list RE`, `svg`...)
//! as one entry of data. The command line (`-top`), the shell (`top`),
//! `help`, completion and the web UI all read it, so adding a format is
//! adding one entry here and its renderer in `report/`.

use crate::options::{Config, Granularity};
use crate::report::image::ImageFormat;
use crate::report::{self, Format, Report};
use crate::ui::Ui;

use super::Error;

/// How a command's rendered output reaches the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Standard output, or the `output` file.
    Stdout,
    /// A file for programs (SVG, protobuf, callgrind): on a terminal or in
    /// the shell it goes to a new `profileNNN<suffix>` in the current
    /// directory instead of the screen, as pprof's `awayFromTTY` does.
    AwayFromTty(&'static str),
    /// Written to a private temporary file and opened in a browser.
    Browser,
    /// Written to a private temporary file (this suffix) and opened with
    /// the program (`kcachegrind`, `gv --noantialias`: words split at
    /// spaces); when it does not start, says where the file is.
    Viewer {
        program: &'static str,
        suffix: &'static str,
    },
}

/// Commands whose prepared reports are interchangeable: the shell keeps one
/// preparation per class and reuses it across the class's commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrepClass {
    /// Graph-based reports (top, peek, dot...): node table and values graph
    /// are shared.
    Graph,
    /// Listings keep binary names on nodes.
    List,
    /// Reads samples its own way (traces keep untrimmed paths).
    Own,
}

/// pprof's per-command adjustments of the options before preparing.
#[derive(Clone, Copy, Debug)]
pub struct Overrides {
    /// false: never trimmed (nodecount/nodefraction/edgefraction are 0).
    pub trim: bool,
    pub granularity: Option<Granularity>,
    pub noinlines: Option<bool>,
    /// `nodecount` when the option is left at -1.
    pub default_nodecount: i64,
}

const GRAPH: Overrides = Overrides {
    trim: true,
    granularity: None,
    noinlines: None,
    default_nodecount: 80,
};

/// pprof's overrides for proto, raw and callgrind: untrimmed, by address,
/// inlined frames kept.
const ADDRESSES: Overrides = Overrides {
    trim: false,
    granularity: Some(Granularity::Addresses),
    noinlines: Some(false),
    ..GRAPH
};

const TEXT: Overrides = Overrides {
    default_nodecount: 0,
    ..GRAPH
};

/// Renders a prepared report: text (control characters escaped on
/// output) or bytes (protobuf profiles, written as they are), or text
/// written as it is made (reports that can outgrow memory, `traces`: the
/// renderer escapes control characters itself).
#[derive(Clone, Copy)]
pub enum Render {
    Text(fn(&mut Report, &mut dyn Ui) -> Result<String, Error>),
    Binary(fn(&mut Report, &mut dyn Ui) -> Result<Vec<u8>, Error>),
    Stream(fn(&mut Report, &mut dyn Ui, &mut dyn std::io::Write) -> std::io::Result<()>),
}

/// One command.
pub struct CommandSpec {
    pub name: &'static str,
    /// One line, for `help` and `-help`.
    pub help: &'static str,
    /// What the report shows, for `help <command>`.
    pub detail: &'static str,
    /// The name of the required argument (`regexp`), if any.
    pub arg: Option<&'static str>,
    pub format: Format,
    pub class: PrepClass,
    pub overrides: Overrides,
    pub render: Render,
    pub delivery: Delivery,
    /// The shell's `top`-style node count when none is given (`top` = `top 10`).
    pub shell_nodecount: Option<i64>,
    /// Focus/ignore words after the command filter tags (`tags key -other`),
    /// not functions.
    pub filters_tags: bool,
}

fn text(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::text::print_text(r))
}
fn peek(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    report::peek::print_peek(r).map_err(|e| Error::Report(e.into()))
}
fn traces(r: &mut Report, _: &mut dyn Ui, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    report::traces::write_traces(r, w)
}
fn tags(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::tags::print_tags(r))
}
fn list(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    report::list::print_list(r).map_err(|e| Error::Report(e.into()))
}
fn disasm(r: &mut Report, ui: &mut dyn Ui) -> Result<String, Error> {
    report::disasm::print_disasm(r, ui).map_err(|e| Error::Report(e.into()))
}
fn weblist(r: &mut Report, ui: &mut dyn Ui) -> Result<String, Error> {
    report::weblist::print_weblist(r, ui).map_err(Error::Report)
}
fn dot(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::dot::drawing(r).to_dot())
}
fn svg(r: &mut Report, ui: &mut dyn Ui) -> Result<String, Error> {
    let drawing = report::dot::drawing(r);
    report::svg::render(&drawing, ui)
        .map(|(svg, _)| svg)
        .map_err(|e| Error::Report(e.into()))
}
/// `png`, `pdf`...: the call graph drawn by Graphviz, or for PNG and PDF
/// without it, by the built-in layout.
fn image(r: &mut Report, ui: &mut dyn Ui, format: ImageFormat) -> Result<Vec<u8>, Error> {
    let drawing = report::dot::drawing(r);
    report::image::render(&drawing, format, ui).map_err(|e| Error::Report(e.into()))
}
fn png(r: &mut Report, ui: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    image(r, ui, ImageFormat::Png)
}
fn gif(r: &mut Report, ui: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    image(r, ui, ImageFormat::Gif)
}
fn pdf(r: &mut Report, ui: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    image(r, ui, ImageFormat::Pdf)
}
fn ps(r: &mut Report, ui: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    image(r, ui, ImageFormat::Ps)
}
fn eps(r: &mut Report, ui: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    image(r, ui, ImageFormat::Eps)
}
/// `eog`: a fixed-size SVG for an image viewer (not the browser's
/// pan-and-zoom page).
fn svg_image(r: &mut Report, ui: &mut dyn Ui) -> Result<String, Error> {
    let drawing = report::dot::drawing(r);
    report::image::render_svg(&drawing, ui).map_err(|e| Error::Report(e.into()))
}
fn folded(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::flame::print_folded(r))
}
fn flame(r: &mut Report, ui: &mut dyn Ui) -> Result<String, Error> {
    let mut base = r.base.take();
    report::flame::print_flame(r, base.as_deref_mut(), ui).map_err(|e| Error::Report(e.into()))
}

fn raw(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::raw::print_raw(r))
}
fn comments(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::raw::print_comments(r))
}
fn callgrind(r: &mut Report, _: &mut dyn Ui) -> Result<String, Error> {
    Ok(report::callgrind::print_callgrind(r))
}
fn proto(r: &mut Report, _: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    report::proto::print_proto(r).map_err(encoding_error)
}
fn topproto(r: &mut Report, _: &mut dyn Ui) -> Result<Vec<u8>, Error> {
    report::proto::print_top_proto(r).map_err(encoding_error)
}
fn encoding_error(source: std::io::Error) -> Error {
    Error::Output {
        path: "compressed profile".into(),
        source,
    }
}

const TOP: CommandSpec = CommandSpec {
        name: "top",
        help: "Outputs top entries in text form",
        detail: "Lists the nodes (functions, or files/lines/addresses at other granularities) with the largest flat values: flat, flat%, sum%, cum, cum%.",
        arg: None,
        format: Format::Text,
        class: PrepClass::Graph,
        overrides: TEXT,
        render: Render::Text(text),
        shell_nodecount: Some(10),
        filters_tags: false,
        delivery: Delivery::Stdout,
    };

/// Every command, in name order (as `help` lists them). Only commands that
/// work are here: `help` and `-help` list exactly this table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "callgrind",
        help: "Outputs a graph in callgrind format",
        detail: "Writes the call graph, by address, in the callgrind format (as valgrind's callgrind tool does) for KCachegrind and QCachegrind: one cost line per address with its flat value, and the calls it makes. Written to a new profileNNN.callgraph.out when output is a terminal.",
        arg: None,
        format: Format::Callgrind,
        class: PrepClass::Own,
        overrides: ADDRESSES,
        render: Render::Text(callgrind),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".callgraph.out"),
    },
    CommandSpec {
        name: "comments",
        help: "Output all profile comments",
        detail: "Prints the profile's comments (as producers and -add_comment left them), one per line.",
        arg: None,
        format: Format::Comments,
        class: PrepClass::Own,
        overrides: GRAPH,
        render: Render::Text(comments),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "disasm",
        help: "Output assembly listings annotated with samples",
        detail: "Disassembles (x86-64) every function of the profile's binaries whose name matches the regexp and that has samples, each instruction annotated with its flat and cum values and, where it changes, its function and source file:line. AT&T syntax, or Intel with intel_syntax=true. The binaries are the profile's mappings (the binary given on the command line, PPROF_BINARY_PATH).",
        arg: Some("regexp"),
        format: Format::Disasm,
        class: PrepClass::Own,
        overrides: Overrides {
            trim: false,
            granularity: Some(Granularity::Addresses),
            // One node per address, so inlined frames do not count twice.
            noinlines: Some(true),
            ..GRAPH
        },
        render: Render::Text(disasm),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "dot",
        help: "Outputs a graph in DOT format",
        detail: "Writes the call graph in Graphviz's DOT language: one box per node (flat and cum values), one arrow per caller -> callee edge. Trimmed to nodecount (default 80) nodes; dotted edges stand for paths through dropped nodes.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Text(dot),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "eog",
        help: "Visualize graph through eog",
        detail: "Draws the call graph as SVG (through Graphviz's dot when installed, else with the built-in layout) into a private temporary file and opens it in eog, the GNOME image viewer; when eog does not start, says where the file is.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Text(svg_image),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Viewer {
            program: "eog",
            suffix: ".svg",
        },
    },
    CommandSpec {
        name: "eps",
        help: "Outputs a graph in EPS format",
        detail: "Draws the call graph as Encapsulated PostScript, for including in documents. Needs Graphviz's dot. Written to a new profileNNN.eps when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(eps),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".eps"),
    },
    CommandSpec {
        name: "evince",
        help: "Visualize graph through evince",
        detail: "Draws the call graph as PDF (as pdf does) into a private temporary file and opens it in evince, the GNOME document viewer; when evince does not start, says where the file is.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(pdf),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Viewer {
            program: "evince",
            suffix: ".pdf",
        },
    },
    CommandSpec {
        name: "flame",
        help: "Outputs an interactive flame graph (SVG); differential with a base",
        detail: "Writes an interactive flame graph as an SVG file (a new profileNNN.svg when output is a terminal). With -base or -diff_base it is differential: frames are coloured by growth (red) or shrinkage (blue).",
        arg: None,
        format: Format::Flame,
        class: PrepClass::Own,
        overrides: GRAPH,
        render: Render::Text(flame),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".svg"),
    },
    CommandSpec {
        name: "folded",
        help: "Outputs collapsed stacks (a;b;c value) for flame graph tools",
        detail: "Writes one line per distinct stack, root first, frames joined by ';', followed by its value: the input format of flamegraph.pl, inferno and speedscope.",
        arg: None,
        format: Format::Folded,
        class: PrepClass::Own,
        overrides: GRAPH,
        render: Render::Text(folded),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "gif",
        help: "Outputs a graph image in GIF format",
        detail: "Draws the call graph as a GIF image. Needs Graphviz's dot. Written to a new profileNNN.gif when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(gif),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".gif"),
    },
    CommandSpec {
        name: "gv",
        help: "Visualize graph through gv",
        detail: "Draws the call graph as PostScript (as ps does, so it needs Graphviz) into a private temporary file and opens it in gv, the PostScript viewer; when gv does not start, says where the file is.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(ps),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Viewer {
            program: "gv --noantialias",
            suffix: ".ps",
        },
    },
    CommandSpec {
        name: "kcachegrind",
        help: "Visualize report in KCachegrind",
        detail: "Writes the callgrind report (as callgrind does) into a private temporary file and opens it in KCachegrind; when kcachegrind does not start, says where the file is.",
        arg: None,
        format: Format::Callgrind,
        class: PrepClass::Own,
        overrides: ADDRESSES,
        render: Render::Text(callgrind),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Viewer {
            program: "kcachegrind",
            suffix: ".grind",
        },
    },
    CommandSpec {
        name: "list",
        help: "Output annotated source for functions matching regexp",
        detail: "Shows the source of every function whose name matches the regexp, each line annotated with its flat and cum values. Sources are searched in source_path (and GOROOT, the Go module cache, cargo's registry) after trim_path is removed.",
        arg: Some("regexp"),
        format: Format::List,
        class: PrepClass::List,
        overrides: Overrides {
            trim: false,
            granularity: Some(Granularity::Lines),
            ..GRAPH
        },
        render: Render::Text(list),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "pdf",
        help: "Outputs a graph in PDF format",
        detail: "Draws the call graph as a one-page PDF document. Drawn by Graphviz's dot when installed, else by rprof's built-in layout with an embedded font. Written to a new profileNNN.pdf when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(pdf),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".pdf"),
    },
    CommandSpec {
        name: "peek",
        help: "Output callers/callees of functions matching regexp",
        detail: "For every function matching the regexp, lists its callers above it and its callees below it, with the value flowing along each edge.",
        arg: Some("regexp"),
        format: Format::Peek,
        class: PrepClass::Graph,
        overrides: Overrides {
            trim: false,
            ..GRAPH
        },
        render: Render::Text(peek),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "png",
        help: "Outputs a graph image in PNG format",
        detail: "Draws the call graph as a PNG image. Drawn by Graphviz's dot when installed, else by rprof's built-in layout with an embedded font. Written to a new profileNNN.png when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(png),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".png"),
    },
    CommandSpec {
        name: "proto",
        help: "Outputs the profile in compressed protobuf format",
        detail: "Writes the profile, after merging, base subtraction, symbolization and the filters (focus, ignore, hide, show, tagfocus...), as gzipped protobuf: a profile rprof and pprof read again. divide_by scales its values. Written to a new profileNNN.pb.gz when output is a terminal.",
        arg: None,
        format: Format::Proto,
        class: PrepClass::Own,
        overrides: ADDRESSES,
        render: Render::Binary(proto),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".pb.gz"),
    },
    CommandSpec {
        name: "ps",
        help: "Outputs a graph in PS format",
        detail: "Draws the call graph as PostScript, for printing. Needs Graphviz's dot. Written to a new profileNNN.ps when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Binary(ps),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".ps"),
    },
    CommandSpec {
        name: "raw",
        help: "Outputs a text representation of the raw profile",
        detail: "Dumps the filtered profile as pprof's Profile.String() does: header, samples (values, location ids, labels), locations (address, mapping, frames) and mappings.",
        arg: None,
        format: Format::Raw,
        class: PrepClass::Own,
        overrides: ADDRESSES,
        render: Render::Text(raw),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "svg",
        help: "Outputs a graph in SVG format",
        detail: "Draws the call graph as SVG, through Graphviz's dot when installed, else with rprof's built-in layout. Written to a new profileNNN.svg when output is a terminal.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Text(svg),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".svg"),
    },
    CommandSpec {
        name: "tags",
        help: "Outputs all tags in the profile",
        detail: "Summarizes sample labels: for each label key, its values with their share of the total. Focus/ignore words filter tags (tagfocus/tagignore), not functions.",
        arg: None,
        format: Format::Tags,
        class: PrepClass::Own,
        overrides: GRAPH,
        render: Render::Text(tags),
        shell_nodecount: None,
        filters_tags: true,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "text",
        detail: "Same as top.",
        ..TOP
    },
    TOP,
    CommandSpec {
        name: "topproto",
        help: "Outputs top entries in compressed protobuf format",
        detail: "Writes the nodes top lists as a gzipped protobuf profile: one sample per node with its cum and flat values (sample types cum and flat, in the output unit).",
        arg: None,
        format: Format::TopProto,
        class: PrepClass::Graph,
        overrides: TEXT,
        render: Render::Binary(topproto),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::AwayFromTty(".pb.gz"),
    },
    CommandSpec {
        name: "traces",
        help: "Outputs all profile samples in text form",
        detail: "Prints every sample: its labels, value and stack, one frame per line, leaf first.",
        arg: None,
        format: Format::Traces,
        class: PrepClass::Own,
        overrides: GRAPH,
        render: Render::Stream(traces),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    // `tree` is `peek` without a regexp (pprof prints both alike), but
    // trimmed like a graph.
    CommandSpec {
        name: "tree",
        help: "Outputs a text rendering of call graph",
        detail: "Prints callers and callees of every node, as peek does for all of them; trimmed like a graph.",
        arg: None,
        format: Format::Peek,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Text(peek),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Stdout,
    },
    CommandSpec {
        name: "web",
        help: "Visualize graph through web browser",
        detail: "Draws the call graph as SVG (as svg does) into a private temporary file and opens it in the browser ($BROWSER, else the desktop's opener); when none starts, says where the file is.",
        arg: None,
        format: Format::Dot,
        class: PrepClass::Graph,
        overrides: GRAPH,
        render: Render::Text(svg),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Browser,
    },
    CommandSpec {
        name: "weblist",
        help: "Display annotated source in a web browser",
        detail: "Writes an HTML page of the source of every function matching the regexp, each line annotated with its flat and cum values (as list); clicking a line shows its assembly (as disasm) with the values of each instruction. The page is self-contained (no network) and opens in the browser ($BROWSER, else the desktop's opener); when none starts, says where the file is.",
        arg: Some("regexp"),
        format: Format::WebList,
        class: PrepClass::Own,
        overrides: Overrides {
            trim: false,
            granularity: Some(Granularity::Addresses),
            // Inlined frames are kept: their lines are listed too.
            noinlines: Some(false),
            ..GRAPH
        },
        render: Render::Text(weblist),
        shell_nodecount: None,
        filters_tags: false,
        delivery: Delivery::Browser,
    },
];

/// Looks a command up by name.
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// A report command with its argument (`list RE`).
#[derive(Clone, Debug)]
pub struct Command {
    pub spec: &'static CommandSpec,
    pub arg: Option<String>,
}

impl PartialEq for Command {
    fn eq(&self, other: &Command) -> bool {
        std::ptr::eq(self.spec, other.spec) && self.arg == other.arg
    }
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Command {
    /// The named command; an unknown name is a usage error.
    pub fn new(name: &str, arg: Option<&str>) -> Result<Command, Error> {
        let spec =
            lookup(name).ok_or_else(|| Error::Usage(format!("unrecognized command: {name:?}")))?;
        Ok(Command {
            spec,
            arg: arg.map(str::to_string),
        })
    }

    pub fn name(&self) -> &'static str {
        self.spec.name
    }
}

impl CommandSpec {
    /// The options this command prepares its report with: pprof's
    /// per-command defaults and forced settings applied to `cfg`.
    pub fn configure(&self, cfg: &Config) -> Config {
        let o = &self.overrides;
        let mut cfg = cfg.clone();
        if let Some(g) = o.granularity {
            cfg.granularity = g;
        }
        if let Some(n) = o.noinlines {
            cfg.noinlines = n;
        }
        if cfg.nodecount == -1 {
            cfg.nodecount = o.default_nodecount;
        }
        if !(o.trim && cfg.trim) {
            cfg.nodecount = 0;
            cfg.nodefraction = 0.0;
            cfg.edgefraction = 0.0;
        }
        cfg
    }
}
