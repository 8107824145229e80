//! Reports: each turns a prepared (filtered, aggregated) profile into
//! pprof's output. Shared here: the report options, the total, value
//! formatting and the header lines every text report starts with.

pub mod callgrind;
mod derive;
pub mod disasm;
pub mod dot;
pub mod error;
pub mod flame;
pub mod graph;
pub mod image;
pub mod list;
pub mod peek;
pub mod proto;
pub mod raw;
pub mod source_path;
pub mod svg;
pub mod tabwriter;
pub mod tags;
pub mod text;
pub mod traces;
pub mod weblist;

use std::collections::HashMap;
use std::sync::Arc;

use crate::paths;
use crate::profile::Profile;
use crate::units;
pub use derive::Derivation;
use graph::{Graph, NodeInfo, NodeTable, ValueSel};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Dot,
    List,
    Peek,
    Traces,
    Tags,
    Raw,
    /// Collapsed stacks (`folded`).
    Folded,
    /// An inferno flame graph (`flame`).
    Flame,
    /// The profile as gzipped protobuf (`proto`).
    Proto,
    /// The top nodes as a gzipped protobuf profile (`topproto`).
    TopProto,
    /// The profile's comments (`comments`).
    Comments,
    /// The callgrind format (`callgrind`, `kcachegrind`).
    Callgrind,
    /// Annotated assembly (`disasm`).
    Disasm,
    /// Annotated source with assembly, as HTML (`weblist`).
    WebList,
}

/// Everything a report needs to know besides the profile.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    pub cum_sort: bool,
    pub call_tree: bool,
    pub drop_negative: bool,
    pub compact_labels: bool,
    /// 1 / divide_by.
    pub ratio: f64,
    pub node_count: i64,
    pub node_fraction: f64,
    pub edge_fraction: f64,
    pub active_filters: Vec<String>,
    pub num_label_units: HashMap<String, String>,
    pub sample: ValueSel,
    pub sample_type: String,
    pub sample_unit: String,
    pub output_unit: String,
    pub source_path: String,
    pub trim_path: String,
    pub symbol: Option<regex::Regex>,
    /// `disasm`, `weblist`: Intel rather than AT&T assembly syntax.
    pub intel_syntax: bool,
    /// The main binary's base name: graphs are named after it.
    pub title: String,
}

/// A prepared profile with its options and total.
#[derive(Clone)]
pub struct Report {
    pub prof: Profile,
    pub opts: Options,
    /// Sum of |values| before focusing (unless relative_percentages).
    pub total: i64,
    /// Node identities, built once (clones of a report share them).
    table: Option<Arc<NodeTable>>,
    /// Whether the functions' source paths were trimmed and cleaned.
    cleaned: bool,
    /// Node values without edges for a sample selection: the first pass of
    /// every trimmed graph, shared by the shell's successive reports.
    values: Option<(ValueSel, Arc<Graph>)>,
    /// The same report on the base profiles, for differential outputs.
    pub base: Option<Box<Report>>,
    /// Which samples hold each location, made the first time a report
    /// about a few nodes (peek) needs it; shared by clones.
    postings: Arc<std::sync::OnceLock<graph::Postings>>,
    /// The values-only graph [`Report::prime_later`] computes on another
    /// thread; shared by clones.
    primed: Option<Arc<Primed>>,
}

/// A values-only graph being computed for one sample selection.
struct Primed {
    sel: ValueSel,
    graph: std::sync::OnceLock<Arc<Graph>>,
}

/// Trimming results that the header reports.
pub struct Trimmed {
    pub graph: Graph,
    pub orig_count: usize,
    pub dropped_nodes: usize,
    pub dropped_edges: usize,
    /// Every listed node when `graph.nodes` holds only those a report
    /// prints (peek's matches, so that only they are sorted): the header's
    /// totals and the output unit come from all of them.
    pub listed: Option<Vec<u32>>,
}

/// [`Report::cut_nodes`]: the values-only graph listing the nodes that
/// nodefraction keeps (sorted when nodecount cuts), and what was cut.
struct NodeCut {
    graph: Graph,
    /// The nodes a rebuild keeps (None: all).
    kept: Option<Vec<bool>>,
    orig_count: usize,
    dropped_nodes: usize,
    cut_to_count: bool,
    edge_cutoff: i64,
}

