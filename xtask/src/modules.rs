//! Which module of a crate imports which, read from its `use crate::…`,
//! `super::…` and inline `crate::…` paths, so that a test can insist that
//! modules depend one way: no module imports one that imports it back,
//! directly or around a longer loop.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// A crate's modules by path (`""` is the crate root, `auth::sign_in` a
/// submodule) and, for each, the modules its code names.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    imports: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    /// The graph of the crate whose root file is `root` (`src/lib.rs` or
    /// `src/main.rs`); files are found by Rust's own layout rules.
    pub fn of_crate(root: &Path) -> anyhow::Result<Self> {
        let mut sources = BTreeMap::new();
        collect(root, String::new(), &mut sources)?;
        Ok(Self::from_sources(&sources))
    }

    /// The graph of modules given as (path, source text).
    pub fn from_sources(sources: &BTreeMap<String, String>) -> Self {
        let known: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
        let mut imports = BTreeMap::new();
        for (module, text) in sources {
            let named: BTreeSet<String> = referenced_paths(module, &strip_comments(text))
                .into_iter()
                .filter_map(|path| owning_module(&path, &known))
                .filter(|target| target != module && !module.starts_with(&format!("{target}::")))
                .filter(|target| !target.is_empty())
                .collect();
            imports.insert(module.clone(), named);
        }
        Self { imports }
    }

    /// The same imports between the crate's top-level modules (its rooms):
    /// `auth::sign_in` importing `observe::audit` is `auth` importing
    /// `observe`.
    pub fn rooms(&self) -> Self {
        let room = |module: &str| module.split("::").next().unwrap_or_default().to_owned();
        let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, named) in &self.imports {
            let from = room(module);
            let entry = imports.entry(from.clone()).or_default();
            entry
                .extend(named.iter().map(|target| room(target)).filter(|to| *to != from && !from.is_empty()));
        }
        Self { imports }
    }

    /// Each set of modules that import one another around a loop, named.
    pub fn loops(&self) -> Vec<Vec<String>> {
        strongly_connected(&self.imports).into_iter().filter(|component| component.len() > 1).collect()
    }
}

/// Reads `file` as module `module` and every `mod name;` it declares.
fn collect(file: &Path, module: String, sources: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)?;
    let directory = match file.file_name().and_then(|name| name.to_str()) {
        Some("lib.rs" | "main.rs" | "mod.rs") => file.parent().map(Path::to_path_buf),
        _ => file.parent().map(|parent| parent.join(file.file_stem().unwrap_or_default())),
    }
    .unwrap_or_default();
    for child in declared_modules(&strip_comments(&text)) {
        let path = if module.is_empty() { child.clone() } else { format!("{module}::{child}") };
        let flat = directory.join(format!("{child}.rs"));
        let nested = directory.join(&child).join("mod.rs");
        let child_file = if flat.is_file() { flat } else { nested };
        if child_file.is_file() {
            collect(&child_file, path, sources)?;
        }
    }
    sources.insert(module, text);
    Ok(())
}

/// `mod name;` declarations of files (not inline `mod name { … }` blocks,
/// which are tests or parts of the file's own module).
fn declared_modules(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|line| {
            let line = line.strip_prefix("pub ").or_else(|| line.strip_prefix("pub(crate) ")).unwrap_or(line);
            line.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

fn strip_comments(text: &str) -> String {
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Every module path the text names from the crate root: `use crate::…`
/// and `use super::…` trees expanded, and inline `crate::a::b` paths.
fn referenced_paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        let tree: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
        for path in expand(&tree) {
            if let Some(absolute) = absolute(module, &path) {
                paths.push(absolute);
            }
        }
        rest = &rest[end..];
    }
    for (at, _) in text.match_indices("crate::") {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let path: Vec<String> = text[at..]
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or_default()
            .split("::")
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(absolute) = absolute(module, &path) {
            paths.push(absolute);
        }
    }
    paths
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect()];
    };
    let prefix: Vec<String> = tree[..open].split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let Some(inner) = tree.rfind('}').and_then(|close| tree.get(open + 1..close)) else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .flat_map(expand)
        .map(|tail| prefix.iter().cloned().chain(tail).collect())
        .collect()
}

/// The path from the crate root, for paths that start at `crate`, `self`
/// or `super`; `None` for another crate's.
fn absolute(module: &str, path: &[String]) -> Option<Vec<String>> {
    let mut here: Vec<String> =
        module.split("::").filter(|segment| !segment.is_empty()).map(str::to_owned).collect();
    let mut segments = path.iter();
    match segments.next()?.as_str() {
        "crate" => here.clear(),
        "self" => {}
        "super" => {
            here.pop();
        }
        _ => return None,
    }
    for segment in segments {
        match segment.as_str() {
            "super" => {
                here.pop();
            }
            "self" => {}
            other => here.push(other.to_owned()),
        }
    }
    Some(here)
}

/// The module that owns `path`: its longest prefix that is a module.
fn owning_module(path: &[String], known: &BTreeSet<&str>) -> Option<String> {
    (0..=path.len())
        .rev()
        .map(|length| path[..length].join("::"))
        .find(|prefix| known.contains(prefix.as_str()))
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Search<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                component.sort();
                self.components.push(component);
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in edges.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(sources: &[(&str, &str)]) -> ModuleGraph {
        ModuleGraph::from_sources(
            &sources.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())).collect(),
        )
    }

    #[test]
    fn a_loop_through_grouped_and_inline_paths_is_found_and_one_way_imports_are_not() {
        let looped = graph(&[
            ("", "mod a; mod b; mod c;"),
            ("a", "use crate::{b::{Thing, other}, std_like};"),
            ("b", "fn f() { crate::c::go(); }"),
            ("c", "use super::a::Item as Renamed;"),
        ]);
        assert_eq!(looped.loops(), [vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
        let one_way = graph(&[
            ("", "mod a; mod b;"),
            ("a", "use crate::b::Thing; // use crate::a::Nothing;"),
            ("b", "use std::fmt; mod inner { use super::*; }"),
            ("a::child", "use super::Parent; use crate::a::Other;"),
        ]);
        assert!(one_way.loops().is_empty(), "{:?}", one_way.loops());
        let rooms = graph(&[
            ("", "mod a; mod b;"),
            ("a", "pub mod x;"),
            ("a::x", "use crate::b::y::Thing;"),
            ("b", "pub mod y; pub mod z;"),
            ("b::y", ""),
            ("b::z", "use crate::a::Shared;"),
        ]);
        assert!(rooms.loops().is_empty(), "no module loop: {:?}", rooms.loops());
        assert_eq!(rooms.rooms().loops(), [vec!["a".to_owned(), "b".to_owned()]], "but the rooms loop");
    }

    /// The workspace's crates, each checked as the issue asks: say how.
    #[test]
    fn no_module_of_any_crate_imports_one_that_imports_it_back() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
        let crates = [
            "src/lib.rs",
            "crates/billing/src/lib.rs",
            "crates/analysis/src/lib.rs",
            "crates/worker/src/main.rs",
            "crates/worker-protocol/src/lib.rs",
            "crates/relay/src/lib.rs",
            "crates/vendor-sim/src/lib.rs",
            "xtask/src/main.rs",
        ];
        let mut found = Vec::new();
        for root_file in crates {
            let graph = ModuleGraph::of_crate(&root.join(root_file)).unwrap();
            for members in graph.loops().into_iter().chain(graph.rooms().loops()) {
                found.push(format!("{root_file}: {}", members.join(" ⇄ ")));
            }
        }
        assert!(found.is_empty(), "modules that import each other:\n{}", found.join("\n"));
    }
}
