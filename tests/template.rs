//! template.yaml and its nested stacks (functions/<context>/template.yaml) are the one
//! description of the system: these tests keep it matched to the code, to the API document, and
//! to the platform's rules (least privilege, DLQs, partial failures). They read the stacks as the
//! local stack does: one template, each nested stack's parameters read as what the root passes.

use std::collections::BTreeSet;

use ates_local::scheduler::Expression;
use ates_tests::{function_specs, functions, property, references, root, routes, template, yaml};
use serde_json::json;

/// The bounded context a logical id belongs to, by its prefix.
fn context(id: &str) -> &str {
    [
        "Auth",
        "Tasks",
        "Accounting",
        "Analytics",
        "Clock",
        "Notifications",
        "Hiring",
        "Orders",
        "Calculator",
        "Supplies",
        "Matching",
        "Payments",
        "Reports",
        "Billing",
        "Bidding",
    ]
    .into_iter()
    .find(|c| id.starts_with(c))
    .unwrap_or("Platform")
}

#[test]
fn every_function_in_the_template_has_a_binary_and_every_binary_a_function() {
    let t = template();
    let in_template: BTreeSet<String> = functions(&t)
        .map(|f| f.binary().unwrap_or_default().to_owned())
        .collect();
    let mut binaries = BTreeSet::new();
    for context in std::fs::read_dir(root().join("functions")).unwrap() {
        let bin = context.unwrap().path().join("src/bin");
        for file in std::fs::read_dir(&bin).into_iter().flatten() {
            let name = file.unwrap().file_name().into_string().unwrap();
            binaries.insert(name.trim_end_matches(".rs").to_owned());
        }
    }
    assert!(
        !in_template.contains(""),
        "every function names its binary in Metadata.BuildProperties.Binary"
    );
    assert_eq!(in_template, binaries);
}

#[test]
fn functions_are_built_with_cargo_lambda_for_the_architecture_parameter() {
    let t = template();
    assert_eq!(t.parameters["Architecture"], json!("x86_64"));
    for f in functions(&t) {
        // The nested stack's Globals, its Architecture the root's parameter passed down.
        assert_eq!(
            *property(&f.properties, "Architectures"),
            json!([{"Ref": "Architecture"}]),
            "{}",
            f.logical_id
        );
        assert_eq!(
            property(&f.metadata, "BuildMethod").as_str(),
            Some("rust-cargolambda"),
            "{}",
            f.logical_id
        );
    }
}

#[test]
fn the_api_document_and_the_template_describe_the_same_routes() {
    let api = yaml("openapi.yaml");
    let mut documented = Vec::new();
    for (path, operations) in api["paths"].as_mapping().unwrap() {
        for (method, operation) in operations.as_mapping().unwrap() {
            // API Gateway admits a token with any one of a route's scopes; OpenAPI says "any
            // one of" with one security requirement per scope (the scopes of one requirement
            // are all needed).
            let requirements = operation["security"].as_sequence().cloned();
            let scopes: Vec<String> = requirements
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    let scopes = r["ates_jwt"]
                        .as_sequence()
                        .expect("an ates_jwt requirement");
                    assert_eq!(
                        scopes.len(),
                        1,
                        "{method:?} {path:?}: one scope a requirement"
                    );
                    scopes[0].as_str().expect("a scope").to_owned()
                })
                .collect();
            documented.push((
                method.as_str().unwrap().to_uppercase(),
                path.as_str().unwrap().to_owned(),
                scopes,
            ));
        }
    }
    documented.sort();
    assert_eq!(documented, routes(&template()));
}

#[test]
fn every_signed_in_route_names_the_scopes_it_needs() {
    let t = template();
    let mut signed_in = 0;
    for spec in function_specs(&t) {
        for route in &spec.routes {
            if let ates_tests::RouteAuth::Jwt { authorizer, scopes } = &route.auth {
                assert_eq!(authorizer, "HttpApiAuthorizer", "{}", route.event_name);
                assert!(!scopes.is_empty(), "{}", route.event_name);
                signed_in += 1;
            }
        }
    }
    assert!(signed_in >= 20, "{signed_in} signed-in routes");
    for route in t.of_kind("AWS::ApiGatewayV2::Route") {
        let p = &route.properties;
        match property(p, "AuthorizationType").as_str() {
            Some("JWT") => assert!(
                property(p, "AuthorizationScopes")
                    .as_array()
                    .is_some_and(|s| !s.is_empty()),
                "{}",
                route.logical_id
            ),
            Some("NONE") => {}
            other => panic!("{}: AuthorizationType {other:?}", route.logical_id),
        }
    }
}