/// What [`Report::peek_edges`] builds edges from.
pub struct PeekEdges {
    values: Arc<Graph>,
    kept: Option<Vec<bool>>,
    edge_cutoff: i64,
}

impl Trimmed {
    /// The listed nodes (in no particular order when narrowed).
    pub fn listed(&self) -> &[u32] {
        self.listed.as_deref().unwrap_or(&self.graph.nodes)
    }
}

/// pprof's test for nodes left out by `-drop_negative`.
pub fn is_negative(n: &graph::Node) -> bool {
    n.flat < 0 || (n.flat == 0 && n.cum < 0)
}

/// A trimming threshold: |total × fraction|, as pprof computes it.
pub fn cutoff(total: i64, fraction: f64) -> i64 {
    ((total as f64 * fraction) as i64).wrapping_abs()
}

/// pprof's total: sum of absolute values (only of the diff base's samples
/// when comparing against one), divided by the count for mean reports.
pub fn compute_total(p: &Profile, sel: ValueSel) -> i64 {
    let base_key = p.strings.find("pprof::base");
    let base_val = p.strings.find("true");
    let (mut total, mut div, mut diff_total, mut diff_div) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..p.samples.len() {
        let vals = p.samples.values(i);
        let v = vals[sel.index].wrapping_abs();
        let d = if sel.mean { vals[0] } else { 0 };
        total = total.wrapping_add(v);
        div = div.wrapping_add(d);
        let is_base = base_key.is_some()
            && p.samples
                .labels(i)
                .iter()
                .any(|l| Some(l.key) == base_key && Some(l.str) == base_val);
        if is_base {
            diff_total = diff_total.wrapping_add(v);
            diff_div = diff_div.wrapping_add(d);
        }
    }
    if diff_total > 0 {
        total = diff_total;
        div = diff_div;
    }
    if div != 0 {
        total.wrapping_div(div)
    } else {
        total
    }
}

/// The sample index of another report on the same sample arrays, if one
/// was started; otherwise `cell` is registered as the index of `samples`.
/// Entries of dropped reports are forgotten (the registry holds only weak
/// references to the indexes, and the samples they index).
/// Reports on the same sample arrays, by weak references to the arrays and
/// to their index.
type PostingsRegistry = Vec<(
    std::sync::Weak<crate::profile::model::SampleData>,
    std::sync::Weak<std::sync::OnceLock<graph::Postings>>,
)>;

/// The sample index of another live report on the same sample arrays, if
/// one was started; otherwise `cell` is registered as the index of
/// `samples`. Nothing is kept alive by the registry.
fn shared_postings(
    samples: &crate::profile::model::Samples,
    cell: &Arc<std::sync::OnceLock<graph::Postings>>,
) -> Option<Arc<std::sync::OnceLock<graph::Postings>>> {
    static REGISTRY: std::sync::Mutex<PostingsRegistry> = std::sync::Mutex::new(Vec::new());
    let mut reg = REGISTRY.lock().ok()?;
    reg.retain(|(s, c)| s.strong_count() > 0 && c.strong_count() > 0);
    if let Some(found) = reg
        .iter()
        .find(|(s, _)| samples.is(s))
        .and_then(|(_, c)| c.upgrade())
    {
        return Some(found);
    }
    reg.push((samples.downgrade(), Arc::downgrade(cell)));
    None
}

impl Report {
    pub fn new(prof: Profile, opts: Options, total: i64) -> Report {
        Report {
            prof,
            opts,
            total,
            table: None,
            cleaned: false,
            values: None,
            base: None,
            postings: Arc::default(),
            primed: None,
        }
    }

    /// A value in the output unit, after divide_by.
    pub fn format_value(&self, v: i64) -> String {
        let r = self.opts.ratio;
        let v = if r > 0.0 && r != 1.0 {
            (v as f64 * r) as i64
        } else {
            v
        };
        units::scaled_label(v, &self.opts.sample_unit, &self.opts.output_unit)
    }

    /// Node identities for this report's granularity. Source paths are
    /// trimmed and cleaned first, as pprof does before building graphs.
    pub fn node_table(&mut self) -> Arc<NodeTable> {
        if let Some(t) = &self.table {
            return t.clone();
        }
        self.clean_filenames();
        let t = Arc::new(NodeTable::new(&self.prof, self.obj_names()));
        self.table = Some(t.clone());
        t
    }

