//! The built-in layout: a [`Drawing`] laid out by layout-rs and written as
//! SVG shaped like Graphviz's (a `node` group per node with its `<title>`,
//! an `edge` group per edge), for machines without Graphviz.

use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::graphviz::script;
use crate::report::dot::{Drawing, Label, Legend, Shape, NODE_FILL};
use crate::report::error::RenderError;

const FONT: &str = "Times,serif";
/// Average glyph width of the font, in ems, to size boxes: browsers'
/// Times, and the wider DejaVu Sans that PNG and PDF embed.
const CHAR_WIDTH: f64 = 0.56;
const IMAGE_CHAR_WIDTH: f64 = 0.62;
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

/// Longest label line drawn, in characters (longer ones are cut with `…`).
const MAX_LINE_CHARS: usize = 300;
/// Most label lines drawn per node or edge.
const MAX_LINES: usize = 40;

/// Text safe for XML and for layout-rs: characters below 0x20 (tab and
/// newline too: a line is one line) and the non-characters U+FFFE/U+FFFF
/// are shown as `\x1b`-style escapes.
fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for XML text and attribute values. Control characters
/// other than tab and newline (which XML 1.0 cannot carry, even escaped)
/// become visible escapes.
fn xml(s: &str) -> String {
    crate::markup::escape(s, "&quot;", |c, out| match c {
        '\t' | '\n' => out.push(c),
        c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
            out.push_str(&visible(&c.to_string()))
        }
        c => out.push(c),
    })
}

/// A label's lines as drawn: visible characters only, at most
/// [`MAX_LINES`] lines of at most [`MAX_LINE_CHARS`] characters.
fn drawn_lines(label: &Label, trim: bool) -> Vec<String> {
    label
        .drawn_lines()
        // A newline inside a line (the legend's blank line before its
        // "See ..." line, as pprof writes it) starts a line of its own.
        .flat_map(|(l, _)| l.split('\n'))
        .take(MAX_LINES)
        .map(|l| {
            let l = if trim { l.trim() } else { l };
            let mut l = visible(l);
            if let Some((cut, _)) = l.char_indices().nth(MAX_LINE_CHARS) {
                l.truncate(cut);
                l.push('…');
            }
            l
        })
        .collect()
}

fn text_size(lines: &[String], font: f64, char_width: f64) -> (f64, f64) {
    let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (
        chars as f64 * font * char_width,
        lines.len().max(1) as f64 * font * LINE_HEIGHT,
    )
}

/// Lays out and draws a call graph without Graphviz.
///
/// layout-rs asserts its invariants instead of returning errors, so its
/// input is normalized first: no self edges (its self-edge routing is not
/// relied on; the graphs drawn here have none) and no edges to nodes not
/// drawn, finite sizes within bounds, labels of a bounded number of
/// visible characters, no layout at all for an empty graph. Duplicate and
/// reciprocal edges are fine (each is its own DAG edge). That covers
/// everything we found that makes it panic from its input, but some of its
/// assertions concern the geometry it computes (edge routing through
/// coincident points, row bounds), which cannot be ruled out from here:
/// a plain `catch_unwind` stays as the last line of defence, turning such
/// a panic into [`RenderError::Layout`] (the default panic message is still
/// printed; the process-wide panic hook is not touched).
pub fn builtin(d: &Drawing) -> Result<String, RenderError> {
    draw(d, Target::Browser)
}

/// The built-in layout as a fixed-size SVG for conversion to an image
/// (PNG, PDF): its size in pixels, no script, no initial zoom.
pub fn builtin_static(d: &Drawing) -> Result<String, RenderError> {
    draw(d, Target::Image)
}

/// What the SVG is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Fills the window, pans and zooms.
    Browser,
    /// Its own size, nothing scripted.
    Image,
}

impl Target {
    fn char_width(self) -> f64 {
        match self {
            Target::Browser => CHAR_WIDTH,
            Target::Image => IMAGE_CHAR_WIDTH,
        }
    }
}

