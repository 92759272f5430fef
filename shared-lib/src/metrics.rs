//! Metrics every service serves on `GET /metrics`, in the OpenMetrics text
//! format (which Prometheus reads): what a rolling update is watched by.
//!
//! Every series carries the `service` label. The families:
//!
//! | name | type | labels | what |
//! |------|------|--------|------|
//! | `http_requests_total` | counter | `route`, `method`, `status` | answered requests; `route` is the OpenAPI path template (`/api/users/{id}`, never the raw path), `unmatched` for paths the document does not list; `status` the class (`2xx` ... `5xx`) |
//! | `http_request_duration_seconds` | histogram | `route`, `method` | from the request's arrival to its answer |
//! | `http_requests_in_flight` | gauge | `route` | requests being served now |
//! | `upstream_requests_total` | counter | `callee`, `outcome` (`ok`, `error`) | calls to other services; `error` is no answer, a timeout or a 5xx |
//! | `upstream_request_duration_seconds` | histogram | `callee` | how long those calls took |
//! | `upstream_up` | gauge | `callee` | 1 when the callee's health answered at the last `/ready`, else 0 |
//! | `db_pool_connections` | gauge | `pool`, `state` (`in_use`, `idle`) | the data layer's connections, read when scraped |
//! | `db_pool_max_connections` | gauge | `pool` | each pool's size limit |
//! | `build_info` | info | `version`, `shared_lib_version` | 1; which build runs |
//!
//! Handles are made once: [`Metrics::new`] registers the families and one
//! slot per route template, method and status class, each filled with
//! its series the first time it is used; after that a request costs a
//! path match against the templates, three atomic adds and a histogram
//! observation, no label hashing or map look-up. The registry
//! (`prometheus-client`, the Prometheus project's own Rust client) is one
//! per server, so several servers in one test process keep their counts
//! apart, and no global recorder has to be installed.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use warp::http::Method;

use crate::openapi::{Contract, Segment};

/// The `content-type` of `GET /metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `route` label of a request whose path the OpenAPI document does
/// not list.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency bucket bounds, in seconds: from half a millisecond (a cached
/// read) to the 30 s request timeout.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0,
];

/// The methods counted by name; any other is counted as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// One method's series on one route, each made on first use.
#[derive(Debug, Default)]
struct MethodSlots {
    latency: OnceLock<Histogram>,
    statuses: [OnceLock<Counter>; 5],
}

/// One route template's series.
#[derive(Debug)]
struct RouteSlots {
    /// The template, as the `route` label shows it.
    label: String,
    /// Its segments.
    segments: Vec<Segment>,
    /// Whether it has a parameter (else only its own text matches it
    /// exactly, which is checked first).
    has_params: bool,
    in_flight: Gauge,
    methods: [MethodSlots; 8],
}

/// A service's metrics: the registry `GET /metrics` renders, and the
/// handles the server, the data layer and the service's clients record
/// into. One per server; share it as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The contract's templates, then [`UNMATCHED_ROUTE`] last.
    routes: Vec<RouteSlots>,
    requests: Family<Labels, Counter>,
    latency: Histograms,
    upstream_calls: Family<Labels, Counter>,
    upstream_latency: Histograms,
    upstream_up: Family<Labels, Gauge>,
    pool_connections: Family<Labels, Gauge>,
    pool_max: Family<Labels, Gauge>,
    /// Read at every render: the data layer's pools.
    refresh: Mutex<Vec<Refresh>>,
}

/// Sets gauges from their source before a render.
struct Refresh(Box<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresh")
    }
}

