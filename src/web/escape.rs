//! Escaping for the web UI: every profile string (function and file names,
//! comments, sample types, regexps typed by the user) goes through one of
//! these on its way into a page.

use std::fmt::Write;

/// Text for HTML content and quoted attribute values: `& < > " '`
/// escaped, and control characters (other than newline and tab) shown as
/// `\u{..}` so they cannot confuse the page or a terminal copy.
pub fn html(s: &str) -> String {
    crate::markup::escape(s, "&quot;", |c, out| match c {
        '\n' | '\t' => out.push(c),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    })
}

/// A JSON string literal (with its quotes) that is also safe inside an
/// HTML `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 are `\u`
/// escapes, so `</script>` or `<!--` in a name cannot end the element.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    out
}

/// [`json_str`] appended to `out`.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Percent-encoding for a URL query value (RFC 3986 unreserved kept).
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Decodes a query component (`+` is a space, `%XX` a byte); invalid
/// escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(html("a\u{1b}b"), "a\\u{1b}b");
        assert_eq!(
            json_str("</script>\"\\\u{2028}\u{1}"),
            "\"\\u003c/script\\u003e\\\"\\\\\\u2028\\u0001\""
        );
        assert_eq!(url_component("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(url_decode("a+b%2Fc%zz%4"), "a b/c%zz%4");
        assert_eq!(url_decode(&url_component("x|^(y)$ é")), "x|^(y)$ é");
    }
}
