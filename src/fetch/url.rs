//! The part of Go's `net/url` that decides what `go tool pprof` takes for a
//! URL and how it prints one. Which arguments are fetched and which are
//! opened as files depends on these exact rules (`localhost:6060` is a URL,
//! `a:b` and `dir/x:y` are files), and the query is re-encoded as Go does
//! (keys sorted, values escaped), so the same URL is requested and printed.
//!
//! Work is on bytes: Go strings are bytes, and unescaped parts may be any.

use std::collections::BTreeMap;

/// Which part of a URL a byte belongs to; escaping rules differ by part.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

fn should_escape(c: u8, part: Part) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(part, Part::Host | Part::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match part {
            Part::Path => return c == b'?',
            Part::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Part::QueryComponent => return true,
            Part::Fragment => return false,
            Part::Host | Part::Zone => {}
        },
        _ => {}
    }
    if part == Part::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes `%XX` escapes (and `+` in query components); `None` for a bad
/// escape, or a byte a host may not hold.
fn unescape(s: &[u8], part: Part) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hi = s.get(i + 1).copied().and_then(unhex)?;
                let lo = s.get(i + 2).copied().and_then(unhex)?;
                let v = hi << 4 | lo;
                let is_25 = v == b'%';
                // Hosts may only escape non-ASCII bytes (and %25 for zones).
                if part == Part::Host && hi < 8 && !is_25 {
                    return None;
                }
                if part == Part::Zone && !is_25 && v != b' ' && should_escape(v, Part::Host) {
                    return None;
                }
                out.push(v);
                i += 3;
            }
            b'+' if part == Part::QueryComponent => {
                out.push(b' ');
                i += 1;
            }
            c => {
                if matches!(part, Part::Host | Part::Zone) && c < 0x80 && should_escape(c, part) {
                    return None;
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

fn escape(s: &[u8], part: Part) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s {
        if c == b' ' && part == Part::QueryComponent {
            out.push('+');
        } else if should_escape(c, part) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Whether `s` may be printed as it is (no byte that needs escaping).
fn valid_encoded(s: &[u8], part: Part) -> bool {
    s.iter().all(|&c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, part)
    })
}

/// A decoded part and the spelling it was given in, when that differs from
/// the default escaping (Go's `Path`/`RawPath`).
#[derive(Clone, Debug, Default)]
struct Escaped {
    decoded: Vec<u8>,
    raw: Vec<u8>,
}

impl Escaped {
    fn parse(raw: &[u8], part: Part) -> Option<Escaped> {
        let decoded = unescape(raw, part)?;
        let raw = if escape(&decoded, part).as_bytes() == raw {
            Vec::new()
        } else {
            raw.to_vec()
        };
        Some(Escaped { decoded, raw })
    }

    /// The given spelling when it is a valid escaping, else the default one.
    fn escaped(&self, part: Part) -> String {
        if !self.raw.is_empty()
            && valid_encoded(&self.raw, part)
            && unescape(&self.raw, part).as_deref() == Some(&self.decoded[..])
        {
            return String::from_utf8_lossy(&self.raw).into_owned();
        }
        escape(&self.decoded, part)
    }
}

#[derive(Clone, Debug)]
struct User {
    name: Vec<u8>,
    password: Option<Vec<u8>>,
}

/// A parsed URL with an authority (`scheme://user@host/path?query#frag`).
/// Opaque URLs (`scheme:rest`) keep an empty host, which is all pprof needs
/// to know about them.
#[derive(Clone, Debug, Default)]
pub struct Url {
    pub scheme: String,
    user: Option<User>,
    /// Decoded `host[:port]`.
    host: Vec<u8>,
    path: Escaped,
    force_query: bool,
    pub raw_query: String,
    fragment: Option<Escaped>,
}

/// Splits `scheme:rest`; no scheme when the prefix is not `[a-zA-Z][a-zA-Z0-9+.-]*`.
fn split_scheme(raw: &str) -> Result<(&str, &str), ()> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err(()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_host(host: &str) -> Option<Vec<u8>> {
    if host.starts_with('[') {
        let close = host.rfind(']')?;
        if !valid_optional_port(&host[close + 1..]) {
            return None;
        }
        if let Some(zone) = host[..close].find("%25") {
            let mut out = unescape(&host.as_bytes()[..zone], Part::Host)?;
            out.extend(unescape(&host.as_bytes()[zone..close], Part::Zone)?);
            out.extend(unescape(&host.as_bytes()[close..], Part::Host)?);
            return Some(out);
        }
    } else if let Some(colon) = host.rfind(':') {
        if !valid_optional_port(&host[colon..]) {
            return None;
        }
    }
    unescape(host.as_bytes(), Part::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    })
}

fn parse_authority(authority: &str) -> Option<(Option<User>, Vec<u8>)> {
    let Some(at) = authority.rfind('@') else {
        return Some((None, parse_host(authority)?));
    };
    let host = parse_host(&authority[at + 1..])?;
    let info = &authority[..at];
    if !valid_userinfo(info) {
        return None;
    }
    let user = match info.split_once(':') {
        None => User {
            name: unescape(info.as_bytes(), Part::UserPassword)?,
            password: None,
        },
        Some((name, password)) => User {
            name: unescape(name.as_bytes(), Part::UserPassword)?,
            password: Some(unescape(password.as_bytes(), Part::UserPassword)?),
        },
    };
    Some((Some(user), host))
}

/// Go's `url.Parse`: `None` where it returns an error.
pub fn parse(raw: &str) -> Option<Url> {
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if rest.bytes().any(|b| b < b' ' || b == 0x7f) {
        return None;
    }
    let (scheme, rest) = split_scheme(rest).ok()?;
    let mut u = Url {
        scheme: scheme.to_ascii_lowercase(),
        ..Default::default()
    };
    let mut rest = rest;
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        u.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        u.raw_query = q.to_string();
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            // `scheme:opaque`: no host, so never fetched.
            return Some(u);
        }
        // A relative path's first segment may not hold a colon.
        if rest.split('/').next().is_some_and(|s| s.contains(':')) {
            return None;
        }
    }
    if rest.starts_with("//") && (!u.scheme.is_empty() || !rest.starts_with("///")) {
        let authority = &rest[2..];
        let (authority, path) = match authority.find('/') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        };
        let (user, host) = parse_authority(authority)?;
        u.user = user;
        u.host = host;
        rest = path;
    }
    u.path = Escaped::parse(rest.as_bytes(), Part::Path)?;
    if let Some(f) = frag.filter(|f| !f.is_empty()) {
        u.fragment = Some(Escaped::parse(f.as_bytes(), Part::Fragment)?);
    }
    Some(u)
}

