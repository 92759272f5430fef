//! What runs: the shared-lib version of every running instance of each
//! service, read from `build_info` through the fleet's Prometheus when it
//! answers, else from each service's `GET /` on its port. `status` shows it
//! beside what each service's Cargo.lock holds.

use crate::manifest::Fleet;
use crate::ops::prometheus;

pub use cargo_fleet::pins::Instance;

/// Where the running versions were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Prometheus' `build_info` at this URL.
    Prometheus(String),
    /// Each service's `GET /` (Prometheus did not answer).
    ServiceInfo,
}

/// Every running instance of each service of `fleet`, by service name,
/// and where that was read. Prometheus at `prometheus` (a base URL) is
/// asked first; when it does not answer, each service's `GET /` on its
/// port.
pub fn instances(
    fleet: &Fleet,
    prometheus: &str,
) -> (std::collections::BTreeMap<String, Vec<Instance>>, Source) {
    let mut found: std::collections::BTreeMap<String, Vec<Instance>> = fleet
        .names()
        .into_iter()
        .map(|n| (n.to_string(), Vec::new()))
        .collect();
    if let Ok(samples) = prometheus::query(prometheus, "build_info") {
        for s in samples {
            let (Some(service), Some(instance), Some(version)) = (
                s.labels.get("service"),
                s.labels.get("instance"),
                s.labels.get("shared_lib_version"),
            ) else {
                continue;
            };
            if let Some(list) = found.get_mut(service) {
                list.push(Instance {
                    instance: instance.clone(),
                    shared_lib_version: version.clone(),
                });
            }
        }
        for list in found.values_mut() {
            list.sort_by(|a, b| a.instance.cmp(&b.instance));
        }
        return (found, Source::Prometheus(prometheus.to_string()));
    }
    let http = crate::ops::http::client();
    for service in &fleet.services {
        let instance = format!("127.0.0.1:{}", service.port);
        let info = crate::ops::http::get_json(&http, &format!("http://{instance}/"));
        if let Some(info) = info
            && info["service"] == service.name.as_str()
            && let Some(version) = info["shared_lib_version"].as_str()
            && let Some(list) = found.get_mut(&service.name)
        {
            list.push(Instance {
                instance,
                shared_lib_version: version.to_string(),
            });
        }
    }
    (found, Source::ServiceInfo)
}

/// The default Prometheus of the fleet (`cargo xtask up`'s).
pub fn fleet_prometheus() -> String {
    format!("http://127.0.0.1:{}", prometheus::PORT)
}