    /// [`Report::node_table`], taken from `parent` when this report's
    /// tables came out the same as its (a filter that hid no frame):
    /// building it again visits every location.
    pub fn node_table_from(&mut self, parent: &Report) -> Arc<NodeTable> {
        if let (None, Some(pt)) = (&self.table, &parent.table) {
            self.clean_filenames();
            let (a, b) = (&self.prof, &parent.prof);
            if parent.cleaned
                && self.obj_names() == parent.obj_names()
                && a.locations == b.locations
                && a.functions == b.functions
                && a.mappings == b.mappings
                && a.strings == b.strings
            {
                self.table = Some(pt.clone());
            }
        }
        self.node_table()
    }

    /// Whether nodes keep their binary's name (address-level reports).
    fn obj_names(&self) -> bool {
        matches!(
            self.opts.format,
            Format::Raw | Format::List | Format::Callgrind | Format::Disasm | Format::WebList
        )
    }

    /// Trims and cleans the functions' source paths, once, as pprof does
    /// before building graphs.
    fn clean_filenames(&mut self) {
        if self.cleaned {
            return;
        }
        self.cleaned = true;
        let p = &mut self.prof;
        let mut cache: HashMap<u32, u32> = HashMap::new();
        for i in 0..p.functions.len() {
            let f = p.functions[i].filename;
            if f == 0 {
                continue;
            }
            let id = match cache.get(&f) {
                Some(&id) => id,
                None => {
                    let trimmed =
                        paths::trim_path(p.str(f), &self.opts.trim_path, &self.opts.source_path);
                    let id = p.strings.intern(&paths::clean(&trimmed));
                    cache.insert(f, id);
                    id
                }
            };
            p.functions[i].filename = id;
        }
    }

    /// Computes what later renders of this report (and of its clones) can
    /// share: the node table and the values-only graph.
    pub fn prime(&mut self) {
        self.values_graph();
        // The index of samples by location (for peek), built on another
        // thread while the user reads: reports use it once it is there.
        if self.postings.get().is_none() && self.prof.samples.len() >= 100_000 {
            // Reports on the same (unfiltered) samples share one index:
            // the web UI keeps a dozen prepared reports.
            if let Some(shared) = shared_postings(&self.prof.samples, &self.postings) {
                self.postings = shared;
                return;
            }
            let cell = self.postings.clone();
            let samples = self.prof.samples.clone();
            let n_locs = self.prof.locations.len();
            std::thread::spawn(move || {
                crate::ui::background_priority();
                cell.get_or_init(|| graph::Postings::new(&samples, n_locs));
            });
        }
    }

    /// [`Report::prime`] for reports that read few nodes (`list`): they
    /// need not wait for the values graph, so it is made on another thread
    /// for the reports after them (large profiles only).
    pub fn prime_later(&mut self) {
        let sel = self.opts.sample;
        if self.values.is_some() || self.primed.is_some() {
            return;
        }
        if self.prof.samples.len() < 100_000 {
            return self.prime();
        }
        let table = self.node_table();
        let primed = Arc::new(Primed {
            sel,
            graph: std::sync::OnceLock::new(),
        });
        self.primed = Some(primed.clone());
        let prof = self.prof.clone();
        let spawned = std::thread::Builder::new()
            .name("rprof-prime".into())
            .spawn(move || {
                // One thread: the other core is the listing's.
                let build =
                    || Graph::build_threads(&prof, &table, sel, None, graph::Edges::None, 1);
                primed.graph.get_or_init(|| Arc::new(build()));
            });
        if spawned.is_err() {
            self.primed = None;
        }
    }

    /// The values-only graph for the report's sample selection, computed
    /// once per selection (or waited for, when [`Report::prime_later`] is
    /// making it).
    pub fn values_graph(&mut self) -> Arc<Graph> {
        let sel = self.opts.sample;
        if let Some((s, g)) = &self.values {
            if *s == sel {
                return g.clone();
            }
        }
        let table = self.node_table();
        let build = || Arc::new(Graph::build(&self.prof, &table, sel, None, false));
        let g = match &self.primed {
            Some(pr) if pr.sel == sel => pr.graph.get_or_init(build).clone(),
            _ => build(),
        };
        self.values = Some((sel, g.clone()));
        g
    }

