//! No import cycle between the library's modules (issue "House in order").
//!
//! Reads `src/` as text: every `crate::…` and `super::…` path (in `use`
//! trees, grouped or not, and in expressions) of a module's non-test code is
//! an edge from that module to the module it names. An edge is kept between
//! the two siblings under their closest common ancestor (`store::lists →
//! audit::log` is `store → audit`; `ingest::table → ingest::xlsx` stays
//! inside `ingest`); a path into an ancestor or a descendant is not an edge.
//! The graph must have no cycle: the test names the first one it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module file of the library: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`.
fn module_files(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                let mut m = prefix.clone();
                m.push(name);
                walk(&p, &m, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let mut m = prefix.clone();
                if name != "mod" && name != "lib" {
                    m.push(name);
                }
                out.insert(m, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &Vec::new(), &mut out);
    // The binary (src/main.rs, src/cli/) is not part of the library.
    out.retain(|m, p| {
        !(p.ends_with("src/main.rs") || m.first().is_some_and(|f| f == "cli" || f == "main"))
    });
    out
}

/// The code before the first `#[cfg(test)]`: test modules may reach anywhere.
fn non_test(text: &str) -> String {
    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths a `use` tree or an expression starting at `s` names, each as
/// its segments (`{a::b, c}` gives `[a, b]` and `[c]`).
fn paths_at(s: &[char], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    loop {
        while i < s.len() && s[i].is_whitespace() {
            i += 1;
        }
        if i < s.len() && s[i] == '{' {
            i += 1;
            loop {
                i = paths_at(s, i, path.clone(), out);
                while i < s.len() && s[i].is_whitespace() {
                    i += 1;
                }
                if i < s.len() && s[i] == ',' {
                    i += 1;
                    continue;
                }
                if i < s.len() && s[i] == '}' {
                    i += 1;
                }
                return i;
            }
        }
        let start = i;
        while i < s.len() && is_ident(s[i]) {
            i += 1;
        }
        if i == start {
            out.push(path);
            return i;
        }
        path.push(s[start..i].iter().collect());
        if i + 1 < s.len() && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// The modules `code`, the text of module `me`, refers to.
fn references(code: &str, me: &Module) -> Vec<Module> {
    let s: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let boundary = i == 0 || !is_ident(s[i - 1]) && s[i - 1] != ':';
        let rest: String = s[i..(i + 7).min(s.len())].iter().collect();
        if boundary && rest.starts_with("crate::") {
            let mut paths = Vec::new();
            i = paths_at(&s, i + 7, Vec::new(), &mut paths);
            out.extend(paths);
            continue;
        }
        if boundary && rest.starts_with("super::") {
            // `super` of `a/b.rs` (module `a::b`) and of `a/b/mod.rs` alike is `a`.
            let mut base = me.clone();
            base.pop();
            let mut j = i + 7;
            loop {
                let more: String = s[j..(j + 7).min(s.len())].iter().collect();
                if more == "super::" {
                    base.pop();
                    j += 7;
                } else {
                    break;
                }
            }
            let mut paths = Vec::new();
            i = paths_at(&s, j, base, &mut paths);
            out.extend(paths);
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn the_library_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src);
    let modules: BTreeSet<Module> = files.keys().cloned().collect();
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for (me, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for target in references(&non_test(&text), me) {
            // The longest prefix of the path that is a module.
            let mut t = target.clone();
            while !t.is_empty() && !modules.contains(&t) {
                t.pop();
            }
            let common = me.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common >= me.len() || common >= t.len() {
                continue; // into an ancestor or a descendant
            }
            let from = me[..=common].to_vec();
            let to = t[..=common].to_vec();
            edges
                .entry(from)
                .or_default()
                .entry(to)
                .or_insert_with(|| format!("{} names {}", path.display(), target.join("::")));
        }
    }
    // Strongly connected components: modules that reach each other.
    let reach = |from: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for m in edges.get(&n).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<Module, BTreeSet<Module>> =
        edges.keys().map(|n| (n.clone(), reach(n))).collect();
    let mut cycles = Vec::new();
    let mut reported = BTreeSet::new();
    for (n, r) in &reaches {
        if !r.contains(n) || reported.contains(n) {
            continue;
        }
        let scc: BTreeSet<Module> = r
            .iter()
            .filter(|m| reaches.get(*m).is_some_and(|rm| rm.contains(n)))
            .cloned()
            .collect();
        let mut why = Vec::new();
        for a in &scc {
            for (b, how) in edges.get(a).into_iter().flatten() {
                if scc.contains(b) {
                    why.push(format!("  {} → {}: {how}", a.join("::"), b.join("::")));
                }
            }
        }
        cycles.push(why.join("\n"));
        reported.extend(scc);
    }
    assert!(
        cycles.is_empty(),
        "import cycles between modules:\n{}",
        cycles.join("\n\n")
    );
    // The walk saw the modules it should: a guard against a test that reads nothing.
    assert!(
        modules.contains(&vec!["store".to_owned()]) && modules.len() > 40,
        "{modules:?}"
    );
}
