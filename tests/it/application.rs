//! Applications: tiers of instances, security groups, load balancers and flows, against
//! answers derived by hand; their cost; `nines check`'s audit; bad input.

use crate::common::{
    assert_close, deterministic as common_deterministic, exponential, nines, shipped, simulate,
    world,
};
use nines::engine::{Model, Scheduler};
use nines::reliability::Dynamics;
use nines::report::Report;
use nines::trial::TrialRunner;
use nines::world::{Application, ServiceKind, World};
use serde_json::{Value, json};
use std::io::Write;

/// The seed's groups: web open to the world on 80 and 443, app open to web on 8080, db
/// open to app on 3306, ssh from the operators' range.
fn seed_groups() -> Value {
    json!([
        { "name": "web", "rules": ["tcp 80 from 0.0.0.0/0", "tcp 443 from 0.0.0.0/0"] },
        { "name": "app", "rules": ["tcp 8080 from group web"] },
        { "name": "db", "rules": ["tcp 3306 from group app"] },
        { "name": "ssh-admin", "rules": ["tcp 22 from 203.0.113.0/24"] }
    ])
}

fn seed_flows() -> Value {
    json!([
        { "from": "internet", "to": "web", "protocol": "tcp", "port": 443 },
        { "from": "web", "to": "app", "protocol": "tcp", "port": 8080 },
        { "from": "app", "to": "db", "protocol": "tcp", "port": 3306 }
    ])
}

/// A tier of `count` instances in site "dc", up while `min_up` are.
fn tier(name: &str, count: u32, min_up: u32) -> Value {
    json!({ "name": name, "instances": { "dc": count },
            "groups": [name, "ssh-admin"], "min_up": min_up })
}

/// One site that never fails and has no racks, so that every instance sits on the site
/// itself and fails on its own: up 100 h, down 25 h on average (exponential), each up
/// with a = 100 / 125 = 0.8, independently of the others.
fn independent(tiers: Value, flows: Value) -> Value {
    json!({
        "name": "independent tiers",
        "datacenters": [ { "id": "dc", "region": "r" } ],
        "components": { "instance": { "fail": exponential(100.0), "repair": exponential(25.0) } },
        "services": [ { "name": "shop", "application": {
            "account": "acme", "security_groups": seed_groups(),
            "tiers": tiers, "flows": flows } } ]
    })
}

/// Availability estimate and its standard error (the trial is the unit).
fn availability(world: &World, seed: u64, trials: u64) -> (f64, f64) {
    let summary = simulate(world, seed, trials);
    let u = &summary.services[0].unavailability;
    (1.0 - u.mean(), u.std_error())
}

fn application(world: &World, service: usize) -> &Application {
    match &world.services[service].kind {
        ServiceKind::Application(app) => app,
        other => panic!("not an application: {other:?}"),
    }
}

