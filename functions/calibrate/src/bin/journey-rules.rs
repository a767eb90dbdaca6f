//! `journey-rules`: backtest an event log, export one from a deployed (or local) table, run the
//! calibration, list the rules versions, roll back. See docs/backtest.md.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use calibrate::{Settings, calibrate, propose};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use journey::backtest::{self, Label, MetricsConfig, ReplayConfig, report};
use journey::domain::Rules;
use journey::ports::{EventArchive, ExportedLog, RulesRegistry, Sampled};
use journey::rules_versions::{Origin, RulesVersion};
use journey::templates::Catalogue;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::s3::S3Archive;
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "journey-rules",
    about = "Backtest, calibrate and version Journey's rules"
)]
struct Cli {
    /// The deployed rules file (default: RULES_FILE, else the built-in infra/rules.toml).
    #[arg(long, global = true)]
    rules: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay an event log (JSON Lines) and measure how early the rules flag churners.
    Backtest {
        #[arg(long)]
        events: PathBuf,
        /// Churns as the business knows them (JSON Lines); default: the replay's own.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// A rules version's overlay (TOML) to test over the rules file.
        #[arg(long)]
        overlay: Option<PathBuf>,
        /// The simulated sweep's interval.
        #[arg(long, default_value_t = 15)]
        interval_minutes: i64,
        #[arg(long, default_value_t = 72)]
        lead_hours: i64,
        #[arg(long, default_value_t = 30)]
        window_days: i64,
        /// Print JSON (metrics and every customer's risk timeline) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Write the event log's events and churns as JSON Lines (EVENT_LOG_BUCKET;
    /// AWS_ENDPOINT_URL for the local stack).
    Export {
        #[arg(long)]
        events: PathBuf,
        #[arg(long)]
        labels: PathBuf,
        /// At most this many events, of whole customers (default: the rules file's
        /// `calibration.sample_events`, the sample calibration learns from).
        #[arg(long, conflicts_with = "all")]
        max_events: Option<usize>,
        /// Every customer's lines: memory grows with the log.
        #[arg(long)]
        all: bool,
    },
    /// Fit a proposal and judge it on the holdout. From the table (stored as a new version,
    /// activated if it wins), or from files with --events/--labels (nothing stored).
    Calibrate {
        #[arg(long, requires = "labels")]
        events: Option<PathBuf>,
        #[arg(long)]
        labels: Option<PathBuf>,
        /// With --events: the overlay in force (TOML over the rules file) that the proposal
        /// must beat and starts from.
        #[arg(long, requires = "events")]
        overlay: Option<PathBuf>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value_t = 100)]
        min_outcomes: usize,
        #[arg(long)]
        json: bool,
    },
    /// List the stored rules versions, the active one marked.
    Versions,
    /// Make an earlier version the active one.
    Rollback { version: u32 },
    /// Store an overlay written by a person as a new version and activate it.
    Edit {
        overlay: PathBuf,
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("journey-rules: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let base = match &cli.rules {
        Some(path) => read(path)?,
        None => journey::config::rules_text().map_err(|e| e.to_string())?,
    };
    match cli.command {
        Command::Backtest {
            events,
            labels,
            overlay,
            interval_minutes,
            lead_hours,
            window_days,
            json,
        } => {
            let overlay = overlay.map(|p| read(&p)).transpose()?.unwrap_or_default();
            let rules =
                Rules::from_toml_with_overlay(&base, &overlay).map_err(|e| e.to_string())?;
            let log = read_log(&events, labels.as_deref())?;
            let replay_config = ReplayConfig {
                interval: Duration::minutes(interval_minutes.max(1)),
                ..ReplayConfig::default()
            };
            let metrics_config = MetricsConfig {
                lead: Duration::hours(lead_hours),
                window: Duration::days(window_days),
                ..MetricsConfig::default()
            };
            let labels = labels.is_some().then_some(&log.labels[..]);
            let (replay, metrics) =
                backtest::backtest(&log.events, labels, &rules, &replay_config, &metrics_config);
            if json {
                #[derive(Serialize)]
                struct Out<'a> {
                    metrics: &'a backtest::Metrics,
                    experiments: Vec<journey::domain::experiment::Comparison>,
                    timelines: &'a [backtest::Journey],
                }
                let settings = &rules.default_policy().experiments;
                print_json(&Out {
                    metrics: &metrics,
                    experiments: replay.experiments().comparisons_as_of(
                        replay.until,
                        settings.outcome_days,
                        settings.judging(),
                    ),
                    timelines: &replay.journeys,
                })
            } else {
                println!(
                    "{} events, {} simulated checks, until {}\n",
                    replay.events, replay.checks, replay.until
                );
                print!("{}", report::table(&metrics));
                print!(
                    "{}",
                    report::experiments(&replay.experiments(), &rules, replay.until)
                );
                Ok(())
            }
        }
        Command::Export {
            events,
            labels,
            max_events,
            all,
        } => {
            let rules = Rules::from_toml_with_overlay(&base, "").map_err(|e| e.to_string())?;
            let goals = &rules.policy(None).calibration;
            let limits = journey::ports::SampleLimits {
                events: (!all).then_some(max_events.unwrap_or(goals.sample_events)),
                per_customer: (!all).then_some(goals.customer_events),
            };
            let (log, sample) = archive()
                .await?
                .export_log(limits)
                .await
                .map_err(|e| e.to_string())?;
            write_lines(&events, &log.events)?;
            write_lines(&labels, &log.labels)?;
            println!(
                "{} customers' {} events to {}, {} churns to {}",
                sample.customers,
                log.events.len(),
                events.display(),
                log.labels.len(),
                labels.display()
            );
            if let Some(about) = sample.of_about {
                println!("a sample: the log holds about {about} customers (--all for every one)");
            }
            Ok(())
        }
        Command::Calibrate {
            events,
            labels,
            overlay,
            dry_run,
            min_outcomes,
            json,
        } => {
            let settings = Settings {
                min_outcomes,
                ..Settings::default()
            };
            let report = match (events, labels) {
                (Some(events), Some(labels)) => {
                    let log = read_log(&events, Some(&labels))?;
                    let active = overlay.map(|p| read(&p)).transpose()?.unwrap_or_default();
                    let proposal =
                        propose(&log, &base, &active, &settings).map_err(|e| e.to_string())?;
                    let customers = log
                        .events
                        .iter()
                        .map(|e| &e.customer_id)
                        .collect::<std::collections::HashSet<_>>()
                        .len();
                    offline_report(
                        proposal,
                        Sampled {
                            customers,
                            of_about: None,
                            over_cap: 0,
                        },
                    )
                }
                _ => calibrate(
                    &store().await?,
                    &archive().await?,
                    &base,
                    &settings,
                    Utc::now(),
                    dry_run,
                )
                .await
                .map_err(|e| e.to_string())?,
            };
            if json {
                return print_json(&report);
            }
            println!("{}", report.message);
            match report.sample.of_about {
                Some(all) => println!(
                    "learnt from a sample of {} customers of about {all} in the log",
                    report.sample.customers
                ),
                None => println!("learnt from {} customers", report.sample.customers),
            }
            if let Some(p) = &report.proposal {
                println!("\nproposed rules (overlay):\n{}", without_trees(&p.overlay));
                if let Some(trees) = p.model_trees {
                    println!(
                        "learned model: {trees} boosted trees; the score is its probability of churning within the window, in percent ({} bytes of overlay in all)",
                        p.overlay.len()
                    );
                }
                if !p.programs.is_empty() {
                    println!(
                        "programs with rules of their own: {}",
                        p.programs.join(", ")
                    );
                }
                println!(
                    "on the holdout, rules in force:\n{}",
                    report::table(&p.active_holdout)
                );
                println!("on the holdout, proposal:\n{}", report::table(&p.holdout));
            }
            if let Some(n) = report.stored {
                let state = if report.applied {
                    "active"
                } else {
                    "stored, not active"
                };
                println!("version {n}: {state}");
            }
            Ok(())
        }
        Command::Versions => {
            let store = store().await?;
            let active = store.active_rules().await.map_err(|e| e.to_string())?;
            let active = active.map(|a| a.version.number);
            for v in store.rules_versions().await.map_err(|e| e.to_string())? {
                let mark = if Some(v.number) == active { "*" } else { " " };
                let summary = v.metrics.as_ref().map_or(String::new(), |m| {
                    format!(
                        "recall {}h {:.1} %, false alarms {:.2}/100/month, messages to non-churners {:.2}/100/month",
                        m.lead_hours,
                        m.recall_at(journey::domain::RiskLevel::Caution) * 100.0,
                        m.false_alarms_per_100_customer_months,
                        m.messages_to_non_churners_per_100_customer_months
                    )
                });
                println!(
                    "{mark} {:>3}  {:<10} {}  {summary}  {}",
                    v.number,
                    v.origin.as_str(),
                    v.created_at.format("%Y-%m-%d %H:%M"),
                    v.note
                );
            }
            Ok(())
        }
        Command::Rollback { version } => {
            let store = store().await?;
            let active = store.active_rules().await.map_err(|e| e.to_string())?;
            let expected = active.map(|a| a.version.number);
            store
                .activate_rules(version, expected, Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            println!("version {version} is active (was {expected:?})");
            Ok(())
        }
        Command::Edit { overlay, note } => {
            let overlay = read(&overlay)?;
            let rules =
                Rules::from_toml_with_overlay(&base, &overlay).map_err(|e| e.to_string())?;
            // the transition worker would refuse it: refuse it here, naming the key
            Catalogue::embedded()
                .and_then(|t| t.check(&rules))
                .map_err(|e| e.to_string())?;
            let store = store().await?;
            let expected = store
                .active_rules()
                .await
                .map_err(|e| e.to_string())?
                .map(|a| a.version.number);
            let goals = &rules.policy(None).calibration;
            let limits = journey::ports::SampleLimits {
                events: Some(goals.sample_events),
                per_customer: Some(goals.customer_events),
            };
            let (log, _) = archive()
                .await?
                .export_log(limits)
                .await
                .map_err(|e| e.to_string())?;
            let (_, metrics) = backtest::backtest(
                &log.events,
                Some(&log.labels),
                &rules,
                &ReplayConfig::default(),
                &MetricsConfig::default(),
            );
            let number = journey::rules_versions::next_number(&store)
                .await
                .map_err(|e| e.to_string())?;
            let version = RulesVersion {
                number,
                origin: Origin::Edited,
                created_at: Utc::now(),
                overlay,
                metrics: Some(metrics),
                note,
                approval: None,
            };
            store
                .add_rules_version(&version, true, expected, Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            println!("version {number} stored and active");
            Ok(())
        }
    }
}

/// A proposal from files: judged, never stored.
fn offline_report(
    proposal: Result<calibrate::Proposal, calibrate::Calibration>,
    sample: Sampled,
) -> calibrate::Report {
    match proposal {
        Err(why) => calibrate::Report {
            message: format!("no proposal: {why}"),
            sample,
            stored: None,
            applied: false,
            proposal: None,
            allocation: None,
        },
        Ok(p) => calibrate::Report {
            message: match journey::rules_versions::judge(&p.holdout, &p.active_holdout, &p.goals) {
                Ok(()) => "proposal beats the rules in force on the holdout".into(),
                Err(why) => format!("proposal refused: {why}"),
            },
            sample,
            stored: None,
            applied: false,
            proposal: Some(p),
            allocation: None,
        },
    }
}

/// The event log's archive (`EVENT_LOG_BUCKET`), sampled in the order the deployment's
/// `calibration-sample-key` keys (from SSM under `SECRETS_SSM_PREFIX`, or
/// `JOURNEY_SECRET_CALIBRATION_SAMPLE_KEY`): the same customers the weekly job learns from.
async fn archive() -> Result<S3Archive, String> {
    use journey::ports::SecretSource;
    let bucket = journey::config::required("EVENT_LOG_BUCKET").map_err(|e| e.to_string())?;
    let aws = journey_adapters::aws::load(std::time::Duration::from_secs(30)).await;
    let secret = journey_adapters::Secrets::from_env(&aws)
        .secret(calibrate::SAMPLE_SECRET)
        .await
        .map_err(|e| e.to_string())?;
    Ok(S3Archive::new(
        journey_adapters::aws::s3_client(&aws),
        bucket,
        journey::backtest::sample::SampleOrder::keyed(secret.as_bytes()),
    ))
}

async fn store() -> Result<DynamoStore, String> {
    let table = journey::config::required("TABLE_NAME").map_err(|e| e.to_string())?;
    let aws = journey_adapters::aws::load(std::time::Duration::from_secs(30)).await;
    Ok(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_log(events: &Path, labels: Option<&Path>) -> Result<ExportedLog, String> {
    let open = |p: &Path| {
        File::open(p)
            .map(BufReader::new)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let events =
        backtest::read_events(open(events)?).map_err(|e| format!("{}: {e}", events.display()))?;
    let labels: Vec<Label> = match labels {
        Some(p) => backtest::read_labels(open(p)?).map_err(|e| format!("{}: {e}", p.display()))?,
        None => Vec::new(),
    };
    Ok(ExportedLog { events, labels })
}

fn write_lines<T: Serialize>(path: &Path, values: &[T]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(fail)?);
    for v in values {
        serde_json::to_writer(&mut out, v).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(fail)?;
    }
    out.flush().map_err(fail)
}

/// The overlay with each learned model's trees left out: thousands of numbers no one reads.
fn without_trees(overlay: &str) -> String {
    let Ok(mut root) = overlay.parse::<toml::Table>() else {
        return overlay.to_string();
    };
    elide_trees(&mut root);
    root.to_string()
}

fn elide_trees(table: &mut toml::Table) {
    for (key, value) in table.iter_mut() {
        let toml::Value::Table(inner) = value else {
            continue;
        };
        let trees = inner.get("trees").and_then(|t| t.as_array()).map(Vec::len);
        match (key.as_str(), trees) {
            ("model", Some(n)) => {
                inner.insert("trees".into(), format!("({n} trees left out)").into());
            }
            _ => elide_trees(inner),
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
