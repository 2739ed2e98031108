//! Splits RFC 1035 master-file text (section 5.1) into entries of tokens.
//!
//! An entry is one logical line: parentheses let it run over several physical lines,
//! `;` starts a comment, `"..."` is one token with spaces inside, and a backslash
//! escapes the next character (the escape itself is decoded later, by whoever knows
//! whether the token is a name or a string). Tokens borrow the source text.

use super::error::SyntaxErrorKind;

/// One token of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'a> {
    /// The token's text, escapes still encoded, without the quotes of a quoted string.
    pub text: &'a [u8],
    /// Whether it was a quoted string.
    pub quoted: bool,
    /// Whether it starts right where the previous token ended, with no blank between:
    /// the `"h2"` of `alpn="h2"` (RFC 9460 appendix A), which belongs to `alpn=`.
    pub glued: bool,
    /// The physical line it is on (1-based).
    pub line: u32,
}

/// The start of an entry handed out by [`Lexer::next_entry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EntryStart {
    /// Line of the entry's first token.
    pub line: u32,
    /// Whether the entry's line began with white space (the owner is inherited).
    pub blank_owner: bool,
}

/// The lexer over one file's (or one generated line's) text.
pub(super) struct Lexer<'a> {
    /// The text.
    src: &'a [u8],
    /// Next byte to read.
    pos: usize,
    /// Current physical line, 1-based.
    line: u32,
}

impl<'a> Lexer<'a> {
    /// Starts lexing `src`, numbering lines from `first_line`.
    pub(super) fn new(src: &'a [u8], first_line: u32) -> Self {
        Lexer {
            src,
            pos: 0,
            line: first_line,
        }
    }

