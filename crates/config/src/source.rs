//! Where a piece of configuration text came from: the files read and positions in them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId(pub u32);

/// A position in a configuration file: 1-based line and column (column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column (in characters) of the start of the item.
    pub col: u32,
}

impl Loc {
    /// A location in `file` at `line`:`col`.
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Self { file, line, col }
    }
}

/// One file that was read, kept so diagnostics can quote the offending line.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it should be shown to the operator.
    pub path: PathBuf,
    /// The file's text (lossily decoded as UTF-8).
    pub text: String,
    /// Byte offset of the start of each line, built when a line is first asked for: rendering
    /// many diagnostics must not rescan the file for each one.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// Line `line` (1-based), without its line ending.
    pub fn line(&self, line: u32) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|(_, b)| *b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        });
        let index = (line as usize).checked_sub(1)?;
        let start = *starts.get(index)?;
        let end = starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let text = self.text.get(start..end)?;
        Some(text.strip_suffix('\r').unwrap_or(text))
    }
}

/// Every file read while loading one configuration.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            path: path.into(),
            text,
            line_starts: OnceLock::new(),
        });
        id
    }

    /// The file behind `id`, if it exists.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The path of `id` (empty when unknown).
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map(|f| f.path.as_path())
            .unwrap_or(Path::new(""))
    }

    /// Line `line` (1-based) of file `id`, without its line ending.
    pub fn line_text(&self, id: FileId, line: u32) -> Option<&str> {
        self.get(id)?.line(line)
    }

    /// All files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_by_number() {
        let mut sm = SourceMap::new();
        let id = sm.add("k.conf", "a\r\n\nthird\nlast".to_string());
        let lines: Vec<_> = (0..=5).map(|n| sm.line_text(id, n)).collect();
        assert_eq!(
            lines,
            [None, Some("a"), Some(""), Some("third"), Some("last"), None]
        );
        let id = sm.add("e.conf", String::new());
        assert_eq!(sm.line_text(id, 1), Some(""));
        let id = sm.add("n.conf", "x\n".to_string());
        assert_eq!(sm.line_text(id, 2), Some(""));
        assert_eq!(sm.line_text(id, 3), None);
    }
}
