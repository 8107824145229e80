//! `svg` and `web`: the DOT call graph drawn as SVG.
//!
//! As pprof does, the DOT text goes through Graphviz's `dot -Tsvg` and the
//! result is made pannable and zoomable in a browser. Without Graphviz (or
//! with `RPROF_NO_GRAPHVIZ=1`), a pure-Rust layout (the `layout-rs` crate)
//! draws the same DOT text, so a fresh machine still gets a graph.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

/// Set to a non-empty value other than `0` to skip Graphviz.
pub const NO_GRAPHVIZ_ENV: &str = "RPROF_NO_GRAPHVIZ";

/// Which renderer drew an SVG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    Graphviz,
    Builtin,
}

/// Draws DOT text as a browser-ready SVG: with Graphviz when `dot` is on
/// PATH (and not disabled), else with the built-in layout. A Graphviz
/// failure falls back to the built-in layout with a warning.
pub fn render(dot: &str, warn: &mut dyn FnMut(&str)) -> Result<(String, Renderer), String> {
    if !graphviz_disabled() {
        match graphviz(dot) {
            Ok(Some(svg)) => return Ok((massage(&svg), Renderer::Graphviz)),
            Ok(None) => {}
            Err(e) => warn(&format!("{e}; using the built-in graph layout")),
        }
    }
    builtin(dot).map(|svg| (svg, Renderer::Builtin))
}

fn graphviz_disabled() -> bool {
    std::env::var_os(NO_GRAPHVIZ_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `dot -Tsvg`; `Ok(None)` when Graphviz is not installed.
fn graphviz(dot: &str) -> Result<Option<String>, String> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("failed to execute dot: {e}")),
    };
    // Write from a thread: dot may fill its stdout pipe before reading all
    // of its input.
    let input = dot.as_bytes().to_vec();
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            let _ = s.write_all(&input);
        }
    });
    let out = child
        .wait_with_output()
        .map_err(|e| format!("failed to execute dot: {e}"))?;
    let _ = writer.join();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "dot failed ({}): {}",
            out.status,
            err.lines().next().unwrap_or("").trim()
        ));
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Pan and zoom for the graph in a browser: drag to pan, wheel to zoom.
/// It moves `<g id="viewport">`, starting from its initial scale.
const PAN_ZOOM_JS: &str = r#"
window.addEventListener('load', function () {
  var root = document.documentElement;
  var vp = document.getElementById('viewport');
  if (!vp || !root.addEventListener) { return; }
  var m = /scale\(([-\d.e]+)/.exec(vp.getAttribute('transform') || '');
  var s = m ? parseFloat(m[1]) : 1, tx = 0, ty = 0, drag = null;
  function apply() {
    vp.setAttribute('transform', 'translate(' + tx + ',' + ty + ') scale(' + s + ')');
  }
  root.addEventListener('wheel', function (e) {
    e.preventDefault();
    var f = e.deltaY < 0 ? 1.15 : 1 / 1.15;
    var r = root.getBoundingClientRect();
    var x = e.clientX - r.left, y = e.clientY - r.top;
    tx = x - (x - tx) * f;
    ty = y - (y - ty) * f;
    s *= f;
    apply();
  }, { passive: false });
  root.addEventListener('mousedown', function (e) {
    if (e.button !== 0) { return; }
    drag = { x: e.clientX - tx, y: e.clientY - ty };
    e.preventDefault();
  });
  window.addEventListener('mousemove', function (e) {
    if (drag) { tx = e.clientX - drag.x; ty = e.clientY - drag.y; apply(); }
  });
  window.addEventListener('mouseup', function () { drag = null; });
  apply();
});
"#;

fn script() -> String {
    format!("<script type=\"text/ecmascript\"><![CDATA[{PAN_ZOOM_JS}]]></script>")
}

/// pprof's changes to Graphviz's SVG for browsers: fill the window instead
/// of a fixed size, wrap the graph in a `viewport` group at half scale that
/// a script pans and zooms, and fix an ampersand dot leaves unescaped.
pub fn massage(svg: &str) -> String {
    let mut svg = svg.replace("&;", "&amp;;");
    if let Some((start, end)) = find_svg_size(&svg) {
        svg.replace_range(start..end, "<svg width=\"100%\" height=\"100%\"");
    }
    if let Some(at) = find_graph_group(&svg) {
        let insert = format!(
            "{}<g id=\"viewport\" transform=\"scale(0.5,0.5) translate(0,0)\">",
            script()
        );
        svg.insert_str(at, &insert);
    }
    if let Some(at) = svg.find("</svg>") {
        svg.insert_str(at, "</g>");
    }
    svg
}

/// The `<svg width=".." height=".." viewBox=".."` prefix of dot's output.
fn find_svg_size(svg: &str) -> Option<(usize, usize)> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(r#"<svg\s*width="[^"]+"\s*height="[^"]+"\s*viewBox="[^"]+""#).ok()
        })
        .as_ref()?;
    re.find(svg).map(|m| (m.start(), m.end()))
}