fn shipped_world(name: &str) -> World {
    nines::scenario::load(&shipped(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn tiers_in_series_match_the_binomial_closed_form() {
    // Web 1 of 2, app 2 of 3, db 1 of 2; every instance up with a = 0.8, independently.
    // Each flow needs one healthy instance on each side, which the tiers' own needs
    // already imply, so A = Π P(Binomial(n, a) >= k):
    //   web: 1 - 0.2^2 = 0.96
    //   app: 3 × 0.8^2 × 0.2 + 0.8^3 = 0.384 + 0.512 = 0.896
    //   db:  1 - 0.2^2 = 0.96
    //   A = 0.96 × 0.896 × 0.96 = 0.8257536.
    let tiers = json!([tier("web", 2, 1), tier("app", 3, 2), tier("db", 2, 1)]);
    let w = world(independent(tiers, seed_flows()));
    let (a, se) = availability(&w, 11, 2000);
    assert_close("web 1/2, app 2/3, db 1/2", a, se, 0.96 * 0.896 * 0.96);
}

#[test]
fn a_flow_within_a_tier_needs_two_of_its_instances() {
    // As above, plus web → web on tcp 7000 (session replication), which web's group
    // admits from itself. An instance is not its own peer, so the flow needs both web
    // instances up: P(Binomial(2, 0.8) = 2) = 0.64 replaces web's 0.96.
    //   A = 0.64 × 0.896 × 0.96 = 0.55050240.
    let mut scenario = independent(
        json!([tier("web", 2, 1), tier("app", 3, 2), tier("db", 2, 1)]),
        seed_flows(),
    );
    let app = &mut scenario["services"][0]["application"];
    app["security_groups"][0]["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!("tcp 7000 from group web"));
    app["flows"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "from": "web", "to": "web", "protocol": "tcp", "port": 7000 }));
    let (a, se) = availability(&world(scenario), 12, 2000);
    assert_close("web replicating to itself", a, se, 0.64 * 0.896 * 0.96);
}

#[test]
fn a_tier_behind_a_load_balancer_needs_both() {
    // One tier, 1 of 2 instances (0.96 as above), behind a load balancer that fails
    // every 200 h on average and is repaired in 10 h: A_lb = 200 / 210. The two are
    // independent: A = A_lb × A_tier = 0.952381 × 0.96 = 0.914286.
    let mut scenario = independent(
        json!([tier("web", 2, 1)]),
        json!([{ "from": "internet", "to": "web", "protocol": "tcp", "port": 443 }]),
    );
    scenario["services"][0]["application"]["tiers"][0]["load_balancer"] =
        json!({ "fail": exponential(200.0), "repair": exponential(10.0) });
    let w = world(scenario);
    let summary = simulate(&w, 13, 2000);
    let u = &summary.services[0].unavailability;
    assert_close(
        "load balancer × tier",
        1.0 - u.mean(),
        u.std_error(),
        200.0 / 210.0 * 0.96,
    );
    // Its outages are told apart from the instances' in the causes of downtime.
    let labels = w.causes.labels();
    let lb = labels
        .iter()
        .position(|l| l == "load balancer of tier web")
        .unwrap() as u16;
    assert!(
        summary.services[0]
            .cause_hours
            .iter()
            .any(|c| c.causes == [lb] && c.hours > 0.0)
    );
}

/// Replays `trials` trials of `world`, event by event, checking after each event that
/// application `service` is up exactly when all its tiers are. Returns the events seen.
fn up_exactly_when_tiers_are(world: &World, service: usize, trials: u64) -> u64 {
    let app = application(world, service);
    let node = world.services[service].node;
    let mut dynamics = Dynamics::new(&world.structure, &[], ());
    let mut events = 0;
    for trial in 0..trials {
        let mut scheduler = Scheduler::new(world.horizon);
        dynamics.start(&mut scheduler, world.initial_state, 1, trial);
        loop {
            let tiers_up = app.tiers.iter().all(|t| dynamics.is_up(t.node));
            assert_eq!(
                dynamics.is_up(node),
                tiers_up,
                "trial {trial}, event {events}"
            );
            let Some((_, event)) = scheduler.next_event() else {
                break;
            };
            dynamics.handle(event, &mut scheduler);
            events += 1;
        }
    }
    events
}

#[test]
fn the_seed_layout_is_up_whenever_its_tiers_are() {
    // Every flow of the seed's layout is admitted for the one pair of profiles it
    // needs, and needs one healthy instance on each side, which the tiers' own minimums
    // imply: the application's state is the state of its tiers, event by event.
    let w = shipped_world("n-tier-web-app.json");
    // Stable names, the keys of the random streams.
    let shop = application(&w, 0);
    assert_eq!(
        w.structure.name(shop.tiers[0].node),
        "service:shop:tier:web"
    );
    assert_eq!(w.structure.name(shop.flows[2].node), "service:shop:flow:2");
    assert_eq!(
        w.structure.name(shop.instance_nodes[0]),
        "service:shop:tier:web:instance:us-east:0"
    );
    for service in 0..w.services.len() {
        let app = application(&w, service);
        assert!(app.flows.iter().all(|f| f.admitted_pairs == 1));
        let events = up_exactly_when_tiers_are(&w, service, 200);
        assert!(events > 10_000, "{events} events");
    }
}

#[test]
fn the_misconfigured_layout_is_never_up_because_of_its_groups() {
    // Without db's rule nothing admits app → db: the application is down for the whole
    // of every trial (unavailability exactly 1), and every second of it is blamed on
    // the misconfiguration (other causes may be down at the same time).
    let w = shipped_world("n-tier-misconfigured.json");
    let trials = 300;
    let summary = simulate(&w, 1, trials);
    let s = &summary.services[0];
    assert_eq!(s.unavailability.mean(), 1.0);
    assert_eq!(s.outages_per_year.mean(), 0.0);
    let labels = w.causes.labels();
    let misconfigured = labels
        .iter()
        .position(|l| l == "security-group misconfiguration")
        .unwrap() as u16;
    let total: f64 = s.cause_hours.iter().map(|c| c.hours).sum();
    // 300 trials × 8760 h = 2,628,000 hours down, all with the misconfiguration.
    assert!((total - trials as f64 * 8760.0).abs() < 1e-6, "{total}");
    assert!(
        s.cause_hours
            .iter()
            .all(|c| c.causes.contains(&misconfigured))
    );
    // And the report says so.
    let report = Report::new(&w, 1, &summary, None);
    let causes = &report.services[0].downtime_causes.involved;
    assert_eq!(causes[0].cause, "security-group misconfiguration");
    assert_eq!(causes[0].share, 1.0);
    assert_eq!(report.services[0].availability.mean, 0.0);
}

/// Per-trial downtime of service `name` in `world`, for trials `0..trials`.
fn downtimes(world: &World, name: &str, trials: u64) -> Vec<f64> {
    let index = world.services.iter().position(|s| s.name == name).unwrap();
    let mut runner = TrialRunner::new(world);
    (0..trials)
        .map(|t| runner.run(1, t).services[index].downtime)
        .collect()
}

#[test]
fn elastic_addresses_keep_the_availability_and_cost_transfer() {
    // The same design over elastic addresses, with app and db admitting the elastic
    // ranges instead of groups: the same components (same names, same random
    // streams), the same structure, so the same downtime in every trial — exactly.
    let private = shipped_world("n-tier-web-app.json");
    let public = shipped_world("n-tier-elastic-addresses.json");
    let (a, b) = (
        downtimes(&private, "shop", 300),
        downtimes(&public, "shop", 300),
    );
    assert_eq!(a, b);
    assert!(a.iter().any(|&d| d > 0.0));
    // Over public addresses a group source admits nothing: with the seed's group rules
    // the elastic design is never up.
    let text = std::fs::read_to_string(shipped("n-tier-elastic-addresses.json")).unwrap();
    let mut scenario: Value = serde_json::from_str(&text).unwrap();
    scenario["services"][0]["application"]["security_groups"] = seed_groups();
    let w = world(scenario);
    let app = application(&w, 0);
    assert_eq!(
        app.flows
            .iter()
            .map(|f| f.admitted_pairs)
            .collect::<Vec<_>>(),
        [1, 1, 0, 0]
    );
    assert_eq!(simulate(&w, 1, 50).services[0].unavailability.mean(), 1.0);
}

#[test]
fn cost_and_routes_of_a_fixed_design() {
    // 2 web + 1 app instances; prices set: $0.20 an instance-hour, $0.10 a GB-month,
    // $0.02 a GB of regional transfer each way; 50 GB stored.
    //   instances: 3 × 730 h × 0.20 = 438.00
    //   storage:   50 × 0.10 = 5.00
    //   web → app over public addresses, 40 GB: 40 × 2 × 0.02 = 1.60
    //   web → app over private addresses, 1000 GB: free
    //   internet → web: not priced
    //   total: 438 + 5 + 1.6 = 444.60 a month.
    let mut scenario = independent(
        json!([
            { "name": "web", "instances": { "dc": 2 }, "groups": ["web"], "min_up": 1,
              "public_addresses": "198.51.100.0/30" },
            { "name": "app", "instances": { "dc": 1 }, "groups": ["app"], "min_up": 1 }
        ]),
        json!([
            { "from": "internet", "to": "web", "protocol": "tcp", "port": 443 },
            { "from": "web", "to": "app", "protocol": "tcp", "port": 8080,
              "addressing": "public", "gb_per_month": 40 },
            { "from": "web", "to": "app", "protocol": "tcp", "port": 8080,
              "gb_per_month": 1000 }
        ]),
    );
    scenario["services"][0]["application"]["security_groups"] = json!([
        { "name": "web", "rules": ["tcp 443 from 0.0.0.0/0"] },
        { "name": "app", "rules": ["tcp 8080 from group web", "tcp 8080 from 198.51.100.0/30"] }
    ]);
    scenario["services"][0]["application"]["stored_gb"] = json!(50);
    scenario["prices"] = json!({ "instance_hour": 0.2, "storage_gb_month": 0.1,
                                 "regional_transfer_gb": 0.02 });
    let w = world(scenario);
    let report = Report::new(&w, 1, &simulate(&w, 1, 10), None);
    let a = report.services[0].application.as_ref().unwrap();
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    assert!(close(a.monthly_instance_cost, 438.0), "{a:?}");
    assert!(close(a.monthly_storage_cost, 5.0), "{a:?}");
    assert!(close(a.monthly_transfer_cost, 1.6), "{a:?}");
    assert!(close(a.monthly_cost, 444.6), "{a:?}");
    let transfer: Vec<f64> = a.flows.iter().map(|f| f.monthly_transfer_cost).collect();
    assert!(close(transfer[0], 0.0) && close(transfer[1], 1.6) && close(transfer[2], 0.0));
    // Typical routes (the 2008 measurements): public 1.5 ms and 12 hops, private 0.3
    // ms and 3; none from the internet.
    let routes: Vec<_> = a
        .flows
        .iter()
        .map(|f| (f.addressing, f.typical_round_trip_ms, f.typical_hops))
        .collect();
    assert_eq!(
        routes,
        [
            ("public", None, None),
            ("public", Some(1.5), Some(12)),
            ("private", Some(0.3), Some(3)),
        ]
    );
    // The JSON report carries the block; a storage or compute service has none.
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["services"][0]["application"]["monthly_cost"], 444.6);
    assert!(report.to_table().contains("cost a month          $444.60"));
}

#[test]
fn the_shipped_designs_cost_what_the_2008_prices_say() {
    // At $0.10 an instance-hour and $0.01 a GB each way:
    //   two sites, 4 + 4 + 2 = 10 instances: 10 × 730 × 0.10 = $730.00;
    //   three sites, 6 + 6 + 3 = 15 instances: 15 × 730 × 0.10 = $1,095.00;
    //   two sites over elastic addresses: 730 + (200 + 100) GB × 2 × 0.01 = $736.00.
    let cost = |name: &str, service: usize| {
        application(&shipped_world(name), service)
            .monthly_cost()
            .total
    };
    assert!((cost("n-tier-web-app.json", 0) - 730.0).abs() < 1e-9);
    assert!((cost("n-tier-web-app.json", 1) - 1095.0).abs() < 1e-9);
    assert!((cost("n-tier-elastic-addresses.json", 0) - 736.0).abs() < 1e-9);
}

#[test]
fn check_prints_the_misconfiguration_and_still_passes() {
    let out = nines()
        .arg("check")
        .arg(shipped("n-tier-misconfigured.json"))
        .output()
        .unwrap();
    // A valid scenario with a security error: exit 0, the error printed prominently,
    // naming the flow and the groups that admit nothing.
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "ERROR    -                           flow 3 (app → db, tcp 3306) is admitted for no \
             pair of instances: the application can never be up"
        ),
        "{text}"
    );
    assert!(
        text.contains("NEVER UP: no rule of tier db's groups (db, ssh-admin) admits it from app"),
        "{text}"
    );
    assert!(
        text.contains("SECURITY ERRORS: 1 in application \"shop\""),
        "{text}"
    );
    // The sound layout has notes, and no error.
    let out = nines()
        .arg("check")
        .arg(shipped("n-tier-web-app.json"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("security audit: 0 error(s), 0 warning(s), 2 note(s)"));
    assert!(!text.contains("ERROR"), "{text}");
}