/// Query values by key, keys in byte order (Go's `url.Values`, encoded
/// with its keys sorted).
pub type Values = BTreeMap<Vec<u8>, Vec<Vec<u8>>>;

/// Go's `ParseQuery`, keeping what parses and dropping the rest (pairs with
/// `;` or bad escapes), as `URL.Query` does.
pub fn parse_query(q: &str) -> Values {
    let mut values = Values::new();
    for pair in q.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (
            unescape(k.as_bytes(), Part::QueryComponent),
            unescape(v.as_bytes(), Part::QueryComponent),
        ) else {
            continue;
        };
        values.entry(k).or_default().push(v);
    }
    values
}

/// Go's `Values.Encode`.
pub fn encode_query(values: &Values) -> String {
    let mut out = Vec::new();
    for (k, vs) in values {
        let k = escape(k, Part::QueryComponent);
        for v in vs {
            out.push(format!("{k}={}", escape(v, Part::QueryComponent)));
        }
    }
    out.join("&")
}

impl Url {
    pub fn has_host(&self) -> bool {
        !self.host.is_empty()
    }

    /// The decoded path.
    pub fn path(&self) -> &[u8] {
        &self.path.decoded
    }

    pub fn set_path(&mut self, path: &str) {
        self.path = Escaped {
            decoded: path.as_bytes().to_vec(),
            raw: Vec::new(),
        };
    }