/// Each context is one nested stack of the root (issue #20): its functions, table, queues,
/// rules and alarms live there; the root keeps only what the contexts share.
#[test]
fn each_context_is_a_nested_stack_and_the_root_holds_only_what_they_share() {
    let t = template();
    let stacks: BTreeSet<(String, String)> = t
        .stacks
        .iter()
        .map(|s| {
            let path = s.path.strip_prefix(root()).unwrap_or(&s.path);
            let path = path.to_string_lossy().trim_start_matches("./").to_owned();
            (s.logical_id.clone(), path)
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        "auth",
        "tasks",
        "clock",
        "accounting",
        "notifications",
        "analytics",
        "hiring",
        "orders",
        "calculator",
        "supplies",
        "matching",
        "payments",
        "reports",
        "billing",
        "bidding",
    ]
    .iter()
    .map(|c| {
        let id = format!("{}{}Stack", c[..1].to_uppercase(), &c[1..]);
        (id, format!("functions/{c}/template.yaml"))
    })
    .collect();
    assert_eq!(stacks, expected);
    for r in t.resources.values() {
        let kind = r.kind.as_str();
        // A log group or an alarm is its context's, or the root's (the API's).
        if ["AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm"].contains(&kind) {
            let owner = Some(context(&r.logical_id))
                .filter(|c| *c != "Platform")
                .map(|c| format!("{c}Stack"));
            assert_eq!(r.stack, owner, "{} ({kind})", r.logical_id);
            continue;
        }
        let per_context = [
            "AWS::Serverless::Function",
            "AWS::DynamoDB::Table",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "AWS::Events::Rule",
            "AWS::ApiGatewayV2::Route",
            "AWS::ApiGatewayV2::Integration",
            "AWS::Lambda::Permission",
        ]
        .contains(&kind)
            // A context's own bucket (reports' images); the web app's is the root's.
            || (kind.starts_with("AWS::S3::") && context(&r.logical_id) != "Platform");
        if per_context {
            assert_eq!(
                r.stack.clone(),
                Some(format!("{}Stack", context(&r.logical_id))),
                "{} ({kind}) lives in its context's stack",
                r.logical_id
            );
        } else {
            assert_eq!(
                r.stack, None,
                "{} ({kind}) is shared: the root's",
                r.logical_id
            );
        }
    }
}

/// The nested stacks' routes join the root's one API: each through an integration of its own
/// stack (Lambda proxy, payload 2.0) and a permission that lets that route alone invoke it.
#[test]
fn every_route_joins_the_one_api_through_its_integration_and_permission() {
    let t = template();
    let specs = function_specs(&t);
    let resolver = ates_local::resolve::Resolver::new(&t, &[], "http://127.0.0.1:4566");
    let mut integrations_used = BTreeSet::new();
    let mut permissions_used = BTreeSet::new();
    let routes: Vec<_> = t.of_kind("AWS::ApiGatewayV2::Route").collect();
    assert_eq!(
        routes.len(),
        ates_tests::routes(&t).len(),
        "every route is an AWS::ApiGatewayV2::Route"
    );
    for route in routes {
        let id = &route.logical_id;
        let p = &route.properties;
        assert_eq!(references(property(p, "ApiId")), ["HttpApi"], "{id}");
        if property(p, "AuthorizationType") == "JWT" {
            assert_eq!(
                references(property(p, "AuthorizerId")),
                ["HttpApiAuthorizer"],
                "{id}"
            );
        }
        let target = references(property(p, "Target"));
        assert_eq!(target.len(), 1, "{id}: {target:?}");
        let integration = &t.resources[&target[0]];
        assert_eq!(integration.stack, route.stack, "{id}");
        integrations_used.insert(integration.logical_id.clone());
        let ip = &integration.properties;
        assert_eq!(property(ip, "IntegrationType"), "AWS_PROXY", "{id}");
        assert_eq!(property(ip, "PayloadFormatVersion"), "2.0", "{id}");
        assert_eq!(references(property(ip, "ApiId")), ["HttpApi"], "{id}");
        let function = references(property(ip, "IntegrationUri")).remove(0);
        assert!(specs.iter().any(|s| s.logical_id == function), "{id}");

        let key = property(p, "RouteKey").as_str().unwrap();
        let (method, path) = key.split_once(' ').unwrap();
        let arn_path: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let source =
            format!("arn:aws:execute-api:us-east-1:123456789012:local/*/{method}{arn_path}");
        let permissions: Vec<_> = t
            .of_kind("AWS::Lambda::Permission")
            .filter(|perm| {
                resolver
                    .resolve(property(&perm.properties, "SourceArn"))
                    .is_ok_and(|arn| arn == source.as_str())
            })
            .collect();
        assert_eq!(permissions.len(), 1, "{id}: one permission for {source}");
        let perm = &permissions[0];
        assert_eq!(perm.stack, route.stack, "{id}");
        assert_eq!(
            references(property(&perm.properties, "FunctionName")),
            std::slice::from_ref(&function),
            "{id}"
        );
        assert_eq!(
            property(&perm.properties, "Principal"),
            "apigateway.amazonaws.com"
        );
        assert_eq!(
            property(&perm.properties, "Action"),
            "lambda:InvokeFunction"
        );
        permissions_used.insert(perm.logical_id.clone());
    }
    let all =
        |kind| -> BTreeSet<String> { t.of_kind(kind).map(|r| r.logical_id.clone()).collect() };
    assert_eq!(integrations_used, all("AWS::ApiGatewayV2::Integration"));
    assert_eq!(permissions_used, all("AWS::Lambda::Permission"));
}

#[test]
fn each_function_touches_only_its_own_contexts_resources() {
    let t = template();
    for f in functions(&t) {
        let mine = context(&f.logical_id);
        let used = references(property(&f.properties, "Policies"))
            .into_iter()
            .chain(references(property(&f.properties, "Environment")));
        for id in used {
            let is_resource = t.resources.contains_key(&id);
            let shared = ["EventBus", "EventArchive", "MailFrom", "HttpApi"].contains(&id.as_str());
            assert!(
                !is_resource || shared || context(&id) == mine,
                "{} ({mine}) uses {id}",
                f.logical_id
            );
            // And only its own stack's, or what the root passes down.
            if let Some(r) = t.resources.get(&id) {
                assert!(
                    r.stack == f.stack || r.stack.is_none(),
                    "{} ({:?}) uses {id} of {:?}",
                    f.logical_id,
                    f.stack,
                    r.stack
                );
            }
        }
    }
}

/// N4: a replay of the archive reaches the rules of its own context only (no other context sees
/// a replayed event). Bidding's and billing's are started by an operator alone: the function has
/// no trigger and no route (analytics' rebuild is an admin's route). Billing's reaches the three
/// rules whose facts count in revenue.
#[test]
fn a_replay_reaches_its_own_contexts_rules_only() {
    let t = template();
    let mut operators = Vec::new();
    for spec in function_specs(&t) {
        let Some(rule_arns) = spec.environment.get("REPLAY_RULE_ARNS") else {
            continue;
        };
        let id = &spec.logical_id;
        let f = &t.resources[id.as_str()];
        let rules =
            references(&property(&f.properties, "Environment")["Variables"]["REPLAY_RULE_ARNS"]);
        assert!(!rules.is_empty() && !rule_arns.is_empty(), "{id}");
        for rule in &rules {
            assert!(
                rule.starts_with(context(id)) && rule.ends_with("Rule"),
                "{id} replays into {rule}, not its own context's rule"
            );
        }
        if id.ends_with("ReplayFunction") {
            assert!(
                property(&f.properties, "Events").is_null(),
                "{id}: no trigger"
            );
            assert!(spec.routes.is_empty(), "{id}: no route");
            operators.push(id.clone());
        }
    }
    assert_eq!(
        operators,
        ["BiddingReplayFunction", "BillingReplayFunction"]
    );
    let billing = &t.resources["BillingReplayFunction"];
    assert_eq!(
        references(&property(&billing.properties, "Environment")["Variables"]["REPLAY_RULE_ARNS"]),
        [
            "BillingOrderEventsRule",
            "BillingReportEventsRule",
            "BillingPaymentEventsRule"
        ]
    );
}

/// SPEC M8 (seed 002: kept apart): bidding's table is touched by bidding's functions alone, and
/// bidding publishes nothing: no function of it may put an event on the bus, and its table has
/// no stream to relay. Its routes are for the `bets` scope, which only managers hold. Its one
/// call to the bus is an operator's replay of the archive (N4), by a function with no route
/// that touches no table.
#[test]
fn bidding_is_kept_apart_its_table_its_own_no_event_published_its_routes_for_managers_only() {
    use ates_kernel::identity::{scope, Role};
    let t = template();
    let mut bidding_functions = 0;
    for f in functions(&t) {
        let touches_bets = statements(f)
            .iter()
            .any(|s| references(&s["Resource"]).contains(&"BiddingTable".to_owned()))
            || references(property(&f.properties, "Environment"))
                .contains(&"BiddingTable".to_owned());
        let mine = context(&f.logical_id) == "Bidding";
        assert!(
            mine || !touches_bets,
            "{} is no bidding function but names bidding's table",
            f.logical_id
        );
        if !mine {
            continue;
        }
        bidding_functions += 1;
        for s in statements(f) {
            for action in strings(&s["Action"]) {
                let replays = ["events:DescribeArchive", "events:StartReplay"];
                assert!(
                    !action.starts_with("events:")
                        || (replays.contains(&action.as_str())
                            && f.logical_id == "BiddingReplayFunction"),
                    "{}: bidding publishes nothing ({action})",
                    f.logical_id
                );
            }
        }
        let events = property(&f.properties, "Events");
        assert!(
            !serde_json::to_string(events).unwrap().contains("DynamoDB"),
            "{}: no stream of bidding's table is read",
            f.logical_id
        );
    }
    assert_eq!(bidding_functions, 7, "bidding's functions were found");
    let replay = &t.resources["BiddingReplayFunction"];
    assert!(
        property(&replay.properties, "Events").is_null()
            && !serde_json::to_string(&replay.properties)
                .unwrap()
                .contains("BiddingTable"),
        "the replay has no trigger (an operator invokes it) and touches no table"
    );
    assert_eq!(
        references(&property(&replay.properties, "Environment")["Variables"]["REPLAY_RULE_ARNS"]),
        ["BiddingOrderEventsRule"],
        "replayed events reach bidding's own rule only"
    );
    let table = &t.resources["BiddingTable"];
    assert!(
        property(&table.properties, "StreamSpecification").is_null(),
        "bidding's table has no stream: it has no outbox"
    );
    let bets_routes: Vec<_> = routes(&t)
        .into_iter()
        .filter(|(_, path, _)| path == "/bets" || path.starts_with("/bets/"))
        .collect();
    assert_eq!(bets_routes.len(), 4, "{bets_routes:?}");
    for (method, path, scopes) in &bets_routes {
        assert_eq!(scopes, &[scope::BETS.to_owned()], "{method} {path}");
    }
    for (method, path, scopes) in routes(&t) {
        if scopes.iter().any(|s| s == scope::BETS) {
            assert!(
                path.starts_with("/bets"),
                "{method} {path} is no bets route"
            );
        }
    }
    let holders: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.scopes().contains(&scope::BETS))
        .collect();
    assert_eq!(
        holders,
        [Role::Manager],
        "only managers hold the bets scope"
    );
}