/// `nines check` on a variant of the misconfigured scenario: (exit code, stderr).
fn check_variant(edit: impl FnOnce(&mut Value)) -> (Option<i32>, String) {
    let text = std::fs::read_to_string(shipped("n-tier-misconfigured.json")).unwrap();
    let mut scenario: Value = serde_json::from_str(&text).unwrap();
    edit(&mut scenario);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(scenario.to_string().as_bytes()).unwrap();
    let out = nines().arg("check").arg(file.path()).output().unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_applications_name_the_field_and_exit_2() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|s| s["services"][0]["application"]["tiers"][1]["groups"][1] = json!("ssh")),
            "`services[0].application.tiers[1].groups[1]`",
            "unknown security group `ssh` (known: app, db, default, ssh-admin, web)",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["security_groups"][1]["rules"][0] =
                    json!("tcp 8080 form group web")
            }),
            "`services[0].application.security_groups[1].rules[0]`",
            "expected \"from\"",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["security_groups"][2]["rules"] =
                    json!(["tcp 3306 from group ap"])
            }),
            "`services[0].application.security_groups[2].rules[0]`",
            "unknown security group `ap`",
        ),
        (
            Box::new(|s| s["services"][0]["application"]["flows"][2]["to"] = json!("cache")),
            "`services[0].application.flows[2].to`",
            "unknown tier `cache` (known: app, db, web)",
        ),
        (
            Box::new(|s| s["services"][0]["application"]["flows"][0]["from"] = json!("clients")),
            "`services[0].application.flows[0].from`",
            "or `internet`",
        ),
        (
            Box::new(|s| s["services"][0]["application"]["tiers"][0]["colour"] = json!("red")),
            "services[0].application.tiers[0]",
            "unknown field `colour`",
        ),
        (
            Box::new(|s| s["services"][0]["application"]["tiers"][2]["min_up"] = json!(3)),
            "`services[0].application.tiers[2].min_up`",
            "between 1 and the number of instances (2)",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["flows"][0]["addressing"] = json!("private")
            }),
            "`services[0].application.flows[0].addressing`",
            "arrives at public addresses",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["tiers"][0]["autoscaling"] =
                    json!({ "launch_delay": "0 s" })
            }),
            "`services[0].application.tiers[0].autoscaling.launch_delay`",
            "must be more than 0",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["tiers"][0]["autoscaling"] =
                    json!({ "launch_delay": "5 min", "cooldown": "1 h" })
            }),
            "services[0].application.tiers[0].autoscaling",
            "unknown field `cooldown`",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["tiers"][0]["autoscaling"] =
                    json!({ "launch_delay": "5 min", "detection": "soon" })
            }),
            "`services[0].application.tiers[0].autoscaling.detection`",
            "",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["tiers"][0]["load_balancer"] = json!({
                    "fail": exponential(200.0), "repair": exponential(1.0),
                    "health_check": "0 s" })
            }),
            "`services[0].application.tiers[0].load_balancer.health_check`",
            "must be a duration more than 0",
        ),
        (
            Box::new(|s| {
                s["services"][0]["application"]["tiers"][0]["load_balancer"] = json!({
                    "fail": exponential(200.0), "repair": exponential(1.0),
                    "health_checks": "30 s" })
            }),
            "services[0].application.tiers[0].load_balancer",
            "unknown field `health_checks`",
        ),
        (
            Box::new(|s| s["prices"] = json!({ "instance_hour": -1 })),
            "`prices.instance_hour`",
            "must be an amount",
        ),
    ];
    for (edit, path, reason) in cases {
        let (code, stderr) = check_variant(edit);
        assert_eq!(code, Some(2), "{path}: {stderr}");
        assert!(stderr.contains(path), "expected {path} in: {stderr}");
        assert!(stderr.contains(reason), "expected {reason} in: {stderr}");
    }
}

