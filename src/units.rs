//! Unit scaling and number formatting shared by every report.
//!
//! pprof's text layouts are printf formats; users diff and parse them, so the
//! rules here (which unit a value is shown in, how it is rounded, how a
//! percentage is written) follow `go tool pprof` to the character.

struct Unit {
    name: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

struct UnitType {
    units: &'static [Unit],
    default: (&'static str, f64),
}

const UNIT_TYPES: &[UnitType] = &[
    UnitType {
        units: &[
            Unit {
                name: "B",
                aliases: &["b", "byte"],
                factor: 1.0,
            },
            Unit {
                name: "kB",
                aliases: &["kb", "kbyte", "kilobyte"],
                factor: 1024.0,
            },
            Unit {
                name: "MB",
                aliases: &["mb", "mbyte", "megabyte"],
                factor: 1048576.0,
            },
            Unit {
                name: "GB",
                aliases: &["gb", "gbyte", "gigabyte"],
                factor: 1073741824.0,
            },
            Unit {
                name: "TB",
                aliases: &["tb", "tbyte", "terabyte"],
                factor: 1099511627776.0,
            },
            Unit {
                name: "PB",
                aliases: &["pb", "pbyte", "petabyte"],
                factor: 1125899906842624.0,
            },
        ],
        default: ("B", 1.0),
    },
    UnitType {
        units: &[
            Unit {
                name: "ns",
                aliases: &["ns", "nanosecond"],
                factor: 1.0,
            },
            Unit {
                name: "us",
                aliases: &["μs", "us", "microsecond"],
                factor: 1e3,
            },
            Unit {
                name: "ms",
                aliases: &["ms", "millisecond"],
                factor: 1e6,
            },
            Unit {
                name: "s",
                aliases: &["s", "sec", "second"],
                factor: 1e9,
            },
            Unit {
                name: "hrs",
                aliases: &["hour", "hr"],
                factor: 3600e9,
            },
        ],
        default: ("s", 1e9),
    },
    UnitType {
        units: &[
            Unit {
                name: "n*GCU",
                aliases: &["nanogcu"],
                factor: 1e-9,
            },
            Unit {
                name: "u*GCU",
                aliases: &["microgcu"],
                factor: 1e-6,
            },
            Unit {
                name: "m*GCU",
                aliases: &["milligcu"],
                factor: 1e-3,
            },
            Unit {
                name: "GCU",
                aliases: &["gcu"],
                factor: 1.0,
            },
            Unit {
                name: "k*GCU",
                aliases: &["kilogcu"],
                factor: 1e3,
            },
            Unit {
                name: "M*GCU",
                aliases: &["megagcu"],
                factor: 1e6,
            },
            Unit {
                name: "G*GCU",
                aliases: &["gigagcu"],
                factor: 1e9,
            },
            Unit {
                name: "T*GCU",
                aliases: &["teragcu"],
                factor: 1e12,
            },
            Unit {
                name: "P*GCU",
                aliases: &["petagcu"],
                factor: 1e15,
            },
        ],
        default: ("GCU", 1.0),
    },
];

impl UnitType {
    /// Finds a unit by a loose spelling: case-insensitive, plural `s` ignored.
    fn sniff(&self, unit: &str) -> Option<&Unit> {
        let lower = unit.to_lowercase();
        let key = if lower.chars().count() > 2 {
            lower.strip_suffix('s').unwrap_or(&lower)
        } else {
            &lower
        };
        self.units.iter().find(|u| u.aliases.contains(&key))
    }

    fn auto_scale(&self, value: f64) -> Option<(f64, &'static str)> {
        let mut best: Option<&Unit> = None;
        for u in self.units {
            if u.factor >= best.map_or(0.0, |b| b.factor) && value / u.factor >= 1.0 {
                best = Some(u);
            }
        }
        best.map(|u| (value / u.factor, u.name))
    }

