//! The web UI's server: the listening socket and worker threads, request
//! routing, URL parameters → [`Config`], the caches of prepared reports and
//! of pages, and live snapshots of URL sources.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use super::views::{self, View};
use crate::driver::{self, Command, Error, Sources};
use crate::options::Config;
use crate::profile::Profile;
use crate::report::Report;
use crate::ui::Ui;

/// How the UI is served: `-http`'s `[host]:port` and `-no_browser`.
#[derive(Clone, Debug, Default)]
pub struct WebOptions {
    pub http: String,
    pub no_browser: bool,
}

/// pprof's URL parameters and the options they set.
pub const URL_PARAMS: &[(&str, &str)] = &[
    ("dropneg", "drop_negative"),
    ("calltree", "call_tree"),
    ("rel", "relative_percentages"),
    ("unit", "unit"),
    ("compact", "compact_labels"),
    ("intel", "intel_syntax"),
    ("n", "nodecount"),
    ("nf", "nodefraction"),
    ("ef", "edgefraction"),
    ("trim", "trim"),
    ("f", "focus"),
    ("i", "ignore"),
    ("prunefrom", "prune_from"),
    ("h", "hide"),
    ("s", "show"),
    ("sf", "show_from"),
    ("tf", "tagfocus"),
    ("ti", "tagignore"),
    ("ts", "tagshow"),
    ("th", "taghide"),
    ("mean", "mean"),
    ("si", "sample_index"),
    ("norm", "normalize"),
    ("sort", "sort"),
    ("g", "granularity"),
    ("noinlines", "noinlines"),
];

/// Parameters that filter samples: the Refine menu's Reset removes them.
pub const FILTER_PARAMS: &[&str] = &[
    "f",
    "i",
    "h",
    "s",
    "sf",
    "tf",
    "ti",
    "ts",
    "th",
    "prunefrom",
];

/// How many prepared reports and rendered pages are kept.
const PREPARED_CACHE: usize = 12;
const UNFILTERED_CACHE: usize = 12;
/// Profiles from this many samples prepare a filtered view's unfiltered
/// parent first, to derive it (and later ones) from.
const DERIVE_MIN_SAMPLES: usize = 100_000;
const PAGE_CACHE: usize = 48;
/// Pages larger than this are not kept in the page cache.
const PAGE_CACHE_MAX_BYTES: usize = 8 << 20;
/// Worker threads answering requests.
const WORKERS: usize = 4;
/// The longest request target read.
const MAX_URL: usize = 16 << 10;

/// `[host]:port` → (host, port); the host defaults to localhost.
pub fn parse_address(http: &str) -> Result<(String, u16), Error> {
    let bad = || Error::Usage(format!("invalid -http value {http:?}: want [host]:port"));
    let (host, port) = http.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "localhost" } else { host };
    Ok((host.to_string(), port))
}

/// A profile as loaded or fetched again.
pub struct Snapshot {
    pub label: String,
    /// Where a fetched snapshot was saved.
    pub saved: Option<String>,
    pub profile: Arc<Profile>,
}

/// A small least-recently-used cache.
struct Lru<T> {
    max: usize,
    entries: VecDeque<(String, T)>,
}

impl<T: Clone> Lru<T> {
    fn new(max: usize) -> Lru<T> {
        Lru {
            max,
            entries: VecDeque::new(),
        }
    }
    fn get(&mut self, key: &str) -> Option<T> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        let e = self.entries.remove(i)?;
        let v = e.1.clone();
        self.entries.push_front(e);
        Some(v)
    }
    fn put(&mut self, key: String, v: T) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push_front((key, v));
        self.entries.truncate(self.max);
    }
    fn clear(&mut self) {
        self.entries.clear();
    }
}

/// One answer.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Arc<Vec<u8>>,
    pub location: Option<String>,
}

impl Reply {
    fn html(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: Arc::new(body.into_bytes()),
            location: None,
        }
    }
    fn redirect(status: u16, to: String) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Arc::new(format!("See {to}\n").into_bytes()),
            location: Some(to),
        }
    }
    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Arc::new(body.as_bytes().to_vec()),
            location: None,
        }
    }
}

