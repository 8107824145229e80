//! The web UI's pages: one layout (header with the View, Sample and
//! Refine menus, search box, snapshots, the profile's legend) around each
//! view's body, built from the view's command's prepared report.

use std::fmt::Write;

use super::escape::{html, json_str};
use super::server::{Query, FILTER_PARAMS};
use crate::driver::{self, Command};
use crate::options::{Config, Granularity};
use crate::report::dot::Drawing;
use crate::report::source_path::Fallbacks;
use crate::report::weblist;
use crate::report::Report;
use crate::units::percentage;

/// The page's script and style sheet, served from the binary.
pub const UI_JS: &str = include_str!("assets/ui.js");
pub const UI_CSS: &str = include_str!("assets/ui.css");

/// The views, at pprof's paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Graph,
    Top,
    Flame,
    Peek,
    Source,
    Disasm,
    Snapshots,
}

impl View {
    pub fn path(self) -> &'static str {
        match self {
            View::Graph => "/ui/",
            View::Top => "/ui/top",
            View::Flame => "/ui/flamegraph",
            View::Peek => "/ui/peek",
            View::Source => "/ui/source",
            View::Disasm => "/ui/disasm",
            View::Snapshots => "/ui/snapshots",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            View::Graph => "Graph",
            View::Top => "Top",
            View::Flame => "Flame Graph",
            View::Peek => "Peek",
            View::Source => "Source",
            View::Disasm => "Disassemble",
            View::Snapshots => "Snapshots",
        }
    }
    fn id(self) -> &'static str {
        match self {
            View::Graph => "graph",
            View::Top => "top",
            View::Flame => "flamegraph",
            View::Peek => "peek",
            View::Source => "source",
            View::Disasm => "disasm",
            View::Snapshots => "snapshots",
        }
    }
}

/// What a page shows besides its body.
pub struct Ctx {
    pub view: View,
    pub query: Query,
    pub live: bool,
    pub snapshots: Vec<String>,
    pub saved: Vec<Option<String>>,
    pub sample_types: Vec<String>,
    pub sample_index: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// The profile's header lines (File, Type, Time, Duration...).
    pub header: Vec<String>,
    pub title: String,
}

/// The command a view shows and the options it runs with (pprof's
/// per-view adjustments applied), or None when the view needs a regexp
/// (`f`) that is not given.
pub fn command(view: View, cfg: &Config, q: &Query) -> Option<(Command, Config)> {
    let mut cfg = cfg.clone();
    let f = q.get("f").filter(|f| !f.is_empty());
    let cmd = match view {
        View::Graph => Command::new("svg", None),
        View::Top => {
            // As pprof's web UI.
            cfg.nodecount = 500;
            Command::new("top", None)
        }
        View::Flame => Command::new("flame", None),
        View::Peek => {
            cfg.granularity = Granularity::Lines;
            Command::new("peek", Some(f?))
        }
        // As pprof's: its source view is weblist.
        View::Source => Command::new("weblist", Some(f?)),
        View::Disasm => Command::new("disasm", Some(f?)),
        View::Snapshots => return None,
    };
    cmd.ok().map(|c| (c, cfg))
}

/// The Source view where no assembly can be had: the `list` report.
pub fn list_command(cfg: &Config, q: &Query) -> Option<(Command, Config)> {
    let f = q.get("f").filter(|f| !f.is_empty())?;
    Command::new("list", Some(f)).ok().map(|c| (c, cfg.clone()))
}

/// Why the Source view shows `list`'s text, said above it: no
/// instructions, or no source lines to put them under.
const NO_BINARY_NOTE: &str = "<p class=\"note\" id=\"no-assembly\">No assembly: the \
     profile's binary could not be read, or holds none of these functions (give the binary on \
     the command line, or set PPROF_BINARY_PATH). The source as <code>list</code> shows it:</p>";
