//! Compact stored forms of the customer's two largest parts, so the customer item stays under
//! DynamoDB's 1 KB write unit (docs/data-model.md): the ids of its recent events as 8-byte
//! digests, and its day tallies as one short string. Both still read the older, wider forms,
//! so items written before keep loading.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::{self, Write as _};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::activity::{DayNumber, DayTally};
use crate::ids::EventId;

/// The last few event ids a customer applied, kept as the first 8 bytes of each id's SHA-256:
/// a repeat is recognised without storing the id (two ids sharing a digest are a 1-in-2^64
/// chance per pair). Stored as one binary value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecentIds(VecDeque<u64>);

impl RecentIds {
    pub fn contains(&self, id: &EventId) -> bool {
        self.0.contains(&digest(id.as_str()))
    }

    /// Remembers `id`, forgetting the oldest beyond `keep`.
    pub fn push(&mut self, id: &EventId, keep: usize) {
        self.0.push_back(digest(id.as_str()));
        while self.0.len() > keep {
            self.0.pop_front();
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

fn digest(id: &str) -> u64 {
    let d = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first)
}

impl Serialize for RecentIds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|d| d.to_be_bytes()).collect();
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for RecentIds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RecentIdsVisitor)
    }
}

struct RecentIdsVisitor;

impl<'de> Visitor<'de> for RecentIdsVisitor {
    type Value = RecentIds;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("8-byte digests, or a list of event ids")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RecentIds, E> {
        if !v.len().is_multiple_of(8) {
            return Err(E::invalid_length(v.len(), &self));
        }
        Ok(RecentIds(
            v.chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    u64::from_be_bytes(b)
                })
                .collect(),
        ))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<RecentIds, E> {
        self.visit_bytes(&v)
    }

    /// The bytes as a list of numbers (JSON), or the ids as stored before (strings).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RecentIds, A::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Element {
            Byte(u8),
            Id(String),
        }
        let mut bytes = Vec::new();
        let mut ids = VecDeque::new();
        while let Some(element) = seq.next_element::<Element>()? {
            match element {
                Element::Byte(b) => bytes.push(b),
                Element::Id(id) => ids.push_back(digest(&id)),
            }
        }
        if ids.is_empty() {
            self.visit_bytes(&bytes)
        } else {
            Ok(RecentIds(ids))
        }
    }
}

/// The day tallies as one string: days in order, each the days since the previous one (the
/// first: since 1970-01-01), then its non-zero counts as a letter and a number (`l` logins,
/// `c` content seconds, `s` submissions, `m` missed, `t` tickets, `e` engaged) and `a` when
/// the day had activity: `20721l1c900a;1l2c60s1a;2t1`. Reads the map it replaced.
pub mod days {
    use super::*;

    pub fn serialize<S: Serializer>(
        days: &BTreeMap<DayNumber, DayTally>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(days))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<DayNumber, DayTally>, D::Error> {
        d.deserialize_any(DaysVisitor)
    }

    pub fn encode(days: &BTreeMap<DayNumber, DayTally>) -> String {
        let mut out = String::with_capacity(days.len() * 10);
        let mut previous = 0;
        for (n, (day, t)) in days.iter().enumerate() {
            if n > 0 {
                out.push(';');
            }
            let _ = write!(out, "{}", day - previous);
            previous = *day;
            for (letter, value) in [
                ('l', t.logins),
                ('c', t.content_seconds),
                ('s', t.submissions),
                ('m', t.missed),
                ('t', t.tickets),
                ('e', t.engaged),
            ] {
                if value > 0 {
                    let _ = write!(out, "{letter}{value}");
                }
            }
            if t.active {
                out.push('a');
            }
        }
        out
    }

    pub fn decode(text: &str) -> Result<BTreeMap<DayNumber, DayTally>, String> {
        let mut days = BTreeMap::new();
        let mut previous: DayNumber = 0;
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let digits = part
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(part.len());
            let delta: DayNumber = part[..digits]
                .parse()
                .map_err(|_| format!("a day's offset in {part:?}"))?;
            previous += delta;
            let mut tally = DayTally::default();
            let mut rest = &part[digits..];
            while let Some(letter) = rest.chars().next() {
                rest = &rest[letter.len_utf8()..];
                if letter == 'a' {
                    tally.active = true;
                    continue;
                }
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let value: u32 = rest[..end]
                    .parse()
                    .map_err(|_| format!("the count after {letter:?} in {part:?}"))?;
                rest = &rest[end..];
                match letter {
                    'l' => tally.logins = value,
                    'c' => tally.content_seconds = value,
                    's' => tally.submissions = value,
                    'm' => tally.missed = value,
                    't' => tally.tickets = value,
                    'e' => tally.engaged = value,
                    other => return Err(format!("an unknown tally {other:?} in {part:?}")),
                }
            }
            days.insert(previous, tally);
        }
        Ok(days)
    }

    struct DaysVisitor;

    impl<'de> Visitor<'de> for DaysVisitor {
        type Value = BTreeMap<DayNumber, DayTally>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("day tallies as a string, or a map of days")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            decode(v).map_err(E::custom)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut days = BTreeMap::new();
            while let Some((day, tally)) = map.next_entry::<DayNumber, DayTally>()? {
                days.insert(day, tally);
            }
            Ok(days)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tally() -> impl Strategy<Value = DayTally> {
        (
            0u32..3,
            0u32..5000,
            0u32..3,
            0u32..2,
            0u32..2,
            0u32..3,
            any::<bool>(),
        )
            .prop_map(|(l, c, s, m, t, e, a)| DayTally {
                logins: l,
                content_seconds: c,
                submissions: s,
                missed: m,
                tickets: t,
                engaged: e,
                active: a,
            })
    }

    proptest! {
        #[test]
        fn day_tallies_round_trip(days in proptest::collection::btree_map(18_000i64..22_000, tally(), 0..40)) {
            let text = days::encode(&days);
            prop_assert_eq!(days::decode(&text).unwrap(), days);
        }
    }

    #[test]
    fn the_old_forms_still_read() {
        let old = r#"{"20721":{"l":1,"c":900,"a":true},"20723":{"t":1}}"#;
        #[derive(Deserialize)]
        struct Days(#[serde(with = "days")] BTreeMap<DayNumber, DayTally>);
        let Days(read) = serde_json::from_str(old).unwrap();
        assert_eq!(days::encode(&read), "20721l1c900a;2t1");
        let ids: RecentIds = serde_json::from_str(r#"["app:1","app:2"]"#).unwrap();
        assert!(ids.contains(&EventId::new("app:2").unwrap()));
        let mut again = RecentIds::default();
        again.push(&EventId::new("app:1").unwrap(), 16);
        again.push(&EventId::new("app:2").unwrap(), 16);
        assert_eq!(ids, again);
        let json = serde_json::to_string(&again).unwrap();
        assert_eq!(serde_json::from_str::<RecentIds>(&json).unwrap(), again);
        assert!(days::decode("20721x1").is_err());
    }
}
