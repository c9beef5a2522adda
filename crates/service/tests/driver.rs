//! The flow driver as a phone channel would drive it: a recording, digits
//! keyed in (and not), silence and a hang-up — through the public calls
//! only, as the voice channel will.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;
use switchboard_core::flow::{Flow, HandoffReason, Status};
use switchboard_service::conversation::driver::{Action, Input, Party};

const IVR: &str = r##"{
  "start": "welcome",
  "blocks": {
    "welcome": {"type": "message", "text": "Welcome to Acme.", "audio": "welcome.wav", "next": "account"},
    "account": {"type": "input", "text": "Key in your account number, then hash.", "save_as": "account",
                "digits": {"min": 4, "max": 8, "retries": 1}, "next": "agent"},
    "agent": {"type": "handoff", "text": "Thank you."}
  }
}"##;

fn collect() -> Action {
    Action::Collect {
        text: "Key in your account number, then hash.".into(),
        min: 4,
        max: 8,
        terminator: "#".into(),
        timeout: Duration::from_secs(5),
    }
}

async fn a_phone_menu_plays_collects_and_hears_a_hang_up(url: String) {
    let service = support::service(&url).await;
    let (p, _) = support::workspace(&service, &["voice"]).await;
    let flow = Flow::parse(IVR).unwrap();
    let party = Party { workspace: p.workspace, customer: None };

    let step = service.start_flow(party, &flow, BTreeMap::new()).await.unwrap();
    assert_eq!(
        step.actions,
        [Action::Play { recording: "welcome.wav".into(), text: "Welcome to Acme.".into() }, collect()]
    );
    // Nothing keyed within the timeout: asked once more.
    let step = service.step_flow(party, &flow, step.run, Input::Silence).await.unwrap();
    assert_eq!(step.actions, [collect()]);
    let digits = service.step_flow(party, &flow, step.run.clone(), Input::Digits("2468".into())).await.unwrap();
    let attributes = BTreeMap::from([("account".to_string(), "2468".to_string())]);
    assert_eq!(
        digits.actions,
        [
            Action::Say("Thank you.".into()),
            Action::HandOff { queue: None, priority: 0, reason: HandoffReason::Flow, attributes },
        ]
    );

    // The same caller hanging up instead: the run ends abandoned at the question.
    let gone = service.step_flow(party, &flow, step.run, Input::HangUp).await.unwrap();
    assert!(gone.actions.is_empty());
    assert_eq!(gone.run.status(), Status::Abandoned);
    assert_eq!(gone.run.block().as_str(), "account");
}

support::on_both!(a_phone_menu_plays_collects_and_hears_a_hang_up);