/// Where `<g id="graph<digit>"` starts.
fn find_graph_group(svg: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = svg[from..].find("<g id=\"graph") {
        let at = from + i;
        let rest = &svg[at + "<g id=\"graph".len()..];
        let mut chars = rest.chars();
        if chars.next().is_some_and(|c| c.is_ascii_digit()) && chars.next() == Some('"') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

// ---------------------------------------------------------------------------
// The DOT subset rprof writes, parsed back for the built-in renderer.

#[derive(Clone, Debug, Default)]
struct DotNode {
    name: String,
    attrs: HashMap<String, String>,
    /// Inside `subgraph cluster_L`: the legend.
    legend: bool,
}

#[derive(Clone, Debug, Default)]
struct DotEdge {
    from: String,
    to: String,
    attrs: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct DotGraph {
    name: String,
    node_defaults: HashMap<String, String>,
    nodes: Vec<DotNode>,
    edges: Vec<DotEdge>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Id(String),
    /// A quoted string, escapes kept as written.
    Quoted(String),
    Sym(char),
    Arrow,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '"' => {
                let mut q = String::new();
                while let Some(c) = it.next() {
                    match c {
                        '\\' => {
                            q.push('\\');
                            if let Some(n) = it.next() {
                                q.push(n);
                            }
                        }
                        '"' => break,
                        c => q.push(c),
                    }
                }
                out.push(Tok::Quoted(q));
            }
            '-' if it.peek() == Some(&'>') => {
                it.next();
                out.push(Tok::Arrow);
            }
            '{' | '}' | '[' | ']' | '=' | ';' | ',' => out.push(Tok::Sym(c)),
            c => {
                let mut id = String::from(c);
                while let Some(&n) = it.peek() {
                    if n.is_alphanumeric() || matches!(n, '_' | '.' | '#' | '-') {
                        if n == '-' && id.ends_with('-') {
                            break;
                        }
                        id.push(n);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Id(id));
            }
        }
    }
    out
}

fn parse_dot(s: &str) -> DotGraph {
    let toks = tokenize(s);
    let mut g = DotGraph::default();
    let mut i = 0;
    let text = |t: Option<&Tok>| match t {
        Some(Tok::Id(s)) | Some(Tok::Quoted(s)) => Some(s.clone()),
        _ => None,
    };
    // `digraph "name" {`
    while i < toks.len() && toks[i] != Tok::Sym('{') {
        if let Some(name) = text(toks.get(i)) {
            if name != "digraph" {
                g.name = name;
            }
        }
        i += 1;
    }
    i += 1;
    let mut depth_legend: Vec<bool> = vec![false];
    while i < toks.len() {
        let in_legend = depth_legend.last().copied().unwrap_or(false);
        match &toks[i] {
            Tok::Sym('}') => {
                depth_legend.pop();
                i += 1;
                if depth_legend.is_empty() {
                    break;
                }
            }
            Tok::Sym(_) | Tok::Arrow => i += 1,
            Tok::Id(kw) if kw == "subgraph" => {
                let name = text(toks.get(i + 1)).unwrap_or_default();
                i += 2;
                while i < toks.len() && toks[i] != Tok::Sym('{') {
                    i += 1;
                }
                i += 1;
                depth_legend.push(in_legend || name == "cluster_L");
            }
            Tok::Id(kw) if kw == "node" || kw == "edge" || kw == "graph" => {
                let kw = kw.clone();
                i += 1;
                let attrs = parse_attrs(&toks, &mut i);
                if kw == "node" {
                    g.node_defaults.extend(attrs);
                }
            }
            t => {
                let Some(first) = text(Some(t)) else {
                    i += 1;
                    continue;
                };
                i += 1;
                if toks.get(i) == Some(&Tok::Arrow) {
                    let to = text(toks.get(i + 1)).unwrap_or_default();
                    i += 2;
                    let attrs = parse_attrs(&toks, &mut i);
                    g.edges.push(DotEdge {
                        from: first,
                        to,
                        attrs,
                    });
                } else {
                    let attrs = parse_attrs(&toks, &mut i);
                    g.nodes.push(DotNode {
                        name: first,
                        attrs,
                        legend: in_legend,
                    });
                }
            }
        }
    }
    g
}

/// An optional `[k=v k="v" ...]` list at `toks[*i]`.
fn parse_attrs(toks: &[Tok], i: &mut usize) -> HashMap<String, String> {
    let mut attrs = HashMap::new();
    if toks.get(*i) != Some(&Tok::Sym('[')) {
        return attrs;
    }
    *i += 1;
    while *i < toks.len() {
        match &toks[*i] {
            Tok::Sym(']') => {
                *i += 1;
                break;
            }
            Tok::Id(k) | Tok::Quoted(k) if toks.get(*i + 1) == Some(&Tok::Sym('=')) => {
                let v = match toks.get(*i + 2) {
                    Some(Tok::Id(v)) | Some(Tok::Quoted(v)) => v.clone(),
                    _ => String::new(),
                };
                attrs.insert(k.clone(), v);
                *i += 3;
            }
            _ => *i += 1,
        }
    }
    attrs
}

/// A DOT label's lines, with left justification (`\l`) noted.
fn label_lines(raw: &str) -> Vec<(String, bool)> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            cur.push(c);
            continue;
        }
        match it.next() {
            Some('n') | Some('r') => lines.push((std::mem::take(&mut cur), false)),
            Some('l') => lines.push((std::mem::take(&mut cur), true)),
            Some(o) => cur.push(o),
            None => {}
        }
    }
    if !cur.is_empty() {
        lines.push((cur, false));
    }
    lines
}

