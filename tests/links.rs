//! Every relative link of README.md and of the Markdown files under docs/
//! resolves inside the repository, as a fresh clone has it: the target
//! file or folder exists and, for a `#fragment` into a Markdown file, the
//! heading exists (GitHub's anchors). Links inside code are not links.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `.md` under docs/.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut out);
    out.sort();
    out
}

/// The text outside fenced code blocks and inline code spans.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// The targets of `[text](target)` and of `[label]: target` definitions.
fn links(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let inner = &rest[..end];
        // `[text](<target with spaces>)`, or `[text](target "title")`
        // whose target is the first word.
        let target = match inner.strip_prefix('<') {
            Some(r) => r.split('>').next().unwrap_or_default(),
            None => inner.split_whitespace().next().unwrap_or_default(),
        };
        out.push(target.to_owned());
    }
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(close) = line.strip_prefix('[').and_then(|l| l.find("]:")) {
            let target = line[close + 3..]
                .split_whitespace()
                .next()
                .unwrap_or_default();
            out.push(target.to_owned());
        }
    }
    out
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped; a repeated anchor gets `-1`, `-2`…
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        if fenced {
            continue;
        }
        let title = title.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while !out.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_readme_and_docs_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let here = doc.parent().unwrap();
        let name = doc.strip_prefix(repo()).unwrap().display().to_string();
        for target in links(&text) {
            if target.is_empty() || is_external(&target) {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.clone()
            } else {
                here.join(path)
            };
            checked += 1;
            // Inside the repository: no link may climb out of it.
            let inside = file
                .canonicalize()
                .is_ok_and(|f| f.starts_with(repo().canonicalize().unwrap()));
            if !file.exists() || !inside {
                broken.push(format!("{name}: {target} (no such file in the repository)"));
                continue;
            }
            if let Some(fragment) = fragment
                && file.extension().is_some_and(|e| e == "md")
            {
                let headings = anchors(&std::fs::read_to_string(&file).unwrap());
                if !headings.contains(fragment) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked >= 10,
        "only {checked} relative links found: is the parser still reading them?"
    );
}

#[test]
fn the_link_reader_reads_the_forms_it_meets() {
    let text = "See [a](docs/a.md) and [b](<docs/b c.md> \"t\"), not `[c](x.md)`.\n\
                ```\n[d](y.md)\n```\n[e]: docs/e.md\n";
    assert_eq!(links(text), ["docs/a.md", "docs/b c.md", "docs/e.md"]);
    let a =
        anchors("# Exchange convention\n## Errors (shape)\n## Errors (shape)\n```\n# no\n```\n");
    assert_eq!(
        a,
        BTreeSet::from(["exchange-convention", "errors-shape", "errors-shape-1"].map(String::from))
    );
}
