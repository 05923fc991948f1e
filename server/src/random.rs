//! Random tokens and case references, from the operating system's random source.

/// Lower case without look-alikes (0/o, 1/l/i) for keys and tokens.
const TOKEN_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Upper case without 0/O, 1/I/L, which are misread on a phone.
const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn pick(alphabet: &[u8], len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

/// A random token of `len` characters from an alphabet without look-alikes.
pub fn token(len: usize) -> String {
    pick(TOKEN_ALPHABET, len)
}

/// A case reference like `NM-4F7Q`, with `len` random characters.
pub fn reference(len: usize) -> String {
    format!("NM-{}", pick(REFERENCE_ALPHABET, len))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_and_references_use_their_alphabets() {
        let token = super::token(20);
        assert_eq!(token.len(), 20);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"01ilo".contains(c)));
        let reference = super::reference(4);
        assert!(reference.starts_with("NM-") && reference.len() == 7);
        assert!(reference[3..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"01ILO".contains(c)));
    }
}