#[test]
fn every_consumer_reports_partial_failures_parks_poison_and_every_queue_ends_in_a_dead_letter_queue(
) {
    let t = template();
    for f in functions(&t) {
        for event in property(&f.properties, "Events")
            .as_object()
            .into_iter()
            .flatten()
            .map(|e| e.1)
        {
            let p = &event["Properties"];
            match event["Type"].as_str() {
                Some("SQS") => {
                    assert_eq!(
                        p["FunctionResponseTypes"][0].as_str(),
                        Some("ReportBatchItemFailures"),
                        "{}",
                        f.logical_id
                    );
                    let queue = references(&p["Queue"]).remove(0);
                    let redrive = property(&t.resources[&queue].properties, "RedrivePolicy");
                    assert!(
                        !references(&redrive["deadLetterTargetArn"]).is_empty(),
                        "{queue} has no DLQ"
                    );
                    assert!(redrive["maxReceiveCount"].as_u64().is_some(), "{queue}");
                    // Poison is parked at once, in the same dead-letter queue SQS would use.
                    let dead_letters = references(&redrive["deadLetterTargetArn"]).remove(0);
                    let variables = &property(&f.properties, "Environment")["Variables"];
                    assert_eq!(
                        references(&variables["DEAD_LETTER_QUEUE_URL"]),
                        std::slice::from_ref(&dead_letters),
                        "{} parks poison in {dead_letters}",
                        f.logical_id
                    );
                    let may_send = statements(f).iter().any(|s| {
                        s["Action"] == "sqs:SendMessage"
                            && references(&s["Resource"]) == [dead_letters.clone()]
                    });
                    assert!(may_send, "{} may send to {dead_letters}", f.logical_id);
                    // A job's pages know when their last delivery comes.
                    if let Some(count) = variables["MAX_RECEIVE_COUNT"].as_str() {
                        assert_eq!(
                            count.parse::<u64>().ok(),
                            redrive["maxReceiveCount"].as_u64(),
                            "{}: MAX_RECEIVE_COUNT is {queue}'s maxReceiveCount",
                            f.logical_id
                        );
                    }
                }
                Some("DynamoDB") if f.binary().is_some_and(|b| b.contains("-fold-")) => {
                    // A fold's markers need a failed batch retried whole from its first record
                    // until it succeeds (`ates_kernel::fold`): no partial responses, no
                    // bisection, no retry limit.
                    assert!(p["FunctionResponseTypes"].is_null(), "{}", f.logical_id);
                    assert!(
                        p["BisectBatchOnFunctionError"].is_null(),
                        "{}",
                        f.logical_id
                    );
                    assert_eq!(p["MaximumRetryAttempts"], -1, "{}", f.logical_id);
                    assert!(
                        !references(&p["DestinationConfig"]["OnFailure"]["Destination"]).is_empty(),
                        "{}",
                        f.logical_id
                    );
                }
                Some("DynamoDB") => {
                    assert_eq!(
                        p["FunctionResponseTypes"][0].as_str(),
                        Some("ReportBatchItemFailures"),
                        "{}",
                        f.logical_id
                    );
                    assert!(
                        !references(&p["DestinationConfig"]["OnFailure"]["Destination"]).is_empty(),
                        "{}",
                        f.logical_id
                    );
                }
                Some("ScheduleV2") => {
                    // Undeliverable triggers park in the schedule's queue; the function's own
                    // failures (it is invoked asynchronously) in the function's.
                    assert!(
                        !references(&p["DeadLetterConfig"]["Arn"]).is_empty(),
                        "{}",
                        f.logical_id
                    );
                    assert!(
                        !references(&property(&f.properties, "DeadLetterQueue")["TargetArn"])
                            .is_empty(),
                        "{}",
                        f.logical_id
                    );
                }
                _ => {}
            }
        }
    }
}

