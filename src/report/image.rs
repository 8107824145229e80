//! `png`, `gif`, `pdf`, `ps`, `eps`: the call graph as an image or a
//! printable document.
//!
//! As pprof does, the DOT text goes through Graphviz (`dot -Tpng`...).
//! Without Graphviz (or with `RPROF_NO_GRAPHVIZ=1`), PNG and PDF are still
//! drawn, in pure Rust, from the built-in layout's SVG: rasterized by
//! resvg, converted by svg2pdf, with text in an embedded DejaVu Sans (a
//! machine may have no fonts installed). GIF and PostScript need Graphviz.

use std::sync::{Arc, OnceLock};

use crate::report::dot::Drawing;
use crate::report::error::RenderError;
use crate::report::svg;
use crate::ui::Ui;

use resvg::{tiny_skia, usvg};

/// DejaVu Sans 2.37 (assets/fonts/README.md).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";

/// The built-in PNG's scale (its SVG is in CSS pixels): sharper text.
const PNG_SCALE: f32 = 1.5;
/// At most this many pixels in a built-in PNG (a 200 MB canvas); larger
/// graphs are scaled down to fit.
const MAX_PIXELS: f32 = 50_000_000.0;
/// Nor wider or taller than this.
const MAX_SIDE: f32 = 32_000.0;

/// An output format of Graphviz's `dot -T<format>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Gif,
    Pdf,
    Ps,
    Eps,
}

impl ImageFormat {
    /// Graphviz's name for it (`-Tpng`), also the file suffix.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Gif => "gif",
            ImageFormat::Pdf => "pdf",
            ImageFormat::Ps => "ps",
            ImageFormat::Eps => "eps",
        }
    }

    /// Whether rprof draws it without Graphviz.
    pub fn builtin(self) -> bool {
        matches!(self, ImageFormat::Png | ImageFormat::Pdf)
    }
}

/// Draws a call graph in `format`: with Graphviz when `dot` is on PATH
/// (and not disabled), else PNG and PDF from the built-in layout. When
/// Graphviz fails, PNG and PDF fall back to the built-in layout with a
/// warning; the other formats fail.
pub fn render(
    drawing: &Drawing,
    format: ImageFormat,
    ui: &mut dyn Ui,
) -> Result<Vec<u8>, RenderError> {
    if !svg::graphviz_disabled() {
        match svg::run_dot(&drawing.to_dot(), format.name()) {
            Ok(Some(bytes)) => return Ok(bytes),
            Ok(None) => {}
            Err(e) if format.builtin() => {
                ui.warn(&format!("rprof: {e}; using the built-in graph layout"));
            }
            Err(e) => return Err(e),
        }
    }
    match format {
        ImageFormat::Png => svg_to_png(&svg::builtin_static(drawing)?),
        ImageFormat::Pdf => svg_to_pdf(&svg::builtin_static(drawing)?),
        _ => Err(RenderError::NeedsGraphviz(format.name())),
    }
}

/// Draws a call graph as a fixed-size SVG for image viewers: Graphviz's
/// own (`dot -Tsvg`, without the browser changes), else the built-in
/// layout's.
pub fn render_svg(drawing: &Drawing, ui: &mut dyn Ui) -> Result<String, RenderError> {
    if !svg::graphviz_disabled() {
        match svg::run_dot(&drawing.to_dot(), "svg") {
            Ok(Some(bytes)) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Ok(None) => {}
            Err(e) => ui.warn(&format!("rprof: {e}; using the built-in graph layout")),
        }
    }
    svg::builtin_static(drawing)
}

/// The font database: the embedded DejaVu Sans only, standing in for every
/// family (the built-in SVG asks for `Times,serif`).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(FONT)));
        db.set_serif_family(FONT_FAMILY);
        db.set_sans_serif_family(FONT_FAMILY);
        db.set_monospace_family(FONT_FAMILY);
        db.set_cursive_family(FONT_FAMILY);
        db.set_fantasy_family(FONT_FAMILY);
        Arc::new(db)
    })
    .clone()
}

fn parse(svg: &str) -> Result<usvg::Tree, RenderError> {
    let opt = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opt).map_err(|e| RenderError::Convert(e.to_string()))
}

/// Rasterizes an SVG on a white background.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    let size = tree.size();
    let (w, h) = (size.width(), size.height());
    let fit = (MAX_PIXELS / (w * h * PNG_SCALE * PNG_SCALE))
        .sqrt()
        .min(MAX_SIDE / (w.max(h) * PNG_SCALE))
        .min(1.0);
    let scale = PNG_SCALE * fit;
    let (pw, ph) = (
        (w * scale).ceil().max(1.0) as u32,
        (h * scale).ceil().max(1.0) as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(pw, ph)
        .ok_or_else(|| RenderError::Convert(format!("cannot draw a {pw}x{ph} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Convert(e.to_string()))
}

/// Converts an SVG to a one-page PDF of its size (one CSS pixel a point).
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| RenderError::Convert(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r#"<svg width="200" height="120" viewBox="0 0 200 120" xmlns="http://www.w3.org/2000/svg"><rect x="10" y="10" width="180" height="100" fill="none" stroke="black"/><text x="20" y="60" font-family="Times,serif" font-size="20">main.work</text></svg>"#;

    #[test]
    fn the_embedded_font_is_found() {
        let db = fonts();
        assert_eq!(db.len(), 1);
        let tree = parse(SVG).unwrap();
        // Text became outlines: the font was used.
        fn has_text(g: &usvg::Group) -> bool {
            g.children().iter().any(|n| match n {
                usvg::Node::Text(t) => !t.flattened().children().is_empty(),
                usvg::Node::Group(g) => has_text(g),
                _ => false,
            })
        }
        assert!(has_text(tree.root()));
    }

    #[test]
    fn png_and_pdf_of_a_small_svg() {
        let png = svg_to_png(SVG).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let pdf = svg_to_pdf(SVG).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The font is embedded (subset).
        assert!(pdf.windows(9).any(|w| w == b"/FontFile"));
    }
}
