//! Byte offsets → 1-based line:column, in one forward pass for any number of ascending offsets.
//!
//! Line breaks are `\n`, `\r\n` and a lone `\r`; columns count characters.

use super::Position;

/// A forward-only cursor that converts ascending byte offsets to positions.
pub(crate) struct Positions<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u32,
    column: u32,
}

impl<'a> Positions<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Self { bytes: text.as_bytes(), offset: 0, line: 1, column: 1 }
    }

    /// The position of byte `target` (clamped to the end); cheap when targets ascend.
    pub fn at(&mut self, target: usize) -> Position {
        let target = target.min(self.bytes.len());
        if target < self.offset {
            *self = Self { bytes: self.bytes, offset: 0, line: 1, column: 1 };
        }
        for i in self.offset..target {
            match self.bytes[i] {
                b'\n' => self.newline(),
                b'\r' if self.bytes.get(i + 1) != Some(&b'\n') => self.newline(),
                b if b & 0xC0 != 0x80 => self.column = self.column.saturating_add(1),
                _ => {}
            }
        }
        self.offset = target;
        Position { line: self.line, column: self.column }
    }

    /// Moves to the start of the next line.
    fn newline(&mut self) {
        self.line = self.line.saturating_add(1);
        self.column = 1;
    }
}