#[test]
fn the_business_day_ends_on_a_schedule_kept_in_the_business_time_zone() {
    let t = template();
    let schedules: Vec<(String, serde_json::Value)> = functions(&t)
        .flat_map(|f| {
            let id = f.logical_id.clone();
            property(&f.properties, "Events")
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, e)| e["Type"].as_str() == Some("ScheduleV2"))
                // Not the every-minute ones (analytics' rebuild watch).
                .filter(|(_, e)| {
                    !e["Properties"]["ScheduleExpression"]
                        .as_str()
                        .is_some_and(|x| x.starts_with("rate("))
                })
                .map(move |(_, e)| (id.clone(), e["Properties"].clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(schedules.len(), 1, "one daily schedule: {schedules:?}");
    let (function, p) = &schedules[0];
    assert_eq!(function, "ClockEndDayFunction");
    assert_eq!(
        references(&p["ScheduleExpressionTimezone"]),
        ["BusinessTimeZone"]
    );
    assert_eq!(
        p["ScheduleExpression"]["Fn::Sub"][0],
        json!("cron(0 ${BusinessDayEndHour} * * ? *)")
    );
    assert_eq!(
        references(&p["ScheduleExpression"]),
        ["BusinessDayEndHour"],
        "the root's parameter, passed down"
    );
    let input = p["Input"].as_str().unwrap();
    let input: serde_json::Value = serde_json::from_str(input).unwrap();
    assert_eq!(input["scheduled_time"], "<aws.scheduler.scheduled-time>");

    // Resolved with the parameters' defaults, the local stack can run it: a daily cron, in a
    // time zone it knows.
    let spec = function_specs(&t)
        .into_iter()
        .find(|s| &s.logical_id == function)
        .unwrap();
    let schedule = &spec.schedules[0];
    let hour = t.parameters["BusinessDayEndHour"].to_string();
    assert_eq!(
        schedule.expression,
        format!("cron(0 {} * * ? *)", hour.trim_matches('"'))
    );
    assert!(
        matches!(
            Expression::parse(&schedule.expression),
            Ok(Expression::Cron(_))
        ),
        "{}",
        schedule.expression
    );
    assert_eq!(
        schedule.timezone.as_ref(),
        t.parameters["BusinessTimeZone"]
            .as_str()
            .map(str::to_owned)
            .as_ref()
    );
    assert_eq!(
        schedule
            .retry_policy
            .as_ref()
            .map(|r| r.maximum_retry_attempts),
        Some(10)
    );
}

/// Whether a context's code writes outbox records (`functions/<context>/src`).
fn writes_an_outbox(table: &str) -> bool {
    let context = table.trim_end_matches("Table").to_lowercase();
    let mut pending = vec![root().join("functions").join(context).join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|code| code.contains("outbox::")) {
                return true;
            }
        }
    }
    false
}

#[test]
fn every_table_with_an_outbox_has_a_stream_relayed_to_the_bus() {
    let t = template();
    let relayed: BTreeSet<String> = functions(&t)
        .filter(|f| f.binary().is_some_and(|b| b.ends_with("-outbox-relay")))
        .flat_map(|f| references(property(&f.properties, "Events")))
        .collect();
    for table in t.of_kind("AWS::DynamoDB::Table") {
        let id = &table.logical_id;
        let stream = &property(&table.properties, "StreamSpecification")["StreamViewType"];
        if !writes_an_outbox(id) {
            // A context that publishes nothing (notifications) needs no relay; a stream, if
            // it has one, feeds a fold (analytics).
            continue;
        }
        assert_eq!(stream.as_str(), Some("NEW_IMAGE"), "{id}");
        assert!(relayed.contains(id), "{id} has no outbox relay");
    }
}