    /// Whether [`Report::values_graph`] is at hand without a pass.
    fn values_ready(&self) -> bool {
        let sel = self.opts.sample;
        self.values.as_ref().is_some_and(|(s, _)| *s == sel)
            || self
                .primed
                .as_ref()
                .is_some_and(|pr| pr.sel == sel && pr.graph.get().is_some())
    }

    /// [`Report::values_graph`] for a report that reads only the nodes
    /// `wanted` picks (`list`): unless the whole graph is already made,
    /// only the samples holding such a node are visited. The other nodes'
    /// values are then partial.
    pub fn values_graph_for(&mut self, wanted: &dyn Fn(&Profile, &NodeInfo) -> bool) -> Arc<Graph> {
        let sel = self.opts.sample;
        if self.values_ready() {
            return self.values_graph();
        }
        let table = self.node_table();
        let p = &self.prof;
        let touching: Vec<bool> = table.infos.iter().map(|i| wanted(p, i)).collect();
        let n_locs = p.locations.len();
        let subset = match self.postings.get() {
            Some(idx) => idx.samples_touching(&table, &touching, n_locs),
            None => graph::scan_samples_touching(&p.samples, &table, &touching, n_locs),
        };
        match subset {
            Some(samples) => Arc::new(Graph::values_subset(p, &table, sel, &samples)),
            None => self.values_graph(),
        }
    }

    /// Among the nodes `hit` picks that [`Report::values_graph`] holds
    /// (those with a value): whether there is one, and their binaries
    /// (objfile ids, 0 left out). Where sample values cannot cancel out (none
    /// negative, no overflow) a node has a value when a sample with one
    /// holds it, so a scan that stops once every candidate binary is found
    /// answers without the pass (`weblist` and `disasm` ask before knowing
    /// whether any binary can be read at all).
    pub fn sampled_matching(
        &mut self,
        hit: &dyn Fn(&Profile, &NodeInfo) -> bool,
    ) -> (
        bool,
        std::collections::HashSet<crate::profile::model::StrId>,
    ) {
        let mut objfiles = std::collections::HashSet::new();
        let mut any = false;
        let sel = self.opts.sample;
        let scan = !self.values_ready() && !sel.mean && self.values_cannot_cancel();
        if !scan {
            let g = self.values_graph();
            for &n in &g.nodes {
                let info = &g.node(n).info;
                if hit(&self.prof, info) {
                    any = true;
                    if info.objfile != 0 {
                        objfiles.insert(info.objfile);
                    }
                }
            }
            return (any, objfiles);
        }
        let table = self.node_table();
        let p = &self.prof;
        let picked: Vec<bool> = table.infos.iter().map(|i| hit(p, i)).collect();
        let candidates: std::collections::HashSet<_> = table
            .infos
            .iter()
            .zip(&picked)
            .filter(|&(i, &h)| h && i.objfile != 0)
            .map(|(i, _)| i.objfile)
            .collect();
        if !picked.contains(&true) {
            return (false, objfiles);
        }
        let s = &p.samples;
        let mut keys = Vec::new();
        for i in 0..s.len() {
            if s.values(i)[sel.index] == 0 {
                continue;
            }
            for &k in table.gather(s.stack(i), &mut keys) {
                if picked[k as usize] {
                    any = true;
                    let o = table.infos[k as usize].objfile;
                    if o != 0 {
                        objfiles.insert(o);
                    }
                }
            }
            if any && objfiles.len() == candidates.len() {
                break;
            }
        }
        (any, objfiles)
    }

    /// Whether no sum of the selected values can cancel out or wrap: all
    /// are non-negative and their total fits.
    fn values_cannot_cancel(&self) -> bool {
        let s = &self.prof.samples;
        let index = self.opts.sample.index;
        let mut total = 0i64;
        (0..s.len()).all(|i| {
            let v = s.values(i)[index];
            v >= 0 && total.checked_add(v).map(|t| total = t).is_some()
        })
    }

    /// Builds the graph and trims it by nodefraction, nodecount and
    /// edgefraction, as pprof's text and graph reports do.
    pub fn trimmed_graph(&mut self) -> Trimmed {
        self.trim(false)
    }

    /// [`Report::trimmed_graph`] for reports that read nodes only (`top`):
    /// edges are built only when they can be inline (their one use there),
    /// so a profile without inlined frames needs no second pass.
    pub fn trimmed_nodes(&mut self) -> Trimmed {
        self.trim(true)
    }