/// A view's rendered body and what the page shows around it.
struct Body {
    body: String,
    header: Vec<String>,
    warnings: Vec<String>,
}

/// A request's decoded query: parameters in order, and the raw text.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub raw: String,
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (super::escape::url_decode(k), super::escape::url_decode(v))
            })
            .collect();
        Query {
            raw: raw.to_string(),
            pairs,
        }
    }

    /// The last value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query with `set` replacing (or, with an empty value, removing)
    /// parameters, and `drop` removed: `?a=b&c=d`, or "" when empty.
    pub fn with(&self, set: &[(&str, &str)], drop: &[&str]) -> String {
        use super::escape::url_component;
        let mut out = String::new();
        let mut push = |k: &str, v: &str| {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str(&url_component(k));
            out.push('=');
            out.push_str(&url_component(v));
        };
        for (k, v) in &self.pairs {
            if set.iter().any(|(s, _)| s == k) || drop.contains(&k.as_str()) {
                continue;
            }
            push(k, v);
        }
        for (k, v) in set {
            if !v.is_empty() {
                push(k, v);
            }
        }
        out
    }
}

/// The server's state, shared by its threads.
pub struct State {
    config: Config,
    sources: Sources,
    /// Some source is a URL: snapshots can be taken.
    pub live: bool,
    pub snapshots: RwLock<Vec<Arc<Snapshot>>>,
    compared: Mutex<Lru<Arc<Profile>>>,
    prepared: Mutex<Lru<Arc<Report>>>,
    /// Prepared reports without focus, ignore or hide, apart: they share
    /// the profile's samples (cheap to keep) and filtered views derive from
    /// them, so a run of filtered views must not push them out.
    unfiltered: Mutex<Lru<Arc<Report>>>,
    pages: Mutex<Lru<Reply>>,
    /// Rendered view bodies by view and options (whatever the URL's
    /// spelling), with the header and warnings shown around them.
    bodies: Mutex<Lru<Arc<Body>>>,
    /// Host header values accepted (empty: any), against DNS rebinding.
    hosts: Vec<String>,
    /// Only one snapshot is fetched at a time.
    fetching: Mutex<()>,
}

impl State {
    pub fn new(profile: Profile, config: Config, sources: Sources, label: String) -> State {
        let live = sources.sources.iter().any(|s| crate::fetch::is_url(s));
        State {
            config,
            sources,
            live,
            snapshots: RwLock::new(vec![Arc::new(Snapshot {
                label,
                saved: None,
                profile: Arc::new(profile),
            })]),
            compared: Mutex::new(Lru::new(4)),
            prepared: Mutex::new(Lru::new(PREPARED_CACHE)),
            unfiltered: Mutex::new(Lru::new(UNFILTERED_CACHE)),
            pages: Mutex::new(Lru::new(PAGE_CACHE)),
            bodies: Mutex::new(Lru::new(PAGE_CACHE)),
            hosts: Vec::new(),
            fetching: Mutex::new(()),
        }
    }

    pub fn snapshot_list(&self) -> Vec<Arc<Snapshot>> {
        self.snapshots.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The profile to show: snapshot `snap` (default: the first), minus
    /// snapshot `base` when comparing.
    fn profile(&self, q: &Query) -> Result<(Arc<Profile>, String), String> {
        let snaps = self.snapshot_list();
        let pick = |name: &str| -> Result<Option<usize>, String> {
            match q.get(name).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => match v.parse::<usize>() {
                    Ok(i) if i < snaps.len() => Ok(Some(i)),
                    _ => Err(format!(
                        "no snapshot {v:?} for {name}: there are {} (0 to {})",
                        snaps.len(),
                        snaps.len() - 1
                    )),
                },
            }
        };
        let cur = pick("snap")?.unwrap_or(0);
        let Some(base) = pick("base")? else {
            return Ok((snaps[cur].profile.clone(), format!("{cur}")));
        };
        let key = format!("{cur}-{base}");
        if let Some(p) = self.compared.lock().ok().and_then(|mut c| c.get(&key)) {
            return Ok((p, key));
        }
        let p = Arc::new(compare(&snaps[cur].profile, &snaps[base].profile)?);
        if let Ok(mut c) = self.compared.lock() {
            c.put(key.clone(), p.clone());
        }
        Ok((p, key))
    }

