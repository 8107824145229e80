// rprof web UI: selection, refine, search, sortable top table, graph pan
// and zoom, the flame graph, and the source's expandable assembly. Profile
// strings only ever go into the page through textContent and attributes,
// never as HTML.
(function () {
  'use strict';
  var view = document.body.getAttribute('data-view');
  var dataEl = document.getElementById('data');
  var data = null;
  if (dataEl) {
    try { data = JSON.parse(dataEl.textContent); } catch (e) { data = null; }
  }
  var status = document.getElementById('status');
  var search = document.getElementById('search');
  var selected = [];   // selected function names

  function say(msg) { if (status) { status.textContent = msg; } }
  function quote(s) { return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'); }
  function selectionRegexp() {
    if (selected.length === 0) { return ''; }
    // As pprof: the names quoted, unanchored.
    return selected.map(quote).join('|');
  }
  function toggle(name, on) {
    var i = selected.indexOf(name);
    if (on === undefined) { on = i < 0; }
    if (on && i < 0) { selected.push(name); }
    if (!on && i >= 0) { selected.splice(i, 1); }
    say(selected.length ? selected.length + ' selected' : '');
    return on;
  }
  function urlWith(path, params) {
    var u = new URL(path, window.location.href);
    var cur = new URLSearchParams(window.location.search);
    cur.forEach(function (v, k) { u.searchParams.set(k, v); });
    // A new view or filter starts at Peek's first page.
    u.searchParams.delete('start');
    Object.keys(params).forEach(function (k) {
      if (params[k] === '') { u.searchParams.delete(k); } else { u.searchParams.set(k, params[k]); }
    });
    return u.pathname + u.search;
  }
  // The regexp the Refine menu and Peek/Source use: the selection, else
  // the search box.
  function chosenRegexp() {
    var re = selectionRegexp();
    if (!re && search) { re = search.value.trim(); }
    return re;
  }
  Array.prototype.forEach.call(document.querySelectorAll('a.refine'), function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      var re = chosenRegexp();
      if (!re) { say('Select nodes or type a regexp first'); return; }
      var param = a.getAttribute('data-param');
      // As pprof: focus, show and show_from replace; ignore and hide add.
      var old = new URLSearchParams(window.location.search).get(param);
      if (old && param !== 'f' && param !== 's' && param !== 'sf') { re += '|' + old; }
      var p = {}; p[param] = re;
      window.location.href = urlWith(window.location.pathname, p);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('a[data-needs-f]'), function (a) {
    a.addEventListener('click', function (e) {
      var re = chosenRegexp();
      if (!re) { return; }
      e.preventDefault();
      window.location.href = urlWith(a.getAttribute('href').split('?')[0], { f: re });
    });
  });

  // Search: highlight as you type; Enter on peek, source or disasm asks
  // for it.
  var matchers = [];
  function compile(text) {
    if (!text) { return null; }
    try { return new RegExp(text, 'i'); } catch (e) { say('bad regexp: ' + e.message); return null; }
  }
  function runSearch() {
    var re = compile(search ? search.value.trim() : '');
    if (re) { say(''); }
    matchers.forEach(function (m) { m(re); });
  }
  // Views of the functions matching `f`: the search box holds it.
  var regexpView = view === 'peek' || view === 'source' || view === 'disasm';
  if (search) {
    var q = new URLSearchParams(window.location.search);
    var timer = null;
    search.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(runSearch, 150);
    });
    search.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && regexpView) {
        window.location.href = urlWith(window.location.pathname, { f: search.value.trim() });
      }
    });
    if (regexpView) { search.value = q.get('f') || ''; }
  }

  // Source: a click on a line with assembly shows or hides it, as in
  // weblist's page (whose inline script the page's CSP would refuse).
  var listing = document.getElementById('weblist');
  if (listing) {
    listing.addEventListener('click', function (e) {
      var t = e.target;
      while (t && t !== listing && !(t.classList && t.classList.contains('livesrc'))) { t = t.parentNode; }
      if (!t || t === listing) { return; }
      var asm = t.nextElementSibling;
      if (asm && asm.classList.contains('asm')) { asm.classList.toggle('open'); }
    });
  }

  // Graph: pan (drag), zoom (wheel), click selects a node.
  if (view === 'graph') { initGraph(); }
  function initGraph() {
    var svg = document.querySelector('#graph svg');
    var vp = document.getElementById('viewport');
    if (!svg) { return; }
    var names = (data && data.nodes) || [];
    var nodes = document.querySelectorAll('#graph g.node');
    var nameOf = function (g) {
      var t = g.querySelector('title');
      var m = t ? /^N(\d+)$/.exec(t.textContent) : null;
      return m ? names[parseInt(m[1], 10) - 1] : null;
    };
    Array.prototype.forEach.call(nodes, function (g) {
      var name = nameOf(g);
      if (name === null || name === undefined) { return; }
      g.setAttribute('data-name', name);
      g.addEventListener('click', function (e) {
        e.stopPropagation();
        var on = toggle(name);
        g.classList.toggle('selected', on);
      });
    });
    matchers.push(function (re) {
      Array.prototype.forEach.call(nodes, function (g) {
        var n = g.getAttribute('data-name');
        g.classList.toggle('match', !!(re && n && re.test(n)));
      });
    });
    if (!vp) { return; }
    var m = /scale\(([-\d.e]+)/.exec(vp.getAttribute('transform') || '');
    var s = m ? parseFloat(m[1]) : 1, tx = 0, ty = 0, drag = null, moved = false;
    function apply() { vp.setAttribute('transform', 'translate(' + tx + ',' + ty + ') scale(' + s + ')'); }
    svg.addEventListener('wheel', function (e) {
      e.preventDefault();
      var f = e.deltaY < 0 ? 1.15 : 1 / 1.15;
      var r = svg.getBoundingClientRect();
      var x = e.clientX - r.left, y = e.clientY - r.top;
      tx = x - (x - tx) * f; ty = y - (y - ty) * f; s *= f;
      apply();
    }, { passive: false });
    svg.addEventListener('mousedown', function (e) {
      if (e.button !== 0) { return; }
      drag = { x: e.clientX - tx, y: e.clientY - ty }; moved = false;
    });
    window.addEventListener('mousemove', function (e) {
      if (drag) { tx = e.clientX - drag.x; ty = e.clientY - drag.y; moved = true; apply(); }
    });
    window.addEventListener('mouseup', function () { drag = null; });
    apply();
  }

  // Top: sortable columns, click selects a row.
  if (view === 'top') { initTop(); }
  function initTop() {
    var table = document.getElementById('toptable');
    if (!table) { return; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (tr) {
      var name = tr.cells[5].textContent;
      tr.addEventListener('click', function () { tr.classList.toggle('selected', toggle(name)); });
    });
    var order = {};
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener('click', function () {
        var col = parseInt(th.getAttribute('data-col'), 10);
        var numeric = th.classList.contains('num');
        // First click: numbers largest first, names in order.
        var dir = order[col] = -(order[col] || (numeric ? -1 : 1));
        rows.sort(function (a, b) {
          var x, y;
          if (numeric) {
            x = parseFloat(a.cells[col].getAttribute('data-v'));
            y = parseFloat(b.cells[col].getAttribute('data-v'));
          } else { x = a.cells[col].textContent; y = b.cells[col].textContent; }
          return x < y ? dir : x > y ? -dir : 0;
        });
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
    matchers.push(function (re) {
      rows.forEach(function (tr) { tr.classList.toggle('match', !!(re && re.test(tr.cells[5].textContent))); });
    });
  }

  // Values in the profile's unit, as pprof scales them.
  function fmt(v) {
    var unit = (data && data.unit) || '';
    var a = Math.abs(v), sc, u;
    if (/^(nanoseconds|ns)$/.test(unit)) {
      if (a >= 1e9) { sc = 1e9; u = 's'; } else if (a >= 1e6) { sc = 1e6; u = 'ms'; } else if (a >= 1e3) { sc = 1e3; u = 'us'; } else { sc = 1; u = 'ns'; }
    } else if (/^(bytes|B)$/.test(unit)) {
      if (a >= 1 << 30) { sc = 1 << 30; u = 'GB'; } else if (a >= 1 << 20) { sc = 1 << 20; u = 'MB'; } else if (a >= 1024) { sc = 1024; u = 'kB'; } else { sc = 1; u = 'B'; }
    } else { sc = 1; u = unit === 'count' ? '' : unit; }
    var x = v / sc;
    var s = (Math.round(x * 100) / 100).toString();
    return s + u;
  }

  if (view === 'flamegraph' && data && data.root) { initFlame(); }
  function initFlame() {
    var box = document.getElementById('flame');
    var info = document.getElementById('flameinfo');
    var matched = document.getElementById('matched');
    var names = data.names;
    var total = data.total || 0;
    // Nodes: {name, v, self, pruned, before, kids, parent}
    function build(a, parent) {
      var n = { name: a[0] < 0 ? 'root' : names[a[0]], v: a[1], self: a[2], pruned: a[3], before: a[4], kids: [], parent: parent };
      for (var i = 0; i < a[5].length; i++) { n.kids.push(build(a[5][i], n)); }
      return n;
    }
    var root = build(data.root, null);
    var top = root, zoom = root, selName = null, re = null;
    var ROW = 18;
    function hue(name) {
      var h = 0;
      for (var i = 0; i < name.length; i++) { h = (h * 31 + name.charCodeAt(i)) >>> 0; }
      return h;
    }
    function colour(n) {
      if (data.diff) {
        var d = n.v - n.before, m = Math.max(n.v, n.before, 1);
        var t = Math.min(1, Math.abs(d) / m);
        var l = Math.round(92 - 42 * t);
        return d > 0 ? 'hsl(0,85%,' + l + '%)' : d < 0 ? 'hsl(220,85%,' + l + '%)' : 'hsl(0,0%,88%)';
      }
      var h = hue(n.name);
      return 'hsl(' + (h % 50) + ',' + (70 + h % 25) + '%,' + (62 + (h >> 8) % 16) + '%)';
    }
    function pct(v) { return total ? (100 * v / total).toFixed(2) + '%' : ''; }
    function tip(n) {
      var t = n.name + '\n' + fmt(n.v) + ' (' + pct(n.v) + ')' + ', self ' + fmt(n.self);
      if (n.pruned) { t += '\n' + fmt(n.pruned) + ' in callees narrower than 1/2000 of the total'; }
      if (data.diff) { t += '\nbase ' + fmt(n.before) + ', change ' + (n.v - n.before >= 0 ? '+' : '') + fmt(n.v - n.before); }
      return t;
    }
    var frames = [];
    function draw() {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      frames = [];
      var W = box.clientWidth || 1200;
      var chain = [], p = zoom;
      while (p && p !== top) { chain.unshift(p); p = p.parent; }
      if (zoom !== top) { chain.unshift(top); }
      var depth = 0;
      // Ancestors of the zoomed frame, full width.
      for (var i = 0; i < chain.length - 1; i++) { add(chain[i], 0, W, depth++, true); }
      var maxDepth = depth;
      function walk(n, x, w, d) {
        add(n, x, w, d, false);
        if (d > maxDepth) { maxDepth = d; }
        var cx = x;
        for (var k = 0; k < n.kids.length; k++) {
          var c = n.kids[k];
          var cw = n.v > 0 ? w * c.v / n.v : 0;
          if (cw >= 0.5) { walk(c, cx, cw, d + 1); }
          cx += cw;
        }
        if (n.pruned > 0 && n.v > 0) {
          var pw = w * n.pruned / n.v;
          if (pw >= 2) {
            var o = el(cx, pw, d + 1, 'frame other');
            o.title = fmt(n.pruned) + ' in ' + 'callees narrower than 1/2000 of the total';
          }
        }
      }
      walk(zoom, 0, W, depth);
      box.style.height = ((maxDepth + 2) * ROW) + 'px';
      if (info) { info.textContent = 'Frames under ' + fmt(data.threshold) + ' (1/2000 of the total) are aggregated into their caller.'; }
      mark();
    }
    function el(x, w, d, cls) {
      var div = document.createElement('div');
      div.className = cls;
      div.style.left = x + 'px';
      div.style.width = Math.max(w, 1) + 'px';
      div.style.top = (d * ROW) + 'px';
      box.appendChild(div);
      return div;
    }
    function add(n, x, w, d, ancestor) {
      var div = el(x, w, d, 'frame' + (ancestor ? ' ancestor' : ''));
      div.style.background = colour(n);
      if (w > 30) { div.textContent = n.name; }
      div.title = tip(n);
      div.setAttribute('data-name', n.name);
      div.addEventListener('click', function () {
        zoom = n;
        selected = []; selName = n === root ? null : n.name;
        if (selName) { toggle(selName, true); } else { say(''); }
        draw();
      });
      frames.push({ div: div, n: n });
    }
    function mark() {
      var sum = 0;
      frames.forEach(function (f) {
        var m = !!(re && re.test(f.n.name));
        f.div.classList.toggle('match', m);
        f.div.classList.toggle('selected', selName !== null && f.n.name === selName);
      });
      if (re) {
        // Outermost matches in the whole tree, so nested calls count once.
        (function visit(n) {
          if (n !== root && re.test(n.name)) { sum += n.v; return; }
          n.kids.forEach(visit);
        })(top);
        matched.textContent = 'Matched: ' + fmt(sum) + ' (' + pct(sum) + ')';
      } else { matched.textContent = ''; }
    }
    matchers.push(function (r) { re = r; mark(); });
    // Pivot: every path through the selected function, merged from it.
    function pivot(name) {
      var p = { name: name, v: 0, self: 0, pruned: 0, before: 0, kids: [], parent: null };
      function merge(dst, src) {
        dst.v += src.v; dst.self += src.self; dst.pruned += src.pruned; dst.before += src.before;
        src.kids.forEach(function (c) {
          var t = null;
          for (var i = 0; i < dst.kids.length; i++) { if (dst.kids[i].name === c.name) { t = dst.kids[i]; break; } }
          if (!t) { t = { name: c.name, v: 0, self: 0, pruned: 0, before: 0, kids: [], parent: dst }; dst.kids.push(t); }
          merge(t, c);
        });
      }
      (function visit(n) {
        if (n !== root && n.name === name) { merge(p, n); return; }
        n.kids.forEach(visit);
      })(root);
      (function sort(n) { n.kids.sort(function (a, b) { return b.v - a.v; }); n.kids.forEach(sort); })(p);
      var r = { name: 'root', v: p.v, self: 0, pruned: 0, before: p.before, kids: [p], parent: null };
      p.parent = r;
      return r;
    }
    document.getElementById('pivot').addEventListener('click', function () {
      if (!selName) { say('Click a frame to pivot on its function'); return; }
      top = pivot(selName); zoom = top; draw();
    });
    document.getElementById('unzoom').addEventListener('click', function () { top = root; zoom = root; draw(); });
    window.addEventListener('resize', draw);
    draw();
  }
})();
