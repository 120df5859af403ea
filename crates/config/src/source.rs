//! Where a piece of configuration text came from: the files read and positions in them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
        let file = self.get(id)?;
        file.text
            .split('\n')
            .nth((line as usize).checked_sub(1)?)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// All files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}