    /// A prepared report for the command and options, from the cache when
    /// one with the same samples was prepared (as the shell does), with
    /// the warnings its preparation gave.
    fn report(
        &self,
        profile: &Profile,
        profile_key: &str,
        cmd: &Command,
        cfg: &Config,
    ) -> Result<(Report, Vec<String>), (Error, Vec<String>)> {
        let key = format!("{profile_key}|{}", crate::shell::preparation_key(cmd, cfg));
        // The same report without the filters the one-pass filter applies
        // (focus, ignore, hide, show, tagfocus, tagignore), if prepared,
        // gives a filtered one's values and index.
        let mut unfiltered = cfg.clone();
        for f in [
            &mut unfiltered.focus,
            &mut unfiltered.ignore,
            &mut unfiltered.hide,
            &mut unfiltered.show,
            &mut unfiltered.tagfocus,
            &mut unfiltered.tagignore,
        ] {
            f.clear();
        }
        let parent_key = format!(
            "{profile_key}|{}",
            crate::shell::preparation_key(cmd, &unfiltered)
        );
        let cache = if parent_key == key {
            &self.unfiltered
        } else {
            &self.prepared
        };
        let cached = cache.lock().ok().and_then(|mut c| c.get(&key));
        let mut warnings = Vec::new();
        let prepared = match cached {
            Some(r) => r,
            None => {
                let mut ui: Vec<String> = Vec::new();
                let t = Instant::now();
                let parent_of = || self.unfiltered.lock().ok()?.get(&parent_key);
                let mut parent = (parent_key != key).then(parent_of).flatten();
                // On a large profile, the unfiltered report is prepared
                // (and kept) first: this filter and the next ones of the
                // same sample selection derive from it.
                if parent.is_none()
                    && parent_key != key
                    && profile.samples.len() >= DERIVE_MIN_SAMPLES
                {
                    parent = self
                        .report(profile, profile_key, cmd, &unfiltered)
                        .ok()
                        .and_then(|_| parent_of());
                }
                let mut r =
                    driver::prepare_report_from(profile, parent.as_deref(), cmd, cfg, &mut ui)
                        .map_err(|e| (e, ui.clone()))?;
                timed("prepare", t);
                warnings.extend(ui);
                let t = Instant::now();
                if cmd.spec.class != driver::PrepClass::Own {
                    r.prime();
                }
                timed("prime", t);
                let r = Arc::new(r);
                if let Ok(mut c) = cache.lock() {
                    c.put(key, r.clone());
                }
                r
            }
        };
        let mut rpt = (*prepared).clone();
        driver::set_output_options(&mut rpt, cmd, cfg).map_err(|e| (e, Vec::new()))?;
        Ok((rpt, warnings))
    }

    /// The options for a request: the command line's, then the URL's.
    fn config(&self, q: &Query) -> (Config, Vec<String>) {
        let mut cfg = self.config.clone();
        let mut errors = Vec::new();
        for (k, v) in &q.pairs {
            let Some((_, field)) = URL_PARAMS.iter().find(|(p, _)| p == k) else {
                continue;
            };
            if let Err(e) = cfg.set(field, v) {
                errors.push(format!("parameter {k}: {e}"));
            }
        }
        (cfg, errors)
    }

    /// Fetches the sources again as a new snapshot.
    pub fn take_snapshot(&self) -> Result<usize, String> {
        let _one = self.fetching.lock().map_err(|_| "snapshot in progress")?;
        let mut ui: Vec<String> = Vec::new();
        let p = driver::fetch_profiles_with(&self.sources, &mut ui)
            .map_err(|e| driver::error_chain(&e))?;
        let saved = ui
            .iter()
            .find_map(|w| w.strip_prefix("Saved profile in ").map(str::to_string));
        let mut snaps = self
            .snapshots
            .write()
            .map_err(|_| "snapshots unavailable")?;
        let n = snaps.len();
        let when = jiff::Timestamp::now().strftime("%H:%M:%S UTC").to_string();
        snaps.push(Arc::new(Snapshot {
            label: format!("snapshot {n} ({when})"),
            saved,
            profile: Arc::new(p),
        }));
        drop(snaps);
        // Pages list the snapshots.
        if let Ok(mut pages) = self.pages.lock() {
            pages.clear();
        }
        if let Ok(mut bodies) = self.bodies.lock() {
            bodies.clear();
        }
        Ok(n)
    }
}