fn draw(d: &Drawing, target: Target) -> Result<String, RenderError> {
    // layout-rs's ranking grows faster than quadratically: past a few
    // hundred boxes it takes minutes. Refuse rather than seem to hang.
    if d.nodes.len() > MAX_BUILTIN_NODES {
        return Err(RenderError::TooManyNodes {
            nodes: d.nodes.len(),
            limit: MAX_BUILTIN_NODES,
        });
    }
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    // The DAG's self-checks are quadratic; the input is well formed.
    vg.dag.set_validate(false);
    let mut meta = Meta {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let mut handles = Vec::with_capacity(d.nodes.len());
    for n in &d.nodes {
        let lines = drawn_lines(&n.label, false);
        let font = (n.font_size as f64).clamp(1.0, 200.0);
        let (w, h) = text_size(&lines, font, target.char_width());
        let box3d = n.shape == Shape::Box3d;
        let size = Point::new((w + 16.0).max(54.0), (h + 10.0).max(36.0));
        let look = StyleAttr::new(
            layout::core::color::Color::fast("black"),
            1,
            None,
            0,
            font as usize,
        );
        let elem = Element::create_with_properties(
            ShapeKind::Box(lines.join("\n")),
            look,
            dir,
            size,
            format!("n{}", meta.nodes.len()),
        );
        handles.push(vg.add_node(elem));
        meta.nodes.push(NodeMeta {
            name: n.name.clone(),
            id: n.id.clone(),
            tooltip: n.tooltip.clone(),
            color: n.color.clone().unwrap_or_else(|| "black".into()),
            fill: n.fill.clone().unwrap_or_else(|| NODE_FILL.into()),
            box3d,
        });
    }
    for e in &d.edges {
        let Some(to) = e.to else {
            continue;
        };
        let (Some(&from_h), Some(&to_h)) = (handles.get(e.from), handles.get(to)) else {
            continue;
        };
        if e.from == to {
            continue;
        }
        // Graphviz draws residual edges dotted; inlined calls are dashed
        // here too, so both read apart from plain calls.
        let dash = if e.dotted {
            Some("2,4")
        } else if e.inline {
            Some("8,4")
        } else {
            None
        };
        let width = e.penwidth.map_or(1.0, |w| w as f64).clamp(0.5, 20.0);
        let text = drawn_lines(&e.label, true);
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
        vg.add_edge(arrow, from_h, to_h);
        meta.edges.push(EdgeMeta {
            title: format!("{}->{}", d.nodes[e.from].name, d.nodes[to].name),
            tooltip: e.tooltip.clone(),
            color: e.color.clone().unwrap_or_else(|| "black".into()),
            width,
            dash,
        });
    }

    let mut canvas = Canvas::new(&meta, target.char_width());
    if vg.num_nodes() > 0 {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            vg.do_it(false, false, false, &mut canvas);
        }));
        if result.is_err() {
            return Err(RenderError::Layout);
        }
    }
    Ok(canvas.finish(&d.name, d.legend.as_ref(), target))
}

/// How far right of its edge an edge label starts.
const EDGE_LABEL_GAP: f64 = 6.0;

/// The most boxes (nodes and their label boxes) the built-in layout draws.
pub const MAX_BUILTIN_NODES: usize = 300;

/// A layout-rs backend writing SVG shaped like Graphviz's (a `node` group
/// per node with its `<title>`, an `edge` group per edge).
struct Canvas<'a> {
    meta: &'a Meta,
    char_width: f64,
    body: String,
    /// A node group waits for its label.
    open: Option<usize>,
    min: Point,
    max: Point,
}

