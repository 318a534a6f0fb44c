//! Splitting the OVSDB byte stream into JSON messages.
//!
//! ovsdb-server writes JSON-RPC messages back to back with no length prefix or delimiter, and
//! a read may end anywhere — inside a string, between two messages, or in the middle of a
//! multi-byte UTF-8 character. [`Framer`] scans incoming bytes once, remembering where it
//! stopped (nesting depth, inside-string, escape), so a message of any size is scanned in
//! linear time however it is split, and yields each complete top-level value as a byte slice
//! for `serde_json` to parse.

/// Incremental splitter of concatenated JSON objects/arrays.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Offset up to which `buf` has been scanned.
    scanned: usize,
    /// Offset of the start of the current message in `buf`.
    start: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Upper bound on one message; protects against a peer that never closes a value.
    max_message: usize,
}

/// The peer sent something that is not a sequence of JSON objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("unexpected byte {0:#04x} between JSON-RPC messages")]
    Garbage(u8),
    #[error("unbalanced `{0}` in JSON-RPC stream")]
    Unbalanced(char),
    #[error("JSON-RPC message larger than {0} bytes")]
    TooLarge(usize),
}

impl Framer {
    /// A framer refusing messages larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Framer {
        Framer {
            max_message,
            ..Framer::default()
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[cfg(test)]
    /// Bytes buffered but not yet returned as a message (whitespace included).
    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete message, if one is buffered. Call repeatedly until `Ok(None)`.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        let mut i = self.scanned;
        while i < self.buf.len() {
            let b = self.buf[i];
            i += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' if self.depth > 0 => self.in_string = true,
                b'{' | b'[' => {
                    if self.depth == 0 {
                        self.start = i - 1;
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err(FramingError::Unbalanced(b as char));
                    }
                    self.depth -= 1;
                    if self.depth == 0 {
                        // The message keeps the buffer (a large one is not copied); what
                        // follows it moves to a new one.
                        let rest = self.buf.split_off(i);
                        let mut message = std::mem::replace(&mut self.buf, rest);
                        message.drain(..self.start);
                        self.start = 0;
                        self.scanned = 0;
                        return Ok(Some(message));
                    }
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if self.depth == 0 => return Err(FramingError::Garbage(b)),
                _ => {}
            }
        }
        self.scanned = i;
        if self.depth == 0 {
            // Only whitespace since the last message: nothing to keep.
            self.buf.clear();
            self.scanned = 0;
            self.start = 0;
        } else if self.max_message > 0 && self.buf.len() - self.start > self.max_message {
            return Err(FramingError::TooLarge(self.max_message));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_messages(framer: &mut Framer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(m) = framer.next_message().unwrap() {
            out.push(String::from_utf8(m).unwrap());
        }
        out
    }

    const STREAM: &str = concat!(
        r#"{"id":1,"result":["OVN_Northbound","_Server"],"error":null}"#,
        "\n",
        r#"{"id":null,"method":"update2","params":["m",{"T":{"u":{"insert":{"s":"a \"}\" { [ \\"}}}}]}"#,
        r#"  {"id":"echo","method":"echo","params":["héllo ☃ 🦀"]}"#,
        r#"{"x":[[],[{}],"]"]}"#
    );

    #[test]
    fn split_at_every_byte_position() {
        let bytes = STREAM.as_bytes();
        let expected = all_messages(&mut {
            let mut f = Framer::new(0);
            f.push(bytes);
            f
        });
        assert_eq!(expected.len(), 4);
        for m in &expected {
            serde_json::from_str::<serde_json::Value>(m).unwrap();
        }
        for cut in 0..=bytes.len() {
            let mut f = Framer::new(0);
            f.push(&bytes[..cut]);
            let mut got = all_messages(&mut f);
            f.push(&bytes[cut..]);
            got.extend(all_messages(&mut f));
            assert_eq!(got, expected, "split at byte {cut}");
            assert_eq!(f.pending(), 0);
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut f = Framer::new(0);
        let mut got = Vec::new();
        for b in STREAM.as_bytes() {
            f.push(&[*b]);
            got.extend(all_messages(&mut f));
        }
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn garbage_and_oversize_are_errors() {
        let mut f = Framer::new(0);
        f.push(b"{} x");
        assert!(f.next_message().unwrap().is_some());
        assert_eq!(f.next_message(), Err(FramingError::Garbage(b'x')));

        let mut f = Framer::new(0);
        f.push(b"}");
        assert_eq!(f.next_message(), Err(FramingError::Unbalanced('}')));

        let mut f = Framer::new(8);
        f.push(b"{\"aaaaaaaaaaaa");
        assert_eq!(f.next_message(), Err(FramingError::TooLarge(8)));
    }
}
