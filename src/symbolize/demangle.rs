//! Symbol names as pprof shows them: Rust names (legacy and v0) without
//! the hash, C++ names without parameters and template arguments (pprof's
//! default demangling), everything else (C, Go) unchanged.

/// The display name for a raw symbol name.
pub fn demangle(raw: &str) -> String {
    if is_rust(raw) {
        if let Ok(d) = rustc_demangle::try_demangle(raw) {
            // `{:#}` leaves out the hash suffix.
            return format!("{d:#}");
        }
    }
    if raw.starts_with("_Z") {
        if let Some(d) = cpp(raw) {
            return d;
        }
    }
    raw.to_string()
}

/// Rust v0 (`_R`) or legacy (`_ZN...17h<16 hex>E`) mangling. A legacy name
/// must end in the hash: other `_ZN` names are C++.
fn is_rust(raw: &str) -> bool {
    if raw.starts_with("_R") {
        return true;
    }
    if !raw.starts_with("_ZN") {
        return false;
    }
    // A `.llvm.123` style suffix may follow the `E`.
    let body = match raw.rfind("E.") {
        Some(i) => &raw[..=i],
        None => raw,
    };
    let b = body.as_bytes();
    b.len() > 23
        && b[b.len() - 1] == b'E'
        && &b[b.len() - 20..b.len() - 17] == b"17h"
        && b[b.len() - 17..b.len() - 1]
            .iter()
            .all(|c| c.is_ascii_hexdigit())
}

fn cpp(raw: &str) -> Option<String> {
    let sym = cpp_demangle::Symbol::new(raw.as_bytes()).ok()?;
    let opts = cpp_demangle::DemangleOptions::new()
        .no_params()
        .no_return_type();
    let s = sym.demangle_with_options(&opts).ok()?;
    Some(remove_matching(&s, b'<', b'>'))
}

/// Drops nested `open..close` groups, keeping the name as it is when they
/// do not pair up (as around `operator<`).
fn remove_matching(name: &str, open: u8, close: u8) -> String {
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut depth = 0usize;
    for &c in b {
        if c == open {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                return name.to_string();
            }
            depth -= 1;
        } else if depth == 0 {
            out.push(c);
        }
    }
    if depth != 0 {
        return name.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_without_hash() {
        assert_eq!(
            demangle("_ZN10leaky_rust11new_session17h0123456789abcdefE"),
            "leaky_rust::new_session"
        );
        assert_eq!(
            demangle("_ZN10leaky_rust11new_session17h0123456789abcdefE.llvm.42"),
            "leaky_rust::new_session"
        );
        assert_eq!(
            demangle("_RNvCs8k0Ppq8KHsR_10leaky_rust11new_session"),
            "leaky_rust::new_session"
        );
    }

    #[test]
    fn cpp_names_simplified() {
        assert_eq!(demangle("_ZN5space3fooEibc"), "space::foo");
        assert_eq!(
            demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
            "std::vector::push_back"
        );
        assert_eq!(demangle("_Z3barv"), "bar");
    }

    #[test]
    fn others_unchanged() {
        for n in [
            "main",
            "runtime.mallocgc",
            "net/http.(*conn).serve",
            "_Znotmangled",
            "",
        ] {
            assert_eq!(demangle(n), n);
        }
    }

    #[test]
    fn matching_groups() {
        assert_eq!(remove_matching("a<b<c>>::d", b'<', b'>'), "a::d");
        assert_eq!(remove_matching("operator<", b'<', b'>'), "operator<");
        assert_eq!(remove_matching("x>y", b'<', b'>'), "x>y");
    }
}
