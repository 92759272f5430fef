//! Prometheus: Debian's `prometheus` (2.42, installed with apt-get when
//! missing) scraping every instance's `GET /metrics`, and its HTTP query
//! API read back (`status`, the tests).
//!
//! The server `up` starts listens on 127.0.0.1:[`PORT`] only, keeps its
//! data under `.fleet/prometheus/` and scrapes every [`SCRAPE_INTERVAL`].
//! Every service labels its own series with `service` (shared-lib's
//! metrics), so queries group by it wherever the server runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// Where `up`'s Prometheus answers (its own port, loopback only).
pub const PORT: u16 = 9090;

/// How often every target is scraped: short, so a rollout or a test sees
/// a change within seconds.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(2);

/// The server program, installed from Debian's packages when missing.
pub fn ensure_installed() -> Result<PathBuf> {
    super::tools::ensure_debian("prometheus", "prometheus")
}

/// One scrape job: a service and where its instances are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job name (the service's).
    pub name: String,
    /// Its instances.
    pub targets: Targets,
}

/// Where a job's instances are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// These `host:port`s (`127.0.0.1:8081`).
    Static(Vec<String>),
    /// Every address DNS gives for `name` (a swarm service in `dnsrr`
    /// mode answers each replica's), on `port`, asked every 5 s.
    Dns {
        /// The name to resolve.
        name: String,
        /// The port every instance listens on.
        port: u16,
    },
}

/// The configuration file scraping `jobs` every [`SCRAPE_INTERVAL`],
/// after `header` (comment lines naming who writes it).
pub fn config(header: &str, jobs: &[Job]) -> String {
    let secs = SCRAPE_INTERVAL.as_secs();
    let mut out = format!(
        "{header}global:\n  scrape_interval: {secs}s\n  evaluation_interval: {secs}s\nscrape_configs:\n"
    );
    for job in jobs {
        out.push_str(&format!(
            "  - job_name: '{}'\n    metrics_path: /metrics\n",
            job.name
        ));
        match &job.targets {
            Targets::Static(targets) => {
                let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
                out.push_str(&format!(
                    "    static_configs:\n      - targets: [{}]\n",
                    targets.join(", ")
                ));
            }
            Targets::Dns { name, port } => out.push_str(&format!(
                "    dns_sd_configs:\n      - names: ['{name}']\n        type: A\n        port: {port}\n        refresh_interval: 5s\n"
            )),
        }
    }
    out
}

/// The server on 127.0.0.1:`port` with `config` and its data in `data`.
pub fn command(program: &Path, config: &Path, data: &Path, port: u16) -> Command {
    let mut cmd = super::run::program(program);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // `POST /-/reload` re-reads the file after `up` rewrote it.
        .arg("--web.enable-lifecycle")
        .arg("--storage.tsdb.retention.time=2d");
    cmd
}

/// The URL its readiness answers 200 on.
pub fn ready_url(base: &str) -> String {
    format!("{base}/-/ready")
}

/// Asks the server at `base` to re-read its configuration file.
pub fn reload(base: &str) -> Result<()> {
    let status = super::http::send(
        &super::http::client(),
        "POST",
        &format!("{base}/-/reload"),
        None,
    )?;
    if status != 200 {
        bail!("Prometheus at {base} answered {status} to a reload");
    }
    Ok(())
}

/// One series of an instant query's answer: its labels and value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The series' labels (`__name__` included when the query keeps it).
    pub labels: std::collections::BTreeMap<String, String>,
    /// Its value at the query's time.
    pub value: f64,
}

/// `promql` evaluated now by the server at `base` (`GET /api/v1/query`).
pub fn query(base: &str, promql: &str) -> Result<Vec<Sample>> {
    let answer: serde_json::Value = super::http::client()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .with_context(|| format!("Prometheus at {base} did not answer"))?
        .json()
        .with_context(|| format!("Prometheus at {base} answered something that is not JSON"))?;
    if answer["status"] != "success" {
        bail!(
            "Prometheus refused {promql:?}: {}",
            answer["error"].as_str().unwrap_or("no reason given")
        );
    }
    let series = answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(series
        .iter()
        .map(|s| Sample {
            labels: s["metric"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            value: s["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_scrapes_every_instance_of_every_job() {
        let text = config(
            "# test\n",
            &[
                Job {
                    name: "a-service".into(),
                    targets: Targets::Static(vec!["127.0.0.1:9001".into()]),
                },
                Job {
                    name: "b-service".into(),
                    targets: Targets::Static(vec![
                        "127.0.0.1:9002".into(),
                        "127.0.0.1:9102".into(),
                    ]),
                },
                Job {
                    name: "c-service".into(),
                    targets: Targets::Dns {
                        name: "c-service".into(),
                        port: 9003,
                    },
                },
            ],
        );
        assert!(text.starts_with("# test\nglobal:\n  scrape_interval: 2s"));
        assert!(text.contains("  - job_name: 'a-service'\n"));
        assert!(text.contains("targets: ['127.0.0.1:9002', '127.0.0.1:9102']"));
        assert!(text.contains(
            "dns_sd_configs:\n      - names: ['c-service']\n        type: A\n        port: 9003\n"
        ));
    }
}