/// `cur` with `base` subtracted, the base kept for differential flame
/// graphs, as `-base` does.
fn compare(cur: &Profile, base: &Profile) -> Result<Profile, String> {
    let mut b = base.clone();
    b.base = None;
    let kept = b.clone();
    b.scale(-1.0);
    let mut c = cur.clone();
    c.base = None;
    let mut p = driver::combine(&mut [c, b]).map_err(|e| driver::error_chain(&e))?;
    p.base = Some(Arc::new(kept));
    Ok(p)
}

/// With `RPROF_TIMINGS` set, says on stderr how long a step took.
fn timed(what: &str, since: Instant) {
    if std::env::var_os("RPROF_TIMINGS").is_some() {
        eprintln!("rprof web: {what} {:?}", since.elapsed());
    }
}

/// Answers one request. Never panics on input: bad paths and parameters
/// are pages saying what is wrong.
pub fn handle(state: &State, method: &str, url: &str, host: Option<&str>) -> Reply {
    if !state.hosts.is_empty() && !host.is_some_and(|h| state.hosts.iter().any(|a| a == h)) {
        return Reply::text(403, "forbidden host\n");
    }
    if url.len() > MAX_URL {
        return Reply::text(414, "request target too long\n");
    }
    let (path, raw_query) = url.split_once('?').unwrap_or((url, ""));
    let q = Query::parse(raw_query);
    let view = match path {
        "/" | "" | "/ui" => return Reply::redirect(302, format!("/ui/{}", q.with(&[], &[]))),
        "/ui/" => View::Graph,
        "/ui/top" => View::Top,
        "/ui/flamegraph" => View::Flame,
        "/ui/peek" => View::Peek,
        "/ui/source" => View::Source,
        "/ui/disasm" => View::Disasm,
        "/ui/snapshots" => View::Snapshots,
        "/ui/snapshot" => {
            if method != "POST" {
                return Reply::text(405, "use POST to take a snapshot\n");
            }
            if !state.live {
                return Reply::html(
                    400,
                    views::message_page("No snapshots: the profile was not fetched from a URL."),
                );
            }
            return match state.take_snapshot() {
                Ok(n) => Reply::redirect(303, format!("/ui/snapshots?new={n}")),
                Err(e) => Reply::html(
                    502,
                    views::message_page(&format!("Could not take a snapshot: {e}")),
                ),
            };
        }
        "/ui/assets/ui.js" => {
            return Reply {
                status: 200,
                content_type: "text/javascript; charset=utf-8",
                body: Arc::new(views::UI_JS.as_bytes().to_vec()),
                location: None,
            }
        }
        "/ui/assets/ui.css" => {
            return Reply {
                status: 200,
                content_type: "text/css; charset=utf-8",
                body: Arc::new(views::UI_CSS.as_bytes().to_vec()),
                location: None,
            }
        }
        _ => return Reply::html(404, views::message_page("Not found.")),
    };
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, "method not allowed\n");
    }
    let nsnaps = state.snapshot_list().len();
    let page_key = format!("{path}?{raw_query}|{nsnaps}");
    if let Some(r) = state.pages.lock().ok().and_then(|mut c| c.get(&page_key)) {
        return r;
    }
    let reply = render_view(state, view, &q);
    if reply.status == 200 && reply.body.len() <= PAGE_CACHE_MAX_BYTES {
        if let Ok(mut c) = state.pages.lock() {
            c.put(page_key, reply.clone());
        }
    }
    reply
}

