//! A small element tree of a CDA header for the rules to query, each element with its line so a
//! finding can say where (an XPath with its line). Only elements of the HL7 v3 namespace are
//! kept; the structured body is skipped (header rules never read it) and a nonXMLBody's text
//! keeps its attributes but not its base64, so a 40 MB PDF document costs no copy. The input has
//! already passed the CDA reader's safety checks (no DOCTYPE, bounded depth, UTF-8).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

const NS_V3: &str = "urn:hl7-org:v3";

#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<usize>,
    pub parent: Option<usize>,
    /// The element's own text (trimmed), when it is a leaf the header keeps.
    pub text: String,
    pub line: usize,
}

/// The element tree; node 0 is the root element.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Element>,
}

/// 1-based line of the byte at `offset`.
fn line_of(line_starts: &[usize], offset: usize) -> usize {
    line_starts.partition_point(|start| *start <= offset)
}

fn attributes(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .filter_map(|a| {
            let key = a.key.local_name().as_ref().to_owned();
            let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()?.into_owned();
            Some((key, value))
        })
        .collect()
}

impl Tree {
    /// Builds the tree of `text`, or says why it is not XML.
    pub fn parse(text: &str) -> Result<Self, String> {
        let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut reader = NsReader::from_str(text);
        let mut tree = Tree::default();
        let mut open: Vec<Option<usize>> = Vec::new();
        // Depth at which skipping started (the structured body, or a non-v3 element).
        let mut skip_from: Option<usize> = None;
        loop {
            let offset = reader.buffer_position() as usize;
            let (ns, event) = reader.read_resolved_event().map_err(|e| format!("not well-formed xml near byte {offset}: {e}"))?;
            let in_v3 = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS_V3);
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let name = e.local_name().as_ref().to_owned();
                    let parent = open.last().copied().flatten();
                    let skipped = skip_from.is_some() || !in_v3 || (open.is_empty() && name != "ClinicalDocument");
                    let id = if skipped {
                        None
                    } else {
                        let id = tree.nodes.len();
                        let at = text[offset..].find('<').map_or(offset, |i| offset + i);
                        tree.nodes.push(Element {
                            name: name.clone(),
                            attrs: attributes(e),
                            children: Vec::new(),
                            parent,
                            text: String::new(),
                            line: line_of(&line_starts, at),
                        });
                        if let Some(p) = parent {
                            tree.nodes[p].children.push(id);
                        }
                        Some(id)
                    };
                    if !empty {
                        if skip_from.is_none() && (id.is_none() || name == "structuredBody") {
                            skip_from = Some(open.len());
                        }
                        open.push(id);
                    }
                }
                Event::End(_) => {
                    open.pop();
                    if skip_from == Some(open.len()) {
                        skip_from = None;
                    }
                }
                Event::Text(ref t) if skip_from.is_none() => {
                    if let Some(Some(id)) = open.last()
                        && tree.nodes[*id].name != "text"
                    {
                        let piece = t.xml10_content();
                        tree.nodes[*id].text.push_str(piece.trim());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if tree.nodes.is_empty() {
            return Err("no ClinicalDocument element in the urn:hl7-org:v3 namespace".into());
        }
        Ok(tree)
    }

    pub fn get(&self, id: usize) -> &Element {
        &self.nodes[id]
    }

    /// The children of `id` named `name`.
    pub fn children<'t>(&'t self, id: usize, name: &'t str) -> impl Iterator<Item = usize> + 't {
        self.nodes[id].children.iter().copied().filter(move |c| self.nodes[*c].name == name)
    }

    pub fn child(&self, id: usize, name: &str) -> Option<usize> {
        self.children(id, name).next()
    }

    /// The element reached from `id` by a `/`-separated path of child names (first match each step).
    pub fn find(&self, id: usize, path: &str) -> Option<usize> {
        path.split('/').try_fold(id, |at, name| self.child(at, name))
    }

    /// Every element reached from `id` by the path (all matches at each step).
    pub fn find_all(&self, id: usize, path: &str) -> Vec<usize> {
        path.split('/').fold(vec![id], |at, name| at.into_iter().flat_map(|a| self.children(a, name).collect::<Vec<_>>()).collect())
    }

    pub fn attr(&self, id: usize, name: &str) -> Option<&str> {
        self.nodes[id].attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every element of the subtree of `id`, `id` first.
    pub fn descendants(&self, id: usize) -> Vec<usize> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            out.extend(self.nodes[out[i]].children.iter().copied());
            i += 1;
        }
        out
    }

    /// The element's XPath with positions where a name repeats: `/ClinicalDocument/author[2]/time`.
    pub fn xpath(&self, id: usize) -> String {
        let mut steps = Vec::new();
        let mut at = Some(id);
        while let Some(node) = at {
            let e = &self.nodes[node];
            let step = match e.parent {
                Some(p) if self.children(p, &e.name).count() > 1 => {
                    let position = self.children(p, &e.name).position(|c| c == node).map_or(1, |i| i + 1);
                    format!("{}[{position}]", e.name)
                }
                _ => e.name.clone(),
            };
            steps.push(step);
            at = e.parent;
        }
        steps.reverse();
        format!("/{}", steps.join("/"))
    }
}
