//! Encoding the model back into the pprof protobuf format (gzipped, as
//! pprof writes profiles), so a fetched profile can be saved and read again.
//!
//! Tables are written in model order with ids `index + 1`: the model refers
//! to mappings, locations and functions by position, so these ids are always
//! unique and non-zero, whatever ids the profile was read with.

use std::io::Write;

use prost::Message;

use super::model::{Profile, ValueType};
use crate::pb;

fn id(index: usize) -> u64 {
    index as u64 + 1
}

fn value_type(v: &ValueType) -> pb::ValueType {
    pb::ValueType {
        r#type: i64::from(v.ty),
        unit: i64::from(v.unit),
    }
}

/// The profile as a `perftools.profiles.Profile` message.
pub fn to_message(p: &Profile) -> pb::Profile {
    let s = &p.samples;
    let sample = (0..s.len())
        .map(|i| pb::Sample {
            location_id: s.stack(i).iter().map(|&l| id(l as usize)).collect(),
            value: s.values(i).to_vec(),
            label: s
                .labels(i)
                .iter()
                .map(|l| pb::Label {
                    key: i64::from(l.key),
                    str: i64::from(l.str),
                    num: if l.is_numeric() { l.num } else { 0 },
                    num_unit: if l.is_numeric() { i64::from(l.unit) } else { 0 },
                })
                .collect(),
        })
        .collect();
    let mapping = p
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| pb::Mapping {
            id: id(i),
            memory_start: m.start,
            memory_limit: m.limit,
            file_offset: m.offset,
            filename: i64::from(m.file),
            build_id: i64::from(m.build_id),
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        })
        .collect();
    let location = p
        .locations
        .iter()
        .enumerate()
        .map(|(i, l)| pb::Location {
            id: id(i),
            mapping_id: l.mapping.map_or(0, |m| id(m as usize)),
            address: l.address,
            line: l
                .lines
                .iter()
                .map(|ln| pb::Line {
                    function_id: id(ln.function as usize),
                    line: ln.line,
                    column: ln.column,
                })
                .collect(),
            is_folded: l.is_folded,
        })
        .collect();
    let function = p
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| pb::Function {
            id: id(i),
            name: i64::from(f.name),
            system_name: i64::from(f.system_name),
            filename: i64::from(f.filename),
            start_line: f.start_line,
        })
        .collect();
    let period_type = p.period_type;
    pb::Profile {
        sample_type: p.sample_types.iter().map(value_type).collect(),
        sample,
        mapping,
        location,
        function,
        // String ids are positions in the interned table, which starts
        // with "" as the format requires.
        string_table: p.strings.iter().map(str::to_string).collect(),
        drop_frames: i64::from(p.drop_frames),
        keep_frames: i64::from(p.keep_frames),
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        // An absent period type decodes as empty strings: write none back.
        period_type: (period_type != ValueType::default()).then(|| value_type(&period_type)),
        period: p.period,
        comment: p.comments.iter().map(|&c| i64::from(c)).collect(),
        default_sample_type: i64::from(p.default_sample_type),
    }
}

/// The profile as uncompressed protobuf bytes.
pub fn encode(p: &Profile) -> Vec<u8> {
    to_message(p).encode_to_vec()
}

/// Writes the profile gzipped, as `go tool pprof` saves profiles.
pub fn write_gzip<W: Write>(p: &Profile, w: W) -> std::io::Result<W> {
    let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
    gz.write_all(&encode(p))?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{self, Command};
    use crate::options::{Config, Granularity};
    use crate::profile::{load, parse};
    use crate::ui::NoUi;

    fn report(p: &Profile, name: &str, cfg: &Config) -> String {
        let cmd = Command::new(name, None).expect("command");
        driver::generate(p, &cmd, cfg, &mut NoUi)
            .expect("report")
            .into_text()
    }

    fn fixtures() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files: Vec<_> = ["go", "synthetic"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root.join(d)).expect("fixture dir"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "goapp"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn decode_of_encode_gives_the_same_reports() {
        let lines = Config {
            granularity: Granularity::Lines,
            ..Default::default()
        };
        let files = fixtures();
        assert!(files.len() >= 8, "fixtures: {files:?}");
        for path in files {
            let p = load(&path).expect("fixture loads");
            let gz = write_gzip(&p, Vec::new()).expect("write to memory");
            let q = parse(&gz).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for (cmd, cfg) in [
                ("top", &Config::default()),
                ("top", &lines),
                ("traces", &Config::default()),
                ("tags", &Config::default()),
            ] {
                assert_eq!(
                    report(&p, cmd, cfg),
                    report(&q, cmd, cfg),
                    "{} -{cmd} differs after a round trip",
                    path.display()
                );
            }
            // Everything the model holds survives, not only what reports show.
            assert_eq!(format!("{:?}", p.samples), format!("{:?}", q.samples));
            assert_eq!(p.comments.len(), q.comments.len());
            assert_eq!(p.str(p.drop_frames), q.str(q.drop_frames));
            assert_eq!(p.period, q.period);
            assert_eq!(p.time_nanos, q.time_nanos);
            assert_eq!(p.duration_nanos, q.duration_nanos);
        }
    }

    #[test]
    fn merged_and_subtracted_profiles_round_trip() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/go");
        let src = driver::Sources {
            sources: vec![root.join("current.heap").display().to_string()],
            base: vec![root.join("base.heap").display().to_string()],
            diff_base: true,
            ..Default::default()
        };
        let p = driver::fetch_profiles(&src).expect("fetch");
        let q = parse(&write_gzip(&p, Vec::new()).expect("write")).expect("parse");
        let cfg = Config::default();
        assert_eq!(report(&p, "top", &cfg), report(&q, "top", &cfg));
        assert_eq!(report(&p, "traces", &cfg), report(&q, "traces", &cfg));
    }
}