/// One tier of one instance (min_up 1) on a site that never fails and has no racks:
/// the instance fails after Exp(mean 100 h) and its own repair is slow, Exp(mean
/// 2000 h); a 100-year horizon, so that the start (steady state, or a slot starting
/// down) weighs at most one cycle, under 6 h in 876,000 h: well under a standard error.
fn one_slow_instance(autoscaling: Option<Value>) -> Value {
    let mut tier = json!({ "name": "web", "instances": { "dc": 1 },
                           "groups": ["web"], "min_up": 1 });
    if let Some(autoscaling) = autoscaling {
        tier["autoscaling"] = autoscaling;
    }
    json!({
        "name": "one slow instance",
        "horizon": "100 years",
        "datacenters": [ { "id": "dc", "region": "r" } ],
        "components": { "instance": { "fail": exponential(100.0), "repair": exponential(2000.0) } },
        "services": [ { "name": "shop", "application": {
            "account": "acme", "security_groups": seed_groups(),
            "tiers": [tier],
            "flows": [{ "from": "internet", "to": "web", "protocol": "tcp", "port": 443 }] } } ]
    })
}

#[test]
fn without_autoscaling_a_slow_repair_is_the_downtime() {
    // The tier is up while its one instance is: alternating Exp(100 h) up and
    // Exp(2000 h) down, unavailability R / (F + R) = 2000 / 2100 = 0.952381.
    let w = world(one_slow_instance(None));
    let (a, se) = availability(&w, 21, 400);
    assert_close("no autoscaling", 1.0 - a, se, 2000.0 / 2100.0);
}