/// A DOT string attribute without its escapes (tooltips, titles).
fn unescape(raw: &str) -> String {
    label_lines(raw)
        .into_iter()
        .map(|(l, _)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The built-in renderer.

const FONT: &str = "Times,serif";
/// Average glyph width of the font, in ems, to size boxes.
const CHAR_WIDTH: f64 = 0.56;
const LINE_HEIGHT: f64 = 1.2;
const EDGE_FONT: usize = 10;
const MARGIN: f64 = 8.0;

/// What the canvas needs to know about the drawn shapes, by index.
struct Meta {
    nodes: Vec<NodeMeta>,
    edges: Vec<EdgeMeta>,
}

struct NodeMeta {
    name: String,
    id: String,
    tooltip: String,
    color: String,
    fill: String,
    box3d: bool,
}

struct EdgeMeta {
    title: String,
    tooltip: String,
    color: String,
    width: f64,
    dash: Option<&'static str>,
}

fn text_size(lines: &[(String, bool)], font: f64) -> (f64, f64) {
    let chars = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    (
        chars as f64 * font * CHAR_WIDTH,
        lines.len().max(1) as f64 * font * LINE_HEIGHT,
    )
}

/// Lays out and draws the DOT text without Graphviz.
pub fn builtin(dot: &str) -> Result<String, String> {
    let g = parse_dot(dot);
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    // The DAG's self-checks are quadratic; the input is well formed.
    vg.dag.set_validate(false);
    let mut meta = Meta {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let mut handles = HashMap::new();
    let mut legend: Option<&DotNode> = None;
    let attr = |n: &DotNode, k: &str| -> Option<String> {
        n.attrs.get(k).or_else(|| g.node_defaults.get(k)).cloned()
    };
    for n in &g.nodes {
        if n.legend {
            legend = Some(n);
            continue;
        }
        if handles.contains_key(&n.name) {
            continue;
        }
        let lines = label_lines(&attr(n, "label").unwrap_or_else(|| n.name.clone()));
        let font = attr(n, "fontsize")
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(14.0)
            .clamp(1.0, 200.0);
        let (w, h) = text_size(&lines, font);
        let box3d = attr(n, "shape").as_deref() == Some("box3d");
        let size = Point::new((w + 16.0).max(54.0), (h + 10.0).max(36.0));
        let text: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
        let look = StyleAttr::new(
            layout::core::color::Color::fast("black"),
            1,
            None,
            0,
            font as usize,
        );
        let elem = Element::create_with_properties(
            ShapeKind::Box(text.join("\n")),
            look,
            dir,
            size,
            format!("n{}", meta.nodes.len()),
        );
        handles.insert(n.name.clone(), vg.add_node(elem));
        meta.nodes.push(NodeMeta {
            name: n.name.clone(),
            id: attr(n, "id").unwrap_or_else(|| n.name.clone()),
            tooltip: unescape(&attr(n, "tooltip").unwrap_or_default()),
            color: attr(n, "color").unwrap_or_else(|| "black".into()),
            fill: attr(n, "fillcolor").unwrap_or_else(|| "none".into()),
            box3d,
        });
    }
    for e in &g.edges {
        let (Some(&from), Some(&to)) = (handles.get(&e.from), handles.get(&e.to)) else {
            continue;
        };
        let style = e.attrs.get("style").map(String::as_str);
        let label = label_lines(e.attrs.get("label").map_or("", String::as_str));
        let inline = label.iter().any(|(l, _)| l.trim() == "(inline)");
        // Graphviz draws residual edges dotted; inlined calls are dashed
        // here too, so both read apart from plain calls.
        let dash = match style {
            Some("dotted") => Some("2,4"),
            _ if inline => Some("8,4"),
            _ => None,
        };
        let width = e
            .attrs
            .get("penwidth")
            .and_then(|w| w.parse::<f64>().ok())
            .unwrap_or(1.0)
            .clamp(0.5, 20.0);
        let text: Vec<&str> = label.iter().map(|(l, _)| l.trim()).collect();
        let look = StyleAttr::new(
            layout::core::color::Color::fast("black"),
            width as usize,
            None,
            0,
            EDGE_FONT,
        );
        let line_style = if dash.is_some() {
            LineStyleKind::Dashed
        } else {
            LineStyleKind::Normal
        };
        let arrow = Arrow::with_properties(
            LineEndKind::None,
            LineEndKind::Arrow,
            line_style,
            &text.join("\n"),
            &look,
            format!("e{}", meta.edges.len()),
            &None,
            &None,
        );
        vg.add_edge(arrow, from, to);
        meta.edges.push(EdgeMeta {
            title: format!("{}->{}", e.from, e.to),
            tooltip: unescape(e.attrs.get("tooltip").map_or("", String::as_str)),
            color: e
                .attrs
                .get("color")
                .cloned()
                .unwrap_or_else(|| "black".into()),
            width,
            dash,
        });
    }

    let mut canvas = Canvas::new(&meta);
    if vg.num_nodes() > 0 {
        // layout-rs asserts its invariants: a failure must not take the
        // whole program down (and must not print a panic message).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            vg.do_it(false, false, false, &mut canvas);
        }));
        std::panic::set_hook(hook);
        if result.is_err() {
            return Err("the built-in graph layout failed".into());
        }
    }
    Ok(canvas.finish(&g.name, legend))
}