impl Metrics {
    /// The metrics of the service `contract` describes: `service` and
    /// `version` from its document, one route per documented path.
    pub fn new(contract: &Contract) -> Arc<Metrics> {
        let mut registry = Registry::with_labels(
            [("service".into(), contract.service().to_string().into())].into_iter(),
        );
        registry.register(
            "build",
            "Which build runs: the service's version and the shared-lib it was built with",
            Info::new(vec![
                ("version", contract.version().to_string()),
                ("shared_lib_version", crate::VERSION.to_string()),
            ]),
        );
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status class",
            requests.clone(),
        );
        let latency = Histograms::new_with_constructor(histogram);
        registry.register_with_unit(
            "http_request_duration",
            "From a request's arrival to its answer, by route template and method",
            Unit::Seconds,
            latency.clone(),
        );
        let in_flight = Family::<Labels, Gauge>::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being served, by route template",
            in_flight.clone(),
        );
        let upstream_calls = Family::<Labels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Calls to other services, by callee and outcome (error: no answer, a timeout or a 5xx)",
            upstream_calls.clone(),
        );
        let upstream_latency = Histograms::new_with_constructor(histogram);
        registry.register_with_unit(
            "upstream_request_duration",
            "How long calls to other services took, by callee",
            Unit::Seconds,
            upstream_latency.clone(),
        );
        let upstream_up = Family::<Labels, Gauge>::default();
        registry.register(
            "upstream_up",
            "1 when the callee's health answered at the last readiness check, else 0",
            upstream_up.clone(),
        );
        let pool_connections = Family::<Labels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "The data layer's open connections, by pool and state (in_use, idle)",
            pool_connections.clone(),
        );
        let pool_max = Family::<Labels, Gauge>::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections each pool opens",
            pool_max.clone(),
        );
        // The unmatched route is last, with no segments (never matched).
        let templates = contract
            .templates()
            .map(|t| (t.to_string(), crate::openapi::segments(t)))
            .chain(std::iter::once((UNMATCHED_ROUTE.to_string(), Vec::new())));
        let routes = templates
            .map(|(label, segments)| RouteSlots {
                has_params: segments.contains(&Segment::Param),
                in_flight: in_flight.get_or_create_owned(&vec![("route", label.clone())]),
                segments,
                label,
                methods: Default::default(),
            })
            .collect();
        Arc::new(Metrics {
            registry,
            routes,
            requests,
            latency,
            upstream_calls,
            upstream_latency,
            upstream_up,
            pool_connections,
            pool_max,
            refresh: Mutex::new(Vec::new()),
        })
    }

    /// The route (index into the templates) a request path belongs to: the
    /// first documented template it matches, else the unmatched route.
    fn route_of(&self, path: &str) -> usize {
        let last = self.routes.len() - 1;
        // Most requests name a fixed path exactly: a string comparison.
        if let Some(exact) = self.routes[..last]
            .iter()
            .position(|route| !route.has_params && route.label == path)
        {
            return exact;
        }
        self.routes[..last]
            .iter()
            .position(|route| crate::openapi::matches(&route.segments, path))
            .unwrap_or(last)
    }

    /// Counts a request as in flight until the returned guard is given to
    /// [`InFlight::finish`] (or dropped, when the connection went away).
    pub fn start(self: &Arc<Self>, method: &Method, path: &str) -> InFlight {
        let route = self.route_of(path);
        self.routes[route].in_flight.inc();
        let method = METHODS[..7]
            .iter()
            .position(|m| *m == method.as_str())
            .unwrap_or(7);
        InFlight {
            metrics: self.clone(),
            route,
            method,
        }
    }

    /// The handles for calls to `callee`, made once (keep them in the
    /// client).
    pub fn callee(&self, callee: &str) -> Callee {
        let with = |outcome: &'static str| {
            vec![
                ("callee", callee.to_string()),
                ("outcome", outcome.to_string()),
            ]
        };
        let named = vec![("callee", callee.to_string())];
        Callee {
            ok: self.upstream_calls.get_or_create_owned(&with("ok")),
            error: self.upstream_calls.get_or_create_owned(&with("error")),
            latency: self.upstream_latency.get_or_create_owned(&named),
            up: self.upstream_up.get_or_create_owned(&named),
        }
    }

    /// Reports the data layer's pools ([`crate::db::Database::pool_stats`])
    /// at every render.
    pub fn watch_database(&self, db: &crate::db::Database) {
        let db = db.clone();
        let connections = self.pool_connections.clone();
        let max = self.pool_max.clone();
        crate::sync::lock(&self.refresh).push(Refresh(Box::new(move || {
            for pool in db.pool_stats() {
                let label = |state: &str| {
                    vec![
                        ("pool", pool.name.to_string()),
                        ("state", state.to_string()),
                    ]
                };
                let in_use = i64::from(pool.size.saturating_sub(pool.idle));
                connections.get_or_create(&label("in_use")).set(in_use);
                connections
                    .get_or_create(&label("idle"))
                    .set(i64::from(pool.idle));
                max.get_or_create(&vec![("pool", pool.name.to_string())])
                    .set(i64::from(pool.max));
            }
        })));
    }

    /// Every series in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        for refresh in crate::sync::lock(&self.refresh).iter() {
            (refresh.0)();
        }
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A request being served (see [`Metrics::start`]).
#[derive(Debug)]
pub struct InFlight {
    metrics: Arc<Metrics>,
    route: usize,
    method: usize,
}

impl InFlight {
    /// Counts the answer: its status class and how long it took.
    pub fn finish(self, status: u16, elapsed: Duration) {
        let route = &self.metrics.routes[self.route];
        let slots = &route.methods[self.method];
        let labels = |extra: Option<&'static str>| {
            let mut labels = vec![
                ("route", route.label.clone()),
                ("method", METHODS[self.method].to_string()),
            ];
            if let Some(class) = extra {
                labels.push(("status", class.to_string()));
            }
            labels
        };
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        slots.statuses[class]
            .get_or_init(|| {
                self.metrics
                    .requests
                    .get_or_create_owned(&labels(Some(CLASSES[class])))
            })
            .inc();
        slots
            .latency
            .get_or_init(|| self.metrics.latency.get_or_create_owned(&labels(None)))
            .observe(elapsed.as_secs_f64());
        // `drop` takes the request out of flight.
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.routes[self.route].in_flight.dec();
    }
}

