//! What the parsers' fuzz tests share: the number of cases (`FUZZ_CASES`: a few thousand in
//! `make test`, 100,000 in `make fuzz`), JSON from nothing, and JSON from a valid input with
//! one part broken — the inputs that reach deep into a parser, not only its first check.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

use crate::http::ApiError;

/// Cases per parser: `FUZZ_CASES`, else 2,000.
pub fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// A proptest configuration with [`cases`] cases and no persisted failures in the tree.
pub fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Strings a parser may choke on: empty, huge, control characters, markup, path climbing,
/// numbers as text, times, non-ASCII.
pub fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("..".to_string()),
        Just("%2E%2E/".to_string()),
        Just("x<!channel>".to_string()),
        Just("1970-01-01T00:00:00Z".to_string()),
        Just("2026-11-02T09:00:00Z".to_string()),
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("\u{0}\u{7f}\r\n".to_string()),
        Just("가".repeat(600)),
        Just("a".repeat(5_000)),
        "[a-z_]{1,12}",
        ".{0,40}",
        any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every path to a value in `v` (object keys and array indices), the root included.
fn paths(v: &Value) -> Vec<Vec<PathStep>> {
    let mut out = vec![Vec::new()];
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                for mut p in paths(child) {
                    p.insert(0, PathStep::Key(k.clone()));
                    out.push(p);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                for mut p in paths(child) {
                    p.insert(0, PathStep::Index(i));
                    out.push(p);
                }
            }
        }
        _ => {}
    }
    out
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let child = match (first, v) {
        (PathStep::Key(k), Value::Object(m)) => m.get_mut(k)?,
        (PathStep::Index(i), Value::Array(a)) => a.get_mut(*i)?,
        _ => return None,
    };
    at(child, rest)
}

/// How one part of a valid input is broken.
#[derive(Clone, Debug)]
pub enum Mutation {
    Replace(Value),
    Remove,
    AddField(String, Value),
}

/// One of `bases` (valid inputs of each kind a parser takes), broken as [`mutated`] does.
pub fn mutated_any(bases: Vec<Value>) -> impl Strategy<Value = Value> {
    prop::sample::select(bases).prop_flat_map(mutated)
}

/// `base` with one of its values replaced, removed or given an unknown sibling.
pub fn mutated(base: Value) -> impl Strategy<Value = Value> {
    let all = paths(&base);
    let mutation = prop_oneof![
        4 => json_value().prop_map(Mutation::Replace),
        1 => Just(Mutation::Remove),
        1 => ("[a-zA-Z_]{1,12}", json_value()).prop_map(|(k, v)| Mutation::AddField(k, v)),
    ];
    (
        prop::sample::select(all),
        prop::collection::vec(mutation, 1..3),
    )
        .prop_map(move |(path, mutations)| {
            let mut v = base.clone();
            for m in mutations {
                apply(&mut v, &path, m);
            }
            v
        })
}

fn apply(v: &mut Value, path: &[PathStep], m: Mutation) {
    match m {
        Mutation::Replace(new) => {
            if let Some(slot) = at(v, path) {
                *slot = new;
            }
        }
        Mutation::Remove => {
            let Some((last, parent)) = path.split_last() else {
                *v = Value::Null;
                return;
            };
            match (at(v, parent), last) {
                (Some(Value::Object(m)), PathStep::Key(k)) => {
                    m.remove(k);
                }
                (Some(Value::Array(a)), PathStep::Index(i)) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
        Mutation::AddField(k, new) => {
            if let Some(Value::Object(m)) = at(v, path) {
                m.insert(k, new);
            }
        }
    }
}

/// Bytes that are not JSON, or barely: raw, truncated, or JSON with garbage around it.
pub fn raw_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string();
            let end = cut.index(text.len().max(1));
            text.as_bytes()[..end.min(text.len())].to_vec()
        }),
    ]
}

/// A refusal a client can act on: a 4xx with a code, and a field when a field is wrong.
pub fn is_clear_refusal(e: &ApiError) -> Result<(), String> {
    if !(400..500).contains(&e.status) {
        return Err(format!("status {} for malformed input: {e}", e.status));
    }
    if e.code.is_empty() || e.message.is_empty() {
        return Err(format!("no code or message: {e:?}"));
    }
    if e.code == "invalid_field" && e.field.as_deref().is_none_or(str::is_empty) {
        return Err(format!("invalid_field without a field: {e:?}"));
    }
    Ok(())
}
