//! A line being preprocessed: its bytes, and for every byte the place it came from.
//!
//! keepalived edits each line in place (strips blanks, removes `\#` escapes, splices in
//! definitions). Keeping one [`Loc`] per byte through those edits is what lets every token
//! point back at the original text, or at the `$NAME` use its text was substituted for.

use crate::source::{FileId, Loc};
use std::rc::Rc;

/// The multi-line definitions a line was produced by, innermost first: each entry is the
/// value of one definition (compared by identity, so a definition redefined meanwhile is a
/// different one).
#[derive(Debug)]
pub(crate) struct Within {
    /// The definition's value, as stored in the definitions.
    pub value: Rc<[u8]>,
    /// The expansion this one happened in.
    pub outer: Option<Rc<Within>>,
}

impl Within {
    /// Whether the expansion of `value` is this one or one it happened in.
    pub fn contains(this: &Option<Rc<Within>>, value: &Rc<[u8]>) -> bool {
        let mut cur = this.as_deref();
        while let Some(w) = cur {
            if Rc::ptr_eq(&w.value, value) {
                return true;
            }
            cur = w.outer.as_deref();
        }
        false
    }
}

/// The bytes of one line and, for each byte, where it came from.
///
/// All the text of one logical line comes from one file line (substitutions are located at
/// their `$` use, which is on that line), so only the column is stored per byte.
#[derive(Debug, Clone)]
pub(crate) struct LineBuf {
    /// The text (usually UTF-8; edits only ever happen at ASCII bytes).
    pub text: Vec<u8>,
    /// The column each byte of `text` came from.
    cols: Cols,
    file: FileId,
    line: u32,
    /// Column of the line as a whole (used when it is empty).
    origin_col: u32,
    /// The multi-line definitions whose expansion produced this line (lines cut from it, and
    /// lines a generator repeats from it, inherit this): re-entering one of them would never end.
    pub within: Option<Rc<Within>>,
}

/// Columns of a line's bytes. Nearly every line is ASCII text read straight from a file,
/// whose columns just count up: those need no per-byte vector (one allocation and one pass
/// less per line, which is most of the cost of reading a large config).
#[derive(Debug, Clone)]
enum Cols {
    /// Byte `i` came from column `base + i`.
    Counting(u32),
    /// `cols[i]` is the column `text[i]` came from; always as long as `text`.
    Each(Vec<u32>),
}

impl PartialEq for LineBuf {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
            && self.file == other.file
            && self.line == other.line
            && self.origin_col == other.origin_col
            && (0..self.text.len()).all(|i| self.col_at(i) == other.col_at(i))
    }
}

impl Eq for LineBuf {}

/// keepalived's `isblank()`: the blanks it trims and skips between words of directives.
pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// keepalived's token separators (`" \t\f\n\r\v"`).
pub(crate) fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' | b'\x0b')
}

impl Default for LineBuf {
    fn default() -> Self {
        Self {
            text: Vec::new(),
            cols: Cols::Counting(1),
            file: FileId(0),
            line: 0,
            origin_col: 0,
            within: None,
        }
    }
}

impl LineBuf {
    /// A physical line of `file`: columns count characters, starting at 1.
    #[cfg(test)]
    pub fn physical(file: FileId, line: u32, text: &[u8]) -> Self {
        Self::physical_in(Vec::new(), file, line, text)
    }

    /// [`LineBuf::physical`], reusing `buf` (the text of a line done with) for the bytes:
    /// reading a file then allocates nothing per line.
    #[cfg(test)]
    pub fn physical_in(buf: Vec<u8>, file: FileId, line: u32, text: &[u8]) -> Self {
        Self::physical_from(buf, file, line, text, 0)
    }

    /// [`LineBuf::physical_in`] followed by [`LineBuf::drain_front`]`(skip)`, without copying
    /// the first `skip` bytes only to move the rest over them (`skip` < `text.len()`; what
    /// is skipped must not be a UTF-8 continuation byte).
    pub fn physical_from(
        mut buf: Vec<u8>,
        file: FileId,
        line: u32,
        text: &[u8],
        skip: usize,
    ) -> Self {
        let skip = if skip < text.len() { skip } else { 0 };
        // A UTF-8 continuation byte belongs to the character before it.
        let continuation = |b: &u8| b & 0xC0 == 0x80;
        let (cols, origin_col) = if text.iter().fold(false, |seen, b| seen | continuation(b)) {
            let mut cols = Vec::with_capacity(text.len());
            let mut col = 0u32;
            for b in text {
                if !continuation(b) || col == 0 {
                    col = col.saturating_add(1);
                }
                cols.push(col);
            }
            let origin_col = if skip > 0 {
                cols.get(skip).copied().unwrap_or(1)
            } else {
                1
            };
            cols.drain(..skip);
            (Cols::Each(cols), origin_col)
        } else {
            let base = u32::try_from(skip).map_or(u32::MAX, |s| s.saturating_add(1));
            (Cols::Counting(base), base)
        };
        buf.clear();
        buf.extend_from_slice(text.get(skip..).unwrap_or(&[]));
        Self {
            text: buf,
            cols,
            file,
            line,
            origin_col,
            within: None,
        }
    }

    /// Text that all comes from one place (a line of a multi-line definition, produced
    /// within the expansions `within`).
    pub fn uniform(text: &[u8], loc: Loc, within: Option<Rc<Within>>) -> Self {
        Self {
            text: text.to_vec(),
            cols: Cols::Each(vec![loc.col; text.len()]),
            file: loc.file,
            line: loc.line,
            origin_col: loc.col,
            within,
        }
    }

