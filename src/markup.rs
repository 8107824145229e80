//! Escaping text for HTML and XML (SVG). The web pages, `weblist` and the
//! built-in SVG layout escape the same five markup characters; they differ
//! only in how a double quote is spelled (`weblist` writes Go's `&#34;`, as
//! pprof's page does) and in what becomes of control characters.

/// `s` with `&`, `<`, `>`, `"` (as `quote`) and `'` escaped; every other
/// character goes through `other`, which pushes it as it is or escaped.
pub fn escape(s: &str, quote: &str, other: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // Runs of printable ASCII other than the five are copied whole (pages
    // of reports are megabytes of them).
    let plain =
        |b: u8| (0x20..0x7f).contains(&b) && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'');
    let mut rest = s;
    while !rest.is_empty() {
        let run = rest.bytes().position(|b| !plain(b)).unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            break;
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str(quote),
            '\'' => out.push_str("&#39;"),
            c => other(c, &mut out),
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn five_characters_and_the_rest() {
        let keep = |c: char, out: &mut String| out.push(c);
        assert_eq!(
            super::escape("<a b=\"x\">&'\u{1}", "&#34;", keep),
            "&lt;a b=&#34;x&#34;&gt;&amp;&#39;\u{1}"
        );
        let drop_controls = |c: char, out: &mut String| {
            if !c.is_control() {
                out.push(c)
            }
        };
        assert_eq!(
            super::escape("\"a\u{7}", "&quot;", drop_controls),
            "&quot;a"
        );
    }
}