const NO_SOURCE_NOTE: &str = "<p class=\"note\" id=\"no-assembly\">No assembly here: it is \
     shown under the source lines, and the source files were not found (see source_path); \
     Disassemble shows it alone. The source as <code>list</code> shows it:</p>";

/// The Source view without assembly: the note to show above `list`'s text
/// and the warnings saying why.
pub struct NoAssembly {
    pub note: &'static str,
    pub warnings: Vec<String>,
}

/// The Source view: weblist's listings, each line with assembly expanding
/// to it on a click (ui.js). Err when no line has assembly or the listing
/// failed: the caller shows `list` instead, whose errors are the CLI's.
pub fn source_body(rpt: &mut Report, ctx: &mut Ctx) -> Result<String, NoAssembly> {
    let mut ui: Vec<String> = Vec::new();
    let l = match weblist::listing(rpt, &mut ui, Fallbacks::from_env(), true) {
        Ok(l) if l.assembly => l,
        Ok(l) => {
            return Err(NoAssembly {
                note: if l.instructions {
                    NO_SOURCE_NOTE
                } else {
                    NO_BINARY_NOTE
                },
                warnings: ui,
            })
        }
        Err(_) => {
            return Err(NoAssembly {
                note: "",
                warnings: Vec::new(),
            })
        }
    };
    ctx.warnings.extend(ui);
    ctx.header = rpt.profile_labels();
    Ok(format!(
        "<div id=\"weblist\" class=\"weblist\"><div class=\"legend\">Total: {}</div>\n{}</div>",
        html(&rpt.format_value(rpt.total)),
        l.body
    ))
}

/// The page for a view that has nothing to show yet.
pub fn no_report_body(view: View) -> String {
    format!(
        "<p class=\"note\">{} shows the functions matching a regexp: select nodes in the \
         Graph, rows in Top or frames in the Flame Graph, or type a regexp, then choose \
         {} again.</p><form method=\"get\" action=\"{}\"><input name=\"f\" \
         placeholder=\"regexp\" size=\"40\"> <button type=\"submit\">Show</button></form>",
        view.name(),
        view.name(),
        view.path()
    )
}

/// A view's body from its prepared report.
pub fn body(view: View, rpt: &mut Report, cmd: &Command, ctx: &mut Ctx) -> String {
    let body = view_body(view, rpt, cmd, ctx);
    // After rendering: totals in the unit the report chose.
    ctx.header = rpt.profile_labels();
    body
}

fn view_body(view: View, rpt: &mut Report, cmd: &Command, ctx: &mut Ctx) -> String {
    match view {
        View::Graph => graph_body(rpt, ctx),
        View::Top => top_body(rpt),
        View::Flame => flame_body(rpt),
        View::Peek => peek_body(rpt, ctx),
        _ => {
            let mut ui: Vec<String> = Vec::new();
            let out = driver::render(rpt, cmd, &mut ui);
            ctx.warnings.extend(ui);
            match out {
                Ok(o) => format!(
                    "<pre id=\"report\" class=\"report\">{}</pre>",
                    html(&o.into_text())
                ),
                Err(e) => {
                    ctx.errors.push(driver::error_chain(&e));
                    String::new()
                }
            }
        }
    }
}

/// Links to other views, samples or filters start at Peek's first page.
const NO_PAGE: &[(&str, &str)] = &[("start", "")];

/// The most text of matching nodes one Peek page shows (after the node
/// that passes it, the page links to the next). `-peek` has no limit; a
/// broad regexp's report can be hundreds of MB, more than a browser shows.
const PEEK_PAGE_BYTES: usize = 2 << 20;