fn render_view(state: &State, view: View, q: &Query) -> Reply {
    let (cfg, errors) = state.config(q);
    let snaps = state.snapshot_list();
    let mut ctx = views::Ctx {
        view,
        query: q.clone(),
        live: state.live,
        snapshots: snaps.iter().map(|s| s.label.clone()).collect(),
        saved: snaps.iter().map(|s| s.saved.clone()).collect(),
        sample_types: Vec::new(),
        sample_index: cfg.sample_index.clone(),
        errors,
        warnings: Vec::new(),
        header: Vec::new(),
        title: String::new(),
    };
    if !ctx.errors.is_empty() {
        return Reply::html(400, views::page(&ctx, ""));
    }
    if view == View::Snapshots {
        return Reply::html(200, views::snapshots_page(&ctx));
    }
    let (profile, profile_key) = match state.profile(q) {
        Ok(p) => p,
        Err(e) => {
            ctx.errors.push(e);
            return Reply::html(400, views::page(&ctx, ""));
        }
    };
    ctx.sample_types = profile
        .sample_types
        .iter()
        .map(|st| profile.str(st.ty).to_string())
        .collect();
    ctx.title = snaps.first().map(|s| s.label.clone()).unwrap_or_default();
    let Some((cmd, mut cfg)) = views::command(view, &cfg, q) else {
        let body = views::no_report_body(view);
        return Reply::html(200, views::page(&ctx, &body));
    };
    // One spelling per sample type (si=0 is si=samples), so that both
    // share a preparation and a body.
    if let Ok(i) = profile.sample_index(&cfg.sample_index) {
        if let Some(st) = profile.sample_types.get(i) {
            let name = profile.str(st.ty);
            if profile.sample_index(name) == Ok(i) {
                cfg.sample_index = name.to_string();
            }
        }
    }
    // Bodies depend on the options, not on how the URL spells them (and
    // a Peek on its page).
    let page = if view == View::Peek {
        views::peek_start(q)
    } else {
        0
    };
    let body_key = format!(
        "{}|{profile_key}|{}|{:?}|{cfg:?}|{page}",
        view.path(),
        cmd.name(),
        cmd.arg
    );
    if let Some(b) = state.bodies.lock().ok().and_then(|mut c| c.get(&body_key)) {
        ctx.warnings = b.warnings.clone();
        ctx.header = b.header.clone();
        return Reply::html(200, views::page(&ctx, &b.body));
    }
    let started = Instant::now();
    let (mut rpt, warnings) = match state.report(&profile, &profile_key, &cmd, &cfg) {
        Ok(r) => r,
        Err((e, warnings)) => {
            ctx.warnings = warnings;
            ctx.errors.push(driver::error_chain(&e));
            return Reply::html(400, views::page(&ctx, ""));
        }
    };
    ctx.warnings = warnings;
    let body = if cmd.spec.name == "weblist" {
        match views::source_body(&mut rpt, &mut ctx) {
            Ok(b) => b,
            Err(why) => source_as_list(state, &profile, &profile_key, &cfg, q, &mut ctx, why),
        }
    } else {
        views::body(view, &mut rpt, &cmd, &mut ctx)
    };
    timed("render", started);
    if ctx.errors.is_empty() && body.len() <= PAGE_CACHE_MAX_BYTES {
        if let Ok(mut c) = state.bodies.lock() {
            c.put(
                body_key,
                Arc::new(Body {
                    body: body.clone(),
                    header: ctx.header.clone(),
                    warnings: ctx.warnings.clone(),
                }),
            );
        }
    }
    let status = if ctx.errors.is_empty() { 200 } else { 400 };
    let mut html = views::page(&ctx, &body);
    html.push_str(&format!(
        "<!-- rendered in {} ms -->\n",
        started.elapsed().as_millis()
    ));
    Reply::html(status, html)
}