/// Security: an event the bus cannot hand to its queue is retried and then parked,
/// not dropped; and a message parked anywhere is noticed.
#[test]
fn every_rule_target_retries_then_parks_and_every_dead_letter_queue_alarms() {
    let t = template();
    let mut rules = 0;
    for rule in t.of_kind("AWS::Events::Rule") {
        for target in property(&rule.properties, "Targets").as_array().unwrap() {
            let id = &rule.logical_id;
            assert!(
                target["RetryPolicy"]["MaximumRetryAttempts"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0,
                "{id}: a target retries"
            );
            let dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: a target parks what it cannot deliver"));
            assert_eq!(t.resources[dlq].kind, "AWS::SQS::Queue", "{id}");
            // The dead-letter queue lets this rule (and only it) send to it.
            let allowed = t.of_kind("AWS::SQS::QueuePolicy").any(|p| {
                let doc = serde_json::to_string(&p.properties["PolicyDocument"]).unwrap();
                doc.contains(&format!("\"{dlq}\"")) && doc.contains(&format!("\"{id}\""))
            });
            assert!(allowed, "{id}: {dlq} accepts the rule's dead letters");
            rules += 1;
        }
    }
    assert!(rules >= 10, "{rules} rule targets");
    for dlq in t
        .of_kind("AWS::SQS::Queue")
        .filter(|q| q.logical_id.ends_with("DeadLetters"))
    {
        let alarmed = t.of_kind("AWS::CloudWatch::Alarm").any(|a| {
            let p = &a.properties;
            property(p, "Dimensions")[0]["Value"]["Fn::GetAtt"][0] == dlq.logical_id.as_str()
                && property(p, "MetricName") == "ApproximateNumberOfMessagesVisible"
                && property(p, "Threshold") == 0
        });
        assert!(alarmed, "{} has an alarm", dlq.logical_id);
    }
}

/// Security: no throttling and no reserved concurrency anywhere.
#[test]
fn the_api_is_throttled_per_route_and_sign_in_cannot_take_every_instance() {
    let t = template();
    let stage = the_one(&t, "AWS::ApiGatewayV2::Stage");
    assert_eq!(
        references(property(&stage.properties, "ApiId")),
        ["HttpApi"]
    );
    let api = &stage.properties;
    let default = &api["DefaultRouteSettings"];
    assert!(
        default["ThrottlingRateLimit"].as_f64().unwrap_or(0.0) > 0.0,
        "{default}"
    );
    let default_rate = default["ThrottlingRateLimit"].as_f64().unwrap();
    for (method, path, scopes) in routes(&t) {
        if !scopes.is_empty() || !path.starts_with("/auth/") || method != "POST" {
            continue;
        }
        if path == "/auth/sign-out" {
            continue; // revokes; no hash, no mail
        }
        let route = &api["RouteSettings"][format!("{method} {path}")];
        let rate = route["ThrottlingRateLimit"].as_f64();
        assert!(
            rate.is_some_and(|r| r < default_rate),
            "{method} {path} is throttled harder than the rest: {route}"
        );
    }
    // Hiring's public form: the one write without a token.
    let apply = &api["RouteSettings"]["POST /hiring/applications"];
    assert!(
        apply["ThrottlingRateLimit"]
            .as_f64()
            .is_some_and(|r| r < default_rate),
        "POST /hiring/applications is throttled harder than the rest: {apply}"
    );
    // Reserved where the deployer says so (a new account's quota has none to spare), as the
    // local stack does: then each sign-in function has a bounded share.
    let reserving = ates_local::resolve::Resolver::new(
        &t,
        &[("SignInReservedConcurrency", "10")],
        "http://127.0.0.1:4566",
    );
    let by_default = ates_local::resolve::Resolver::new(&t, &[], "http://127.0.0.1:4566");
    for f in [
        "HiringApplyFunction",
        "AuthSignInFunction",
        "AuthRequestCodeFunction",
        "AuthSignInWithCodeFunction",
    ] {
        let properties = serde_json::Value::Object(t.resources[f].properties.clone());
        let reserved = reserving.resolve(&properties).unwrap()["ReservedConcurrentExecutions"]
            .as_str()
            .and_then(|r| r.parse::<u64>().ok());
        assert_eq!(reserved, Some(10), "{f}");
        assert!(
            by_default.resolve(&properties).unwrap()["ReservedConcurrentExecutions"].is_null(),
            "{f}: none reserved by default"
        );
    }
    assert_eq!(t.parameters["SignInReservedConcurrency"], json!(0));
}

// --- The web app and the API behind one CloudFront distribution.

/// The template's one resource of `kind`.
fn the_one<'a>(t: &'a ates_tests::Template, kind: &'a str) -> &'a ates_tests::Resource {
    let all: Vec<_> = t.of_kind(kind).collect();
    assert_eq!(all.len(), 1, "one {kind}");
    all[0]
}

/// A CloudFront path pattern against a path: `*` is any characters, `?` one; case matters.
fn cloudfront_matches(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(star) = star {
            pi = star + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The origin id the distribution sends `path` to: the first cache behaviour whose pattern
/// matches (CloudFront's order), else the default behaviour's.
fn origin_of(config: &serde_json::Value, path: &str) -> String {
    let behaviours = config["CacheBehaviors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    behaviours
        .iter()
        .find(|b| cloudfront_matches(b["PathPattern"].as_str().unwrap(), path))
        .unwrap_or(&config["DefaultCacheBehavior"])["TargetOriginId"]
        .as_str()
        .unwrap()
        .to_owned()
}

const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

#[test]
fn cloudfront_path_patterns_match_as_cloudfront_does() {
    assert!(cloudfront_matches("/tasks*", "/tasks"));
    assert!(cloudfront_matches("/tasks*", "/tasks/x/complete"));
    assert!(cloudfront_matches("/auth/*", "/auth/sign-in/code"));
    assert!(!cloudfront_matches("/auth/*", "/auth"));
    assert!(!cloudfront_matches("/accounting/*", "/accounts"));
    assert!(cloudfront_matches("/a?c", "/abc"));
    assert!(!cloudfront_matches("/Tasks*", "/tasks"));
}

#[test]
fn the_web_app_is_a_private_bucket_that_only_the_distribution_reads() {
    let t = template();
    let bucket = &t.resources["WebBucket"];
    let block = property(&bucket.properties, "PublicAccessBlockConfiguration");
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting], json!(true), "{setting}");
    }
    let distribution = the_one(&t, "AWS::CloudFront::Distribution");
    let policy = &t.resources["WebBucketPolicy"];
    assert_eq!(
        references(property(&policy.properties, "Bucket")),
        std::slice::from_ref(&bucket.logical_id)
    );
    let statements = property(&policy.properties, "PolicyDocument")["Statement"]
        .as_array()
        .unwrap();
    let allowed: Vec<_> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allowed.len(), 1, "one reader: {allowed:?}");
    assert_eq!(
        allowed[0]["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"})
    );
    assert_eq!(allowed[0]["Action"], "s3:GetObject");
    assert!(
        references(&allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
            .contains(&distribution.logical_id),
        "only this distribution reads the bucket"
    );

    // The default behaviour reads the bucket, signed with origin access control.
    let config = property(&distribution.properties, "DistributionConfig");
    assert_eq!(config["DefaultRootObject"], "index.html");
    let default = &config["DefaultCacheBehavior"];
    assert_eq!(default["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(default["AllowedMethods"], json!(["GET", "HEAD"]));
    assert_eq!(default["CachePolicyId"], CACHING_OPTIMIZED);
    let origin = config["Origins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["Id"] == default["TargetOriginId"])
        .expect("the default behaviour's origin");
    assert_eq!(
        references(&origin["DomainName"]),
        std::slice::from_ref(&bucket.logical_id)
    );
    assert_eq!(origin["S3OriginConfig"]["OriginAccessIdentity"], "");
    let control = references(&origin["OriginAccessControlId"]).remove(0);
    let control = property(
        &t.resources[&control].properties,
        "OriginAccessControlConfig",
    );
    assert_eq!(control["OriginAccessControlOriginType"], "s3");
    assert_eq!(control["SigningBehavior"], "always");
}

#[test]
fn every_route_is_behind_an_api_path_of_the_distribution_and_no_file_of_the_web_app_is() {
    let t = template();
    let distribution = the_one(&t, "AWS::CloudFront::Distribution");
    let config = property(&distribution.properties, "DistributionConfig");
    let api_origins: BTreeSet<String> = config["Origins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| references(&o["DomainName"]).contains(&"HttpApi".to_owned()))
        .map(|o| o["Id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(api_origins.len(), 1, "the HTTP API is one origin");
    for behaviour in config["CacheBehaviors"].as_array().unwrap() {
        let pattern = behaviour["PathPattern"].as_str().unwrap();
        if !api_origins.contains(behaviour["TargetOriginId"].as_str().unwrap()) {
            continue;
        }
        // Never cached; every viewer header but Host (so Authorization) reaches the API.
        assert_eq!(behaviour["CachePolicyId"], CACHING_DISABLED, "{pattern}");
        assert_eq!(
            behaviour["OriginRequestPolicyId"], ALL_VIEWER_EXCEPT_HOST_HEADER,
            "{pattern}"
        );
        assert_eq!(behaviour["ViewerProtocolPolicy"], "https-only", "{pattern}");
        assert_eq!(
            behaviour["AllowedMethods"].as_array().map(Vec::len),
            Some(7),
            "{pattern}: every method"
        );
    }

    // A route's path with its parameters filled in, as a request would have it.
    let sample = |path: &str| {
        path.split('/')
            .map(|s| match s.starts_with('{') {
                true if s.ends_with("+}") => "a/b",
                true => "x",
                false => s,
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    for (method, path, _) in routes(&t) {
        let origin = origin_of(config, &sample(&path));
        assert!(
            api_origins.contains(&origin),
            "{method} {path} goes to {origin}, not the API: add a path pattern for it"
        );
    }

    let mut files = Vec::new();
    let mut pending = vec![root().join("web")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root().join("web")).unwrap();
                files.push(format!("/{}", relative.to_string_lossy()));
            }
        }
    }
    assert!(files.contains(&"/index.html".to_owned()), "{files:?}");
    for file in files.iter().map(String::as_str).chain(["/"]) {
        let origin = origin_of(config, file);
        assert!(
            !api_origins.contains(&origin),
            "web{file} is behind an API path: the distribution would send it to the API"
        );
    }
}

// --- Least privilege (security): the actions each function uses, spelled out.

/// Every statement of a function's policies (each policy is an inline document).
fn statements(f: &ates_tests::Resource) -> Vec<serde_json::Value> {
    property(&f.properties, "Policies")
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

/// The partitions a statement's `dynamodb:LeadingKeys` condition allows, if it has one.
fn leading_keys(statement: &serde_json::Value) -> Option<Vec<String>> {
    statement["Condition"]["ForAllValues:StringLike"]
        .get("dynamodb:LeadingKeys")
        .map(strings)
}

#[test]
fn every_function_is_granted_explicit_actions_on_named_resources_only() {
    const DYNAMODB: [&str; 8] = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchGetItem",
    ];
    const OTHERS: [&str; 13] = [
        "sqs:SendMessage",
        // A retried message's backoff (the kernel's inbox::retry_after).
        "sqs:ChangeMessageVisibility",
        "events:PutEvents",
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
        // Rebuilds by replay (N4): analytics', bidding's, billing's.
        "events:DescribeArchive",
        "events:StartReplay",
        "events:DescribeReplay",
        "sqs:GetQueueAttributes",
        // Reports' images: presigned PUTs and GETs, HeadObject (with ListBucket, so a missing
        // image is 404), and the tag that keeps a cited image.
        "s3:PutObject",
        "s3:GetObject",
        "s3:PutObjectTagging",
        "s3:ListBucket",
    ];
    let t = template();
    for f in functions(&t) {
        let id = &f.logical_id;
        for policy in property(&f.properties, "Policies")
            .as_array()
            .into_iter()
            .flatten()
        {
            let keys: Vec<&String> = policy.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                ["Statement"],
                "{id}: only inline statements, no SAM policy template (*CrudPolicy, *ReadPolicy, SESCrudPolicy, ...): {policy}"
            );
        }
        for s in statements(f) {
            assert_eq!(s["Effect"], "Allow", "{id}: {s}");
            for action in strings(&s["Action"]) {
                assert!(!action.contains('*'), "{id}: a wildcard action {action}");
                assert!(
                    DYNAMODB.contains(&action.as_str()) || OTHERS.contains(&action.as_str()),
                    "{id}: {action} is not an action any function calls"
                );
            }
            assert!(
                s.get("NotAction").is_none() && s.get("NotResource").is_none(),
                "{id}: {s}"
            );
            let resources = &s["Resource"];
            // A replay is named per rebuild: its name's prefix (the context's own) is the
            // narrowest IAM can say.
            let replays = format!(":replay/{}-*", context(id).to_lowercase());
            let named = |r: &String| !r.contains('*') || r.ends_with(&replays);
            assert!(
                strings(resources).iter().all(named) && !references(resources).is_empty(),
                "{id}: every resource is one of the template's, named: {resources}"
            );
            let actions = strings(&s["Action"]);
            if actions.iter().any(|a| a == "events:PutEvents") {
                assert!(
                    s["Condition"]["StringEquals"]["events:source"].is_string(),
                    "{id}: PutEvents only under its own source"
                );
            }
            if actions.iter().any(|a| a.starts_with("ses:")) {
                assert_eq!(actions, ["ses:SendEmail"], "{id}: SES only sends");
                let named: Vec<String> = references(resources)
                    .into_iter()
                    .filter(|r| !r.starts_with("AWS::"))
                    .collect();
                assert_eq!(named, ["MailFrom"], "{id}: from the one identity");
            }
        }
    }
}

#[test]
fn auth_functions_touch_only_the_partitions_they_use_and_the_jwks_cannot_read_the_private_key() {
    let t = template();
    let mut readers_of_the_key = BTreeSet::new();
    let mut password_readers = BTreeSet::new();
    let mut password_writers = BTreeSet::new();
    for f in functions(&t).filter(|f| f.logical_id.starts_with("Auth")) {
        let id = f.logical_id.clone();
        for s in statements(f) {
            let actions = strings(&s["Action"]);
            let on_table = references(&s["Resource"]) == ["AuthTable"];
            let on_index = on_table && s["Resource"].get("Fn::Sub").is_some();
            if on_table && !on_index {
                let keys = leading_keys(&s).unwrap_or_else(|| {
                    panic!("{id}: item actions on the auth table name their partitions: {s}")
                });
                assert!(
                    keys.iter()
                        .all(|k| k.ends_with("#*") && !k.starts_with('*')),
                    "{id}: {keys:?}"
                );
                let reads = |a: &String| a == "dynamodb:GetItem" || a == "dynamodb:BatchGetItem";
                if keys.iter().any(|k| k == "PASSWORD#*") {
                    if actions.iter().any(reads) {
                        password_readers.insert(id.clone());
                    }
                    if !actions.iter().all(reads) {
                        password_writers.insert(id.clone());
                    }
                }
            }
            if on_index {
                assert_eq!(actions, ["dynamodb:Query"], "{id}: {s}");
            }
            if references(&s["Resource"]) == ["AuthSigningKey"] {
                readers_of_the_key.insert(id.clone());
            }
        }
    }
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        readers_of_the_key,
        set(&[
            "AuthRefreshFunction",
            "AuthSignInFunction",
            "AuthSignInWithCodeFunction"
        ]),
        "only the functions that sign read the private key"
    );
    assert_eq!(password_readers, set(&["AuthSignInFunction"]));
    assert_eq!(
        password_writers,
        set(&["AuthBootstrapAdminFunction", "AuthCreateAccountFunction"])
    );
    let well_known = &t.resources["AuthWellKnownFunction"];
    let grants: Vec<Vec<String>> = statements(well_known)
        .iter()
        .map(|s| references(&s["Resource"]))
        .collect();
    assert_eq!(
        grants,
        [["AuthPublicKeys"]],
        "the JWKS function reads the public keys alone"
    );
    assert!(
        references(property(&well_known.properties, "Environment"))
            .iter()
            .all(|r| r != "AuthSigningKey"),
        "nor is it told where the private key is"
    );
}

#[test]
fn the_local_stack_enforces_every_functions_policy() {
    let t = template();
    for spec in function_specs(&t) {
        let policy = ates_local::iam::Policy::of(&spec.policies)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.logical_id));
        assert!(
            policy.is_some_and(|p| !p.is_empty()),
            "{}: its AWS calls would pass unchecked locally",
            spec.logical_id
        );
    }
}

// --- Deployable by a stranger (issue #20): two environments in one account, data that outlives
// a `sam delete`, queues that keep a message until it is parked, an issuer that must be given.

/// The property holding a resource's physical name, for every kind that has one here; a name
/// given there is the account's (and region's) once.
fn name_property(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AWS::Events::EventBus" | "AWS::Events::Rule" | "AWS::SecretsManager::Secret" => "Name",
        "AWS::ApiGatewayV2::Api" => "Name",
        "AWS::Events::Archive" => "ArchiveName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::SQS::Queue" => "QueueName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::CloudWatch::Alarm" => "AlarmName",
        "AWS::CloudWatch::Dashboard" => "DashboardName",
        "AWS::Serverless::Function" => "FunctionName",
        "AWS::S3::Bucket" => "BucketName",
        "AWS::CloudFront::OriginAccessControl" => "OriginAccessControlConfig",
        "AWS::CloudFront::ResponseHeadersPolicy" => "ResponseHeadersPolicyConfig",
        _ => return None,
    })
}