impl<'a> Canvas<'a> {
    fn new(meta: &'a Meta, char_width: f64) -> Canvas<'a> {
        Canvas {
            meta,
            char_width,
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

    fn finish(mut self, title: &str, legend: Option<&Legend>, target: Target) -> String {
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
            let lines = drawn_lines(&l.label, false);
            let font = 16.0;
            let (w, h) = text_size(&lines, font, target.char_width());
            legend_w = w + 2.0 * MARGIN;
            legend_h = h + 2.0 * MARGIN;
            legend_svg.push_str(&format!(
                "<g id=\"legend\" class=\"cluster\">\n<title>{}</title>\n<g id=\"a_legend\"><a xlink:title=\"{}\">\n<rect x=\"0\" y=\"0\" width=\"{legend_w:.1}\" height=\"{legend_h:.1}\" fill=\"#f8f8f8\" stroke=\"black\"/>\n",
                xml(&l.name),
                xml(l.tooltip.as_deref().unwrap_or(""))
            ));
            for (i, line) in lines.iter().enumerate() {
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
        let (svg, script, scale) = match target {
            // Start zoomed out enough to show about 1600 pixels of width.
            Target::Browser => (
                "<svg width=\"100%\" height=\"100%\"".to_string(),
                script(),
                (1600.0 / width).clamp(0.1, 1.0),
            ),
            Target::Image => {
                let (w, h) = (width + 2.0 * MARGIN, height + 2.0 * MARGIN);
                (
                    format!(
                        "<svg width=\"{w:.1}\" height=\"{h:.1}\" viewBox=\"0 0 {w:.1} {h:.1}\""
                    ),
                    String::new(),
                    1.0,
                )
            }
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <!-- Generated by rprof's built-in graph layout -->\n\
             {svg} xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n\
             {script}<g id=\"viewport\" transform=\"scale({scale:.3},{scale:.3}) translate(0,0)\">\n\
             <g id=\"graph0\" class=\"graph\" transform=\"translate({MARGIN},{MARGIN})\">\n\
             <title>{title}</title>\n\
             <rect x=\"0\" y=\"0\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"white\"/>\n\
             {legend_svg}<g transform=\"translate({dx:.1},{dy:.1})\">\n{body}</g>\n</g>\n</g>\n</svg>\n",
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
            if node {
                self.grow(Point::new(xy.x, y));
                self.body.push_str(&format!(
                    "<text text-anchor=\"middle\" x=\"{:.1}\" y=\"{y:.1}\" font-family=\"{FONT}\" font-size=\"{font:.2}\">{}</text>\n",
                    xy.x,
                    xml(line)
                ));
            } else {
                // layout-rs puts an edge's label where the edge passes:
                // drawn beside it (as Graphviz does), over a white halo, so
                // neither hides the other.
                let x = xy.x + EDGE_LABEL_GAP;
                let width = line.chars().count() as f64 * font * self.char_width;
                self.grow(Point::new(x + width, y));
                self.body.push_str(&format!(
                    "<text text-anchor=\"start\" x=\"{x:.1}\" y=\"{y:.1}\" font-family=\"{FONT}\" font-size=\"{font:.2}\" paint-order=\"stroke\" stroke=\"white\" stroke-width=\"3\">{}</text>\n",
                    xml(line)
                ));
            }
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
    use crate::report::dot::{DrawEdge, DrawNode, Justify};

    fn node(i: usize, label: &str) -> DrawNode {
        DrawNode {
            name: format!("N{i}"),
            id: format!("node{i}"),
            label: Label::text(label),
            tooltip: format!("{label} (1s)"),
            font_size: 12,
            shape: Shape::Box,
            color: Some("#b20000".into()),
            fill: None,
            nodelet: false,
        }
    }

    fn edge(from: usize, to: usize) -> DrawEdge {
        DrawEdge {
            from,
            to: Some(to),
            label: Label::text(" 1s"),
            inline: false,
            tooltip: "a -> b (1s)".into(),
            color: None,
            penwidth: Some(2),
            weight: None,
            dotted: false,
            minlen: None,
        }
    }

    fn drawing(nodes: Vec<DrawNode>, edges: Vec<DrawEdge>) -> Drawing {
        Drawing {
            name: "t".into(),
            legend: None,
            nodes,
            edges,
        }
    }

    /// The SVG parses as XML.
    fn check(svg: &str) {
        roxmltree::Document::parse_with_options(
            svg,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}:\n{svg}"));
    }

    #[test]
    fn builtin_draws_nodes_and_edges() {
        let d = drawing(
            vec![node(1, "a"), node(2, "b")],
            vec![edge(0, 1), edge(1, 0)],
        );
        let svg = builtin(&d).unwrap();
        check(&svg);
        assert!(svg.contains("<title>N1</title>"));
        assert!(svg.contains("<title>N1-&gt;N2</title>"));
        assert!(svg.contains("<title>N2-&gt;N1</title>"));
    }

    /// An edge's label is drawn beside the edge, not across it: on a
    /// vertical edge the text starts right of the line.
    #[test]
    fn edge_labels_beside_their_edges() {
        let d = drawing(vec![node(1, "a"), node(2, "b")], vec![edge(0, 1)]);
        let svg = builtin(&d).unwrap();
        let num = |s: &str, key: &str| -> f64 {
            let i = s.find(key).expect(key) + key.len();
            s[i..]
                .split(['"', ',', ' '])
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let path_x = num(&svg[svg.find("<path").unwrap()..], " d=\"M");
        let label = &svg[svg.find("class=\"edge-label\"").expect("edge label")..];
        let label_x = num(label, " x=\"");
        assert!(label.contains("text-anchor=\"start\""), "{label}");
        assert!(
            label_x >= path_x + 4.0,
            "label at x={label_x}, edge at x={path_x}"
        );
    }

    /// A newline inside a label line (pprof's legend) is a line break.
    #[test]
    fn newlines_in_labels_break_lines() {
        let mut label = Label::text("Dropped 3 nodes");
        label.end_line(Justify::Left);
        label.push("\nSee the docs");
        assert_eq!(
            drawn_lines(&label, false),
            vec!["Dropped 3 nodes", "", "See the docs"]
        );
    }

    #[test]
    fn awkward_shapes_draw() {
        let long = "x".repeat(5000);
        let cases: Vec<(&str, Drawing)> = vec![
            ("empty", drawing(vec![], vec![])),
            ("single", drawing(vec![node(1, "a")], vec![])),
            ("self edge", drawing(vec![node(1, "a")], vec![edge(0, 0)])),
            (
                "empty label",
                drawing(vec![node(1, ""), node(2, "")], vec![edge(0, 1)]),
            ),
            (
                "long label",
                drawing(vec![node(1, &long), node(2, "b")], vec![edge(0, 1)]),
            ),
            (
                "duplicate edges",
                drawing(
                    vec![node(1, "a"), node(2, "b")],
                    vec![edge(0, 1), edge(0, 1), edge(1, 0)],
                ),
            ),
            (
                "edge off the drawing",
                drawing(
                    vec![node(1, "a")],
                    vec![DrawEdge {
                        to: None,
                        ..edge(0, 0)
                    }],
                ),
            ),
            (
                "odd sizes",
                drawing(
                    vec![
                        DrawNode {
                            font_size: 0,
                            ..node(1, "a")
                        },
                        DrawNode {
                            font_size: i64::MAX,
                            ..node(2, "b")
                        },
                    ],
                    vec![DrawEdge {
                        penwidth: Some(i64::MIN),
                        label: Label::default(),
                        ..edge(0, 1)
                    }],
                ),
            ),
        ];
        for (what, d) in cases {
            let svg = builtin(&d).unwrap_or_else(|e| panic!("{what}: {e}"));
            check(&svg);
            assert_eq!(
                svg.matches("class=\"node\"").count(),
                d.nodes.len(),
                "{what}"
            );
        }
    }

    /// A tree of `n` nodes, each calling two others, drawn whole.
    fn many_nodes(n: usize) {
        let nodes: Vec<DrawNode> = (1..=n).map(|i| node(i, &format!("f{i}"))).collect();
        let edges = (1..n).map(|i| edge((i - 1) / 2, i)).collect();
        let d = drawing(nodes, edges);
        let svg = builtin(&d).unwrap();
        check(&svg);
        assert_eq!(svg.matches("class=\"node\"").count(), n);
        assert_eq!(svg.matches("class=\"edge\"").count(), n - 1);
    }

    #[test]
    fn two_hundred_nodes() {
        many_nodes(200);
    }

    /// Too big for layout-rs in reasonable time: refused with a reason.
    #[test]
    fn two_thousand_nodes_are_refused() {
        let nodes: Vec<DrawNode> = (1..=2000).map(|i| node(i, &format!("f{i}"))).collect();
        let d = drawing(nodes, Vec::new());
        let e = builtin(&d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the built-in graph layout draws at most 300 boxes, this graph has 2000: lower -nodecount or install Graphviz"
        );
    }

    #[test]
    fn profile_strings_are_escaped() {
        let mut label = Label::text("a<b>&\"c\" 'd'\u{1b}[31m");
        label.end_line(Justify::Left);
        label.push("tab\there");
        let n = DrawNode {
            label,
            name: "N1".into(),
            tooltip: "<&\u{7}>".into(),
            ..node(1, "")
        };
        let mut d = drawing(vec![n, node(2, "b")], vec![edge(0, 1)]);
        d.name = "x\"<y>\u{0}".into();
        d.legend = Some(Legend {
            name: "File: <a>".into(),
            label: Label::text("File: <a>\u{1}"),
            tooltip: Some("'t'".into()),
        });
        let svg = builtin(&d).unwrap();
        check(&svg);
        assert!(
            svg.contains("a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39;\\x1b[31m"),
            "{svg}"
        );
        assert!(svg.contains("tab\\x09here"));
        assert!(svg.contains("&lt;&amp;\\x07&gt;"));
        assert!(svg.contains("<title>x&quot;&lt;y&gt;\\x00</title>"));
        assert!(svg.contains("File: &lt;a&gt;\\x01"));
        assert!(!svg
            .chars()
            .any(|c| (c as u32) < 0x20 && c != '\n' && c != '\t'));
    }
}