    fn trim(&mut self, nodes_only: bool) -> Trimmed {
        if self.opts.format == Format::Dot {
            return self.visual_graph();
        }
        let table = self.node_table();
        let values = self.values_graph();
        let NodeCut {
            graph: mut g,
            kept,
            orig_count,
            dropped_nodes,
            cut_to_count,
            edge_cutoff,
        } = self.cut_nodes(&values);
        let p = &self.prof;
        let o = &self.opts;
        // `top` reads edges only to label inlined nodes: it needs the edges
        // into kept nodes that are inlined somewhere, if any.
        let inlined_kept: Option<Vec<bool>> = nodes_only.then(|| match &kept {
            Some(k) => k
                .iter()
                .zip(&table.inlined)
                .map(|(&a, &b)| a && b)
                .collect(),
            None => table.inlined.clone(),
        });
        if inlined_kept.as_ref().is_some_and(|t| !t.contains(&true)) {
            // The graph a rebuild with edges would give, less its edges:
            // kept nodes have the same values (see Graph::build).
            if let Some(k) = &kept {
                g.nodes.retain(|&n| k[n as usize]);
            }
            if !cut_to_count {
                g.sort_nodes(p, o.cum_sort);
            }
            return Trimmed {
                graph: g,
                orig_count,
                dropped_nodes,
                dropped_edges: 0,
                listed: None,
            };
        }
        // Edges touching a node of the set are all its edges; a node outside
        // it is not inlined anywhere, so its label needs none.
        let mut g = self.rebuild_with_edges(&values, kept.as_deref(), inlined_kept.as_deref());
        let p = &self.prof;
        let o = &self.opts;
        g.sort_nodes(p, o.cum_sort);
        let dropped = g.trim_low_frequency_edges(edge_cutoff);
        // pprof trims edges once before selecting the top nodes; when that
        // selection keeps the graph, the final trim finds nothing more.
        let dropped_edges = if o.node_count > 0 && !cut_to_count {
            0
        } else {
            dropped
        };
        Trimmed {
            graph: g,
            orig_count,
            dropped_nodes,
            dropped_edges,
            listed: None,
        }
    }

    /// Node keys whose printable name `m` matches.
    fn keys_matching(&mut self, m: &dyn Fn(&str) -> bool) -> Vec<bool> {
        let table = self.node_table();
        let p = &self.prof;
        let mut name = String::new();
        table
            .infos
            .iter()
            .map(|info| {
                name.clear();
                info.write_printable_name(p, &mut name);
                m(&name)
            })
            .collect()
    }

    /// pprof's node trimming before its rebuild with edges: nodefraction,
    /// then nodecount, decided on the values-only graph.
    fn cut_nodes(&self, values: &Graph) -> NodeCut {
        let mut g = values.clone();
        let p = &self.prof;
        let o = &self.opts;
        // As pprof's graph building, every (re)build leaves negative nodes
        // out of the list; their edges stay.
        self.drop_negative(&mut g);
        let total_value = g.flat_sum();
        let node_cutoff = cutoff(total_value, o.node_fraction);
        let mut dropped_nodes = 0;
        let mut kept: Option<Vec<bool>> = None;
        if node_cutoff > 0 {
            let above = g.nodes_above(node_cutoff);
            if above.len() != g.nodes.len() {
                dropped_nodes = g.nodes.len() - above.len();
                kept = Some(g.kept_set(&above));
                g.nodes = above;
            }
        }
        let orig_count = g.nodes.len();
        // Sorted here only to pick the first nodecount nodes: the graph
        // returned is sorted anyway.
        let mut cut_to_count = false;
        if o.node_count > 0 && (o.node_count as usize) < g.nodes.len() {
            g.sort_nodes(p, o.cum_sort);
            kept = Some(g.kept_set(&g.nodes[..o.node_count as usize]));
            cut_to_count = true;
        }
        NodeCut {
            graph: g,
            kept,
            orig_count,
            dropped_nodes,
            cut_to_count,
            edge_cutoff: cutoff(total_value, o.edge_fraction),
        }
    }

    /// `-drop_negative`: negative nodes leave the list.
    fn drop_negative(&self, g: &mut Graph) {
        if self.opts.drop_negative {
            let arena = &g.arena;
            g.nodes.retain(|&n| !is_negative(&arena[n as usize]));
        }
    }