/// Whether a name is made from the stack's: `!Ref AWS::StackName` or a Sub that uses it.
fn stack_prefixed(name: &serde_json::Value) -> bool {
    references(name).iter().any(|r| r == "AWS::StackName")
}

#[test]
fn every_fixed_physical_name_starts_with_the_stacks_so_two_environments_fit_one_account() {
    let t = template();
    let mut named = Vec::new();
    for r in t.resources.values() {
        let Some(key) = name_property(&r.kind) else {
            continue;
        };
        let mut name = property(&r.properties, key);
        if key.ends_with("Config") {
            name = &name["Name"];
        }
        if name.is_null() {
            continue; // CloudFormation names it after the stack
        }
        assert!(
            stack_prefixed(name),
            "{} ({}) is named {name}: the same in every stack",
            r.logical_id,
            r.kind
        );
        named.push(r.logical_id.clone());
    }
    for expected in [
        "EventBus",
        "EventArchive",
        "AuthSigningKey",
        "AuthPublicKeys",
    ] {
        assert!(
            named.contains(&expected.to_owned()),
            "{expected}: {named:?}"
        );
    }
    // SAM names a ScheduleV2 after its function and event alone, unless told.
    for f in functions(&t) {
        for (event, body) in property(&f.properties, "Events")
            .as_object()
            .into_iter()
            .flatten()
        {
            if body["Type"] == "ScheduleV2" {
                assert!(
                    stack_prefixed(&body["Properties"]["Name"]),
                    "{}'s schedule {event}",
                    f.logical_id
                );
            }
        }
    }
    // An SES identity is the account's: a stack makes it only where told to.
    for identity in t.of_kind("AWS::SES::EmailIdentity") {
        let condition = identity
            .attributes
            .get("Condition")
            .and_then(|c| c.as_str());
        assert_eq!(
            condition,
            Some("OwnsMailIdentity"),
            "{}",
            identity.logical_id
        );
    }
}