/// The Source view where weblist found no assembly: `list`'s text, under
/// `why`'s note, with its warnings (the binary that could not be opened...).
fn source_as_list(
    state: &State,
    profile: &Profile,
    profile_key: &str,
    cfg: &Config,
    q: &Query,
    ctx: &mut views::Ctx,
    why: views::NoAssembly,
) -> String {
    let Some((cmd, cfg)) = views::list_command(cfg, q) else {
        return String::new();
    };
    let (mut rpt, warnings) = match state.report(profile, profile_key, &cmd, &cfg) {
        Ok(r) => r,
        Err((e, warnings)) => {
            ctx.warnings.extend(warnings);
            ctx.errors.push(driver::error_chain(&e));
            return String::new();
        }
    };
    // Both preparations warn alike (dropped samples...): once each.
    for w in why.warnings.into_iter().chain(warnings) {
        if !ctx.warnings.contains(&w) {
            ctx.warnings.push(w);
        }
    }
    let body = views::body(View::Source, &mut rpt, &cmd, ctx);
    if ctx.errors.is_empty() {
        format!("{}{body}", why.note)
    } else {
        body
    }
}

/// Serves the UI until the process is killed: prints where, opens a
/// browser unless `-no_browser`.
pub fn serve(
    profile: Profile,
    config: Config,
    sources: Sources,
    opts: &WebOptions,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    let (host, port) = parse_address(&opts.http)?;
    let bind = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let server = tiny_http::Server::http(&bind).map_err(|e| Error::Serve {
        addr: bind.clone(),
        reason: e.to_string(),
    })?;
    let port = server
        .server_addr()
        .to_ip()
        .map_or(port, |a: std::net::SocketAddr| a.port());
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let label = sources
        .sources
        .first()
        .map(|s| crate::paths::base_name(s).to_string())
        .unwrap_or_default();
    let mut state = State::new(profile, config, sources, label);
    if matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        state.hosts = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .flat_map(|h| [format!("{h}:{port}"), h.to_string()])
            .collect();
    }
    let state = Arc::new(state);
    let url = format!("http://{shown}");
    ui.warn(&format!("Serving web UI on {url}"));
    if !opts.no_browser && !driver::open_url(&url) {
        ui.warn("rprof: could not start a browser (set $BROWSER)");
    }
    let server = Arc::new(server);
    let mut workers = Vec::new();
    for i in 0..WORKERS {
        let server = server.clone();
        let state = state.clone();
        let t = std::thread::Builder::new()
            .name(format!("web{i}"))
            // Deep call paths make deep flame graph trees.
            .stack_size(256 << 20)
            .spawn(move || worker(&server, &state));
        match t {
            Ok(t) => workers.push(t),
            Err(e) => {
                return Err(Error::Serve {
                    addr: bind,
                    reason: format!("starting a thread: {e}"),
                })
            }
        }
    }
    // The default views are prepared while the user's browser starts, then
    // the same for the Sample menu's other sample types.
    {
        let state = state.clone();
        let host = state.hosts.first().cloned();
        let _ = std::thread::Builder::new()
            .name("web-warm".into())
            .stack_size(256 << 20)
            .spawn(move || warm(&state, host.as_deref()));
    }
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// Renders the views a user is likely to open first, into the caches.
fn warm(state: &State, host: Option<&str>) {
    crate::ui::background_priority();
    let mut queries = vec![String::new()];
    if let Some(snap) = state.snapshot_list().first() {
        let p = &snap.profile;
        let default = p.sample_index("").ok();
        for (i, st) in p.sample_types.iter().enumerate() {
            if Some(i) != default {
                let q = Query::default().with(&[("si", p.str(st.ty))], &[]);
                queries.push(q);
            }
        }
    }
    for q in &queries {
        for path in ["/ui/", "/ui/top", "/ui/flamegraph"] {
            let _ = handle(state, "GET", &format!("{path}{q}"), host);
        }
    }
    // Source lines: what Peek and a granularity change use.
    let _ = handle(state, "GET", "/ui/top?g=lines", host);
    // The unfiltered preparations the Source view (weblist, and list
    // without a binary) derives its focused reports from: a focus on no
    // function makes them (see `State::report`) and nothing else.
    let _ = handle(state, "GET", "/ui/source?f=%5E%24", host);
    // Then memory for the filtered copies of the samples the Refine menu
    // makes, made ready while the server waits (see `profile::reserve`).
    if let Some(snap) = state.snapshot_list().first() {
        let samples = snap.profile.samples.clone();
        crate::profile::reserve::keep_filled(&samples);
    }
}

