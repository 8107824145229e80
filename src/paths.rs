//! Path helpers with the semantics of Go's `path/filepath`, since report
//! names (`File:` header, node file names) must come out as pprof prints them.

/// `filepath.Base`: the last element, `.` for empty, `/` for root.
pub fn base_name(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// `filepath.Clean`: the shortest equivalent path, lexically.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Trims a build-machine prefix from a source path: the configured
/// `trim_path` prefixes, else a guess from the base names of the
/// `source_path` directories, then `/proc/self/cwd/`.
pub fn trim_path(path: &str, trim: &str, search: &str) -> String {
    if trim.is_empty() {
        for dir in search.split(':').filter(|d| !d.is_empty()) {
            let want = format!("/{}/", base_name(dir));
            if let Some(found) = path.find(&want) {
                return path[found + want.len()..].to_string();
            }
        }
    }
    let mut prefixes: Vec<String> = trim
        .split(':')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    prefixes.push("/proc/self/cwd/./".into());
    prefixes.push("/proc/self/cwd/".into());
    for mut t in prefixes {
        if !t.ends_with('/') {
            t.push('/');
        }
        if let Some(rest) = path.strip_prefix(t.as_str()) {
            return rest.to_string();
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_clean() {
        assert_eq!(clean("a//b/./c/../d"), "a/b/d");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean("../../x"), "../../x");
        assert_eq!(clean("./"), ".");
        assert_eq!(base_name("/tmp/goapp/goapp"), "goapp");
        assert_eq!(base_name(""), ".");
    }

    #[test]
    fn trims() {
        assert_eq!(trim_path("/proc/self/cwd/a.go", "", ""), "a.go");
        assert_eq!(
            trim_path("/build/x/proj/src/a.c", "", "/home/me/proj"),
            "src/a.c"
        );
        assert_eq!(trim_path("/build/x/a.c", "/build/x", ""), "a.c");
    }
}