    /// Reads the next entry's tokens into `tokens` (cleared first). `Ok(None)` at end.
    /// An error carries the line it was found on.
    pub(super) fn next_entry(
        &mut self,
        tokens: &mut Vec<Token<'a>>,
    ) -> Result<Option<EntryStart>, (u32, SyntaxErrorKind)> {
        tokens.clear();
        let mut depth = 0u32;
        let mut paren_line = 0u32;
        let mut blank_owner = false;
        // Where the last token of this entry ended, to tell glued tokens apart.
        let mut last_end = usize::MAX;
        loop {
            let at_line_start = self.pos == 0 || self.src.get(self.pos - 1) == Some(&b'\n');
            let Some(&c) = self.src.get(self.pos) else {
                if depth > 0 {
                    return Err((paren_line, SyntaxErrorKind::UnclosedParenthesis));
                }
                return Ok(self.finish(tokens, blank_owner));
            };
            if at_line_start && depth == 0 && tokens.is_empty() {
                blank_owner = c == b' ' || c == b'\t';
            }
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                    if depth == 0 && !tokens.is_empty() {
                        return Ok(self.finish(tokens, blank_owner));
                    }
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b';' => {
                    while self.src.get(self.pos).is_some_and(|&b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                b'(' => {
                    if depth == 0 {
                        paren_line = self.line;
                    }
                    depth += 1;
                    self.pos += 1;
                }
                b')' => {
                    if depth == 0 {
                        return Err((self.line, SyntaxErrorKind::UnbalancedParenthesis));
                    }
                    depth -= 1;
                    self.pos += 1;
                }
                b'"' => {
                    let start = self.pos + 1;
                    let mut i = start;
                    loop {
                        match self.src.get(i) {
                            None | Some(b'\n') => {
                                return Err((self.line, SyntaxErrorKind::UnterminatedString));
                            }
                            Some(b'\\') => i += 2,
                            Some(b'"') => break,
                            Some(_) => i += 1,
                        }
                    }
                    let text = self.src.get(start..i).unwrap_or_default();
                    tokens.push(Token {
                        text,
                        quoted: true,
                        glued: last_end == self.pos,
                        line: self.line,
                    });
                    self.pos = i + 1;
                    last_end = self.pos;
                }
                _ => {
                    let start = self.pos;
                    let mut i = start;
                    while let Some(&b) = self.src.get(i) {
                        match b {
                            b'\\' => {
                                if matches!(self.src.get(i + 1), None | Some(b'\n')) {
                                    return Err((self.line, SyntaxErrorKind::BadEscape));
                                }
                                i += 2;
                            }
                            b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b';' | b'"' => break,
                            _ => i += 1,
                        }
                    }
                    let i = i.min(self.src.len());
                    tokens.push(Token {
                        text: self.src.get(start..i).unwrap_or_default(),
                        quoted: false,
                        glued: last_end == start,
                        line: self.line,
                    });
                    self.pos = i;
                    last_end = i;
                }
            }
        }
    }

    fn finish(&self, tokens: &[Token<'a>], blank_owner: bool) -> Option<EntryStart> {
        tokens.first().map(|t| EntryStart {
            line: t.line,
            blank_owner,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entries(src: &str) -> Vec<(u32, bool, Vec<String>)> {
        let mut lexer = Lexer::new(src.as_bytes(), 1);
        let mut tokens = Vec::new();
        let mut out = Vec::new();
        while let Some(start) = lexer.next_entry(&mut tokens).unwrap() {
            let texts = tokens
                .iter()
                .map(|t| {
                    let s = String::from_utf8_lossy(t.text).into_owned();
                    if t.quoted {
                        format!("\"{s}\"")
                    } else {
                        s
                    }
                })
                .collect();
            out.push((start.line, start.blank_owner, texts));
        }
        out
    }

    #[test]
    fn splits_lines_comments_and_parentheses() {
        let src =
            "; header\n@ IN SOA ns hostmaster ( 1 ; serial\n  2 3\n 4 5 )\n\twww A 192.0.2.1\n\n";
        let got = entries(src);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 2);
        assert!(!got[0].1);
        assert_eq!(
            got[0].2,
            [
                "@",
                "IN",
                "SOA",
                "ns",
                "hostmaster",
                "1",
                "2",
                "3",
                "4",
                "5"
            ]
        );
        assert_eq!(
            got[1],
            (5, true, vec!["www".into(), "A".into(), "192.0.2.1".into()])
        );
    }

    #[test]
    fn quoted_strings_keep_spaces_and_escapes() {
        let got = entries("t TXT \"a b; c\" \"say \\\"hi\\\"\" x\\ y\n");
        assert_eq!(
            got[0].2,
            ["t", "TXT", "\"a b; c\"", "\"say \\\"hi\\\"\"", "x\\ y"]
        );
    }

    #[test]
    fn glued_tokens_are_marked() {
        let mut lexer = Lexer::new(b"s SVCB 1 . alpn=\"h2\" port=\"53\"x \"a\" b\n", 1);
        let mut tokens = Vec::new();
        lexer.next_entry(&mut tokens).unwrap();
        let glued: Vec<bool> = tokens.iter().map(|t| t.glued).collect();
        assert_eq!(
            glued,
            [false, false, false, false, false, true, false, true, true, false, false]
        );
    }

    #[test]
    fn quoted_strings_inside_parentheses_across_lines() {
        let got = entries("t TXT ( \"one\"\n \"two\" )\nu A 1.2.3.4");
        assert_eq!(got[0].2, ["t", "TXT", "\"one\"", "\"two\""]);
        assert_eq!(got[1].0, 3);
    }

    #[test]
    fn reports_unbalanced_input_with_line() {
        let mut tokens = Vec::new();
        let err = Lexer::new(b"a A (\n1.2.3.4\n", 1)
            .next_entry(&mut tokens)
            .unwrap_err();
        assert!(matches!(err, (1, SyntaxErrorKind::UnclosedParenthesis)));
        let err = Lexer::new(b"\n\na TXT \"open\n", 1)
            .next_entry(&mut tokens)
            .unwrap_err();
        assert!(matches!(err, (3, SyntaxErrorKind::UnterminatedString)));
        let err = Lexer::new(b"a A 1 )\n", 1)
            .next_entry(&mut tokens)
            .unwrap_err();
        assert!(matches!(err, (1, SyntaxErrorKind::UnbalancedParenthesis)));
    }
}