    /// The graph of the `kept` nodes (all when None) with their edges, or
    /// only the edges touching a node of `touching`: what pprof's rebuild
    /// after trimming gives.
    fn rebuild_with_edges(
        &mut self,
        values: &Graph,
        kept: Option<&[bool]>,
        touching: Option<&[bool]>,
    ) -> Graph {
        let table = self.node_table();
        let p = &self.prof;
        let sel = self.opts.sample;
        let mode = match touching {
            Some(t) => graph::Edges::Touching(t),
            None => graph::Edges::All,
        };
        // Edges touching a few nodes come from the few samples that hold
        // them; node values are then the values pass's (a rebuild gives
        // kept nodes the same values).
        let subset = touching.and_then(|t| match self.postings.get() {
            Some(idx) => idx.samples_touching(&table, t, p.locations.len()),
            None => graph::scan_samples_touching(&p.samples, &table, t, p.locations.len()),
        });
        let mut g = match subset {
            Some(samples) => {
                let mut e = Graph::build_edges_subset(p, &table, sel, kept, mode, &samples);
                e.take_values(values, kept);
                e
            }
            None => Graph::build_edges(p, &table, sel, kept, mode),
        };
        self.drop_negative(&mut g);
        g
    }

    /// What `peek` lists, without edges: the listed nodes whose printable
    /// name `matches`, in report order, in `graph.nodes` ([`Trimmed::listed`]
    /// all); [`Report::peek_edges`] adds the edges of some of them.
    pub fn peek_nodes(&mut self, matches: &dyn Fn(&str) -> bool) -> (Trimmed, PeekEdges) {
        let values = self.values_graph();
        let cut = self.cut_nodes(&values);
        let mut g = cut.graph;
        if let Some(k) = &cut.kept {
            g.nodes.retain(|&n| k[n as usize]);
        }
        let listed = g.nodes.clone();
        let keys = self.keys_matching(matches);
        g.nodes
            .retain(|&n| keys.get(n as usize).copied().unwrap_or(false));
        g.sort_nodes(&self.prof, self.opts.cum_sort);
        let trimmed = Trimmed {
            graph: g,
            orig_count: cut.orig_count,
            dropped_nodes: cut.dropped_nodes,
            dropped_edges: 0,
            listed: Some(listed),
        };
        let edges = PeekEdges {
            values,
            kept: cut.kept,
            edge_cutoff: cut.edge_cutoff,
        };
        (trimmed, edges)
    }

    /// The graph holding every edge of `nodes` (of [`Report::peek_nodes`]),
    /// trimmed by edgefraction as the whole report's would be.
    pub fn peek_edges(&mut self, pn: &PeekEdges, nodes: &[u32]) -> Graph {
        let mut touching = vec![false; pn.values.arena.len()];
        for &n in nodes {
            if let Some(t) = touching.get_mut(n as usize) {
                *t = true;
            }
        }
        let mut g = self.rebuild_with_edges(&pn.values, pn.kept.as_deref(), Some(&touching));
        g.trim_low_frequency_edges(pn.edge_cutoff);
        g
    }

    /// Resolves the `minimum` output unit from the graph's smallest value.
    pub fn select_output_unit(&mut self, g: &Graph) {
        self.select_output_unit_of(g, &g.nodes);
    }

    /// [`Report::select_output_unit`] from the smallest value of `nodes`.
    pub fn select_output_unit_of(&mut self, g: &Graph, nodes: &[u32]) {
        if self.opts.output_unit != "minimum" || nodes.is_empty() {
            return;
        }
        let mut min_value = 0i64;
        for &n in nodes {
            let node = g.node(n);
            let mut m = node.flat_value().wrapping_abs();
            if m == 0 {
                m = node.cum_value().wrapping_abs();
            }
            if m > 0 && (min_value == 0 || m < min_value) {
                min_value = m;
            }
        }
        let mut max_value = self.total;
        if min_value == 0 {
            min_value = max_value;
        }
        let r = self.opts.ratio;
        if r > 0.0 && r != 1.0 {
            min_value = (min_value as f64 * r) as i64;
            max_value = (max_value as f64 * r) as i64;
        }
        let unit = &self.opts.sample_unit;
        let (_, min_unit) = units::scale(min_value, unit, "minimum");
        let (_, max_unit) = units::scale(max_value, unit, "minimum");
        let mut chosen = min_unit.clone();
        // Not for callgrind, which can only show integers.
        if min_unit != max_unit
            && min_value.saturating_mul(100) < max_value
            && self.opts.format != Format::Callgrind
        {
            chosen = units::scale(min_value.saturating_mul(100), unit, "minimum").1;
        }
        self.opts.output_unit = if chosen.is_empty() {
            self.opts.sample_unit.clone()
        } else {
            chosen
        };
    }