/// A layout-rs backend writing SVG shaped like Graphviz's (a `node` group
/// per node with its `<title>`, an `edge` group per edge).
struct Canvas<'a> {
    meta: &'a Meta,
    body: String,
    /// A node group waits for its label.
    open: Option<usize>,
    min: Point,
    max: Point,
}

impl<'a> Canvas<'a> {
    fn new(meta: &'a Meta) -> Canvas<'a> {
        Canvas {
            meta,
            body: String::new(),
            open: None,
            min: Point::new(f64::MAX, f64::MAX),
            max: Point::new(f64::MIN, f64::MIN),
        }
    }

    fn grow(&mut self, p: Point) {
        if p.x.is_finite() && p.y.is_finite() {
            self.min = Point::new(self.min.x.min(p.x), self.min.y.min(p.y));
            self.max = Point::new(self.max.x.max(p.x), self.max.y.max(p.y));
        }
    }

    fn close(&mut self) {
        if self.open.take().is_some() {
            self.body.push_str("</a>\n</g>\n</g>\n");
        }
    }

    fn finish(mut self, title: &str, legend: Option<&DotNode>) -> String {
        self.close();
        if self.min.x > self.max.x {
            self.min = Point::zero();
            self.max = Point::zero();
        }
        // The legend goes above the graph, left-aligned.
        let mut legend_svg = String::new();
        let mut legend_h = 0.0;
        let mut legend_w = 0.0;
        if let Some(l) = legend {
            let lines = label_lines(l.attrs.get("label").map_or("", String::as_str));
            let font = 16.0;
            let (w, h) = text_size(&lines, font);
            legend_w = w + 2.0 * MARGIN;
            legend_h = h + 2.0 * MARGIN;
            let tooltip = unescape(l.attrs.get("tooltip").map_or("", String::as_str));
            legend_svg.push_str(&format!(
                "<g id=\"legend\" class=\"cluster\">\n<title>{}</title>\n<g id=\"a_legend\"><a xlink:title=\"{}\">\n<rect x=\"0\" y=\"0\" width=\"{legend_w:.1}\" height=\"{legend_h:.1}\" fill=\"#f8f8f8\" stroke=\"black\"/>\n",
                xml(&unescape(&l.name)),
                xml(&tooltip)
            ));
            for (i, (line, _)) in lines.iter().enumerate() {
                let y = MARGIN + (i as f64 + 0.8) * font * LINE_HEIGHT;
                legend_svg.push_str(&format!(
                    "<text text-anchor=\"start\" x=\"{MARGIN}\" y=\"{y:.1}\" font-family=\"{FONT}\" font-size=\"{font:.2}\">{}</text>\n",
                    xml(line)
                ));
            }
            legend_svg.push_str("</a>\n</g>\n</g>\n");
        }
        let gap = if legend.is_some() { 2.0 * MARGIN } else { 0.0 };
        let dx = MARGIN - self.min.x;
        let dy = MARGIN + legend_h + gap - self.min.y;
        let width = (self.max.x - self.min.x + 2.0 * MARGIN).max(legend_w + 2.0 * MARGIN);
        let height = self.max.y - self.min.y + legend_h + gap + 2.0 * MARGIN;
        // Start zoomed out enough to show about 1600 pixels of width.
        let scale = (1600.0 / width).clamp(0.1, 1.0);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <!-- Generated by rprof's built-in graph layout -->\n\
             <svg width=\"100%\" height=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n\
             {script}<g id=\"viewport\" transform=\"scale({scale:.3},{scale:.3}) translate(0,0)\">\n\
             <g id=\"graph0\" class=\"graph\" transform=\"translate({MARGIN},{MARGIN})\">\n\
             <title>{title}</title>\n\
             <rect x=\"0\" y=\"0\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"white\"/>\n\
             {legend_svg}<g transform=\"translate({dx:.1},{dy:.1})\">\n{body}</g>\n</g>\n</g>\n</svg>\n",
            script = script(),
            title = xml(title),
            body = self.body,
        )
    }
}