fn worker(server: &tiny_http::Server, state: &State) {
    while let Ok(rq) = server.recv() {
        let method = rq.method().as_str().to_string();
        let url = rq.url().to_string();
        let host = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str().to_string());
        // A panic is a bug; it fails that request, not the server.
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle(state, &method, &url, host.as_deref())
        }))
        .unwrap_or_else(|_| Reply::text(500, "internal error\n"));
        respond(rq, &reply, method == "HEAD");
    }
}

fn respond(rq: tiny_http::Request, reply: &Reply, head: bool) {
    use tiny_http::{Header, Response};
    let body: &[u8] = if head { &[] } else { &reply.body };
    let mut resp = Response::from_data(body.to_vec()).with_status_code(reply.status);
    let mut headers = vec![
        ("Content-Type", reply.content_type.to_string()),
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
             frame-ancestors 'none'"
                .to_string(),
        ),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Referrer-Policy", "no-referrer".to_string()),
        ("Cache-Control", "no-store".to_string()),
    ];
    if let Some(l) = &reply.location {
        headers.push(("Location", l.clone()));
    }
    for (k, v) in headers {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            resp.add_header(h);
        }
    }
    let _ = rq.respond(resp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_address(":8080").unwrap(), ("localhost".into(), 8080));
        assert_eq!(parse_address("0.0.0.0:0").unwrap(), ("0.0.0.0".into(), 0));
        assert_eq!(parse_address("[::1]:80").unwrap(), ("::1".into(), 80));
        assert!(parse_address("8080").is_err());
        assert!(parse_address(":http").is_err());
        assert!(parse_address(":65536").is_err());
    }

    #[test]
    fn queries() {
        let q = Query::parse("f=a%7Cb&si=cpu&x&f=c+d");
        assert_eq!(q.get("f"), Some("c d"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.with(&[("si", "samples")], &["f"]), "?x=&si=samples");
        assert_eq!(q.with(&[("f", "")], &["x", "si"]), "");
    }

    /// A filtered view of a large profile prepares its unfiltered parent
    /// first and keeps it, so the next filters derive from it.
    #[test]
    fn filtered_views_keep_their_unfiltered_parent() {
        use crate::report::graph::tests::synthetic;
        let bytes = synthetic::gzipped(&synthetic::random_stacks_profile(120_000, 600, 9));
        let p = crate::profile::parse(&bytes).expect("profile");
        let s = State::new(p, Config::default(), Sources::default(), "r".into());
        let keys = |c: &Mutex<Lru<Arc<Report>>>| -> Vec<String> {
            let c = c.lock().expect("lock");
            c.entries.iter().map(|(k, _)| k.clone()).collect()
        };
        let r = handle(&s, "GET", "/ui/top?si=samples&h=T1", None);
        assert_eq!(r.status, 200);
        let parents = keys(&s.unfiltered);
        assert_eq!(parents.len(), 1, "{parents:?}");
        assert_eq!(keys(&s.prepared).len(), 1);
        // More filtered views than the cache holds: the parent stays.
        for i in 0..PREPARED_CACHE + 2 {
            let r = handle(&s, "GET", &format!("/ui/top?si=samples&i=T{i}"), None);
            assert_eq!(r.status, 200);
        }
        assert_eq!(keys(&s.prepared).len(), PREPARED_CACHE);
        assert_eq!(keys(&s.unfiltered), parents);
    }

    #[test]
    fn url_parameters_set_options() {
        let s = State::new(
            Profile::default(),
            Config::default(),
            Sources::default(),
            String::new(),
        );
        let (cfg, errors) = s.config(&Query::parse("f=main&g=lines&n=5&sort=cum&bogus=1"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(cfg.focus, "main");
        assert_eq!(cfg.granularity, crate::options::Granularity::Lines);
        assert_eq!(cfg.nodecount, 5);
        let (_, errors) = s.config(&Query::parse("n=x&g=sideways"));
        assert_eq!(errors.len(), 2);
        // Every parameter names a real option.
        for (_, field) in URL_PARAMS {
            assert!(crate::options::field(field).is_some(), "{field}");
        }
    }
}