#[test]
fn autoscaling_replaces_a_failed_instance_after_the_launch_delay() {
    // With auto-scaling, detection 0 and a launch delay of exactly L = 5 h: each failure
    // of the slot's incarnation is noticed at once and its replacement is up 5 h later,
    // long before the failed one's own repair (mean 2000 h; the original, once repaired,
    // is retired). The replacement is a fresh instance: its time to failure is again
    // Exp(100 h). So the slot alternates Exp(F = 100 h) up and exactly L = 5 h down, an
    // alternating renewal process: unavailability L / (F + L) = 5 / 105 = 0.047619.
    let scaling = json!({ "launch_delay": "5 h" });
    let w = world(one_slow_instance(Some(scaling)));
    let app = application(&w, 0);
    assert!(app.tiers[0].autoscaling.is_some());
    let (a, se) = availability(&w, 22, 400);
    assert_close("autoscaling, launch 5 h", 1.0 - a, se, 5.0 / 105.0);
    // A detection delay adds to each outage: D = 3 h, L = 5 h: 8 / 108 = 0.074074.
    let scaling = json!({ "launch_delay": common_deterministic(5.0), "detection": "3 h" });
    let w = world(one_slow_instance(Some(scaling)));
    let (a, se) = availability(&w, 23, 400);
    assert_close(
        "autoscaling, detect 3 h, launch 5 h",
        1.0 - a,
        se,
        8.0 / 108.0,
    );
}