/// The Peek page's first matching node (0-based), from `start`.
pub fn peek_start(q: &Query) -> usize {
    q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// `peek`'s report, a page of it when it is long, with links to the
/// other pages.
fn peek_body(rpt: &mut Report, ctx: &mut Ctx) -> String {
    let start = peek_start(&ctx.query);
    let (text, page) = match crate::report::peek::print_peek_page(rpt, start, PEEK_PAGE_BYTES) {
        Ok(r) => r,
        Err(e) => {
            ctx.errors
                .push(driver::error_chain(&driver::Error::Report(e.into())));
            return String::new();
        }
    };
    let text = crate::ui::escape_controls(&text);
    let nav = if page.start == 0 && page.end == page.matched {
        String::new()
    } else {
        let link = |id: &str, label: &str, at: usize| {
            let at = at.to_string();
            format!(
                " <a id=\"peek-{id}\" href=\"{}{}\">{label}</a>",
                View::Peek.path(),
                html(&ctx.query.with(&[("start", &at)], &[]))
            )
        };
        let mut nav = format!(
            "<p class=\"note\" id=\"peek-page\">Matches {}-{} of {}.",
            page.start + 1,
            page.end,
            page.matched
        );
        if page.start > 0 {
            nav.push_str(&link("first", "First", 0));
        }
        if page.end < page.matched {
            nav.push_str(&link("next", "Next", page.end));
        }
        nav.push_str("</p>");
        nav
    };
    format!(
        "{nav}<pre id=\"report\" class=\"report\">{}</pre>{nav}",
        html(&text)
    )
}

fn data_script(json: &str) -> String {
    format!("<script type=\"application/json\" id=\"data\">{json}</script>")
}

/// The call graph as pprof's `svg` command draws it, inline, with the
/// names of its nodes (N1, N2...) for selection.
fn graph_body(rpt: &mut Report, ctx: &mut Ctx) -> String {
    let t = rpt.visual_graph();
    rpt.select_output_unit(&t.graph);
    let labels = rpt.report_labels(&t, true);
    let g = &t.graph;
    let names: Vec<String> = g
        .nodes
        .iter()
        .map(|&n| g.node(n).info.printable_name(&rpt.prof))
        .collect();
    let drawing = Drawing::new(rpt, g, &labels);
    let mut ui: Vec<String> = Vec::new();
    let svg = crate::report::svg::render(&drawing, &mut ui);
    ctx.warnings.extend(ui);
    let svg = match svg {
        Ok((svg, _)) => svg,
        Err(e) => {
            ctx.errors.push(e.to_string());
            return String::new();
        }
    };
    let svg = crate::ui::escape_controls(&svg);
    let mut out = String::from("<div id=\"graph\">");
    out.push_str(&inline_svg(&svg));
    out.push_str("</div>");
    let mut json = String::from("{\"nodes\":[");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&json_str(n));
    }
    json.push_str("]}");
    out.push_str(&data_script(&json));
    out
}

/// An SVG document made an inline `<svg>` element: the XML prolog,
/// doctype and comments before it dropped, and its own pan/zoom script
/// left out (the page's script pans and zooms).
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let mut s = svg[start..].to_string();
    while let Some(a) = s.find("<script") {
        match s[a..].find("</script>") {
            Some(b) => s.replace_range(a..a + b + "</script>".len(), ""),
            None => {
                s.truncate(a);
                break;
            }
        }
    }
    s
}

