//! `proto` (the prepared profile, gzipped protobuf) and `topproto` (the top
//! nodes as a profile of their own), as pprof writes them.

use std::collections::HashMap;
use std::io::Write;

use prost::Message;

use super::Report;
use crate::pb;
use crate::profile::encode;
use crate::units;

/// pprof's `-proto`: the filtered profile, its values scaled by
/// `divide_by`, gzipped.
pub fn print_proto(rpt: &mut Report) -> std::io::Result<Vec<u8>> {
    let r = rpt.opts.ratio;
    let p = &mut rpt.prof;
    if r > 0.0 && r != 1.0 {
        for i in 0..p.samples.len() {
            for v in p.samples.values_mut(i) {
                *v = (*v as f64 * r) as i64;
            }
        }
    }
    encode::write_gzip(p, Vec::new())
}

/// pprof's `-topproto`: one sample per node of the trimmed graph, with
/// the node's cum and flat values (in the output unit) as sample types
/// `cum` and `flat`, one location and function per node.
pub fn print_top_proto(rpt: &mut Report) -> std::io::Result<Vec<u8>> {
    let t = rpt.trimmed_graph();
    let g = t.graph;
    rpt.select_output_unit(&g);
    let p = &rpt.prof;
    let o = &rpt.opts;
    let mut strings: Vec<String> = vec![String::new()];
    let mut string_ids: HashMap<String, i64> = HashMap::from([(String::new(), 0)]);
    let mut s = |x: &str| -> i64 {
        if let Some(&id) = string_ids.get(x) {
            return id;
        }
        let id = strings.len() as i64;
        strings.push(x.to_string());
        string_ids.insert(x.to_string(), id);
        id
    };
    let vt = |s: &mut dyn FnMut(&str) -> i64, ty: &str, unit: &str| pb::ValueType {
        r#type: s(ty),
        unit: s(unit),
    };
    let mut out = pb::Profile {
        sample_type: vec![
            vt(&mut s, "cum", &o.output_unit),
            vt(&mut s, "flat", &o.output_unit),
        ],
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period: p.period,
        ..Default::default()
    };
    if p.period_type != crate::profile::ValueType::default() {
        out.period_type = Some(vt(
            &mut s,
            p.str(p.period_type.ty),
            p.str(p.period_type.unit),
        ));
    }
    let mut functions: HashMap<(u32, u32, u32, i64), u64> = HashMap::new();
    for (i, &n) in g.nodes.iter().enumerate() {
        let node = g.node(n);
        let info = &node.info;
        let key = (info.name, info.orig_name, info.file, info.start_line);
        let fid = match functions.get(&key) {
            Some(&id) => id,
            None => {
                let id = functions.len() as u64 + 1;
                functions.insert(key, id);
                out.function.push(pb::Function {
                    id,
                    name: s(p.str(info.name)),
                    system_name: s(p.str(info.orig_name)),
                    filename: s(p.str(info.file)),
                    start_line: info.start_line,
                });
                id
            }
        };
        let loc = i as u64 + 1;
        out.location.push(pb::Location {
            id: loc,
            address: info.address,
            line: vec![pb::Line {
                function_id: fid,
                line: info.lineno,
                column: 0,
            }],
            ..Default::default()
        });
        let (fv, _) = units::scale(node.flat_value(), &o.sample_unit, &o.output_unit);
        let (cv, _) = units::scale(node.cum_value(), &o.sample_unit, &o.output_unit);
        out.sample.push(pb::Sample {
            location_id: vec![loc],
            value: vec![cv as i64, fv as i64],
            label: Vec::new(),
        });
    }
    out.string_table = strings;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&out.encode_to_vec())?;
    gz.finish()
}