impl RenderBackend for Canvas<'_> {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        let Some(i) = properties
            .as_deref()
            .and_then(|p| p.strip_prefix('n'))
            .and_then(|i| i.parse::<usize>().ok())
        else {
            return;
        };
        let Some(n) = self.meta.nodes.get(i) else {
            return;
        };
        self.close();
        self.grow(xy);
        self.grow(xy.add(size));
        let (x, y, w, h) = (xy.x, xy.y, size.x, size.y);
        let mut shape = format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\" stroke=\"{}\"/>\n",
            xml(&n.fill),
            xml(&n.color)
        );
        if n.box3d {
            // A box with depth, as Graphviz's box3d.
            let d = 4.0;
            shape.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{c}\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"/>\n",
                x + d,
                y,
                x + d,
                y - d,
                x + w + d,
                y - d,
                x + w + d,
                y + h - d,
                c = xml(&n.color)
            ));
            shape.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{c}\" points=\"{:.1},{:.1} {:.1},{:.1}\"/>\n",
                x + w,
                y,
                x + w + d,
                y - d,
                c = xml(&n.color)
            ));
        }
        self.body.push_str(&format!(
            "<g id=\"{id}\" class=\"node\">\n<title>{name}</title>\n<g id=\"a_{id}\"><a xlink:title=\"{tip}\">\n{shape}",
            id = xml(&n.id),
            name = xml(&n.name),
            tip = xml(&n.tooltip),
        ));
        self.open = Some(i);
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        let font = look.font_size.max(1) as f64;
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            self.close();
            return;
        }
        let lh = font * LINE_HEIGHT;
        let top = xy.y - lh * lines.len() as f64 / 2.0;
        let node = self.open.is_some();
        if !node {
            self.body.push_str("<g class=\"edge-label\">\n");
        }
        for (i, line) in lines.iter().enumerate() {
            // Baselines sit about 0.8 of a line below each line's top.
            let y = top + lh * (i as f64 + 0.8);
            self.grow(Point::new(xy.x, y));
            self.body.push_str(&format!(
                "<text text-anchor=\"middle\" x=\"{:.1}\" y=\"{y:.1}\" font-family=\"{FONT}\" font-size=\"{font:.2}\">{}</text>\n",
                xy.x,
                xml(line)
            ));
        }
        if node {
            self.close();
        } else {
            self.body.push_str("</g>\n");
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        self.close();
        let Some(i) = properties
            .as_deref()
            .and_then(|p| p.strip_prefix('e'))
            .and_then(|i| i.parse::<usize>().ok())
        else {
            return;
        };
        let Some(e) = self.meta.edges.get(i) else {
            return;
        };
        let (Some(first), Some(last)) = (path.first(), path.last()) else {
            return;
        };
        for (a, b) in path {
            self.grow(*a);
            self.grow(*b);
        }
        let mut d = format!("M{:.1},{:.1}", first.0.x, first.0.y);
        if let Some(second) = path.get(1) {
            d.push_str(&format!(
                " C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                first.1.x, first.1.y, second.0.x, second.0.y, second.1.x, second.1.y
            ));
            for p in path.iter().skip(2) {
                d.push_str(&format!(
                    " S{:.1},{:.1} {:.1},{:.1}",
                    p.0.x, p.0.y, p.1.x, p.1.y
                ));
            }
        }
        let dash = e
            .dash
            .map_or(String::new(), |d| format!(" stroke-dasharray=\"{d}\""));
        let color = xml(&e.color);
        let mut heads = String::new();
        if head.1 && path.len() > 1 {
            heads.push_str(&arrow_head(last.1, last.0, e.width, &color));
        }
        if head.0 && path.len() > 1 {
            heads.push_str(&arrow_head(first.0, first.1, e.width, &color));
        }
        self.body.push_str(&format!(
            "<g id=\"edge{n}\" class=\"edge\">\n<title>{title}</title>\n<g id=\"a_edge{n}\"><a xlink:title=\"{tip}\">\n<path fill=\"none\" stroke=\"{color}\" stroke-width=\"{w}\"{dash} d=\"{d}\"/>\n{heads}</a>\n</g>\n</g>\n",
            n = i + 1,
            title = xml(&e.title),
            tip = xml(&e.tooltip),
            w = e.width,
        ));
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// A filled triangle at `tip`, pointing away from `from`.
fn arrow_head(tip: Point, from: Point, width: f64, color: &str) -> String {
    let (dx, dy) = (tip.x - from.x, tip.y - from.y);
    let len = (dx * dx + dy * dy).sqrt();
    if !len.is_finite() || len < 1e-6 {
        return String::new();
    }
    let (ux, uy) = (dx / len, dy / len);
    let size = 10.0 * width.sqrt();
    let (bx, by) = (tip.x - ux * size, tip.y - uy * size);
    let (px, py) = (-uy * size * 0.35, ux * size * 0.35);
    format!(
        "<polygon fill=\"{color}\" stroke=\"{color}\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"/>\n",
        tip.x,
        tip.y,
        bx + px,
        by + py,
        bx - px,
        by - py
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rprof_dot() {
        let g = parse_dot(
            "digraph \"a b\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n\
             subgraph cluster_L { \"File: x\" [shape=box label=\"File: x\\lType: t\\l\"] }\n\
             N1 [label=\"main\\nf\\n1s (10%)\" id=\"node1\" fontsize=12 shape=box tooltip=\"main.f (1s)\"]\n\
             N1 -> N2 [label=\" 1s\\n (inline)\" weight=2 style=\"dotted\"]\n}\n",
        );
        assert_eq!(g.name, "a b");
        assert_eq!(g.nodes.len(), 2);
        assert!(g.nodes[0].legend);
        assert_eq!(g.nodes[1].attrs["fontsize"], "12");
        assert_eq!(g.edges.len(), 1);
        assert_eq!(g.edges[0].attrs["style"], "dotted");
        assert_eq!(
            label_lines(&g.nodes[1].attrs["label"]),
            vec![
                ("main".to_string(), false),
                ("f".to_string(), false),
                ("1s (10%)".to_string(), false)
            ]
        );
    }

    #[test]
    fn massage_wraps_graphviz_output() {
        let svg = "<svg width=\"8pt\" height=\"9pt\"\n viewBox=\"0 0 8 9\" xmlns=\"x\">\n<g id=\"graph0\" class=\"graph\">\n</g>\n</svg>\n";
        let m = massage(svg);
        assert!(m.starts_with("<svg width=\"100%\" height=\"100%\" xmlns=\"x\">"));
        assert!(m.contains(
            "<g id=\"viewport\" transform=\"scale(0.5,0.5) translate(0,0)\"><g id=\"graph0\""
        ));
        assert!(m.ends_with("</g>\n</g></svg>\n"));
    }

    #[test]
    fn builtin_draws_nodes_and_edges() {
        let svg = builtin(
            "digraph \"t\" {\nN1 [label=\"a\" id=\"node1\"]\nN2 [label=\"b\" id=\"node2\"]\nN1 -> N2 [label=\" 1\"]\nN2 -> N1 [label=\" 2\"]\n}\n",
        )
        .unwrap();
        assert!(svg.contains("<title>N1</title>"));
        assert!(svg.contains("<title>N1-&gt;N2</title>"));
        assert!(svg.contains("<title>N2-&gt;N1</title>"));
    }
}