/// The `top` report as a table: the same rows as `-top` (nodecount 500,
/// as pprof's web UI), sortable by any column.
fn top_body(rpt: &mut Report) -> String {
    let (items, labels) = crate::report::text::items_and_labels(rpt);
    let mut out = String::new();
    out.push_str("<div class=\"legend\">");
    for l in &labels {
        let _ = writeln!(out, "<div>{}</div>", html(l));
    }
    out.push_str("</div>");
    out.push_str(
        "<table id=\"toptable\" class=\"sortable\"><thead><tr>\
         <th data-col=\"0\" class=\"num\">Flat</th><th data-col=\"1\" class=\"num\">Flat%</th>\
         <th data-col=\"2\" class=\"num\">Sum%</th><th data-col=\"3\" class=\"num\">Cum</th>\
         <th data-col=\"4\" class=\"num\">Cum%</th><th data-col=\"5\">Name</th>\
         <th data-col=\"6\">Inlined?</th></tr></thead><tbody>\n",
    );
    let mut sum = 0i64;
    for it in &items {
        sum = sum.wrapping_add(it.flat);
        let _ = writeln!(
            out,
            "<tr><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td class=\"name\">{}</td><td>{}</td></tr>",
            it.flat,
            html(&it.flat_format),
            it.flat,
            percentage(it.flat, rpt.total).trim(),
            sum,
            percentage(sum, rpt.total).trim(),
            it.cum,
            html(&it.cum_format),
            it.cum,
            percentage(it.cum, rpt.total).trim(),
            html(&it.name),
            it.inline_label
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn flame_body(rpt: &mut Report) -> String {
    let f = super::flame::flame_json(rpt);
    let mut out = String::new();
    out.push_str(
        "<div id=\"flametools\"><button type=\"button\" id=\"pivot\" title=\"Show every call \
         path through the selected function from it\">Pivot</button> \
         <button type=\"button\" id=\"unzoom\">Reset zoom</button> \
         <span id=\"matched\"></span> <span id=\"flameinfo\"></span></div>",
    );
    let _ = write!(out, "<div id=\"flame\" data-sent=\"{}\"></div>", f.sent);
    out.push_str(&data_script(&f.json));
    out
}

/// The page around a body.
pub fn page(ctx: &Ctx, body: &str) -> String {
    let q = &ctx.query;
    let mut out = String::with_capacity(body.len() + 8192);
    let title = if ctx.title.is_empty() {
        "rprof".to_string()
    } else {
        ctx.title.clone()
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} {}</title><link rel=\"stylesheet\" href=\"/ui/assets/ui.css\">\
         </head><body data-view=\"{}\">\n<header><div id=\"bar\">\
         <span class=\"brand\">rprof</span>",
        html(&title),
        html(ctx.view.name()),
        ctx.view.id()
    );
    // View menu.
    out.push_str("<div class=\"menu\"><button type=\"button\">View</button><div class=\"items\">");
    for v in [
        View::Graph,
        View::Top,
        View::Flame,
        View::Peek,
        View::Source,
        View::Disasm,
    ] {
        let needs_f = matches!(v, View::Peek | View::Source | View::Disasm);
        let _ = write!(
            out,
            "<a id=\"view-{}\" class=\"{}{}\" href=\"{}{}\"{}>{}</a>",
            v.id(),
            if v == ctx.view { "current" } else { "" },
            if needs_f { " needs-f" } else { "" },
            v.path(),
            html(&q.with(NO_PAGE, &[])),
            if needs_f { " data-needs-f=\"1\"" } else { "" },
            v.name()
        );
    }
    out.push_str("</div></div>");
    // Sample menu.
    if ctx.sample_types.len() > 1 {
        out.push_str(
            "<div class=\"menu\"><button type=\"button\">Sample</button><div class=\"items\">",
        );
        for (i, st) in ctx.sample_types.iter().enumerate() {
            let current = ctx.sample_index == *st || ctx.sample_index == i.to_string();
            let _ = write!(
                out,
                "<a class=\"sample{}\" href=\"{}{}\">{}</a>",
                if current { " current" } else { "" },
                ctx.view.path(),
                html(&q.with(&[("si", st), ("start", "")], &[])),
                html(st)
            );
        }
        out.push_str("</div></div>");
    }
    // Refine menu.
    out.push_str(
        "<div class=\"menu\"><button type=\"button\">Refine</button><div class=\"items\">",
    );
    for (p, name) in [
        ("f", "Focus"),
        ("i", "Ignore"),
        ("h", "Hide"),
        ("s", "Show"),
        ("sf", "Show from"),
    ] {
        let _ = write!(
            out,
            "<a href=\"#\" class=\"refine\" id=\"refine-{p}\" data-param=\"{p}\">{name}</a>"
        );
    }
    let _ = write!(
        out,
        "<a id=\"refine-reset\" href=\"{}{}\">Reset</a></div></div>",
        ctx.view.path(),
        html(&q.with(NO_PAGE, FILTER_PARAMS))
    );
    out.push_str(
        "<input id=\"search\" type=\"search\" placeholder=\"Search regexp\" \
         autocomplete=\"off\" spellcheck=\"false\">",
    );
    if ctx.live {
        let _ = write!(
            out,
            "<form class=\"snap\" method=\"post\" action=\"/ui/snapshot\">\
             <button type=\"submit\" id=\"new-snapshot\">New snapshot</button></form>\
             <a id=\"snapshots\" href=\"/ui/snapshots{}\">Snapshots ({})</a>",
            html(&q.with(NO_PAGE, &[])),
            ctx.snapshots.len()
        );
    }
    out.push_str("<span id=\"status\"></span></div>\n<div id=\"header\">");
    let _ = write!(out, "<b>{}</b>", html(&title));
    for l in &ctx.header {
        let _ = write!(out, " <span class=\"hdr\">{}</span>", html(l));
    }
    if let Some(s) = q.get("snap") {
        let _ = write!(out, " <span class=\"hdr\">snapshot {}</span>", html(s));
    }
    if let Some(b) = q.get("base") {
        let _ = write!(
            out,
            " <span class=\"hdr\">compared with snapshot {}</span>",
            html(b)
        );
    }
    let filters: Vec<String> = q
        .pairs
        .iter()
        .filter(|(k, v)| FILTER_PARAMS.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !filters.is_empty() {
        let _ = write!(
            out,
            " <span class=\"hdr filters\">{}</span>",
            html(&filters.join(" "))
        );
    }
    out.push_str("</div></header>\n");
    for e in &ctx.errors {
        let _ = writeln!(out, "<div class=\"error\">{}</div>", html(e));
    }
    for w in &ctx.warnings {
        let _ = writeln!(out, "<div class=\"warning\">{}</div>", html(w));
    }
    let _ = writeln!(out, "<main id=\"main\">{body}</main>");
    out.push_str("<script src=\"/ui/assets/ui.js\"></script>\n</body></html>\n");
    out
}

/// A page with a message alone.
pub fn message_page(msg: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rprof</title>\
         <link rel=\"stylesheet\" href=\"/ui/assets/ui.css\"></head><body>\
         <div class=\"error\">{}</div><p><a href=\"/ui/\">Back to the graph</a></p></body></html>\n",
        html(msg)
    )
}

/// The snapshots taken, with links to each and a form comparing two.
pub fn snapshots_page(ctx: &Ctx) -> String {
    let mut body = String::new();
    if !ctx.live {
        body.push_str(
            "<p class=\"note\">The profile was not fetched from a URL: there are no snapshots.</p>",
        );
        return page(ctx, &body);
    }
    body.push_str("<table id=\"snaptable\"><thead><tr><th>#</th><th>Snapshot</th><th>Saved in</th><th></th></tr></thead><tbody>");
    for (i, label) in ctx.snapshots.iter().enumerate() {
        let saved = ctx.saved.get(i).cloned().flatten().unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{i}</td><td>{}</td><td>{}</td><td><a href=\"/ui/?snap={i}\">graph</a> \
             <a href=\"/ui/top?snap={i}\">top</a> <a href=\"/ui/flamegraph?snap={i}\">flame graph</a></td></tr>",
            html(label),
            html(&saved)
        );
    }
    body.push_str("</tbody></table>");
    let n = ctx.snapshots.len();
    let options = |selected: usize| {
        let mut s = String::new();
        for i in 0..n {
            let _ = write!(
                s,
                "<option value=\"{i}\"{}>{i}</option>",
                if i == selected { " selected" } else { "" }
            );
        }
        s
    };
    let _ = write!(
        body,
        "<form id=\"compare\" method=\"get\" action=\"/ui/flamegraph\">Compare current \
         <select name=\"snap\">{}</select> with base <select name=\"base\">{}</select> \
         <button type=\"submit\">Compare</button></form>",
        options(n.saturating_sub(1)),
        options(0)
    );
    page(ctx, &body)
}