#[test]
fn every_table_and_secret_outlives_its_stack() {
    let t = template();
    let mut kept = 0;
    for r in t.resources.values().filter(|r| {
        ["AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"].contains(&r.kind.as_str())
    }) {
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            assert_eq!(
                r.attributes.get(policy),
                Some(&json!("Retain")),
                "{} ({}): {policy}",
                r.logical_id,
                r.kind
            );
        }
        kept += 1;
    }
    assert!(kept >= 7, "{kept} tables and secrets");
}

/// SQS keeps a message for its queue's MessageRetentionPeriod counted from when it was first
/// sent, in the dead-letter queue too: a queue must keep it for longer than its retries take,
/// and its dead-letter queue longer still, or a failing message expires instead of being parked.
#[test]
fn every_queue_keeps_a_message_longer_than_its_retries_and_its_dead_letters_longer_still() {
    let t = template();
    let seconds = |q: &ates_tests::Resource, key: &str, default: u64| {
        let v = property(&q.properties, key);
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(default)
    };
    const SQS_DEFAULT_RETENTION: u64 = 4 * 24 * 3600;
    const FOURTEEN_DAYS: u64 = 14 * 24 * 3600;
    let mut redriven = 0;
    for queue in t.of_kind("AWS::SQS::Queue") {
        let id = &queue.logical_id;
        let retention = seconds(queue, "MessageRetentionPeriod", SQS_DEFAULT_RETENTION);
        if id.ends_with("DeadLetters") {
            assert_eq!(retention, FOURTEEN_DAYS, "{id}: the longest SQS keeps");
            continue;
        }
        let redrive = property(&queue.properties, "RedrivePolicy");
        let receives = redrive["maxReceiveCount"]
            .as_u64()
            .expect("every queue ends in a DLQ");
        let visibility = seconds(queue, "VisibilityTimeout", 30);
        assert!(
            retention >= visibility * receives,
            "{id} keeps a message {retention} s, its retries take {visibility} x {receives} s"
        );
        let dead_letters = &t.resources[&references(&redrive["deadLetterTargetArn"])[0]];
        assert!(
            seconds(
                dead_letters,
                "MessageRetentionPeriod",
                SQS_DEFAULT_RETENTION
            ) > retention,
            "{id}: its dead-letter queue keeps a message longer than it does"
        );
        redriven += 1;
    }
    assert!(redriven >= 10, "{redriven} queues with a dead-letter queue");
}