#[test]
fn a_replacement_goes_to_a_live_site_and_dies_with_it() {
    // Two sites, one instance in each, both needed (min_up 2); instances never fail on
    // their own. Site "a" is down (deterministically) from 10 h to 1010 h; "b" never
    // fails. Horizon 500 h, all new. At 10 h a's instance goes down with its site; its
    // own site being down, the replacement is launched in "b" (the tier's other site)
    // and is up at 12 h: the tier is down exactly 2 h, 2 / 500 of the horizon.
    let scenario = json!({
        "name": "site outage",
        "horizon": "500 h",
        "initial_state": "all_new",
        "datacenters": [
            { "id": "a", "region": "r", "facility": { "fail": common_deterministic(10.0),
                                                       "repair": common_deterministic(1000.0) } },
            { "id": "b", "region": "r" }
        ],
        "services": [ { "name": "shop", "application": {
            "account": "acme", "security_groups": seed_groups(),
            "tiers": [{ "name": "web", "instances": { "a": 1, "b": 1 }, "groups": ["web"],
                        "min_up": 2, "autoscaling": { "launch_delay": "2 h" } }],
            "flows": [{ "from": "internet", "to": "web", "protocol": "tcp", "port": 443 }] } } ]
    });
    let w = world(scenario.clone());
    let summary = simulate(&w, 24, 3);
    let u = &summary.services[0].unavailability;
    assert!((u.mean() - 2.0 / 500.0).abs() < 1e-12, "{}", u.mean());

    // Now "b" fails too: up 20 h, down 30 h (down [20, 50) and [70, 100)); horizon
    // 100 h. Slot a: down at 10 h, replaced in "b" at 12 h; the replacement goes down
    // with "b" at 20 h; no site is up to launch in, so the group waits; at 50 h "b" and
    // the replacement come back, and the launch is called off; down again [70, 100).
    // Slot b follows its site: down [20, 50) and [70, 100). Both are needed: the tier
    // is down [10, 12), [20, 50) and [70, 100): 62 h of 100.
    let mut scenario = scenario;
    scenario["horizon"] = json!("100 h");
    scenario["datacenters"][1]["facility"] =
        json!({ "fail": common_deterministic(20.0), "repair": common_deterministic(30.0) });
    let summary = simulate(&world(scenario), 25, 3);
    let u = &summary.services[0].unavailability;
    assert!((u.mean() - 62.0 / 100.0).abs() < 1e-12, "{}", u.mean());
}