    fn convert(&self, value: i64, from: &str, to: &str) -> Option<(f64, &'static str)> {
        let from = self.sniff(from)?;
        let v = value as f64 * from.factor;
        if to == "minimum" || to == "auto" {
            return Some(
                self.auto_scale(v)
                    .unwrap_or((v / self.default.1, self.default.0)),
            );
        }
        match self.sniff(to) {
            Some(t) => Some((v / t.factor, t.name)),
            None => Some((v / self.default.1, self.default.0)),
        }
    }
}

/// Scales `value` from `from` to `to` (a unit, or `minimum`/`auto` to pick
/// the largest unit that keeps the value >= 1). Returns the scaled value and
/// the unit to print, empty when the unit is not worth printing.
pub fn scale(value: i64, from: &str, to: &str) -> (f64, String) {
    if value < 0 && value != i64::MIN {
        let (v, u) = scale(-value, from, to);
        return (-v, u);
    }
    for ut in UNIT_TYPES {
        if let Some((v, u)) = ut.convert(value, from, to) {
            return (v, u.to_string());
        }
    }
    match to {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, String::new()),
        _ => (value as f64, to.to_string()),
    }
}

/// Whether two units measure the same dimension (bytes, time, GCU).
pub fn compatible_units(a: &str, b: &str) -> bool {
    a == b
        || UNIT_TYPES
            .iter()
            .any(|ut| ut.sniff(a).is_some() && ut.sniff(b).is_some())
}

/// A value with its unit, auto-scaled (`1.50MB`, `10ms`).
pub fn label(value: i64, unit: &str) -> String {
    scaled_label(value, unit, "auto")
}

/// A value converted to `to` and printed with two decimals at most.
pub fn scaled_label(value: i64, from: &str, to: &str) -> String {
    let (v, u) = scale(value, from, to);
    let s = format!("{v:.2}");
    let s = s.strip_suffix(".00").unwrap_or(&s);
    if s == "0" || s == "-0" {
        return "0".to_string();
    }
    format!("{s}{u}")
}

/// `value` as a percentage of `total`, in pprof's fixed width: at least two
/// significant digits, `  100%` for (nearly) everything.
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 {
        (value as f64 / total as f64).abs() * 100.0
    } else {
        0.0
    };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".to_string()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", format_g(ratio, 2))
    }
}

/// Go's `%.{prec}g`: shortest of %e/%f at `prec` significant digits,
/// trailing zeros removed.
pub fn format_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let prec = prec.max(1);
    // The exponent after rounding to `prec` digits decides the form.
    let e_form = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = trim_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_fraction_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_format() {
        assert_eq!(format_g(0.0049999, 2), "0.005");
        assert_eq!(format_g(0.00012345, 2), "0.00012");
        assert_eq!(format_g(99.5, 2), "1e+02");
        assert_eq!(format_g(1e-5, 2), "1e-05");
        assert_eq!(format_g(0.5, 2), "0.5");
        assert_eq!(format_g(0.015, 2), "0.015");
    }

    #[test]
    fn percentages() {
        assert_eq!(percentage(1, 3), "33.33%");
        assert_eq!(percentage(1, 1), "  100%");
        assert_eq!(percentage(-1, 200), "  0.5%");
        assert_eq!(percentage(0, 0), "    0%");
        assert_eq!(percentage(1, 100000), "0.001%");
    }

    #[test]
    fn labels() {
        assert_eq!(scaled_label(1536, "bytes", "minimum"), "1.50kB");
        assert_eq!(scaled_label(2048, "bytes", "auto"), "2kB");
        assert_eq!(scaled_label(10_000_000, "nanoseconds", "auto"), "10ms");
        assert_eq!(scaled_label(-3, "count", "minimum"), "-3");
        assert_eq!(scaled_label(0, "bytes", "auto"), "0");
        assert_eq!(scaled_label(5, "bytes", "kb"), "0");
        assert_eq!(scaled_label(5000, "bytes", "kb"), "4.88kB");
    }
}