#[test]
fn the_issuer_must_be_given_and_be_https() {
    let root = yaml("template.yaml");
    let issuer = &root["Parameters"]["IssuerUrl"];
    assert!(
        issuer.get("Default").is_none(),
        "no default: a token's issuer is the address the deployer's users use"
    );
    let pattern = issuer["AllowedPattern"]
        .as_str()
        .expect("an AllowedPattern");
    assert!(
        pattern.starts_with("^https://") && pattern.ends_with('$') && !pattern.contains('|'),
        "only an https URL: {pattern}"
    );
    // The local stack gives its own.
    let t = template();
    let local = ates_local::resolve::Resolver::new(
        &t,
        &[("IssuerUrl", "http://127.0.0.1:4000")],
        "http://127.0.0.1:4566",
    );
    let authorizer = &t.resources["HttpApiAuthorizer"].properties;
    assert_eq!(
        local
            .resolve(&authorizer["JwtConfiguration"]["Issuer"])
            .unwrap(),
        json!("http://127.0.0.1:4000")
    );
}

#[test]
fn every_function_traces_logs_to_its_own_group_and_alarms_and_names_its_service() {
    let t = template();
    for f in functions(&t) {
        let id = &f.logical_id;
        let p = &f.properties;
        assert_eq!(property(p, "Tracing"), "Active", "{id}");
        let variables = &property(p, "Environment")["Variables"];
        let service = variables["POWERTOOLS_SERVICE_NAME"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            service,
            context(id).to_lowercase(),
            "{id}: its service is its context"
        );
        assert_eq!(
            variables["POWERTOOLS_METRICS_NAMESPACE"],
            json!({"Ref": "AWS::StackName"}),
            "{id}: the root's namespace"
        );
        let group = references(&property(p, "LoggingConfig")["LogGroup"]);
        assert_eq!(group.len(), 1, "{id} logs to a group of its own");
        let group = &t.resources[&group[0]];
        assert_eq!(group.kind, "AWS::Logs::LogGroup", "{id}");
        assert_eq!(group.stack, f.stack, "{id}");
        assert_eq!(
            references(property(&group.properties, "RetentionInDays")),
            ["LogRetentionDays"],
            "{id}: its lines expire"
        );
        let alarmed = t.of_kind("AWS::CloudWatch::Alarm").any(|a| {
            let metrics = serde_json::to_string(property(&a.properties, "Metrics")).unwrap();
            metrics.contains("\"Errors\"")
                && metrics.contains("\"Throttles\"")
                && references(property(&a.properties, "Metrics")).contains(id)
        });
        assert!(alarmed, "{id}: an alarm on its errors and throttles");
    }
    let groups = t.of_kind("AWS::Logs::LogGroup").count();
    assert_eq!(
        groups,
        functions(&t).count() + 1,
        "one per function, and the API's"
    );
}

#[test]
fn every_queue_every_relay_and_the_api_alarm_to_the_one_topic() {
    let t = template();
    let alarms: Vec<_> = t.of_kind("AWS::CloudWatch::Alarm").collect();
    let watching = |metric: &str, id: &str| {
        alarms.iter().any(|a| {
            property(&a.properties, "MetricName") == metric
                && references(property(&a.properties, "Dimensions")).contains(&id.to_owned())
        })
    };
    for queue in t.of_kind("AWS::SQS::Queue") {
        let id = &queue.logical_id;
        if !id.ends_with("DeadLetters") {
            assert!(
                watching("ApproximateAgeOfOldestMessage", id),
                "{id}'s oldest message"
            );
        }
    }
    for relay in functions(&t).filter(|f| f.logical_id.ends_with("OutboxRelayFunction")) {
        assert!(
            watching("IteratorAge", &relay.logical_id),
            "{}",
            relay.logical_id
        );
    }
    assert!(watching("5xx", "HttpApi"), "the API's 5xx");
    for a in &alarms {
        // A nested stack's AlarmTopicArn is what the root passes: its one topic.
        assert_eq!(
            references(property(&a.properties, "AlarmActions")),
            ["OperationsAlarmTopic"],
            "{}",
            a.logical_id
        );
    }
    let subscription = the_one(&t, "AWS::SNS::Subscription");
    assert_eq!(
        subscription.attributes.get("Condition"),
        Some(&json!("MailsAlarms"))
    );
    assert_eq!(
        references(property(&subscription.properties, "Endpoint")),
        ["AlarmEmail"]
    );
    let stage = &the_one(&t, "AWS::ApiGatewayV2::Stage").properties;
    let format: serde_json::Value = serde_json::from_str(
        property(stage, "AccessLogSettings")["Format"]
            .as_str()
            .expect("access logs"),
    )
    .expect("one JSON object per request");
    for field in [
        "requestId",
        "routeKey",
        "status",
        "integrationLatency",
        "integrationRequestId",
    ] {
        assert!(format.get(field).is_some(), "access logs carry {field}");
    }
}