/// The handles for calls to one other service ([`Metrics::callee`]).
#[derive(Debug, Clone)]
pub struct Callee {
    ok: Counter,
    error: Counter,
    latency: Histogram,
    up: Gauge,
}

impl Callee {
    /// Handles that record nowhere, for a client made without metrics.
    pub fn detached() -> Callee {
        Callee {
            ok: Counter::default(),
            error: Counter::default(),
            latency: histogram(),
            up: Gauge::default(),
        }
    }

    /// Counts one call: answered (`ok`, a status below 500) or not, and
    /// how long it took.
    pub fn record(&self, ok: bool, elapsed: Duration) {
        if ok { &self.ok } else { &self.error }.inc();
        self.latency.observe(elapsed.as_secs_f64());
    }

    /// Records whether the callee's health answered (for `upstream_up`).
    pub fn set_up(&self, up: bool) {
        self.up.set(i64::from(up));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(get_thing))]
    struct Api;

    #[utoipa::path(get, path = "/things/{id}", responses((status = 200)))]
    #[allow(dead_code)]
    fn get_thing() {}

    fn metrics() -> Arc<Metrics> {
        Metrics::new(&Contract::new(
            <Api as utoipa::OpenApi>::openapi(),
            "demo",
            "1.2.3",
        ))
    }

    fn line<'a>(text: &'a str, start: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(start))
    }

    #[test]
    fn requests_count_by_template_method_and_class_never_by_raw_path() {
        let m = metrics();
        for (method, path, status) in [
            (Method::GET, "/things/1", 200),
            (Method::GET, "/things/2", 200),
            (Method::GET, "/things/3/", 404),
            (Method::POST, "/things/1", 405),
            (Method::GET, "/nowhere/7", 404),
            (Method::GET, "/", 200),
        ] {
            m.start(&method, path)
                .finish(status, Duration::from_millis(3));
        }
        let text = m.render();
        let ok = r#"http_requests_total{service="demo",route="/things/{id}",method="GET",status="2xx"} 2"#;
        assert!(text.contains(ok), "{text}");
        assert!(text.contains(r#"route="/things/{id}",method="GET",status="4xx"} 1"#));
        assert!(text.contains(r#"route="/things/{id}",method="POST",status="4xx"} 1"#));
        assert!(text.contains(r#"route="unmatched",method="GET",status="4xx"} 1"#));
        assert!(text.contains(r#"route="/",method="GET",status="2xx"} 1"#));
        assert!(!text.contains("/things/1"), "no raw path: {text}");
        let count = line(
            &text,
            r#"http_request_duration_seconds_count{service="demo",route="/things/{id}",method="GET"}"#,
        );
        assert_eq!(count.map(|l| l.rsplit(' ').next()), Some(Some("3")));
        assert!(
            text.contains(r#"le="0.005",route="/things/{id}",method="GET"} 3"#),
            "{text}"
        );
        assert!(text.contains(r#"build_info{service="demo",version="1.2.3",shared_lib_version=""#));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn in_flight_follows_requests_until_answered_or_dropped() {
        let m = metrics();
        let gauge = |m: &Metrics| {
            line(
                &m.render(),
                r#"http_requests_in_flight{service="demo",route="/things/{id}"}"#,
            )
            .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
        };
        let a = m.start(&Method::GET, "/things/1");
        let b = m.start(&Method::GET, "/things/2");
        assert_eq!(gauge(&m).as_deref(), Some("2"));
        a.finish(200, Duration::ZERO);
        drop(b);
        assert_eq!(gauge(&m).as_deref(), Some("0"));
    }

    #[test]
    fn calls_to_other_services_count_by_outcome() {
        let m = metrics();
        let users = m.callee("user-service");
        users.record(true, Duration::from_millis(1));
        users.record(false, Duration::from_secs(2));
        users.set_up(true);
        let text = m.render();
        assert!(text.contains(
            r#"upstream_requests_total{service="demo",callee="user-service",outcome="ok"} 1"#
        ));
        assert!(text.contains(r#"callee="user-service",outcome="error"} 1"#));
        assert!(text.contains(r#"upstream_up{service="demo",callee="user-service"} 1"#));
        assert!(text.contains(
            r#"upstream_request_duration_seconds_count{service="demo",callee="user-service"} 2"#
        ));
    }
}
