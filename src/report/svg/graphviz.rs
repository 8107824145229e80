//! Graphviz: `dot -Tsvg` on the DOT text, and pprof's changes to its SVG
//! for browsers (fill the window, pan and zoom).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::report::error::RenderError;

/// Draws DOT text with Graphviz, made browser-ready ([`massage`]);
/// `Ok(None)` when Graphviz is not installed.
pub fn render_dot(dot: &str) -> Result<Option<String>, RenderError> {
    Ok(run_dot(dot, "svg")?.map(|svg| massage(&String::from_utf8_lossy(&svg))))
}

/// Runs `dot -T<format>` (`svg`, `png`, `pdf`...) on DOT text and returns
/// what it printed; `Ok(None)` when Graphviz is not installed.
pub fn run_dot(dot: &str, format: &str) -> Result<Option<Vec<u8>>, RenderError> {
    let child = Command::new("dot")
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RenderError::Spawn(e)),
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
    let out = child.wait_with_output().map_err(RenderError::Spawn)?;
    let _ = writer.join();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(RenderError::Graphviz {
            status: out.status.to_string(),
            message: err.lines().next().unwrap_or("").trim().to_string(),
        });
    }
    Ok(Some(out.stdout))
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

pub(super) fn script() -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