    /// The profile's own header lines: File, Build ID, comments, Type,
    /// Time, Duration.
    pub fn profile_labels(&self) -> Vec<String> {
        let p = &self.prof;
        let mut out = Vec::new();
        if let Some(m) = p.mappings.first() {
            if m.file != 0 {
                out.push(format!("File: {}", paths::base_name(p.str(m.file))));
            }
            if m.build_id != 0 {
                out.push(format!("Build ID: {}", p.str(m.build_id)));
            }
        }
        for &c in &p.comments {
            let c = p.str(c);
            if !c.starts_with('#') {
                out.push(c.to_string());
            }
        }
        if !self.opts.sample_type.is_empty() {
            out.push(format!("Type: {}", self.opts.sample_type));
        }
        if p.time_nanos != 0 {
            out.push(format!("Time: {}", format_time(p.time_nanos)));
        }
        if p.duration_nanos != 0 {
            let duration = units::label(p.duration_nanos, "nanoseconds");
            let (total_nanos, total_unit) =
                units::scale(self.total, &self.opts.sample_unit, "nanoseconds");
            let ratio = if total_unit == "ns" && total_nanos != 0.0 {
                format!(
                    "({})",
                    units::percentage(total_nanos as i64, p.duration_nanos)
                )
            } else {
                String::new()
            };
            out.push(format!(
                "Duration: {duration}, Total samples = {} {ratio}",
                self.format_value(self.total)
            ));
        }
        out
    }

    /// All header lines of a text or graph report.
    pub fn report_labels(&self, t: &Trimmed, full_headers: bool) -> Vec<String> {
        let g = &t.graph;
        let mut label = if full_headers || !self.opts.compact_labels {
            self.profile_labels()
        } else {
            Vec::new()
        };
        let flat_sum = t
            .listed()
            .iter()
            .fold(0i64, |s, &n| s.wrapping_add(g.node(n).flat_value()));
        if !self.opts.active_filters.is_empty() {
            label.push("Active filters:".to_string());
            for f in &self.opts.active_filters {
                let shown = match f.char_indices().nth(80) {
                    Some((i, _)) => format!("{}…", &f[..i]),
                    None => f.clone(),
                };
                label.push(format!("   {shown}"));
            }
        }
        label.push(format!(
            "Showing nodes accounting for {}, {} of {} total",
            self.format_value(flat_sum),
            units::percentage(flat_sum, self.total).trim(),
            self.format_value(self.total)
        ));
        if self.total != 0 {
            if t.dropped_nodes > 0 {
                label.push(dropped_label(
                    t.dropped_nodes,
                    "node",
                    "cum",
                    &self.format_value(cutoff(self.total, self.opts.node_fraction)),
                ));
            }
            if t.dropped_edges > 0 {
                label.push(dropped_label(
                    t.dropped_edges,
                    "edge",
                    "freq",
                    &self.format_value(cutoff(self.total, self.opts.edge_fraction)),
                ));
            }
            let n = t.listed().len();
            if n > 0 && n < t.orig_count {
                label.push(format!("Showing top {n} nodes out of {}", t.orig_count));
            }
        }
        if full_headers {
            label.push("\nSee https://git.io/JfYMW for how to read the graph".to_string());
        }
        label
    }
}

fn dropped_label(d: usize, what: &str, by: &str, cutoff: &str) -> String {
    let s = if d > 1 { "s" } else { "" };
    format!("Dropped {d} {what}{s} ({by} <= {cutoff})")
}

/// `Jan 2, 2006 at 3:04pm (EST)`: pprof's layout, in the local time zone
/// (`TZ`, else the system's), as Go's `time.Local`.
pub fn format_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let Ok(t) = jiff::Timestamp::from_second(secs) else {
        return nanos.to_string();
    };
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz)
        .strftime("%b %-d, %Y at %-I:%M%P (%Z)")
        .to_string()
}