    /// The host without port or IPv6 brackets.
    pub fn hostname(&self) -> String {
        let h = String::from_utf8_lossy(&self.host);
        let h = if let Some(rest) = h.strip_prefix('[') {
            rest.split(']').next().unwrap_or("").to_string()
        } else {
            h.rsplit_once(':')
                .map_or(h.to_string(), |(name, _)| name.to_string())
        };
        h
    }

    fn format(&self, password: Option<&str>, fragment: bool) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.scheme.is_empty() || self.has_host() || self.user.is_some() {
            if self.has_host() || !self.path.decoded.is_empty() || self.user.is_some() {
                out.push_str("//");
            }
            if let Some(u) = &self.user {
                out.push_str(&escape(&u.name, Part::UserPassword));
                if let Some(pw) = &u.password {
                    out.push(':');
                    match password {
                        Some(shown) => out.push_str(shown),
                        None => out.push_str(&escape(pw, Part::UserPassword)),
                    }
                }
                out.push('@');
            }
            out.push_str(&escape(&self.host, Part::Host));
        }
        let path = self.path.escaped(Part::Path);
        if !path.is_empty() && !path.starts_with('/') && self.has_host() {
            out.push('/');
        }
        out.push_str(&path);
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if let (true, Some(f)) = (fragment, &self.fragment) {
            out.push('#');
            out.push_str(&f.escaped(Part::Fragment));
        }
        out
    }

    /// With any password masked, for messages (as Go's HTTP client does).
    pub fn redacted(&self) -> String {
        self.format(Some("***"), true)
    }

    /// What is requested: no fragment (it never leaves the client).
    pub fn request_target(&self) -> String {
        self.format(None, false)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format(None, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_parses_with_a_host() {
        let host = |s: &str| parse(s).map(|u| String::from_utf8_lossy(&u.host).into_owned());
        assert_eq!(host("http://h:1/x").as_deref(), Some("h:1"));
        assert_eq!(host("localhost:6060").as_deref(), Some("")); // scheme "localhost"
        assert_eq!(host("127.0.0.1:6060"), None); // colon in first segment
        assert_eq!(host("current.heap").as_deref(), Some(""));
        assert_eq!(host("//h:1/x").as_deref(), Some("h:1"));
        assert_eq!(host("http://h:x/"), None); // bad port
        assert_eq!(host("http://a b/"), None); // bad host byte
        assert_eq!(host("http://h/%zz"), None);
        assert_eq!(host(":x"), None);
        assert_eq!(host("http://[::1]:8/").as_deref(), Some("[::1]:8"));
        assert_eq!(host("x\ty"), None);
    }

    #[test]
    fn prints_as_go_does() {
        let s = |raw: &str| parse(raw).map(|u| u.to_string());
        assert_eq!(
            s("HTTP://User:p%40ss@h:1/x#frag%20x").as_deref(),
            Some("http://User:p%40ss@h:1/x#frag%20x")
        );
        assert_eq!(
            s("http://h/a%2fb/c d").as_deref(),
            Some("http://h/a/b/c%20d")
        );
        assert_eq!(s("http://h/a%2Fb").as_deref(), Some("http://h/a%2Fb"));
        assert_eq!(s("http://h/x?").as_deref(), Some("http://h/x?"));
        let u = parse("http://u:secret@h/x").unwrap();
        assert_eq!(u.redacted(), "http://u:***@h/x");
        assert_eq!(u.hostname(), "h");
        assert_eq!(parse("http://[::1]:8/").unwrap().hostname(), "::1");
    }

    #[test]
    fn query_round_trip() {
        let v = parse_query("b=2&a=1&a=0&c&q=a+b%2Fc&r=%zz&s=1;2");
        assert_eq!(encode_query(&v), "a=1&a=0&b=2&c=&q=a+b%2Fc");
    }
}