    /// Edits the per-byte columns (made explicit first: the edit breaks the counting).
    fn edit_cols(&mut self, edit: impl FnOnce(&mut Vec<u32>)) {
        let mut cols = match std::mem::replace(&mut self.cols, Cols::Counting(1)) {
            Cols::Each(cols) => cols,
            Cols::Counting(base) => {
                let len = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
                (0..len).map(|i| base.saturating_add(i)).collect()
            }
        };
        edit(&mut cols);
        self.cols = Cols::Each(cols);
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        if let Cols::Each(cols) = &mut self.cols {
            cols.clear();
        }
    }

    /// The first byte, if any.
    pub fn first(&self) -> Option<u8> {
        self.text.first().copied()
    }

    fn col_at(&self, i: usize) -> u32 {
        match &self.cols {
            Cols::Each(cols) => cols
                .get(i)
                .or_else(|| cols.last())
                .copied()
                .unwrap_or(self.origin_col),
            Cols::Counting(base) => match self.text.len() {
                0 => self.origin_col,
                len => {
                    let i = u32::try_from(i.min(len - 1)).unwrap_or(u32::MAX);
                    base.saturating_add(i)
                }
            },
        }
    }

    /// Where byte `i` came from (the end of the line past the end).
    pub fn loc_at(&self, i: usize) -> Loc {
        Loc::new(self.file, self.line, self.col_at(i))
    }

    /// Where the line as a whole comes from.
    #[cfg(test)]
    pub fn origin(&self) -> Loc {
        Loc::new(self.file, self.line, self.origin_col)
    }

    pub fn remove(&mut self, i: usize) {
        if i < self.text.len() {
            self.edit_cols(|cols| {
                cols.remove(i);
            });
            self.text.remove(i);
        }
    }

    pub fn truncate(&mut self, n: usize) {
        self.text.truncate(n);
        if let Cols::Each(cols) = &mut self.cols {
            cols.truncate(n);
        }
    }

    /// Drops the first `n` bytes.
    pub fn drain_front(&mut self, n: usize) {
        let n = n.min(self.text.len());
        if n > 0 {
            self.origin_col = self.col_at(n.min(self.text.len().saturating_sub(1)));
            self.text.drain(..n);
            match &mut self.cols {
                Cols::Each(cols) => {
                    cols.drain(..n);
                }
                Cols::Counting(base) => {
                    *base = base.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                }
            }
        }
    }

    /// Appends a byte; `loc` must be on this line (only its column is kept).
    pub fn push(&mut self, b: u8, loc: Loc) {
        self.edit_cols(|cols| cols.push(loc.col));
        self.text.push(b);
    }

    /// Replaces `start..end` with `with`, all located at `loc` (a place on this line).
    pub fn splice(&mut self, start: usize, end: usize, with: &[u8], loc: Loc) {
        let end = end.min(self.text.len());
        let start = start.min(end);
        self.edit_cols(|cols| {
            cols.splice(start..end, std::iter::repeat_n(loc.col, with.len()));
        });
        self.text.splice(start..end, with.iter().copied());
    }

    /// The bytes from `at` on, as a new line (this one keeps `..at`).
    pub fn split_off(&mut self, at: usize) -> LineBuf {
        let at = at.min(self.text.len());
        let origin_col = self.col_at(at);
        let cols = match &mut self.cols {
            Cols::Each(cols) => Cols::Each(cols.split_off(at)),
            Cols::Counting(base) => {
                Cols::Counting(base.saturating_add(u32::try_from(at).unwrap_or(u32::MAX)))
            }
        };
        LineBuf {
            text: self.text.split_off(at),
            cols,
            file: self.file,
            line: self.line,
            origin_col,
            within: self.within.clone(),
        }
    }

    /// Removes leading blanks (space, tab).
    pub fn trim_start_blanks(&mut self) {
        let n = self.text.iter().take_while(|b| is_blank(**b)).count();
        self.drain_front(n);
    }

    /// Removes trailing blanks (space, tab).
    pub fn trim_end_blanks(&mut self) {
        let n = self.text.iter().rev().take_while(|b| is_blank(**b)).count();
        self.truncate(self.text.len() - n);
    }

    /// The text's buffer, for reuse by [`LineBuf::physical_in`].
    pub fn into_text(self) -> Vec<u8> {
        self.text
    }

    /// The text, lossily decoded (for messages).
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }

    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        self.text.starts_with(prefix)
    }

    pub fn contains(&self, b: u8) -> bool {
        // Lines are short: a plain loop beats `memchr`'s set-up.
        self.text.iter().fold(false, |seen, c| seen | (*c == b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let l = LineBuf::physical(FileId(0), 3, "aé b".as_bytes());
        let cols: Vec<u32> = (0..l.len()).map(|i| l.loc_at(i).col).collect();
        assert_eq!(cols, vec![1, 2, 2, 3, 4]);
        assert!((0..l.len()).all(|i| l.loc_at(i).line == 3));
    }

    #[test]
    fn splice_keeps_locations_aligned() {
        let mut l = LineBuf::physical(FileId(0), 1, b"x $A y");
        let at = Loc::new(FileId(0), 1, 3);
        l.splice(2, 4, b"long", at);
        assert_eq!(l.text, b"x long y");
        assert!(matches!(&l.cols, Cols::Each(c) if c.len() == l.text.len()));
        assert_eq!(l.loc_at(5).col, 3);
        assert_eq!(l.loc_at(7).col, 6);
        let tail = l.split_off(7);
        assert_eq!(tail.text, b"y");
        assert_eq!(tail.origin().col, 6);
    }
}