/// The requests-failed estimate of tier 0 of service 0 and the unavailability: (mean,
/// standard error) of each.
fn requests_failed(world: &World, seed: u64, trials: u64) -> ((f64, f64), (f64, f64)) {
    let summary = simulate(world, seed, trials);
    let service = &summary.services[0];
    assert_eq!(service.requests_failed.len(), 1);
    let failed = &service.requests_failed[0];
    let u = &service.unavailability;
    (
        (failed.mean(), failed.std_error()),
        (u.mean(), u.std_error()),
    )
}

/// A load balancer that never fails within any horizon here, with a health check.
fn checked_balancer(health_check: &str) -> Value {
    json!({ "fail": common_deterministic(1e9), "repair": common_deterministic(1.0),
            "health_check": health_check })
}

#[test]
fn health_checks_fail_the_requests_sent_to_unnoticed_failures() {
    // One tier of n = 2 instances (min_up 1) on a site that never fails; each instance
    // independently alternates Exp(mean F = 100 h) up and Exp(mean R = 1 h) down; the
    // load balancer never fails and its health check takes exactly h = 0.1 h.
    //
    // Requests go evenly to the instances believed healthy: those up, and those down
    // for less than h (a failure is noticed h after it; a repair is believed at once,
    // so a repair before h ends the failing at once). So the failing share is
    //   both down (the tier is down):                  1
    //   one down for less than h, the other up:        1/2
    //   otherwise:                                     0
    // and in steady state, the instances being independent alternating renewal
    // processes, exactly (no second-order terms are dropped):
    //   q  = P(down) = R / (F + R) = 1 / 101
    //   pₕ = P(down, for less than h) = E[min(D, h)] / (F + R) = R (1 - e^(-h/R)) / (F + R)
    //      = (1 - e^-0.1) / 101
    //   expected failed fraction = q² + ½ × 2 × pₕ × (1 - q)
    //      = 1/101² + (1 - e^-0.1) × 100 / 101² = 9.8030e-5 + 9.3287e-4 = 1.03090e-3.
    // The start (the simulator's initial state; a failure under way at time 0 is
    // taken as new) shifts a 10-year trial by under h × q / 87,600 h ≈ 1e-10, far
    // below the standard error (≈ 1e-6). Availability stays binary: 1 - q².
    let f: f64 = 100.0;
    let r: f64 = 1.0;
    let h: f64 = 0.1;
    let mut scenario = independent(
        json!([tier("web", 2, 1)]),
        json!([{ "from": "internet", "to": "web", "protocol": "tcp", "port": 443 }]),
    );
    scenario["horizon"] = json!("10 years");
    scenario["components"]["instance"] =
        json!({ "fail": exponential(f), "repair": exponential(r) });
    scenario["services"][0]["application"]["tiers"][0]["load_balancer"] = checked_balancer("6 min");
    let w = world(scenario);
    let check = application(&w, 0).tiers[0].health_check.as_ref().unwrap();
    assert!((check.delay - h).abs() < 1e-12);
    let ((failed, se), (unavailability, u_se)) = requests_failed(&w, 31, 300);
    let q = r / (f + r);
    let p_h = r * (1.0 - (-h / r).exp()) / (f + r);
    let exact = q * q + p_h * (1.0 - q);
    assert!((exact - 1.030_90e-3).abs() < 1e-8, "{exact}");
    assert_close("requests failed, n = 2, h = 0.1 h", failed, se, exact);
    // The availability is unchanged: the tier is down only with both instances.
    assert_close(
        "availability, n = 2",
        1.0 - unavailability,
        u_se,
        1.0 - q * q,
    );
}

