//! Reads what criterion measured (`crate::cpu`): `target/criterion/<group>/<bench>/new/`.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct Measured {
    pub group: String,
    pub name: String,
    /// Mean time per iteration, nanoseconds.
    pub mean_ns: f64,
    /// Bytes per iteration, when the bench declared a throughput.
    pub bytes: Option<u64>,
}

fn read(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Every benchmark criterion recorded, sorted by group and name.
pub fn measured(root: &Path) -> Vec<Measured> {
    let mut all = Vec::new();
    let Ok(groups) = std::fs::read_dir(root.join("target/criterion")) else {
        return all;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let (Some(meta), Some(estimates)) = (
                read(&new.join("benchmark.json")),
                read(&new.join("estimates.json")),
            ) else {
                continue;
            };
            let Some(mean_ns) = estimates["mean"]["point_estimate"].as_f64() else {
                continue;
            };
            all.push(Measured {
                group: meta["group_id"].as_str().unwrap_or_default().to_string(),
                name: meta["function_id"].as_str().unwrap_or_default().to_string(),
                mean_ns,
                bytes: meta["throughput"]["Bytes"].as_u64(),
            });
        }
    }
    all.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    all
}
