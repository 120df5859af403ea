//! How some model fields travel between the processes.
//!
//! The parent sends the whole model at every reload, and the children decode all of it
//! (bincode: every field costs a decode, even an empty one). Blocks that most instances
//! leave at their defaults (notify scripts, `track_*`, GARP settings) go as one "absent"
//! byte instead of a dozen empty fields: `#[serde(with = "wire::default_as_none")]`.

/// A value equal to its type's default is written as `None`, any other as `Some(value)`;
/// `None` reads back as the default. Self-describing formats (JSON) see `null` or the value.
pub mod default_as_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `value`, or `None` when it is the default.
    pub fn serialize<T, S>(value: &T, s: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize + Default + PartialEq,
        S: Serializer,
    {
        if *value == T::default() {
            s.serialize_none()
        } else {
            s.serialize_some(value)
        }
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: Deserialize<'de> + Default,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Option::unwrap_or_default)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Block {
        a: Option<u32>,
        b: Vec<String>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super::default_as_none")]
        block: Block,
        after: u8,
    }

    fn round_trip(h: &Holder) -> (Holder, usize) {
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(h, cfg).expect("encodes");
        let (back, _) = bincode::serde::decode_from_slice(&bytes, cfg).expect("decodes");
        (back, bytes.len())
    }

    #[test]
    fn default_goes_as_one_byte_and_comes_back() {
        let empty = Holder {
            block: Block::default(),
            after: 7,
        };
        let (back, len) = round_trip(&empty);
        assert_eq!((&back, len), (&empty, 2));
        let full = Holder {
            block: Block {
                a: Some(3),
                b: vec!["x".into()],
            },
            after: 9,
        };
        let (back, len) = round_trip(&full);
        assert_eq!(back, full);
        assert!(len > 2);
        let json = serde_json::to_string(&empty).expect("to JSON");
        assert_eq!(json, r#"{"block":null,"after":7}"#);
        let back: Holder = serde_json::from_str(&json).expect("from JSON");
        assert_eq!(back, empty);
    }
}