#[test]
fn health_checks_with_deterministic_laws_give_exact_arithmetic() {
    // Two sites, one instance each; instances fail only with their site. All new,
    // horizon 30 h, health check 0.5 h. Site "a" is down [10, 12) and [22, 24); site
    // "b" is down [11, 14) and [25, 28).
    //   [10, 10.5)  a down, not yet noticed, b up: share 1/2        0.25
    //   [10.5, 11)  a noticed: only b gets requests, and it is up:   0
    //   [11, 12)    both down: the tier is down, share 1             1
    //   [12, 14)    a back (believed at once), b noticed at 11.5:    0
    //   [22, 22.5)  a down, not yet noticed: 1/2                     0.25
    //   [25, 25.5)  b down, not yet noticed: 1/2                     0.25
    // 1.75 request-hours of 30: 0.058333...; the tier is down 1 h of 30.
    let scenario = json!({
        "name": "health checks",
        "horizon": "30 h",
        "initial_state": "all_new",
        "datacenters": [
            { "id": "a", "region": "r", "facility": { "fail": common_deterministic(10.0),
                                                       "repair": common_deterministic(2.0) } },
            { "id": "b", "region": "r", "facility": { "fail": common_deterministic(11.0),
                                                       "repair": common_deterministic(3.0) } }
        ],
        "services": [ { "name": "shop", "application": {
            "account": "acme", "security_groups": seed_groups(),
            "tiers": [{ "name": "web", "instances": { "a": 1, "b": 1 }, "groups": ["web"],
                        "min_up": 1, "load_balancer": checked_balancer("30 min") }],
            "flows": [{ "from": "internet", "to": "web", "protocol": "tcp", "port": 443 }] } } ]
    });
    let w = world(scenario.clone());
    let ((failed, _), (unavailability, _)) = requests_failed(&w, 32, 3);
    assert!((failed - 1.75 / 30.0).abs() < 1e-12, "{failed}");
    assert!(
        (unavailability - 1.0 / 30.0).abs() < 1e-12,
        "{unavailability}"
    );

    // The report carries it, in JSON and in the table.
    let report = Report::new(&w, 1, &simulate(&w, 1, 3), None);
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    let tier = &json["services"][0]["application"]["tiers"][0];
    assert!((tier["requests_failed"]["mean"].as_f64().unwrap() - 1.75 / 30.0).abs() < 1e-12);
    assert!((tier["health_check_hours"].as_f64().unwrap() - 0.5).abs() < 1e-12);
    assert!(
        report.to_table().contains("requests failed 5.8333 %"),
        "{}",
        report.to_table()
    );

    // With auto-scaling the checks watch the slots: the same, as long as the
    // replacements are slower than the sites' repairs (launch delay 5 h).
    let mut scaled = scenario;
    scaled["services"][0]["application"]["tiers"][0]["autoscaling"] =
        json!({ "launch_delay": "5 h" });
    let ((failed, _), _) = requests_failed(&world(scaled), 33, 2);
    assert!((failed - 1.75 / 30.0).abs() < 1e-12, "{failed}");
}
